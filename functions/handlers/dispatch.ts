/**
 * Dispatch λ: the table's stream (filtered to change-feed items) → side effects. Feed events are
 * written in the same transaction as the change they describe, so an effect can never be lost
 * between "committed" and "acted on" (transactional outbox). Every reaction is idempotent: the
 * stream delivers at least once.
 *
 * Reactions of one event are isolated: each runs (in order) whether or not an earlier one threw,
 * so a failing classification never withholds the acknowledgement, the SLA start or an agent's
 * reply queued by the same event. When any of them failed, the record is reported as a batch item
 * failure after all have run: the stream redelivers it (and the records after it, keeping order),
 * every reaction runs again — the ones that had succeeded are idempotent and plan nothing new —
 * until the failing one succeeds or the mapping's retries are spent and the record's metadata goes
 * to the dispatch failure queue (lib/processing.ts; DispatchFailuresAlarm and
 * DispatchIteratorAgeAlarm in lib/observability.ts).
 */
import type { DynamoDBStreamEvent, DynamoDBBatchResponse } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { FeedEvent } from '../store/records.js';
import { lambdaHandler } from '../runtime/aws.js';
import { requireSetting, type Config } from '../runtime/config.js';
import type { Platform } from '../runtime/platform.js';
import type { Enqueue } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { surveySettingsFrom } from '../domain/survey.js';
import { acknowledgementReaction } from './reactions/acknowledgement.js';
import { assignmentReactions } from './reactions/assignment.js';
import { classificationReaction } from './reactions/classification.js';
import { deflectionReactions } from './reactions/deflection.js';
import { erasureReactions } from './reactions/erasure.js';
import { mediaReactions } from './reactions/media.js';
import { combineReactions, type Reaction } from './reactions/reaction.js';
import { slaReactions } from './sla-reactions.js';
import { slaDefaultsFrom } from './sla-evaluate.js';
import { surveyReactions } from './survey-reactions.js';
import { tierReaction } from './reactions/tier.js';

export type { Reaction };

export interface DispatchDeps {
  readonly enqueueOutbound: Enqueue;
  /** Extra reactions by event type (acknowledgements, workflows), added by later capabilities. */
  readonly reactions?: Readonly<Record<string, readonly Reaction[]>>;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'error'>;
}

export class DispatchError extends Error {
  override readonly name = 'DispatchError';
}

export function makeDispatch(deps: DispatchDeps) {
  const log = deps.logger ?? defaultLogger;
  const builtIn: Record<string, Reaction[]> = {
    // An outbound message goes to the outbound FIFO queue, one group per ticket (in order).
    'outbound.queued': [async function enqueueOutbound(e) {
      await deps.enqueueOutbound({
        body: JSON.stringify({ ticket_id: e.ticket_id, entry_sk: e.data.entry_sk, message_id: e.data.message_id }),
        groupId: `ticket:${e.ticket_id}`,
        deduplicationId: String(e.data.message_id),
      });
    }],
    // A button press to answer (send.ts `answerOne`): its own FIFO group, so a ticket's queued
    // replies (perhaps waiting out a 429) never delay it past the platform's expiry, and it never
    // holds them up. A redelivered stream record enqueues the same job; the send λ's claim makes
    // the second one a no-op.
    'interaction.received': [async function enqueueInteractionAnswer(e) {
      await deps.enqueueOutbound({
        body: JSON.stringify({ kind: 'interaction-answer', ticket_id: e.ticket_id, entry_sk: e.data.entry_sk, message_id: e.data.message_id }),
        groupId: `interaction:${e.ticket_id}`,
        deduplicationId: `interaction:${String(e.data.message_id)}`,
      });
    }],
  };

  /** Runs every reaction to `event`; throws a DispatchError naming the failed ones after all have run. */
  async function react(event: FeedEvent): Promise<void> {
    const reactions = [...(builtIn[event.type] ?? []), ...(deps.reactions?.[event.type] ?? [])];
    const failed: Array<{ reaction: string; error: string }> = [];
    for (const [i, r] of reactions.entries()) {
      try {
        await r(event);
      } catch (e) {
        const reaction = r.name || `#${i}`;
        failed.push({ reaction, error: e instanceof Error ? e.name : typeof e });
        log.error('dispatch reaction failed', { event_type: event.type, event_id: event.id, reaction, ...errorFacts(e) });
      }
    }
    if (failed.length) {
      throw new DispatchError(`dispatch: ${failed.length} of ${reactions.length} reactions to ${event.type} failed`, { cause: { event_id: event.id, failed } });
    }
  }

  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      if (!image || record.eventName !== 'INSERT') continue;
      const item = unmarshall(image as Record<string, AttributeValue>);
      if (typeof item.pk !== 'string' || !item.pk.startsWith('FEED#')) continue;
      try {
        await react(item as FeedEvent);
      } catch (e) {
        log.error('dispatch failed', { event_type: item.type, event_id: item.id, ...errorFacts(e) });
        // Report this record and stop: the stream retries from here, keeping order.
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  };
  return Object.assign(handler, { react });
}

/**
 * The reactions of a deployment: acknowledgement and classification of new tickets, the chunks of
 * GDPR erasure jobs (store/erasure.ts), automatic assignment (reactions/assignment.ts), and the SLA
 * and survey workflows when their state machines are configured (the dispatch function's
 * `CONFLUO_SLA_STATE_MACHINE_ARN` / `CONFLUO_SURVEY_STATE_MACHINE_ARN`).
 */
export function deploymentReactions(platform: Platform, config: Config, db: Db): Record<string, Reaction[]> {
  const clock = platform.clock;
  const slaArn = config.CONFLUO_SLA_STATE_MACHINE_ARN;
  const surveyArn = config.CONFLUO_SURVEY_STATE_MACHINE_ARN;
  const assignmentArn = config.CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN;
  return combineReactions(
    // Tier before the SLA reactions (below): the ticket's first policy matches on its tier and contract.
    { 'ticket.opened': [tierReaction({ db }), classificationReaction({ db, clock }), acknowledgementReaction({ db, enabled: config.CONFLUO_AUTO_ACK === 'on' })] },
    erasureReactions({ db, clock, ...(config.CONFLUO_MEDIA_BUCKET ? { media: platform.media(config) } : {}) }),
    deflectionReactions({ db }),
    config.CONFLUO_MEDIA_QUEUE_URL ? mediaReactions(platform.queue(config.CONFLUO_MEDIA_QUEUE_URL)) : {},
    slaArn ? slaReactions({ db, clock, defaults: slaDefaultsFrom(config), startExecution: (name, input) => platform.startExecution(slaArn, name, input) }) : {},
    assignmentReactions({ db, clock, defaultCapacity: Number(config.CONFLUO_AGENT_DEFAULT_CAPACITY), ...(assignmentArn ? { startExecution: (name: string, input: Record<string, unknown>) => platform.startExecution(assignmentArn, name, input) } : {}) }),
    surveyArn ? surveyReactions({ db, clock, settings: surveySettingsFrom(config), startExecution: (name, input) => platform.startExecution(surveyArn, name, input) }) : {},
  );
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const db = platform.db(config);
  return makeDispatch({ enqueueOutbound: platform.queue(requireSetting(config, 'CONFLUO_OUTBOUND_QUEUE_URL', 'dispatch')), reactions: deploymentReactions(platform, config, db) });
});
