/**
 * The Meta channels end to end over HTTP against the running local runtime (channels.md §2–§4):
 * every accepted sample of `whatsapp`, `messenger` and `instagram` replayed in NN order (GET
 * handshakes included), the resulting customers, identities, messages, edits and ignored events
 * seen through the Agent API; replies as Graph API requests in the outbox; receipts moving the
 * reply's delivery forward (WhatsApp statuses, Messenger read watermark, Instagram read mid); the
 * 24-hour window refusing later replies with 409; refusals leaving no trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime.js';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { loadSamples, TEST_SECRETS } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';
import { customerWrites } from '../helpers/customer-writes.js';

const CHANNELS = ['whatsapp', 'messenger', 'instagram'] as const;
type MetaChannel = (typeof CHANNELS)[number];
type Item = { kind: string; channel: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null } };
type Card = { id: string; display_name: string | null; identities: Array<Record<string, unknown>>; tickets: Array<{ id: string; number: string; channel: string }> };

// The people of the samples (all invented).
const WA = { ana: '12065550143', bilal: '14155550172', chen: 'US.7733001122334455667', zoe: '13125550188', tom: '16175550191', business: '15550100100', phoneNumberId: '120300400500600' };
const FB = { page: '104857600200300', lukas: '27001122334455667', maria: '27009988776655443', guest: 'user_ref:plugin-guest-4f2a9c71', reactor: '27005550000000001', referred: '27005550000000002' };
const IG = { account: '17841400000000001', sofia: '6023456789012345', jonas: '6034567890123456', reactor: '6045678901234567', referred: '6056789012345678' };

const TOKENS = { WHATSAPP_ACCESS_TOKEN: 'test-wa-access-token', META_PAGE_ACCESS_TOKEN: 'test-page-access-token', INSTAGRAM_ACCESS_TOKEN: 'test-ig-access-token' };

/** A webhook body written and signed the way Meta sends it. */
function signed(value: unknown): { headers: Record<string, string>; body: string } {
  const body = metaWireBody(value);
  return { headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body };
}

describe('Meta channels end to end (whatsapp, messenger, instagram)', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;

  const outbox = async (): Promise<Item[]> => (await rt.api.get('/dev/outbox')).body.items;
  const card = async (channel: MetaChannel, externalId: string): Promise<Card | undefined> => {
    const res = await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(`${channel}:${externalId}`)}`, token);
    expect(res.status).toBe(200);
    return res.body.items[0];
  };
  const mustCard = async (channel: MetaChannel, externalId: string): Promise<Card> => {
    const c = await card(channel, externalId);
    expect(c, `${channel}:${externalId}`).toBeDefined();
    return c!;
  };
  const timeline = async (ticketId: string) => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<Record<string, any>>;
  const inbound = async (ticketId: string) => (await timeline(ticketId)).filter((e) => e.type === 'message' && e.direction === 'in');
  const snapshot = async () => {
    const items = await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName, ConsistentRead: true }));
    return { items: (items.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort(), queue: rt.queues.inbound.stats().depth };
  };
  const reply = async (ticketId: string, text: string) => rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text }, token);
  /**
   * The samples were sent months ago by the platforms' clocks, and the messaging window runs from
   * the customer's own time: before a reply, the customer writes again, now.
   */
  const writesNow = async (channel: MetaChannel, from: string) => {
    expect((await rt.api.webhook(channel, customerWrites(channel, from, 'Are you there?', rt.clock.now()))).status).toBe(200);
    await rt.settle();
  };
  const outboundEntry = async (ticketId: string, id: string) => (await timeline(ticketId)).find((e) => e.id === id)!;

  beforeAll(async () => {
    // A visibility timeout above one slow processing on a cold, shared DynamoDB Local, so a record
    // is not received again (and dead-lettered after 5 receives) while still in work.
    rt = await testRuntime(TOKENS, { visibilityTimeoutMs: 2000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('answers every accepted sample, in NN order, as channels.md prescribes, processing each', async () => {
    for (const channel of CHANNELS) {
      for (const s of loadSamples(channel).filter((x) => x.kind === 'accepted')) {
        const method = s.request.method.toUpperCase();
        const res = await rt.api.webhook(channel, { method, headers: s.request.headers, body: s.request.body, query: s.request.query });
        expect(res.status, `${channel}/${s.name}`).toBe(s.expect.status);
        expect(res.body === '' ? null : res.body, `${channel}/${s.name}`).toBe(s.expect.response_body ?? null);
        if (method === 'GET') {
          // The handshake: exactly the challenge, as text/plain (no JSON, no quotes).
          expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
          expect(res.body).toBe(s.request.query['hub.challenge']);
        }
        const settled = await rt.settle();
        expect(settled.dlq, `${channel}/${s.name}: ${JSON.stringify(rt.queues.inboundDlq.dlqEntries().map((d) => d.reason))}`).toBe(0);
      }
    }
  });

  it('whatsapp: one customer per sender, wa_id as verified phone, BSUID kept, every message kind stored once', async () => {
    const ana = await mustCard('whatsapp', WA.ana);
    expect(ana.display_name).toBe('Ana Souza');
    expect(ana.identities).toEqual([expect.objectContaining({
      channel: 'whatsapp', external_id: WA.ana, phone: '+12065550143', phone_verified: true, bsuid: 'US.2048576001112223334', display_name: 'Ana Souza', username: 'ana.souza',
    })]);
    expect(ana.tickets).toHaveLength(1);
    const messages = await inbound(ana.tickets[0]!.id);
    // 02–13 and her half of the 14 batch; the duplicate 22 added nothing.
    expect(messages).toHaveLength(13);
    expect(messages[0]).toMatchObject({
      channel: 'whatsapp', conversation_id: WA.ana, edited: false,
      text: 'Olá! A encomenda 5120/B ainda não chegou 📦 — podem ligar ao meu marido? +1 206 555 0177',
    });
    expect(messages[0]!.external_message_id).toMatch(/^wamid\./);
    expect(messages[1]).toMatchObject({ text: 'A caixa chegou assim, toda amassada.', attachments: [{ type: 'image', platform_ref: '1501927443321001', mime_type: 'image/jpeg' }] });
    expect(messages[2]!.attachments).toEqual([expect.objectContaining({ type: 'document', file_name: 'fatura-5120.pdf' })]);
    expect(messages.map((m) => m.attachments[0]?.type ?? null)).toEqual([null, 'image', 'document', 'audio', 'video', 'sticker', 'location', null, null, null, null, null, null]);
    expect(messages[8]).toMatchObject({ text: 'Sim, é esse o número da encomenda.', in_reply_to: 'wamid.HBgLMTIwNjU1NTAxNDMVAgARGBI5QTNCMDBGRjAwMDAwMDAwMDEA' });
    expect(messages.filter((m) => m.interaction !== null).map((m) => [m.text, m.interaction.payload])).toEqual([
      ['Excelente', 'csat:5'], ['Bom', 'csat:4'], ['Seguir encomenda', 'order-5120-track'],
    ]);
    expect(messages.at(-1)!.text).toBe('Obrigada pela ajuda!');

    const bilal = await mustCard('whatsapp', WA.bilal);
    expect(bilal.identities[0]).toMatchObject({ phone: '+14155550172', phone_verified: true });
    expect(bilal.tickets).toHaveLength(1);
    expect(bilal.tickets[0]!.id).not.toBe(ana.tickets[0]!.id);

    // A user hiding the phone: keyed by the BSUID, no phone at all.
    const chen = await mustCard('whatsapp', WA.chen);
    expect(chen.identities).toEqual([expect.objectContaining({ external_id: WA.chen, bsuid: WA.chen, username: 'chen.w', display_name: 'Chen Wei' })]);
    expect(chen.identities[0]).not.toHaveProperty('phone');
    expect((await inbound(chen.tickets[0]!.id))[0]!.text).toBe('你好，我的订单 8830 什么时候发货？');

    // Ignored: reaction, system, unsupported, template status, echo, foreign object — no customer.
    for (const id of [WA.zoe, WA.tom, WA.business]) expect(await card('whatsapp', id), id).toBeUndefined();
  });

  it('messenger: PSIDs and chat-plugin guests become customers, edits update in place, echoes and receipts create nothing', async () => {
    const lukas = await mustCard('messenger', FB.lukas);
    expect(lukas.identities).toEqual([expect.objectContaining({ channel: 'messenger', external_id: FB.lukas })]);
    expect(lukas.tickets).toHaveLength(1);
    const messages = await inbound(lukas.tickets[0]!.id);
    // 02–11, the edit of an unknown message (13) and "Danke!" from the batch; 12 edited 02 in place, 25 was a duplicate.
    expect(messages).toHaveLength(12);
    expect(messages[0]).toMatchObject({
      text: 'Hallo! Meine Bestellung 7781/C ist noch nicht da. Können Sie helfen? 🙂', edited: true,
      edited_at: new Date(1790000700 * 1000).toISOString(), external_message_id: 'm_AbC001xYz9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz',
    });
    expect(messages.slice(1, 6).map((m) => m.attachments.map((a: { type: string }) => a.type))).toEqual([['image'], ['document', 'video'], ['audio'], ['sticker'], ['other']]);
    expect(messages.filter((m) => m.interaction !== null).map((m) => [m.text, m.interaction.payload, m.external_message_id])).toEqual([
      ['😀 Sehr gut', 'csat:5', 'm_AbC007xYz9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz'],
      ['Mit einem Menschen sprechen', 'HUMAN_AGENT', 'm_AbC008xYz9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz'],
      ['Los geht\'s', 'GET_STARTED', `postback:${FB.lukas}:1790000580000`],
    ]);
    expect(messages[9]).toMatchObject({ in_reply_to: 'm_OuR001pAgE5eNdRePlYaAaBbCcDdEeFfGgHhIiJj' });
    expect(messages[10]).toMatchObject({ text: 'Und die Lieferadresse ist Hauptstraße 5.', edited: true, external_message_id: 'm_AbC010xYz9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz' });
    expect(messages[11]!.text).toBe('Danke!');
    // Standby messages (another app's thread) are not stored.
    expect(messages.some((m) => m.text === 'Hallo?')).toBe(false);

    expect((await mustCard('messenger', FB.maria)).tickets).toHaveLength(1);
    const guest = await mustCard('messenger', FB.guest);
    expect((await inbound(guest.tickets[0]!.id))[0]).toMatchObject({ text: 'Do you ship to Austria?', conversation_id: FB.guest });
    // The Page itself (echoes), reactions and referrals never make a customer.
    for (const id of [FB.page, FB.reactor, FB.referred]) expect(await card('messenger', id), id).toBeUndefined();
  });

  it('instagram: IGSIDs become customers, every attachment kind is kept, deletions and echoes are ignored', async () => {
    const sofia = await mustCard('instagram', IG.sofia);
    expect(sofia.identities).toEqual([expect.objectContaining({ channel: 'instagram', external_id: IG.sofia })]);
    const messages = await inbound(sofia.tickets[0]!.id);
    // 02–12 and "¡Gracias!" of the batch; 13 edited 02 in place; 17 (deleted) and 18 (unsupported) ignored.
    expect(messages).toHaveLength(12);
    expect(messages[0]).toMatchObject({ text: '¡Hola! Mi pedido 3391/B llegó incompleto 😕 ¿Me pueden ayudar?', edited: true });
    expect(messages.slice(1, 8).map((m) => m.attachments[0].type)).toEqual(['image', 'video', 'audio', 'document', 'other', 'other', 'other']);
    expect(messages.filter((m) => m.interaction !== null).map((m) => [m.text, m.interaction.payload])).toEqual([['Bueno', 'csat:4'], ['¿Dónde está mi pedido?', 'ICE_ORDER_STATUS']]);
    expect(messages.at(-1)!.text).toBe('¡Gracias!');
    expect((await mustCard('instagram', IG.jonas)).tickets).toHaveLength(1);
    for (const id of [IG.account, IG.reactor, IG.referred]) expect(await card('instagram', id), id).toBeUndefined();
  });

  it('opens exactly one ticket per customer and acknowledges each once, on its own channel', async () => {
    const tickets = (await rt.api.get('/api/v1/tickets?limit=50', token)).body.items as Array<{ channel: string }>;
    expect(tickets.map((t) => t.channel).sort()).toEqual(['instagram', 'instagram', 'messenger', 'messenger', 'messenger', 'whatsapp', 'whatsapp', 'whatsapp']);
    const acks = (await outbox()).filter((o) => o.kind === 'acknowledgement');
    expect(acks.map((a) => a.channel).sort()).toEqual(['instagram', 'instagram', 'messenger', 'messenger', 'messenger', 'whatsapp', 'whatsapp', 'whatsapp']);
    // The BSUID-only user is addressed by `recipient`, never `to`.
    const chen = await mustCard('whatsapp', WA.chen);
    const chenAck = JSON.parse(acks.find((a) => a.ticket_id === chen.tickets[0]!.id)!.request.body!);
    expect(chenAck).toMatchObject({ messaging_product: 'whatsapp', recipient: WA.chen, type: 'text' });
    expect(chenAck).not.toHaveProperty('to');
  });

  it('whatsapp: a reply is a Cloud API messages request from the number written to; statuses move its delivery forward, never back', async () => {
    const ana = await mustCard('whatsapp', WA.ana);
    const ticketId = ana.tickets[0]!.id;
    await writesNow('whatsapp', WA.ana);
    const res = await reply(ticketId, 'Olá Ana, a sua encomenda 5120/B sai hoje.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toEqual({
      method: 'POST',
      url: `https://graph.facebook.com/v23.0/${WA.phoneNumberId}/messages`,
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-wa-access-token' },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to: WA.ana, type: 'text', text: { body: 'Olá Ana, a sua encomenda 5120/B sai hoje.' } }),
    });
    const entry = await outboundEntry(ticketId, res.body.id);
    expect(entry).toMatchObject({ direction: 'out', delivery: 'sent' });
    const wamid = entry.external_message_id as string;
    expect(wamid).toMatch(/^wamid\./);

    const statuses = (list: Array<[string, number]>) => signed({ object: 'whatsapp_business_account', entry: [{ id: '110200300400500', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: WA.business, phone_number_id: WA.phoneNumberId },
      statuses: list.map(([status, ts]) => ({ id: wamid, status, timestamp: String(ts), recipient_id: WA.ana })),
    } }] }] });
    const now = Math.floor(rt.clock.now() / 1000);
    for (const batch of [statuses([['read', now + 2], ['delivered', now + 1]]), statuses([['sent', now]])]) {
      expect((await rt.api.webhook('whatsapp', batch)).status).toBe(200);
      await rt.settle();
    }
    expect(await outboundEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'read', delivery_status: 'read' });
  });

  it('messenger: a reply is a Send API RESPONSE; a delivery mid, then a read watermark, mark it', async () => {
    const lukas = await mustCard('messenger', FB.lukas);
    const ticketId = lukas.tickets[0]!.id;
    await writesNow('messenger', FB.lukas);
    const res = await reply(ticketId, 'Hallo Lukas, Ihre Bestellung 7781/C ist unterwegs.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent.map((o) => o.request)).toEqual([{
      method: 'POST', url: 'https://graph.facebook.com/v23.0/me/messages',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-page-access-token' },
      body: JSON.stringify({ recipient: { id: FB.lukas }, messaging_type: 'RESPONSE', message: { text: 'Hallo Lukas, Ihre Bestellung 7781/C ist unterwegs.' } }),
    }]);
    const mid = (await outboundEntry(ticketId, res.body.id)).external_message_id as string;
    expect(mid).toMatch(/^m_/);

    const now = rt.clock.now();
    const item = (kind: Record<string, unknown>) => signed({ object: 'page', entry: [{ id: FB.page, time: now, messaging: [{ sender: { id: FB.lukas }, recipient: { id: FB.page }, timestamp: now, ...kind }] }] });
    expect((await rt.api.webhook('messenger', item({ delivery: { mids: [mid], watermark: now } }))).status).toBe(200);
    await rt.settle();
    expect(await outboundEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'delivered' });
    expect((await rt.api.webhook('messenger', item({ read: { watermark: now } }))).status).toBe(200);
    await rt.settle();
    expect(await outboundEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'read', delivery_status: 'read' });
  });

  it('instagram: a reply is a Send API request with the Instagram token; read.mid marks it read', async () => {
    const sofia = await mustCard('instagram', IG.sofia);
    const ticketId = sofia.tickets[0]!.id;
    await writesNow('instagram', IG.sofia);
    const res = await reply(ticketId, '¡Hola Sofía! Enviamos la pieza que falta hoy.');
    expect(res.status).toBe(202);
    await rt.settle();
    const sent = (await outbox()).filter((o) => o.kind === 'reply' && o.ticket_id === ticketId);
    expect(sent.map((o) => o.request)).toEqual([{
      method: 'POST', url: 'https://graph.facebook.com/v23.0/me/messages',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-ig-access-token' },
      body: JSON.stringify({ recipient: { id: IG.sofia }, message: { text: '¡Hola Sofía! Enviamos la pieza que falta hoy.' } }),
    }]);
    const mid = (await outboundEntry(ticketId, res.body.id)).external_message_id as string;
    const now = rt.clock.now();
    const read = signed({ object: 'instagram', entry: [{ time: now, id: IG.account, messaging: [{ sender: { id: IG.sofia }, recipient: { id: IG.account }, timestamp: now, read: { mid } }] }] });
    expect((await rt.api.webhook('instagram', read)).status).toBe(200);
    await rt.settle();
    expect(await outboundEntry(ticketId, res.body.id)).toMatchObject({ delivery: 'read' });
  });

  it('refuses every refusal sample with its status and code, and an oversized body with 413, leaving no trace', async () => {
    const before = await snapshot();
    const outboxBefore = (await outbox()).length;
    for (const channel of CHANNELS) {
      for (const s of loadSamples(channel).filter((x) => x.kind === 'refusal')) {
        const res = await rt.api.webhook(channel, { method: s.request.method.toUpperCase(), headers: s.request.headers, body: s.request.body, query: s.request.query });
        expect(res.status, `${channel}/${s.name}`).toBe(s.expect.status);
        expect(JSON.parse(res.body).error.code, `${channel}/${s.name}`).toBe(s.expect.code);
        // A refused handshake never echoes the challenge.
        expect(res.body).not.toContain('1158201444');
      }
      const oversized = await rt.api.webhook(channel, { headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body: Buffer.alloc(262_145, 0x20) });
      expect(oversized.status, channel).toBe(413);
    }
    await rt.settle();
    expect(await snapshot()).toEqual(before);
    expect((await outbox()).length).toBe(outboxBefore);
  });

  it('refuses a free-form reply after the 24-hour window with 409 messaging_window_closed, on all three channels', async () => {
    await rt.api.post('/dev/clock', { advanceSeconds: 90_000 });
    // (Advancing the clock lets SLA escalations fire into the outbox: only replies count here.)
    const replies = async () => (await outbox()).filter((o) => o.kind === 'reply').length;
    const repliesBefore = await replies();
    for (const [channel, id] of [['whatsapp', WA.bilal], ['messenger', FB.maria], ['instagram', IG.jonas]] as const) {
      const c = await mustCard(channel, id);
      const res = await reply(c.tickets[0]!.id, 'Sorry for the wait!');
      expect(res.status, channel).toBe(409);
      expect(res.body.error.code, channel).toBe('messaging_window_closed');
    }
    await rt.settle();
    expect(await replies()).toBe(repliesBefore);
  });
});
