/**
 * Automatic assignment under concurrency, through the real handlers (the Agent API for presence,
 * teams and triage; the dispatch function for the change feed) against DynamoDB Local: tickets
 * opened at once are each assigned exactly once, nobody goes above capacity, loads stay within one
 * of each other; the tickets nobody could take wait in the team's queue and go to an agent who
 * frees a slot or comes back from `away`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, DynamoDBStreamEvent } from 'aws-lambda';
import { ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { fixedClock } from '../../functions/domain/clock.js';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import { makeDispatch } from '../../functions/handlers/dispatch.js';
import { assignmentReactions } from '../../functions/handlers/reactions/assignment.js';
import type { Db } from '../../functions/store/db.js';
import { feedItem, ticketItem } from '../../functions/store/inbound.js';
import type { FeedEvent, TicketRecord } from '../../functions/store/records.js';
import { monotonicFactory } from 'ulid';
import { freshTable, privateDynamoDb } from '../helpers/ddb.js';

const newUlid = monotonicFactory();

const T0 = Date.UTC(2026, 11, 7, 9, 0);
const clock = fixedClock(T0);
const silent = { info: () => {}, error: () => {} };

let ddb: Awaited<ReturnType<typeof privateDynamoDb>> | undefined;
let db: Db;
let api: ReturnType<typeof makeAgentApi>;
let dispatch: ReturnType<typeof makeDispatch>;

beforeAll(async () => {
  ddb = await privateDynamoDb();
  ({ db } = await freshTable('assign', ddb.endpoint));
  api = makeAgentApi({ db, clock, defaultCapacity: 10 });
  dispatch = makeDispatch({ enqueueOutbound: async () => {}, reactions: assignmentReactions({ db, clock, defaultCapacity: 10 }), logger: silent });
}, 60_000);
afterAll(async () => { db?.doc.destroy(); await ddb?.stop(); });

async function call(method: string, path: string, body: unknown, sub: string, group = 'agent') {
  const r = await api({
    version: '2.0', routeKey: '$default', rawPath: `/api/v1${path}`, rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method, path: `/api/v1${path}` }, authorizer: { jwt: { claims: { sub, 'cognito:groups': `[${group}]` }, scopes: null } } } as never,
    body: body === undefined ? undefined : JSON.stringify(body), isBase64Encoded: false,
  } as APIGatewayProxyEventV2);
  return { status: r.statusCode, body: JSON.parse(String(r.body)) };
}

async function scan(filter: string, values: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await db.doc.send(new ScanCommand({ TableName: db.tableName, FilterExpression: filter, ExpressionAttributeValues: values, ExclusiveStartKey: start, ConsistentRead: true }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The stream: every feed event not dispatched yet, each in its own invocation, all at once, until quiet. */
const dispatched = new Set<string>();
async function pumpFeed(): Promise<void> {
  for (;;) {
    const fresh = (await scan('begins_with(pk, :f)', { ':f': 'FEED#' })).filter((i) => !dispatched.has(String(i.id)));
    if (fresh.length === 0) return;
    for (const e of fresh) dispatched.add(String(e.id));
    const results = await Promise.all(fresh.map((e) => dispatch({ Records: [{ eventName: 'INSERT', dynamodb: { SequenceNumber: String(e.sk), NewImage: marshall(e, { removeUndefinedValues: true }) as never } }] } as DynamoDBStreamEvent)));
    expect(results.flatMap((r) => r.batchItemFailures)).toEqual([]);
  }
}

/** Tickets as the process function opens them: the ticket and its `ticket.opened` event in one transaction. */
async function openTickets(team: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => newUlid(T0 + i));
  await Promise.all(ids.map(async (id, i) => {
    const at = T0 + i;
    const t: TicketRecord = {
      id, number: `C-${id}`, status: 'new', priority: 'normal', category: null, tags: [], customer_id: `cust-${id}`, channel: 'telegram', conversation_id: `conv-${id}`,
      assignee: null, team, sla: null, survey: null, merged_into: null, previous_ticket_id: null, created_at: at, updated_at: at, last_inbound_at: at, last_outbound_at: null,
      first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
    };
    const opened: FeedEvent = { id: `open-${id}`, type: 'ticket.opened', at, ticket_id: id, customer_id: t.customer_id, data: { channel: 'telegram' } };
    await db.doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: db.tableName, Item: ticketItem(t) } }, feedItem(db, opened)] }));
  }));
  return ids;
}

async function agents(prefix: string) {
  const r = await call('GET', '/agents', undefined, 'someone');
  expect(r.status).toBe(200);
  return (r.body.items as Array<{ id: string; load: number; capacity: number; presence: string }>).filter((a) => a.id.startsWith(prefix));
}

async function tickets(ids: readonly string[]) {
  const items = await scan('sk = :t AND begins_with(pk, :p)', { ':t': 'TICKET', ':p': 'TICKET#' });
  return items.filter((i) => ids.includes(String(i.id))) as unknown as TicketRecord[];
}

async function autoAssignEvents(): Promise<Map<string, number>> {
  const items = await scan('begins_with(sk, :tl)', { ':tl': 'TL#' });
  const out = new Map<string, number>();
  for (const i of items) if (i.event === 'ticket.assigned' && (i.data as { actor?: string })?.actor === 'auto') out.set(String(i.ticket_id), (out.get(String(i.ticket_id)) ?? 0) + 1);
  return out;
}

describe('automatic assignment under concurrency', () => {
  it('60 tickets opened at once for 5 available agents of capacity 10: each assigned once, nobody above capacity, loads within one; the rest wait and go to an agent back from away', async () => {
    const members = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const a of [...members, 'a6']) {
      expect((await call('PUT', '/agents/me/presence', { presence: a === 'a6' ? 'away' : 'available' }, a)).status).toBe(200);
    }
    expect((await call('PUT', '/agents/a6', { capacity: 10 }, 'lead', 'supervisor')).status).toBe(200);
    const team = await call('PUT', '/teams/support', { members: [...members, 'a6'], auto_assign: true }, 'lead', 'supervisor');
    expect(team.status).toBe(200);
    expect(team.body).toMatchObject({ code: 'support', auto_assign: true, offline_return_minutes: null, queued: 0 });
    await pumpFeed();

    const ids = await openTickets('support', 60);
    await pumpFeed();

    const after = await tickets(ids);
    const assigned = after.filter((t) => t.assignee);
    expect(assigned).toHaveLength(50);
    const loads = await agents('a');
    const byId = new Map(loads.map((a) => [a.id, a]));
    for (const m of members) {
      expect(byId.get(m)!.load).toBe(after.filter((t) => t.assignee === m).length);
      expect(byId.get(m)!.load).toBeLessThanOrEqual(10);
    }
    const memberLoads = members.map((m) => byId.get(m)!.load);
    expect(Math.max(...memberLoads) - Math.min(...memberLoads)).toBeLessThanOrEqual(1);
    expect(byId.get('a6')!.load).toBe(0); // away: takes nothing
    // Exactly one automatic assignment per assigned ticket, none for the waiting ones.
    const events = await autoAssignEvents();
    for (const t of assigned) expect(events.get(t.id)).toBe(1);
    expect([...events.keys()].filter((id) => ids.includes(id))).toHaveLength(50);
    // The ten left wait in the queue, oldest first.
    const queue = await call('GET', '/teams', undefined, 'someone');
    expect(queue.body.items.find((t: { code: string }) => t.code === 'support').queued).toBe(10);
    const waiting = after.filter((t) => !t.assignee).map((t) => t.id).sort();
    expect(waiting).toHaveLength(10);

    // A resolved ticket frees a slot: its agent takes the oldest waiting ticket.
    const mine = assigned.find((t) => t.assignee === 'a1')!;
    expect((await call('PATCH', `/tickets/${mine.id}`, { status: 'resolved' }, 'a1')).status).toBe(200);
    await pumpFeed();
    const afterResolve = await tickets(ids);
    expect(afterResolve.find((t) => t.id === waiting[0])!.assignee).toBe('a1');
    expect((await agents('a1'))[0]!.load).toBe(10);

    // a6 comes back from away and takes the nine still waiting.
    expect((await call('PUT', '/agents/me/presence', { presence: 'available' }, 'a6')).status).toBe(200);
    await pumpFeed();
    const final = await tickets(ids);
    expect(final.filter((t) => t.assignee === 'a6').map((t) => t.id).sort()).toEqual(waiting.slice(1));
    const finalLoads = await agents('a');
    for (const a of finalLoads) expect(a.load).toBeLessThanOrEqual(a.capacity);
    expect(finalLoads.find((a) => a.id === 'a6')!.load).toBe(9);
    expect((await call('GET', '/teams', undefined, 'someone')).body.items.find((t: { code: string }) => t.code === 'support').queued).toBe(0);
  }, 240_000);

  it('keeps loads within one of each other when the team has room for all (23 tickets at once, 5 agents)', async () => {
    const members = ['b1', 'b2', 'b3', 'b4', 'b5'];
    for (const b of members) expect((await call('PUT', '/agents/me/presence', { presence: 'available' }, b)).status).toBe(200);
    expect((await call('PUT', '/teams/billing', { members, auto_assign: true }, 'lead', 'supervisor')).status).toBe(200);
    await pumpFeed();
    const ids = await openTickets('billing', 23);
    await pumpFeed();
    const after = await tickets(ids);
    expect(after.every((t) => t.assignee && members.includes(t.assignee))).toBe(true);
    const loads = (await agents('b')).map((a) => a.load);
    expect(loads.reduce((s, x) => s + x, 0)).toBe(23);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  }, 240_000);

  it('leaves tickets of a team without automatic assignment alone (off by default)', async () => {
    expect((await call('PUT', '/teams/sales', { members: ['a2'] }, 'lead', 'supervisor')).body.auto_assign).toBe(false);
    const ids = await openTickets('sales', 2);
    await pumpFeed();
    expect((await tickets(ids)).map((t) => t.assignee ?? null)).toEqual([null, null]);
  }, 60_000);
});
