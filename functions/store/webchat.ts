/**
 * Web chat conversation reads (channels.md §9 "Reply"): there is no platform behind the widget, so
 * outbound messages stay in the table and the widget fetches them with its own token. A
 * conversation is the visitor's (`sub`) messages on one `sid`, across every ticket of the customer
 * the visitor's identity belongs to (reopens and new tickets keep one chat history).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';
import { advanceDelivery } from './outbound.js';
import { getIdentity, listCustomerItems, listTimeline } from './reads.js';
import type { MessageEntry } from './records.js';
import { keys, sortableMs } from './table.js';

/** Tickets of the customer read per fetch (newest first): a chat longer than this shows its recent part. */
const RECENT_TICKETS = 5;

export interface ConversationMessage {
  readonly entry: MessageEntry;
  /** `<sortable at ms>#<entry id>`: the widget's cursor (`after`). */
  readonly cursor: string;
}

/** A cursor as issued by {@link webchatConversation} (entry ids: ULIDs, `ack-<ULID>` for acknowledgements, …). */
export const WEBCHAT_CURSOR = /^\d{15}#[A-Za-z0-9_-]{1,80}$/;

/**
 * The visitor's messages on `sid` after `after`, oldest first. Stops before the first outbound
 * message the sender has not handed over yet (`queued`), so a cursor never skips a reply that is
 * still on its way; failed outbound messages are left out.
 */
export async function webchatConversation(db: Db, sub: string, sid: string, after: string | undefined, limit: number): Promise<ConversationMessage[]> {
  const identity = await getIdentity(db, 'webchat', sub);
  if (!identity) return [];
  const { tickets } = await listCustomerItems(db, identity.customer_id);
  const timelines = await Promise.all(tickets.slice(0, RECENT_TICKETS).map((t) => listTimeline(db, t.id)));
  const seen = new Set<string>();
  const all: ConversationMessage[] = [];
  for (const e of timelines.flat()) {
    if (e.type !== 'message' || e.channel !== 'webchat' || e.conversation_id !== sid || e.anonymised || seen.has(e.id)) continue;
    seen.add(e.id);
    all.push({ entry: e, cursor: `${sortableMs(e.at)}#${e.id}` });
  }
  all.sort((a, b) => (a.cursor < b.cursor ? -1 : a.cursor > b.cursor ? 1 : 0));
  const out: ConversationMessage[] = [];
  for (const m of all) {
    if (after !== undefined && m.cursor <= after) continue;
    if (m.entry.direction === 'out' && m.entry.delivery === 'queued') break;
    if (m.entry.direction === 'out' && m.entry.delivery === 'failed') continue;
    out.push(m);
    if (out.length >= limit) break;
  }
  return out;
}

/** Served to the widget → `delivered` (never backwards: a `read` message stays read). */
export async function markServed(db: Db, messages: readonly ConversationMessage[]): Promise<void> {
  await Promise.all(messages
    .filter((m) => m.entry.direction === 'out' && m.entry.delivery === 'sent')
    .map((m) => advanceDelivery(db, { ticketId: m.entry.ticket_id, entrySk: keys.timelineEntry(m.entry.ticket_id, m.entry.at, m.entry.id).sk }, 'delivered', { status: 'delivered' })));
}

/**
 * End a widget session (`sid`): its tokens are no longer renewed and can no longer read the
 * conversation (functions/handlers/webchat-api.ts). Idempotent. `until` (epoch ms): when the
 * marker may expire — after the last moment any token of the session could still be renewed.
 */
export async function revokeWebchatSession(db: Db, args: { sid: string; by: string; now: number; until: number }): Promise<void> {
  await db.doc.send(new PutCommand({
    TableName: db.tableName,
    Item: { ...keys.webchatRevoked(args.sid), revoked_at: args.now, revoked_by: args.by, ttl: Math.ceil(args.until / 1000) },
  }));
}

/** Whether `sid` was revoked (consistent read: a revocation holds from the moment it is answered). */
export async function webchatSessionRevoked(db: Db, sid: string): Promise<boolean> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.webchatRevoked(sid), ConsistentRead: true, ProjectionExpression: 'pk' }));
  return res.Item !== undefined;
}
