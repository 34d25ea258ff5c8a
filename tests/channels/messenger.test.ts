/**
 * Messenger edge cases the samples cannot express (channels.md §3): Send API shapes (RESPONSE,
 * quick replies, chat-plugin guests), delivery results and receipt words, and parser corners
 * (location, templates, items without a sender, malformed edits, the Page as sender).
 */
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import type { OutboundMessage, RawRequest } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { MAX_QUICK_REPLIES, QUICK_REPLY_TITLE_MAX } from '../../functions/channels/meta-messaging.js';
import { MESSENGER_MAX_TEXT, messenger } from '../../functions/channels/messenger/index.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const PAGE = '104857600200300';
const LUKAS = '27001122334455667';

function request(value: unknown): RawRequest {
  const body = metaWireBody(value);
  return { method: 'POST', path: '/webhooks/messenger', query: {}, headers: { 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body: Buffer.from(body, 'utf8') };
}
const page = (...items: unknown[]) => ({ object: 'page', entry: [{ id: PAGE, time: 1790000000000, messaging: items }] });
const from = (kind: Record<string, unknown>, sender: Record<string, unknown> = { id: LUKAS }) => ({ sender, recipient: { id: PAGE }, timestamp: 1790000100000, ...kind });

async function events(value: unknown): Promise<NormalisedEvent[]> {
  const req = request(value);
  const admission = await messenger.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const out = await messenger.parse(buildEnvelope('messenger', req, admission, NOW, 'req-1'));
  for (const e of out) NormalisedEvent.parse(e);
  return out;
}
async function one(value: unknown): Promise<InboundMessage> {
  const [e] = await events(value);
  if (e?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(e)}`);
  return e;
}

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'messenger', conversation_id: LUKAS, text: 'Ihr Paket ist unterwegs.', kind: 'reply', ...extra,
});
const ctx = { secrets: { ...TEST_SECRETS, META_PAGE_ACCESS_TOKEN: 'page-token', META_GRAPH_API_VERSION: 'v23.0' } };

describe('messenger render', () => {
  it('sends a RESPONSE through /me/messages with the Page token', () => {
    expect(renderOne(messenger, outbound(), ctx)).toEqual({
      method: 'POST', url: 'https://graph.facebook.com/v23.0/me/messages',
      headers: { 'content-type': 'application/json', authorization: 'Bearer page-token' },
      body: JSON.stringify({ recipient: { id: LUKAS }, messaging_type: 'RESPONSE', message: { text: 'Ihr Paket ist unterwegs.' } }),
    });
  });

  it('follows META_GRAPH_API_VERSION and leaves a visible placeholder without a token', () => {
    const req = renderOne(messenger, outbound(), { secrets: { META_GRAPH_API_VERSION: 'v24.0' } });
    expect(req.url).toBe('https://graph.facebook.com/v24.0/me/messages');
    expect(req.headers.authorization).toBe('Bearer <META_PAGE_ACCESS_TOKEN>');
  });

  it('answers a chat-plugin guest through recipient.user_ref', () => {
    expect(JSON.parse(renderOne(messenger, outbound({ conversation_id: 'user_ref:plugin-guest-1' }), ctx).body!).recipient).toEqual({ user_ref: 'plugin-guest-1' });
  });

  it('renders survey choices as quick replies, titles cut to 20 characters, payloads whole', () => {
    const buttons = [{ label: 'Sehr zufrieden mit dem Service', payload: 'csat:5' }, { label: 'Geht so', payload: 'csat:3' }];
    const message = JSON.parse(renderOne(messenger, outbound({ kind: 'survey', text: 'Wie war es?', buttons }), ctx).body!).message;
    expect(message.text).toBe('Wie war es?');
    expect(message.quick_replies).toEqual([
      { content_type: 'text', title: expect.any(String), payload: 'csat:5' },
      { content_type: 'text', title: 'Geht so', payload: 'csat:3' },
    ]);
    expect(message.quick_replies[0].title.length).toBeLessThanOrEqual(QUICK_REPLY_TITLE_MAX);
  });

  it('numbers more than 13 choices in the text instead of dropping some', () => {
    const buttons = Array.from({ length: MAX_QUICK_REPLIES + 1 }, (_, i) => ({ label: `Option ${i}`, payload: `p${i}` }));
    const message = JSON.parse(renderOne(messenger, outbound({ kind: 'survey', text: 'Pick', buttons }), ctx).body!).message;
    expect(message).not.toHaveProperty('quick_replies');
    expect(message.text).toContain('14. Option 13');
  });

  it('refuses a quick-reply payload over 1000 characters', () => {
    expect(() => renderOne(messenger, outbound({ buttons: [{ label: 'x', payload: 'p'.repeat(1001) }] }), ctx)).toThrow(/payload/);
  });

  it('tags a human agent\'s reply beyond the 24-hour window HUMAN_AGENT (MESSAGE_TAG instead of RESPONSE)', () => {
    const body = JSON.parse(renderOne(messenger, outbound({ tag: 'HUMAN_AGENT' }), ctx).body!);
    expect(body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  });

  it('sends a 5,000-character text as 3 messages of at most 2,000 characters, in order, nothing cut', () => {
    const text = 'x'.repeat(5000);
    const texts = renderRequests(messenger, outbound({ text }), ctx).map((r) => JSON.parse(r.body!).message.text as string);
    expect(texts.map((t) => t.length)).toEqual([MESSENGER_MAX_TEXT, MESSENGER_MAX_TEXT, 1000]);
    expect(texts.join('')).toBe(text);
  });
});

describe('messenger delivery', () => {
  it('takes message_id (the mid delivery receipts name) as the outbound id', () => {
    const res = { status: 200, headers: {}, body: JSON.stringify({ recipient_id: LUKAS, message_id: 'm_OUT1' }) };
    expect(messenger.readDelivery(res, outbound())).toEqual({ ok: true, external_message_id: 'm_OUT1' });
  });

  it('marks a person who is not available unreachable, and a reply outside the window a permanent failure', () => {
    const err = (code: number, sub: number) => ({ status: 400, headers: {}, body: JSON.stringify({ error: { code, error_subcode: sub, type: 'OAuthException', message: 'x' } }) });
    expect(messenger.readDelivery(err(551, 1545041), outbound())).toMatchObject({ ok: false, retryable: false, unreachable: true });
    expect(messenger.readDelivery(err(10, 2018278), outbound())).toEqual({ ok: false, retryable: false, error_code: '10/2018278' });
  });

  it('retries error 1200 ("Temporary send message failure"), and a rate limit (613) with its Retry-After', () => {
    const err = (code: number, headers: Record<string, string> = {}) => ({ status: 400, headers, body: JSON.stringify({ error: { code, type: 'OAuthException', message: 'x' } }) });
    expect(messenger.readDelivery(err(1200), outbound())).toEqual({ ok: false, retryable: true, error_code: '1200' });
    expect(messenger.readDelivery(err(613, { 'retry-after': '120' }), outbound())).toEqual({ ok: false, retryable: true, retry_after_s: 120, error_code: '613' });
  });

  it('maps delivery → delivered and read → read', () => {
    expect(messenger.deliveryFor({ external_message_id: 'm', status: 'delivery' })).toBe('delivered');
    expect(messenger.deliveryFor({ external_message_id: 'm', status: 'read' })).toBe('read');
    expect(messenger.deliveryFor({ external_message_id: 'm', status: 'typing_on' })).toBeNull();
  });
});

describe('messenger parse', () => {
  it('maps a legacy location attachment to coordinates', async () => {
    const e = await one(page(from({ message: { mid: 'm_1', attachments: [{ type: 'location', payload: { coordinates: { lat: 52.52, long: 13.405 } } }] } })));
    expect(e.attachments).toEqual([{ type: 'location', latitude: 52.52, longitude: 13.405 }]);
  });

  it('maps template and unknown attachments to other', async () => {
    const e = await one(page(from({ message: { mid: 'm_2', attachments: [{ type: 'template', payload: { template_type: 'generic' } }, { type: 'reel', payload: { url: 'https://x.example/r' } }] } })));
    expect(e.attachments).toEqual([{ type: 'other' }, { type: 'other', url: 'https://x.example/r' }]);
  });

  it('ignores items without a sender, a message without mid, and an empty message', async () => {
    expect(await events(page({ recipient: { id: PAGE }, timestamp: 1, message: { mid: 'm_3', text: 'x' } }))).toMatchObject([{ kind: 'ignored', reason: 'no sender' }]);
    expect(await events(page(from({ message: { text: 'x' } })))).toMatchObject([{ kind: 'ignored', reason: 'message without mid' }]);
    expect(await events(page(from({ message: { mid: 'm_4' } })))).toMatchObject([{ kind: 'ignored', reason: 'empty message' }]);
  });

  it('ignores an edit without num_edit (its dedup key would not be unique)', async () => {
    expect(await events(page(from({ message_edit: { mid: 'm_5', text: 'x' } })))).toMatchObject([{ kind: 'ignored', reason: 'malformed edit' }]);
  });

  it('treats anything the Page itself sends as an echo, postbacks included', async () => {
    expect(await events(page(from({ postback: { mid: 'm_6', title: 'x', payload: 'y' } }, { id: PAGE })))).toEqual([{ kind: 'ignored', channel: 'messenger', reason: 'echo' }]);
  });

  it('uses the message timestamp in ms and seconds, falling back to the receive time', async () => {
    const e = await one(page({ sender: { id: LUKAS }, recipient: { id: PAGE }, message: { mid: 'm_7', text: 'x' } }));
    expect(e).toMatchObject({ sent_at_ms: NOW, sent_at: Math.floor(NOW / 1000) });
  });

  it('groups by the customer: the sender, or the recipient of our echo', async () => {
    expect(await messenger.admit(request(page(from({ message: { mid: 'm_8', text: 'x' } }))), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: LUKAS });
    const echo = page({ sender: { id: PAGE }, recipient: { id: LUKAS }, timestamp: 1, message: { mid: 'm_9', is_echo: true, text: 'x' } });
    expect(await messenger.admit(request(echo), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: LUKAS });
  });

  it('names an unknown item kind by its schema key only', async () => {
    expect(await events(page(from({ messaging_feedback: { feedback_screens: [] } })))).toMatchObject([{ kind: 'ignored', reason: 'unsupported item: messaging_feedback' }]);
  });
});
