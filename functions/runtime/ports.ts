/**
 * The ports through which handlers reach the world: a queue to send to, a platform request to
 * perform, a state machine to start, an object to read, the export's partition store, the
 * webhook metrics. Handlers depend on these shapes only; `platform.ts` says who implements them
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
  /** FIFO `MessageGroupId`: order is kept within a group. */
  readonly groupId: string;
  /** FIFO `MessageDeduplicationId`: a repeat within 5 minutes is dropped by the queue. */
  readonly deduplicationId: string;
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
