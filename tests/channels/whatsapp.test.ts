/**
 * WhatsApp Cloud API edge cases the samples cannot express (channels.md §2): replies and surveys
 * (reply buttons vs list vs numbered text), the sender number, BSUID recipients, delivery results
 * and receipt words, and parser corners (unknown types, missing contacts, statuses without ids).
 */
import { describe, expect, it } from 'vitest';
import { renderOne } from '../helpers/render.js';
import { renderRequests } from '../../functions/channels/channel.js';
import type { OutboundMessage, RawRequest } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { LIST_ROW_TITLE_MAX, WHATSAPP_MAX_TEXT, interactiveOf, whatsapp } from '../../functions/channels/whatsapp/index.js';
import { NormalisedEvent, type IgnoredEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const NOW = Date.UTC(2026, 9, 1, 12, 0, 0);
const META = { display_phone_number: '15550100100', phone_number_id: '120300400500600' };
const ANA = '12065550143';

function request(value: unknown): RawRequest {
  const body = metaWireBody(value);
  return { method: 'POST', path: '/webhooks/whatsapp', query: {}, headers: { 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body: Buffer.from(body, 'utf8') };
}
const notification = (value: Record<string, unknown>) => ({ object: 'whatsapp_business_account', entry: [{ id: '110200300400500', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: META, ...value } }] }] });
const fromAna = (m: Record<string, unknown>, contacts: unknown[] = [{ profile: { name: 'Ana Souza' }, wa_id: ANA }]) =>
  notification({ contacts, messages: [{ from: ANA, id: 'wamid.TEST1', timestamp: '1790000100', ...m }] });

async function events(value: unknown): Promise<NormalisedEvent[]> {
  const req = request(value);
  const admission = await whatsapp.admit(req, TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('expected acceptance');
  const out = await whatsapp.parse(buildEnvelope('whatsapp', req, admission, NOW, 'req-1'));
  for (const e of out) NormalisedEvent.parse(e);
  return out;
}
async function one(value: unknown): Promise<InboundMessage> {
  const [e] = await events(value);
  if (e?.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(e)}`);
  return e;
}
async function ignoredOne(value: unknown): Promise<IgnoredEvent> {
  const [e] = await events(value);
  if (e?.kind !== 'ignored') throw new Error(`expected an ignored event, got ${JSON.stringify(e)}`);
  return e;
}

const outbound = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: '01JFOUT0000000000000000000', channel: 'whatsapp', conversation_id: ANA, text: 'A sua encomenda sai hoje.', kind: 'reply', ...extra,
});
const ctx = { secrets: { ...TEST_SECRETS, WHATSAPP_ACCESS_TOKEN: 'wa-token', WHATSAPP_PHONE_NUMBER_ID: '999000999000999', META_GRAPH_API_VERSION: 'v23.0' } };
const bodyOf = (msg: OutboundMessage, c = ctx) => JSON.parse(renderOne(whatsapp, msg, c).body!);
const survey = (labels: string[]) => labels.map((label, i) => ({ label, payload: `csat:${i + 1}` }));

describe('whatsapp render', () => {
  it('sends a free-form text from the number the customer wrote to, with the bearer token', () => {
    const req = renderOne(whatsapp, outbound({ context: { business_account: { waba_id: '1', phone_number_id: '120300400500600', display_phone_number: '15550100100' } } }), ctx);
    expect(req).toEqual({
      method: 'POST', url: 'https://graph.facebook.com/v23.0/120300400500600/messages',
      headers: { 'content-type': 'application/json', authorization: 'Bearer wa-token' },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to: ANA, type: 'text', text: { body: 'A sua encomenda sai hoje.' } }),
    });
  });

  it('falls back to WHATSAPP_PHONE_NUMBER_ID, and to visible placeholders the sender refuses to perform', () => {
    expect(renderOne(whatsapp, outbound(), ctx).url).toBe('https://graph.facebook.com/v23.0/999000999000999/messages');
    const bare = renderOne(whatsapp, outbound(), { secrets: {} });
    expect(bare.url).toBe('https://graph.facebook.com/v23.0/<WHATSAPP_PHONE_NUMBER_ID>/messages');
    expect(bare.headers.authorization).toBe('Bearer <WHATSAPP_ACCESS_TOKEN>');
  });

  it('addresses a user known only by BSUID with `recipient` instead of `to`', () => {
    const body = bodyOf(outbound({ conversation_id: 'US.7733001122334455667' }));
    expect(body).toMatchObject({ recipient: 'US.7733001122334455667', type: 'text' });
    expect(body).not.toHaveProperty('to');
  });

  it('sends a text over 4096 characters as two text messages without splitting an emoji', () => {
    const text = `${'a'.repeat(WHATSAPP_MAX_TEXT - 1)}📦📦`;
    const bodies = renderRequests(whatsapp, outbound({ text }), { secrets: {} }).map((r) => JSON.parse(r.body!));
    expect(bodies.map((b) => b.text.body)).toEqual(['a'.repeat(WHATSAPP_MAX_TEXT - 1), '📦📦']);
  });

  it('sends a registered template (outside the window) as type template with its body parameters in order', () => {
    const body = JSON.parse(renderOne(whatsapp, outbound({ text: 'Hi Ana, about ticket C-000042: …', template: { name: 'ticket_update', language: 'pt_BR', parameters: ['Ana', 'C-000042'] } }), { secrets: {} }).body!);
    expect(body).toEqual({
      messaging_product: 'whatsapp', recipient_type: 'individual', to: outbound().conversation_id, type: 'template',
      template: { name: 'ticket_update', language: { code: 'pt_BR' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'C-000042' }] }] },
    });
  });

  it('puts survey buttons on the last part, whose interactive body holds at most 1024 characters', () => {
    const text = `${'w '.repeat(999)}w`; // 1,999 characters: one text message, then the interactive one
    const buttons = [{ label: 'Good', payload: 'csat:5' }, { label: 'Bad', payload: 'csat:1' }];
    const bodies = renderRequests(whatsapp, outbound({ text, buttons }), { secrets: {} }).map((r) => JSON.parse(r.body!));
    expect(bodies.map((b) => b.type)).toEqual(['text', 'interactive']);
    expect(bodies[1].interactive.body.text.length).toBeLessThanOrEqual(1024);
    expect(`${bodies[0].text.body} ${bodies[1].interactive.body.text}`).toBe(text);
  });

  it('renders up to 3 short survey choices as interactive reply buttons (id = payload, title = label)', () => {
    const body = bodyOf(outbound({ text: 'Como correu?', kind: 'survey', buttons: survey(['Bom', 'Razoável', 'Mau']) }));
    expect(body).toMatchObject({
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Como correu?' }, action: { buttons: [
        { type: 'reply', reply: { id: 'csat:1', title: 'Bom' } }, { type: 'reply', reply: { id: 'csat:2', title: 'Razoável' } }, { type: 'reply', reply: { id: 'csat:3', title: 'Mau' } },
      ] } },
    });
  });

  it('renders more than 3 choices as a list (rows id = payload)', () => {
    const body = bodyOf(outbound({ text: 'Avalie de 1 a 5', kind: 'survey', buttons: survey(['1', '2', '3', '4', '5']) }));
    expect(body.interactive.type).toBe('list');
    expect(body.interactive.action.sections[0].rows).toEqual(['1', '2', '3', '4', '5'].map((t, i) => ({ id: `csat:${i + 1}`, title: t })));
    expect(body.interactive.action.button.length).toBeLessThanOrEqual(20);
  });

  it('uses a list when a title exceeds 20 characters, keeping the whole label as the row description', () => {
    const long = 'Muito satisfeita com o atendimento';
    const rows = bodyOf(outbound({ kind: 'survey', buttons: survey([long, 'Não']) })).interactive.action.sections[0].rows;
    expect(rows[0].title.length).toBeLessThanOrEqual(LIST_ROW_TITLE_MAX);
    expect(rows[0].description).toBe(long);
    expect(rows[1]).toEqual({ id: 'csat:2', title: 'Não' });
  });

  it('numbers more than 10 choices in the text (NPS 0–10 has 11)', () => {
    const body = bodyOf(outbound({ text: 'NPS?', kind: 'survey', buttons: survey(Array.from({ length: 11 }, (_, i) => String(i))) }));
    expect(body.type).toBe('text');
    expect(body.text.body).toBe(`NPS?\n\n${Array.from({ length: 11 }, (_, i) => `${i + 1}. ${i}`).join('\n')}`);
  });

  it('refuses a list row id (payload) longer than WhatsApp allows instead of sending a broken list', () => {
    expect(() => interactiveOf('x', [{ label: 'a', payload: 'p'.repeat(201) }, { label: 'b', payload: 'q' }, { label: 'c', payload: 'r' }, { label: 'd', payload: 's' }])).toThrow(/list row id/);
  });
});

describe('whatsapp delivery', () => {
  it('takes messages[0].id (the wamid statuses carry) as the outbound id', () => {
    const res = { status: 200, headers: {}, body: JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: ANA, wa_id: ANA }], messages: [{ id: 'wamid.OUT1' }] }) };
    expect(whatsapp.readDelivery(res, outbound())).toEqual({ ok: true, external_message_id: 'wamid.OUT1' });
  });

  it('maps the status words to delivery states and leaves others alone', () => {
    for (const s of ['sent', 'delivered', 'read', 'failed'] as const) expect(whatsapp.deliveryFor({ external_message_id: 'w', status: s })).toBe(s);
    expect(whatsapp.deliveryFor({ external_message_id: 'w', status: 'deleted' })).toBeNull();
  });

  it('declares a 24-hour reply window', () => {
    expect(whatsapp.capabilities.replyWindowSeconds).toBe(86_400);
  });
});

describe('whatsapp parse', () => {
  it('takes the phone from wa_id even without a contacts entry, and keeps a number libphonenumber-js calls invalid', async () => {
    const e = await one(notification({ messages: [{ from: '447700900123', id: 'wamid.X', timestamp: '1790000100', type: 'text', text: { body: 'hi' } }] }));
    expect(e.customer_identity).toEqual({ external_id: '447700900123', phone: '+447700900123', phone_verified: true });
  });

  it('gives the sender a BSUID from contacts when the message has only `from`', async () => {
    const e = await one(fromAna({ type: 'text', text: { body: 'hi' } }, [{ profile: { name: 'Ana Souza' }, wa_id: ANA, user_id: 'US.1' }]));
    expect(e.customer_identity).toMatchObject({ external_id: ANA, bsuid: 'US.1', display_name: 'Ana Souza' });
  });

  it('ignores a message with no sender at all, and one without id or timestamp', async () => {
    expect((await ignoredOne(notification({ messages: [{ id: 'wamid.X', timestamp: '1', type: 'text', text: { body: 'x' } }] }))).reason).toBe('no sender');
    expect((await ignoredOne(notification({ messages: [{ from: ANA, timestamp: '1', type: 'text', text: { body: 'x' } }] }))).reason).toBe('malformed message');
    expect((await ignoredOne(notification({ messages: [{ from: ANA, id: 'w', timestamp: 'soon', type: 'text', text: { body: 'x' } }] }))).reason).toBe('malformed message');
  });

  it('keeps a catalogue order as content with an `other` attachment', async () => {
    const e = await one(fromAna({ type: 'order', order: { catalog_id: '1', text: 'Quero estes dois', product_items: [] } }));
    expect(e).toMatchObject({ text: 'Quero estes dois', attachments: [{ type: 'other' }] });
  });

  it('ignores unknown message types with their (schema) name only', async () => {
    expect((await ignoredOne(fromAna({ type: 'poll_vote' }))).reason).toBe('unsupported type: poll_vote');
    expect((await ignoredOne(fromAna({ type: 'Ana Souza +1 206' }))).reason).toBe('unsupported type');
    expect((await ignoredOne(fromAna({ type: 'request_welcome' }))).reason).toBe('welcome request');
  });

  it('takes a WhatsApp Flows answer as an interaction with the form JSON as payload', async () => {
    const e = await one(fromAna({ type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"rating":"5"}' } } }));
    expect(e).toMatchObject({ text: 'Sent', interaction: { payload: '{"rating":"5"}' } });
  });

  it('keeps a media URL when Meta includes one', async () => {
    const e = await one(fromAna({ type: 'image', image: { id: '1', mime_type: 'image/png', sha256: 's', url: 'https://lookaside.fbsbx.example/whatsapp_business/attachments/?mid=1' } }));
    expect(e.attachments).toEqual([{ type: 'image', platform_ref: '1', mime_type: 'image/png', sha256: 's', url: 'https://lookaside.fbsbx.example/whatsapp_business/attachments/?mid=1' }]);
  });

  it('skips statuses without id and keeps string error codes', async () => {
    const e = await ignoredOne(notification({ statuses: [{ status: 'sent', timestamp: '1' }, { id: 'wamid.O', status: 'failed', timestamp: '2', errors: [{ code: 'E1' }] }] }));
    expect(e.status_updates).toEqual([{ external_message_id: 'wamid.O', status: 'failed', at: 2, error_code: 'E1' }]);
  });

  it('groups a batch by its first sender, and a statuses-only batch by the first recipient', async () => {
    expect(await whatsapp.admit(request(fromAna({ type: 'text', text: { body: 'x' } })), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: ANA });
    expect(await whatsapp.admit(request(notification({ statuses: [{ id: 'w', status: 'read', timestamp: '1', recipient_id: '14155550172' }] })), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: '14155550172' });
    expect(await whatsapp.admit(request({ object: 'whatsapp_business_account', entry: [] }), TEST_SECRETS, NOW)).toMatchObject({ conversationKey: null });
  });

  it('answers an empty messages change with one ignored event, so nothing is silently lost', async () => {
    expect(await events(notification({}))).toEqual([{ kind: 'ignored', channel: 'whatsapp', reason: 'empty change' }]);
  });
});
