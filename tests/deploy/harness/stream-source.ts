/**
 * The DynamoDB stream event source mapping, played against DynamoDB Local's stream (its real
 * Streams API): records read from the mapping's StartingPosition, shaped as Lambda delivers them
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, the example event:
 * `ApproximateCreationDateTime` in epoch seconds, `eventSourceARN`, images in DynamoDB JSON), the
 * mapping's FilterCriteria applied before invoking (stream-filter.ts), batches of BatchSize. With
 * ReportBatchItemFailures the shard is checkpointed just before the first failed sequence number
 * and retried from there; after MaximumRetryAttempts the batch's metadata goes to the OnFailure
 * destination and the shard moves on. Not emulated: BisectBatchOnFunctionError (a failing batch is
 * retried whole), parallelization, tumbling windows.
 *
 * local/stream-poller.ts is not reused: its filter (INSERTs of `FEED#` items) is built in, where
 * this test must apply the template's own FilterCriteria, and it hands the SDK's record shape
 * (Date objects, Uint8Array binaries) rather than Lambda's.
 */
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';

export interface StreamSourceOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly filter: (record: DynamoDBRecord) => boolean;
  readonly reportBatchItemFailures: boolean;
  /** -1: until the record expires (the Lambda default). */
  readonly maximumRetryAttempts: number;
  readonly invoke: (event: { Records: DynamoDBRecord[] }) => Promise<unknown>;
  /** The OnFailure destination: gets the failed batch's metadata as Lambda sends it. */
  readonly onFailure?: (info: Record<string, unknown>) => Promise<void>;
}

/** A DynamoDB JSON value with binaries as base64, as Lambda serialises it. */
function lambdaAttr(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(lambdaAttr);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lambdaAttr(x)]));
  return v;
}

/** Lambda's record from a Streams API record. */
export function lambdaStreamRecord(r: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: r.eventID!, eventName: r.eventName!, eventVersion: r.eventVersion ?? '1.1', eventSource: 'aws:dynamodb', awsRegion: region,
    dynamodb: {
      ...(created !== undefined ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      ...(d.Keys ? { Keys: lambdaAttr(d.Keys) } : {}),
      ...(d.NewImage ? { NewImage: lambdaAttr(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: lambdaAttr(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber!, SizeBytes: d.SizeBytes!, StreamViewType: d.StreamViewType!,
    } as DynamoDBRecord['dynamodb'],
    eventSourceARN: streamArn,
  };
}

export class DynamoStreamSource {
  /** Invocations made, with the records each carried. */
  readonly batches: Array<{ records: readonly DynamoDBRecord[]; failedAt?: string; error?: unknown }> = [];
  /** Records read but filtered out before invoking. */
  filteredOut = 0;
  private readonly after = new Map<string, string>();
  private readonly retries = new Map<string, number>();

  constructor(readonly opts: StreamSourceOptions) {}

  /** Read every shard from its checkpoint and deliver what passes the filter. Resolves with records delivered. */
  async pollOnce(): Promise<number> {
    const { streams, streamArn } = this.opts;
    const desc = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    let delivered = 0;
    for (const shard of desc.StreamDescription?.Shards ?? []) {
      const records = await this.readShard(shard.ShardId!);
      const lambda = records.map((r) => lambdaStreamRecord(r, streamArn, this.opts.region));
      for (let i = 0; i < lambda.length; i += this.opts.batchSize) {
        const chunk = lambda.slice(i, i + this.opts.batchSize);
        const pass = chunk.filter(this.opts.filter);
        this.filteredOut += chunk.length - pass.length;
        const ok = pass.length === 0 || await this.deliver(shard.ShardId!, pass);
        if (!ok) break;
        delivered += pass.length;
        this.after.set(shard.ShardId!, chunk.at(-1)!.dynamodb!.SequenceNumber!);
      }
    }
    return delivered;
  }

  /** Poll until nothing new is delivered. */
  async drain(maxPasses = 50): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxPasses; i++) {
      const n = await this.pollOnce();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  /** True when the shard may move past the batch. */
  private async deliver(shardId: string, records: DynamoDBRecord[]): Promise<boolean> {
    let failedSeq: string | undefined;
    let error: unknown;
    try {
      const answer = (await this.opts.invoke({ Records: records })) as DynamoDBBatchResponse | null;
      const failures = this.opts.reportBatchItemFailures ? answer?.batchItemFailures ?? [] : [];
      if (failures.length) {
        const ids = failures.map((f) => f.itemIdentifier);
        // An identifier that names no record of the batch fails the whole batch.
        failedSeq = ids.every((id) => records.some((r) => r.dynamodb?.SequenceNumber === id)) ? ids.sort()[0] : records[0]!.dynamodb!.SequenceNumber;
      }
    } catch (e) {
      error = e;
      failedSeq = records[0]!.dynamodb!.SequenceNumber;
    }
    this.batches.push({ records, ...(failedSeq ? { failedAt: failedSeq } : {}), ...(error !== undefined ? { error } : {}) });
    if (!failedSeq) { this.retries.delete(shardId); return true; }
    const before = records.filter((r) => r.dynamodb!.SequenceNumber! < failedSeq!).at(-1);
    if (before) this.after.set(shardId, before.dynamodb!.SequenceNumber!);
    const attempt = (this.retries.get(shardId) ?? 0) + 1;
    this.retries.set(shardId, attempt);
    if (this.opts.maximumRetryAttempts >= 0 && attempt > this.opts.maximumRetryAttempts) {
      // Lambda gives up on the batch: its metadata goes to the on-failure destination.
      await this.opts.onFailure?.({
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempt },
        DDBStreamBatchInfo: { shardId, startSequenceNumber: failedSeq, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber, batchSize: records.length, streamArn: this.opts.streamArn },
      });
      this.after.set(shardId, records.at(-1)!.dynamodb!.SequenceNumber!);
      this.retries.delete(shardId);
    }
    return false;
  }

  private async readShard(shardId: string): Promise<_Record[]> {
    const { streams, streamArn } = this.opts;
    const after = this.after.get(shardId);
    // A fresh iterator per pass: DynamoDB Local refuses an iterator taken while its shard was
    // empty once records arrive (TrimmedDataAccessException), and iterators expire after 15 min.
    const it = await streams.send(new GetShardIteratorCommand({
      StreamArn: streamArn, ShardId: shardId,
      ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: this.opts.startingPosition }),
    }));
    const out: _Record[] = [];
    let iterator = it.ShardIterator;
    while (iterator) {
      let res;
      try {
        res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (e) {
        if ((e as Error).name === 'TrimmedDataAccessException') break;
        throw e;
      }
      out.push(...(res.Records ?? []));
      if (!res.Records?.length) break;
      iterator = res.NextShardIterator;
    }
    return out;
  }
}
