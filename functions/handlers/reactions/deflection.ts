/**
 * Reactions to a messenger's offered article (README "Knowledge base": deflection on messengers):
 * `kb.offered`, `kb.solved` ("That solved it": a deflection) and `kb.escalated` ("I still need
 * help" or a further message) are counted on the article, the day and the channel — once per
 * event, however often the stream delivers it (functions/store/deflection.ts `countOfferOutcome`).
 * The counters live outside the inbound commit so its transaction never contends on them.
 */
import type { Db } from '../../store/db.js';
import { countOfferOutcome, type CountedOutcome } from '../../store/deflection.js';
import type { FeedEvent } from '../../store/records.js';
import type { Reaction } from './reaction.js';

const OUTCOMES: Readonly<Record<string, CountedOutcome>> = { 'kb.offered': 'offered', 'kb.solved': 'solved', 'kb.escalated': 'not_solved' };

export function deflectionReactions(deps: { readonly db: Db }): Record<string, Reaction[]> {
  const count: Reaction = async function countOffer(event: FeedEvent) {
    const outcome = OUTCOMES[event.type];
    const { article_id: articleId, channel } = event.data;
    if (!outcome || typeof articleId !== 'string' || typeof channel !== 'string') return;
    await countOfferOutcome(deps.db, { eventId: event.id, articleId, channel, outcome, at: event.at });
  };
  return Object.fromEntries(Object.keys(OUTCOMES).map((type) => [type, [count]]));
}
