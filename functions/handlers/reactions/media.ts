/**
 * `media.pending` (committed with a message whose attachments can be fetched) → one job on the
 * media queue (functions/handlers/media.ts). The queue is standard (no deduplication): a
 * redelivered stream record enqueues the job again, and the media function's conditional writes
 * make the second run store nothing.
 */
import type { Enqueue } from '../../runtime/ports.js';
import type { FeedEvent } from '../../store/records.js';
import type { Reaction } from './reaction.js';

export function mediaReactions(enqueueMedia: Enqueue): Record<string, Reaction[]> {
  return {
    'media.pending': [async function enqueueMediaJob(e: FeedEvent) {
      await enqueueMedia({
        // A standard queue: no group, no deduplication id (SQS refuses them there).
        body: JSON.stringify({ ticket_id: e.ticket_id, entry_sk: e.data.entry_sk, message_id: e.data.message_id, channel: e.data.channel }),
      });
    }],
  };
}
