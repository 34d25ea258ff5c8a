/**
 * The one-off migration of tables created before the hot keys were sharded (scripts/migrate-shards.ts),
 * on DynamoDB Local: a table seeded with the old unsharded keys (gsi1 `TICKETS`, gsi2
 * `STATUS#<s>`, feed `FEED#<day>`) is invisible to today's reads; after the migration the inbox,
 * the status lists, the saved-view counts and the `GET /events` feed see every ticket and every
 * recent event exactly once; a second run changes nothing; a run DynamoDB throttles stops with
 * its progress and where to resume, having half-written nothing. Only the throttling is mocked.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { initialSla } from '../../functions/domain/sla/policy.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { listTickets } from '../../functions/store/reads.js';
import type { FeedEvent, TicketRecord } from '../../functions/store/records.js';
import { sortableMs } from '../../functions/store/table.js';
import { decodeFeedCursor, encodeFeedCursor, inboxCounts, listFeedAfter, listInbox } from '../../functions/store/triage.js';
import { migrateShards, MigrateShardsError } from '../../scripts/migrate-shards.js';
import { freshTable } from '../helpers/ddb.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 9, 0, 0);
const YESTERDAY = NOW - DAY;
const STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'merged'] as const;
const ACTIVE = ['new', 'open', 'pending_customer', 'on_hold'];

const ticket = (i: number): TicketRecord => ({
  id: `01TKT${String(i).padStart(21, '0')}`, number: `C-${i}`, status: STATUSES[i % STATUSES.length]!, priority: 'normal', category: null, tags: [],
  customer_id: `01CST${String(i % 7).padStart(21, '0')}`, channel: 'telegram', conversation_id: `c${i}`, assignee: i % 3 === 0 ? 'ann' : null, team: null,
  sla: initialSla('normal', YESTERDAY), survey: null, merged_into: null, previous_ticket_id: null, created_at: YESTERDAY, updated_at: YESTERDAY + ((i * 7919) % 1000) * 60_000,
  last_inbound_at: YESTERDAY, last_outbound_at: null, first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
  ...(i % 11 === 0 ? { tier: 'vip' } : {}),
});

/** A ticket as the code before the sharding wrote it: one inbox partition, one partition per status. */
function oldTicketItem(t: TicketRecord): Record<string, unknown> {
  const { gsi1pk: _g1, gsi1sk, ...item } = ticketItem(t);
  return { ...item, ...(t.status === 'merged' ? {} : { gsi1pk: 'TICKETS', gsi1sk }), gsi2pk: `STATUS#${t.status}` };
}

/** A feed event as the code before the sharding wrote it: one partition per day. */
const oldFeedItem = (e: FeedEvent) => ({ pk: `FEED#${new Date(e.at).toISOString().slice(0, 10)}`, sk: `${sortableMs(e.at)}#${e.id}`, ...e });

const tickets = Array.from({ length: 60 }, (_, i) => ticket(i));
/** Written by the new code after the deploy (sharded keys already): the migration leaves it alone. */
const fresh = ticket(60);
/** Events of yesterday and today (copied with `days: 2`), and one of five days ago (not copied). */
const events: FeedEvent[] = Array.from({ length: 80 }, (_, i) => ({
  id: `01EVT${String(i).padStart(21, '0')}`, type: 'message.received', at: YESTERDAY - 3_600_000 + ((i * 37) % 80) * 900_000, data: {},
  ...(i % 9 === 0 ? { customer_id: tickets[i % 7]!.customer_id } : { ticket_id: tickets[i % 40]!.id }),
}));
const ancient: FeedEvent = { id: '01EVTANCIENT0000000000000', type: 'ticket.created', at: NOW - 5 * DAY, ticket_id: tickets[1]!.id, data: {} };

async function seed(db: Db): Promise<void> {
  const items = [...tickets.map(oldTicketItem), ticketItem(fresh), ...[...events, ancient].map(oldFeedItem)];
  for (let i = 0; i < items.length; i += 25) {
    await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/** Every item of the table, in a stable order. */
async function snapshot(db: Db): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

async function inboxIds(db: Db, filter: Parameters<typeof listInbox>[1] = {}): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listInbox(db, filter, { limit: 20, ...(cursor ? { cursor } : {}) });
    seen.push(...page.items.map((t) => t.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return seen;
}

async function statusIds(db: Db, status: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTickets(db, { status, limit: 7, ...(cursor ? { cursor } : {}) });
    seen.push(...page.items.map((t) => t.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return seen;
}

/** What `GET /events` hands a consumer whose cursor is from before yesterday, page by page. */
async function feedIds(db: Db): Promise<string[]> {
  const got: string[] = [];
  let sk = decodeFeedCursor(encodeFeedCursor(`${sortableMs(YESTERDAY - (YESTERDAY % DAY) - 1)}#`))!;
  for (let i = 0; i < 30; i++) {
    const page = await listFeedAfter(db, sk, NOW + 3_600_000, 30);
    got.push(...page.items.map((e) => e.id));
    if (page.items.length === 0) break;
    sk = decodeFeedCursor(page.next_cursor)!;
  }
  return got;
}

const all = [...tickets, fresh];
const byActivityDesc = (a: TicketRecord, b: TicketRecord) => b.updated_at - a.updated_at || (a.id < b.id ? 1 : -1);
const vipFirst = (list: TicketRecord[]) => [...list.filter((t) => t.tier === 'vip').sort(byActivityDesc), ...list.filter((t) => t.tier !== 'vip').sort(byActivityDesc)];
const feedOrder = [...events].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).map((e) => e.id);

async function expectEverythingOnce(db: Db): Promise<void> {
  expect(await inboxIds(db)).toEqual(vipFirst(all.filter((t) => t.status !== 'merged')).map((t) => t.id));
  for (const s of STATUSES) expect(await statusIds(db, s), s).toEqual(all.filter((t) => t.status === s).sort(byActivityDesc).map((t) => t.id));
  const active = all.filter((t) => ACTIVE.includes(t.status));
  expect(await inboxCounts(db, { mine: { assignee: 'ann' }, unassigned: { assignee: null } }))
    .toEqual({ mine: active.filter((t) => t.assignee === 'ann').length, unassigned: active.filter((t) => t.assignee === null).length });
  expect(await feedIds(db)).toEqual(feedOrder);
}

describe('migrate-shards (DynamoDB Local)', () => {
  let db: Db;
  beforeEach(async () => {
    ({ db } = await freshTable('migrate'));
    await seed(db);
  });

  it('makes every old ticket and recent feed event visible to the sharded reads exactly once', async () => {
    // Before: today's reads see only the ticket written with the new keys.
    expect(await inboxIds(db)).toEqual([fresh.id]);
    expect(await feedIds(db)).toEqual([]);

    const done = await migrateShards(db.doc, db.tableName, { days: 2, now: NOW, pageSize: 17 });
    expect(done).toMatchObject({ ticketsRekeyed: tickets.length, ticketsTouchedMeanwhile: 0, eventsCopied: events.length, eventsAlreadyCopied: 0 });
    await expectEverythingOnce(db);
    // Older days than `days` are not copied: their events stay in the old partition only.
    expect((await snapshot(db)).filter((i) => i.id === ancient.id).map((i) => i.pk)).toEqual([oldFeedItem(ancient).pk]);
  });

  it('changes nothing when run again', async () => {
    await migrateShards(db.doc, db.tableName, { days: 2, now: NOW });
    const after = await snapshot(db);
    const again = await migrateShards(db.doc, db.tableName, { days: 2, now: NOW });
    expect(again).toMatchObject({ ticketsRekeyed: 0, ticketsTouchedMeanwhile: 0, eventsCopied: 0, eventsAlreadyCopied: events.length });
    expect(await snapshot(db)).toEqual(after);
    await expectEverythingOnce(db);
  });

  it('stops on throttling with its progress and where to resume, half-writing nothing; resuming completes it', async () => {
    // DynamoDB refuses the 26th ticket update (after the SDK's own retries): the only mock.
    let updates = 0;
    const throttled: Pick<DynamoDBDocumentClient, 'send'> = {
      send: (async (command: unknown) => {
        if (command instanceof UpdateCommand && ++updates > 25) throw new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: { httpStatusCode: 400 } });
        return db.doc.send(command as never);
      }) as Pick<DynamoDBDocumentClient, 'send'>['send'],
    };
    const error = await migrateShards(throttled, db.tableName, { days: 2, now: NOW, pageSize: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrateShardsError);
    expect((error as Error).message).toMatch(/^migrate-shards: stopped, throttled by DynamoDB \(ProvisionedThroughputExceededException\) past the SDK's retries, after 25 tickets re-keyed/);
    const cause = (error as Error).cause as { throttled: boolean; progress: { ticketsRekeyed: number }; resumeFrom: Record<string, unknown> | null };
    expect(cause).toMatchObject({ throttled: true, progress: { ticketsRekeyed: 25 } });
    expect(cause.resumeFrom).not.toBeNull();

    // Exactly the 25 acknowledged updates happened; no ticket has one new key and one old.
    const ticketsNow = (await snapshot(db)).filter((i) => i.sk === 'TICKET' && i.id !== fresh.id);
    expect(ticketsNow.filter((i) => i.gsi2pk !== `STATUS#${i.status}`)).toHaveLength(25);
    expect(ticketsNow.filter((i) => (i.gsi1pk === 'TICKETS') !== (i.gsi2pk === `STATUS#${i.status}`) && i.status !== 'merged')).toEqual([]);

    const rest = await migrateShards(db.doc, db.tableName, { days: 2, now: NOW, pageSize: 10, startKey: cause.resumeFrom! });
    expect(rest.ticketsRekeyed).toBe(tickets.length - 25);
    await expectEverythingOnce(db);
  });
});
