/**
 * Close the loop, the rest of issue 8, through the running local service:
 * - e-mail surveys carry one signed link per score; a GET (what a mail scanner does) records
 *   nothing, the confirmation page's POST records the score on the ticket (no new ticket), the
 *   first answer stands, a comment attaches to the survey, a score of 1 reopens and alerts the
 *   team lead like a pressed button, forged links get 403 and expired ones 410;
 * - survey texts through `GET/PUT /api/v1/survey/templates` (roles, validation, used by the next
 *   survey);
 * - a survey due after the WhatsApp 24 h window closed is skipped (`window_closed`), no message,
 *   no reminder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { Runtime } from '../../local/runtime.js';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { DEFAULT_SURVEY_TEMPLATES } from '../../functions/domain/survey.js';
import { buildSnsBody, SNS_TEST_CERT_URL } from '../../scripts/sign-email.js';
import { testRuntime, type ApiClient, devControls } from '../helpers/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';

type Rt = Runtime & { api: ApiClient };

const TOPIC = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
const SNS_HEADERS = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };
let seq = 0;
/** The running runtime's clock: SNS notifications older than an hour are refused. */
let clockNow: () => number = () => Date.now();

/** A correctly signed SES → SNS notification of a plain-text mail, stamped now. */
function mail(from: string, subject: string, text: string): string {
  seq += 1;
  const raw = Buffer.from([
    `From: ${from}`, 'To: support@acme.example', `Subject: ${subject}`, 'Date: Mon, 12 Oct 2026 10:00:00 +0000',
    `Message-ID: <survey-links-${seq}@mail.example>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', text, '',
  ].join('\r\n'), 'utf8');
  return buildSnsBody({
    envelope: {
      Type: 'Notification', MessageId: `00000000-0000-4000-9000-${String(seq).padStart(12, '0')}`, TopicArn: TOPIC, Subject: 'Amazon SES Email Receipt Notification',
      Timestamp: new Date(clockNow()).toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:survey`,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: '2026-10-12T10:00:00.500Z', source: from, messageId: `svl${String(seq).padStart(4, '0')}${'y'.repeat(33)}`, destination: ['support@acme.example'], commonHeaders: { from: [from] } },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, action: { type: 'SNS', topicArn: TOPIC, encoding: 'UTF8' } },
    },
  }, raw);
}

/** A WhatsApp text message sent at `at` (ms; the window runs from it), signed the way Meta sends it. */
function whatsapp(waId: string, text: string, at: number): { headers: Record<string, string>; body: string } {
  seq += 1;
  const body = metaWireBody({ object: 'whatsapp_business_account', entry: [{ id: '110200300400500', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550100100', phone_number_id: '120300400500600' },
    contacts: [{ profile: { name: 'Test' }, wa_id: waId }],
    messages: [{ from: waId, id: `wamid.SURVEYWINDOW${String(seq).padStart(8, '0')}`, timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: text } }],
  } }] }] });
  return { headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body };
}

describe('survey e-mail score links, survey templates and messaging windows (local runtime)', () => {
  let rt: Rt;
  let agent: string;
  let admin: string;

  beforeAll(async () => {
    rt = await testRuntime({
      ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'support@example.com', WHATSAPP_ACCESS_TOKEN: 'test-wa-access-token',
    }, { visibilityTimeoutMs: 5000 });
    agent = await rt.api.token('ann', 'agent');
    admin = await rt.api.token('ada', 'admin');
    clockNow = () => rt.clock.now();
  });
  afterAll(async () => { await rt?.stop(); });

  const settle = () => devControls(rt.api, (s) => expect(s).toBe(200)).settle();
  const advance = (seconds: number) => devControls(rt.api, (s) => expect(s).toBe(200)).advance(seconds);
  const outbox = (ticketId: string, kind?: string) => devControls(rt.api, (s) => expect(s).toBe(200)).outbox(ticketId, kind);
  const ticket = async (id: string) => (await rt.api.get(`/api/v1/tickets/${id}`, agent)).body;
  const events = async (id: string) => ((await rt.api.get(`/api/v1/tickets/${id}/timeline`, agent)).body.items as Array<Record<string, any>>)
    .filter((e) => e.type === 'event');
  const customerTickets = async (identity: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, agent)).body.items[0].tickets as Array<{ id: string; status: string }>;
  const put = async (path: string, body: unknown, token: string) => {
    const res = await fetch(`${rt.url}/api/v1${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const resolve = async (id: string) => {
    const res = await fetch(`${rt.url}/api/v1/tickets/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'resolved' }) });
    expect(res.status).toBe(200);
    await settle();
  };
  /** A customer mails in, an agent answers, the ticket is resolved; returns the ticket id. */
  const resolvedEmailTicket = async (from: string): Promise<string> => {
    expect((await rt.api.webhook('email', { headers: SNS_HEADERS, body: mail(from, 'Order 4471', 'My order has not arrived.') })).status).toBe(200);
    await settle();
    const id = (await customerTickets(`email:${from}`))[0]!.id;
    expect((await rt.api.post(`/api/v1/tickets/${id}/replies`, { text: 'It is on its way.' }, agent)).status).toBe(202);
    await settle();
    await resolve(id);
    return id;
  };
  /** The score links of the ticket's survey e-mail, in score order. */
  const links = async (id: string, kind = 'survey'): Promise<{ text: string; urls: string[] }> => {
    const [question] = await outbox(id, kind);
    expect(question).toMatchObject({ channel: 'email', request: { url: 'ses:SendRawEmail' } });
    const text = (await simpleParser(question!.request.body!)).text ?? '';
    return { text, urls: [...text.matchAll(/https?:\/\/\S+\/survey\/[A-Za-z0-9._-]+/g)].map((m) => m[0]) };
  };
  const local = (url: string) => `${rt.url}${new URL(url).pathname}`;
  const form = (url: string, fields: Record<string, string>) => fetch(local(url), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
  });

  it('serves the survey texts to agents and lets only an admin replace them; an unknown variable is a 400', async () => {
    const got = await rt.api.get('/api/v1/survey/templates', agent);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ source: 'built-in', version: 0, variables: ['ticket.number', 'min', 'max'] });
    expect(Object.keys(got.body.templates).sort()).toEqual(['en', 'pl', 'ru']);
    expect(got.body.templates.en).toEqual(DEFAULT_SURVEY_TEMPLATES.en);

    const templates = structuredClone(got.body.templates);
    templates.en.question.csat = 'How did we do on {{ticket.number}}? Pick {{min}} to {{max}}.';
    expect((await put('/survey/templates', { templates }, agent)).status).toBe(403);
    expect((await put('/survey/templates', { templates }, await rt.api.token('sue', 'supervisor'))).status).toBe(403);

    const unknown = structuredClone(templates);
    unknown.ru.thanks = 'Спасибо, {{customer.name}}!';
    const bad = await put('/survey/templates', { templates: unknown }, admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('body.templates.ru.thanks: unknown variable {{customer.name}}');
    const { pl: _pl, ...withoutPolish } = templates;
    expect((await put('/survey/templates', { templates: withoutPolish }, admin)).status).toBe(400);

    const saved = await put('/survey/templates', { templates, version: 0 }, admin);
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ source: 'stored', version: 1, updated_by: 'ada' });
    expect((await put('/survey/templates', { templates, version: 0 }, admin)).status).toBe(409); // stale version
    expect((await rt.api.get('/api/v1/survey/templates', agent)).body).toMatchObject({ version: 1, templates: { en: { question: { csat: templates.en.question.csat } } } });
    const doc = (await rt.api.get('/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/survey/templates'].put['x-confluo-role']).toBe('admin');
    expect(doc.paths['/api/v1/survey/templates'].get['x-confluo-role']).toBe('agent');
  });

  it('mails five score links (in the stored texts) an hour after resolution; a GET records nothing, the POST records the score on the ticket', async () => {
    const id = await resolvedEmailTicket('maria.nowak@shop.example');
    await advance(3700);
    const number = (await ticket(id)).number as string;
    const { text, urls } = await links(id);
    expect(text).toContain(`How did we do on ${number}? Pick 1 to 5.`);
    expect(urls).toHaveLength(5);
    for (const u of urls) expect(u).toMatch(new RegExp(`^${rt.url}/survey/${id}\\.1\\.csat[1-5]\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
    expect(text).not.toContain('maria'); // no personal data in the links
    expect(text).toContain('Reply with a number from 1 to 5.'); // typing a number still works

    // A scanner (or the customer) opens the link: a confirmation page, nothing stored.
    const before = (await events(id)).length;
    const page = await fetch(local(urls[3]!));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('4 of 5');
    expect(html).toMatch(/<form method="post">.*<button type="submit">/s);
    expect((await ticket(id)).survey).toMatchObject({ state: 'sent', score: null });
    expect((await events(id)).length).toBe(before);

    const posted = await form(urls[3]!, { action: 'answer' });
    expect(posted.status).toBe(200);
    const thanks = await posted.text();
    expect(thanks).toContain(`Thank you for rating request ${number}!`);
    expect(thanks).toContain('name="comment"');
    await settle();
    expect(await ticket(id)).toMatchObject({ status: 'resolved', priority: 'normal', survey: { state: 'answered', scale: 'csat', score: 4, low: false } });
    expect(await customerTickets('email:maria.nowak@shop.example')).toHaveLength(1);
    expect((await events(id)).find((e) => e.event === 'survey.answered')!.data).toMatchObject({ round: 1, score: 4, via: 'link' });
    // the follow-up thanks once by e-mail, like after a typed score
    expect(await outbox(id, 'survey')).toHaveLength(2);

    // the first answer stands: the same link again, or another score, changes nothing
    const again = await form(urls[0]!, { action: 'answer' });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('Only the first answer counts.');
    await settle();
    expect((await ticket(id)).survey).toMatchObject({ score: 4 });
    expect((await events(id)).filter((e) => e.event === 'survey.answered')).toHaveLength(1);

    // the comment box attaches the text to the survey
    const commented = await form(urls[3]!, { action: 'comment', comment: 'Quick, but the parcel was dented.' });
    expect(commented.status).toBe(200);
    await settle();
    expect(await ticket(id)).toMatchObject({ status: 'resolved', survey: { score: 4, comment: 'Quick, but the parcel was dented.' } });
    expect((await events(id)).map((e) => e.event)).toContain('survey.commented');
    expect((await form(urls[3]!, { action: 'comment', comment: 'Another one' })).status).toBe(409);
    expect((await ticket(id)).survey.comment).toBe('Quick, but the parcel was dented.');
  });

  it('reopens on a score of 1 by link, raises priority and alerts the team lead, as a pressed button does', async () => {
    const id = await resolvedEmailTicket('jan.kowal@shop.example');
    await advance(3700);
    const { urls } = await links(id);
    expect((await form(urls[0]!, { action: 'answer' })).status).toBe(200);
    await settle();
    expect(await ticket(id)).toMatchObject({ status: 'open', priority: 'high', survey: { state: 'answered', score: 1, low: true, reopened: true } });
    expect(await customerTickets('email:jan.kowal@shop.example')).toHaveLength(1);
    const ev = await events(id);
    expect(ev.map((e) => e.event)).toEqual(expect.arrayContaining(['survey.answered', 'ticket.reopened', 'survey.alerted']));
    expect(ev.find((e) => e.event === 'ticket.reopened')!.data).toMatchObject({ reason: 'survey_low_score' });
    const alerts = await outbox(id, 'escalation');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.request.body).toContain('Low CSAT score: 1 of 5');
    // the comment box still works on the reopened ticket
    expect((await form(urls[0]!, { action: 'comment', comment: 'Nobody called me back.' })).status).toBe(200);
    expect((await ticket(id)).survey.comment).toBe('Nobody called me back.');
  });

  it('takes a typed number by mail as before; a link clicked afterwards shows that answer and changes nothing', async () => {
    const from = 'piotr.zielinski@shop.example';
    const id = await resolvedEmailTicket(from);
    await advance(3700);
    const { urls } = await links(id);
    expect((await rt.api.webhook('email', { headers: SNS_HEADERS, body: mail(from, 'Re: Order 4471', '5') })).status).toBe(200);
    await settle();
    expect(await ticket(id)).toMatchObject({ status: 'resolved', survey: { state: 'answered', score: 5 } });
    expect(await customerTickets(`email:${from}`)).toHaveLength(1);
    const late = await form(urls[1]!, { action: 'answer' });
    expect(late.status).toBe(200);
    const html = await late.text();
    expect(html).toContain('5 of 5');
    expect(html).toContain('Only the first answer counts.');
    await settle();
    expect((await ticket(id)).survey).toMatchObject({ score: 5 });
  });

  it('refuses a forged link with 403 and an expired one with 410, storing nothing', async () => {
    const id = await resolvedEmailTicket('olga.ivanova@shop.example');
    await advance(3700);
    const { urls } = await links(id);
    const token = new URL(urls[4]!).pathname.split('/')[2]!;
    const forged = [
      token.replace('.csat5.', '.csat1.'),
      `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`,
      token.replace(id, id.slice(0, -1) + (id.endsWith('0') ? '1' : '0')),
      'not-a-token',
    ];
    for (const f of forged) {
      const get = await fetch(`${rt.url}/survey/${f}`);
      expect(get.status, f).toBe(403);
      expect(await get.text()).toContain('This link is not valid.');
      const post = await fetch(`${rt.url}/survey/${f}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=answer' });
      expect(post.status, f).toBe(403);
    }
    await settle();
    expect((await ticket(id)).survey).toMatchObject({ state: 'sent', score: null });

    await advance(73 * 3600); // past the survey's expiry (72 h after asking): the round expired, so did its links
    expect((await ticket(id)).survey).toMatchObject({ state: 'expired', score: null });
    expect((await fetch(local(urls[4]!))).status).toBe(410);
    expect((await form(urls[4]!, { action: 'answer' })).status).toBe(410);
    await settle();
    expect((await ticket(id)).survey).toMatchObject({ state: 'expired', score: null });
  });

  it('skips a WhatsApp survey that would go out after the 24 h window closed (window_closed): no message, no reminder', async () => {
    const late = '12065550161';
    const fresh = '12065550162';
    expect((await rt.api.webhook('whatsapp', whatsapp(late, 'Where is my refund?', rt.clock.now()))).status).toBe(200);
    await settle();
    await advance(23.5 * 3600);
    expect((await rt.api.webhook('whatsapp', whatsapp(fresh, 'Where is my parcel?', rt.clock.now()))).status).toBe(200);
    await settle();
    const lateId = (await customerTickets(`whatsapp:${late}`))[0]!.id;
    const freshId = (await customerTickets(`whatsapp:${fresh}`))[0]!.id;
    await resolve(lateId); // the last inbound is 23.5 h old: the survey (1 h later) would be outside the window
    await resolve(freshId);
    await advance(3700);

    expect(await outbox(lateId, 'survey')).toEqual([]);
    expect((await ticket(lateId)).survey).toMatchObject({ round: 1, state: 'skipped', skipped_reason: 'window_closed', score: null });
    expect((await events(lateId)).find((e) => e.event === 'survey.skipped')!.data).toMatchObject({ round: 1, reason: 'window_closed', channel: 'whatsapp' });
    // the customer who wrote an hour ago is asked as usual
    expect(await outbox(freshId, 'survey')).toHaveLength(1);

    await advance(25 * 3600);
    expect((await outbox(lateId)).filter((o) => o.kind === 'survey' || o.kind === 'reminder')).toEqual([]);
    expect((await ticket(lateId)).survey).toMatchObject({ state: 'skipped' });
    // the fresh customer's reminder would be outside the window too: skipped, the survey still open
    expect(await outbox(freshId, 'reminder')).toEqual([]);
    expect((await ticket(freshId)).survey).toMatchObject({ state: 'sent', reminder_skipped: 'window_closed' });
    expect((await events(freshId)).map((e) => e.event)).toContain('survey.reminder_skipped');
  });
});
