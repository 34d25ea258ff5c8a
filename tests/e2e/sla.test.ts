/**
 * SLA through the running local service (DESIGN.md §4): Telegram webhook → ticket → the SLA
 * execution of the synthesised state machine waits on the virtual clock → POST /dev/clock +
 * POST /dev/settle → escalation e-mail in /dev/outbox, breach and raised priority on the ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { telegramText } from '../helpers/pipeline.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };
type Rt = Runtime & { api: ApiClient };

async function openTicket(rt: Rt, token: string, fromId: number): Promise<string> {
  const res = await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: fromId, fromId, text: 'My order did not arrive' }) });
  expect(res.status).toBe(200);
  await rt.api.post('/dev/settle', {});
  const card = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
  return card.tickets[0].id as string;
}

const escalations = async (rt: Rt, ticketId: string) =>
  ((await rt.api.get('/dev/outbox')).body.items as Array<{ kind: string; ticket_id: string; channel: string; request: { method: string; url: string; headers: unknown; body: string }; at: string }>)
    .filter((i) => i.kind === 'escalation' && i.ticket_id === ticketId);

const advance = async (rt: Rt, seconds: number) => {
  expect((await rt.api.post('/dev/clock', { advanceSeconds: seconds })).status).toBe(200);
  const settled = await rt.api.post('/dev/settle', {});
  expect(settled.status).toBe(200);
  return settled.body as { processed: number; dlq: number; workflows: number };
};

describe('SLA on the default 24x7 policy (local runtime)', () => {
  let rt: Rt;
  let agent: string;

  beforeAll(async () => {
    rt = await testRuntime({ ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'support@example.com' });
    agent = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('escalates an unanswered ticket past its 1 h first-response target: e-mail, breach, raised priority', async () => {
    const id = await openTicket(rt, agent, 7_100_001);
    const opened = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(opened).toMatchObject({ priority: 'normal', sla: { policy: 'default-normal', breached: [], escalation_level: 0 } });
    expect(Date.parse(opened.sla.first_response_due) - Date.parse(opened.created_at)).toBe(3_600_000);
    expect(await escalations(rt, id)).toEqual([]);

    const settled = await advance(rt, 3700);
    expect(settled.workflows).toBeGreaterThan(0);

    const mails = await escalations(rt, id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ channel: 'email', kind: 'escalation', ticket_id: id, request: { method: 'POST', url: 'ses:SendRawEmail', headers: {} } });
    expect(mails[0]!.request.body).toContain('To: lead@example.com');
    expect(mails[0]!.request.body).toContain(`[${opened.number}] SLA breached: first response`);

    const ticket = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(ticket).toMatchObject({ priority: 'high', sla: { breached: ['first_response'], escalation_level: 2 } });
    const events = (await rt.api.get(`/api/v1/tickets/${id}/timeline`, agent)).body.items.filter((e: { type: string }) => e.type === 'event').map((e: { event: string }) => e.event);
    expect(events).toEqual(expect.arrayContaining(['sla.escalated', 'sla.breached']));

    // settle returned with nothing due: another settle runs no workflow step
    expect((await rt.api.post('/dev/settle', {})).body.workflows).toBe(0);
  });

  it('does not escalate when an agent replies before the deadline', async () => {
    const id = await openTicket(rt, agent, 7_100_002);
    await advance(rt, 600);
    expect((await rt.api.post(`/api/v1/tickets/${id}/replies`, { text: 'Looking into it now.' }, agent)).status).toBe(202);
    await rt.api.post('/dev/settle', {});
    await advance(rt, 3700);
    expect(await escalations(rt, id)).toEqual([]);
    const ticket = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(ticket).toMatchObject({ priority: 'normal', sla: { breached: [], escalation_level: 0 } });
    expect(ticket.first_response_at).not.toBeNull();
  });
});

describe('SLA in business hours (local runtime)', () => {
  let rt: Rt;
  let agent: string;
  let supervisor: string;
  const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];

  beforeAll(async () => {
    rt = await testRuntime({ ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'support@example.com' });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  it('lets only supervisors replace calendars and policies, with clear 400s', async () => {
    const calendars = { items: [{ id: 'office', time_zone: 'Europe/Warsaw', week: Object.fromEntries(WEEKDAYS.map((d) => [d, ['09:00-18:00']])) }] };
    expect((await put(rt, '/api/v1/sla/calendars', calendars, agent)).status).toBe(403);
    const bad = await put(rt, '/api/v1/sla/calendars', { items: [{ id: 'office', time_zone: 'Europe/Warsaw', week: { mon: ['9-5'] } }] }, supervisor);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("sla business hours must be HH:MM-HH:MM, got '9-5'");
    const unknownCalendar = await put(rt, '/api/v1/sla/policies', { items: [{ id: 'office', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }] }, supervisor);
    expect(unknownCalendar.status).toBe(400);
    expect(unknownCalendar.body.error.message).toContain("names calendar 'office', which is not defined");

    expect((await rt.api.get('/api/v1/sla/calendars', agent)).body).toMatchObject({ items: [], source: 'defaults', version: 0 });
    const saved = await put(rt, '/api/v1/sla/calendars', { ...calendars, version: 0 }, supervisor);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ source: 'stored', version: 1, items: [{ id: 'office', week: { mon: ['09:00-18:00'], sat: [] }, holidays: [] }] });
    expect((await put(rt, '/api/v1/sla/calendars', { ...calendars, version: 0 }, supervisor)).status).toBe(409);
    const policies = await put(rt, '/api/v1/sla/policies', { items: [{ id: 'office', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }] }, supervisor);
    expect(policies.status).toBe(200);
    expect((await rt.api.get('/api/v1/sla/policies', agent)).body).toMatchObject({ source: 'stored', version: 2, items: [{ id: 'office', escalations: [{ at_percent: 80 }, { at_percent: 100 }, { at_percent: 150 }] }] });
  });

  it('breaches a 1 h target for a ticket opened Friday 17:55 on Monday 09:55, not earlier', async () => {
    // Move the virtual clock to the next Friday 17:55 in Warsaw.
    const now = (await rt.api.get('/dev/clock')).body.epoch_ms as number;
    const friday = nextWarsawFriday1755(now);
    await advance(rt, Math.ceil((friday - now) / 1000));
    const id = await openTicket(rt, agent, 7_100_003);
    const ticket = (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
    expect(ticket.sla.policy).toBe('office');
    const due = Date.parse(ticket.sla.first_response_due);
    expect(warsaw(due)).toMatch(/^Mon 09:55/);

    // Saturday noon and Monday 09:54: not breached (the 80 % warning fires Monday 09:43)
    const clockNow = async () => (await rt.api.get('/dev/clock')).body.epoch_ms as number;
    await advance(rt, Math.ceil((friday + 18 * 3_600_000 - (await clockNow())) / 1000));
    expect((await rt.api.get(`/api/v1/tickets/${id}`, agent)).body.sla).toMatchObject({ breached: [], escalation_level: 0 });
    await advance(rt, Math.floor((due - 60_000 - (await clockNow())) / 1000));
    expect((await rt.api.get(`/api/v1/tickets/${id}`, agent)).body.sla).toMatchObject({ breached: [], escalation_level: 1 });
    expect(await escalations(rt, id)).toEqual([]);

    // Monday 09:55: breached, escalated by e-mail
    await advance(rt, 120);
    expect((await rt.api.get(`/api/v1/tickets/${id}`, agent)).body).toMatchObject({ priority: 'high', sla: { breached: ['first_response'], escalation_level: 2 } });
    expect(await escalations(rt, id)).toHaveLength(1);
  });
});

async function put(rt: Rt, path: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(rt.url + path, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Warsaw', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
function warsaw(ms: number): string {
  const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.hour}:${p.minute}`;
}

/** The next Friday 17:55 Warsaw time at least a minute after `from` (searched minute by minute from the next Friday). */
function nextWarsawFriday1755(from: number): number {
  let t = Math.ceil((from + 60_000) / 60_000) * 60_000;
  for (let i = 0; i < 8 * 24 * 60; i++, t += 60_000) if (warsaw(t) === 'Fri 17:55') return t;
  throw new Error('no Friday 17:55 within 8 days');
}
