/** Shared parts of the benches: a DynamoDB Local table with a metered client, Telegram updates, the ingest/process pipeline in process. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { makeIngest } from '../functions/handlers/ingest.js';
import { makeProcess } from '../functions/handlers/process.js';
import { systemClock } from '../functions/domain/clock.js';
import { loadConfig } from '../functions/runtime/config.js';
import { createLogger } from '../functions/runtime/logger.js';
import { createDb, type Db } from '../functions/store/db.js';
import { LocalQueue, QueuePoller } from '../local/queues.js';
import { ensureTable } from '../local/table.js';
import { CapacityMeter } from './capacity.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
export const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
export const SECRET = 'bench-telegram-secret';

export const row = (label: string, value: string) => console.log(`  ${label.padEnd(56)} ${value}`);
export const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
export const median = (xs: readonly number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** A fresh table on `endpoint` and a client whose capacity and writes per partition are metered. */
export async function meteredTable(endpoint: string, prefix: string): Promise<{ db: Db; meter: CapacityMeter }> {
  const raw = new DynamoDBClient({ endpoint, ...AWS });
  const table = `${prefix}-${randomUUID().slice(0, 6)}`;
  await ensureTable(raw, table);
  raw.destroy();
  const db = createDb(table, { endpoint, ...AWS });
  return { db, meter: new CapacityMeter().attach(db) };
}

export function telegramUpdate(updateId: number, fromId: number, text: string): string {
  return JSON.stringify({ update_id: updateId, message: { message_id: updateId, date: 1790000000, text, from: { id: fromId, is_bot: false, first_name: 'Bench' }, chat: { id: fromId, type: 'private' } } });
}

export function telegramContact(updateId: number, fromId: number, phone: string): string {
  return JSON.stringify({ update_id: updateId, message: { message_id: updateId, date: 1790000000, contact: { phone_number: phone, first_name: 'Bench', user_id: fromId }, from: { id: fromId, is_bot: false, first_name: 'Bench' }, chat: { id: fromId, type: 'private' } } });
}

export function webhookEvent(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: '/webhooks/telegram', rawQueryString: '', headers: { 'x-telegram-bot-api-secret-token': SECRET },
    pathParameters: { channel: 'telegram' }, requestContext: { http: { method: 'POST', path: '/webhooks/telegram' }, requestId: randomUUID() },
    body, isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/**
 * The inbound pipeline in process: ingest (verify + enqueue into an SQS-FIFO-semantics queue) and
 * the process function behind a poller (batch 10, `concurrency` at once), each handler's
 * invocation time added up (what Lambda bills).
 */
export function pipeline(db: Db, concurrency = 4) {
  const config = loadConfig({ TELEGRAM_SECRET_TOKEN: SECRET, CONFLUO_LOG_LEVEL: 'SILENT' });
  const silent = createLogger('bench', 'SILENT');
  const time = { ingestMs: 0, ingestCalls: 0, processMs: 0, processCalls: 0, records: 0 };
  const process = makeProcess({ db, clock: systemClock, config, logger: silent });
  const timedProcess = async (event: { Records: SQSRecord[] }) => {
    const t = performance.now();
    try { return await process(event); } finally { time.processMs += performance.now() - t; time.processCalls += 1; time.records += event.Records.length; }
  };
  return {
    config, time, process,
    /** Runs `bodies` through ingest, then drains the queue through process. */
    async run(bodies: readonly string[]): Promise<{ ingestMs: number; processMs: number }> {
      const inbound = new LocalQueue({ name: `bench-${randomUUID().slice(0, 6)}.fifo`, fifo: true, visibilityTimeoutMs: 30_000 });
      const ingest = makeIngest({ config, clock: systemClock, logger: silent, enqueue: async (m) => { inbound.send(m); } });
      let t = performance.now();
      for (const body of bodies) {
        const s = performance.now();
        await ingest(webhookEvent(body));
        time.ingestMs += performance.now() - s; time.ingestCalls += 1;
      }
      const ingestMs = performance.now() - t;
      t = performance.now();
      const poller = new QueuePoller(inbound, timedProcess as never, { batchSize: 10, concurrency });
      poller.start();
      await poller.whenIdle();
      const processMs = performance.now() - t;
      await poller.stop();
      inbound.close();
      return { ingestMs, processMs };
    },
    /** One message through ingest and process on its own (for per-message counts). */
    async one(body: string): Promise<void> {
      const rec = { messageId: randomUUID(), receiptHandle: 'x', body: '', attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' };
      const ingest = makeIngest({ config, clock: systemClock, logger: silent, enqueue: async (m) => { rec.body = m.body; } });
      await ingest(webhookEvent(body));
      await process({ Records: [rec as never] });
    },
  };
}

export async function pool(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++); }));
}
