/**
 * Viber edge cases the samples cannot express (channels.md §6): the signature in header and
 * query, message tokens above 2^53 kept exact (in callbacks and send_message answers), the
 * button-press recognition through tracking_data, and replies with their delivery results. The
 * ordinary callbacks are covered by functions/channels/viber/samples via contract.test.ts.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import { ChannelRequestError, type OutboundMessage, type PlatformResponse, type RawRequest } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { VIBER_MAX_TEXT, viber, viberKeyboard, viberSenderName, viberTrackingData } from '../../functions/channels/viber/index.js';
import { decimalId, parseLossless } from '../../functions/channels/viber/json.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const TOKEN = TEST_SECRETS.VIBER_AUTH_TOKEN!;
const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const IRYNA = { id: 'pttm25kSGUo1919sBORWyA==', name: 'Iryna Koval', language: 'uk', country: 'UA' };

const sign = (body: string) => createHmac('sha256', TOKEN).update(Buffer.from(body, 'utf8')).digest('hex');
const messageBody = (token: string, message: Record<string, unknown>, extra = '') =>
  `{"event":"message","timestamp":1790000060000,"message_token":${token},"sender":${JSON.stringify(IRYNA)},"message":${JSON.stringify(message)}${extra}}`;

function request(body: string, where: { header?: string | null; query?: string | null } = {}): RawRequest {
  const header = where.header === undefined ? sign(body) : where.header;
  const query = where.query === undefined ? undefined : where.query;
  return {
    method: 'POST', path: '/webhooks/viber',
    query: query === undefined || query === null ? {} : { sig: query },
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { 'x-viber-content-signature': header }) },
    body: Buffer.from(body, 'utf8'),
  };
}

async function refusal(req: RawRequest): Promise<ChannelRequestError> {
  try {
    await viber.admit(req, TEST_SECRETS, NOW);
  } catch (e) {
    if (e instanceof ChannelRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function parseBody(body: string): Promise<NormalisedEvent[]> {
  const req = request(body);
  const admission = await viber.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const events = await viber.parse(JSON.parse(JSON.stringify(buildEnvelope('viber', req, admission, NOW, 'req-1'))));
  for (const e of events) NormalisedEvent.parse(e);
  return events;
}

async function parseMessage(body: string): Promise<InboundMessage> {
  const [e] = await parseBody(body);
  if (e?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(e)}`);
  return e;
}

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'viber', conversation_id: IRYNA.id, text: 'Ваше замовлення вже в дорозі.', kind: 'reply', context: { ticket_number: 'C-000001' }, ...extra,
});
const answer = (status: number, body: string, headers: Record<string, string> = {}): PlatformResponse => ({ status, headers, body });

describe('viber admit', () => {
  const body = messageBody('6018829301442119937', { type: 'text', text: 'Привіт' });

  it('accepts the signature in the header, in ?sig=, or in both', async () => {
    for (const where of [{}, { header: null, query: sign(body) }, { query: sign(body) }]) {
      expect((await viber.admit(request(body, where), TEST_SECRETS, NOW)).kind).toBe('accepted');
    }
  });

  it('refuses a request with a right header but a wrong ?sig= — each signature present must verify', async () => {
    const e = await refusal(request(body, { query: sign(`${body} `) }));
    expect([e.status, e.code]).toEqual([401, 'unauthorized']);
  });

  it('refuses a signature of another length with 401 instead of throwing', async () => {
    expect((await refusal(request(body, { header: 'abc' }))).status).toBe(401);
    expect((await refusal(request(body, { header: null, query: '' }))).status).toBe(401);
  });

  it('verifies the raw bytes: the same JSON re-serialised is refused', async () => {
    const reserialised = JSON.stringify(JSON.parse(body));
    const e = await refusal({ ...request(reserialised), headers: { 'x-viber-content-signature': sign(body) } });
    expect(e.status).toBe(401);
  });

  it('refuses an unsigned request before reading its body (401 even for non-JSON)', async () => {
    expect((await refusal(request('not json', { header: null }))).status).toBe(401);
  });

  it('answers the webhook verification with 200 and no body, never enqueued', async () => {
    const hook = '{"event":"webhook","timestamp":1790000000000,"chat_hostname":"SN-CHAT-03_","message_token":6018829301442119900}';
    expect(await viber.admit(request(hook), TEST_SECRETS, NOW)).toEqual({ kind: 'handshake', reply: { status: 200 } });
  });

  it('refuses a message without message_token, with a negative or fractional one, with 400', async () => {
    for (const token of ['-5', '1.5', '"abc"', '18446744073709551616']) {
      const e = await refusal(request(messageBody(token, { type: 'text', text: 'x' })));
      expect([e.status, e.code], token).toEqual([400, 'invalid']);
    }
  });

  it('refuses a body nested too deeply to parse with 400, not a crash', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect((await refusal(request(deep))).status).toBe(400);
  });
});

describe('viber parse', () => {
  it('keeps message tokens above 2^53 exact, where JSON.parse rounds two different ones to the same number', async () => {
    const a = await parseMessage(messageBody('6018829301442119937', { type: 'text', text: 'a' }));
    const b = await parseMessage(messageBody('6018829301442119938', { type: 'text', text: 'b' }));
    expect([a.dedup_key, b.dedup_key]).toEqual(['6018829301442119937', '6018829301442119938']);
    expect(JSON.parse('[6018829301442119937,6018829301442119938]')[0]).toBe(JSON.parse('[6018829301442119938]')[0]);
  });

  it('never takes a token from the text: a message quoting another token keeps its own', async () => {
    const m = await parseMessage(messageBody('6018829301442119937', { type: 'text', text: '"message_token":6018829301442119999' }));
    expect(m.external_message_id).toBe('6018829301442119937');
  });

  it('reads duplicate keys as JSON.parse does (the last wins) instead of refusing', async () => {
    const m = await parseMessage(messageBody('6018829301442119937', { type: 'text', text: 'second' }).replace('"message":', '"message":{"type":"text","text":"first"},"message":'));
    expect(m.text).toBe('second');
  });

  it('keeps a float coordinate with more digits than a double holds as a number', async () => {
    const body = messageBody('6018829301442119937', { type: 'location' }).replace('{"type":"location"}', '{"type":"location","location":{"lat":49.83970000000000000001,"lon":24.0297}}');
    const m = await parseMessage(body);
    expect(m.attachments).toEqual([{ type: 'location', latitude: 49.8397, longitude: 24.0297 }]);
  });

  it('drops descriptive user fields of the wrong type instead of refusing the message', async () => {
    const body = `{"event":"message","timestamp":1790000060000,"message_token":6018829301442119937,"sender":{"id":"abc=","name":42,"country":"United Kingdom","avatar":null},"message":{"type":"text","text":"hi"}}`;
    expect((await parseMessage(body)).customer_identity).toEqual({ external_id: 'abc=' });
  });

  it('turns an unknown message type into an other attachment', async () => {
    const m = await parseMessage(messageBody('6018829301442119937', { type: 'rich_media', rich_media: {} }));
    expect(m.attachments).toEqual([{ type: 'other' }]);
  });

  it('recognises a button press only when the text is one of the payloads offered in tracking_data', async () => {
    const tracking = viberTrackingData('C-000001', [{ label: '😀 5', payload: 'csat:5' }]);
    const pressed = await parseMessage(messageBody('6018829301442119937', { type: 'text', text: 'csat:5', tracking_data: tracking }));
    expect(pressed).toMatchObject({ text: '😀 5', interaction: { payload: 'csat:5' } });
    const typed = await parseMessage(messageBody('6018829301442119938', { type: 'text', text: 'дякую', tracking_data: tracking }));
    expect(typed).toMatchObject({ text: 'дякую', interaction: null });
    const plain = await parseMessage(messageBody('6018829301442119939', { type: 'text', text: 'csat:5', tracking_data: 'C-000001' }));
    expect(plain).toMatchObject({ text: 'csat:5', interaction: null, tracking_data: 'C-000001' });
    const proto = await parseMessage(messageBody('6018829301442119940', { type: 'text', text: 'constructor', tracking_data: tracking }));
    expect(proto.interaction).toBeNull();
  });

  it('takes a receipt\'s token exactly and maps delivered, seen, failed to our delivery states', async () => {
    const [e] = await parseBody('{"event":"seen","timestamp":1790000600000,"message_token":5741311803571721087,"user_id":"pttm25kSGUo1919sBORWyA=="}');
    expect(e).toMatchObject({ kind: 'ignored', status_updates: [{ external_message_id: '5741311803571721087', status: 'seen', at: 1790000600 }] });
    expect(['delivered', 'seen', 'failed', 'sent'].map((status) => viber.deliveryFor!({ external_message_id: '1', status }))).toEqual(['delivered', 'read', 'failed', null]);
  });
});

describe('viber render', () => {
  it('describes send_message with the auth token header, receiver, sender name and the ticket as tracking_data', () => {
    const req = renderOne(viber, outbound(), { secrets: { VIBER_AUTH_TOKEN: TOKEN, VIBER_SENDER_NAME: 'Acme Support' } });
    expect(req).toMatchObject({ method: 'POST', url: 'https://chatapi.viber.com/pa/send_message', headers: { 'content-type': 'application/json', 'x-viber-auth-token': TOKEN } });
    expect(JSON.parse(req.body!)).toEqual({ receiver: IRYNA.id, min_api_version: 7, sender: { name: 'Acme Support' }, tracking_data: 'C-000001', type: 'text', text: 'Ваше замовлення вже в дорозі.' });
  });

  it('cuts sender.name to 28 characters and sends a text over 7,000 characters as two messages, keyboard on the last', () => {
    expect(viberSenderName('Acme Customer Support Team — Central Europe')).toHaveLength(28);
    expect(viberSenderName(undefined)).toBe('Support');
    const text = '😀'.repeat(VIBER_MAX_TEXT + 1);
    const buttons = [{ label: '1', payload: 'csat:1' }];
    const bodies = renderRequests(viber, outbound({ text, buttons }), { secrets: {} }).map((r) => JSON.parse(r.body!));
    expect(bodies.map((b) => Array.from(b.text as string).length)).toEqual([VIBER_MAX_TEXT, 1]);
    expect(bodies.map((b) => 'keyboard' in b)).toEqual([false, true]);
    expect(bodies.map((b) => b.text).join('')).toBe(text);
  });

  it('renders survey buttons as a keyboard of reply buttons and remembers them in tracking_data', () => {
    const buttons = [1, 2, 3, 4, 5].map((n) => ({ label: String(n), payload: `csat:${n}` }));
    const body = JSON.parse(renderOne(viber, outbound({ kind: 'survey', buttons }), { secrets: {} }).body!);
    expect(body.keyboard).toEqual(viberKeyboard(buttons));
    expect(body.keyboard.Buttons[0]).toEqual({ ActionType: 'reply', ActionBody: 'csat:1', Text: '1', TextSize: 'regular', Columns: 1, Rows: 1 });
    expect(JSON.parse(body.tracking_data)).toEqual({ ticket: 'C-000001', buttons: { 'csat:1': '1', 'csat:2': '2', 'csat:3': '3', 'csat:4': '4', 'csat:5': '5' } });
  });

  it('spreads few buttons over the 6-column grid', () => {
    const keyboard = viberKeyboard([{ label: 'Так', payload: 'yes' }, { label: 'Ні', payload: 'no' }]);
    expect((keyboard.Buttons as Array<{ Columns: number }>).map((b) => b.Columns)).toEqual([3, 3]);
  });
});

describe('viber readDelivery', () => {
  const msg = outbound();
  it('reads the exact message_token of the answer (above 2^53)', () => {
    const res = answer(200, '{"status":0,"status_message":"ok","message_token":5741311803571721087,"chat_hostname":"SN-CHAT-05_","billing_status":1}');
    expect(viber.readDelivery(res, msg)).toEqual({ ok: true, external_message_id: '5741311803571721087' });
  });

  it('marks a user who is not subscribed or not registered unreachable', () => {
    expect(viber.readDelivery(answer(200, '{"status":6,"status_message":"notSubscribed"}'), msg)).toEqual({ ok: false, retryable: false, unreachable: true, error_code: 'receiverNotSubscribed' });
    expect(viber.readDelivery(answer(200, '{"status":5,"status_message":"notRegistered"}'), msg)).toMatchObject({ unreachable: true });
  });

  it('fails other statuses permanently and retries Viber\'s rate limit and HTTP 429/5xx', () => {
    expect(viber.readDelivery(answer(200, '{"status":2,"status_message":"invalidAuthToken"}'), msg)).toEqual({ ok: false, retryable: false, error_code: 'invalidAuthToken' });
    expect(viber.readDelivery(answer(200, '{"status":99}'), msg)).toEqual({ ok: false, retryable: false, error_code: '99' });
    expect(viber.readDelivery(answer(200, '{"status":12,"status_message":"tooManyRequests"}'), msg)).toEqual({ ok: false, retryable: true, error_code: 'tooManyRequests' });
    expect(viber.readDelivery(answer(503, '', { 'retry-after': '5' }), msg)).toEqual({ ok: false, retryable: true, retry_after_s: 5, error_code: '503' });
  });

  it('has no reply window and native buttons', () => {
    expect(viber.capabilities).toMatchObject({ replyWindowSeconds: null, buttons: true, maxBodyBytes: 262_144 });
  });
});

describe('viber lossless JSON', () => {
  it('keeps unsafe integers as decimal strings and everything else as JSON.parse does', () => {
    expect(parseLossless('{"t":6018829301442119937,"s":42,"f":1.5,"e":1e3,"n":null}')).toEqual({ t: '6018829301442119937', s: 42, f: 1.5, e: 1000, n: null });
    expect(decimalId(42)).toBe('42');
    expect(decimalId('0042')).toBe('42');
    expect(decimalId('18446744073709551615')).toBe('18446744073709551615');
    expect(decimalId(-1)).toBeUndefined();
  });
});
