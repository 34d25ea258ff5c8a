/**
 * Agents and the knowledge base (README "Knowledge base": agents): the counters of articles
 * linked in replies and credited with resolutions, and the link from a resolved ticket to the
 * article that solved it.
 *
 * | item          | pk       | sk               | attributes                                     |
 * |---------------|----------|------------------|------------------------------------------------|
 * | agent use     | KB#STATS | AGENT#<id>       | article_id, linked_in_replies, resolutions     |
 * | (on a ticket) | TICKET#… | TICKET           | resolution_article: {id, cycle}                |
 *
 * The agent-use counters sit in the KPI partition next to the self-service ones (functions/store/kb.ts)
 * under their own prefix, so each side reads and writes only its own items. Each counter moves in
 * the same transaction as what it counts: a reply's link with the reply (store/outbound.ts
 * `queueReply`, `also`), a resolution's credit with the ticket's link — never twice, never lost.
 * `cycle` is the `resolved_at` of the resolution the article is credited with: linking again in
 * the same resolution replaces the credit (the old article −1), a later resolution after a reopen
 * earns its own.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { getTicket } from './reads.js';
import type { FeedEvent, TicketRecord } from './records.js';
import { keys } from './table.js';
import { transact, type TxItem } from './tickets.js';
import { getArticle, kbKeys } from './kb.js';
import { articleLinksIn, resolutionCycleOf, type ResolutionArticle } from '../domain/kb/agent-use.js';

export const kbAgentKeys = {
  use: (articleId: string) => ({ pk: kbKeys.stats, sk: `AGENT#${articleId}` }),
} as const;

/** Timeline and feed event of a resolution credited to an article. */
export const RESOLUTION_ARTICLE_EVENT = 'ticket.resolution_article';

type Counter = 'linked_in_replies' | 'resolutions';

/** `ADD <counter> <by>` on an article's agent-use item, as a transaction item. */
export function agentUseItem(db: Db, articleId: string, counter: Counter, by = 1): TxItem {
  return { Update: {
    TableName: db.tableName, Key: kbAgentKeys.use(articleId), UpdateExpression: 'ADD #c :by SET article_id = :id',
    ExpressionAttributeNames: { '#c': counter }, ExpressionAttributeValues: { ':by': by, ':id': articleId },
  } };
}

/** Every article's agent-use counters (one Query of the KPI partition's `AGENT#` items). */
export async function readAgentUse(db: Db): Promise<{ article_id: string; linked_in_replies: number; resolutions: number }[]> {
  const out: { article_id: string; linked_in_replies: number; resolutions: number }[] = [];
  let start: Record<string, unknown> | undefined;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  do {
    const res = await db.doc.send(new QueryCommand({
      TableName: db.tableName, KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)',
      ExpressionAttributeValues: { ':p': kbKeys.stats, ':a': 'AGENT#' }, ExclusiveStartKey: start,
    }));
    for (const i of res.Items ?? []) out.push({ article_id: String(i.sk).slice(6), linked_in_replies: num(i.linked_in_replies), resolutions: num(i.resolutions) });
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export type LinkResult =
  | { ok: true; changed: boolean; previous: string | null; at: number }
  | { ok: false; status: 404 | 409; code: 'not_found' | 'conflict'; reason: string };

const MAX_ATTEMPTS = 8;

/**
 * Credit a resolved (or closed) ticket's resolution to an article: the ticket's
 * `resolution_article`, a timeline event "resolved with article" (title as it was then), a feed
 * event (ids only) and the article's `resolutions` counter — one transaction, conditional on the
 * status and the link read, so two agents linking at once count once.
 */
export async function linkResolutionArticle(db: Db, args: { ticketId: string; article: { id: string; title: string }; actor: string; now: number; newId: (at: number) => string }): Promise<LinkResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const ticket = await getTicket(db, args.ticketId);
    if (!ticket) return { ok: false, status: 404, code: 'not_found', reason: 'no such ticket' };
    if (ticket.status !== 'resolved' && ticket.status !== 'closed') {
      return { ok: false, status: 409, code: 'conflict', reason: `the ticket is ${ticket.status}: resolve it first, then link the article that solved it` };
    }
    const cycle = resolutionCycleOf(ticket);
    const current = (ticket as TicketRecord & { resolution_article?: ResolutionArticle }).resolution_article;
    const sameCycle = current !== undefined && current.cycle === cycle;
    if (sameCycle && current.id === args.article.id) return { ok: true, changed: false, previous: current.id, at: args.now };
    const previous = sameCycle ? current.id : null;
    const at = Math.max(args.now, ticket.updated_at + 1);
    const data = { article_id: args.article.id, ...(previous ? { previous_article_id: previous } : {}), actor: args.actor };
    const feed: FeedEvent = { id: args.newId(at), type: RESOLUTION_ARTICLE_EVENT, at, ticket_id: ticket.id, customer_id: ticket.customer_id, data };
    const items: TxItem[] = [
      { Update: {
        TableName: db.tableName, Key: keys.ticket(ticket.id), UpdateExpression: 'SET resolution_article = :ra',
        ConditionExpression: `#s = :s0 AND ${current ? 'resolution_article.id = :oid AND resolution_article.#cy = :ocy' : 'attribute_not_exists(resolution_article)'}`,
        ExpressionAttributeNames: { '#s': 'status', ...(current ? { '#cy': 'cycle' } : {}) },
        ExpressionAttributeValues: { ':ra': { id: args.article.id, cycle }, ':s0': ticket.status, ...(current ? { ':oid': current.id, ':ocy': current.cycle } : {}) },
      } },
      timelineItem(db, { type: 'event', id: args.newId(at), ticket_id: ticket.id, at, event: RESOLUTION_ARTICLE_EVENT, data: { ...data, title: args.article.title } }),
      feedItem(db, feed),
      agentUseItem(db, args.article.id, 'resolutions', 1),
      ...(previous ? [agentUseItem(db, previous, 'resolutions', -1)] : []),
    ];
    const res = await transact(db, items);
    if (res.ok) return { ok: true, changed: true, previous, at };
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
  }
  return { ok: false, status: 409, code: 'conflict', reason: 'the ticket kept changing while saving; reload and link the article again' };
}

/**
 * The existing articles a reply's text links to (help-centre URLs, functions/domain/kb/agent-use.ts):
 * an id nobody wrote is not counted. 1 round trip per distinct id (at most 5).
 */
export async function articlesLinkedIn(db: Db, text: string): Promise<string[]> {
  const ids = articleLinksIn(text);
  const found = await Promise.all(ids.map(async (id) => ((await getArticle(db, id)) ? id : null)));
  return found.filter((id): id is string => id !== null);
}
