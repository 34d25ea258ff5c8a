/**
 * Customer tiers and contracts through the running local service on the virtual clock (issue 15):
 * an organisation recognised by a VERIFIED e-mail domain makes its customers VIP on contract
 * `acme-gold`, whose SLA policy has its own business calendar and a 15-minute first response —
 * the VIP ticket breaches at that time, a standard customer's ticket opened with it does not, and
 * a mail from the same domain that fails DMARC grants nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { telegramText } from '../helpers/pipeline.js';
import { SNS_HEADERS, sesNotification } from '../helpers/email-notification.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };
const MIN = 60_000;
type Rt = Runtime & { api: ApiClient };

const WEEK = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['08:00-20:00']]));
const CALENDARS = { items: [{ id: 'acme-hours', time_zone: 'Europe/Warsaw', week: WEEK }] };
const POLICIES = {
  items: [
    { id: 'acme-gold', match: { contract: ['acme-gold'] }, calendar: 'acme-hours', targets: { first_response_minutes: 15, next_response_minutes: 60, resolution_minutes: 480 } },
    { id: 'vip', match: { tier: ['vip'] }, targets: { first_response_minutes: 30, next_response_minutes: 120, resolution_minutes: 960 } },
    { id: 'standard', targets: { first_response_minutes: 240, next_response_minutes: 480, resolution_minutes: 2880 } },
  ],
};

describe('customer tiers and contracts (local runtime, virtual clock)', () => {
  let rt: Rt;
  let agent: string;
  let supervisor: string;

  const put = async (path: string, body: unknown, token = supervisor) => {
    const res = await fetch(rt.url + path, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const now = async () => (await rt.api.get('/dev/clock')).body.epoch_ms as number;
  const advanceTo = async (t: number) => {
    const s = Math.ceil((t - await now()) / 1000);
    if (s > 0) expect((await rt.api.post('/dev/clock', { advanceSeconds: s })).status).toBe(200);
    expect((await rt.api.post('/dev/settle', {})).status).toBe(200);
  };
  const ticket = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
  const cardBy = async (identity: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, agent)).body.items[0];
  const mail = async (from: string, dmarc = 'PASS') => {
    const res = await rt.api.webhook('email', { headers: SNS_HEADERS, body: sesNotification({ from, subject: 'Invoice question', text: 'Where is my invoice?', now: await now(), dmarc }) });
    expect(res.status).toBe(200);
    await rt.api.post('/dev/settle', {});
    return cardBy(`email:${from}`);
  };
  const telegram = async (fromId: number) => {
    expect((await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: fromId, fromId, text: 'My order did not arrive' }) })).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    return cardBy(`telegram:${fromId}`);
  };
  const escalations = async (ticketId: string) =>
    ((await rt.api.get('/dev/outbox')).body.items as Array<{ kind: string; ticket_id: string }>).filter((i) => i.kind === 'escalation' && i.ticket_id === ticketId);

  beforeAll(async () => {
    rt = await testRuntime({ ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'Acme Support <support@acme.example>' });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
    expect((await put('/api/v1/sla/calendars', CALENDARS)).status).toBe(200);
    expect((await put('/api/v1/sla/policies', POLICIES)).status).toBe(200);
  });
  afterAll(async () => { await rt?.stop(); });

  it('lets only supervisors save organisations and tiers; a domain belongs to one organisation', async () => {
    const org = { name: 'Big Client Ltd', domains: ['BigClient.example'], tier: 'vip', contract: 'acme-gold' };
    expect((await put('/api/v1/organisations/bigclient', org, agent)).status).toBe(403);
    expect((await put('/api/v1/organisations/bigclient', { ...org, tier: 'VIP' })).status).toBe(400);
    const saved = await put('/api/v1/organisations/bigclient', { ...org, version: 0 });
    expect(saved).toMatchObject({ status: 201, body: { id: 'bigclient', domains: ['bigclient.example'], tier: 'vip', contract: 'acme-gold', version: 1 } });
    const other = await put('/api/v1/organisations/rival', { name: 'Rival', domains: ['bigclient.example'] });
    expect(other.status).toBe(409);
    expect(other.body.error.message).toContain('bigclient.example');
    expect((await put('/api/v1/organisations/bigclient', { ...org, version: 0 })).status).toBe(409);
    expect((await rt.api.get('/api/v1/organisations/bigclient', agent)).body).toMatchObject({ name: 'Big Client Ltd', version: 1 });
  });

  it("gives a VIP organisation's customer the contract's 15-minute first response in the contract's calendar, breached at that time; a standard ticket is not", async () => {
    // A weekday 10:00 in Warsaw: inside the contract's hours.
    await advanceTo(nextWarsaw(await now(), (d, hm) => ['Mon', 'Tue', 'Wed', 'Thu'].includes(d) && hm === '10:00'));
    const vipCard = await mail('olga@bigclient.example');
    expect(vipCard).toMatchObject({ tier: 'vip', contract: 'acme-gold', tier_source: 'organisation', organisation_id: 'bigclient' });
    const vipId = vipCard.tickets[0].id as string;
    const stdId = (await telegram(7_300_001)).tickets[0].id as string;

    const vip = await ticket(vipId);
    expect(vip).toMatchObject({ tier: 'vip', contract: 'acme-gold', sla: { policy: 'acme-gold', breached: [] } });
    expect(Date.parse(vip.sla.first_response_due) - Date.parse(vip.created_at)).toBe(15 * MIN);
    const std = await ticket(stdId);
    expect(std).toMatchObject({ tier: null, contract: null, sla: { policy: 'standard', breached: [] } });
    expect(Date.parse(std.sla.first_response_due) - Date.parse(std.created_at)).toBe(240 * MIN);

    // VIP first in the default inbox, although the standard ticket is newer.
    const inbox = (await rt.api.get('/api/v1/tickets?limit=10', agent)).body.items.map((t: { id: string }) => t.id);
    expect(inbox.indexOf(vipId)).toBeLessThan(inbox.indexOf(stdId));

    await advanceTo(Date.parse(vip.sla.first_response_due) - MIN);
    expect((await ticket(vipId)).sla.breached).toEqual([]);
    await advanceTo(Date.parse(vip.sla.first_response_due) + MIN);
    expect((await ticket(vipId)).sla).toMatchObject({ breached: ['first_response'], escalation_level: 2 });
    expect(await escalations(vipId)).toHaveLength(1);
    expect((await ticket(stdId)).sla).toMatchObject({ breached: [], escalation_level: 0 });
    expect(await escalations(stdId)).toEqual([]);
  });

  it("measures the contract's target in its calendar: opened 19:55 Warsaw, due 08:10 the next working day", async () => {
    await advanceTo(nextWarsaw(await now(), (d, hm) => ['Mon', 'Tue', 'Wed', 'Thu'].includes(d) && hm === '19:55'));
    const id = (await mail('piotr@bigclient.example')).tickets[0].id as string;
    const due = Date.parse((await ticket(id)).sla.first_response_due);
    expect(warsaw(due)).toMatch(/ 08:10$/);
    await advanceTo(Date.parse((await ticket(id)).created_at) + 30 * MIN); // a 24x7 clock would have breached
    expect((await ticket(id)).sla.breached).toEqual([]);
    await advanceTo(due + MIN);
    expect((await ticket(id)).sla.breached).toEqual(['first_response']);
  });

  it('grants nothing to a mail from the domain that fails DMARC (anyone can write that From:)', async () => {
    const card = await mail('mallory@bigclient.example', 'FAIL');
    expect(card).toMatchObject({ tier: null, contract: null, organisation_id: null });
    expect(await ticket(card.tickets[0].id)).toMatchObject({ tier: null, sla: { policy: 'standard' } });
  });

  it("sets a customer's own tier (supervisor): its open ticket follows and the SLA re-matches", async () => {
    const card = await telegram(7_300_002);
    const id = card.tickets[0].id as string;
    expect((await put(`/api/v1/customers/${card.id}/tier`, { tier: 'vip' }, agent)).status).toBe(403);
    const set = await put(`/api/v1/customers/${card.id}/tier`, { tier: 'vip' });
    expect(set).toMatchObject({ status: 200, body: { tier: 'vip', contract: null, organisation_id: null, effective: { tier: 'vip', tier_source: 'customer' }, tickets_updated: 1 } });
    await rt.api.post('/dev/settle', {});
    const t = await ticket(id);
    expect(t).toMatchObject({ tier: 'vip', contract: null, sla: { policy: 'vip' } });
    expect(Date.parse(t.sla.first_response_due) - Date.parse(t.created_at)).toBe(30 * MIN);
    const events = (await rt.api.get(`/api/v1/tickets/${id}/timeline`, agent)).body.items.filter((e: { type: string }) => e.type === 'event').map((e: { event: string }) => e.event);
    expect(events).toContain('ticket.tier_changed');
    expect(await cardBy('telegram:7300002')).toMatchObject({ tier: 'vip', tier_source: 'customer' });
  });
});

const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Warsaw', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
function warsaw(ms: number): string {
  const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.hour}:${p.minute}`;
}
/** The next minute (after `from`) whose Warsaw weekday and HH:MM satisfy `ok`. */
function nextWarsaw(from: number, ok: (day: string, hm: string) => boolean): number {
  let t = Math.ceil((from + MIN) / MIN) * MIN;
  for (let i = 0; i < 8 * 24 * 60; i++, t += MIN) {
    const [d, hm] = warsaw(t).split(' ') as [string, string];
    if (ok(d, hm)) return t;
  }
  throw new Error('no such minute within 8 days');
}
