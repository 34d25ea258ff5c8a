/**
 * Instagram Messaging edge cases the samples cannot express (channels.md §4): Send API shapes
 * (Instagram token with the Page token as fallback, no messaging_type, quick replies, 1000
 * characters), receipts (read.mid, and an older watermark), attachments and echoes.
 */
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import type { OutboundMessage, RawRequest } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { INSTAGRAM_MAX_TEXT, instagram } from '../../functions/channels/instagram/index.js';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { NormalisedEvent } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const IG = '17841400000000001';
const SOFIA = '6023456789012345';

function request(value: unknown): RawRequest {
  const body = metaWireBody(value);
  return { method: 'POST', path: '/webhooks/instagram', query: {}, headers: { 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body: Buffer.from(body, 'utf8') };
}
const account = (...items: unknown[]) => ({ object: 'instagram', entry: [{ time: 1790000000000, id: IG, messaging: items }] });
const from = (kind: Record<string, unknown>, sender = SOFIA) => ({ sender: { id: sender }, recipient: { id: IG }, timestamp: 1790000100000, ...kind });

async function events(value: unknown): Promise<NormalisedEvent[]> {
  const req = request(value);
  const admission = await instagram.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const out = await instagram.parse(buildEnvelope('instagram', req, admission, NOW, 'req-1'));
  for (const e of out) NormalisedEvent.parse(e);
  return out;
}

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'instagram', conversation_id: SOFIA, text: 'Lo enviamos hoy.', kind: 'reply', ...extra,
});

describe('instagram render', () => {
  it('sends through /me/messages with INSTAGRAM_ACCESS_TOKEN and no messaging_type', () => {
    expect(renderOne(instagram, outbound(), { secrets: { INSTAGRAM_ACCESS_TOKEN: 'ig-token', META_PAGE_ACCESS_TOKEN: 'page-token' } })).toEqual({
      method: 'POST', url: 'https://graph.facebook.com/v23.0/me/messages',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ig-token' },
      body: JSON.stringify({ recipient: { id: SOFIA }, message: { text: 'Lo enviamos hoy.' } }),
    });
  });

  it('falls back to META_PAGE_ACCESS_TOKEN, then to a visible placeholder', () => {
    expect(renderOne(instagram, outbound(), { secrets: { META_PAGE_ACCESS_TOKEN: 'page-token' } }).headers.authorization).toBe('Bearer page-token');
    expect(renderOne(instagram, outbound(), { secrets: {} }).headers.authorization).toBe('Bearer <INSTAGRAM_ACCESS_TOKEN>');
  });

  it('renders survey choices as quick replies on the last of the messages a long text is split into', () => {
    const requests = renderRequests(instagram, outbound({ kind: 'survey', text: 'y'.repeat(1500), buttons: [{ label: 'Bueno', payload: 'csat:4' }] }), { secrets: {} });
    const messages = requests.map((r) => JSON.parse(r.body!).message);
    expect(messages.map((m) => m.text.length)).toEqual([INSTAGRAM_MAX_TEXT, 500]);
    expect(messages.map((m) => m.quick_replies)).toEqual([undefined, [{ content_type: 'text', title: 'Bueno', payload: 'csat:4' }]]);
  });

  it('counts the limit in bytes of UTF-8: a 550-letter Cyrillic reply (1,100 bytes) goes out as two messages of at most 1,000 bytes', () => {
    const text = `${'Привет '.repeat(78)}Пока`; // 550 characters, 1,100 - 78 bytes (spaces are 1 byte)
    expect(text).toHaveLength(550);
    const texts = renderRequests(instagram, outbound({ text }), { secrets: {} }).map((r) => JSON.parse(r.body!).message.text as string);
    expect(texts.length).toBe(2);
    for (const t of texts) expect(Buffer.byteLength(t, 'utf8')).toBeLessThanOrEqual(INSTAGRAM_MAX_TEXT);
    expect(texts.join(' ')).toBe(text);
  });

  it('takes message_id as the outbound id (the mid read receipts name)', () => {
    const res = { status: 200, headers: {}, body: JSON.stringify({ recipient_id: SOFIA, message_id: 'aWdfOUT' }) };
    expect(instagram.readDelivery(res, outbound())).toEqual({ ok: true, external_message_id: 'aWdfOUT' });
    expect(instagram.deliveryFor({ external_message_id: 'aWdfOUT', status: 'read' })).toBe('read');
  });
});

describe('instagram parse', () => {
  it('reads read.mid as a status update and an older read.watermark as a watermark', async () => {
    expect(await events(account(from({ read: { mid: 'aWdfOUT' } })))).toEqual([
      { kind: 'ignored', channel: 'instagram', reason: 'read receipt', status_updates: [{ external_message_id: 'aWdfOUT', status: 'read', at: 1790000100 }] },
    ]);
    expect(await events(account(from({ read: { watermark: 1790000090000 } })))).toEqual([
      { kind: 'ignored', channel: 'instagram', reason: 'read receipt', watermarks: [{ conversation_id: SOFIA, status: 'read', at_ms: 1790000090000 }] },
    ]);
  });

  it('keeps a sticker as a sticker and unknown attachment kinds as other', async () => {
    const [e] = await events(account(from({ message: { mid: 'aWdf1', attachments: [{ type: 'image', payload: { url: 'https://x.example/s.webp', sticker_id: 1 } }, { type: 'animated_image', payload: { url: 'https://x.example/a.gif' } }] } })));
    expect(e).toMatchObject({ kind: 'message', attachments: [{ type: 'sticker', url: 'https://x.example/s.webp' }, { type: 'other', url: 'https://x.example/a.gif' }] });
  });

  it('never makes the professional account a customer, whatever the item', async () => {
    for (const kind of [{ message: { mid: 'aWdf2', text: 'x' } }, { postback: { mid: 'aWdf3', title: 't', payload: 'p' } }, { message_edit: { mid: 'aWdf4', text: 'x', num_edit: 1 } }]) {
      expect(await events(account(from(kind, IG)))).toEqual([{ kind: 'ignored', channel: 'instagram', reason: 'echo' }]);
    }
  });

  it('has no chat-plugin guests: a sender with only user_ref is no sender', async () => {
    expect(await events(account({ sender: { user_ref: 'x' }, recipient: { id: IG }, timestamp: 1, message: { mid: 'aWdf5', text: 'x' } }))).toMatchObject([{ kind: 'ignored', reason: 'no sender' }]);
  });

  it('ignores an entry with nothing in it, once', async () => {
    expect(await events({ object: 'instagram', entry: [{ id: IG, time: 1 }] })).toEqual([{ kind: 'ignored', channel: 'instagram', reason: 'empty entry' }]);
  });
});
