/**
 * The local stand-in for the Lambda DynamoDB-stream event source mapping: reads DynamoDB Local's
 * stream (the real Streams API), turns each record into the shape Lambda passes
 * (local/stream-events.ts `toLambdaRecord`), keeps those the mapping's filter patterns from the
 * template let through (Lambda drops the others before invoking — they cost nothing and are
 * never retried), hands the handler `DynamoDBStreamEvent`s and checkpoints after each successful
 * batch — durably when data persists, so a restart neither loses nor repeats acknowledged
 * effects (repeats would be harmless anyway: reactions are idempotent).
 */
import { DynamoDBStreamsClient, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { passesFilters, toLambdaRecord, type FilterPattern } from './stream-events.js';

export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** The mapping's filter patterns (`FilterCriteria`); a record passes when one matches. None: every record. */
  readonly filterPatterns?: readonly FilterPattern[];
  /** The region Lambda reports on records. Default us-east-1. */
  readonly awsRegion?: string;
  readonly checkpointFile?: string;
  readonly intervalMs?: number;
  readonly onError?: (e: unknown) => void;
}

type Checkpoints = Record<string, { after?: string; closed?: boolean }>;

export class StreamPoller {
  private checkpoints: Checkpoints = {};
  private iterators = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  processed = 0;

  constructor(private readonly opts: StreamPollerOptions) {
    if (opts.checkpointFile) {
      try { this.checkpoints = JSON.parse(readFileSync(opts.checkpointFile, 'utf8')) as Checkpoints; } catch { /* first start */ }
    }
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      await this.pollOnce().catch((e) => this.opts.onError?.(e));
      if (!this.stopped) this.timer = setTimeout(loop, this.opts.intervalMs ?? 100);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => 0);
  }

  /** Poll every shard once; resolves with the number of feed records dispatched. */
  pollOnce(): Promise<number> {
    this.running ??= this.poll().finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Poll until a full pass over every shard finds nothing new. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pollOnce();
      total += n;
      if (n === 0) return total;
    }
  }

  private async poll(): Promise<number> {
    const { client, streamArn } = this.opts;
    const desc = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    let dispatched = 0;
    for (const shard of desc.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (this.checkpoints[id]?.closed) continue;
      let renewed = 0;
      for (;;) {
        let iterator = this.iterators.get(id);
        if (!iterator) {
          const after = this.checkpoints[id]?.after;
          const it = await client.send(new GetShardIteratorCommand({
            StreamArn: streamArn, ShardId: id,
            ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
          }));
          iterator = it.ShardIterator;
          if (!iterator) break;
        }
        let res: GetRecordsCommandOutput;
        try {
          res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
        } catch (e) {
          // DynamoDB Local answers TrimmedDataAccessException for an iterator taken on a shard
          // that was empty then (https://github.com/aws/aws-sdk-java/issues/2923), and any
          // iterator expires after 15 minutes: take a new one from the checkpoint, which nothing
          // has passed yet, so no record is skipped or delivered twice.
          if (!isStaleIterator(e) || ++renewed > 3) throw e;
          this.iterators.delete(id);
          continue;
        }
        const records = res.Records ?? [];
        const lambdaRecords = records.map((r) => toLambdaRecord(r, { eventSourceARN: streamArn, ...(this.opts.awsRegion ? { awsRegion: this.opts.awsRegion } : {}) }));
        const patterns = this.opts.filterPatterns ?? [];
        const feed: DynamoDBRecord[] = patterns.length ? lambdaRecords.filter((r) => passesFilters(patterns, r)) : lambdaRecords;
        if (feed.length) {
          const out = await this.opts.handler({ Records: feed });
          const failed = out && 'batchItemFailures' in out ? out.batchItemFailures : [];
          if (failed.length) {
            // Checkpoint just before the failed record; the next poll retries from there.
            const firstFailed = failed[0]!.itemIdentifier;
            const before = records.filter((r) => (r.dynamodb?.SequenceNumber ?? '') < firstFailed).at(-1);
            if (before) this.checkpoint(id, before.dynamodb!.SequenceNumber!);
            this.iterators.delete(id);
            dispatched += feed.filter((r) => (r.dynamodb?.SequenceNumber ?? '') < firstFailed).length;
            this.processed += dispatched;
            return dispatched;
          }
          dispatched += feed.length;
          this.processed += feed.length;
        }
        if (records.length) this.checkpoint(id, records.at(-1)!.dynamodb!.SequenceNumber!);
        if (!res.NextShardIterator) {
          this.checkpoints[id] = { ...this.checkpoints[id], closed: true };
          this.iterators.delete(id);
          this.save();
          break;
        }
        this.iterators.set(id, res.NextShardIterator);
        if (records.length === 0) break;
      }
    }
    return dispatched;
  }

  private checkpoint(shardId: string, seq: string): void {
    this.checkpoints[shardId] = { ...this.checkpoints[shardId], after: seq };
    this.save();
  }

  private save(): void {
    const f = this.opts.checkpointFile;
    if (!f) return;
    writeFileSync(`${f}.tmp`, JSON.stringify(this.checkpoints));
    renameSync(`${f}.tmp`, f);
  }
}

const isStaleIterator = (e: unknown) => e instanceof Error && (e.name === 'TrimmedDataAccessException' || e.name === 'ExpiredIteratorException');
