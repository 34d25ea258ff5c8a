/**
 * Automatic assignment through the running local service (issue 15): a team switched on, a rule
 * routing tickets to it, an agent setting their presence → a new ticket is theirs; `GET /agents`
 * shows presence and load; the agent goes offline and, once the team's offline return has passed
 * on the virtual clock (the synthesised assignment state machine waits), the unanswered ticket
 * goes back to the queue and to the colleague who is available.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { devControls, testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };
type Rt = Runtime & { api: ApiClient };

const update = (fromId: number, text: string) => JSON.stringify({
  update_id: fromId, message: { message_id: fromId, date: 1790000000, text, from: { id: fromId, is_bot: false, first_name: 'Test', language_code: 'en' }, chat: { id: fromId, type: 'private', first_name: 'Test' } },
});

async function put(rt: Rt, path: string, body: unknown, token: string) {
  const res = await fetch(rt.url + path, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('automatic assignment over HTTP (local runtime)', () => {
  let rt: Rt;
  let ann: string;
  let bob: string;
  let lead: string;
  let dev: ReturnType<typeof devControls>;

  beforeAll(async () => {
    rt = await testRuntime({}, { visibilityTimeoutMs: 5000 });
    dev = devControls(rt.api, (s) => expect(s).toBe(200));
    ann = await rt.api.token('ann', 'agent');
    bob = await rt.api.token('bob', 'agent');
    lead = await rt.api.token('lead', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  const agents = async () => (await rt.api.get('/api/v1/agents', ann)).body.items as Array<{ id: string; presence: string; load: number; capacity: number; teams: string[] }>;
  const ticket = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}`, ann)).body as { assignee: string | null; team: string | null };

  it('assigns a new ticket of a switched-on team to the available member, and returns it to the queue when that member has been offline for the team\'s minutes', async () => {
    // An agent may not configure teams or capacities.
    expect((await put(rt, '/api/v1/teams/support', { auto_assign: true }, ann)).status).toBe(403);
    const team = await put(rt, '/api/v1/teams/support', { members: ['ann', 'bob'], auto_assign: true, offline_return_minutes: 10 }, lead);
    expect(team).toMatchObject({ status: 200, body: { code: 'support', members: ['ann', 'bob'], auto_assign: true, offline_return_minutes: 10, queued: 0 } });
    expect((await put(rt, '/api/v1/agents/ann', { capacity: 3, languages: ['en'] }, lead)).body).toMatchObject({ id: 'ann', capacity: 3, languages: ['en'], presence: 'offline' });
    expect((await put(rt, '/api/v1/rules', { items: [{ id: 'orders', pattern: 'order', set: { team: 'support' } }] }, lead)).status).toBe(200);
    const presence = await put(rt, '/api/v1/agents/me/presence', { presence: 'available' }, ann);
    expect(presence).toMatchObject({ status: 200, body: { id: 'ann', presence: 'available', load: 0, teams: ['support'] } });
    expect((await put(rt, '/api/v1/agents/me/presence', { presence: 'busy' }, ann)).status).toBe(400);
    await dev.settle();

    expect((await rt.api.webhook('telegram', { headers: TG, body: update(9_150_001, 'Where is my order?') })).status).toBe(200);
    await dev.settle();
    const id = (await rt.api.get('/api/v1/customers?identity=telegram:9150001', ann)).body.items[0].tickets[0].id as string;
    expect(await ticket(id)).toMatchObject({ team: 'support', assignee: 'ann' });
    expect((await agents()).find((a) => a.id === 'ann')).toMatchObject({ presence: 'available', load: 1, capacity: 3, teams: ['support'] });
    const timeline = (await rt.api.get(`/api/v1/tickets/${id}/timeline`, ann)).body.items as Array<{ type: string; event?: string; data?: Record<string, unknown> }>;
    expect(timeline.filter((e) => e.event === 'ticket.assigned' && e.data?.actor === 'auto')).toEqual([expect.objectContaining({ data: expect.objectContaining({ assignee: 'ann', team: 'support' }) })]);

    // Ann goes offline; bob is available. Nine minutes later the ticket is still ann's…
    expect((await put(rt, '/api/v1/agents/me/presence', { presence: 'offline' }, ann)).body.presence).toBe('offline');
    expect((await put(rt, '/api/v1/agents/me/presence', { presence: 'available' }, bob)).body.presence).toBe('available');
    await dev.settle();
    await dev.advance(9 * 60);
    expect((await ticket(id)).assignee).toBe('ann');
    // …and after ten it is bob's: returned to the queue, taken by the available member.
    await dev.advance(2 * 60);
    expect((await ticket(id)).assignee).toBe('bob');
    const list = await agents();
    expect(list.find((a) => a.id === 'ann')).toMatchObject({ presence: 'offline', load: 0 });
    expect(list.find((a) => a.id === 'bob')).toMatchObject({ presence: 'available', load: 1, capacity: 10 });
    const after = (await rt.api.get(`/api/v1/tickets/${id}/timeline`, ann)).body.items as Array<{ event?: string; data?: Record<string, unknown> }>;
    expect(after.some((e) => e.event === 'ticket.updated' && e.data?.actor === 'offline-return' && e.data?.previous_assignee === 'ann')).toBe(true);
    expect((await rt.api.get('/api/v1/teams', ann)).body.items).toEqual([{ code: 'support', members: ['ann', 'bob'], auto_assign: true, offline_return_minutes: 10, queued: 0 }]);
  }, 180_000);

  it('turning a team on takes in the tickets that already waited: the oldest go to the free member, the rest are queued', async () => {
    // Billing has no automatic assignment yet; three of its tickets wait unassigned, one is resolved.
    expect((await put(rt, '/api/v1/rules', { items: [{ id: 'refunds', pattern: 'refund', set: { team: 'billing' } }] }, lead)).status).toBe(200);
    for (const from of [9_150_101, 9_150_102, 9_150_103, 9_150_104]) {
      expect((await rt.api.webhook('telegram', { headers: TG, body: update(from, 'Please refund my order') })).status).toBe(200);
      await dev.settle();
    }
    const ids = await Promise.all([9_150_101, 9_150_102, 9_150_103, 9_150_104].map(async (from) => (await rt.api.get(`/api/v1/customers?identity=telegram:${from}`, ann)).body.items[0].tickets[0].id as string));
    expect((await fetch(`${rt.url}/api/v1/tickets/${ids[3]}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${lead}` }, body: JSON.stringify({ status: 'resolved' }) })).status).toBe(200);
    expect((await put(rt, '/api/v1/teams/billing', { members: ['carol'] }, lead)).body).toMatchObject({ auto_assign: false, queued: 0 });
    expect((await put(rt, '/api/v1/agents/carol', { capacity: 2 }, lead)).status).toBe(200);
    const carol = await rt.api.token('carol', 'agent');
    expect((await put(rt, '/api/v1/agents/me/presence', { presence: 'available' }, carol)).status).toBe(200);
    await dev.settle();
    for (const id of ids) expect((await ticket(id)).assignee).toBeNull();

    // Switched on: carol (capacity 2) takes the two oldest; the third waits in the queue.
    const on = await put(rt, '/api/v1/teams/billing', { auto_assign: true }, lead);
    expect(on.body).toMatchObject({ code: 'billing', auto_assign: true, queued: 1 });
    expect(await Promise.all(ids.map(async (id) => (await ticket(id)).assignee))).toEqual(['carol', 'carol', null, null]);
    // Saving the team again queues nothing twice; a freed slot takes the waiting ticket.
    expect((await put(rt, '/api/v1/teams/billing', { auto_assign: true }, lead)).body.queued).toBe(1);
    expect((await fetch(`${rt.url}/api/v1/tickets/${ids[0]}`, { method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${carol}` }, body: JSON.stringify({ status: 'resolved' }) })).status).toBe(200);
    await dev.settle();
    expect((await ticket(ids[2]!)).assignee).toBe('carol');
    expect((await ticket(ids[3]!)).assignee).toBeNull();
  }, 180_000);
});
