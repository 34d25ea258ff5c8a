/**
 * Access patterns of the KPI report and the analytics export. Scan-free: every read is a Query on
 * a partition key or a (Batch)Get; the cost of each is in its comment.
 *
 * | item          | pk               | sk     | attributes                                              |
 * |---------------|------------------|--------|---------------------------------------------------------|
 * | export state  | EXPORT#watermark | EXPORT | watermark (ms), lease_owner, lease_until, last_run{…}   |
 *
 * (Kept here rather than in table.ts until the lead folds it into the key table.)
 */
import { BatchGetCommand, GetCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, type Db } from './db.js';
import { queryShards } from './sharded-query.js';
import { indexKeys, keys, sortableMs } from './table.js';
import type { CustomerRecord, FeedEvent, IdentityRecord, TicketRecord } from './records.js';

export const exportKeys = {
  state: () => ({ pk: 'EXPORT#watermark', sk: 'EXPORT' }),
} as const;

const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'ttl']);
const strip = <T>(item: Record<string, unknown>): T => Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;

/** Every page of a query (1 round trip per 1 MB page). */
async function queryAll(db: Db, input: Omit<QueryCommandInput, 'TableName'>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, ...input, ExclusiveStartKey: start }));
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

const bySk = (name: string) => (a: Record<string, unknown>, b: Record<string, unknown>) => (String(a[name]) < String(b[name]) ? -1 : String(a[name]) > String(b[name]) ? 1 : 0);

/**
 * Tickets (not merged) whose last activity is at or after `sinceMs` (null: all), from the inbox
 * index gsi1 (`TICKETS#<shard>` / `<activity>#<id>`, projection ALL; every shard, in parallel),
 * oldest activity first. Cost: one page per ~1 MB of those tickets (~1–2 KB each) plus one query
 * per shard — it reads every ticket active since `sinceMs`.
 */
export async function ticketsActiveSince(db: Db, sinceMs: number | null): Promise<TicketRecord[]> {
  const items = await queryShards(db, indexKeys.allInboxShards(), (p) => (sinceMs === null
    ? { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': p } }
    : { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :s', ExpressionAttributeValues: { ':p': p, ':s': sortableMs(sinceMs) } }));
  return items.sort(bySk('gsi1sk')).map((i) => strip<TicketRecord>(i));
}

/**
 * Tickets opened in `[fromMs, toMs)`: gsi1 (every shard) from `fromMs` on (a ticket's activity is
 * never before its creation), filtered on created_at. Cost: reads (and pays for) every ticket
 * active since `fromMs`, returns only those opened in the range.
 */
export async function ticketsOpenedBetween(db: Db, fromMs: number, toMs: number): Promise<TicketRecord[]> {
  const items = await queryShards(db, indexKeys.allInboxShards(), (p) => ({
    IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :s',
    FilterExpression: 'created_at >= :from AND created_at < :to',
    ExpressionAttributeValues: { ':p': p, ':s': sortableMs(fromMs), ':from': fromMs, ':to': toMs },
  }));
  return items.sort(bySk('gsi1sk')).map((i) => strip<TicketRecord>(i));
}

/** Tickets merged (status index gsi2 `STATUS#merged#<shard>`, every shard) with activity at or after `sinceMs` (null: all). */
export async function mergedTicketsSince(db: Db, sinceMs: number | null): Promise<TicketRecord[]> {
  const items = await queryShards(db, indexKeys.statusShards('merged'), (p) => (sinceMs === null
    ? { IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :p', ExpressionAttributeValues: { ':p': p } }
    : { IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :p AND gsi2sk >= :s', ExpressionAttributeValues: { ':p': p, ':s': sortableMs(sinceMs) } }));
  return items.sort(bySk('gsi2sk')).map((i) => strip<TicketRecord>(i));
}

/** Change-feed events with `fromMs <= at <= toMs`, in order: one query (plus pages) per feed shard per UTC day. */
export async function feedBetween(db: Db, fromMs: number, toMs: number): Promise<FeedEvent[]> {
  const out: FeedEvent[] = [];
  const firstDay = Date.UTC(new Date(fromMs).getUTCFullYear(), new Date(fromMs).getUTCMonth(), new Date(fromMs).getUTCDate());
  for (let day = firstDay; day <= toMs; day += 86_400_000) {
    const items = await queryShards(db, keys.feedDay(day), (p) => ({
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':p': p, ':a': sortableMs(fromMs), ':b': `${sortableMs(toMs)}#~` },
    }));
    out.push(...items.sort(bySk('sk')).map((i) => strip<FeedEvent>(i)));
  }
  return out;
}

/** A customer's tickets, newest first (gsi3; 1 round trip per page). */
export async function customerTickets(db: Db, customerId: string): Promise<TicketRecord[]> {
  const items = await queryAll(db, {
    IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': `CUST#${customerId}`, ':s': 'TICKET#' }, ScanIndexForward: false,
  });
  return items.map((i) => strip<TicketRecord>(i));
}

/** A customer's identities (gsi3; 1 round trip). */
export async function customerIdentities(db: Db, customerId: string): Promise<IdentityRecord[]> {
  const items = await queryAll(db, {
    IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': `CUST#${customerId}`, ':s': 'IDENT#' },
  });
  return items.map((i) => strip<IdentityRecord>(i));
}

/** Items by key: BatchGetItem, 1 round trip per 100 keys (plus retries of unprocessed keys). */
async function batchGet<T extends { id: string }>(db: Db, keyList: ReadonlyArray<{ pk: string; sk: string }>): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const unique = [...new Map(keyList.map((k) => [`${k.pk}|${k.sk}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let request: Record<string, { Keys: Array<Record<string, unknown>> }> | undefined = { [db.tableName]: { Keys: unique.slice(i, i + 100) } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const res = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of res.Responses?.[db.tableName] ?? []) { const v = strip<T>(item); out.set(v.id, v); }
      request = res.UnprocessedKeys as typeof request;
    }
  }
  return out;
}

/** Customers by id (BatchGetItem, 1 round trip per 100). */
export const batchGetCustomers = (db: Db, ids: readonly string[]) => batchGet<CustomerRecord>(db, ids.map((id) => keys.customer(id)));
/** Tickets by id (BatchGetItem, 1 round trip per 100). */
export const batchGetTickets = (db: Db, ids: readonly string[]) => batchGet<TicketRecord>(db, ids.map((id) => keys.ticket(id)));

export interface ExportState {
  readonly watermark?: number;
  readonly lease_owner?: string;
  readonly lease_until?: number;
  readonly last_run?: Record<string, unknown>;
}

/** 1 round trip. */
export async function getExportState(db: Db): Promise<ExportState> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: exportKeys.state(), ConsistentRead: true }));
  return res.Item ? strip<ExportState>(res.Item) : {};
}

/**
 * Take the export lease (1 conditional write): only one export runs at a time, so two runs never
 * rewrite the same partition from different snapshots. Returns the state, or null when another
 * run holds an unexpired lease.
 */
export async function acquireExportLease(db: Db, owner: string, nowMs: number, leaseMs: number): Promise<ExportState | null> {
  try {
    const res = await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: exportKeys.state(),
      UpdateExpression: 'SET lease_owner = :o, lease_until = :u',
      ConditionExpression: 'attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :o',
      ExpressionAttributeValues: { ':o': owner, ':u': nowMs + leaseMs, ':now': nowMs },
      ReturnValues: 'ALL_NEW',
    }));
    return strip<ExportState>(res.Attributes ?? {});
  } catch (e) {
    if (isConditionalCheckFailed(e)) return null;
    throw e;
  }
}

/** Advance the watermark and release the lease (1 conditional write on still holding it). */
export async function commitExportState(db: Db, owner: string, watermark: number, lastRun: Record<string, unknown>): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: exportKeys.state(),
      UpdateExpression: 'SET watermark = :w, last_run = :r REMOVE lease_owner, lease_until',
      ConditionExpression: 'lease_owner = :o',
      ExpressionAttributeValues: { ':w': watermark, ':r': lastRun, ':o': owner },
    }));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

/** Give the lease back without moving the watermark (a failed run). */
export async function releaseExportLease(db: Db, owner: string): Promise<void> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: exportKeys.state(),
      UpdateExpression: 'REMOVE lease_owner, lease_until', ConditionExpression: 'lease_owner = :o', ExpressionAttributeValues: { ':o': owner },
    }));
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}
