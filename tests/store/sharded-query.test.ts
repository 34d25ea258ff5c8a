/**
 * Reads over the sharded keys (functions/store/sharded-query.ts) on DynamoDB Local: the inbox,
 * a status list, the saved-view counts and the change feed come back in one global order, page by
 * page, with every item exactly once — though their items live in many partitions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { initialSla } from '../../functions/domain/sla/policy.js';
import type { Db } from '../../functions/store/db.js';
import { feedItem, ticketItem } from '../../functions/store/inbound.js';
import { listTickets } from '../../functions/store/reads.js';
import type { FeedEvent, TicketRecord } from '../../functions/store/records.js';
import { INBOX_SHARDS, indexKeys } from '../../functions/store/table.js';
import { decodeFeedCursor, encodeFeedCursor, inboxCounts, listFeedAfter, listInbox } from '../../functions/store/triage.js';
import { freshTable } from '../helpers/ddb.js';
import { allPages } from '../helpers/pages.js';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'merged'] as const;

const ticket = (i: number): TicketRecord => ({
  id: `01TKT${String(i).padStart(21, '0')}`, number: `C-${i}`, status: STATUSES[i % STATUSES.length]!, priority: 'normal', category: null, tags: [],
  customer_id: `01CST${String(i % 7).padStart(21, '0')}`, channel: 'telegram', conversation_id: `c${i}`, assignee: i % 3 === 0 ? 'ann' : null, team: null,
  sla: initialSla('normal', T0), survey: null, merged_into: null, previous_ticket_id: null, created_at: T0, updated_at: T0 + ((i * 7919) % 1000) * 1000,
  last_inbound_at: T0, last_outbound_at: null, first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
});

describe('reads over sharded keys (DynamoDB Local)', () => {
  let db: Db;
  const tickets = Array.from({ length: 150 }, (_, i) => ticket(i));
  const events: FeedEvent[] = Array.from({ length: 90 }, (_, i) => ({ id: `01EVT${String(i).padStart(21, '0')}`, type: 'message.received', at: T0 + ((i * 37) % 90) * 1000, ticket_id: tickets[i % 40]!.id, data: {} }));

  beforeAll(async () => {
    ({ db } = await freshTable('sharded'));
    const puts = [...tickets.map((t) => ({ PutRequest: { Item: ticketItem(t) } })), ...events.map((e) => ({ PutRequest: { Item: (feedItem(db, e).Put!.Item) } }))];
    for (let i = 0; i < puts.length; i += 25) await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: puts.slice(i, i + 25) } }));
    // the data really is spread: tickets in most inbox shards
    expect(new Set(tickets.map((t) => indexKeys.inbox(0, t.id).gsi1pk)).size).toBeGreaterThan(INBOX_SHARDS / 2);
  });

  const byActivityDesc = (a: TicketRecord, b: TicketRecord) => b.updated_at - a.updated_at || (a.id < b.id ? 1 : -1);

  it('pages the inbox newest activity first across every shard, each ticket once, merged tickets left out', async () => {
    const seen = await allPages((cursor) => listInbox(db, {}, { limit: 7, ...(cursor ? { cursor } : {}) }));
    expect(seen).toEqual(tickets.filter((t) => t.status !== 'merged').sort(byActivityDesc).map((t) => t.id));
  });

  it('pages one status (and a filter on top) in the same order', async () => {
    const seen = await allPages((cursor) => listInbox(db, { status: ['open'], assignee: 'ann' }, { limit: 3, ...(cursor ? { cursor } : {}) }));
    expect(seen).toEqual(tickets.filter((t) => t.status === 'open' && t.assignee === 'ann').sort(byActivityDesc).map((t) => t.id));
    const all = await allPages((cursor) => listTickets(db, { status: 'resolved', limit: 4, ...(cursor ? { cursor } : {}) }));
    expect(all).toEqual(tickets.filter((t) => t.status === 'resolved').sort(byActivityDesc).map((t) => t.id));
  });

  it('counts the saved views over every shard of the active statuses', async () => {
    const active = tickets.filter((t) => ['new', 'open', 'pending_customer', 'on_hold'].includes(t.status));
    const counts = await inboxCounts(db, { mine: { assignee: 'ann' }, unassigned: { assignee: null } });
    expect(counts).toEqual({ mine: active.filter((t) => t.assignee === 'ann').length, unassigned: active.filter((t) => t.assignee === null).length });
  });

  it('merges the feed shards of a day in event order, and resumes exactly after a cursor', async () => {
    const expected = [...events].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).map((e) => e.id);
    const got: string[] = [];
    let sk = decodeFeedCursor(encodeFeedCursor(`${String(T0 - 1).padStart(15, '0')}#`))!;
    for (let i = 0; i < 20 && got.length < events.length; i++) {
      const page = await listFeedAfter(db, sk, T0 + 3_600_000, 11);
      got.push(...page.items.map((e) => e.id));
      sk = decodeFeedCursor(page.next_cursor)!;
    }
    expect(got).toEqual(expected);
  });
});
