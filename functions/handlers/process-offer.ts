/**
 * The process pipeline's deflection step (README "Knowledge base": deflection on messengers;
 * the rules in functions/domain/kb/deflection.ts, the held conversation in
 * functions/store/deflection.ts). Kept out of process.ts so the known-customer commit stays as it is:
 * process.ts asks {@link OfferStep.find} only where it would open a new ticket, and
 * {@link OfferStep.answer} only on the slow path with the customer's current ticket already loaded.
 *
 * Cost: nothing for a message that joins or reopens a ticket, or opens one on a channel without
 * deflection. A first message on a deflecting channel costs one GetItem (the knowledge base's
 * version counter) and an in-memory search; the index is built once per warm instance and again
 * only after an article changed (one Query of the articles: `makeKbIndexCache`). Only when an
 * article is good enough is the customer's tier resolved (up to three reads) — a tier in
 * CONFLUO_KB_DEFLECTION_SKIP_TIERS always reaches a person.
 */
import type { InboundMessage } from '../domain/inbound.js';
import { answerToOffer, deflectionSettingsFrom, mayOffer, offerable, offerMessage, tierSkipsOffer } from '../domain/kb/deflection.js';
import type { KbIndex } from '../domain/kb/search.js';
import { guessLanguage, KB_LANGUAGES, type KbLanguage } from '../domain/kb/stemming.js';
import { readableText } from '../domain/kb/plain-text.js';
import { initialSla } from '../domain/sla/policy.js';
import type { Config } from '../runtime/config.js';
import { errorFacts, type logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { offerItems } from '../store/deflection.js';
import { makeKbIndexCache, type ArticleRecord } from '../store/kb.js';
import type { OfferThread } from '../store/offer-thread.js';
import { organisationForEmails, resolveCustomerTier } from '../store/organisations.js';
import type { CustomerRecord, EventEntry, FeedEvent, MessageEntry, TicketRecord } from '../store/records.js';

export type KbIndexSource = (db: Db) => Promise<{ index: KbIndex; articles: Map<string, ArticleRecord> }>;

export interface Offer {
  readonly article_id: string;
  readonly language: KbLanguage;
  readonly confidence: number;
  readonly article: ArticleRecord;
}

export function makeOfferStep(deps: {
  readonly db: Db; readonly config: Config; readonly newId: (now: number) => string;
  readonly kbIndex?: KbIndexSource; readonly log: Pick<typeof defaultLogger, 'info' | 'warn'>;
}) {
  const { db } = deps;
  const settings = deflectionSettingsFrom(deps.config);
  const indexOf = deps.kbIndex ?? makeKbIndexCache();

  /** The customer's effective tier is one that always reaches a person. */
  async function skippedTier(msg: InboundMessage, customer: CustomerRecord | undefined): Promise<boolean> {
    if (tierSkipsOffer(settings, customer?.tier)) return true;
    if (customer) return tierSkipsOffer(settings, (await resolveCustomerTier(db, customer.id))?.effective.tier);
    // A new customer: only an organisation can give a tier, through an address the platform verified.
    const email = msg.customer_identity.email_verified ? msg.customer_identity.email : undefined;
    return email ? tierSkipsOffer(settings, (await organisationForEmails(db, [email.toLowerCase()]))?.tier) : false;
  }

  /** The best published article for the message, if good enough and the customer's tier allows an offer. */
  async function search(msg: InboundMessage, customer: CustomerRecord | undefined): Promise<Offer | undefined> {
    const hinted = msg.customer_identity.language?.slice(0, 2).toLowerCase();
    const language = guessLanguage(msg.text, (KB_LANGUAGES as readonly string[]).includes(hinted ?? '') ? hinted as KbLanguage : 'en');
    const { index, articles } = await indexOf(db);
    if (index.size === 0) return undefined;
    const [best] = offerable(index.search(msg.text.slice(0, 1000), { language, limit: 1 }), settings, 1);
    const article = best && articles.get(best.id);
    if (!best || !article) return undefined;
    if (await skippedTier(msg, customer)) return undefined;
    return { article_id: article.id, language: article.language, confidence: best.confidence, article };
  }

  return {
    /** The article to offer instead of opening a ticket for `msg`, if any (see the header for when it is asked). */
    async find(msg: InboundMessage, ctx: { readonly authenticated: boolean; readonly customer: CustomerRecord | undefined }): Promise<Offer | undefined> {
      if (!mayOffer(settings, msg, ctx.authenticated)) return undefined;
      // The offer is a courtesy: if the knowledge base cannot be read or searched, the ticket opens as without it.
      try {
        return await search(msg, ctx.customer);
      } catch (e) {
        deps.log.warn('article offer skipped', { channel: msg.channel, ...errorFacts(e) });
        return undefined;
      }
    },

    /** The thread plan of a message to a held or deflected conversation, or undefined when the normal rules apply. */
    answer(current: TicketRecord, msg: InboundMessage, now: number): OfferThread | undefined {
      if (current.status !== 'held' && current.status !== 'deflected') return undefined;
      const outcome = answerToOffer(current, msg);
      if (!outcome) return undefined;
      return { action: 'offer', ticketId: current.id, outcome, from: current.status, ...(outcome === 'release' ? { sla: initialSla(current.priority, now) } : {}) };
    },

    /** Events of a held conversation, and the offer's reply queued with it (commitInbound `extraItems`). */
    held(a: { msg: InboundMessage; ticket: TicketRecord; offer: Offer; entryId: string; now: number; events: FeedEvent[]; timelineEvents: EventEntry[] }) {
      const { msg, ticket, offer, now } = a;
      const data = { channel: msg.channel, article_id: offer.article_id, language: offer.language, confidence: Math.round(offer.confidence * 100) / 100 };
      a.events.push({ id: deps.newId(now), type: 'kb.offered', at: now, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { ...data, message_id: a.entryId } });
      a.timelineEvents.push({ type: 'event', id: deps.newId(now), ticket_id: ticket.id, at: now, event: 'kb.offered', data });
      const reply = offerMessage({ ticketId: ticket.id, language: offer.language, title: offer.article.title, text: readableText(offer.article.body) });
      const id = deps.newId(now);
      const entry: MessageEntry = {
        type: 'message', id, ticket_id: ticket.id, at: now, channel: msg.channel, direction: 'out', external_message_id: null,
        conversation_id: msg.conversation_id, text: reply.text, attachments: [], interaction: null, edited: false, sent_at: now,
        delivery: 'queued', outbound_kind: 'deflection', author: 'system',
        extras: { language: offer.language, buttons: reply.buttons, article_id: offer.article_id, identity_external_id: msg.customer_identity.external_id },
      };
      deps.log.info('article offered', { channel: msg.channel, ticket_id: ticket.id, article_id: offer.article_id, confidence: data.confidence });
      return offerItems(db, entry, ticket.customer_id);
    },

    /** Events of an answer: the ticket opens (as any new ticket does), or the conversation is deflected. */
    answered(a: { msg: InboundMessage; thread: OfferThread; ticket: TicketRecord; entryId: string; now: number; events: FeedEvent[]; timelineEvents: EventEntry[] }) {
      const { msg, thread, ticket, now } = a;
      const articleId = ticket.deflection?.article_id ?? null;
      const base = { ticket_id: ticket.id, customer_id: ticket.customer_id };
      if (thread.outcome === 'release') {
        a.events.push({ id: deps.newId(now), type: 'ticket.opened', at: now, ...base, data: { number: ticket.number, channel: msg.channel, previous_ticket_id: ticket.previous_ticket_id, after_offer: articleId } });
        a.timelineEvents.push({ type: 'event', id: deps.newId(now), ticket_id: ticket.id, at: now, event: 'ticket.opened', data: { channel: msg.channel, after_offer: articleId, ...(ticket.previous_ticket_id ? { previous_ticket_id: ticket.previous_ticket_id } : {}) } });
        // Counted once, from the held conversation (a change of mind after "solved" is not a second answer).
        if (thread.from === 'held' && articleId) a.events.push({ id: deps.newId(now), type: 'kb.escalated', at: now, ...base, data: { channel: msg.channel, article_id: articleId, by: msg.interaction ? 'button' : 'message' } });
      } else if (thread.outcome === 'deflect' && articleId) {
        a.events.push({ id: deps.newId(now), type: 'kb.solved', at: now, ...base, data: { channel: msg.channel, article_id: articleId } });
        a.timelineEvents.push({ type: 'event', id: deps.newId(now), ticket_id: ticket.id, at: now, event: 'kb.solved', data: { article_id: articleId } });
      }
      deps.log.info('offer answered', { channel: msg.channel, ticket_id: ticket.id, outcome: thread.outcome, from: thread.from });
    },
  };
}
