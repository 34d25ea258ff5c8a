/**
 * Send λ: outbound FIFO queue → render with the channel adapter → perform the platform request →
 * record delivery. Idempotent per outbound message: a message no longer `queued` is not sent again.
 * A message rendered as several requests (a text over the platform's limit) records each accepted
 * part, so a retry resumes after them; its delivery id is the last part's.
 *
 * What the platform answers decides what happens (docs/channels.md):
 * - accepted → `sent`, with the platform's id of the new message (receipts find it);
 * - a permanent refusal → `failed` with the platform's code and a human reason, a `message.failed`
 *   feed event; a refusal meaning the customer cannot be reached (Telegram 403 "blocked", WhatsApp
 *   131026, Viber 5/6/11, VK 900–902, Twilio 21610) also marks the identity unreachable;
 * - "retry later" (429 with `retry_after`/`Retry-After`, rate-limit codes, 5xx, a connection that
 *   never reached the platform) → the record is hidden with `ChangeMessageVisibility` for the larger
 *   of the platform's wait and an exponential backoff with jitter (functions/domain/delivery.ts),
 *   and so is the rest of its FIFO group (the conversation's order holds: the group is blocked
 *   while its message is hidden);
 * - no answer in time (the perform timeout, a reset connection): retried only where the platform
 *   de-duplicates a repeated send (`capabilities.idempotentSend`: VK `random_id`); elsewhere the
 *   message may have arrived, so it is `failed` with `timeout` and the agent decides;
 * - on the record's last receive (the queue's maxReceiveCount, CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT)
 *   a failure that would be retried becomes `failed` (`retries_exhausted`) instead — so nothing
 *   stays `queued` behind a job that reaches the dead-letter queue; a record that was never tried
 *   (skipped behind a failure in its group) on its last receive is failed the same way.
 *
 * Jobs of kind `interaction-answer` answer a button press (Telegram answerCallbackQuery, VK
 * sendMessageEventAnswer) described by the adapter's `answerInteraction`: claimed on the inbound
 * entry first, performed once, best-effort — a platform error is logged and never retried (the
 * platforms expire the press within seconds to a minute), so it cannot block anything.
 */
import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import { mediaOf, renderRequests, type ChannelAdapter, type InteractionRef, type OutboundMessage, type PlatformRequest, type PlatformResponse, type Secrets } from '../channels/channel.js';
import { ruleFor, type OutboundMedia } from '../channels/media.js';
import { channelByName } from '../channels/registry.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { deliveryFailureReason, retryDelaySeconds } from '../domain/delivery.js';
import type { Config } from '../runtime/config.js';
import { lambdaHandler } from '../runtime/aws.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { ChangeVisibility, MediaStore } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { claimInteractionAnswer, settleInteractionAnswer } from '../store/interactions.js';
import { advanceDelivery, failDelivery, recordPartsSent } from '../store/outbound.js';
import { setReachability } from '../store/reachability.js';
import { getIdentity, getTicket, getTimelineEntry, getCustomer } from '../store/reads.js';
import type { MessageEntry, TicketRecord } from '../store/records.js';

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
  /**
   * ChangeMessageVisibility on the outbound queue (the backoff). Without it a failed record comes
   * back after the queue's visibility timeout.
   */
  readonly changeVisibility?: ChangeVisibility;
  /** The outbound queue's maxReceiveCount: the receive that is a record's last attempt. Default 5. */
  readonly maxReceiveCount?: number;
  /** When failures happened (the local runtime's virtual clock). Default: system time. */
  readonly clock?: Clock;
  /** Jitter of the backoff (tests fix it). */
  readonly random?: () => number;
  /** The media bucket: the bytes and URLs of the files a reply carries. Without it a reply with files fails `attachment_missing`. */
  readonly media?: MediaStore;
}

export class SendError extends Error {
  override readonly name = 'SendError';
}

/** A send that failed for now: the record is retried after `delaySeconds`. */
export class SendRetryLater extends Error {
  override readonly name = 'SendRetryLater';
  constructor(readonly delaySeconds: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What the receive of a job says about its attempts. */
export interface Attempt {
  /** `ApproximateReceiveCount` of the record: 1 on the first attempt. */
  readonly receiveCount: number;
}

/** Node/undici error codes of a connection that never reached the platform: safe to retry anywhere. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * Why performing threw: `not_configured` (a placeholder secret: perform.ts refused it), `not_sent`
 * (the connection failed before the request left), or `unknown` — a timeout or a connection
 * broken mid-request, after which the platform may or may not have taken the message.
 */
export function performFailure(e: unknown): 'not_configured' | 'not_sent' | 'unknown' {
  const err = e as { name?: unknown; code?: unknown; cause?: { code?: unknown; stage?: unknown } };
  if (err?.name === 'PerformError') return 'not_configured';
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  if (code !== undefined && NOT_SENT_CODES.has(code)) return 'not_sent';
  return 'unknown';
}

/** The stored WhatsApp template of an outbound entry (`extras.wa_template`), or undefined. */
function templateOf(value: unknown): OutboundMessage['template'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const t = value as { name?: unknown; language?: unknown; parameters?: unknown };
  if (typeof t.name !== 'string' || typeof t.language !== 'string' || !Array.isArray(t.parameters) || !t.parameters.every((p) => typeof p === 'string')) return undefined;
  return { name: t.name, language: t.language, parameters: t.parameters as string[] };
}

/** A file of an outbound message as the Agent API stored it (checked, in the media bucket). */
interface StoredFile { readonly key: string; readonly file_name: string; readonly content_type: string; readonly size: number }

/** The stored files of an outbound entry, in order. */
function storedFilesOf(entry: MessageEntry): StoredFile[] {
  return (entry.attachments ?? []).flatMap((a) => a.media?.status === 'stored' && a.media.key && a.media.content_type && a.media.size !== undefined
    ? [{ key: a.media.key, file_name: a.file_name ?? 'file', content_type: a.media.content_type, size: a.media.size }]
    : []);
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
  const clock = deps.clock ?? systemClock;
  const maxReceiveCount = deps.maxReceiveCount ?? 5;
  const random = deps.random ?? Math.random;
  const ulid = monotonicFactory();

  async function sendOne(job: OutboundJob, attempt: Attempt = { receiveCount: 1 }): Promise<'sent' | 'skipped' | 'failed'> {
    if (job.kind === 'interaction-answer') return answerOne(job);
    const entry = await getTimelineEntry(deps.db, job.ticket_id, job.entry_sk);
    if (!entry || entry.type !== 'message' || entry.direction !== 'out') return 'skipped';
    if (entry.delivery !== 'queued') return 'skipped'; // already sent (redelivery) or failed
    const adapter = lookup(entry.channel);
    if (!adapter) throw new SendError('no adapter for channel', { cause: { channel: entry.channel, stage: 'render' } });
    const ticket = await getTicket(deps.db, job.ticket_id);
    const context = await replyContext(entry, ticket);
    let msg: OutboundMessage = {
      id: entry.id, channel: entry.channel, conversation_id: entry.conversation_id, text: entry.text,
      kind: entry.outbound_kind ?? 'reply', ...(context ? { context } : {}),
      ...(Array.isArray(entry.extras?.buttons) ? { buttons: entry.extras.buttons as OutboundMessage['buttons'] } : {}),
      ...(templateOf(entry.extras?.wa_template) ? { template: templateOf(entry.extras?.wa_template)! } : {}),
      ...(entry.extras?.message_tag === 'HUMAN_AGENT' ? { tag: 'HUMAN_AGENT' as const } : {}),
    };
    const ref = { ticketId: job.ticket_id, entrySk: job.entry_sk };
    const ctx = { secrets: deps.config as unknown as Secrets };
    const facts = { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id };
    const last = attempt.receiveCount >= maxReceiveCount;

    /** Mark the message failed (and, where the code says so, the identity unreachable). */
    const fail = async (code: string, extra: { unreachable?: boolean; after?: string; part?: number; parts?: number } = {}): Promise<'failed'> => {
      const at = clock.now();
      const reason = deliveryFailureReason(entry.channel, code);
      await failDelivery(deps.db, { ...ref, messageId: entry.id }, {
        code, reason, at,
        feed: {
          id: ulid(at), type: 'message.failed', at, ticket_id: job.ticket_id, ...(ticket ? { customer_id: ticket.customer_id } : {}),
          data: {
            channel: entry.channel, message_id: entry.id, entry_sk: job.entry_sk, kind: msg.kind, code, reason,
            ...(extra.after ? { last_error: extra.after } : {}), ...(extra.unreachable ? { unreachable: true } : {}),
            ...(extra.parts !== undefined && extra.parts > 1 ? { parts_sent: (extra.part ?? 1) - 1, parts: extra.parts } : {}),
          },
        },
      });
      if (extra.unreachable) {
        const externalId = typeof entry.extras?.identity_external_id === 'string' ? entry.extras.identity_external_id : entry.conversation_id;
        await setReachability(deps.db, { channel: entry.channel, externalId, reachability: 'unreachable', at, reason: code });
      }
      log.warn('outbound failed', { ...facts, code, ...(extra.after ? { last_error: extra.after } : {}), receives: attempt.receiveCount, ...(extra.unreachable ? { unreachable: true } : {}) });
      return 'failed';
    };
    /** Try again later — unless this was the last attempt the queue allows. */
    const retry = async (code: string, platformWaitSeconds: number | undefined, part: { part: number; parts: number }): Promise<'failed'> => {
      if (last) return fail('retries_exhausted', { after: code, ...part });
      const delay = retryDelaySeconds(attempt.receiveCount, platformWaitSeconds, random);
      throw new SendRetryLater(delay, 'platform asked to retry', { cause: { ...facts, stage: 'perform', code, retry_after_s: platformWaitSeconds, delay_s: delay, ...(part.parts > 1 ? part : {}) } });
    };

    // Files: a presigned URL for every one (the platform fetches it, or the widget shows it), the
    // bytes where the platform takes them in the request, and a platform upload where it takes
    // only its own (VK). Resolved on every attempt: a retry gets fresh URLs.
    const stored = storedFilesOf(entry);
    if (stored.length > 0) {
      const resolved = await resolveFiles(adapter, msg, job.ticket_id, stored, ctx, (code) => fail(code), retry);
      if (resolved === 'failed') return 'failed';
      msg = { ...msg, attachments: resolved };
    }

    let requests: readonly PlatformRequest[];
    try {
      requests = renderRequests(adapter, msg, ctx);
    } catch (e) {
      // Rendering is pure: what fails now (a missing outbound setting, an unrenderable message)
      // fails on every retry, so the message is failed at once instead of poisoning the queue.
      log.warn('outbound not renderable', { ...facts, ...errorFacts(e) });
      return fail('render_failed');
    }
    // Rendering is deterministic, so the parts of a retry are the parts of the first attempt.
    const done = Math.min(entry.parts_sent ?? 0, requests.length - 1);
    let externalId: string | undefined;
    for (let i = done; i < requests.length; i++) {
      const part = { part: i + 1, parts: requests.length };
      let response: PlatformResponse;
      try {
        response = await deps.perform(requests[i]!, { channel: entry.channel, kind: msg.kind, ticket_id: job.ticket_id, message_id: entry.id });
      } catch (e) {
        const why = performFailure(e);
        log.warn('outbound not performed', { ...facts, why, ...errorFacts(e) });
        if (why === 'not_configured') return fail('not_configured', part);
        // No answer: only a platform that de-duplicates a repeated send may simply get it again.
        if (why === 'unknown' && !adapter.capabilities.idempotentSend) return fail('timeout', part);
        return retry(why === 'unknown' ? 'timeout' : 'network', undefined, part);
      }
      const result = adapter.readDelivery(response, msg, ctx);
      if (!result.ok) {
        if (result.retryable) return retry(result.error_code, result.retry_after_s, part);
        return fail(result.error_code, { ...(result.unreachable ? { unreachable: true } : {}), ...part });
      }
      // The delivery id is the last part's: survey buttons sit on the last part, and a press
      // names the message it was on.
      externalId = result.external_message_id;
      if (i < requests.length - 1) await recordPartsSent(deps.db, ref, i + 1);
    }
    await advanceDelivery(deps.db, ref, 'sent', { status: 'sent', ...(externalId ? { externalId, channel: entry.channel } : {}) });
    log.info('outbound sent', { ...facts, ...(requests.length > 1 ? { parts: requests.length } : {}) });
    return 'sent';
  }

  /**
   * The files of an outbound message as the channel takes them (see above). `fail`/`retry` end
   * the attempt: a file gone from the bucket (lifecycle expiry) or one the channel no longer takes
   * fails the message; a platform upload step follows the platform's answer like a send.
   */
  async function resolveFiles(
    adapter: ChannelAdapter, msg: OutboundMessage, ticketId: string, files: readonly StoredFile[], ctx: { secrets: Secrets },
    fail: (code: string) => Promise<'failed'>,
    retry: (code: string, wait: number | undefined, part: { part: number; parts: number }) => Promise<'failed'>,
  ): Promise<OutboundMedia[] | 'failed'> {
    const media = deps.media;
    if (!media) return fail('attachment_missing');
    const cap = mediaOf(adapter, { conversation_id: msg.conversation_id, ...(msg.context ? { context: msg.context } : {}) });
    const out: OutboundMedia[] = [];
    for (const f of files) {
      const rule = ruleFor(cap, f);
      if (!cap || !rule) return fail('attachment_not_allowed');
      let data: Buffer | undefined;
      try {
        if (rule.via === 'bytes') data = await media.get(f.key);
      } catch (e) {
        if ((e as { name?: unknown })?.name === 'NoSuchKey') return fail('attachment_missing');
        throw e;
      }
      const url = await media.presignGet(f.key, { fileName: f.file_name, contentType: f.content_type, expiresSeconds: cap.urlTtlSeconds, disposition: 'inline' });
      out.push({ as: rule.as, file_name: f.file_name, content_type: f.content_type, size: f.size, url, ...(data ? { data_b64: data.toString('base64') } : {}) });
    }
    if (!adapter.uploadMedia) return out;
    const uploaded: OutboundMedia[] = [];
    for (const file of out) {
      let flow;
      try {
        flow = adapter.uploadMedia(file, msg, ctx);
      } catch (e) {
        log.warn('upload not describable', { channel: msg.channel, message_id: msg.id, ...errorFacts(e) });
        return fail('upload_failed');
      }
      if (!flow) { uploaded.push(file); continue; }
      let previous: PlatformResponse | null = null;
      for (const step of flow.steps) {
        let request: PlatformRequest;
        try {
          request = step(previous);
        } catch (e) {
          log.warn('upload step not describable', { channel: msg.channel, message_id: msg.id, ...errorFacts(e) });
          return fail('upload_failed');
        }
        try {
          previous = await deps.perform(request, { channel: msg.channel, kind: 'media-upload', ticket_id: ticketId, message_id: msg.id });
        } catch (e) {
          const why = performFailure(e);
          if (why === 'not_configured') return fail('not_configured');
          // An upload is not the message: repeating it sends nothing twice.
          return retry(why === 'unknown' ? 'timeout' : 'network', undefined, { part: 1, parts: 1 });
        }
        const result = adapter.readDelivery(previous, msg, ctx);
        if (!result.ok) return result.retryable ? retry(result.error_code, result.retry_after_s, { part: 1, parts: 1 }) : fail(result.error_code);
      }
      try {
        uploaded.push({ ...file, platform_ref: flow.ref(previous!) });
      } catch (e) {
        log.warn('upload answer unreadable', { channel: msg.channel, message_id: msg.id, ...errorFacts(e) });
        return fail('upload_failed');
      }
    }
    return uploaded;
  }

  /**
   * A record that waited behind a failure in its FIFO group and is on its last receive: the queue
   * would dead-letter it on the next one without a single attempt, so it fails now (still queued
   * only — a message sent or failed meanwhile is left as it is).
   */
  async function exhaustUntried(job: OutboundJob): Promise<void> {
    if (job.kind === 'interaction-answer') return;
    const entry = await getTimelineEntry(deps.db, job.ticket_id, job.entry_sk);
    if (!entry || entry.type !== 'message' || entry.direction !== 'out' || entry.delivery !== 'queued') return;
    const ticket = await getTicket(deps.db, job.ticket_id);
    const at = clock.now();
    const reason = deliveryFailureReason(entry.channel, 'retries_exhausted');
    await failDelivery(deps.db, { ticketId: job.ticket_id, entrySk: job.entry_sk, messageId: entry.id }, {
      code: 'retries_exhausted', reason, at,
      feed: { id: ulid(at), type: 'message.failed', at, ticket_id: job.ticket_id, ...(ticket ? { customer_id: ticket.customer_id } : {}), data: { channel: entry.channel, message_id: entry.id, entry_sk: job.entry_sk, kind: entry.outbound_kind ?? 'reply', code: 'retries_exhausted', reason, last_error: 'not_attempted' } },
    });
    log.warn('outbound failed', { channel: entry.channel, ticket_id: job.ticket_id, message_id: entry.id, code: 'retries_exhausted', last_error: 'not_attempted' });
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
  async function replyContext(entry: MessageEntry, ticket: TicketRecord | undefined): Promise<Record<string, unknown> | undefined> {
    if (!ticket) return undefined;
    const customer = await getCustomer(deps.db, ticket.customer_id);
    const identityId = typeof entry.extras?.identity_external_id === 'string' ? entry.extras.identity_external_id : undefined;
    if (!customer || !identityId) return entry.extras?.context as Record<string, unknown> | undefined;
    const identity = await getIdentity(deps.db, entry.channel, identityId);
    return { ...(identity?.reply_context ?? {}), ...((entry.extras?.context as Record<string, unknown>) ?? {}), ticket_number: ticket.number };
  }

  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const delays = new Map<string, number>();
    const response = await processPartialResponse(event, async (record: SQSRecord) => {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
      try {
        return await sendOne(OutboundJob.parse(JSON.parse(record.body)), { receiveCount });
      } catch (e) {
        // Every failed record waits a backoff: the platform's own wait where it gave one.
        delays.set(record.messageId, e instanceof SendRetryLater ? e.delaySeconds : retryDelaySeconds(receiveCount, undefined, random));
        if (e instanceof SendRetryLater) log.info('send retried later', { message_id: record.messageId, receives: receiveCount, ...errorFacts(e) });
        else log.error('send failed', { message_id: record.messageId, ...errorFacts(e) });
        throw e;
      }
    }, new SqsFifoPartialProcessorAsync(), { skipGroupOnError: true, throwOnFullBatchFailure: false });
    return { batchItemFailures: await afterFailures(event, response, delays) };
  };

  /**
   * The records left for a retry: each failed one hidden for its backoff, and the ones skipped
   * behind it in its FIFO group for as long (else they would come back only after the queue's
   * visibility timeout, however short the platform's wait). A skipped record on its last receive
   * is failed instead of being dead-lettered untried.
   */
  async function afterFailures(event: SQSEvent, response: SQSBatchResponse, delays: ReadonlyMap<string, number>): Promise<SQSBatchResponse['batchItemFailures']> {
    const byId = new Map(event.Records.map((r) => [r.messageId, r]));
    const groupOf = (r: SQSRecord) => r.attributes.MessageGroupId ?? '';
    const groupDelay = new Map<string, number>();
    for (const [id, d] of delays) {
      const r = byId.get(id);
      if (r) groupDelay.set(groupOf(r), Math.max(groupDelay.get(groupOf(r)) ?? 0, d));
    }
    const left: SQSBatchResponse['batchItemFailures'] = [];
    for (const failure of response.batchItemFailures) {
      const record = byId.get(failure.itemIdentifier);
      if (!record) { left.push(failure); continue; }
      const untried = !delays.has(record.messageId);
      if (untried && Number(record.attributes.ApproximateReceiveCount ?? '1') >= maxReceiveCount) {
        try {
          await exhaustUntried(OutboundJob.parse(JSON.parse(record.body)));
          continue; // failed on the timeline: delete the record
        } catch (e) {
          log.error('send failed', { message_id: record.messageId, ...errorFacts(e) });
        }
      }
      left.push(failure);
      const delay = delays.get(record.messageId) ?? groupDelay.get(groupOf(record));
      if (deps.changeVisibility && delay !== undefined) {
        try {
          await deps.changeVisibility(record.receiptHandle, delay);
        } catch (e) {
          // The record then comes back after the queue's visibility timeout: later, not lost.
          log.warn('backoff not set', { message_id: record.messageId, delay_s: delay, ...errorFacts(e) });
        }
      }
    }
    return left;
  }
  return Object.assign(handler, { sendOne });
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const queueUrl = config.CONFLUO_OUTBOUND_QUEUE_URL;
  return makeSend({
    db: platform.db(config), config, perform: platform.perform(config), clock: platform.clock,
    ...(config.CONFLUO_MEDIA_BUCKET ? { media: platform.media(config) } : {}),
    maxReceiveCount: Number(config.CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT),
    ...(queueUrl ? { changeVisibility: platform.queueVisibility(queueUrl) } : {}),
  });
});
