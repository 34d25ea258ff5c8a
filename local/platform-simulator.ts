/**
 * Locally no platform is called: the outbox records the request and this answers the way the
 * platform would on success, so the sender's real `readDelivery` path runs (outbound ids for
 * receipts included). One entry per channel; a channel without one gets a bare 200.
 */
import type { PlatformRequest, PlatformResponse } from '../functions/channels/channel.js';

let seq = 1000;
const json = (body: unknown): PlatformResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bodyOf = (r: PlatformRequest): Record<string, unknown> => { try { return JSON.parse(r.body ?? '{}'); } catch { return {}; } };

/** Graph API (WhatsApp, Messenger, Instagram) message ids as the platforms spell them. */
const graphIds = {
  wamid: (to: unknown) => `wamid.${Buffer.from(`${String(to)}\u0015${(++seq).toString(16).toUpperCase().padStart(20, '0')}`).toString('base64')}`,
  mid: (prefix: string) => `${prefix}${Buffer.from(`confluo-sim-${++seq}`).toString('base64url')}`,
  recipient: (req: PlatformRequest): unknown => { const r = bodyOf(req).recipient; return typeof r === 'object' && r !== null ? (r as Record<string, unknown>).id ?? null : null; },
};

export const SIMULATED_RESPONSES: Record<string, (req: PlatformRequest) => PlatformResponse> = {
  // answerCallbackQuery answers `result: true` (https://core.telegram.org/bots/api#answercallbackquery); sendMessage the Message.
  telegram: (req) => req.url.endsWith('/answerCallbackQuery') ? json({ ok: true, result: true }) : json({ ok: true, result: { message_id: ++seq, chat: { id: bodyOf(req).chat_id }, date: Math.floor(Date.now() / 1000) } }),
  webchat: () => ({ status: 200, headers: {}, body: '' }),
  // Messages.json answers 201 with the Message resource; its `sid` comes back in status callbacks.
  twilio: (req) => { const f = new URLSearchParams(req.body ?? ''); return { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sid: `SM${(++seq).toString(16).padStart(32, '0')}`, status: 'queued', to: f.get('To'), from: f.get('From'), messaging_service_sid: f.get('MessagingServiceSid'), body: f.get('Body'), num_segments: '1', error_code: null, error_message: null, api_version: '2010-04-01' }) }; },
  // SES SendRawEmail answers its MessageId (SES makes the Message-ID `<MessageId@<region>.amazonses.com>` of it).
  email: () => json({ MessageId: `0107${Date.now().toString(16).padStart(12, '0')}-${globalThis.crypto.randomUUID()}-000000` }),
  // messages.send with peer_id answers the new message's id (https://dev.vk.com/en/method/messages.send).
  // messages.sendMessageEventAnswer answers 1 (https://dev.vk.com/en/method/messages.sendMessageEventAnswer).
  vk: (req) => json({ response: req.url.endsWith('/messages.sendMessageEventAnswer') ? 1 : ++seq }),
  // send_message answers status 0 and a message_token above 2^53 as a bare integer (receipts carry it back).
  viber: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: `{"status":0,"status_message":"ok","message_token":${5741311803571721087n + BigInt(++seq)},"chat_hostname":"SN-CHAT-05_","billing_status":1}` }),
  // WhatsApp /<phone_number_id>/messages answers the wamid its statuses carry; the Send API (Messenger, Instagram) the mid receipts name.
  whatsapp: (req) => { const b = bodyOf(req); return json({ messaging_product: 'whatsapp', contacts: [{ input: b.to ?? b.recipient, ...(b.to !== undefined ? { wa_id: b.to } : { user_id: b.recipient }) }], messages: [{ id: graphIds.wamid(b.to ?? b.recipient) }] }); },
  messenger: (req) => json({ recipient_id: graphIds.recipient(req), message_id: graphIds.mid('m_') }),
  instagram: (req) => json({ recipient_id: graphIds.recipient(req), message_id: graphIds.mid('aWdfZAG1faXRlbToxOklHTWVzc2FnZAU') }),
};

export function simulateResponse(channel: string, req: PlatformRequest): PlatformResponse {
  return (SIMULATED_RESPONSES[channel] ?? (() => json({})))(req);
}
