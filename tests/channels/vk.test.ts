/**
 * VK edge cases the samples cannot express (channels.md §5): the order of checks around the
 * in-body secret, the confirmation branch, group ids compared as decimal strings, the retry
 * header, attachment choices, and replies (messages.send with random_id, keyboards) with their
 * delivery results. The ordinary event kinds are covered by functions/channels/vk/samples via
 * contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import { ChannelRequestError, type Envelope, type OutboundMessage, type PlatformResponse, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { VK_LANGUAGES, VK_MAX_TEXT, vk, vkKeyboard, vkPayload, vkRandomId } from '../../functions/channels/vk/index.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const SECRET = TEST_SECRETS.VK_SECRET!;
const GROUP = Number(TEST_SECRETS.VK_GROUP_ID);
const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const OLGA = 400500600;

const message = (extra: Record<string, unknown> = {}) => ({ date: 1790000000, from_id: OLGA, peer_id: OLGA, id: 1771, out: 0, conversation_message_id: 77, text: 'Привет', attachments: [], fwd_messages: [], ...extra });
const event = (type: string, object: unknown, extra: Record<string, unknown> = {}) => ({ type, event_id: 'e1f0a3b2c4d5e6f708192a3b4c5d6e7f80919999', v: '5.199', object, group_id: GROUP, secret: SECRET, ...extra });
const newMessage = (extra: Record<string, unknown> = {}, clientInfo: Record<string, unknown> = { lang_id: 0 }) => event('message_new', { message: message(extra), client_info: clientInfo });

function request(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): RawRequest {
  return { method: 'POST', path: '/webhooks/vk', query: {}, headers, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8') };
}

async function refusal(req: RawRequest, secrets: Secrets = TEST_SECRETS): Promise<ChannelRequestError> {
  try {
    await vk.admit(req, secrets, NOW);
  } catch (e) {
    if (e instanceof ChannelRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function parseEvent(body: unknown, headers?: Record<string, string>): Promise<{ events: NormalisedEvent[]; envelope: Envelope }> {
  const req = request(body, headers);
  const admission = await vk.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const envelope = JSON.parse(JSON.stringify(buildEnvelope('vk', req, admission, NOW, 'req-1'))) as Envelope;
  const events = await vk.parse(envelope);
  for (const e of events) NormalisedEvent.parse(e);
  return { events, envelope };
}

async function parseMessage(body: unknown): Promise<InboundMessage> {
  const { events: [e] } = await parseEvent(body);
  if (e?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(e)}`);
  return e;
}

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'vk', conversation_id: String(OLGA), text: 'Ваш заказ уже в пути.', kind: 'reply', ...extra,
});
const answer = (status: number, body: unknown, headers: Record<string, string> = {}): PlatformResponse => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('vk admit', () => {
  it('refuses an unparseable body with 400 before looking for the secret', async () => {
    const e = await refusal(request('{"type":"message_new","secret":"wrong"'));
    expect([e.status, e.code]).toEqual([400, 'malformed']);
  });

  it('refuses a forged secret with 401 even when the rest of the event is malformed', async () => {
    // Authenticity before validation: a stranger learns nothing about what a valid event is.
    const e = await refusal(request({ type: 'message_new', group_id: GROUP, secret: 'nope' }));
    expect([e.status, e.code]).toEqual([401, 'unauthorized']);
  });

  it('refuses a secret of another type or length with 401 instead of throwing', async () => {
    expect((await refusal(request({ ...newMessage(), secret: 12345 }))).status).toBe(401);
    expect((await refusal(request({ ...newMessage(), secret: 'x' }))).status).toBe(401);
  });

  it('compares group_id as decimal strings: a string group id is accepted, a float or another id is not', async () => {
    const ok = await vk.admit(request({ ...newMessage(), group_id: String(GROUP) }), TEST_SECRETS, NOW);
    expect(ok.kind).toBe('accepted');
    expect((await refusal(request({ ...newMessage(), group_id: GROUP + 0.5 }))).status).toBe(401);
    expect((await refusal(request({ ...newMessage(), group_id: `0${GROUP}` }))).status).toBe(401);
    const { group_id: _g, ...noGroup } = newMessage();
    expect((await refusal(request(noGroup))).status).toBe(401);
  });

  it('answers the confirmation with VK_CONFIRMATION as text/plain, with or without a secret in it', async () => {
    for (const body of [{ type: 'confirmation', group_id: GROUP }, { type: 'confirmation', group_id: GROUP, secret: SECRET }]) {
      const admission = await vk.admit(request(body), TEST_SECRETS, NOW);
      expect(admission).toEqual({ kind: 'handshake', reply: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'c0nf1rm0' } });
    }
  });

  it('never answers ok to a confirmation: a wrong secret or group is a 401', async () => {
    expect((await refusal(request({ type: 'confirmation', group_id: GROUP, secret: 'wrong-secret-0000' }))).status).toBe(401);
    expect((await refusal(request({ type: 'confirmation', group_id: 1 }))).status).toBe(401);
  });

  it('requires a secret on every event other than the confirmation', async () => {
    const { secret: _s, ...unsigned } = newMessage();
    const e = await refusal(request(unsigned));
    expect(e.status).toBe(401);
  });

  it('answers every accepted event with exactly ok as text/plain', async () => {
    for (const body of [newMessage(), event('message_typing_state', { state: 'typing', from_id: OLGA, to_id: -GROUP }), event('wall_post_new', {})]) {
      const admission = await vk.admit(request(body), TEST_SECRETS, NOW);
      expect(admission.reply).toEqual({ status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' });
    }
  });

  it('carries X-Retry-Counter in the envelope and nothing else of the headers', async () => {
    const { envelope } = await parseEvent(newMessage(), { 'content-type': 'application/json', 'x-retry-counter': '3', 'x-forwarded-for': '203.0.113.9' });
    expect(envelope.headers).toEqual({ 'x-retry-counter': '3' });
    expect(JSON.stringify(envelope)).not.toContain('203.0.113.9');
  });

  it('refuses an event_id that is not a string with 400', async () => {
    const e = await refusal(request({ ...newMessage(), event_id: 12345 }));
    expect([e.status, e.code]).toEqual([400, 'invalid']);
  });

  it('groups a conversation by peer in the FIFO queue', async () => {
    const admission = await vk.admit(request(newMessage()), TEST_SECRETS, NOW);
    expect(admission.kind === 'accepted' && admission.conversationKey).toBe(String(OLGA));
  });
});

describe('vk parse', () => {
  it('maps every documented lang_id and leaves unknown ones unset', async () => {
    for (const [id, tag] of Object.entries(VK_LANGUAGES)) {
      expect((await parseMessage(newMessage({}, { lang_id: Number(id) }))).customer_identity.language).toBe(tag);
    }
    expect((await parseMessage(newMessage({}, { lang_id: 2 }))).customer_identity).toEqual({ external_id: String(OLGA) });
    expect((await parseMessage(newMessage({}, { lang_id: 'ru' }))).customer_identity).toEqual({ external_id: String(OLGA) });
  });

  it('takes the largest photo size by area when there is no orig_photo', async () => {
    const photo = { id: 1, owner_id: OLGA, sizes: [{ type: 'm', url: 'https://img.example/m', width: 130, height: 97 }, { type: 'y', url: 'https://img.example/y', width: 807, height: 605 }, { type: 'z', url: 'https://img.example/z', width: 600, height: 800 }] };
    const m = await parseMessage(newMessage({ attachments: [{ type: 'photo', photo }] }));
    expect(m.attachments).toEqual([{ type: 'image', platform_ref: `photo${OLGA}_1`, url: 'https://img.example/y', width: 807, height: 605 }]);
  });

  it('turns an unreadable attachment into other rather than refusing a message VK sent', async () => {
    const m = await parseMessage(newMessage({ attachments: [{ type: 'photo', photo: { sizes: 'none' } }, { type: 'poll', poll: { id: 1 } }, 'junk'] }));
    expect(m.attachments).toEqual([{ type: 'other' }, { type: 'other' }, { type: 'other' }]);
  });

  it('reads the old "lat lon" coordinates string of geo', async () => {
    const m = await parseMessage(newMessage({ text: '', geo: { type: 'point', coordinates: '59.9386 30.3141' } }));
    expect(m.attachments).toEqual([{ type: 'location', latitude: 59.9386, longitude: 30.3141 }]);
  });

  it('surfaces forwarded messages as other, never as the customer\'s words', async () => {
    const m = await parseMessage(newMessage({ text: 'Смотрите', fwd_messages: [{ from_id: 1, text: 'чужие слова', date: 1 }] }));
    expect(m.text).toBe('Смотрите');
    expect(m.attachments).toEqual([{ type: 'other' }]);
  });

  it('ignores our own outgoing copy of a message (out 1) and community-written messages, without a customer', async () => {
    for (const extra of [{ out: 1 }, { from_id: -GROUP }]) {
      const { events: [e] } = await parseEvent(newMessage(extra));
      expect(e).toMatchObject({ kind: 'ignored' });
      expect(e).not.toHaveProperty('customer_identity');
    }
  });

  it('ignores an empty service message', async () => {
    const { events: [e] } = await parseEvent(newMessage({ text: '', action: { type: 'chat_invite_user' } }));
    expect(e).toMatchObject({ kind: 'ignored', reason: 'empty message' });
  });

  it('uses the message date when an edit has no update_time', async () => {
    const m = await parseMessage(event('message_edit', message({ text: 'Новый текст' })));
    expect(m).toMatchObject({ edit: true, edited_at: 1790000000, external_message_id: `${OLGA}:77` });
  });

  it('gives a callback press its received time, as message_event has no date', async () => {
    const m = await parseMessage(event('message_event', { user_id: OLGA, peer_id: OLGA, event_id: 'abc', payload: 'yes' }));
    expect(m).toMatchObject({ sent_at: Math.floor(NOW / 1000), interaction: { payload: '"yes"' }, external_message_id: 'callback:abc' });
  });

  it('ignores a callback press without payload', async () => {
    const { events: [e] } = await parseEvent(event('message_event', { user_id: OLGA, peer_id: OLGA, event_id: 'abc' }));
    expect(e).toMatchObject({ kind: 'ignored', reason: 'callback without payload' });
  });
});

describe('vk answerInteraction', () => {
  it('keeps event_id, user_id and peer_id of a callback press and describes messages.sendMessageEventAnswer with them', async () => {
    const m = await parseMessage(event('message_event', { user_id: OLGA, peer_id: OLGA, event_id: '3f1c2a9b7d0e', payload: { survey: 'csat', score: 5 } }));
    expect(m.interaction_ref).toEqual({ event_id: '3f1c2a9b7d0e', user_id: String(OLGA), peer_id: String(OLGA) });
    const req = vk.answerInteraction(m.interaction_ref!, { secrets: { VK_ACCESS_TOKEN: 'vk1.a.token', VK_API_VERSION: '5.199' } });
    expect(req).toMatchObject({ method: 'POST', url: 'https://api.vk.com/method/messages.sendMessageEventAnswer', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(Object.fromEntries(new URLSearchParams(req!.body!))).toEqual({ event_id: '3f1c2a9b7d0e', user_id: String(OLGA), peer_id: String(OLGA), access_token: 'vk1.a.token', v: '5.199' });
  });

  it('keeps no interaction ref for a text button press (message_new needs no answer)', async () => {
    expect((await parseMessage(newMessage({ text: '5 ★', payload: '{"score":5}' }))).interaction_ref).toBeUndefined();
  });

  it('answers nothing for an incomplete ref and shows a placeholder instead of a missing token', () => {
    expect(vk.answerInteraction({ event_id: 'x', user_id: '1' }, { secrets: {} })).toBeNull();
    const form = new URLSearchParams(vk.answerInteraction({ event_id: 'x', user_id: '1', peer_id: '1' }, { secrets: {} })!.body!);
    expect(form.get('access_token')).toBe('<VK_ACCESS_TOKEN>');
    expect(form.get('v')).toBe('5.199');
  });

  it('reads `response: 1` as answered and an API error (expired event) as a failure', () => {
    expect(vk.readDelivery(answer(200, { response: 1 }), outbound())).toMatchObject({ ok: true });
    expect(vk.readDelivery(answer(200, { error: { error_code: 100, error_msg: 'One of the parameters specified was missing or invalid' } }), outbound()))
      .toEqual({ ok: false, retryable: false, error_code: '100' });
  });
});

describe('vk render', () => {
  it('describes messages.send as a form with peer_id, message, random_id, access_token and v', () => {
    const req = renderOne(vk, outbound(), { secrets: { VK_ACCESS_TOKEN: 'vk1.a.token', VK_API_VERSION: '5.199' } });
    expect(req).toMatchObject({ method: 'POST', url: 'https://api.vk.com/method/messages.send', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const form = Object.fromEntries(new URLSearchParams(req.body!));
    expect(form).toEqual({ peer_id: String(OLGA), random_id: String(vkRandomId('01JFOUT0000000000000000000')), message: 'Ваш заказ уже в пути.', access_token: 'vk1.a.token', v: '5.199' });
  });

  it('derives the same positive int32 random_id for every retry of one message, and another for another message', () => {
    const a = vkRandomId('01JFOUT0000000000000000000');
    expect(vkRandomId('01JFOUT0000000000000000000')).toBe(a);
    expect(vkRandomId('01JFOUT0000000000000000001')).not.toBe(a);
    expect(Number.isInteger(a) && a > 0 && a <= 2 ** 31 - 1).toBe(true);
  });

  it('defaults the API version to 5.199 and shows a placeholder instead of a missing token', () => {
    const form = new URLSearchParams(renderOne(vk, outbound(), { secrets: {} }).body!);
    expect(form.get('v')).toBe('5.199');
    expect(form.get('access_token')).toBe('<VK_ACCESS_TOKEN>');
  });

  it('sends a text longer than 4096 characters (counting characters, not UTF-16 units) as two messages with their own random_id', () => {
    const text = '😀'.repeat(VK_MAX_TEXT + 10);
    const forms = renderRequests(vk, outbound({ text }), { secrets: {} }).map((r) => new URLSearchParams(r.body!));
    expect(forms.map((f) => Array.from(f.get('message')!).length)).toEqual([VK_MAX_TEXT, 10]);
    expect(forms.map((f) => f.get('message')).join('')).toBe(text);
    // The first part keeps the message's own random_id; each further part gets its own, stable across retries.
    expect(forms[0]!.get('random_id')).toBe(String(vkRandomId(outbound().id)));
    expect(forms[1]!.get('random_id')).not.toBe(forms[0]!.get('random_id'));
    expect(renderRequests(vk, outbound({ text }), { secrets: {} }).map((r) => new URLSearchParams(r.body!).get('random_id'))).toEqual(forms.map((f) => f.get('random_id')));
  });

  it('renders survey buttons as an inline keyboard of text buttons, five per row, JSON payloads', () => {
    const buttons = [1, 2, 3, 4, 5].map((n) => ({ label: `${n} ★`, payload: JSON.stringify({ survey: 'csat', score: n }) }));
    const keyboard = JSON.parse(new URLSearchParams(renderOne(vk, outbound({ kind: 'survey', buttons }), { secrets: {} }).body!).get('keyboard')!);
    expect(keyboard).toEqual({ inline: true, buttons: [buttons.map((b) => ({ action: { type: 'text', label: b.label, payload: b.payload }, color: 'secondary' }))] });
  });

  it('uses a one-time keyboard when the buttons do not fit an inline one (NPS 0–10)', () => {
    const keyboard = vkKeyboard(Array.from({ length: 11 }, (_, n) => ({ label: String(n), payload: `{"nps":${n}}` })));
    expect(keyboard).toMatchObject({ one_time: true });
    expect((keyboard.buttons as unknown[][]).map((r) => r.length)).toEqual([5, 5, 1]);
  });

  it('sends a payload that is not JSON as a JSON string literal and refuses one over 255 characters', () => {
    expect(vkPayload('csat:5')).toBe('"csat:5"');
    expect(vkPayload('{"a":1}')).toBe('{"a":1}');
    expect(() => vkPayload(`{"x":"${'a'.repeat(260)}"}`)).toThrow(/255/);
  });
});

describe('vk readDelivery', () => {
  const msg = outbound();
  it('reads the new message id from response', () => {
    expect(vk.readDelivery(answer(200, { response: 1781 }), msg)).toEqual({ ok: true, external_message_id: '1781' });
  });

  it('retries HTTP 429/5xx honouring Retry-After', () => {
    expect(vk.readDelivery(answer(503, '', { 'retry-after': '30' }), msg)).toEqual({ ok: false, retryable: true, retry_after_s: 30, error_code: '503' });
    expect(vk.readDelivery(answer(429, ''), msg)).toEqual({ ok: false, retryable: true, error_code: '429' });
  });

  it('retries VK\'s rate limit and internal errors, which arrive as HTTP 200', () => {
    expect(vk.readDelivery(answer(200, { error: { error_code: 6, error_msg: 'Too many requests per second' } }), msg)).toEqual({ ok: false, retryable: true, retry_after_s: 1, error_code: '6' });
    expect(vk.readDelivery(answer(200, { error: { error_code: 10, error_msg: 'Internal server error' } }), msg)).toMatchObject({ ok: false, retryable: true, error_code: '10' });
  });

  it('marks the customer unreachable on 900, 901 and 902 (blocked, no permission, privacy)', () => {
    for (const code of [900, 901, 902]) {
      expect(vk.readDelivery(answer(200, { error: { error_code: code, error_msg: '…' } }), msg)).toEqual({ ok: false, retryable: false, unreachable: true, error_code: String(code) });
    }
  });

  it('fails permanently on other API errors (bad token, message too long)', () => {
    expect(vk.readDelivery(answer(200, { error: { error_code: 5, error_msg: 'User authorization failed' } }), msg)).toEqual({ ok: false, retryable: false, error_code: '5' });
    expect(vk.readDelivery(answer(200, { error: { error_code: 914, error_msg: 'Message is too long' } }), msg)).toEqual({ ok: false, retryable: false, error_code: '914' });
  });

  it('retries an unreadable 200 (random_id keeps it from being delivered twice)', () => {
    expect(vk.readDelivery(answer(200, '<html>'), msg)).toEqual({ ok: false, retryable: true, error_code: 'unreadable' });
  });

  it('has no reply window and native buttons', () => {
    expect(vk.capabilities).toMatchObject({ replyWindowSeconds: null, buttons: true, maxBodyBytes: 262_144 });
  });
});
