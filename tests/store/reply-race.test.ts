/**
 * A reply racing a close or a merge (issue 13), against DynamoDB Local through the Agent API
 * handler: 20 rounds of 10 closes against 10 replies, and 20 rounds of 10 merges against 10
 * replies, all in parallel. A reply's write is conditional on the ticket status it was planned
 * against and stamped after the ticket's last change (store/outbound.ts `queueReply`), so no reply
 * is accepted once the ticket left an answerable status, and every accepted reply is on the
 * timeline before the close (or the merge).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { monotonicFactory } from 'ulid';
import { systemClock } from '../../functions/domain/clock.js';
import { initialSla } from '../../functions/domain/sla/policy.js';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { getTicket } from '../../functions/store/reads.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { ticketTimeline } from '../../functions/store/tickets.js';
import { freshTable } from '../helpers/ddb.js';

const ulid = monotonicFactory();
const ROUNDS = 20;
const EACH = 10;

function event(method: string, path: string, body?: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: `/api/v1${path}`, rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: {
      http: { method, path: `/api/v1${path}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      authorizer: { jwt: { claims: { sub: 'ann', role: 'agent', 'cognito:groups': '[agent]' }, scopes: null } },
    } as never,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}), isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

describe('a reply racing a close or a merge (DynamoDB Local)', () => {
  let db: Db;
  let api: ReturnType<typeof makeAgentApi>;
  beforeAll(async () => {
    ({ db } = await freshTable('reply-race'));
    api = makeAgentApi({ db, clock: systemClock });
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await api(event(method, path, body));
    return { status: r.statusCode!, body: JSON.parse(String(r.body)) as Record<string, any> };
  };

  /** A customer with a Telegram identity and tickets in the given statuses (the first is current). */
  const customerWith = async (...statuses: Array<TicketRecord['status']>) => {
    const now = Date.now();
    const customerId = ulid(now);
    const chat = String(70_000_000 + Math.floor(Math.random() * 1e6));
    const tickets: TicketRecord[] = statuses.map((status) => ({
      id: ulid(now), number: `C-${Math.floor(Math.random() * 1e6)}`, status, priority: 'normal', category: null, tags: [], customer_id: customerId,
      channel: 'telegram', conversation_id: chat, assignee: null, team: null, sla: initialSla('normal', now), survey: null, merged_into: null,
      previous_ticket_id: null, created_at: now - 60_000, updated_at: now - 1000, last_inbound_at: now - 60_000, last_outbound_at: null, first_response_at: null,
      resolved_at: status === 'resolved' ? now - 1000 : null, closed_at: null, message_count: 1,
    }));
    for (const t of tickets) await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(customerId), id: customerId, created_at: now, current_ticket_id: tickets[0]!.id } }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: {
      ...keys.identity('telegram', chat), ...indexKeys.customerIdentity(customerId, 'telegram', chat),
      channel: 'telegram', external_id: chat, customer_id: customerId, conversation_id: chat, created_at: now, last_inbound_at: now - 60_000, last_sent_at: now - 60_000,
    } }));
    return tickets;
  };

  /** Replies on the timeline of `ticketId` (as its ticket shows them), and the event that ended it. */
  const outcome = async (shownIn: string, ticketId: string, ending: 'ticket.status_changed' | 'ticket.merged_into') => {
    const timeline = await ticketTimeline(db, (await getTicket(db, shownIn))!);
    const replies = timeline.filter((e) => e.type === 'message' && e.direction === 'out' && e.ticket_id === ticketId);
    const end = timeline.find((e) => e.type === 'event' && e.ticket_id === ticketId && e.event === ending && (ending !== 'ticket.status_changed' || e.data.to === 'closed'));
    return { replies, end: end! };
  };

  it(`close vs replies, ${ROUNDS} rounds of ${EACH} + ${EACH} in parallel: no reply accepted after the close, every accepted one on the timeline before it`, async () => {
    let accepted = 0;
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const [ticket] = await customerWith('resolved');
      const results = await Promise.all(Array.from({ length: EACH * 2 }, (_, i) => (i % 2 === 0
        ? call('PATCH', `/tickets/${ticket!.id}`, { status: 'closed' }).then((r) => ({ kind: 'close' as const, ...r }))
        : call('POST', `/tickets/${ticket!.id}/replies`, { text: `reply ${round}.${i}` }).then((r) => ({ kind: 'reply' as const, ...r })))));
      const replies = results.filter((r) => r.kind === 'reply');
      for (const r of replies) expect([202, 409], JSON.stringify(r.body)).toContain(r.status);
      for (const r of replies.filter((x) => x.status === 409)) expect(r.body.error).toEqual({ code: 'conflict', message: 'ticket is closed' });
      expect(results.filter((r) => r.kind === 'close').every((r) => r.status === 200)).toBe(true);

      const closed = (await getTicket(db, ticket!.id))!;
      expect(closed.status).toBe('closed');
      const { replies: stored, end } = await outcome(ticket!.id, ticket!.id, 'ticket.status_changed');
      const ids = replies.filter((r) => r.status === 202).map((r) => r.body.id as string);
      // Exactly the accepted replies are stored — each before the close, none after it.
      expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
      for (const e of stored) expect(e.at, `round ${round}`).toBeLessThan(end.at);
      expect(closed.closed_at).toBe(end.at);
      accepted += ids.length;
      refused += replies.length - ids.length;
    }
    // Both outcomes happen: the race is real, and the answer to it is always consistent.
    expect(accepted + refused).toBe(ROUNDS * EACH);
  }, 240_000);

  it(`merge vs replies, ${ROUNDS} rounds of ${EACH} + ${EACH} in parallel: no reply accepted on a merged ticket, every accepted one on the timeline before the merge`, async () => {
    let accepted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const [winner, loser] = await customerWith('open', 'resolved');
      const results = await Promise.all(Array.from({ length: EACH * 2 }, (_, i) => (i % 2 === 0
        ? call('POST', `/tickets/${loser!.id}/merge`, { into: winner!.id }).then((r) => ({ kind: 'merge' as const, ...r }))
        : call('POST', `/tickets/${loser!.id}/replies`, { text: `reply ${round}.${i}` }).then((r) => ({ kind: 'reply' as const, ...r })))));
      const replies = results.filter((r) => r.kind === 'reply');
      for (const r of replies) expect([202, 409], JSON.stringify(r.body)).toContain(r.status);
      for (const r of replies.filter((x) => x.status === 409)) expect(r.body.error).toEqual({ code: 'conflict', message: 'ticket is merged' });
      expect(results.filter((r) => r.kind === 'merge').every((r) => r.status === 200), JSON.stringify(results.filter((r) => r.kind === 'merge' && r.status !== 200))).toBe(true);

      expect((await getTicket(db, loser!.id))!.status).toBe('merged');
      // The merged ticket's entries show in the winner's timeline.
      const { replies: stored, end } = await outcome(winner!.id, loser!.id, 'ticket.merged_into');
      const ids = replies.filter((r) => r.status === 202).map((r) => r.body.id as string);
      expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
      for (const e of stored) expect(e.at, `round ${round}`).toBeLessThan(end.at);
      accepted += ids.length;
    }
    expect(accepted).toBeLessThanOrEqual(ROUNDS * EACH);
  }, 240_000);
});
