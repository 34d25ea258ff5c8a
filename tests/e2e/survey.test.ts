/**
 * Close the loop through the running local service (DESIGN.md §2, issue 8): a ticket is resolved
 * → the survey execution of the synthesised state machine waits 1 h on the virtual clock → the
 * question goes out on the customer's channel (Telegram: an inline keyboard; SMS: a text asking
 * for a number) → the customer's answer is recorded on the ticket (no new ticket, no reopen) → a
 * low score reopens the ticket with raised priority and e-mails the team lead → no answer means
 * exactly one reminder after 24 h. Finally the KPI endpoint's CSAT figures equal the hand-computed
 * values of the answers given here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { telegramText } from '../helpers/pipeline.js';
import { testRuntime, type ApiClient, devControls, type DevOutboxItem } from '../helpers/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };
type Rt = Runtime & { api: ApiClient };
type OutboxItem = DevOutboxItem;

let updateSeq = 8_100_000;

/** The agent resolves (or reopens) through the Agent API: `PATCH /tickets/{id}` emits `ticket.status_changed` `{from, to}`. */
const patch = async (rt: Rt, id: string, body: unknown, token: string) => {
  const res = await fetch(`${rt.url}/api/v1/tickets/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
};

describe('close the loop: surveys on the customer\'s channel (local runtime)', () => {
  let rt: Rt;
  let agent: string;
  let supervisor: string;
  const startedAt = Date.now();

  beforeAll(async () => {
    rt = await testRuntime({ ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'support@example.com' }, { visibilityTimeoutMs: 5000 });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  const settle = () => devControls(rt.api, (s) => expect(s).toBe(200)).settle();
  const advance = (seconds: number) => devControls(rt.api, (s) => expect(s).toBe(200)).advance(seconds);
  const outbox = (ticketId: string, kind?: string) => devControls(rt.api, (s) => expect(s).toBe(200)).outbox(ticketId, kind);
  const ticket = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
  const timeline = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}/timeline`, agent)).body.items as Array<Record<string, any>>;

  const telegram = async (fromId: number, text: string) => {
    updateSeq += 1;
    const res = await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: updateSeq, fromId, text }) });
    expect(res.status).toBe(200);
    await settle();
  };
  const press = async (fromId: number, data: string, messageId = 950) => {
    updateSeq += 1;
    const body = JSON.stringify({
      update_id: updateSeq,
      callback_query: {
        id: `cb-${updateSeq}`, from: { id: fromId, is_bot: false, first_name: 'Test', language_code: 'en' }, chat_instance: '-1', data,
        message: { message_id: messageId, date: 1790000500, text: 'How satisfied are you?', chat: { id: fromId, type: 'private', first_name: 'Test' },
          from: { id: 7000000001, is_bot: true, first_name: 'Support' },
          reply_markup: { inline_keyboard: [[1, 2, 3, 4, 5].map((n) => ({ text: `${n} ★`, callback_data: `csat:${n}` }))] } },
      },
    });
    expect((await rt.api.webhook('telegram', { headers: TG, body })).status).toBe(200);
    await settle();
  };
  const customerTickets = async (identity: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, agent)).body.items[0].tickets as Array<{ id: string; status: string }>;

  /** A customer writes, an agent answers, the ticket is resolved. */
  const resolvedTelegramTicket = async (fromId: number): Promise<string> => {
    await telegram(fromId, 'My parcel is stuck in customs');
    const id = (await customerTickets(`telegram:${fromId}`))[0]!.id;
    expect((await rt.api.post(`/api/v1/tickets/${id}/replies`, { text: 'Released it, arrives tomorrow.' }, agent)).status).toBe(202);
    await settle();
    await resolve(id);
    return id;
  };
  const resolve = async (id: string) => {
    expect((await patch(rt, id, { status: 'resolved' }, agent)).status).toBe(200);
    await settle();
  };

  it('asks 1 h after resolution with an inline keyboard; the pressed score is recorded on the ticket (no new ticket, no reopen)', async () => {
    const id = await resolvedTelegramTicket(8_000_001);
    expect(await outbox(id, 'survey')).toEqual([]);
    await advance(30 * 60);
    expect(await outbox(id, 'survey')).toEqual([]); // not before the hour

    await advance(31 * 60);
    const [question, ...more] = await outbox(id, 'survey');
    expect(more).toEqual([]);
    expect(question).toMatchObject({ channel: 'telegram', request: { method: 'POST', url: expect.stringMatching(/\/sendMessage$/) } });
    const body = JSON.parse(question!.request.body!);
    expect(body.chat_id).toBe(8_000_001);
    expect(body.text).toContain((await ticket(id)).number);
    expect(body.reply_markup.inline_keyboard.flat().map((b: { callback_data: string }) => b.callback_data)).toEqual(['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
    expect((await ticket(id)).survey).toMatchObject({ round: 1, state: 'sent', scale: 'csat', score: null });

    await press(8_000_001, 'csat:5');
    const after = await ticket(id);
    expect(after).toMatchObject({ status: 'resolved', priority: 'normal', survey: { state: 'answered', scale: 'csat', score: 5, low: false } });
    expect(Date.parse(after.survey.answered_at) - Date.parse(after.survey.sent_at)).toBeGreaterThan(0); // ISO times
    expect(after.survey).not.toHaveProperty('followup'); // workflow bookkeeping stays inside
    expect(await customerTickets('telegram:8000001')).toHaveLength(1);
    const events = (await timeline(id)).filter((e) => e.type === 'event').map((e) => e.event);
    expect(events).toContain('survey.answered');
    expect(events).not.toContain('ticket.reopened');
    // thanked once, never alerted
    const thanks = (await outbox(id, 'survey')).slice(1);
    expect(thanks).toHaveLength(1);
    expect(JSON.parse(thanks[0]!.request.body!).text).toMatch(/^Thank you for rating request C-\d+/);
    expect(await outbox(id, 'escalation')).toEqual([]);

    // a comment right after the score is attached to the survey, the ticket stays resolved
    await telegram(8_000_001, 'Quick and friendly, thanks!');
    expect(await ticket(id)).toMatchObject({ status: 'resolved', survey: { score: 5, comment: 'Quick and friendly, thanks!' } });
    expect(await customerTickets('telegram:8000001')).toHaveLength(1);

    // no reminder for an answered survey
    await advance(25 * 3600);
    expect(await outbox(id, 'reminder')).toEqual([]);
  });

  it('reopens on a score of 1 with raised priority, a timeline event and an escalation e-mail to the team lead', async () => {
    const id = await resolvedTelegramTicket(8_000_002);
    await advance(3601);
    expect(await outbox(id, 'survey')).toHaveLength(1);

    await press(8_000_002, 'csat:1');
    const t = await ticket(id);
    expect(t).toMatchObject({ status: 'open', priority: 'high', survey: { state: 'answered', score: 1, low: true, reopened: true } });
    // Reopened means no longer resolved: a stale resolved_at would count it resolved in KPIs.
    expect(t.resolved_at).toBeNull();
    expect(await customerTickets('telegram:8000002')).toHaveLength(1);
    const events = (await timeline(id)).filter((e) => e.type === 'event');
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['survey.answered', 'ticket.reopened', 'survey.alerted']));
    expect(events.find((e) => e.event === 'ticket.reopened')!.data).toMatchObject({ reason: 'survey_low_score' });

    const alerts = await outbox(id, 'escalation');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ channel: 'email', request: { url: 'ses:SendRawEmail' } });
    expect(alerts[0]!.request.body).toContain('To: lead@example.com');
    expect(alerts[0]!.request.body).toContain(`Subject: [${t.number}] Low CSAT score: 1 of 5`);
    expect(alerts[0]!.request.body).toContain('Priority raised: normal -> high');
    const thanks = (await outbox(id, 'survey')).slice(1);
    expect(JSON.parse(thanks[0]!.request.body!).text).toContain('we have reopened your request');

    // the next message joins the reopened ticket like any other
    const inboundTexts = async () => (await timeline(id)).filter((e) => e.type === 'message' && e.direction === 'in').map((e) => e.text);
    expect(await inboundTexts()).not.toContain('The parcel is still not here');
    await telegram(8_000_002, 'The parcel is still not here');
    expect(await customerTickets('telegram:8000002')).toHaveLength(1);
    expect(await inboundTexts()).toContain('The parcel is still not here');
  });

  it('reminds exactly once after 24 h when nobody answers, then gives up', async () => {
    const id = await resolvedTelegramTicket(8_000_003);
    await advance(3601);
    expect(await outbox(id, 'survey')).toHaveLength(1);
    await advance(23 * 3600);
    expect(await outbox(id, 'reminder')).toEqual([]);
    await advance(3600 + 60);
    const reminders = await outbox(id, 'reminder');
    expect(reminders).toHaveLength(1);
    expect(JSON.parse(reminders[0]!.request.body!).reply_markup.inline_keyboard.flat()).toHaveLength(5);
    await advance(24 * 3600);
    await advance(24 * 3600);
    expect(await outbox(id, 'reminder')).toHaveLength(1);
    expect((await ticket(id)).survey).toMatchObject({ state: 'expired', score: null });
    // wait → ask → wait → remind → wait → expire: 10 state transitions, one execution
    const executions = rt.workflows.list('survey').filter((e) => e.name.startsWith(id));
    expect(executions.map((e) => [e.name, e.status, e.transitions])).toEqual([[`${id}-survey-1`, 'SUCCEEDED', 10]]);
    // a late button press changes nothing
    await press(8_000_003, 'csat:2');
    expect(await ticket(id)).toMatchObject({ status: 'resolved', survey: { state: 'expired', score: null } });
    expect(await customerTickets('telegram:8000003')).toHaveLength(1);
  });

  it('cancels the pending survey when the customer writes again before it is answered (the ticket reopens)', async () => {
    const id = await resolvedTelegramTicket(8_000_004);
    await advance(3601);
    await telegram(8_000_004, 'Actually, the box was damaged');
    expect(await ticket(id)).toMatchObject({ status: 'open', survey: { state: 'cancelled', cancelled_reason: 'reopened' } });
    await advance(25 * 3600);
    expect(await outbox(id, 'reminder')).toEqual([]);
  });

  it('surveys once per resolution: an agent\'s reopen cancels the pending round, the next resolution asks again (round 2)', async () => {
    const id = await resolvedTelegramTicket(8_000_005);
    await settle(); // a redelivered or repeated event schedules nothing twice
    expect(rt.workflows.list('survey').filter((e) => e.name.startsWith(id))).toHaveLength(1);
    expect((await patch(rt, id, { status: 'open' }, agent)).status).toBe(200);
    await advance(3601);
    expect(await outbox(id, 'survey')).toEqual([]);
    expect((await ticket(id)).survey).toMatchObject({ round: 1, state: 'cancelled', cancelled_reason: 'reopened' });

    await resolve(id);
    await advance(3601);
    expect(await outbox(id, 'survey')).toHaveLength(1);
    expect((await ticket(id)).survey).toMatchObject({ round: 2, state: 'sent' });
    expect(rt.workflows.list('survey').filter((e) => e.name.startsWith(id)).map((e) => e.name).sort()).toEqual([`${id}-survey-1`, `${id}-survey-2`]);
  });

  it('asks an SMS customer in text form and records a typed number', async () => {
    const phone = '+12065550199';
    const sms = async (sid: string, text: string) => {
      const body = new URLSearchParams([['SmsSid', sid], ['SmsStatus', 'received'], ['Body', text], ['To', '+14155550100'], ['NumMedia', '0'], ['MessageSid', sid],
        ['AccountSid', 'AC0123456789abcdef0123456789abcdef'], ['From', phone], ['ApiVersion', '2010-04-01']]).toString();
      const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
      expect((await rt.api.webhook('twilio', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body })).status).toBe(200);
      await settle();
    };
    await sms('SM00000000000000000000000000000a01', 'Wrong size delivered');
    const id = (await customerTickets(`twilio:${phone}`))[0]!.id;
    await resolve(id);
    await advance(3601);
    const [question] = await outbox(id, 'survey');
    expect(question).toMatchObject({ channel: 'twilio', request: { url: expect.stringMatching(/Messages\.json$/) } });
    const form = new URLSearchParams(question!.request.body!);
    expect(form.get('Body')).toContain('Reply with a number from 1 to 5.');
    expect(form.get('Body')).toContain((await ticket(id)).number);
    expect(form.get('Body')).not.toMatch(/\n1\. /); // no button list: the text asks for a number

    await sms('SM00000000000000000000000000000a02', '4');
    expect(await ticket(id)).toMatchObject({ status: 'resolved', survey: { state: 'answered', score: 4, low: false } });
    expect(await customerTickets(`twilio:${phone}`)).toHaveLength(1);
  });

  it('gives KPI CSAT figures equal to the hand-computed values of the answers above', async () => {
    // Answers: 5 (Telegram), 1 (Telegram), 4 (SMS); the expired and cancelled surveys have no score.
    const from = new Date(startedAt - 86_400_000).toISOString();
    const to = new Date(rt.clock.now() + 86_400_000).toISOString();
    const res = await rt.api.get(`/api/v1/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, supervisor);
    expect(res.status).toBe(200);
    expect(res.body.overall).toMatchObject({ csat_responses: 3, nps_responses: 0, nps_score: null });
    expect(res.body.overall.csat_avg).toBeCloseTo((5 + 1 + 4) / 3, 9);
    expect(res.body.overall.csat_satisfied_rate).toBeCloseTo(2 / 3, 9);
    const byChannel = await rt.api.get(`/api/v1/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&groupBy=channel`, supervisor);
    const groups = Object.fromEntries((byChannel.body.groups as Array<{ key: string; csat_avg: number | null; csat_responses: number }>).map((g) => [g.key, g]));
    expect(groups.telegram).toMatchObject({ csat_responses: 2, csat_avg: 3 });
    expect(groups.twilio).toMatchObject({ csat_responses: 1, csat_avg: 4 });
  });
});

describe('close the loop with NPS (local runtime)', () => {
  let rt: Rt;
  let agent: string;
  let supervisor: string;
  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_SURVEY: 'nps', ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'support@example.com' }, { visibilityTimeoutMs: 5000 });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
  });
  afterAll(async () => { await rt?.stop(); });

  it('asks 0–10 in two keyboard rows, takes typed answers, and the NPS equals the hand-computed value', async () => {
    const scores = [10, 9, 7, 3];
    for (const i of scores.keys()) {
      const fromId = 8_100_001 + i;
      updateSeq += 1;
      await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: updateSeq, fromId, text: 'Question about my invoice' }) });
      await rt.api.post('/dev/settle', {});
      const id = (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, agent)).body.items[0].tickets[0].id as string;
      expect((await patch(rt, id, { status: 'resolved' }, agent)).status).toBe(200);
      await rt.api.post('/dev/settle', {});
    }
    await rt.api.post('/dev/clock', { advanceSeconds: 3601 });
    await rt.api.post('/dev/settle', {});
    const surveys = ((await rt.api.get('/dev/outbox')).body.items as OutboxItem[]).filter((i) => i.kind === 'survey');
    expect(surveys).toHaveLength(scores.length);
    const keyboard = JSON.parse(surveys[0]!.request.body!).reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>;
    expect(keyboard.length).toBe(2);
    expect(keyboard.flat().map((b) => b.callback_data)).toEqual(Array.from({ length: 11 }, (_, n) => `nps:${n}`));

    for (const [i, score] of scores.entries()) {
      updateSeq += 1;
      await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: updateSeq, fromId: 8_100_001 + i, text: String(score) }) });
      await rt.api.post('/dev/settle', {});
    }
    const tickets = await Promise.all(scores.map(async (_, i) => (await rt.api.get(`/api/v1/customers?identity=telegram:${8_100_001 + i}`, agent)).body.items[0].tickets));
    expect(tickets.map((t) => t.length)).toEqual([1, 1, 1, 1]);
    // 3 ≤ 6: reopened; 7 is passive, not low
    expect(tickets.map((t) => t[0].status)).toEqual(['resolved', 'resolved', 'resolved', 'open']);

    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(rt.clock.now() + 86_400_000).toISOString();
    const kpis = (await rt.api.get(`/api/v1/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, supervisor)).body.overall;
    // promoters 2 (10, 9), detractors 1 (3), passives 1 (7): NPS = 100 × (2 − 1) / 4 = 25
    expect(kpis).toMatchObject({ nps_responses: 4, nps_promoters: 2, nps_detractors: 1, csat_responses: 0 });
    expect(kpis.nps_score).toBeCloseTo(25, 9);
  });
});
