/**
 * An article offered before a ticket opens, as each channel renders it (README "Knowledge base":
 * deflection on messengers): the two answers as native buttons where the adapter has them — each
 * press sending back a payload the pipeline reads (functions/domain/kb/deflection.ts
 * `parseOfferPress`) — and as a numbered list elsewhere; a long article fits every platform.
 */
import { describe, expect, it } from 'vitest';
import { renderRequests, type OutboundMessage } from '../../functions/channels/channel.js';
import { channels } from '../../functions/channels/registry.js';
import { offerMessage, parseOfferPress } from '../../functions/domain/kb/deflection.js';

const TICKET = '01JDEFLECT0000000000000000';
const ANSWERS = [{ answer: 'solved', ticketId: TICKET }, { answer: 'help', ticketId: TICKET }];

const offer = (channel: keyof typeof channels) => {
  const adapter = channels[channel]!;
  const r = offerMessage({ ticketId: TICKET, language: 'en', title: 'Returning an order', text: 'You can return orders within 30 days. '.repeat(40) });
  const msg: OutboundMessage = {
    id: 'kb-1', channel: adapter.name, conversation_id: channel === 'email' ? 'ann@example.com' : channel === 'twilio' ? '+12065550142' : '4242',
    text: r.text, kind: 'deflection', buttons: r.buttons,
    context: { ...(channel === 'twilio' ? { business_address: '+14155550100' } : {}), ...(channel === 'email' ? { subject: 'Returns', rfc_message_id: '<a@b>' } : {}) },
  };
  const requests = renderRequests(adapter, msg, { secrets: { EMAIL_FROM: 'support@example.com', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', WHATSAPP_PHONE_NUMBER_ID: '1' } });
  return { requests, last: requests.at(-1)?.body ?? '' };
};

describe('an offered article on each channel', () => {
  it('Telegram: an inline keyboard on the last message whose callback_data name the answer and the offer', () => {
    const b = JSON.parse(offer('telegram').last);
    expect(b.reply_markup.inline_keyboard.flat().map((x: { callback_data: string }) => parseOfferPress(x.callback_data))).toEqual(ANSWERS);
  });

  it('WhatsApp: two reply buttons; Messenger and Instagram: quick replies; Viber and VK: keyboards', () => {
    const wa = JSON.parse(offer('whatsapp').last);
    expect(wa.interactive.type).toBe('button');
    expect(wa.interactive.action.buttons.map((x: { reply: { id: string } }) => parseOfferPress(x.reply.id))).toEqual(ANSWERS);
    for (const ch of ['messenger', 'instagram'] as const) {
      expect(JSON.parse(offer(ch).last).message.quick_replies.map((q: { payload: string }) => parseOfferPress(q.payload)), ch).toEqual(ANSWERS);
    }
    expect(JSON.parse(offer('viber').last).keyboard.Buttons.map((x: { ActionBody: string }) => parseOfferPress(x.ActionBody))).toEqual(ANSWERS);
    const vk = JSON.parse(new URLSearchParams(offer('vk').last).get('keyboard')!);
    expect(vk.buttons.flat().map((c: { action: { payload: string } }) => parseOfferPress(c.action.payload))).toEqual(ANSWERS);
  });

  it('SMS and e-mail: the answers numbered at the end, as the pipeline reads a reply of 1 or 2', () => {
    const sms = offer('twilio').requests.map((r) => new URLSearchParams(r.body!).get('Body')!).join('');
    expect(sms.endsWith('1. That solved it\n2. I still need help')).toBe(true);
    const mail = offer('email').last;
    expect(mail).toContain('Auto-Submitted: auto-replied'); // an automatic reply: no out-of-office loops
    const [, body] = mail.split('\r\n\r\n');
    expect(Buffer.from(body!.replace(/\s+/g, ''), 'base64').toString('utf8').endsWith('1. That solved it\r\n2. I still need help')).toBe(true);
  });
});
