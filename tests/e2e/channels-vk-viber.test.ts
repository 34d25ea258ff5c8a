/**
 * VK (channels.md §5) and Viber (§6) end to end over HTTP against the running local runtime:
 * every accepted sample replayed in NN order with the prescribed answer, the result seen through
 * the Agent API (customers, identities, messages, edits, interactions, duplicates, ignored
 * events, reachability), replies as messages.send / send_message requests in the outbox, Viber
 * receipts moving our message's delivery forward (tokens above 2^53 matched exactly), no reply
 * window on either channel, and refusals that leave no trace.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { vkRandomId } from '../../functions/channels/vk/index.js';
import { loadSamples, TEST_SECRETS, type Sample } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

type OutboxItem = { kind: string; channel: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null } };
type Card = { id: string; display_name: string | null; identities: Array<Record<string, unknown>>; tickets: Array<{ id: string; number: string; status: string; channel: string }> };
type Entry = Record<string, any>;

const VK_TOKEN = 'vk1.a.test-community-token';
const OLGA = '400500600';
const DMYTRO = '400500611';
const JAN = '400500622';
const IRYNA = 'pttm25kSGUo1919sBORWyA==';
const TOMASZ = '7sT+qkPz/1mXbE0Ha9LwRg==';

describe('VK and Viber channels end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const vkSamples = loadSamples('vk');
  const viberSamples = loadSamples('viber');

  const send = (channel: string, s: Pick<Sample, 'request'>) => rt.api.webhook(channel, { headers: s.request.headers, body: s.request.body, query: s.request.query });
  const card = async (channel: string, externalId: string): Promise<Card | undefined> => {
    const res = await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`${channel}:${externalId}`)}`, token);
    expect(res.status).toBe(200);
    return res.body.items[0];
  };
  const timeline = async (ticketId: string): Promise<Entry[]> => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items;
  const inbound = async (ticketId: string) => (await timeline(ticketId)).filter((e) => e.type === 'message' && e.direction === 'in');
  const outbox = async (): Promise<OutboxItem[]> => (await rt.api.get('/dev/outbox')).body.items;
  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queued: rt.queues.inbound.stats().depth };
  };
  const onlyTicket = async (channel: string, externalId: string) => {
    const c = (await card(channel, externalId))!;
    expect(c.tickets).toHaveLength(1);
    return c.tickets[0]!;
  };
  /** A Viber callback signed as Viber signs it (hex HMAC-SHA256 of the raw body). */
  const viberCallback = (body: string) => rt.api.webhook('viber', {
    headers: { 'content-type': 'application/json', 'x-viber-content-signature': createHmac('sha256', TEST_SECRETS.VIBER_AUTH_TOKEN!).update(body).digest('hex') },
    body,
  });

  beforeAll(async () => {
    // A visibility timeout above one slow processing on the shared, loaded DynamoDB Local, so a
    // record still in work is not received again (nothing here is meant to fail and be retried).
    rt = await testRuntime({ VK_ACCESS_TOKEN: VK_TOKEN, VIBER_SENDER_NAME: 'Acme Support' }, { visibilityTimeoutMs: 5000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  describe('vk', () => {
    it('answers every accepted sample, in NN order, with text/plain ok (the confirmation with VK_CONFIRMATION)', async () => {
      for (const s of vkSamples.filter((x) => x.kind === 'accepted')) {
        const res = await send('vk', s);
        expect(res.status, s.name).toBe(s.expect.status);
        expect(res.body, s.name).toBe(s.expect.response_body);
        expect(res.headers.get('content-type'), s.name).toMatch(/^text\/plain/);
      }
      const settled = await rt.settle();
      expect(settled.dlq, JSON.stringify([...rt.queues.inboundDlq.dlqEntries(), ...rt.queues.outboundDlq.dlqEntries()].map((d) => [d.reason, d.receiveCount]))).toBe(0);
    });

    it('creates Olga with her messages: the edit applied in place, both kinds of button press, the reply reference', async () => {
      const olga = (await card('vk', OLGA))!;
      expect(olga.identities).toEqual([expect.objectContaining({ channel: 'vk', external_id: OLGA, language: 'ru' })]);
      expect(olga.tickets).toHaveLength(1);
      const messages = await inbound(olga.tickets[0]!.id);
      // 02 (edited by 10), 09, 11, 21 — not the duplicate 19, not her group-chat message 13.
      expect(messages.map((m) => m.external_message_id)).toEqual([`${OLGA}:77`, `${OLGA}:79`, 'callback:3f1c2a9b7d0e', `${OLGA}:82`]);
      expect(messages[0]).toMatchObject({ channel: 'vk', conversation_id: OLGA, edited: true, text: 'Здравствуйте! Заказ №4471 до сих пор не пришёл. Номер трека: RU123456789.', edited_at: new Date(1790000480_000).toISOString() });
      expect(messages[1]).toMatchObject({ text: 'Где мой заказ?', interaction: { payload: '{"command":"where_is_my_order"}' } });
      expect(messages[2]).toMatchObject({ text: '', interaction: { payload: '{"survey":"csat","score":5}' }, in_reply_to: `${OLGA}:80` });
      expect(messages[3]).toMatchObject({ text: 'Вот ссылка на трекинг', attachments: [{ type: 'other' }], in_reply_to: `${OLGA}:81` });
    });

    it('creates Dmytro with one message per attachment kind, unreachable after message_deny', async () => {
      const dmytro = (await card('vk', DMYTRO))!;
      // 14 allowed, then 15 denied messages from the community.
      expect(dmytro.identities).toEqual([expect.objectContaining({ external_id: DMYTRO, language: 'uk', reachability: 'unreachable' })]);
      const messages = await inbound((await onlyTicket('vk', DMYTRO)).id);
      expect(messages.map((m) => m.attachments.map((a: { type: string }) => a.type))).toEqual([['image'], ['document'], ['audio'], ['video'], ['sticker'], ['location']]);
      expect(messages[0]!.attachments[0]).toMatchObject({ platform_ref: `photo${DMYTRO}_457239017_a1b2c3d4e5f60718`, width: 1920, height: 2560 });
      expect(messages[0]!.text).toBe('Ось фото пошкодженої коробки');
    });

    it('reads the legacy event format (object = message) and creates no customer for ignored events', async () => {
      const jan = (await card('vk', JAN))!;
      expect(jan.identities[0]).not.toHaveProperty('language');
      expect((await inbound(jan.tickets[0]!.id)).map((m) => m.text)).toEqual(['Dzień dobry, czy wysyłacie do Polski? Zamówienie 5120.']);
      // group_join (18) and the community itself (message_reply 12).
      expect(await card('vk', '400500633')).toBeUndefined();
      expect(await card('vk', '-100200300')).toBeUndefined();
    });

    it('changes nothing when VK re-sends an event with the same event_id', async () => {
      const before = await snapshot();
      const retry = vkSamples.find((s) => s.name === '19-duplicate-retry')!;
      expect(await send('vk', retry)).toMatchObject({ status: 200, body: 'ok' });
      await rt.settle();
      expect(await snapshot()).toEqual(before);
    });

    it('acknowledges each new ticket once on VK', async () => {
      const acks = (await outbox()).filter((o) => o.channel === 'vk' && o.kind === 'acknowledgement');
      expect(acks).toHaveLength(3); // Olga, Dmytro, Jan
      const olgaTicket = await onlyTicket('vk', OLGA);
      const ack = acks.find((a) => a.ticket_id === olgaTicket.id)!;
      expect(new URLSearchParams(ack.request.body!).get('message')).toContain(olgaTicket.number);
    });

    it('sends an agent reply as messages.send (form, random_id from our id) and records VK\'s message id', async () => {
      const ticket = await onlyTicket('vk', OLGA);
      const reply = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Ольга, ваш заказ передан курьеру.' }, token);
      expect(reply.status).toBe(202);
      await rt.settle();
      const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticket.id);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.request).toMatchObject({ method: 'POST', url: 'https://api.vk.com/method/messages.send', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(Object.fromEntries(new URLSearchParams(sent[0]!.request.body!))).toEqual({
        peer_id: OLGA, random_id: String(vkRandomId(reply.body.id)), message: 'Ольга, ваш заказ передан курьеру.', access_token: VK_TOKEN, v: '5.199',
      });
      const entry = (await timeline(ticket.id)).find((e) => e.id === reply.body.id)!;
      expect(entry).toMatchObject({ direction: 'out', delivery: 'sent', conversation_id: OLGA });
      expect(entry.external_message_id).toMatch(/^\d+$/);
    });

    it('refuses every refusal sample with its status and code, and an oversized body with 413, leaving no trace', async () => {
      const before = await snapshot();
      const outboxBefore = (await outbox()).length;
      for (const s of vkSamples.filter((x) => x.kind === 'refusal')) {
        const res = await send('vk', s);
        expect(res.status, s.name).toBe(s.expect.status);
        expect(res.body, s.name).not.toBe('ok');
        expect(JSON.parse(res.body).error.code, s.name).toBe(s.expect.code);
      }
      expect((await rt.api.webhook('vk', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(262_145, 0x20) })).status).toBe(413);
      await rt.settle();
      expect(await snapshot()).toEqual(before);
      expect((await outbox()).length).toBe(outboxBefore);
    });
  });

  describe('viber', () => {
    it('answers every accepted sample, in NN order, with 200 and an empty body (the webhook event too)', async () => {
      for (const s of viberSamples.filter((x) => x.kind === 'accepted')) {
        const res = await send('viber', s);
        expect(res.status, s.name).toBe(s.expect.status);
        expect(res.body === '' ? null : res.body, s.name).toBe(s.expect.response_body ?? null);
      }
      const settled = await rt.settle();
      expect(settled.dlq, JSON.stringify([...rt.queues.inboundDlq.dlqEntries(), ...rt.queues.outboundDlq.dlqEntries()].map((d) => [d.reason, d.receiveCount]))).toBe(0);
    });

    it('creates Iryna with her messages, message tokens above 2^53 kept exact', async () => {
      const iryna = (await card('viber', IRYNA))!;
      expect(iryna.display_name).toBe('Iryna Koval');
      expect(iryna.identities).toEqual([expect.objectContaining({ channel: 'viber', external_id: IRYNA, display_name: 'Iryna Koval', language: 'uk', country: 'UA' })]);
      expect(iryna.tickets).toHaveLength(1);
      const messages = await inbound(iryna.tickets[0]!.id);
      // 04–11 and 19; the duplicate 16 added nothing. 04 and 05 differ only beyond 2^53's precision.
      expect(messages.map((m) => m.external_message_id)).toEqual([
        '6018829301442119937', '6018829301442119938', '6018829301442119939', '6018829301442119940',
        '6018829301442119941', '6018829301442119942', '6018829301442119943', '6018829301442119944', '6018829301442121003',
      ]);
      expect(messages.map((m) => m.attachments.map((a: { type: string }) => a.type))).toEqual([[], ['image'], ['video'], ['document'], ['sticker'], ['location'], [], [], []]);
      expect(messages[0]).toMatchObject({ conversation_id: IRYNA, text: 'Добрий день! Де моє замовлення №4471? Мій номер: +1 312 555 0188', sent_at: new Date(1790000060000).toISOString() });
      expect(messages[1]!.text).toBe('Коробка пошкоджена');
      expect(messages[6]!.text).toBe('https://track.example/UA4471');
      expect(messages[8]).toMatchObject({ text: '😀 5', interaction: { payload: 'csat:5' } });
    });

    it('creates Tomasz (an id with + and /) from both signature placements, unreachable after unsubscribing', async () => {
      const tomasz = (await card('viber', TOMASZ))!;
      expect(tomasz.identities).toEqual([expect.objectContaining({ external_id: TOMASZ, language: 'pl', reachability: 'unreachable' })]);
      expect((await inbound(tomasz.tickets[0]!.id)).map((m) => m.text)).toEqual(['Dzień dobry, czy mogę zmienić adres dostawy?', 'Nowy adres: ul. Przykładowa 5, Kraków.']);
    });

    it('changes nothing when Viber sends a callback again', async () => {
      const before = await snapshot();
      expect((await send('viber', viberSamples.find((s) => s.name === '16-duplicate-text')!)).status).toBe(200);
      await rt.settle();
      expect(await snapshot()).toEqual(before);
    });

    it('sends an agent reply as send_message and moves its delivery with receipts matched by the exact token', async () => {
      const ticket = await onlyTicket('viber', IRYNA);
      const reply = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Ірино, посилка вже у кур\'єра.' }, token);
      expect(reply.status).toBe(202);
      await rt.settle();
      const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticket.id);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.request).toMatchObject({ method: 'POST', url: 'https://chatapi.viber.com/pa/send_message', headers: { 'content-type': 'application/json', 'x-viber-auth-token': TEST_SECRETS.VIBER_AUTH_TOKEN } });
      expect(JSON.parse(sent[0]!.request.body!)).toEqual({ receiver: IRYNA, min_api_version: 7, sender: { name: 'Acme Support' }, tracking_data: ticket.number, type: 'text', text: 'Ірино, посилка вже у кур\'єра.' });

      const ours = async () => (await timeline(ticket.id)).find((e) => e.id === reply.body.id)!;
      const token64 = (await ours()).external_message_id as string;
      expect(BigInt(token64) > 2n ** 53n).toBe(true);
      expect((await ours()).delivery).toBe('sent');

      // A failure receipt for a token JSON.parse could not tell from ours must not touch it.
      const neighbour = (BigInt(token64) + 1n).toString();
      expect(Number(neighbour)).toBe(Number(token64));
      const receipt = (event: string, t: string, extra = '') => `{"event":"${event}","timestamp":1790001000000,"chat_hostname":"SN-CHAT-05_","message_token":${t},"user_id":"${IRYNA}"${extra}}`;
      expect((await viberCallback(receipt('failed', neighbour, ',"desc":"failure description"'))).status).toBe(200);
      await rt.settle();
      expect((await ours()).delivery).toBe('sent');

      // Out of order: seen before delivered; delivery never moves backwards.
      expect((await viberCallback(receipt('seen', token64))).status).toBe(200);
      expect((await viberCallback(receipt('delivered', token64))).status).toBe(200);
      await rt.settle();
      expect((await ours()).delivery).toBe('read');
    });

    it('acknowledges each new ticket once on Viber, with the ticket number as tracking_data', async () => {
      const acks = (await outbox()).filter((o) => o.channel === 'viber' && o.kind === 'acknowledgement');
      expect(acks).toHaveLength(2); // Iryna, Tomasz
      const ticket = await onlyTicket('viber', IRYNA);
      const ack = JSON.parse(acks.find((a) => a.ticket_id === ticket.id)!.request.body!);
      expect(ack).toMatchObject({ receiver: IRYNA, tracking_data: ticket.number, sender: { name: 'Acme Support' } });
      expect(ack.text).toContain(ticket.number);
    });

    it('refuses every refusal sample with its status and code, and an oversized body with 413, leaving no trace', async () => {
      const before = await snapshot();
      const outboxBefore = (await outbox()).length;
      for (const s of viberSamples.filter((x) => x.kind === 'refusal')) {
        const res = await send('viber', s);
        expect(res.status, s.name).toBe(s.expect.status);
        expect(JSON.parse(res.body).error.code, s.name).toBe(s.expect.code);
      }
      expect((await rt.api.webhook('viber', { headers: { 'content-type': 'application/json', 'x-viber-content-signature': '0'.repeat(64) }, body: Buffer.alloc(262_145, 0x20) })).status).toBe(413);
      await rt.settle();
      expect(await snapshot()).toEqual(before);
      expect((await outbox()).length).toBe(outboxBefore);
    });
  });

  it('has no messaging window on either channel: replies a day later are still sent', async () => {
    await rt.api.post('/dev/clock', { advanceSeconds: 90_000 });
    for (const [channel, id] of [['vk', JAN], ['viber', TOMASZ]] as const) {
      const ticket = await onlyTicket(channel, id);
      const reply = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Dziękujemy za cierpliwość.' }, token);
      expect(reply.status, channel).toBe(202);
    }
    await rt.settle();
    const late = (await outbox()).filter((o) => o.kind === 'reply' && (o.channel === 'vk' || o.channel === 'viber'));
    expect(late.map((o) => o.channel)).toEqual(['vk', 'viber', 'vk', 'viber']);
  });
});
