/**
 * The survey question on every channel (issue 8): native buttons where the adapter declares them,
 * a "reply with a number" text elsewhere — rendered by the channel adapters from the same
 * domain message the survey workflow queues. Each button's payload (what a press sends back) is
 * a score the answer parser reads.
 */
import { describe, expect, it } from 'vitest';
import { renderRequests, type OutboundMessage } from '../../functions/channels/channel.js';
import { channels } from '../../functions/channels/registry.js';
import { renderSurveyMessage, scoreFromPayload, type SurveyScale } from '../../functions/domain/survey.js';
import { vkPayload } from '../../functions/channels/vk/index.js';

const question = (channel: keyof typeof channels, scale: SurveyScale = 'csat'): { msg: OutboundMessage; body: string } => {
  const adapter = channels[channel]!;
  const r = renderSurveyMessage({ kind: 'question', scale, ticketNumber: 'C-000042', language: 'en', buttons: adapter.capabilities.buttons });
  const msg: OutboundMessage = {
    id: 'survey-1', channel: adapter.name, conversation_id: channel === 'email' ? 'ann@example.com' : channel === 'twilio' ? '+12065550142' : '4242',
    text: r.text, kind: 'survey', ...(r.buttons ? { buttons: r.buttons } : {}),
    context: { ticket_number: 'C-000042', ...(channel === 'twilio' ? { business_address: '+14155550100' } : {}), ...(channel === 'email' ? { subject: 'Order', rfc_message_id: '<a@b>' } : {}) },
  };
  // The buttons sit on the last request (Telegram may split a long text into several).
  return { msg, body: renderRequests(adapter, msg, { secrets: { EMAIL_FROM: 'support@example.com', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', WHATSAPP_PHONE_NUMBER_ID: '1' } }).at(-1)?.body ?? '' };
};
const payloads = ['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5'];

describe('the survey question on each channel', () => {
  it('Telegram: an inline keyboard whose callback_data are the scores', () => {
    const b = JSON.parse(question('telegram').body);
    expect(b.reply_markup.inline_keyboard.flat().map((x: { callback_data: string }) => x.callback_data)).toEqual(payloads);
    expect(JSON.parse(question('telegram', 'nps').body).reply_markup.inline_keyboard).toHaveLength(2);
  });

  it('WhatsApp: an interactive list (5 choices > 3 reply buttons) whose row ids are the scores', () => {
    const b = JSON.parse(question('whatsapp').body);
    expect(b.type).toBe('interactive');
    expect(b.interactive.type).toBe('list');
    expect(b.interactive.action.sections.flatMap((s: { rows: Array<{ id: string }> }) => s.rows.map((r) => r.id))).toEqual(payloads);
  });

  it('Messenger and Instagram: quick replies whose payloads are the scores', () => {
    for (const ch of ['messenger', 'instagram'] as const) {
      expect(JSON.parse(question(ch).body).message.quick_replies.map((q: { payload: string }) => q.payload), ch).toEqual(payloads);
    }
  });

  it('VK: a keyboard of text buttons (payload echoed as JSON), Viber: a keyboard of reply buttons', () => {
    const vk = JSON.parse(new URLSearchParams(question('vk').body).get('keyboard')!);
    const vkPayloads = vk.buttons.flat().map((c: { action: { payload: string } }) => c.action.payload);
    expect(vkPayloads).toEqual(payloads.map(vkPayload));
    expect(vkPayloads.map((p: string) => scoreFromPayload(p)?.score)).toEqual([1, 2, 3, 4, 5]);
    const viber = JSON.parse(question('viber').body);
    expect(viber.keyboard.Buttons.map((b: { ActionBody: string }) => b.ActionBody)).toEqual(payloads);
  });

  it('SMS/Twilio, e-mail and web chat: the question asks for a typed number, no button list', () => {
    const sms = new URLSearchParams(question('twilio').body).get('Body')!;
    expect(sms).toContain('C-000042');
    expect(sms.endsWith('Reply with a number from 1 to 5.')).toBe(true);
    expect(question('email').body).toContain('Reply with a number from 1 to 5.');
    expect(JSON.parse(question('webchat').body).text).toContain('Reply with a number from 1 to 5.');
  });
});
