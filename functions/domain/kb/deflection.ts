/**
 * When an article is offered before a ticket opens (README "Knowledge base": deflection), pure.
 *
 * The widget asks the help API before it sends (web/widget). On messengers the process pipeline
 * decides ({@link mayOffer}, {@link answerToOffer}): a new conversation whose first message matches
 * a published article at or above CONFLUO_KB_CONFIDENCE is `held` (functions/domain/ticket.ts) and
 * answered with the article and two buttons ({@link offerMessage}); the customer's answer decides:
 *
 * | the conversation | the customer                                             | becomes                  |
 * |------------------|----------------------------------------------------------|--------------------------|
 * | held             | presses "That solved it" (or replies `1`)                | deflected (counted)      |
 * | held             | presses "I still need help", replies `2`, writes anything | new: the ticket opens   |
 * | deflected        | presses "I still need help" on that offer later          | new: the ticket opens    |
 * | deflected        | presses "That solved it" again                           | unchanged (press kept)   |
 * | held/deflected   | presses a button of another (older) offer                | unchanged (press kept)   |
 * | deflected        | writes anything else                                      | a new conversation       |
 *
 * A held conversation never lapses by itself: it waits for the customer's next message, whenever
 * it comes, so the first question is never lost and nothing runs on a timer.
 */
import type { KbHit } from './search.js';
import type { KbLanguage } from './stemming.js';

export interface DeflectionSettings {
  /** CONFLUO_KB_CONFIDENCE: least confidence of an offered article. */
  readonly confidence: number;
  /** CONFLUO_KB_DEFLECTION: channels that offer articles. */
  readonly channels: ReadonlySet<string>;
  /** CONFLUO_KB_DEFLECTION_SKIP_TIERS: tiers never offered an article on a messenger. */
  readonly skipTiers: ReadonlySet<string>;
}

const list = (v: string | undefined, fallback: string, none: string) => {
  const s = (v ?? fallback).trim();
  return new Set(s === none ? [] : s.split(',').map((c) => c.trim()).filter((c) => c !== ''));
};

export function deflectionSettingsFrom(config: {
  readonly CONFLUO_KB_CONFIDENCE?: string | undefined; readonly CONFLUO_KB_DEFLECTION?: string | undefined; readonly CONFLUO_KB_DEFLECTION_SKIP_TIERS?: string | undefined;
}): DeflectionSettings {
  return {
    confidence: Number(config.CONFLUO_KB_CONFIDENCE ?? '0.5'),
    channels: list(config.CONFLUO_KB_DEFLECTION, 'webchat', 'off'),
    skipTiers: list(config.CONFLUO_KB_DEFLECTION_SKIP_TIERS, 'vip', 'none'),
  };
}

/** The hits good enough to offer (at most `limit`), best first. */
export function offerable(hits: readonly KbHit[], settings: DeflectionSettings, limit = 3): KbHit[] {
  return hits.filter((h) => h.confidence >= settings.confidence).slice(0, limit);
}

/**
 * Whether a message that is about to open a ticket may be offered an article instead: its channel
 * offers articles, it is a question in words (not a button press, not only attachments), from a
 * sender the platform vouches for. The tier is checked after a good article is found (it costs reads).
 */
export function mayOffer(settings: DeflectionSettings, msg: { readonly channel: string; readonly text: string; readonly interaction: unknown; readonly edit: boolean }, authenticated: boolean): boolean {
  // Web chat offers in the widget before sending; a phone call has nobody to read an article to.
  return settings.channels.has(msg.channel) && msg.channel !== 'webchat' && msg.channel !== 'voice' && authenticated && !msg.edit
    && msg.interaction === null && msg.text.trim() !== '';
}

/** A customer of this tier always reaches a person. */
export function tierSkipsOffer(settings: DeflectionSettings, tier: string | null | undefined): boolean {
  return typeof tier === 'string' && settings.skipTiers.has(tier);
}

// ---- the offer's buttons -------------------------------------------------------------------

export type OfferAnswer = 'solved' | 'help';

/** `kb:solved:<ticket id>` / `kb:help:<ticket id>`: 36 bytes at most, within Telegram's 64 of callback_data. */
export const offerPayload = (answer: OfferAnswer, ticketId: string) => `kb:${answer}:${ticketId}`;

const PRESS = /^kb:(solved|help):([0-9A-Za-z]{1,40})$/;

/**
 * The answer and the offer (held ticket) a button press names, if it is an offer's button. VK
 * echoes a payload as JSON text (`"kb:help:…"`, channels.md §5), the others as sent.
 */
export function parseOfferPress(payload: string): { readonly answer: OfferAnswer; readonly ticketId: string } | undefined {
  const p = payload.trim();
  const m = PRESS.exec(p.length > 2 && p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1) : p);
  return m ? { answer: m[1] as OfferAnswer, ticketId: m[2]! } : undefined;
}

/** What a customer's message does to their held or deflected conversation (see the table above). */
export type OfferOutcome = 'deflect' | 'release' | 'keep';

export function answerToOffer(ticket: { readonly id: string; readonly status: string }, msg: { readonly text: string; readonly interaction: { readonly payload: string } | null }): OfferOutcome | null {
  if (ticket.status !== 'held' && ticket.status !== 'deflected') return null;
  const press = msg.interaction ? parseOfferPress(msg.interaction.payload) : undefined;
  if (press && press.ticketId !== ticket.id) return 'keep';
  if (ticket.status === 'deflected') return press ? (press.answer === 'help' ? 'release' : 'keep') : null;
  // Channels without buttons list the two answers as numbered choices (functions/channels/meta.ts `withNumberedChoices`).
  const solved = press ? press.answer === 'solved' : !msg.interaction && msg.text.trim() === '1';
  return solved ? 'deflect' : 'release';
}

// ---- the offer's text ----------------------------------------------------------------------

const WORDS: Record<KbLanguage, { intro: string; ask: string; solved: string; help: string }> = {
  en: { intro: 'This article may answer your question:', ask: 'Did it solve your problem?', solved: 'That solved it', help: 'I still need help' },
  ru: { intro: 'Возможно, эта статья отвечает на ваш вопрос:', ask: 'Это помогло?', solved: 'Вопрос решён', help: 'Нужна помощь' },
  pl: { intro: 'Ten artykuł może odpowiedzieć na Twoje pytanie:', ask: 'Czy to rozwiązało problem?', solved: 'Rozwiązane', help: 'Potrzebuję pomocy' },
};

/** Characters of the article's text in the offer (the rest is on the help centre). */
export const OFFER_TEXT_MAX = 1500;

/**
 * The automatic reply: the article's title and text (plain, cut at a word) in the article's
 * language, and the two answers as buttons — rendered natively where the channel has them
 * (Telegram inline keyboard, Messenger/Instagram quick replies, Viber keyboard, VK) and as a
 * numbered list where it has not (SMS, e-mail).
 */
export function offerMessage(args: { readonly ticketId: string; readonly language: KbLanguage; readonly title: string; readonly text: string; readonly link?: string }) {
  const w = WORDS[args.language];
  const body = args.text.length <= OFFER_TEXT_MAX ? args.text : `${args.text.slice(0, OFFER_TEXT_MAX).replace(/\s+\S*$/u, '')} …`;
  return {
    text: [w.intro, '', args.title, '', body, ...(args.link ? ['', args.link] : []), '', w.ask].join('\n'),
    buttons: [
      { label: w.solved, payload: offerPayload('solved', args.ticketId) },
      { label: w.help, payload: offerPayload('help', args.ticketId) },
    ],
  };
}
