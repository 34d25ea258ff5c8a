/**
 * The assignment write itself (functions/store/agents.ts `assignTicket`), raced without the
 * drain lease: two assigners for one ticket → one agent; two tickets for an agent's last slot →
 * one ticket; loads follow the holds through reassignment and resolution, once each however often
 * the change is reconciled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import type { Db } from '../../functions/store/db.js';
import { assignTicket, configureAgent, getAgent, getTeam, heldTickets, putTeam, reconcileHold, setPresence } from '../../functions/store/agents.js';
import { loadTickets } from '../../functions/store/identity.js';
import { ticketItem } from '../../functions/store/inbound.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { changeTicket } from '../../functions/store/triage.js';
import { freshTable } from '../helpers/ddb.js';

const T0 = Date.UTC(2026, 11, 7, 10, 0);
const ulid = monotonicFactory();
const w = { now: T0, newId: (at: number) => ulid(at) };
let db: Db;

beforeAll(async () => { ({ db } = await freshTable('agents')); });
afterAll(() => db?.doc.destroy());

async function ticket(team: string): Promise<TicketRecord> {
  const id = ulid(T0);
  const t: TicketRecord = {
    id, number: `C-${id}`, status: 'new', priority: 'normal', category: null, tags: [], customer_id: `c-${id}`, channel: 'email', conversation_id: id,
    assignee: null, team, sla: null, survey: null, merged_into: null, previous_ticket_id: null, created_at: T0, updated_at: T0, last_inbound_at: T0, last_outbound_at: null,
    first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
  };
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
  return t;
}

async function available(id: string, capacity: number) {
  await setPresence(db, { agentId: id, presence: 'available', defaultCapacity: 10, ...w });
  return configureAgent(db, { agentId: id, capacity, defaultCapacity: 10, now: T0 });
}

describe('assignTicket', () => {
  it('gives one ticket to exactly one of two racing assigners', async () => {
    await putTeam(db, { code: 'race', members: ['r1', 'r2'], auto_assign: true, now: T0 });
    const team = (await getTeam(db, 'race'))!;
    const [r1, r2] = [await available('r1', 5), await available('r2', 5)];
    const t = await ticket('race');
    const outcomes = await Promise.all([assignTicket(db, { ticket: t, agent: r1, team, ...w }), assignTicket(db, { ticket: t, agent: r2, team, ...w })]);
    expect(outcomes.filter((o) => o === 'assigned')).toHaveLength(1);
    const after = (await loadTickets(db, [t.id])).get(t.id)!;
    const winner = outcomes[0] === 'assigned' ? 'r1' : 'r2';
    expect(after.assignee).toBe(winner);
    expect((await getAgent(db, 'r1'))!.load + (await getAgent(db, 'r2'))!.load).toBe(1);
  });

  it('never fills a slot twice: two tickets racing for an agent\'s last slot, one wins', async () => {
    await putTeam(db, { code: 'slot', members: ['s1'], auto_assign: true, now: T0 });
    const team = (await getTeam(db, 'slot'))!;
    const s1 = await available('s1', 1);
    const [a, b] = [await ticket('slot'), await ticket('slot')];
    const outcomes = await Promise.all([assignTicket(db, { ticket: a, agent: s1, team, ...w }), assignTicket(db, { ticket: b, agent: s1, team, ...w })]);
    expect(outcomes.filter((o) => o === 'assigned')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'agent_changed')).toHaveLength(1);
    expect((await getAgent(db, 's1'))!.load).toBe(1);
  });

  it('refuses an agent who is not available', async () => {
    await putTeam(db, { code: 'away', members: ['w1'], auto_assign: true, now: T0 });
    const team = (await getTeam(db, 'away'))!;
    const w1 = await available('w1', 5);
    await setPresence(db, { agentId: 'w1', presence: 'away', defaultCapacity: 10, ...w });
    expect(await assignTicket(db, { ticket: await ticket('away'), agent: w1, team, ...w })).toBe('agent_changed');
    expect((await getAgent(db, 'w1'))!.load).toBe(0);
  });
});

describe('reconcileHold', () => {
  it('moves the load with a manual reassignment and releases it on resolution, once however often it runs', async () => {
    const t = await ticket('manual');
    const patch = async (p: Parameters<typeof changeTicket>[1]['patch']) => expect((await changeTicket(db, { ticketId: t.id, patch: p, actor: 'lead', now: T0 + 1000, newId: (at) => ulid(at) })).ok).toBe(true);
    await patch({ assignee: 'm1' });
    expect(await reconcileHold(db, t.id, 10)).toBeNull();
    expect(await reconcileHold(db, t.id, 10)).toBeNull();
    expect((await getAgent(db, 'm1'))!.load).toBe(1); // created on first hold: offline, default capacity
    expect(await heldTickets(db, 'm1')).toEqual([t.id]);
    await patch({ assignee: 'm2' });
    expect(await reconcileHold(db, t.id, 10)).toBe('m1');
    expect(await reconcileHold(db, t.id, 10)).toBeNull();
    expect([(await getAgent(db, 'm1'))!.load, (await getAgent(db, 'm2'))!.load]).toEqual([0, 1]);
    await patch({ status: 'resolved' });
    expect(await reconcileHold(db, t.id, 10)).toBe('m2');
    expect((await getAgent(db, 'm2'))!.load).toBe(0);
    expect(await heldTickets(db, 'm2')).toEqual([]);
  });
});
