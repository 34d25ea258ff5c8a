/**
 * Triage through the running local service (issue 6, DESIGN.md §3): PATCH /tickets/{id}, notes,
 * inbox filters and saved-view counts, the change feed (cursor list and SSE stream), canned
 * answers and classification rules — over HTTP against DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };
type Rt = Runtime & { api: ApiClient };

let seq = 0;
const update = (fromId: number, text: string, name: { first: string; last?: string }, language = 'en') => {
  seq += 1;
  const updateId = fromId * 100 + seq;
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: updateId, date: 1790000000, text,
      from: { id: fromId, is_bot: false, first_name: name.first, ...(name.last ? { last_name: name.last } : {}), language_code: language },
      chat: { id: fromId, type: 'private', first_name: name.first },
    },
  });
};

async function call(rt: Rt, method: string, path: string, body: unknown, token?: string) {
  const res = await fetch(rt.url + path, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const patch = (rt: Rt, id: string, body: unknown, token: string) => call(rt, 'PATCH', `/api/v1/tickets/${id}`, body, token);
const put = (rt: Rt, path: string, body: unknown, token: string) => call(rt, 'PUT', path, body, token);

async function openTicket(rt: Rt, token: string, fromId: number, text = 'My order did not arrive', name: { first: string; last?: string } = { first: 'Test' }, language = 'en'): Promise<string> {
  const res = await rt.api.webhook('telegram', { headers: TG, body: update(fromId, text, name, language) });
  expect(res.status).toBe(200);
  await rt.api.post('/dev/settle', {});
  const card = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
  return card.tickets[0].id as string;
}

const timelineEvents = async (rt: Rt, id: string, token: string) =>
  ((await rt.api.get(`/api/v1/tickets/${id}/timeline`, token)).body.items as Array<{ type: string; event?: string; data?: Record<string, unknown>; text?: string }>);

describe('triage over HTTP (local runtime)', () => {
  let rt: Rt;
  let ann: string;
  let bob: string;
  let lead: string;

  beforeAll(async () => {
    rt = await testRuntime({}, { visibilityTimeoutMs: 5000 });
    ann = await rt.api.token('ann', 'agent');
    bob = await rt.api.token('bob', 'agent');
    lead = await rt.api.token('lead', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  describe('PATCH /tickets/{id}', () => {
    it('moves a ticket through allowed statuses, with timeline events, feed events and the status index in step', async () => {
      const id = await openTicket(rt, ann, 8_100_001);
      const since = (await rt.api.get('/api/v1/events', ann)).body.next_cursor;

      const opened = await patch(rt, id, { status: 'open' }, ann);
      expect(opened.status).toBe(200);
      expect(opened.body).toMatchObject({ ticket: { id, status: 'open' }, changed: ['status'] });

      const resolved = await patch(rt, id, { status: 'resolved' }, ann);
      expect(resolved.body.ticket.status).toBe('resolved');
      expect(resolved.body.ticket.resolved_at).not.toBeNull();
      const listed = (await rt.api.get('/api/v1/tickets?status=resolved', ann)).body.items.map((t: { id: string }) => t.id);
      expect(listed).toContain(id);
      expect((await rt.api.get('/api/v1/tickets?status=open', ann)).body.items.map((t: { id: string }) => t.id)).not.toContain(id);

      const reopened = await patch(rt, id, { status: 'open' }, ann);
      expect(reopened.body.ticket).toMatchObject({ status: 'open', resolved_at: null });

      const events = (await timelineEvents(rt, id, ann)).filter((e) => e.type === 'event' && e.event !== 'ticket.opened');
      expect(events.map((e) => [e.event, e.data?.from, e.data?.to])).toEqual([
        ['ticket.status_changed', 'new', 'open'],
        ['ticket.status_changed', 'open', 'resolved'],
        ['ticket.status_changed', 'resolved', 'open'],
        ['ticket.reopened', undefined, undefined],
      ]);
      expect(events.every((e) => e.data?.actor === 'ann')).toBe(true);

      const feed = (await rt.api.get(`/api/v1/events?since=${since}`, ann)).body;
      const mine = feed.items.filter((e: { ticket_id: string }) => e.ticket_id === id);
      expect(mine.map((e: { type: string }) => e.type)).toEqual(['ticket.status_changed', 'ticket.status_changed', 'ticket.status_changed', 'ticket.reopened']);
      expect(mine[1].data).toEqual({ from: 'open', to: 'resolved', actor: 'ann' });
    });

    it('refuses an illegal status change with 409 illegal_transition and changes nothing', async () => {
      const id = await openTicket(rt, ann, 8_100_002);
      expect((await patch(rt, id, { status: 'resolved' }, ann)).status).toBe(200);
      await rt.api.post('/dev/settle', {});
      const before = (await rt.api.get(`/api/v1/tickets/${id}`, ann)).body;
      const back = await patch(rt, id, { status: 'new' }, ann);
      expect(back.status).toBe(409);
      expect(back.body.error).toEqual({ code: 'illegal_transition', message: expect.stringContaining('resolved cannot change to new') });
      const merged = await patch(rt, id, { status: 'merged' }, ann);
      expect(merged.status).toBe(409);
      expect(merged.body.error.code).toBe('illegal_transition');
      // a refused status change takes nothing else with it
      expect((await patch(rt, id, { status: 'pending_customer', priority: 'urgent' }, ann)).status).toBe(409);
      expect((await rt.api.get(`/api/v1/tickets/${id}`, ann)).body).toEqual(before);
    });

    it('explains a bad body with 400 and an unknown ticket with 404', async () => {
      const id = await openTicket(rt, ann, 8_100_003);
      expect((await patch(rt, id, {}, ann)).status).toBe(400);
      const bad = await patch(rt, id, { priority: 'extreme' }, ann);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/priority/);
      expect((await patch(rt, id, { owner: 'x' }, ann)).status).toBe(400);
      expect((await patch(rt, '01J0000000000000000000ZZZZ', { priority: 'high' }, ann)).status).toBe(404);
    });

    it('assigns (me), sets team, category and tags; priority re-targets the SLA policy', async () => {
      const id = await openTicket(rt, ann, 8_100_004);
      const r = await patch(rt, id, { assignee: 'me', team: 'billing', category: 'refund', tags: ['vip', 'late'], priority: 'urgent' }, ann);
      expect(r.status).toBe(200);
      expect(r.body.ticket).toMatchObject({ assignee: 'ann', team: 'billing', category: 'refund', tags: ['late', 'vip'], priority: 'urgent' });
      await rt.api.post('/dev/settle', {});
      const t = (await rt.api.get(`/api/v1/tickets/${id}`, ann)).body;
      expect(t.sla.policy).toBe('default-urgent');
      const types = (await timelineEvents(rt, id, ann)).filter((e) => e.type === 'event').map((e) => e.event);
      expect(types).toEqual(expect.arrayContaining(['ticket.priority_changed', 'ticket.assigned', 'ticket.updated']));
      // unassign and clear
      const cleared = await patch(rt, id, { assignee: null, category: null }, ann);
      expect(cleared.body.ticket).toMatchObject({ assignee: null, category: null, team: 'billing' });
      // the same values again: no change, no events
      const again = await patch(rt, id, { assignee: null, team: 'billing' }, ann);
      expect(again.body.changed).toEqual([]);
    });

    it('applies concurrent changes of different fields, and re-checks a racing status change', async () => {
      const id = await openTicket(rt, ann, 8_100_005);
      const [a, b, c] = await Promise.all([
        patch(rt, id, { priority: 'high' }, ann),
        patch(rt, id, { tags: ['x'] }, bob),
        patch(rt, id, { assignee: 'bob' }, bob),
      ]);
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      expect((await rt.api.get(`/api/v1/tickets/${id}`, ann)).body).toMatchObject({ priority: 'high', tags: ['x'], assignee: 'bob' });

      const [closeIt, park] = await Promise.all([patch(rt, id, { status: 'resolved' }, ann), patch(rt, id, { status: 'on_hold' }, bob)]);
      expect([closeIt.status, park.status].sort()).toEqual(expect.arrayContaining([200]));
      const final = (await rt.api.get(`/api/v1/tickets/${id}`, ann)).body.status;
      const changes = (await timelineEvents(rt, id, ann)).filter((e) => e.event === 'ticket.status_changed');
      // every recorded change starts where the previous one ended: no lost update
      for (let i = 1; i < changes.length; i++) expect(changes[i]!.data!.from).toBe(changes[i - 1]!.data!.to);
      expect(changes.at(-1)!.data!.to).toBe(final);
    });
  });

  describe('notes', () => {
    it('adds an internal note that never reaches the customer; a hand-off sets the team and tells the feed', async () => {
      const id = await openTicket(rt, ann, 8_100_010);
      const outboxBefore = (await rt.api.get('/dev/outbox')).body.items.length;
      const since = (await rt.api.get('/api/v1/events', ann)).body.next_cursor;
      const note = await rt.api.post(`/api/v1/tickets/${id}/notes`, { text: 'Customer is a reseller, check contract 7781' }, ann);
      expect(note.status).toBe(201);
      expect(note.body).toMatchObject({ type: 'note', author: 'ann', text: 'Customer is a reseller, check contract 7781' });
      const handoff = await rt.api.post(`/api/v1/tickets/${id}/notes`, { text: 'Second line please', handoff_team: 'tier2' }, ann);
      expect(handoff.status).toBe(201);
      await rt.api.post('/dev/settle', {});
      expect((await rt.api.get('/dev/outbox')).body.items).toHaveLength(outboxBefore);
      expect((await rt.api.get(`/api/v1/tickets/${id}`, ann)).body.team).toBe('tier2');
      const notes = (await timelineEvents(rt, id, ann)).filter((e) => e.type === 'note').map((e) => e.text);
      expect(notes).toEqual(['Customer is a reseller, check contract 7781', 'Second line please']);
      const feed = (await rt.api.get(`/api/v1/events?since=${since}`, ann)).body.items.filter((e: { ticket_id: string }) => e.ticket_id === id);
      expect(feed.map((e: { type: string }) => e.type)).toEqual(['note.added', 'note.added', 'ticket.handoff']);
      expect(JSON.stringify(feed)).not.toContain('reseller');
      expect(feed[2].data).toMatchObject({ team: 'tier2' });
      expect((await rt.api.post(`/api/v1/tickets/${id}/notes`, { text: '' }, ann)).status).toBe(400);
    });
  });

  describe('inbox filters and saved views', () => {
    let t1: string; let t2: string; let t3: string;
    beforeAll(async () => {
      t1 = await openTicket(rt, ann, 8_200_001, 'Where is my parcel?', { first: 'Zofia', last: 'Wrzos' });
      t2 = await openTicket(rt, ann, 8_200_002, 'Wrong size', { first: 'Marek', last: 'Lis' });
      t3 = await openTicket(rt, ann, 8_200_003, 'Cannot log in', { first: 'Olga', last: 'Wrzosowa' });
      await patch(rt, t1, { assignee: 'carl' }, ann);
      await patch(rt, t2, { priority: 'high' }, ann);
      await rt.api.post(`/api/v1/tickets/${t3}/replies`, { text: 'Try resetting your password.' }, ann);
      await rt.api.post('/dev/settle', {});
    });
    const ids = async (qs: string, token = ann) => {
      const r = await rt.api.get(`/api/v1/tickets?${qs}`, token);
      expect(r.status).toBe(200);
      return (r.body.items as Array<{ id: string }>).map((t) => t.id).filter((id) => [t1, t2, t3].includes(id));
    };

    it('filters by assignee (me, none, id), priority, channel and status list', async () => {
      const carl = await rt.api.token('carl', 'agent');
      expect(await ids('assignee=me', carl)).toEqual([t1]);
      expect(await ids('assignee=carl')).toEqual([t1]);
      expect(await ids('assignee=none')).toEqual(expect.arrayContaining([t2, t3]));
      expect(await ids('assignee=none')).not.toContain(t1);
      expect(await ids('priority=high')).toEqual([t2]);
      expect(await ids('priority=high,normal&channel=telegram')).toHaveLength(3);
      expect(await ids('channel=email')).toEqual([]);
      expect(await ids('status=new,open')).toHaveLength(3);
      expect(await ids('status=resolved')).toEqual([]);
    });

    it('filters by whose turn it is and by text in the customer name', async () => {
      expect(await ids('awaiting=customer')).toEqual([t3]);
      expect(await ids('awaiting=agent')).toEqual(expect.arrayContaining([t1, t2]));
      expect(await ids('q=wrzos')).toEqual(expect.arrayContaining([t1, t3]));
      expect(await ids('q=wrzos')).toHaveLength(2);
      expect(await ids('q=lis')).toEqual([t2]);
      const owner = (await rt.api.get(`/api/v1/tickets/${t2}`, ann)).body.customer_id;
      expect(await ids(`customer=${owner}`)).toEqual([t2]);
    });

    it('pages with a stable cursor: every ticket exactly once, newest activity first', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { status: number; body: { items: Array<{ id: string; updated_at: string }>; next_cursor: string | null } } = await rt.api.get(`/api/v1/tickets?limit=2${cursor ? `&cursor=${cursor}` : ''}`, ann);
        expect(r.status).toBe(200);
        seen.push(...r.body.items.map((t) => t.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining([t1, t2, t3]));
      const all = (await rt.api.get('/api/v1/tickets?limit=100', ann)).body.items.map((t: { id: string }) => t.id);
      expect(seen).toEqual(all);
      expect((await rt.api.get('/api/v1/tickets?cursor=garbage', ann)).status).toBe(400);
      expect((await rt.api.get('/api/v1/tickets?awaiting=nobody', ann)).status).toBe(400);
    });

    it('counts the saved views: mine, unassigned, awaiting reply', async () => {
      const carl = await rt.api.token('carl', 'agent');
      const counts = (await rt.api.get('/api/v1/tickets/counts', carl)).body;
      const all = (await rt.api.get('/api/v1/tickets?limit=100&status=new,open,pending_customer,on_hold', carl)).body.items as Array<{ assignee: string | null }>;
      const awaitingAgent = (await rt.api.get('/api/v1/tickets?limit=100&awaiting=agent', carl)).body.items.length;
      expect(counts).toEqual({ mine: 1, unassigned: all.filter((t) => t.assignee === null).length, awaiting_reply: awaitingAgent });
    });

    it('shows tickets at risk past the first escalation step, and breached past the deadline', async () => {
      const id = await openTicket(rt, ann, 8_200_009);
      expect(await rt.api.get('/api/v1/tickets?sla=at_risk', ann).then((r) => r.body.items.map((t: { id: string }) => t.id))).not.toContain(id);
      await rt.api.post('/dev/clock', { advanceSeconds: 50 * 60 });
      await rt.api.post('/dev/settle', {});
      expect((await rt.api.get('/api/v1/tickets?sla=at_risk', ann)).body.items.map((t: { id: string }) => t.id)).toContain(id);
      await rt.api.post('/dev/clock', { advanceSeconds: 15 * 60 });
      await rt.api.post('/dev/settle', {});
      expect((await rt.api.get('/api/v1/tickets?sla=breached', ann)).body.items.map((t: { id: string }) => t.id)).toContain(id);
      expect((await rt.api.get('/api/v1/tickets?sla=at_risk', ann)).body.items.map((t: { id: string }) => t.id)).not.toContain(id);
    });
  });

  describe('change feed', () => {
    it('lists events after a cursor, chains next_cursor, and refuses a forged cursor', async () => {
      const start = (await rt.api.get('/api/v1/events', ann)).body;
      expect(start.items).toEqual([]);
      const id = await openTicket(rt, ann, 8_300_001);
      await patch(rt, id, { assignee: 'bob' }, ann);
      const page1 = (await rt.api.get(`/api/v1/events?since=${start.next_cursor}&limit=2`, ann)).body;
      expect(page1.items).toHaveLength(2);
      const rest: Array<{ type: string; ticket_id: string; data: Record<string, unknown> }> = [];
      let cursor = page1.next_cursor;
      for (;;) {
        const p = (await rt.api.get(`/api/v1/events?since=${cursor}`, ann)).body;
        rest.push(...p.items);
        if (p.items.length === 0) break;
        cursor = p.next_cursor;
      }
      const types = [...page1.items, ...rest].filter((e) => e.ticket_id === id).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['ticket.opened', 'message.received', 'ticket.assigned']));
      expect(new Set([...page1.items, ...rest].map((e: { id: string }) => e.id)).size).toBe(page1.items.length + rest.length);
      const assigned = rest.find((e) => e.type === 'ticket.assigned' && e.ticket_id === id)!;
      expect(assigned.data).toMatchObject({ assignee: 'bob' });
      expect(JSON.stringify([...page1.items, ...rest])).not.toContain('My order did not arrive');
      expect((await rt.api.get('/api/v1/events?since=bm9wZQ', ann)).status).toBe(400);
    });

    it('streams new events as Server-Sent Events (401 without a token)', async () => {
      expect((await fetch(`${rt.url}/api/v1/events/stream`)).status).toBe(401);
      const ctrl = new AbortController();
      const res = await fetch(`${rt.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${ann}` }, signal: ctrl.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      const id = await openTicket(rt, ann, 8_300_002);
      let text = '';
      const deadline = Date.now() + 10_000;
      while (!text.includes(`"ticket_id":"${id}"`) || !text.includes('event: ticket.opened')) {
        if (Date.now() > deadline) throw new Error(`no event in stream: ${text.slice(0, 500)}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      ctrl.abort();
      const block = text.split('\n\n').find((b) => b.includes('event: ticket.opened') && b.includes(id))!;
      const eventId = /^id: (.+)$/m.exec(block)![1]!;
      // the event id is a cursor: resuming from it lists what came after
      const after = (await rt.api.get(`/api/v1/events?since=${eventId}`, ann)).body.items.map((e: { type: string; ticket_id: string }) => `${e.type}:${e.ticket_id}`);
      expect(after).not.toContain(`ticket.opened:${id}`);
      expect(after).toContain(`message.received:${id}`);
    });
  });

  describe('canned answers', () => {
    it('saves templates (supervisor), refuses unknown variables with 400, and lists and searches them', async () => {
      const body = { name: 'Order status', bodies: { en: 'Hi {{customer.first_name}}, your ticket {{ticket.number}} is with {{agent.name}}.', pl: 'Cześć {{customer.first_name}}, zgłoszenie {{ticket.number}}.' } };
      expect((await put(rt, '/api/v1/templates/order-status', body, ann)).status).toBe(403);
      const saved = await put(rt, '/api/v1/templates/order-status', body, lead);
      expect(saved.status).toBe(200);
      expect(saved.body).toMatchObject({ id: 'order-status', version: 1, variables: ['customer.first_name', 'ticket.number', 'agent.name'] });
      const unknown = await put(rt, '/api/v1/templates/bad', { name: 'Bad', bodies: { en: 'Dear {{customer.surname}}' } }, lead);
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toMatch(/bodies\.en: unknown template variable \{\{customer\.surname\}\}/);
      expect((await put(rt, '/api/v1/templates/order-status', { ...body, version: 7 }, lead)).status).toBe(409);
      const list = (await rt.api.get('/api/v1/templates?q=zgłoszenie', ann)).body.items.map((t: { id: string }) => t.id);
      expect(list).toEqual(['order-status']);
      expect((await rt.api.get('/api/v1/templates?q=nothing-like-this', ann)).body.items).toEqual([]);
    });

    it('replies with a template rendered in the customer\'s language, and refuses an unknown template', async () => {
      await put(rt, '/api/v1/templates/greet', { name: 'Greeting', bodies: { en: 'Hello {{customer.first_name}}, re {{ticket.number}}. {{agent.name}}', pl: 'Dzień dobry {{customer.first_name}}, {{ticket.number}}. {{agent.name}}' } }, lead);
      const id = await openTicket(rt, ann, 8_400_001, 'Gdzie jest paczka?', { first: 'Zofia', last: 'Nowak' }, 'pl');
      const number = (await rt.api.get(`/api/v1/tickets/${id}`, ann)).body.number;
      const r = await rt.api.post(`/api/v1/tickets/${id}/replies`, { template: 'greet' }, ann);
      expect(r.status).toBe(202);
      const en = await rt.api.post(`/api/v1/tickets/${id}/replies`, { template_id: 'greet', language: 'en' }, ann);
      expect(en.status).toBe(202);
      await rt.api.post('/dev/settle', {});
      const sent = (await rt.api.get('/dev/outbox')).body.items.filter((o: { kind: string; ticket_id: string }) => o.kind === 'reply' && o.ticket_id === id).map((o: { request: { body: string } }) => JSON.parse(o.request.body).text);
      expect(sent).toEqual([`Dzień dobry Zofia, ${number}. ann`, `Hello Zofia, re ${number}. ann`]);
      const missing = await rt.api.post(`/api/v1/tickets/${id}/replies`, { template: 'no-such' }, ann);
      expect(missing.status).toBe(400);
      expect((await rt.api.post(`/api/v1/tickets/${id}/replies`, { text: 'x', template: 'greet' }, ann)).status).toBe(400);
    });
  });

  describe('classification rules', () => {
    it('sets category, priority and team of new tickets from keyword and regex rules per language', async () => {
      expect((await put(rt, '/api/v1/rules', { items: [{ id: 'r', keywords: ['x'], set: { team: 't' } }] }, ann)).status).toBe(403);
      const bad = await put(rt, '/api/v1/rules', { items: [{ id: 'r', pattern: '(oops', set: { team: 't' } }] }, lead);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/regular expression/);
      const saved = await put(rt, '/api/v1/rules', { items: [
        { id: 'refund-en', language: 'en', keywords: ['refund'], set: { category: 'refund', team: 'billing' } },
        { id: 'urgent', pattern: 'asap|urgent', set: { priority: 'urgent' } },
      ] }, lead);
      expect(saved.status).toBe(200);
      expect((await rt.api.get('/api/v1/rules', ann)).body).toMatchObject({ version: 1, items: [{ id: 'refund-en' }, { id: 'urgent' }] });

      const hit = await openTicket(rt, ann, 8_500_001, 'I need a REFUND asap');
      await rt.api.post('/dev/settle', {});
      const t = (await rt.api.get(`/api/v1/tickets/${hit}`, ann)).body;
      expect(t).toMatchObject({ category: 'refund', team: 'billing', priority: 'urgent' });
      const ev = (await timelineEvents(rt, hit, ann)).filter((e) => e.type === 'event' && e.data?.actor === 'rules').map((e) => e.event);
      expect(ev).toEqual(expect.arrayContaining(['ticket.priority_changed', 'ticket.assigned', 'ticket.updated']));

      const miss = await openTicket(rt, ann, 8_500_002, 'Jak dostać refund?', { first: 'Jan' }, 'pl');
      expect((await rt.api.get(`/api/v1/tickets/${miss}`, ann)).body).toMatchObject({ category: null, team: null, priority: 'normal' });
      await put(rt, '/api/v1/rules', { items: [], version: 1 }, lead);
    });
  });
});
