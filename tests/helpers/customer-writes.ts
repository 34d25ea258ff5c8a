/**
 * A customer writes: one fresh text message on a channel, as that platform would POST it to
 * `/webhooks/{channel}` — with the platform's own timestamp (`at`, epoch ms; e.g. 30 h ago for a
 * late delivery) and signed with the test secrets of channels.md §10. For end-to-end tests that
 * need a conversation other than the samples' (whose timestamps are fixed in the past).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { metaSignature, metaWireBody } from '../../functions/channels/meta.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { TEST_SECRETS } from './samples.js';

export type WritingChannel = 'telegram' | 'whatsapp' | 'messenger' | 'instagram' | 'vk' | 'viber' | 'twilio';

/** The ids the fresh messages are addressed to (the samples' business side). */
export const BUSINESS = {
  whatsappPhoneNumberId: '120300400500600', whatsappNumber: '15550100100', whatsappWaba: '110200300400500',
  page: '104857600200300', instagram: '17841400000000001', vkGroup: 100200300, twilioNumber: '+14155550100',
} as const;

export interface WebhookRequest { readonly headers: Record<string, string>; readonly body: string; readonly query?: Record<string, string> }

let seq = 0;
const next = () => ++seq + Math.floor(Math.random() * 1e6) * 1000;

function meta(value: unknown): WebhookRequest {
  const body = metaWireBody(value);
  return { headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(TEST_SECRETS.META_APP_SECRET!, body) }, body };
}

/**
 * One text message from `from` (the channel's customer id: Telegram user id, wa_id, PSID, IGSID,
 * VK user id, Viber id, phone or `whatsapp:+…` for Twilio) at `at` (ms).
 */
export function customerWrites(channel: WritingChannel, from: string, text: string, at: number, name = 'Test Customer'): WebhookRequest {
  const sec = Math.floor(at / 1000);
  const n = next();
  switch (channel) {
    case 'telegram': {
      const id = Number(from);
      const body = JSON.stringify({ update_id: n, message: { message_id: n % 1e6, from: { id, is_bot: false, first_name: name }, chat: { id, first_name: name, type: 'private' }, date: sec, text } });
      return { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_SECRETS.TELEGRAM_SECRET_TOKEN! }, body };
    }
    case 'whatsapp':
      return meta({ object: 'whatsapp_business_account', entry: [{ id: BUSINESS.whatsappWaba, changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp', metadata: { display_phone_number: BUSINESS.whatsappNumber, phone_number_id: BUSINESS.whatsappPhoneNumberId },
        contacts: [{ profile: { name }, wa_id: from }],
        messages: [{ from, id: `wamid.TEST${String(n).padStart(16, '0')}`, timestamp: String(sec), type: 'text', text: { body: text } }],
      } }] }] });
    case 'messenger':
    case 'instagram': {
      const account = channel === 'messenger' ? BUSINESS.page : BUSINESS.instagram;
      return meta({ object: channel === 'messenger' ? 'page' : 'instagram', entry: [{ id: account, time: at, messaging: [{
        sender: { id: from }, recipient: { id: account }, timestamp: at, message: { mid: `m_test${n}`, text },
      }] }] });
    }
    case 'vk': {
      const id = Number(from);
      const body = JSON.stringify({ type: 'message_new', event_id: `e2e${randomUUID().replaceAll('-', '')}`, v: '5.199', object: {
        message: { date: sec, from_id: id, id: n % 1e6, out: 0, attachments: [], conversation_message_id: n % 1e6, fwd_messages: [], peer_id: id, random_id: 0, text },
        client_info: { keyboard: true, inline_keyboard: true, lang_id: 3 },
      }, group_id: BUSINESS.vkGroup, secret: TEST_SECRETS.VK_SECRET });
      return { headers: { 'content-type': 'application/json' }, body };
    }
    case 'viber': {
      const body = `{"event":"message","timestamp":${at},"message_token":${6018829301442119937n + BigInt(n)},"sender":{"id":${JSON.stringify(from)},"name":${JSON.stringify(name)},"language":"en","country":"PL","api_version":10},"message":{"type":"text","text":${JSON.stringify(text)}},"silent":false}`;
      const sig = createHmac('sha256', TEST_SECRETS.VIBER_AUTH_TOKEN!).update(body).digest('hex');
      return { headers: { 'content-type': 'application/json', 'x-viber-content-signature': sig }, body };
    }
    case 'twilio': {
      const sid = `SM${n.toString(16).padStart(32, '0')}`;
      const to = from.startsWith('whatsapp:') ? `whatsapp:${BUSINESS.twilioNumber}` : BUSINESS.twilioNumber;
      const body = new URLSearchParams([['MessageSid', sid], ['SmsSid', sid], ['SmsStatus', 'received'], ['AccountSid', TEST_SECRETS.TWILIO_ACCOUNT_SID!],
        ['From', from], ['To', to], ['Body', text], ['NumMedia', '0'], ['NumSegments', '1'], ['ApiVersion', '2010-04-01']]).toString();
      const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
      return { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body };
    }
  }
}
