/**
 * Feeds a `LocalQueue` to an SQS handler the way the Lambda SQS event source mapping does with
 * `ReportBatchItemFailures` on:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * - the handler resolves → every record not listed in `batchItemFailures` is deleted;
 * - listed records (and, on a FIFO queue, every later record of the same group in the batch) are
 *   left in flight and come back when their visibility timeout expires;
 * - the handler throws, or lists an empty or unknown `itemIdentifier` → the whole batch failed.
 *
 * It wakes on the queue's `onAvailable` signal, never on a polling loop (DESIGN.md §7).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalQueue } from './queues.js';

export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface QueuePollerOptions {
  /** Records per invocation, at most. Default 10 (the Lambda default for SQS). */
  readonly batchSize?: number;
  /** Batches running at once. Default 1. FIFO order still holds: groups in flight are not received. */
  readonly concurrency?: number;
  /** Errors of the queue itself while finishing a batch (not handler errors). Default: console.error. */
  readonly onError?: (error: unknown) => void;
}

export class QueuePollerError extends Error {
  override readonly name = 'QueuePollerError';
}

export class QueuePoller {
  /** Records the handler processed (deleted from the queue). */
  processed = 0;
  /** Records whose attempt failed (reported, thrown, or after a failure in their FIFO group). */
  failedAttempts = 0;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly onError: (error: unknown) => void;
  private readonly running = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly queue: LocalQueue, private readonly handler: SqsBatchHandler, options: QueuePollerOptions = {}) {
    this.batchSize = options.batchSize ?? 10;
    this.concurrency = options.concurrency ?? 1;
    for (const [key, value] of [['batchSize', this.batchSize], ['concurrency', this.concurrency]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new QueuePollerError(`QueuePoller(${queue.name}): ${key} must be a positive integer`, { cause: { [key]: value } });
    }
    this.onError = options.onError ?? ((error) => console.error(`QueuePoller(${queue.name}):`, error));
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.queue.onAvailable(() => this.pump());
    this.pump();
  }

  /** Stops receiving and waits for the batches already running. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all(this.running);
  }

  /**
   * No message visible or in flight, and no batch running. A message the handler delayed on
   * purpose (ChangeMessageVisibility: a backoff until a later time) does not count, like a
   * workflow parked in a Wait: it is due later, not pending now.
   */
  idle(): boolean {
    const { depth, inFlight, delayed } = this.queue.stats();
    return this.running.size === 0 && depth === 0 && inFlight - delayed === 0;
  }

  /** Resolves once `idle()`; a message failing for ever (no DLQ) keeps it pending. */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.unsubscribe && !this.queue.closed && this.running.size < this.concurrency) {
      const records = this.queue.receive(this.batchSize);
      if (records.length === 0) break;
      const batch: Promise<void> = this.runBatch(records)
        .catch(this.onError)
        .finally(() => {
          this.running.delete(batch);
          this.pump();
        });
      this.running.add(batch);
    }
    if (this.idleWaiters.length > 0 && this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async runBatch(records: SQSRecord[]): Promise<void> {
    // Hidden for as long as the invocation runs, as the deployed visibility timeout guarantees
    // (LocalQueue.hold); the timeout applies again to what is left once the batch is finished.
    for (const record of records) this.queue.hold(record.receiptHandle);
    try {
      this.finish(records, await this.invoke(records));
    } finally {
      for (const record of records) this.queue.unhold(record.receiptHandle);
    }
  }

  /** The handler's failures by message id: the ones it reported, or all of them when it threw. */
  private async invoke(records: SQSRecord[]): Promise<Map<string, string>> {
    try {
      return reportedFailures(records, await this.handler({ Records: records }));
    } catch (error) {
      const reason = `handler threw ${describe(error)}`;
      return new Map(records.map((r) => [r.messageId, reason]));
    }
  }

  private finish(records: SQSRecord[], failures: Map<string, string>): void {
    if (this.queue.fifo) failLaterRecordsOfFailedGroups(records, failures);
    for (const record of records) {
      const reason = failures.get(record.messageId);
      if (reason !== undefined) {
        // Left in flight, not made visible: Lambda lets the visibility timeout run out.
        this.queue.fail(record.messageId, reason);
        this.failedAttempts++;
      } else if (this.queue.delete(record.receiptHandle)) {
        this.processed++;
      }
    }
  }
}

/** messageId → reason, from the handler's answer; an answer Lambda rejects fails the whole batch. */
function reportedFailures(records: readonly SQSRecord[], response: SQSBatchResponse | void): Map<string, string> {
  const failures = new Map<string, string>();
  const inBatch = new Set(records.map((r) => r.messageId));
  for (const item of response?.batchItemFailures ?? []) {
    const id: unknown = item?.itemIdentifier;
    if (typeof id !== 'string' || !inBatch.has(id)) {
      const reason = 'handler returned an empty or unknown itemIdentifier in batchItemFailures';
      return new Map(records.map((r) => [r.messageId, reason]));
    }
    failures.set(id, 'handler reported it in batchItemFailures');
  }
  return failures;
}

/**
 * FIFO: deleting a later message while an earlier one of its group is retried would break the
 * group's order, so from a group's first failure on, the rest of its records count as failed —
 * as Lambda requires of FIFO handlers. Like in AWS, their receive count grows too.
 */
function failLaterRecordsOfFailedGroups(records: readonly SQSRecord[], failures: Map<string, string>): void {
  const failedGroups = new Map<string, string>(); // group → first failed messageId
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? '';
    const firstFailed = failedGroups.get(group);
    if (firstFailed !== undefined) {
      if (!failures.has(record.messageId)) failures.set(record.messageId, `not processed: earlier message ${firstFailed} of its group failed`);
    } else if (failures.has(record.messageId)) {
      failedGroups.set(group, record.messageId);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
