/**
 * The Twilio channel end to end over HTTP against the running local runtime (channels.md §7):
 * every accepted sample replayed in NN order (SMS, MMS, WhatsApp via Twilio, buttons, location,
 * STOP/START, status callbacks, a duplicate, a signature over the `:443` URL), the result seen
 * through the Agent API, replies as Messages.json requests in the outbox, status callbacks moving
 * our message's delivery, the WhatsApp 24-hour window (SMS has none), and refusals that leave no
 * trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { EMPTY_TWIML } from '../../functions/channels/twilio/index.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { loadSamples, TEST_SECRETS } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const MARIA = '+12065550142';
const WA_MARIA = 'whatsapp:+12065550142';
const KENJI = 'whatsapp:+13125550177';
const OLIVER = '+447700900123';
const BUSINESS = '+14155550100';
const WA_BUSINESS = 'whatsapp:+14155550111';
const FORM = 'application/x-www-form-urlencoded';

type Item = { kind: string; channel: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null } };
type Card = { id: string; display_name: string | null; identities: Array<Record<string, unknown>>; tickets: Array<{ id: string; number: string; status: string }> };

describe('twilio channel end to end (SMS, MMS, WhatsApp via Twilio → /webhooks/twilio)', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const samples = loadSamples('twilio');
  const accepted = samples.filter((s) => s.kind === 'accepted');
  const refusals = samples.filter((s) => s.kind === 'refusal');

  const outbox = async (): Promise<Item[]> => (await rt.api.get('/dev/outbox')).body.items;
  const card = async (externalId: string): Promise<Card | undefined> => {
    const res = await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`twilio:${externalId}`)}`, token);
    expect(res.status).toBe(200);
    return res.body.items[0];
  };
  const timeline = async (ticketId: string) => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<Record<string, any>>;
  const inbound = async (ticketId: string) => (await timeline(ticketId)).filter((e) => e.type === 'message' && e.direction === 'in');
  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queue: rt.queues.inbound.stats().depth };
  };
  /** A form Twilio would post, signed as Twilio signs it. */
  const post = async (pairs: Array<[string, string]>, headers: Record<string, string> = {}) => {
    const body = new URLSearchParams(pairs).toString();
    const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
    return rt.api.webhook('twilio', { headers: { 'content-type': FORM, 'x-twilio-signature': signature, ...headers }, body });
  };
  const statusCallback = (sid: string, status: string, to: string) =>
    post([['SmsSid', sid], ['SmsStatus', status], ['MessageStatus', status], ['To', to], ['MessageSid', sid], ['AccountSid', ACCOUNT], ['From', BUSINESS], ['ApiVersion', '2010-04-01']],
      { 'i-twilio-idempotency-token': `e2e-${sid}-${status}` });
  const reply = (ticketId: string, text: string) => rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text }, token);
  const outEntry = async (ticketId: string, id: string) => (await timeline(ticketId)).find((e) => e.id === id)!;

  beforeAll(async () => {
    // A visibility timeout above the cold first commit (~1 s in a fresh worker): no redelivery
    // may turn a slow first sample into a dead letter.
    rt = await testRuntime({ TWILIO_ACCOUNT_SID: ACCOUNT }, { visibilityTimeoutMs: 5000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers every accepted sample, in NN order, with 200 text/xml empty TwiML, processing each', async () => {
    for (const s of accepted) {
      const res = await rt.api.webhook('twilio', { headers: s.request.headers, body: s.request.body });
      expect(res.status, s.name).toBe(s.expect.status);
      expect(res.body, s.name).toBe(EMPTY_TWIML);
      expect(res.headers.get('content-type'), s.name).toMatch(/^text\/xml/);
      expect((await rt.settle()).dlq, s.name).toBe(0);
      // Advanced Opt-Out: STOP makes the SMS identity unreachable, START reachable again.
      if (s.name === '12-sms-stop') expect((await card(MARIA))!.identities[0]).toMatchObject({ reachability: 'unreachable' });
      if (s.name === '13-sms-start') expect((await card(MARIA))!.identities[0]).toMatchObject({ reachability: 'reachable' });
    }
  });

  it('creates one identity per address as sent, and links SMS and WhatsApp of the same verified phone into one customer', async () => {
    const maria = (await card(MARIA))!;
    // Both addresses carry the same Twilio-verified phone: one customer (issue 5), two identities.
    expect(maria.identities).toEqual(expect.arrayContaining([
      expect.objectContaining({ channel: 'twilio', external_id: MARIA, phone: MARIA, phone_verified: true, country: 'US', reachability: 'reachable' }),
      expect.objectContaining({ channel: 'twilio', external_id: WA_MARIA, phone: MARIA, phone_verified: true, display_name: 'María López' }),
    ]));
    expect(maria.identities).toHaveLength(2);
    expect((await card(WA_MARIA))!.id).toBe(maria.id);
    const kenji = (await card(KENJI))!;
    expect(kenji.identities).toEqual([expect.objectContaining({ external_id: KENJI, phone: '+13125550177', phone_verified: true, display_name: 'Kenji Sato' })]);
    // 15 was signed over the :443 form of the URL and still got in.
    const oliver = (await card(OLIVER))!;
    expect(oliver.identities).toEqual([expect.objectContaining({ external_id: OLIVER, phone: OLIVER, phone_verified: true, country: 'GB' })]);
    for (const c of [maria, kenji, oliver]) expect(c.tickets).toHaveLength(1);
    // Status callbacks and our business numbers never become customers.
    for (const address of [BUSINESS, WA_BUSINESS]) expect(await card(address), address).toBeUndefined();
  });

  it('stores SMS, MMS media, STOP/START, WhatsApp media, buttons and locations as the contract says; the duplicate adds nothing', async () => {
    // Maria's WhatsApp messages join the ticket her SMS opened: one ticket per problem, any channel.
    const maria = await inbound((await card(MARIA))!.tickets[0]!.id);
    expect(maria.map((m) => [m.conversation_id, m.text, m.attachments.map((a: { type: string }) => a.type)])).toEqual([
      [MARIA, 'Hi, order 1042 still hasn\'t arrived. Call me back at +1 206 555 0188 please', []],
      [MARIA, 'The box arrived like this 😕', ['image', 'video']],
      [WA_MARIA, '¡Hola! Escribo también por WhatsApp: ¿hay novedades del pedido 1042?', []],
      [WA_MARIA, '', ['audio']],
      [WA_MARIA, 'factura.pdf', ['document']],
      [MARIA, 'STOP', []],
      [MARIA, 'START', []],
    ]);
    expect(maria.every((m) => m.channel === 'twilio')).toBe(true);
    expect(maria[0]!.external_message_id).toMatch(/^SM[0-9a-f]{32}$/);
    expect(maria[1]!.external_message_id).toMatch(/^MM[0-9a-f]{32}$/);
    expect(maria[1]!.attachments).toEqual([
      expect.objectContaining({ type: 'image', mime_type: 'image/jpeg', url: expect.stringMatching(/^https:\/\/api\.twilio\.com\/2010-04-01\/Accounts\/AC\w+\/Messages\/MM\w+\/Media\/ME\w+$/) }),
      expect.objectContaining({ type: 'video', mime_type: 'video/mp4' }),
    ]);

    const kenji = await inbound((await card(KENJI))!.tickets[0]!.id);
    expect(kenji).toHaveLength(2);
    expect(kenji[0]).toMatchObject({ text: 'Yes, reschedule', interaction: { payload: 'reschedule:yes' }, in_reply_to: expect.stringMatching(/^SM/) });
    expect(kenji[1]).toMatchObject({ text: '', attachments: [{ type: 'location', latitude: 47.6062095, longitude: -122.3320708 }], interaction: null });
  });

  it('acknowledges each new ticket once, as a Messages.json request from the number the customer wrote to', async () => {
    const acks = (await outbox()).filter((o) => o.kind === 'acknowledgement' && o.channel === 'twilio');
    // Maria, Kenji, Oliver: Maria's WhatsApp messages joined her open ticket and get no second one.
    expect(acks).toHaveLength(3);
    const byTicket = async (address: string) => {
      const ticketId = (await card(address))!.tickets[0]!.id;
      return acks.filter((a) => a.ticket_id === ticketId);
    };
    const [mariaAck] = await byTicket(MARIA);
    expect(mariaAck!.request).toMatchObject({ method: 'POST', url: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json` });
    expect(new URLSearchParams(mariaAck!.request.body!).get('To')).toBe(MARIA);
    expect(new URLSearchParams(mariaAck!.request.body!).get('From')).toBe(BUSINESS);
    const [kenjiAck] = await byTicket(KENJI);
    expect(new URLSearchParams(kenjiAck!.request.body!).get('To')).toBe(KENJI);
    expect(new URLSearchParams(kenjiAck!.request.body!).get('From')).toBe(WA_BUSINESS);
  });

  it('sends an agent SMS reply as Messages.json with Basic auth and StatusCallback, then follows its status callbacks', async () => {
    const ticketId = (await card(MARIA))!.tickets[0]!.id;
    const res = await reply(ticketId, 'Hi María, your parcel is out for delivery today.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toEqual({
      method: 'POST',
      url: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages.json`,
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TEST_SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64')}`, 'content-type': FORM },
      body: new URLSearchParams({ To: MARIA, From: BUSINESS, Body: 'Hi María, your parcel is out for delivery today.', StatusCallback: TEST_SECRETS.TWILIO_WEBHOOK_URL! }).toString(),
    });
    const entry = await outEntry(ticketId, res.body.id);
    expect(entry).toMatchObject({ direction: 'out', delivery: 'sent' });
    const sid = entry.external_message_id as string;
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);

    // Receipts: delivered, then a late `sent` that must not move it backwards.
    for (const status of ['delivered', 'sent']) {
      const cb = await statusCallback(sid, status, MARIA);
      expect(cb.status).toBe(200);
      expect(cb.body).toBe(EMPTY_TWIML);
      await rt.settle();
    }
    expect(await outEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'delivered', external_message_id: sid });
  });

  it('marks our message failed with its error code on an undelivered callback', async () => {
    const ticketId = (await card(OLIVER))!.tickets[0]!.id;
    const res = await reply(ticketId, 'Yes, reply with the new address.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sid = (await outEntry(ticketId, res.body.id)).external_message_id as string;
    const cb = await post([['ErrorCode', '30003'], ['SmsSid', sid], ['SmsStatus', 'undelivered'], ['MessageStatus', 'undelivered'], ['To', OLIVER], ['MessageSid', sid], ['AccountSid', ACCOUNT], ['From', BUSINESS]]);
    expect(cb.status).toBe(200);
    await rt.settle();
    expect(await outEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'failed', delivery_status: 'undelivered', delivery_error: 30003 });
  });

  it('sends a WhatsApp reply from the WhatsApp business address inside the 24-hour window', async () => {
    const ticketId = (await card(KENJI))!.tickets[0]!.id;
    const res = await reply(ticketId, 'Done: Tuesday 10:00.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.request.body!))).toEqual({ To: KENJI, From: WA_BUSINESS, Body: 'Done: Tuesday 10:00.', StatusCallback: TEST_SECRETS.TWILIO_WEBHOOK_URL });
  });

  it('refuses a WhatsApp reply after 24 hours with 409 messaging_window_closed, while SMS has no window', async () => {
    await rt.api.post('/dev/clock', { advanceSeconds: 90_000 });
    // Only replies count: the jump in time also fires SLA escalations into the outbox.
    const replies = async () => (await outbox()).filter((o) => o.kind === 'reply').length;
    const before = await replies();
    const kenjiTicket = (await card(KENJI))!.tickets[0]!.id;
    const closed = await reply(kenjiTicket, 'Are you still there?');
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('messaging_window_closed');
    await rt.settle();
    expect(await replies()).toBe(before);

    const mariaTicket = (await card(MARIA))!.tickets[0]!.id;
    const open = await reply(mariaTicket, 'Did the parcel arrive?');
    expect(open.status).toBe(202);
    await rt.settle();
    expect(await replies()).toBe(before + 1);
  });

  it('refuses every refusal sample with its status and code, and an oversized body with 413, leaving no trace', async () => {
    await rt.settle();
    const before = await snapshot();
    const outboxBefore = (await outbox()).length;
    for (const s of refusals) {
      const res = await rt.api.webhook('twilio', { headers: s.request.headers, body: s.request.body });
      expect(res.status, s.name).toBe(s.expect.status);
      expect(JSON.parse(res.body).error.code, s.name).toBe(s.expect.code);
    }
    const oversized = await rt.api.webhook('twilio', { headers: { 'content-type': FORM, 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, body: `Body=${'a'.repeat(262_140)}` });
    expect(oversized.status).toBe(413);
    await rt.settle();
    expect(await snapshot()).toEqual(before);
    expect((await outbox()).length).toBe(outboxBefore);
  });
});
