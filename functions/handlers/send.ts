/**
 * Send λ: outbound FIFO queue → render with the channel adapter → perform the platform request →
 * record delivery. Idempotent per outbound message: a message no longer `queued` is not sent again.
 * 429/5xx are retried through the queue (visibility timeout), honouring the platform's hint
 * where the queue allows; a permanent refusal marks the message `failed` with its code.
 */
import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { z } from 'zod';
import type { ChannelAdapter, OutboundMessage, PlatformRequest, PlatformResponse, Secrets } from '../channels/channel.js';
import { channelByName } from '../channels/registry.js';
import type { Config } from '../runtime/config.js';
import { awsConfig, awsDb, lazyHandler } from '../runtime/aws.js';
import { performInAws } from '../runtime/perform.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { advanceDelivery } from '../store/outbound.js';
import { getIdentity, getTicket, getTimelineEntry, getCustomer } from '../store/reads.js';
import type { MessageEntry } from '../store/records.js';

export const OutboundJob = z.object({ ticket_id: z.string(), entry_sk: z.string(), message_id: z.string() });
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

export function makeSend(deps: SendDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;

  async function sendOne(job: OutboundJob): Promise<'sent' | 'skipped' | 'failed'> {
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
    let request;
    try {
      request = adapter.render(msg, { secrets: deps.config as unknown as Secrets });
    } catch (e) {
      // Rendering is pure: what fails now (a missing outbound setting, an unrenderable message)
      // fails on every retry, so the message is failed at once instead of poisoning the queue.
      await advanceDelivery(deps.db, ref, 'failed', { status: 'failed', error: 'render_failed' });
      log.warn('outbound not renderable', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, ...errorFacts(e) });
      return 'failed';
    }
    const response = await deps.perform(request, { channel: entry.channel, kind: msg.kind, ticket_id: job.ticket_id, message_id: entry.id });
    const result = adapter.readDelivery(response, msg, { secrets: deps.config as unknown as Secrets });
    if (result.ok) {
      await advanceDelivery(deps.db, ref, 'sent', { status: 'sent', ...(result.external_message_id ? { externalId: result.external_message_id, channel: entry.channel } : {}) });
      log.info('outbound sent', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id });
      return 'sent';
    }
    if (result.retryable) throw new SendError('platform asked to retry', { cause: { channel: entry.channel, stage: 'perform', code: result.error_code, retry_after_s: result.retry_after_s } });
    await advanceDelivery(deps.db, ref, 'failed', { status: 'failed', error: result.error_code });
    log.warn('outbound failed', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, code: result.error_code });
    return 'failed';
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

export const handler = lazyHandler(async () => {
  const config = await awsConfig();
  return makeSend({ db: awsDb(config), config, perform: performInAws });
});
