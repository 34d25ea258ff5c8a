/**
 * Send λ: outbound FIFO queue → render with the channel adapter → perform the platform request →
 * record delivery. Idempotent per outbound message: a message no longer `queued` is not sent again.
 * 429/5xx are retried through the queue (visibility timeout), honouring the platform's hint
 * where the queue allows; a permanent refusal marks the message `failed` with its code.
 * A message rendered as several requests (Telegram > 4096 characters) records each accepted part,
 * so a retry resumes after them; its delivery id is the last part's.
 *
 * Jobs of kind `interaction-answer` answer a button press (Telegram answerCallbackQuery, VK
 * sendMessageEventAnswer) described by the adapter's `answerInteraction`: claimed on the inbound
 * entry first, performed once, best-effort — a platform error is logged and never retried (the
 * platforms expire the press within seconds to a minute), so it cannot block anything.
 */
import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { z } from 'zod';
import { renderRequests, type ChannelAdapter, type InteractionRef, type OutboundMessage, type PlatformRequest, type PlatformResponse, type Secrets } from '../channels/channel.js';
import { channelByName } from '../channels/registry.js';
import type { Config } from '../runtime/config.js';
import { lambdaHandler } from '../runtime/aws.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { claimInteractionAnswer, settleInteractionAnswer } from '../store/interactions.js';
import { advanceDelivery, recordPartsSent } from '../store/outbound.js';
import { getIdentity, getTicket, getTimelineEntry, getCustomer } from '../store/reads.js';
import type { MessageEntry } from '../store/records.js';

/** An outbound message to send, or (`kind: 'interaction-answer'`) the inbound press to answer. */
export const OutboundJob = z.object({ kind: z.literal('interaction-answer').optional(), ticket_id: z.string(), entry_sk: z.string(), message_id: z.string() });
export type OutboundJob = z.infer<typeof OutboundJob>;

export interface SendMeta { readonly channel: string; readonly kind: string; readonly ticket_id: string | null; readonly message_id: string }

export interface SendDeps {
  readonly db: Db;
  readonly config: Config;
  /** Performs the described request (AWS: fetch/SES; local: the outbox). */
  readonly perform: (request: PlatformRequest, meta: SendMeta) => Promise<PlatformResponse>;
  readonly channel?: (name: string) => ChannelAdapter | undefined;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SendError extends Error {
  override readonly name = 'SendError';
}

/** The stored `interaction_ref` (string values only), or undefined. */
function interactionRefOf(value: unknown): InteractionRef | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.every(([, v]) => typeof v === 'string') ? Object.fromEntries(entries) as InteractionRef : undefined;
}

export function makeSend(deps: SendDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;

  async function sendOne(job: OutboundJob): Promise<'sent' | 'skipped' | 'failed'> {
    if (job.kind === 'interaction-answer') return answerOne(job);
    const entry = await getTimelineEntry(deps.db, job.ticket_id, job.entry_sk);
    if (!entry || entry.type !== 'message' || entry.direction !== 'out') return 'skipped';
    if (entry.delivery !== 'queued') return 'skipped'; // already sent (redelivery) or failed
    const adapter = lookup(entry.channel);
    if (!adapter) throw new SendError('no adapter for channel', { cause: { channel: entry.channel, stage: 'render' } });
    const context = await replyContext(entry, job.ticket_id);
    const msg: OutboundMessage = {
      id: entry.id, channel: entry.channel, conversation_id: entry.conversation_id, text: entry.text,
      kind: entry.outbound_kind ?? 'reply', ...(context ? { context } : {}),
      ...(Array.isArray(entry.extras?.buttons) ? { buttons: entry.extras.buttons as OutboundMessage['buttons'] } : {}),
    };
    const ref = { ticketId: job.ticket_id, entrySk: job.entry_sk };
    const ctx = { secrets: deps.config as unknown as Secrets };
    let requests: readonly PlatformRequest[];
    try {
      requests = renderRequests(adapter, msg, ctx);
    } catch (e) {
      // Rendering is pure: what fails now (a missing outbound setting, an unrenderable message)
      // fails on every retry, so the message is failed at once instead of poisoning the queue.
      await advanceDelivery(deps.db, ref, 'failed', { status: 'failed', error: 'render_failed' });
      log.warn('outbound not renderable', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, ...errorFacts(e) });
      return 'failed';
    }
    // Rendering is deterministic, so the parts of a retry are the parts of the first attempt.
    const done = Math.min(entry.parts_sent ?? 0, requests.length - 1);
    let externalId: string | undefined;
    for (let i = done; i < requests.length; i++) {
      const response = await deps.perform(requests[i]!, { channel: entry.channel, kind: msg.kind, ticket_id: job.ticket_id, message_id: entry.id });
      const result = adapter.readDelivery(response, msg, ctx);
      if (!result.ok) {
        const facts = { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, code: result.error_code, ...(requests.length > 1 ? { part: i + 1, parts: requests.length } : {}) };
        if (result.retryable) throw new SendError('platform asked to retry', { cause: { ...facts, stage: 'perform', retry_after_s: result.retry_after_s } });
        await advanceDelivery(deps.db, ref, 'failed', { status: 'failed', error: result.error_code });
        log.warn('outbound failed', facts);
        return 'failed';
      }
      // The delivery id is the last part's: survey buttons sit on the last part, and a press
      // names the message it was on.
      externalId = result.external_message_id;
      if (i < requests.length - 1) await recordPartsSent(deps.db, ref, i + 1);
    }
    await advanceDelivery(deps.db, ref, 'sent', { status: 'sent', ...(externalId ? { externalId, channel: entry.channel } : {}) });
    log.info('outbound sent', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, ...(requests.length > 1 ? { parts: requests.length } : {}) });
    return 'sent';
  }

  /**
   * Answer one button press, at most once: the adapter describes the request from the
   * `interaction_ref` its parse kept, the claim on the inbound entry makes a redelivered job a
   * no-op, and whatever the platform answers is logged, never retried.
   */
  async function answerOne(job: OutboundJob): Promise<'sent' | 'skipped' | 'failed'> {
    const entry = await getTimelineEntry(deps.db, job.ticket_id, job.entry_sk);
    if (!entry || entry.type !== 'message' || entry.direction !== 'in') return 'skipped';
    const interactionRef = interactionRefOf(entry.extras?.interaction_ref);
    const adapter = lookup(entry.channel);
    if (!interactionRef || !adapter?.answerInteraction) return 'skipped';
    const ctx = { secrets: deps.config as unknown as Secrets };
    const facts = { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id };
    let request: PlatformRequest | null;
    try {
      request = adapter.answerInteraction(interactionRef, ctx);
    } catch (e) {
      log.warn('interaction answer not renderable', { ...facts, ...errorFacts(e) });
      return 'failed';
    }
    if (!request) return 'skipped';
    const ref = { ticketId: job.ticket_id, entrySk: job.entry_sk };
    if (!(await claimInteractionAnswer(deps.db, ref))) return 'skipped'; // answered (or being answered) before
    let code: string | undefined;
    try {
      const response = await deps.perform(request, { channel: entry.channel, kind: 'interaction-answer', ticket_id: job.ticket_id, message_id: entry.id });
      // The answer's `response` is no message id (Telegram `result: true`, VK `response: 1`);
      // readDelivery only tells success from the platform's error code here.
      const result = adapter.readDelivery(response, { id: entry.id, channel: entry.channel, conversation_id: entry.conversation_id, text: '', kind: 'reply' }, ctx);
      code = result.ok ? undefined : result.error_code;
    } catch (e) {
      code = 'perform_failed';
      log.warn('interaction answer not performed', { ...facts, ...errorFacts(e) });
    }
    await settleInteractionAnswer(deps.db, ref, code === undefined ? 'answered' : 'failed', code);
    if (code === undefined) log.info('interaction answered', facts);
    else log.warn('interaction answer failed', { ...facts, code });
    return code === undefined ? 'sent' : 'failed';
  }

  /** Channel context captured from the customer's last inbound message on that conversation. */
  async function replyContext(entry: MessageEntry, ticketId: string): Promise<Record<string, unknown> | undefined> {
    const ticket = await getTicket(deps.db, ticketId);
    if (!ticket) return undefined;
    const customer = await getCustomer(deps.db, ticket.customer_id);
    const identityId = typeof entry.extras?.identity_external_id === 'string' ? entry.extras.identity_external_id : undefined;
    if (!customer || !identityId) return entry.extras?.context as Record<string, unknown> | undefined;
    const identity = await getIdentity(deps.db, entry.channel, identityId);
    return { ...(identity?.reply_context ?? {}), ...((entry.extras?.context as Record<string, unknown>) ?? {}), ticket_number: ticket.number };
  }

  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> =>
    processPartialResponse(event, async (record: SQSRecord) => {
      try {
        return await sendOne(OutboundJob.parse(JSON.parse(record.body)));
      } catch (e) {
        log.error('send failed', { message_id: record.messageId, ...errorFacts(e) });
        throw e;
      }
    }, new SqsFifoPartialProcessorAsync(), { skipGroupOnError: true, throwOnFullBatchFailure: false });
  return Object.assign(handler, { sendOne });
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeSend({ db: platform.db(config), config, perform: platform.perform(config) });
});
