/**
 * The ports through which handlers reach the world: a queue to send to, a platform request to
 * perform, a state machine to start, an object to read, the export's partition store, the
 * webhook metrics, the media bucket and attachment downloads (issue 14). Handlers depend on these shapes only; `platform.ts` says who implements them
 * (AWS SDK clients in Lambda, the local runtime's stand-ins under `npm start`).
 *
 * The types live here, below both their users, so neither `handlers/` nor `runtime/` imports
 * the other for them.
 */
import type { PlatformRequest, PlatformResponse } from '../channels/channel.js';
import type { Dataset } from '../domain/export-schema.js';

/** One message for a FIFO queue (SQS SendMessage). */
export interface QueueMessage {
  readonly body: string;
  /** FIFO `MessageGroupId`: order is kept within a group. Absent for a standard queue (SQS refuses it there). */
  readonly groupId?: string;
  /** FIFO `MessageDeduplicationId`: a repeat within 5 minutes is dropped by the queue. Absent for a standard queue. */
  readonly deduplicationId?: string;
  /** String message attributes (e.g. a dead letter's reason). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Puts a message on one queue. */
export type Enqueue = (msg: QueueMessage) => Promise<void>;

/**
 * SQS `ChangeMessageVisibility` on one queue: the received message with this receipt handle stays
 * hidden for `seconds` from now (at most 12 hours), then is received again — a retry that waits
 * for exactly as long as the consumer decides (a platform's `retry_after`, a backoff)
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
 */
export type ChangeVisibility = (receiptHandle: string, seconds: number) => Promise<void>;

/** What a performed request is about (logs, the local outbox); never personal data. */
export interface PerformMeta {
  readonly channel: string;
  /** reply, acknowledgement, survey, reminder, escalation, interaction-answer, sns-confirmation … */
  readonly kind: string;
  readonly ticket_id: string | null;
  readonly message_id?: string;
}

/** Performs a described platform request (channels describe, this does). */
export type Perform = (request: PlatformRequest, meta: PerformMeta) => Promise<PlatformResponse>;

/**
 * Starts a Step Functions execution, idempotent by name: the same name and input again is a
 * no-op, another input throws an error named `ExecutionAlreadyExists`
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export type StartExecution = (stateMachineArn: string, name: string, input: unknown) => Promise<void>;

/** Where the analytics export's partitions live: the file of `<dataset>/dt=<dt>/part-0.parquet`. */
export interface ExportWriter {
  /** Human description (a directory or `s3://bucket/`), for reports. */
  readonly location: string;
  /** A local path holding the partition's current file (downloaded first where needed), or null. */
  fetch(dataset: Dataset, dt: string, scratchDir: string): Promise<string | null>;
  /** Make `file` the partition's data, replacing what was there; returns its size in bytes. */
  put(dataset: Dataset, dt: string, file: string): Promise<number>;
}

/** The object key / relative path of a partition file. */
export const partitionPath = (dataset: Dataset, dt: string) => `${dataset}/dt=${dt}/part-0.parquet`;

/** Counters of the webhook edge (CloudWatch EMF in AWS). */
export interface IngestMetrics {
  rejected(channel: string, reason: string): void;
  tooLarge(channel: string): void;
  accepted(channel: string): void;
}

/** Counters of the process function: authenticated events it dropped, by channel and reason code. */
export interface ProcessMetrics {
  ignored(channel: string, reason: string, malformed: boolean): void;
}

/**
 * Counters of the phone channel (issue 16): `VoiceLookupFailed` (the lookup answered empty
 * attributes because the table could not be read — alarmed), `VoiceCallUnfiled` (a call whose
 * caller number Confluo never learnt, by reason). Never a number.
 */
export interface VoiceMetrics {
  lookupFailed(): void;
  callUnfiled(reason: string): void;
}

/**
 * Attachment bytes in the media bucket (lib/media.ts; key layout: functions/domain/media.ts).
 * In AWS: S3 with presigned URLs (functions/runtime/s3-media-store.ts). Locally: the runtime's
 * object store, and URLs on the local server signed with a per-run HMAC key
 * (local/media-store.ts) that check expiry, signature and — for uploads — the policy's size and
 * content-type conditions as S3 would.
 */
export interface MediaStore {
  /** The bucket (as the function's `CONFLUO_MEDIA_BUCKET` names it). */
  readonly bucket: string;
  put(key: string, bytes: Uint8Array, opts: { readonly contentType: string }): Promise<void>;
  /** The object's bytes; rejects with an error named `NoSuchKey` when there is none. */
  get(key: string): Promise<Buffer>;
  /** Deletes the objects (a missing one is no error, as in S3). */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * A GET URL valid for `expiresSeconds` whose response carries `Content-Type: contentType` and
   * `Content-Disposition: attachment; filename*=UTF-8''<fileName>` (S3's `response-content-*`
   * overrides), so the browser never sniffs or renders what the sender claimed.
   */
  presignGet(key: string, opts: PresignGetOptions): Promise<string>;
  /**
   * A browser upload form for exactly `key` (S3 presigned POST): the policy limits the size to
   * `maxBytes` and the `Content-Type` field to `contentTypes` — one entry, exact (`image/png`) or
   * a prefix ending in `/` (`image/`); S3 policies cannot express a list of alternatives, so
   * more than one entry is refused. The uploaded bytes are still checked by magic bytes after.
   */
  presignPost(key: string, opts: PresignPostOptions): Promise<PresignedPost>;
}

export interface PresignGetOptions {
  readonly fileName: string;
  readonly contentType: string;
  readonly expiresSeconds: number;
  /** `inline` lets an image or a player show it; default `attachment` (download). */
  readonly disposition?: 'inline' | 'attachment';
}

export interface PresignPostOptions {
  readonly maxBytes: number;
  readonly contentTypes: readonly string[];
  readonly expiresSeconds: number;
}

/** POST `fields` (then the `Content-Type` field, then `file` last) as multipart/form-data to `url`. */
export interface PresignedPost {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

export class MediaStoreError extends Error {
  override readonly name = 'MediaStoreError';
}

/** The single `Content-Type` condition of a POST policy: exact, or a `…/` prefix. */
export function postContentTypeCondition(contentTypes: readonly string[]): { readonly exact: string } | { readonly prefix: string } {
  if (contentTypes.length !== 1 || !contentTypes[0]) throw new MediaStoreError('media: presignPost takes exactly one content type or prefix (S3 POST policies have no list condition)', { cause: { count: contentTypes.length } });
  const t = contentTypes[0];
  return t.endsWith('/') ? { prefix: t } : { exact: t };
}

/** `Content-Disposition` with an RFC 6266/5987 file name (ASCII fallback plus UTF-8). */
export function contentDisposition(fileName: string, disposition: 'inline' | 'attachment' = 'attachment'): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** What a byte download answered: the bytes (any status), or that they exceed the limit. */
export type Downloaded =
  | { readonly kind: 'bytes'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly bytes: Buffer }
  | { readonly kind: 'too_large'; readonly status: number; readonly size?: number };

/**
 * GETs a described platform request and reads its body as bytes, giving up (`too_large`) as soon
 * as the declared `Content-Length` or the bytes read pass `maxBytes` — an attachment is never
 * held in memory beyond its limit. Network failures and timeouts reject.
 */
export type DownloadBytes = (request: PlatformRequest, opts: { readonly maxBytes: number; readonly timeoutMs: number }, meta: PerformMeta) => Promise<Downloaded>;
