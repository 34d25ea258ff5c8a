/**
 * One-off migration for tables created before the hot keys were sharded (README "Scale",
 * functions/store/table.ts): moves every ticket's inbox and status index keys from `TICKETS` and
 * `STATUS#<s>` to their sharded keys (`TICKETS#<ss>` — `TICKETS#P#<ss>` for a priority tier —
 * and `STATUS#<s>#<ss>`; the sort keys did not change), and copies the change feed of the last
 * `--days` UTC days (default 2, whole days) from `FEED#<day>` to `FEED#<day>#<ss>`, so `GET /events`
 * cursors issued before the deploy go on. Ticket numbers need nothing: the blocks of
 * functions/store/ticket-numbers.ts are leased off the same counter.
 *
 *   npx tsx scripts/migrate-shards.ts <table> [--days 2] [--resume '<key JSON>']
 *   (AWS credentials and region from the environment)
 *
 * Idempotent: a ticket is updated on condition that it still has the old keys (a ticket touched
 * meanwhile already got its new keys from the new code and is left alone), a feed event is copied
 * on condition that the copy does not exist, so a second run changes nothing. Every write is one
 * item, so a run that stops (DynamoDB throttled it past the SDK's retries, or anything else) has
 * nothing half-written: it says how far it got and the scan key to resume from; running it again
 * from the start is as safe.
 *
 * It scans the table once (read units ≈ table size / 4 KB ÷ 2) and writes one update per ticket
 * and one put per copied feed event, one at a time. Copied feed events are not INSERTs the
 * dispatch function acts on twice: dispatch is idempotent per event id (functions/handlers/dispatch.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pathToFileURL } from 'node:url';
import { indexKeys, keys } from '../functions/store/table.js';

const DAY_MS = 86_400_000;
const OLD_FEED = /^FEED#\d{4}-\d{2}-\d{2}$/;
const OLD_STATUS = /^STATUS#[a-z_]+$/;
const OLD_INBOX = 'TICKETS';
/** DynamoDB's answers to a request over the table's capacity or the account's request rate. */
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

export interface MigrateShardsOptions {
  /** UTC days of the change feed to copy, today included (default 2). */
  readonly days?: number;
  /** The clock (default `Date.now()`): which days are "the last `days`". */
  readonly now?: number;
  /** Where a stopped run left its scan (its error's `resumeFrom`). */
  readonly startKey?: Record<string, unknown>;
  /** Items per scan page (default: DynamoDB's, 1 MB). */
  readonly pageSize?: number;
  /** One line per page scanned (default: none). */
  readonly log?: (line: string) => void;
}

export interface MigrateShardsProgress {
  /** Tickets moved to their sharded index keys. */
  ticketsRekeyed: number;
  /** Tickets with old keys that a write of the new code re-keyed between scan and update. */
  ticketsTouchedMeanwhile: number;
  /** Feed events copied to their sharded partition. */
  eventsCopied: number;
  /** Feed events whose sharded copy was already there (an earlier run). */
  eventsAlreadyCopied: number;
  pagesScanned: number;
}

export class MigrateShardsError extends Error {
  override readonly name = 'MigrateShardsError';
}

type Send = Pick<DynamoDBDocumentClient, 'send'>;
type Item = Record<string, unknown>;

const isConditionFailure = (e: unknown) => (e as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** The update that moves one ticket's old index keys to the sharded ones; null if it has none. */
export function ticketRekey(item: Item): { set: Record<string, string>; old: Record<string, string> } | null {
  if (item.sk !== 'TICKET' || typeof item.id !== 'string') return null;
  const set: Record<string, string> = {};
  const old: Record<string, string> = {};
  if (item.gsi1pk === OLD_INBOX) {
    set.gsi1pk = indexKeys.inbox(0, item.id, typeof item.tier === 'string' ? item.tier : null).gsi1pk;
    old.gsi1pk = OLD_INBOX;
  }
  if (typeof item.gsi2pk === 'string' && OLD_STATUS.test(item.gsi2pk)) {
    set.gsi2pk = indexKeys.byStatus(String(item.status), 0, item.id).gsi2pk;
    old.gsi2pk = item.gsi2pk;
  }
  return Object.keys(set).length ? { set, old } : null;
}

/** The sharded copy of an old feed event written on or after `sinceMs`; null otherwise. */
export function feedCopy(item: Item, sinceMs: number): Item | null {
  if (typeof item.pk !== 'string' || !OLD_FEED.test(item.pk) || typeof item.id !== 'string' || !(Number(item.at) >= sinceMs)) return null;
  const { pk: _pk, sk: _sk, ...event } = item;
  // The shard the new code gives this event (functions/store/inbound.ts `feedItem`).
  const shardBy = [item.ticket_id, item.customer_id, item.id].find((v): v is string => typeof v === 'string')!;
  return { ...keys.feedEvent(Number(item.at), item.id, shardBy), ...event };
}

/** Re-key the tickets and copy the recent feed of `table`; see the module header. */
export async function migrateShards(db: Send, table: string, opts: MigrateShardsOptions = {}): Promise<MigrateShardsProgress> {
  const now = opts.now ?? Date.now();
  const days = Math.max(1, Math.trunc(opts.days ?? 2));
  const sinceMs = now - (now % DAY_MS) - (days - 1) * DAY_MS;
  const progress: MigrateShardsProgress = { ticketsRekeyed: 0, ticketsTouchedMeanwhile: 0, eventsCopied: 0, eventsAlreadyCopied: 0, pagesScanned: 0 };
  let start = opts.startKey;
  do {
    const pageStart = start;
    try {
      const page = await db.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}), ...(opts.pageSize ? { Limit: opts.pageSize } : {}) }));
      for (const item of page.Items ?? []) await migrateItem(db, table, item, sinceMs, progress);
      progress.pagesScanned += 1;
      start = page.LastEvaluatedKey;
      opts.log?.(`migrate-shards: page ${progress.pagesScanned}: ${progress.ticketsRekeyed} tickets re-keyed, ${progress.eventsCopied} feed events copied`);
    } catch (e) {
      throw stopped(e, progress, pageStart);
    }
  } while (start);
  return progress;
}

async function migrateItem(db: Send, table: string, item: Item, sinceMs: number, progress: MigrateShardsProgress): Promise<void> {
  const rekey = ticketRekey(item);
  if (rekey) {
    const names = Object.keys(rekey.set);
    try {
      await db.send(new UpdateCommand({
        TableName: table, Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: `SET ${names.map((n) => `${n} = :${n}`).join(', ')}`,
        ConditionExpression: names.map((n) => `${n} = :old_${n}`).join(' AND '),
        ExpressionAttributeValues: Object.fromEntries(names.flatMap((n) => [[`:${n}`, rekey.set[n]], [`:old_${n}`, rekey.old[n]]])),
      }));
      progress.ticketsRekeyed += 1;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      progress.ticketsTouchedMeanwhile += 1;
    }
    return;
  }
  const copy = feedCopy(item, sinceMs);
  if (copy) {
    try {
      await db.send(new PutCommand({ TableName: table, Item: copy, ConditionExpression: 'attribute_not_exists(pk)' }));
      progress.eventsCopied += 1;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      progress.eventsAlreadyCopied += 1;
    }
  }
}

/** The error a stopped run ends with: why, how far it got, and where to resume. */
function stopped(e: unknown, progress: MigrateShardsProgress, resumeFrom: Record<string, unknown> | undefined): MigrateShardsError {
  const err = e as { name?: string; code?: string } | null;
  const name = err?.name && err.name !== 'Error' ? err.name : err?.code ?? 'Error';
  const why = THROTTLING.has(name) ? `throttled by DynamoDB (${name}) past the SDK's retries` : `a request failed (${name})`;
  const next = resumeFrom ? 'run it again (it is idempotent) or resume from the page it stopped in (`resumeFrom`)' : 'run it again (it is idempotent)';
  return new MigrateShardsError(
    `migrate-shards: stopped, ${why}, after ${progress.ticketsRekeyed} tickets re-keyed and ${progress.eventsCopied} feed events copied; nothing is half-written — ${next}`,
    { cause: { error: name, throttled: THROTTLING.has(name), progress: { ...progress }, resumeFrom: resumeFrom ?? null } },
  );
}

function parseArgs(argv: readonly string[]): { table: string; days: number; startKey?: Record<string, unknown> } | null {
  const [table, ...rest] = argv;
  if (!table || table.startsWith('--')) return null;
  const value = (flag: string) => { const i = rest.indexOf(flag); return i >= 0 ? rest[i + 1] : undefined; };
  const days = Number(value('--days') ?? 2);
  if (!Number.isInteger(days) || days < 1) return null;
  const resume = value('--resume');
  return { table, days, ...(resume ? { startKey: JSON.parse(resume) as Record<string, unknown> } : {}) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args) {
    console.error("usage: migrate-shards.ts <table> [--days 2] [--resume '<key JSON>']");
    process.exit(2);
  }
  const client = new DynamoDBClient({});
  try {
    const done = await migrateShards(DynamoDBDocumentClient.from(client), args.table, { days: args.days, ...(args.startKey ? { startKey: args.startKey } : {}), log: (l) => console.log(l) });
    console.log(`migrate-shards: done — ${done.ticketsRekeyed} tickets re-keyed (${done.ticketsTouchedMeanwhile} already re-keyed by new writes), ${done.eventsCopied} feed events copied (${done.eventsAlreadyCopied} already there)`);
  } catch (e) {
    if (!(e instanceof MigrateShardsError)) throw e;
    const cause = e.cause as { resumeFrom: unknown };
    console.error(e.message);
    if (cause.resumeFrom) console.error(`resume with: --resume '${JSON.stringify(cause.resumeFrom)}'`);
    process.exitCode = 1;
  } finally {
    client.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
