/**
 * Triage writes against DynamoDB Local: the one-active-ticket rule on an agent's reopen, the SLA
 * revision bump that stops an escalation from raising over an agent's priority, and GSI keys
 * moving with status and activity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { initialSla } from '../../functions/domain/sla/policy.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { writeSla } from '../../functions/store/sla.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { ticketTimeline } from '../../functions/store/tickets.js';
import { changeTicket } from '../../functions/store/triage.js';
import { freshTable } from '../helpers/ddb.js';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const ulid = monotonicFactory();

describe('triage writes (DynamoDB Local)', () => {
  let db: Db;
  beforeAll(async () => { ({ db } = await freshTable('triage')); });

  const customer = async (current?: string) => {
    const id = ulid(T0);
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(id), id, created_at: T0, ...(current ? { current_ticket_id: current } : {}) } }));
    return id;
  };
  const ticket = async (customerId: string, over: Partial<TicketRecord> = {}) => {
    const t: TicketRecord = {
      id: ulid(T0), number: `C-${Math.floor(Math.random() * 1e6)}`, status: 'open', priority: 'normal', category: null, tags: [], customer_id: customerId,
      channel: 'telegram', conversation_id: 'c1', assignee: null, team: null, sla: initialSla('normal', T0), survey: null, merged_into: null,
      previous_ticket_id: null, created_at: T0, updated_at: T0, last_inbound_at: T0, last_outbound_at: null, first_response_at: null,
      resolved_at: null, closed_at: null, message_count: 1, ...over,
    };
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
    return t;
  };
  const raw = async (id: string) => (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(id), ConsistentRead: true }))).Item!;
  const change = (ticketId: string, patch: Parameters<typeof changeTicket>[1]['patch'], now = T0 + 1000) => changeTicket(db, { ticketId, patch, actor: 'ann', now, newId: (at) => ulid(at) });

  it('moves the status index key and the activity sort keys with a change', async () => {
    const c = await customer();
    const t = await ticket(c);
    expect((await change(t.id, { status: 'on_hold' }, T0 + 5000)).ok).toBe(true);
    const item = await raw(t.id);
    expect(item).toMatchObject({ status: 'on_hold', gsi2pk: indexKeys.byStatus('on_hold', 0, t.id).gsi2pk, updated_at: T0 + 5000 });
    expect(item.gsi1sk).toBe(item.gsi2sk);
    expect(String(item.gsi1sk)).toMatch(new RegExp(`^0*${T0 + 5000}#${t.id}$`));
  });

  it('reopens a resolved ticket that is the customer\'s current one, and refuses while another ticket is active', async () => {
    const c = await customer();
    const old = await ticket(c, { status: 'resolved', resolved_at: T0 });
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(c), id: c, created_at: T0, current_ticket_id: old.id } }));
    const r = await change(old.id, { status: 'open' });
    expect(r.ok).toBe(true);
    const item = await raw(old.id);
    expect(item.resolved_at).toBeUndefined();
    expect(item.reopen_count).toBe(1);

    const c2 = await customer();
    const older = await ticket(c2, { status: 'resolved', resolved_at: T0 });
    const active = await ticket(c2, { status: 'open' });
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(c2), id: c2, created_at: T0, current_ticket_id: active.id } }));
    const refused = await change(older.id, { status: 'open' });
    expect(refused).toMatchObject({ ok: false, status: 409, reason: expect.stringContaining(active.number) });
    expect((await raw(older.id)).status).toBe('resolved');

    // once the other ticket is resolved too, the reopen moves the customer's pointer here
    expect((await change(active.id, { status: 'resolved' })).ok).toBe(true);
    expect((await change(older.id, { status: 'open' })).ok).toBe(true);
    expect((await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.customer(c2), ConsistentRead: true }))).Item!.current_ticket_id).toBe(older.id);
  });

  it('makes an SLA write that read the ticket before an agent\'s priority change reload', async () => {
    const c = await customer();
    const t = await ticket(c);
    const before = (await raw(t.id)).sla as { rev: number };
    expect((await change(t.id, { priority: 'low' })).ok).toBe(true);
    const stale = await writeSla(db, { ticketId: t.id, expectedRev: before.rev, sla: { ...initialSla('normal', T0), rev: before.rev + 1 }, priority: 'high' });
    expect(stale).toBe(false);
    expect((await raw(t.id)).priority).toBe('low');
  });

  it('answers 404 for a missing ticket and plans nothing for a repeated change', async () => {
    expect(await change('01J0000000000000000000NONE', { priority: 'high' })).toMatchObject({ ok: false, status: 404 });
    const c = await customer();
    const t = await ticket(c, { tags: ['a'] });
    expect((await change(t.id, { tags: ['b', 'a'] })).ok).toBe(true);
    const again = await change(t.id, { tags: ['a', 'b'] });
    expect(again).toMatchObject({ ok: true, value: { changed: [] } });
  });

  it('keeps racing status changes on the timeline in the order they were applied, whatever their request times', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await customer();
      const t = await ticket(c);
      // the later a request's time, the sooner it is sent: losers retry and commit after a change
      // stamped later than their own request time (as with Lambdas whose clocks differ)
      const results = await Promise.all((['on_hold', 'pending_customer', 'resolved'] as const).map((status, i) => change(t.id, { status }, T0 + 1002 - i)));
      expect(results.some((r) => r.ok)).toBe(true);
      const stored = await raw(t.id);
      const changes = (await ticketTimeline(db, stored as unknown as TicketRecord)).flatMap((e) => (e.type === 'event' && e.event === 'ticket.status_changed' ? [e.data as { from: string; to: string }] : []));
      expect(changes.length).toBe(results.filter((r) => r.ok && r.value.changed.length > 0).length);
      expect(changes[0]!.from).toBe('open');
      for (let i = 1; i < changes.length; i++) expect(changes[i]!.from).toBe(changes[i - 1]!.to);
      expect(changes.at(-1)!.to).toBe(stored.status);
    }
  });
});
