/**
 * Media λ (issue 14): keeps the bytes of a customer's attachments. A job per message comes from
 * the media queue (dispatch enqueues it on `media.pending`, committed with the message), so the
 * message itself is stored and shown before any byte is fetched and a slow platform delays
 * nothing else.
 *
 * For each attachment still `pending`, in order: the channel adapter describes how to fetch it
 * (`ChannelAdapter.mediaFetch`: a lookup such as Telegram getFile, then the download; an e-mail's
 * MIME part), this performs the steps through the `download` port with the per-channel and
 * per-message limits (functions/domain/media.ts), detects the content type from the magic bytes
 * (`file-type`; never the sender's claim), hashes it, puts it under
 * `tickets/{ticket}/messages/{message}/{n}` and records `media` on the attachment — conditionally
 * on it still being pending, so a redelivered job stores nothing twice.
 *
 * Outcomes: `stored`; `too_large` (declared or read past the limit — never downloaded whole),
 * `gone` (404/410: the platform no longer has it), `failed` (refused, misconfigured, or still
 * failing on the queue's last receive) — each of these with its reason on the attachment and as
 * an `attachment.not_kept` timeline event. Transient failures (network, 429, 5xx) retry with
 * exponential backoff (ChangeMessageVisibility); on the last receive they are recorded `failed`
 * instead, so a job never ends in the DLQ for a platform's trouble and the message never waits.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { fileTypeFromBuffer } from 'file-type';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { ChannelAdapter, MediaFetch, PlatformRequest } from '../channels/channel.js';
import { mimePart } from '../channels/email/mime.js';
import { channelByName } from '../channels/registry.js';
import type { Clock } from '../domain/clock.js';
import type { Attachment, Channel, StoredMedia } from '../domain/inbound.js';
import { humanSize, MEDIA_MAX_RECEIVES, mediaKeys, mediaLimitsFrom, type MediaLimits } from '../domain/media.js';
import { lambdaHandler } from '../runtime/aws.js';
import { requireSetting, type Config } from '../runtime/config.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { ChangeVisibility, DownloadBytes, MediaStore } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { recordMedia } from '../store/media.js';
import { getTimelineEntry } from '../store/reads.js';
import type { EventEntry, MessageEntry } from '../store/records.js';

export const MediaJob = z.strictObject({
  ticket_id: z.string().min(1),
  entry_sk: z.string().min(1),
  message_id: z.string().min(1),
  channel: z.string().min(1),
});
export type MediaJob = z.infer<typeof MediaJob>;

/** A lookup answer (JSON) is small; anything bigger is not one. */
const LOOKUP_MAX_BYTES = 1024 * 1024;
/** One platform request may take this long; the function's timeout leaves room for several. */
export const DOWNLOAD_TIMEOUT_MS = 25_000;
/** Lookup → download → at most one more redirect-like step. */
const MAX_STEPS = 3;
const PLACEHOLDER = /<[A-Z_]+>/;

export interface MediaDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly media: MediaStore;
  readonly download: DownloadBytes;
  /** Delays a record's next receive (backoff); without it SQS's visibility timeout applies. */
  readonly backoff?: ChangeVisibility;
  readonly channel?: (name: string) => ChannelAdapter | undefined;
  readonly maxReceives?: number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}


/** A failure worth another attempt (network, 429, 5xx); `reason` is recorded if none is left. */
class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

type Outcome = { readonly status: 'stored'; readonly bytes: Buffer } | { readonly status: 'too_large' | 'gone' | 'failed'; readonly reason: string };

export function makeMedia(deps: MediaDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;
  const limits: MediaLimits = mediaLimitsFrom(deps.config);
  const maxReceives = deps.maxReceives ?? MEDIA_MAX_RECEIVES;
  const ulid = monotonicFactory();

  /** Performs one described GET; classifies the status; the bytes of a 2xx. */
  async function get(request: PlatformRequest, maxBytes: number, channel: Channel, ticketId: string): Promise<Buffer | Outcome> {
    if (PLACEHOLDER.test(request.url) || Object.values(request.headers).some((v) => PLACEHOLDER.test(v))) {
      return { status: 'failed', reason: `the ${channel} token for downloads is not configured` };
    }
    let res;
    try {
      res = await deps.download(request, { maxBytes, timeoutMs: DOWNLOAD_TIMEOUT_MS }, { channel, kind: 'media-download', ticket_id: ticketId });
    } catch (e) {
      throw new RetryLater(`the download did not complete (${(e as Error)?.name ?? 'Error'})`);
    }
    if (res.kind === 'too_large') return { status: 'too_large', reason: `larger than the ${humanSize(maxBytes)} limit${res.size !== undefined ? ` (${humanSize(res.size)})` : ''}` };
    if (res.status >= 200 && res.status < 300) return res.bytes;
    if (res.status === 404 || res.status === 410) return { status: 'gone', reason: `the platform no longer has the file (${res.status})` };
    if (res.status === 429 || res.status >= 500) throw new RetryLater(`the platform answered ${res.status}`);
    return { status: 'failed', reason: `the platform refused the download (${res.status})` };
  }

  /** Fetches attachment `index` within `limit` bytes. */
  async function fetchOne(entry: MessageEntry, a: Attachment, index: number, limit: number): Promise<Outcome> {
    const adapter = lookup(entry.channel);
    let step: MediaFetch | null = adapter?.mediaFetch?.(a, index, { secrets: deps.config as unknown as Record<string, string | undefined> }) ?? null;
    for (let n = 0; n < MAX_STEPS; n++) {
      if (!step) return { status: 'failed', reason: 'the channel offers no way to download this attachment' };
      switch (step.kind) {
        case 'unavailable':
          return { status: step.status, reason: step.reason };
        case 'mime-part': {
          if (!entry.dedup_key) return { status: 'failed', reason: 'the e-mail is not known by its key' };
          let raw: Buffer;
          try {
            raw = await deps.media.get(mediaKeys.inboundMail(entry.dedup_key));
          } catch (e) {
            if ((e as Error)?.name === 'NoSuchKey') return { status: 'gone', reason: 'the e-mail\'s content is no longer kept' };
            throw new RetryLater('the kept e-mail could not be read');
          }
          const part = await mimePart(raw, step.index);
          if (!part) return { status: 'failed', reason: 'the e-mail has no such attachment' };
          if (part.bytes.length > limit) return { status: 'too_large', reason: `larger than the ${humanSize(limit)} limit (${humanSize(part.bytes.length)})` };
          return { status: 'stored', bytes: part.bytes };
        }
        case 'object': {
          // The visitor's own upload (webchat/ingress.ts admitted only keys of the session's prefix).
          if (step.declaredSize !== undefined && step.declaredSize > limit) return { status: 'too_large', reason: `larger than the ${humanSize(limit)} limit (${humanSize(step.declaredSize)})` };
          let bytes: Buffer;
          try {
            bytes = await deps.media.get(step.key);
          } catch (e) {
            if ((e as Error)?.name === 'NoSuchKey') return { status: 'gone', reason: 'the upload is not in the media bucket (never finished, or expired)' };
            throw new RetryLater('the upload could not be read');
          }
          if (bytes.length > limit) return { status: 'too_large', reason: `larger than the ${humanSize(limit)} limit (${humanSize(bytes.length)})` };
          return { status: 'stored', bytes };
        }
        case 'lookup': {
          const got = await get(step.request, LOOKUP_MAX_BYTES, entry.channel, entry.ticket_id);
          if (!Buffer.isBuffer(got)) return got;
          step = step.next({ status: 200, headers: {}, body: got.toString('utf8') });
          break;
        }
        case 'download': {
          if (step.declaredSize !== undefined && step.declaredSize > limit) return { status: 'too_large', reason: `larger than the ${humanSize(limit)} limit (${humanSize(step.declaredSize)})` };
          const got = await get(step.request, limit, entry.channel, entry.ticket_id);
          return Buffer.isBuffer(got) ? { status: 'stored', bytes: got } : got;
        }
      }
    }
    return { status: 'failed', reason: 'the platform\'s answers led nowhere' };
  }

  /** Stores the bytes and records them; or records why not (with a timeline event). */
  async function record(job: MediaJob, entry: MessageEntry, index: number, outcome: Outcome): Promise<void> {
    const now = deps.clock.now();
    if (outcome.status === 'stored') {
      const detected = await fileTypeFromBuffer(outcome.bytes);
      const contentType = detected?.mime ?? 'application/octet-stream';
      const key = mediaKeys.inbound(job.ticket_id, job.message_id, index);
      const media: StoredMedia = { status: 'stored', key, size: outcome.bytes.length, content_type: contentType, sha256: createHash('sha256').update(outcome.bytes).digest('hex'), at: now };
      await deps.media.put(key, outcome.bytes, { contentType });
      const result = await recordMedia(deps.db, { ticketId: job.ticket_id, entrySk: job.entry_sk, index, media });
      // Erased while we fetched: the bytes must not outlive the message.
      if (result === 'erased') await deps.media.delete([key]);
      log.info('attachment stored', { ticket_id: job.ticket_id, message_id: job.message_id, index, size: media.size, content_type: contentType, result });
      return;
    }
    const media: StoredMedia = { status: outcome.status, reason: outcome.reason, at: now };
    const event: EventEntry = { type: 'event', id: ulid(now), ticket_id: job.ticket_id, at: now, event: 'attachment.not_kept', data: { message_id: job.message_id, index, status: outcome.status, reason: outcome.reason, channel: entry.channel } };
    const result = await recordMedia(deps.db, { ticketId: job.ticket_id, entrySk: job.entry_sk, index, media, event });
    log.warn('attachment not kept', { ticket_id: job.ticket_id, message_id: job.message_id, index, status: outcome.status, result });
  }

  /** Runs one job; throws RetryLater when some attachment is worth another attempt. */
  async function run(job: MediaJob, receiveCount: number): Promise<void> {
    const entry = await getTimelineEntry(deps.db, job.ticket_id, job.entry_sk);
    if (!entry || entry.type !== 'message' || entry.anonymised) return;
    let used = entry.attachments.reduce((sum, a) => sum + (a.media?.status === 'stored' ? a.media.size ?? 0 : 0), 0);
    let retry: string | undefined;
    for (const [index, a] of entry.attachments.entries()) {
      if (a.media?.status !== 'pending') continue;
      const perAttachment = limits.perAttachment(entry.channel);
      const left = limits.perMessage - used;
      const limit = Math.min(perAttachment, left);
      let outcome: Outcome;
      try {
        outcome = left <= 0
          ? { status: 'too_large', reason: `the message's attachments together exceed the ${humanSize(limits.perMessage)} limit` }
          : await fetchOne(entry, a, index, limit);
      } catch (e) {
        if (!(e instanceof RetryLater)) throw e;
        if (receiveCount < maxReceives) { retry = e.message; continue; }
        outcome = { status: 'failed', reason: `${e.message}; gave up after ${receiveCount} attempts` };
      }
      if (outcome.status === 'too_large' && limit < perAttachment) {
        outcome = { status: 'too_large', reason: `the message's attachments together exceed the ${humanSize(limits.perMessage)} limit` };
      }
      await record(job, entry, index, outcome);
      if (outcome.status === 'stored') used += outcome.bytes.length;
    }
    if (retry) throw new RetryLater(retry);
  }

  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const r of event.Records) {
      const receiveCount = Number(r.attributes.ApproximateReceiveCount ?? '1');
      const parsed = MediaJob.safeParse(safeJson(r.body));
      if (!parsed.success) { log.error('media job malformed, dropped', { message_id: r.messageId }); continue; }
      try {
        await run(parsed.data, receiveCount);
      } catch (e) {
        log.warn('media job will be retried', { ticket_id: parsed.data.ticket_id, message_id: parsed.data.message_id, receives: receiveCount, ...errorFacts(e) });
        await delay(r, receiveCount);
        failures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures: failures };
  };

  /** Exponential backoff: 30 s, 1, 2, 4 … minutes, at most 15. */
  async function delay(r: SQSRecord, receiveCount: number): Promise<void> {
    if (!deps.backoff) return;
    try { await deps.backoff(r.receiptHandle, Math.min(900, 30 * 2 ** (receiveCount - 1))); } catch (e) { log.warn('media backoff not set', errorFacts(e)); }
  }

  return Object.assign(handler, { run });
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const queueUrl = requireSetting(config, 'CONFLUO_MEDIA_QUEUE_URL', 'media');
  return makeMedia({
    db: platform.db(config), clock: platform.clock, config,
    media: platform.media(config), download: platform.download,
    backoff: platform.queueVisibility(queueUrl),
  });
});
