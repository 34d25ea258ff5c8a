/** Offering an article before a ticket opens, and what the customer's answer does (functions/domain/kb/deflection.ts). */
import { describe, expect, it } from 'vitest';
import { answerToOffer, deflectionSettingsFrom, mayOffer, offerMessage, offerPayload, parseOfferPress, tierSkipsOffer } from '../../../functions/domain/kb/deflection.js';
import { loadConfig } from '../../../functions/runtime/config.js';

const TICKET = '01JDEFLECT0000000000000000';
const settings = deflectionSettingsFrom({ CONFLUO_KB_DEFLECTION: 'webchat, telegram', CONFLUO_KB_DEFLECTION_SKIP_TIERS: 'vip,gold' });
const text = (t: string) => ({ text: t, interaction: null });
const press = (payload: string, label = 'x') => ({ text: label, interaction: { payload } });

describe('messenger deflection rules', () => {
  it('reads the channels and the tiers that always reach a person, vip by default, none on request', () => {
    expect([...settings.channels]).toEqual(['webchat', 'telegram']);
    expect([...settings.skipTiers]).toEqual(['vip', 'gold']);
    expect([...deflectionSettingsFrom({}).skipTiers]).toEqual(['vip']);
    expect([...deflectionSettingsFrom({ CONFLUO_KB_DEFLECTION_SKIP_TIERS: 'none' }).skipTiers]).toEqual([]);
    expect(tierSkipsOffer(settings, 'gold')).toBe(true);
    expect(tierSkipsOffer(settings, 'standard')).toBe(false);
    expect(tierSkipsOffer(settings, null)).toBe(false);
  });

  it('refuses a misspelt tier list at start', () => {
    expect(() => loadConfig({ CONFLUO_KB_DEFLECTION_SKIP_TIERS: 'VIP;gold' })).toThrow(/CONFLUO_KB_DEFLECTION_SKIP_TIERS/);
    expect(loadConfig({ CONFLUO_KB_DEFLECTION_SKIP_TIERS: 'vip, gold' }).CONFLUO_KB_DEFLECTION_SKIP_TIERS).toBe('vip, gold');
  });

  it('offers only for a question in words on an enabled messenger, from a sender the platform vouches for', () => {
    const msg = { channel: 'telegram', text: 'How do I return an order?', interaction: null, edit: false };
    expect(mayOffer(settings, msg, true)).toBe(true);
    expect(mayOffer(settings, { ...msg, channel: 'vk' }, true)).toBe(false);
    expect(mayOffer(settings, msg, false)).toBe(false);
    expect(mayOffer(settings, { ...msg, text: '  ' }, true)).toBe(false);
    expect(mayOffer(settings, { ...msg, interaction: { payload: 'csat:5' } }, true)).toBe(false);
    expect(mayOffer(settings, { ...msg, edit: true }, true)).toBe(false);
    // The widget offers before it sends: a web-chat message that arrives is already past its offer.
    expect(mayOffer(settings, { ...msg, channel: 'webchat' }, true)).toBe(false);
    expect(mayOffer(deflectionSettingsFrom({ CONFLUO_KB_DEFLECTION: 'voice' }), { ...msg, channel: 'voice' }, true)).toBe(false);
  });

  it('names the offer in each button within Telegram\'s 64 bytes of callback_data', () => {
    expect(offerPayload('solved', TICKET)).toBe(`kb:solved:${TICKET}`);
    expect(Buffer.byteLength(offerPayload('solved', TICKET))).toBeLessThanOrEqual(64);
    expect(parseOfferPress(`kb:help:${TICKET}`)).toEqual({ answer: 'help', ticketId: TICKET });
    expect(parseOfferPress(`"kb:solved:${TICKET}"`)).toEqual({ answer: 'solved', ticketId: TICKET }); // VK's JSON text
    expect(parseOfferPress('csat:5')).toBeUndefined();
    expect(parseOfferPress(`kb:maybe:${TICKET}`)).toBeUndefined();
  });

  it('deflects a held conversation on "solved" (or a reply of 1) and opens it on "help", a reply of 2 or any other message', () => {
    const held = { id: TICKET, status: 'held' };
    expect(answerToOffer(held, press(`kb:solved:${TICKET}`))).toBe('deflect');
    expect(answerToOffer(held, text(' 1 '))).toBe('deflect');
    expect(answerToOffer(held, press(`kb:help:${TICKET}`))).toBe('release');
    expect(answerToOffer(held, text('2'))).toBe('release');
    expect(answerToOffer(held, text('thanks, but where is my parcel?'))).toBe('release');
    expect(answerToOffer(held, press('csat:5'))).toBe('release');
  });

  it('keeps a press of another offer, and after a deflection opens the ticket only on that offer\'s "help"', () => {
    const deflected = { id: TICKET, status: 'deflected' };
    expect(answerToOffer({ id: TICKET, status: 'held' }, press('kb:solved:01JOTHER000000000000000000'))).toBe('keep');
    expect(answerToOffer(deflected, press(`kb:help:${TICKET}`))).toBe('release');
    expect(answerToOffer(deflected, press(`kb:solved:${TICKET}`))).toBe('keep');
    expect(answerToOffer(deflected, text('a new question'))).toBeNull();
    expect(answerToOffer({ id: TICKET, status: 'open' }, press(`kb:help:${TICKET}`))).toBeNull();
  });

  it('writes the offer in the article\'s language with the article\'s text cut at a word', () => {
    const m = offerMessage({ ticketId: TICKET, language: 'ru', title: 'Сроки доставки', text: 'слово '.repeat(400) });
    expect(m.text.startsWith('Возможно, эта статья отвечает на ваш вопрос:\n\nСроки доставки\n\n')).toBe(true);
    expect(m.text).toContain('слово …');
    expect(m.text.endsWith('Это помогло?')).toBe(true);
    expect(m.text.length).toBeLessThan(1700);
    expect(m.buttons).toEqual([{ label: 'Вопрос решён', payload: `kb:solved:${TICKET}` }, { label: 'Нужна помощь', payload: `kb:help:${TICKET}` }]);
    // Meta quick replies show 20 characters: every label fits.
    for (const language of ['en', 'ru', 'pl'] as const) {
      for (const b of offerMessage({ ticketId: TICKET, language, title: 't', text: 'b' }).buttons) expect([...b.label].length).toBeLessThanOrEqual(20);
    }
  });
});
