/**
 * Telegram edge cases the samples cannot express (channels.md §1): absent fields, platform
 * quirks (venue + location, animation + document), replies and delivery results. The ordinary
 * update kinds are covered by functions/channels/telegram/samples via contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ChannelRequestError, type Envelope, type OutboundMessage, type PlatformRequest, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import fc from 'fast-check';
import { splitTelegramText, TELEGRAM_MAX_TEXT, telegram, type TextPart } from '../../functions/channels/telegram/index.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const SECRET = TEST_SECRETS.TELEGRAM_SECRET_TOKEN!;
const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);

const user = { id: 48120077, is_bot: false, first_name: 'Marta', last_name: 'Nowak', language_code: 'pl' };
const chat = { id: 48120077, type: 'private', first_name: 'Marta' };
const message = (extra: Record<string, unknown>) => ({ update_id: 900, message: { message_id: 1, from: user, chat, date: 1790000000, ...extra } });

function request(update: unknown, headers: Record<string, string> = { 'x-telegram-bot-api-secret-token': SECRET }): RawRequest {
  return { method: 'POST', path: '/webhooks/telegram', query: {}, headers, body: Buffer.from(JSON.stringify(update), 'utf8') };
}

async function refusal(req: RawRequest, secrets: Secrets = TEST_SECRETS): Promise<ChannelRequestError> {
  try {
    await telegram.admit(req, secrets, NOW);
  } catch (e) {
    if (e instanceof ChannelRequestError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function parseUpdate(update: unknown): Promise<NormalisedEvent[]> {
  const req = request(update);
  const admission = await telegram.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const envelope: Envelope = buildEnvelope('telegram', req, admission, NOW, 'req-1');
  const events = await telegram.parse(envelope);
  for (const e of events) NormalisedEvent.parse(e);
  return events;
}

async function parseMessage(update: unknown): Promise<InboundMessage> {
  const [event] = await parseUpdate(update);
  if (event?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(event)}`);
  return event;
}

/** The single request of a text that fits one message. */
const one = (requests: readonly PlatformRequest[]): PlatformRequest => {
  expect(requests).toHaveLength(1);
  return requests[0]!;
};

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'telegram', conversation_id: '48120077', text: 'Your parcel left the warehouse.', kind: 'reply', ...extra,
});

describe('telegram admit', () => {
  it('refuses a secret of another length with 401 instead of throwing', async () => {
    const e = await refusal(request(message({ text: 'hi' }), { 'x-telegram-bot-api-secret-token': 'short' }));
    expect(e.status).toBe(401);
  });

  it('refuses when no inbound secret is configured, whatever the header says', async () => {
    const e = await refusal(request(message({ text: 'hi' }), { 'x-telegram-bot-api-secret-token': '' }), {});
    expect(e.status).toBe(401);
  });

  it('never echoes the secret header or body values in a refusal', async () => {
    const e = await refusal(request({ update_id: 'x', message: { text: 'call +14155550123' } }));
    expect(e.status).toBe(400);
    const said = `${e.message} ${JSON.stringify(e.cause)}`;
    expect(said).not.toContain(SECRET);
    expect(said).not.toContain('4155550123');
  });

  it('answers 200 with an empty body, since a JSON body would be executed as a Bot API call', async () => {
    const admission = await telegram.admit(request(message({ text: 'hi' })), TEST_SECRETS, NOW);
    expect(admission).toMatchObject({ kind: 'accepted', reply: { status: 200 } });
    expect(admission.kind === 'accepted' && admission.reply.body).toBeFalsy();
  });

  it('groups a callback query by the chat of its message, and an update without a chat by nothing', async () => {
    const cb = { update_id: 901, callback_query: { id: '77', from: { ...user, id: 5 }, chat_instance: '1', data: 'x', message: { message_id: 3, chat, date: 1790000000 } } };
    expect(await telegram.admit(request(cb), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: '48120077' });
    expect(await telegram.admit(request({ update_id: 902 }), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: null });
  });

  it('refuses an update_id beyond the safe integer range with 400', async () => {
    const req: RawRequest = { ...request({}), body: Buffer.from('{"update_id":9007199254740993}') };
    expect((await refusal(req)).status).toBe(400);
  });
});

describe('telegram parse', () => {
  it("keeps someone else's contact off the sender's identity", async () => {
    const event = await parseMessage(message({ contact: { phone_number: '+14155550199', first_name: 'Olena', user_id: 61100222 } }));
    expect(event.contact).toEqual({ phone: '+14155550199', owner_is_sender: false, name: 'Olena' });
    expect(event.customer_identity.phone).toBeUndefined();
    expect(event.customer_identity.phone_verified).toBeUndefined();
  });

  it('treats a contact without user_id as not the sender', async () => {
    const event = await parseMessage(message({ contact: { phone_number: '14155550142', first_name: 'Marta' } }));
    expect(event.contact?.owner_is_sender).toBe(false);
    expect(event.customer_identity).not.toHaveProperty('phone');
  });

  it('keeps the sender\'s own phone in E.164 even when libphonenumber-js calls it invalid', async () => {
    // +44 7700 900xxx is Ofcom's drama range: well-formed but never assigned.
    const event = await parseMessage(message({ contact: { phone_number: '447700900123', first_name: 'Marta', user_id: user.id } }));
    expect(event.customer_identity).toMatchObject({ phone: '+447700900123', phone_verified: true });
  });

  it('reports only valid phones typed in text, and none without a + when no region is known', async () => {
    expect((await parseMessage(message({ text: 'call 415 555 0123 please' }))).phone_in_text).toBeUndefined();
    expect((await parseMessage(message({ text: 'order 123456789012' }))).phone_in_text).toBeUndefined();
    expect((await parseMessage(message({ caption: 'tel +1 415 555 0188', photo: [{ file_id: 'p', file_unique_id: 'u', width: 1, height: 1 }] }))).phone_in_text)
      .toEqual({ value: '+14155550188', verified: false });
  });

  it('reports a venue once, as a location (Telegram also sets `location` on venues)', async () => {
    const location = { latitude: 50.4501, longitude: 30.5234 };
    const event = await parseMessage(message({ location, venue: { location, title: 'Acme Store', address: '1 Example St' } }));
    expect(event.attachments).toEqual([{ type: 'location', ...location }]);
  });

  it('reports an animation once, as a video (Telegram also sets `document` on animations)', async () => {
    const file = { file_id: 'CgACAgIAAxkBAAIDanim', file_unique_id: 'AgADanim', file_name: 'dance.mp4', mime_type: 'video/mp4', file_size: 30211 };
    const event = await parseMessage(message({ animation: { ...file, width: 320, height: 240, duration: 3 }, document: file }));
    expect(event.attachments).toEqual([{ type: 'video', platform_ref: file.file_id, file_unique_id: 'AgADanim', file_name: 'dance.mp4', mime_type: 'video/mp4', size: 30211, width: 320, height: 240 }]);
  });

  it('maps video notes to video and audio files to audio', async () => {
    const event = await parseMessage(message({
      video_note: { file_id: 'vn', file_unique_id: 'vnu', length: 240, duration: 5 },
      audio: { file_id: 'au', file_unique_id: 'auu', file_name: 'song.mp3', mime_type: 'audio/mpeg', duration: 120 },
    }));
    expect(event.attachments.map((a) => a.type)).toEqual(['video', 'audio']);
  });

  it('surfaces customer content it cannot represent (a poll) as an `other` attachment rather than dropping it', async () => {
    const event = await parseMessage(message({ poll: { id: '1', question: 'Which colour?', options: [] } }));
    expect(event.attachments).toEqual([{ type: 'other' }]);
  });

  it('ignores service messages, bots and sender-less messages with a short reason', async () => {
    expect(await parseUpdate(message({ pinned_message: { message_id: 1, chat, date: 1 } }))).toMatchObject([{ kind: 'ignored', reason: 'service message', dedup_key: 'update_id:900' }]);
    expect(await parseUpdate({ update_id: 903, message: { message_id: 2, from: { ...user, is_bot: true }, chat, date: 1, text: 'beep' } })).toMatchObject([{ kind: 'ignored', reason: 'bot sender' }]);
    expect(await parseUpdate({ update_id: 904, message: { message_id: 3, chat, date: 1, text: 'who?' } })).toMatchObject([{ kind: 'ignored', reason: 'no sender' }]);
  });

  it('ignores edits in group chats like the messages they edit', async () => {
    const update = { update_id: 905, edited_message: { message_id: 4, from: user, chat: { id: -100200, type: 'group' }, date: 1, edit_date: 2, text: 'x' } };
    expect(await parseUpdate(update)).toMatchObject([{ kind: 'ignored', reason: 'non-private chat' }]);
  });

  it('ignores other update kinds by branch name, keeping the dedup_key', async () => {
    const update = { update_id: 906, channel_post: { message_id: 5, chat: { id: -100300, type: 'channel' }, date: 1, text: 'news' } };
    expect(await parseUpdate(update)).toEqual([{ kind: 'ignored', channel: 'telegram', reason: 'unsupported update: channel_post', dedup_key: 'update_id:906' }]);
  });

  it('marks a customer who (re)starts the bot as reachable', async () => {
    const update = { update_id: 907, my_chat_member: { chat, from: user, date: 1, old_chat_member: { status: 'kicked' }, new_chat_member: { status: 'member' } } };
    expect(await parseUpdate(update)).toMatchObject([{ kind: 'ignored', reachability: 'reachable', customer_identity: { external_id: '48120077' } }]);
  });

  it('falls back to the callback data when the pressed message is inaccessible (older than 48 h)', async () => {
    const update = { update_id: 908, callback_query: { id: '88', from: user, chat_instance: '1', data: 'csat:4', message: { message_id: 9, chat, date: 0 } } };
    const event = await parseMessage(update);
    expect(event).toMatchObject({ text: 'csat:4', interaction: { payload: 'csat:4' }, conversation_id: '48120077', sent_at: Math.floor(NOW / 1000) });
  });

  it('answers a callback query without a message in the user\'s private chat', async () => {
    const update = { update_id: 909, callback_query: { id: '89', from: user, chat_instance: '1', data: 'csat:2', inline_message_id: 'AAA' } };
    expect(await parseMessage(update)).toMatchObject({ conversation_id: '48120077', external_message_id: 'callback:89' });
  });
});

describe('telegram render', () => {
  it('describes sendMessage with a numeric chat_id and the text', () => {
    const req = one(telegram.render(outbound(), { secrets: { TELEGRAM_BOT_TOKEN: '123456:TEST-token' } }));
    expect(req).toEqual({
      method: 'POST',
      url: 'https://api.telegram.org/bot123456:TEST-token/sendMessage',
      headers: { 'content-type': 'application/json' },
      body: '{"chat_id":48120077,"text":"Your parcel left the warehouse."}',
    });
  });

  it('keeps negative group ids numeric and non-numeric chat ids as strings', () => {
    const group = JSON.parse(one(telegram.render(outbound({ conversation_id: '-1001234567890' }), { secrets: {} })).body!);
    expect(group.chat_id).toBe(-1001234567890);
    const channel = JSON.parse(one(telegram.render(outbound({ conversation_id: '@acme_news' }), { secrets: {} })).body!);
    expect(channel.chat_id).toBe('@acme_news');
  });

  it('shows a visible placeholder instead of the bot token when none is configured', () => {
    expect(one(telegram.render(outbound(), { secrets: {} })).url).toBe('https://api.telegram.org/bot<TELEGRAM_BOT_TOKEN>/sendMessage');
  });

  it('renders survey buttons as one row of an inline keyboard with the payload as callback_data', () => {
    const buttons = [{ label: '😞 Bad', payload: 'csat:1' }, { label: '😀 Great', payload: 'csat:5' }];
    const body = JSON.parse(one(telegram.render(outbound({ kind: 'survey', text: 'How did we do?', buttons }), { secrets: {} })).body!);
    expect(body.reply_markup).toEqual({ inline_keyboard: [[{ text: '😞 Bad', callback_data: 'csat:1' }, { text: '😀 Great', callback_data: 'csat:5' }]] });
  });

  it('splits more than 8 buttons into balanced rows (NPS 0–10: 6 + 5)', () => {
    const buttons = Array.from({ length: 11 }, (_, n) => ({ label: String(n), payload: `nps:${n}` }));
    const rows = JSON.parse(one(telegram.render(outbound({ kind: 'survey', text: 'NPS?', buttons }), { secrets: {} })).body!).reply_markup.inline_keyboard;
    expect(rows.map((r: unknown[]) => r.length)).toEqual([6, 5]);
    expect(rows.flat().map((b: { callback_data: string }) => b.callback_data)).toEqual(buttons.map((b) => b.payload));
  });

  it('refuses to render a button payload longer than 64 bytes of callback_data', () => {
    const buttons = [{ label: 'x', payload: 'ü'.repeat(33) }];
    expect(() => telegram.render(outbound({ buttons }), { secrets: {} })).toThrow(/64 bytes/);
  });

  it('sends a text of exactly 4096 characters as one message, unchanged', () => {
    const exact = 'b'.repeat(TELEGRAM_MAX_TEXT);
    expect(JSON.parse(one(telegram.render(outbound({ text: exact }), { secrets: {} })).body!).text).toBe(exact);
  });

  it('splits a 9,000-character system text into 3 sendMessage requests at paragraph breaks, buttons on the last', () => {
    // Three paragraphs (2,998 + 2,998 + 3,000 characters) joined by blank lines: 9,000 characters.
    const paragraphs = ['a'.repeat(2998), 'b'.repeat(2998), 'c'.repeat(3000)];
    const text = paragraphs.join('\n\n');
    expect(text).toHaveLength(9000);
    const buttons = [{ label: '😀 Great', payload: 'csat:5' }];
    const requests = telegram.render(outbound({ kind: 'survey', text, buttons }), { secrets: { TELEGRAM_BOT_TOKEN: 't' } });
    expect(requests).toHaveLength(3);
    const bodies = requests.map((r) => JSON.parse(r.body!));
    expect(requests.every((r) => r.url === 'https://api.telegram.org/bott/sendMessage')).toBe(true);
    // 2,998 + 2 + 2,998 > 4096: each paragraph becomes one message, the blank lines dropped.
    expect(bodies.map((b) => b.text)).toEqual(paragraphs);
    expect(bodies.map((b) => b.chat_id)).toEqual([48120077, 48120077, 48120077]);
    expect(bodies.map((b) => 'reply_markup' in b)).toEqual([false, false, true]);
  });

  it('splits a 9,000-character text without any break into 3 parts of at most 4096 characters', () => {
    const text = 'x'.repeat(9000);
    const texts = telegram.render(outbound({ text }), { secrets: {} }).map((r) => JSON.parse(r.body!).text as string);
    expect(texts.map((t) => t.length)).toEqual([4096, 4096, 808]);
    expect(texts.join('')).toBe(text);
  });
});

describe('telegram splitTelegramText', () => {
  const joined = (parts: readonly TextPart[]) => parts.map((p) => p.text + p.sep).join('');

  it('prefers a paragraph break, then a line break, then a space, each only when the part stays at least half full', () => {
    expect(splitTelegramText('aaaa bb\ncc\n\ndd', 10)).toEqual([{ text: 'aaaa bb\ncc', sep: '\n\n' }, { text: 'dd', sep: '' }]);
    expect(splitTelegramText('aaaa bb\ncccc', 10)).toEqual([{ text: 'aaaa bb', sep: '\n' }, { text: 'cccc', sep: '' }]);
    expect(splitTelegramText('aaaaaa bbbbbb', 10)).toEqual([{ text: 'aaaaaa', sep: ' ' }, { text: 'bbbbbb', sep: '' }]);
    // A break in the first half would leave a tiny part: the cut moves to the next kind of boundary.
    expect(splitTelegramText('a\n\nbbbbbb cccc', 10)).toEqual([{ text: 'a\n\nbbbbbb', sep: ' ' }, { text: 'cccc', sep: '' }]);
  });

  it('sends no empty last part when the text ends with a separator right after a full part', () => {
    expect(splitTelegramText('aaaaaaaaaa ', 10)).toEqual([{ text: 'aaaaaaaaaa', sep: ' ' }]);
  });

  it('never cuts inside a surrogate pair on a hard cut', () => {
    const text = `${'c'.repeat(4095)}😀😀`;
    const parts = splitTelegramText(text);
    expect(parts.map((p) => p.text)).toEqual(['c'.repeat(4095), '😀😀']);
  });

  it('keeps every part within the limit, never splits a pair, and loses only the separators it reports', () => {
    // Text from letters, spaces, line breaks and astral emoji, around the limit (small limits
    // too, so cuts and boundaries are common).
    const unit = fc.constantFrom('a', 'b', ' ', '\n', '😀', 'é', '\n\n');
    fc.assert(fc.property(fc.array(unit, { maxLength: 600 }).map((u) => u.join('')), fc.integer({ min: 2, max: 64 }), (text, max) => {
      const parts = splitTelegramText(text, max);
      expect(joined(parts)).toBe(text);
      for (const [i, p] of parts.entries()) {
        expect(p.text.length).toBeLessThanOrEqual(max);
        if (text !== '') expect(p.text.length).toBeGreaterThan(0);
        expect(['', '\n\n', '\n', ' ']).toContain(p.sep);
        if (i < parts.length - 1) expect(p.text.length + p.sep.length).toBeGreaterThanOrEqual(Math.ceil(max / 2));
        expect(p.text).not.toMatch(/[\uD800-\uDBFF]$/);
        expect(p.text).not.toMatch(/^[\uDC00-\uDFFF]/);
      }
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 12000 }), (text) => {
      const parts = splitTelegramText(text);
      expect(joined(parts)).toBe(text);
      expect(parts.every((p) => p.text.length <= TELEGRAM_MAX_TEXT)).toBe(true);
    }), { numRuns: 50 });
  });
});

describe('telegram answerInteraction', () => {
  it('keeps the callback query id from parse time and describes answerCallbackQuery with it', async () => {
    const update = { update_id: 910, callback_query: { id: '4419800112233445566', from: user, chat_instance: '1', data: 'csat:5', message: { message_id: 9, chat, date: 1790000000 } } };
    const m = await parseMessage(update);
    expect(m.interaction_ref).toEqual({ callback_query_id: '4419800112233445566' });
    expect(telegram.answerInteraction(m.interaction_ref!, { secrets: { TELEGRAM_BOT_TOKEN: '123456:TEST-token' } })).toEqual({
      method: 'POST',
      url: 'https://api.telegram.org/bot123456:TEST-token/answerCallbackQuery',
      headers: { 'content-type': 'application/json' },
      body: '{"callback_query_id":"4419800112233445566"}',
    });
  });

  it('keeps no interaction ref for an ordinary message, and answers nothing without a query id', async () => {
    expect((await parseMessage(message({ text: 'hi' }))).interaction_ref).toBeUndefined();
    expect(telegram.answerInteraction({}, { secrets: {} })).toBeNull();
  });

  it('reads Telegram\'s `result: true` as answered and an expired query (400) as a failure without retry', () => {
    const res = (status: number, body: unknown) => ({ status, headers: {}, body: JSON.stringify(body) });
    expect(telegram.readDelivery(res(200, { ok: true, result: true }), outbound())).toEqual({ ok: true });
    expect(telegram.readDelivery(res(400, { ok: false, error_code: 400, description: 'Bad Request: query is too old and response timeout expired or query ID is invalid' }), outbound()))
      .toEqual({ ok: false, retryable: false, error_code: '400' });
  });
});

describe('telegram readDelivery', () => {
  const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('reads the outbound id as <chat.id>:<message_id>', () => {
    expect(telegram.readDelivery(res(200, { ok: true, result: { message_id: 951, chat: { id: 48120077, type: 'private' }, date: 1, text: 'x' } }), outbound()))
      .toEqual({ ok: true, external_message_id: '48120077:951' });
  });

  it('counts an unreadable 200 as sent, without an id', () => {
    expect(telegram.readDelivery(res(200, 'not json'), outbound())).toEqual({ ok: true });
  });

  it('retries 429 after parameters.retry_after', () => {
    const r = telegram.readDelivery(res(429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } }), outbound());
    expect(r).toEqual({ ok: false, retryable: true, retry_after_s: 7, error_code: '429' });
  });

  it('retries 429 after the Retry-After header when the body has no parameters', () => {
    expect(telegram.readDelivery(res(429, '', { 'retry-after': '3' }), outbound())).toMatchObject({ retryable: true, retry_after_s: 3 });
  });

  it('retries server errors', () => {
    expect(telegram.readDelivery(res(502, 'Bad Gateway'), outbound())).toEqual({ ok: false, retryable: true, error_code: '502' });
  });

  it('marks a customer who blocked the bot (403) unreachable, without retry', () => {
    const r = telegram.readDelivery(res(403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }), outbound());
    expect(r).toEqual({ ok: false, retryable: false, unreachable: true, error_code: 'blocked' });
  });

  it('does not retry other client errors', () => {
    expect(telegram.readDelivery(res(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }), outbound()))
      .toEqual({ ok: false, retryable: false, error_code: '400' });
  });
});
