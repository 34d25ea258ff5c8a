/**
 * Reactions to `customer.erasure_requested` and `customer.erasure_continued`: run the chunk of
 * the GDPR erasure job the event names (functions/store/erasure.ts `eraseStep`). Each chunk's
 * commit writes the event of the next, so the job runs itself to the end through the change
 * feed; a redelivered event finds its chunk done and writes nothing.
 */
import { monotonicFactory } from 'ulid';
import type { Clock } from '../../domain/clock.js';
import type { Db } from '../../store/db.js';
import { eraseStep, type MediaObjects } from '../../store/erasure.js';
import type { FeedEvent } from '../../store/records.js';
import type { Reaction } from './reaction.js';

export function erasureReactions(deps: { readonly db: Db; readonly clock: Clock; readonly media?: MediaObjects }): Record<string, Reaction[]> {
  const ulid = monotonicFactory();
  const step: Reaction = async (e: FeedEvent) => {
    const chunk = e.data.chunk;
    if (!e.customer_id || typeof chunk !== 'number' || !Number.isInteger(chunk)) return;
    const now = deps.clock.now();
    await eraseStep(deps.db, { customerId: e.customer_id, chunk, now, newId: () => ulid(now), ...(deps.media ? { media: deps.media } : {}) });
  };
  return { 'customer.erasure_requested': [step], 'customer.erasure_continued': [step] };
}
