/**
 * The DynamoDB stream event source mapping of the template, played against DynamoDB Local's
 * stream: local/stream-poller.ts `StreamPoller` — the local runtime's reader — reads the shards
 * from TRIM_HORIZON, turns each record into the one Lambda delivers (local/stream-events.ts
 * `toLambdaRecord`: epoch-second times, base64 binaries, the stream ARN, the function's region)
 * and drops what the mapping's FilterCriteria do not let through (`passesFilters`) before
 * invoking; around it, Lambda's retry policy of the mapping (`eventSourceMappingsOf`):
 * - with ReportBatchItemFailures the shard resumes at the lowest failed sequence number (an
 *   identifier that names no record of the batch fails the whole batch); a thrown error fails the
 *   whole batch;
 * - after MaximumRetryAttempts retries the batch's description goes to the OnFailure
 *   destination (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)
 *   and the shard moves past it.
 * Not emulated: BisectBatchOnFunctionError (a failing batch is retried whole), parallelization,
 * MaximumRecordAgeInSeconds, batching windows. The poller hands at most 100 records per
 * invocation (its GetRecords limit), so a mapping with a smaller BatchSize is refused.
 */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamEventSourceMapping } from '../../../local/stream-events.js';
import { StreamPoller } from '../../../local/stream-poller.js';

export interface StreamSourceOptions {
  readonly mapping: StreamEventSourceMapping;
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  /** The ARN of the function the mapping invokes (named in an on-failure record). */
  readonly functionArn: string;
  /** The function's region, reported on records. */
  readonly region: string;
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  /** The OnFailure destination: gets the failed batch's description as Lambda sends it. */
  readonly onFailure?: (info: Record<string, unknown>) => Promise<void>;
}

export class StreamSourceError extends Error {
  override readonly name = 'StreamSourceError';
}

/** The records GetRecords returns to the poller at most. */
const POLLER_BATCH = 100;

export class DynamoStreamSource {
  /** Invocations made, with the records each carried (only records the filter let through). */
  readonly batches: Array<{ records: readonly DynamoDBRecord[]; failedAt?: string; error?: unknown }> = [];
  private readonly poller: StreamPoller;
  private readonly retries = new Map<string, number>();
  private failedSinceDrain = 0;

  constructor(readonly opts: StreamSourceOptions) {
    const m = opts.mapping;
    if (m.startingPosition !== 'TRIM_HORIZON') throw new StreamSourceError(`stream-source: ${m.logicalId} starts at ${m.startingPosition}; only TRIM_HORIZON is emulated`);
    if (m.batchSize < POLLER_BATCH) throw new StreamSourceError(`stream-source: ${m.logicalId} has BatchSize ${m.batchSize}; the poller delivers up to ${POLLER_BATCH}`);
    this.poller = new StreamPoller({
      client: opts.client, streamArn: opts.streamArn, filterPatterns: m.filterPatterns, awsRegion: opts.region,
      handler: (event) => this.deliver(event),
    });
  }

  /**
   * Deliver until a pass finds nothing new. Resolves with the invocations that did something —
   * records delivered, and failed attempts (a retry is work still to do).
   */
  async drain(): Promise<number> {
    this.failedSinceDrain = 0;
    const delivered = await this.poller.drain();
    return delivered + this.failedSinceDrain;
  }

  private async deliver(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const m = this.opts.mapping;
    const records = event.Records;
    const first = records[0]!.dynamodb!.SequenceNumber!;
    let failedAt: string | undefined;
    let error: unknown;
    try {
      const answer = (await this.opts.invoke(event)) as DynamoDBBatchResponse | null;
      const ids = m.reportBatchItemFailures ? (answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : [];
      if (ids.length) failedAt = ids.every((id) => records.some((r) => r.dynamodb?.SequenceNumber === id)) ? ids.sort()[0] : first;
    } catch (e) {
      error = e;
      failedAt = first;
    }
    this.batches.push({ records, ...(failedAt ? { failedAt } : {}), ...(error !== undefined ? { error } : {}) });
    if (!failedAt) { this.retries.clear(); return { batchItemFailures: [] }; }
    this.failedSinceDrain += 1;
    const attempt = (this.retries.get(failedAt) ?? 0) + 1;
    this.retries.set(failedAt, attempt);
    if (m.maximumRetryAttempts >= 0 && attempt > m.maximumRetryAttempts) {
      // Lambda gives up on the batch: its description goes to the on-failure destination.
      await this.opts.onFailure?.({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempt, functionArn: this.opts.functionArn },
        DDBStreamBatchInfo: { shardId: null, startSequenceNumber: failedAt, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber, batchSize: records.length, streamArn: this.opts.streamArn },
      });
      this.retries.delete(failedAt);
      return { batchItemFailures: [] };
    }
    return { batchItemFailures: [{ itemIdentifier: failedAt }] };
  }
}
