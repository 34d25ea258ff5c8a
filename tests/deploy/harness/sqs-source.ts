/**
 * The SQS event source mapping, played against moto (moto stores the mapping but polls nothing):
 * ReceiveMessage with every system and message attribute, records shaped as Lambda builds them
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, the FIFO example event; compare
 * local/queues.ts `markReceived`), up to the mapping's BatchSize, one invocation per batch. After
 * the invocation, what succeeded is deleted: with ReportBatchItemFailures every record not in
 * `batchItemFailures`; without it, all or nothing. A record left undeleted becomes visible again
 * when its visibility timeout ends — unless `releaseFailed` is set, which makes it visible at once
 * (a time warp over the queue's VisibilityTimeout, 180 s here, so retries happen within a test).
 *
 * FIFO order is the function's duty (a failed record must be reported together with the later
 * records of its group in the batch); a batch answer that breaks it is recorded in `violations`.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

export interface SqsSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly invoke: (event: { Records: SQSRecord[] }) => Promise<unknown>;
  /** Make failed records visible again at once instead of after the visibility timeout. Default false. */
  readonly releaseFailed?: boolean;
}

export interface BatchOutcome {
  readonly records: readonly SQSRecord[];
  /** messageIds the function reported as failed (all of them when the invocation failed). */
  readonly failed: readonly string[];
  /** The invocation's error, if it failed as a whole. */
  readonly error?: unknown;
}

/** Lambda's record from a received message. */
export function lambdaSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const attrs = { ...(m.Attributes ?? {}) } as Record<string, string>;
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: attrs as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: v.StringListValues ?? [], binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: v.DataType!,
    }])) as SQSRecord['messageAttributes'],
    md5OfBody: m.MD5OfBody ?? createHash('md5').update(m.Body ?? '').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export class SqsEventSource {
  readonly outcomes: BatchOutcome[] = [];
  /** FIFO contract breaches: a group's record reported failed while a later one of the group was not. */
  readonly violations: string[] = [];

  constructor(readonly opts: SqsSourceOptions) {}

  /** One ReceiveMessage and, if it returned messages, one invocation. Resolves with the batch size. */
  async pollOnce(): Promise<number> {
    const { sqs, queueUrl } = this.opts;
    const res = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, this.opts.batchSize), WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'], ReceiveRequestAttemptId: randomUUID(),
    }));
    const messages = res.Messages ?? [];
    if (!messages.length) return 0;
    const records = messages.map((m) => lambdaSqsRecord(m, this.opts.queueArn, this.opts.region));
    let failed: string[];
    let error: unknown;
    try {
      const answer = await this.opts.invoke({ Records: records });
      failed = this.failuresOf(answer, records);
    } catch (e) {
      error = e;
      failed = records.map((r) => r.messageId);
    }
    this.checkFifo(records, failed);
    this.outcomes.push({ records, failed, ...(error !== undefined ? { error } : {}) });
    const done = records.filter((r) => !failed.includes(r.messageId));
    if (done.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
    const again = records.filter((r) => failed.includes(r.messageId));
    if (again.length && this.opts.releaseFailed) {
      await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: again.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: 0 })) }));
    }
    return records.length;
  }

  /** Poll until a receive comes back empty (or `maxBatches`). Resolves with the records handled. */
  async drain(maxBatches = 50): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await this.pollOnce();
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  /** Lambda's reading of a batch response (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting). */
  private failuresOf(answer: unknown, records: readonly SQSRecord[]): string[] {
    if (!this.opts.reportBatchItemFailures) return [];
    if (answer === null || answer === undefined) return [];
    const list = (answer as SQSBatchResponse).batchItemFailures;
    if (list === undefined || (Array.isArray(list) && list.length === 0)) return [];
    // A malformed response or an unknown identifier fails the whole batch.
    if (!Array.isArray(list) || list.some((f) => !records.some((r) => r.messageId === f?.itemIdentifier))) return records.map((r) => r.messageId);
    return list.map((f) => f.itemIdentifier);
  }

  private checkFifo(records: readonly SQSRecord[], failed: readonly string[]): void {
    const brokenGroups = new Set<string>();
    for (const r of records) {
      const group = r.attributes.MessageGroupId;
      if (!group) continue;
      if (failed.includes(r.messageId)) brokenGroups.add(group);
      else if (brokenGroups.has(group)) this.violations.push(`${r.messageId} of group ${group} succeeded after an earlier record of its group failed`);
    }
  }
}
