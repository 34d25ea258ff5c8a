/**
 * Long replies arrive whole (issue 13): on every channel with a per-message limit, a 5,000-character
 * reply (and a 1,200-character Cyrillic one on Instagram, whose limit is 1,000 bytes of UTF-8)
 * goes out as platform requests each within that platform's limit, in order, the text complete
 * when the parts are joined; SMS tells the agent its segments; a text too long even for
 * MAX_MESSAGE_PARTS messages is refused with 422 and the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureText, type TextUnit } from '../../functions/channels/text.js';
import type { Runtime } from '../../local/runtime.js';
import { customerWrites, type WritingChannel } from '../helpers/customer-writes.js';
import { testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';

/** Each platform's limit per message, in its own unit (docs/channels.md), and where the text sits in its request. */
const LIMITS: Record<WritingChannel, { max: number; unit: TextUnit; text: (r: DevOutboxItem['request']) => string }> = {
  telegram: { max: 4096, unit: 'utf16', text: (r) => JSON.parse(r.body!).text },
  whatsapp: { max: 4096, unit: 'utf16', text: (r) => JSON.parse(r.body!).text.body },
  messenger: { max: 2000, unit: 'utf16', text: (r) => JSON.parse(r.body!).message.text },
  instagram: { max: 1000, unit: 'utf8', text: (r) => JSON.parse(r.body!).message.text },
  vk: { max: 4096, unit: 'codepoint', text: (r) => new URLSearchParams(r.body!).get('message')! },
  viber: { max: 7000, unit: 'codepoint', text: (r) => JSON.parse(r.body!).text },
  twilio: { max: 1600, unit: 'utf16', text: (r) => new URLSearchParams(r.body!).get('Body')! },
};
const CUSTOMERS: Record<WritingChannel, string> = {
  telegram: '58120001', whatsapp: '12065550901', messenger: '27001122330000001', instagram: '6023456700000001',
  vk: '400500901', viber: 'limitsTestViberUser0000==', twilio: '+12065550902',
};

/** A reply of paragraphs and sentences: about `length` characters of words, emoji and punctuation. */
function longText(length: number): string {
  const sentences: string[] = [];
  let n = 0;
  while (sentences.join(' ').length < length) sentences.push(`${n++ % 7 === 6 ? '📦 ' : ''}Your delivery number ${n} is on its way, and we will keep you posted.`);
  // Paragraphs every ~900 characters, so paragraph breaks are among the cut points.
  return sentences.join(' ').replace(/(.{900}[^ ]*) /g, '$1\n\n').slice(0, length);
}

/** The parts, joined back with the one separator dropped at each cut, give the text exactly. */
function expectJoinsTo(parts: readonly string[], text: string): void {
  let at = 0;
  for (const [i, part] of parts.entries()) {
    expect(text.startsWith(part, at), `part ${i + 1} continues the text`).toBe(true);
    at += part.length;
    if (i < parts.length - 1) {
      const sep = ['\n\n', '\n', ' '].find((s) => text.startsWith(s, at)) ?? '';
      at += sep.length;
    }
  }
  expect(at).toBe(text.length);
}

describe('long replies arrive whole, each part within the platform limit', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const outbox = async (): Promise<DevOutboxItem[]> => (await rt.api.get('/dev/outbox')).body.items;

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off' }, { visibilityTimeoutMs: 2000 });
    token = await rt.api.token('ann', 'agent');
    for (const channel of Object.keys(CUSTOMERS) as WritingChannel[]) {
      const res = await rt.api.webhook(channel, customerWrites(channel, CUSTOMERS[channel], 'Hello, where is my order?', rt.clock.now()));
      expect(res.status, channel).toBe(200);
    }
    expect((await rt.settle()).dlq).toBe(0);
  });
  afterAll(async () => { await rt?.stop(); });

  const ticketOf = async (channel: WritingChannel): Promise<string> => {
    const res = await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`${channel}:${CUSTOMERS[channel]}`)}`, token);
    return res.body.items[0].tickets[0].id;
  };

  const sendAndRead = async (channel: WritingChannel, text: string) => {
    const ticketId = await ticketOf(channel);
    const before = (await outbox()).length;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text }, token);
    expect(res.status, `${channel}: ${JSON.stringify(res.body)}`).toBe(202);
    await rt.settle();
    const requests = (await outbox()).slice(before).filter((o) => o.ticket_id === ticketId && o.kind === 'reply').map((o) => o.request);
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<Record<string, unknown>>;
    return { accepted: res.body, requests, entry: timeline.find((e) => e.id === res.body.id)! };
  };

  for (const channel of Object.keys(LIMITS) as WritingChannel[]) {
    it(`${channel}: a 5,000-character reply goes out as requests within ${LIMITS[channel].max} ${LIMITS[channel].unit}, in order, complete`, async () => {
      const text = longText(5000);
      expect(text).toHaveLength(5000);
      const { accepted, requests, entry } = await sendAndRead(channel, text);
      const limit = LIMITS[channel];
      const parts = requests.map(limit.text);
      expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(measureText(text, limit.unit) / limit.max));
      expect(accepted.parts).toBe(parts.length);
      for (const p of parts) expect(measureText(p, limit.unit)).toBeLessThanOrEqual(limit.max);
      expectJoinsTo(parts, text);
      // The timeline shows the reply as written, delivered whole.
      expect(entry).toMatchObject({ text, delivery: 'sent' });
    });
  }

  it('instagram: a 1,200-character Cyrillic reply (2,200+ bytes) goes out as parts of at most 1,000 bytes', async () => {
    const cyrillic = Array.from({ length: 40 }, (_, i) => `Ваш заказ номер ${i + 1} уже в пути, мы сообщим о доставке.`).join(' ').slice(0, 1200);
    expect(cyrillic).toHaveLength(1200);
    expect(Buffer.byteLength(cyrillic, 'utf8')).toBeGreaterThan(2000);
    const { requests, entry } = await sendAndRead('instagram', cyrillic);
    const parts = requests.map(LIMITS.instagram.text);
    expect(parts.length).toBe(3);
    for (const p of parts) expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(1000);
    expectJoinsTo(parts, cyrillic);
    expect(entry).toMatchObject({ delivery: 'sent' });
  });

  it('twilio SMS: the agent is told the segments the reply is billed as', async () => {
    const ticketId = await ticketOf('twilio');
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'a'.repeat(161) }, token);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ parts: 1, sms: { segments: 2, encoding: 'GSM-7' } });
    const unicode = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Dziękujemy!' }, token);
    expect(unicode.body).toMatchObject({ parts: 1, sms: { segments: 1, encoding: 'UCS-2' } });
    await rt.settle();
  });

  it('refuses a text that would need more than 10 messages with 422 text_too_long naming the limit, storing nothing', async () => {
    const ticketId = await ticketOf('instagram');
    const before = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items.length;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Я'.repeat(6000) }, token);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('text_too_long');
    expect(res.body.error.message).toContain('1,000 bytes (UTF-8)');
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items.length).toBe(before);
  });
});
