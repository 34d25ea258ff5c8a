/** Named read access patterns (each costs the round trips its comment says). */
import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';
import { ChainedMerge } from './sharded-query.js';
import { indexKeys, keys } from './table.js';
import type { CustomerRecord, IdentityRecord, TicketRecord, TimelineEntry } from './records.js';
import { withLastInbound } from './last-inbound.js';

const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, gsi3pk: _e, gsi3sk: _f, ttl: _t, ...rest } = item;
  return rest as T;
};

async function get<T>(db: Db, key: { pk: string; sk: string }, consistent = true): Promise<T | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: consistent }));
  return strip<T>(res.Item);
}

/** 1 round trip. */
export const getIdentity = (db: Db, channel: string, externalId: string) => get<IdentityRecord>(db, keys.identity(channel, externalId));
/** 1 round trip. */
export const getCustomer = (db: Db, id: string) => get<CustomerRecord>(db, keys.customer(id));
/** 1 round trip. */
export const getTicket = (db: Db, id: string) => get<TicketRecord>(db, keys.ticket(id));
/** 1 round trip. A reference erasure stripped to its exactly-once marker (functions/store/table.ts) is no reference. */
export async function getMessageRef(db: Db, channel: string, externalMessageId: string) {
  const ref = await get<{ ticket_id?: string; entry_sk?: string; direction?: 'in' | 'out' }>(db, keys.messageRef(channel, externalMessageId));
  return ref?.ticket_id && ref.entry_sk && ref.direction ? { ticket_id: ref.ticket_id, entry_sk: ref.entry_sk, direction: ref.direction } : undefined;
}
/** 1 round trip. */
export async function getTimelineEntry(db: Db, ticketId: string, sk: string): Promise<TimelineEntry | undefined> {
  return get<TimelineEntry>(db, { pk: keys.ticket(ticketId).pk, sk });
}

export interface Page<T> { readonly items: T[]; readonly next_cursor: string | null }

const encodeCursor = (k: Record<string, unknown> | undefined) => (k ? Buffer.from(JSON.stringify(k)).toString('base64url') : null);
export function decodeCursor(c: string | undefined): Record<string, unknown> | undefined {
  if (!c) return undefined;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')) return v;
  } catch { /* fall through */ }
  throw new CursorError('cursor is not one this API issued');
}
export class CursorError extends Error { override readonly name = 'CursorError'; }

async function queryPage<T>(db: Db, input: Omit<QueryCommandInput, 'TableName'>, limit: number, cursor?: string): Promise<Page<T>> {
  const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, ...input, Limit: limit, ExclusiveStartKey: decodeCursor(cursor) }));
  return { items: (res.Items ?? []).map((i) => strip<T>(i)!), next_cursor: encodeCursor(res.LastEvaluatedKey) };
}

/**
 * Inbox: newest activity first (without a status, priority-tier tickets first); with a status, from
 * the by-status index. Merged tickets are not in gsi1. A k-way merge of the index shards (table.ts); the cursor is the last ticket's index sort key.
 */
export async function listTickets(db: Db, opts: { status?: string; limit: number; cursor?: string }): Promise<Page<TicketRecord>> {
  const index = opts.status ? 'gsi2' : 'gsi1';
  const cursor = decodeCursor(opts.cursor);
  const after = cursor?.[`${index}sk`];
  const list = (partitions: readonly string[]) => ({ index, pkName: `${index}pk`, skName: `${index}sk`, descending: true, partitions, pageSize: opts.limit });
  // Without a status: priority-tier tickets first (table.ts), then the others.
  const parts = opts.status ? [list(indexKeys.statusShards(opts.status))] : [list(indexKeys.priorityInboxShards()), list(indexKeys.inboxShards())];
  const part = typeof cursor?.part === 'string' ? Number(cursor.part) : parts.length - 1;
  const merge = new ChainedMerge(db, parts, typeof after === 'string' ? { part: Number.isInteger(part) ? part : parts.length - 1, after } : undefined);
  const items: Array<Record<string, unknown>> = [];
  for (let i = await merge.next(); i; i = items.length < opts.limit ? await merge.next() : undefined) items.push(i);
  const last = merge.current;
  const more = items.length === opts.limit && (await merge.next()) !== undefined;
  return { items: items.map((i) => strip<TicketRecord>(i)!), next_cursor: more ? encodeCursor({ [`${index}sk`]: items.at(-1)![`${index}sk`], ...(opts.status ? {} : { part: String(last) }) }) : null };
}

/** The whole timeline of a ticket, in order (paged internally). */
export async function listTimeline(db: Db, ticketId: string): Promise<TimelineEntry[]> {
  const out: TimelineEntry[] = [];
  let cursor: string | undefined;
  do {
    const page: Page<TimelineEntry> = await queryPage<TimelineEntry>(db, {
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': keys.ticket(ticketId).pk, ':s': 'TL#' },
      ConsistentRead: true,
    }, 500, cursor);
    out.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** A customer's identities and tickets (gsi3), tickets newest first. */
export async function listCustomerItems(db: Db, customerId: string): Promise<{ identities: IdentityRecord[]; tickets: TicketRecord[] }> {
  const q = (prefix: string, forward: boolean) => db.doc.send(new QueryCommand({
    TableName: db.tableName, IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': `CUST#${customerId}`, ':s': prefix }, ScanIndexForward: forward,
  }));
  const [ids, tks] = await Promise.all([q('IDENT#', true), q('TICKET#', false)]);
  const tickets = (tks.Items ?? []).map((i) => strip<TicketRecord>(i)!);
  // Identities with their last inbound message as the tickets keep it (functions/store/last-inbound.ts).
  return { identities: withLastInbound((ids.Items ?? []).map((i) => strip<IdentityRecord>(i)!), tickets), tickets };
}
