/**
 * `npm run bench`: throughput and cost figures of the local pipeline, printed (never asserted).
 *
 * - raw PutItem/s against the same DynamoDB Local (the floor every figure is compared to);
 * - N Telegram updates through ingest → FIFO queue → process λ → DynamoDB: messages/s, and
 *   DynamoDB round trips per message for a new customer and for a known customer with an open
 *   ticket (counted by a middleware on the client, not estimated);
 * - ratio pipeline throughput ÷ raw PutItem throughput.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { makeIngest } from '../functions/handlers/ingest.js';
import { makeProcess } from '../functions/handlers/process.js';
import { systemClock } from '../functions/domain/clock.js';
import { loadConfig } from '../functions/runtime/config.js';
import { createLogger } from '../functions/runtime/logger.js';
import { createDb } from '../functions/store/db.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { LocalQueue, QueuePoller } from '../local/queues.js';
import { ensureTable } from '../local/table.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const N = Number(process.env.BENCH_MESSAGES ?? 600);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 60);
const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const SECRET = 'bench-telegram-secret';

const row = (label: string, value: string) => console.log(`  ${label.padEnd(48)} ${value}`);

async function main() {
  const ddb = await startDynamoDbLocal({ inMemory: true });
  try {
    const raw = new DynamoDBClient({ endpoint: ddb.endpoint, ...AWS });
    const table = `bench-${randomUUID().slice(0, 6)}`;
    await ensureTable(raw, table);
    const db = createDb(table, { endpoint: ddb.endpoint, ...AWS });
    const config = loadConfig({ TELEGRAM_SECRET_TOKEN: SECRET, CONFLUO_LOG_LEVEL: 'SILENT' });
    const silent = createLogger('bench', 'SILENT');

    // 1. raw PutItem throughput, same concurrency as the pipeline below
    const concurrency = 4;
    const putCount = N;
    let t = performance.now();
    await pool(putCount, concurrency, (i) => db.doc.send(new PutCommand({ TableName: table, Item: { pk: `RAW#${i}`, sk: 'RAW', v: i } })));
    const putsPerSec = putCount / ((performance.now() - t) / 1000);

    // 2. the pipeline
    const inbound = new LocalQueue({ name: 'bench.fifo', fifo: true, visibilityTimeoutMs: 5000 });
    const ingest = makeIngest({ config, clock: systemClock, logger: silent, enqueue: async (m) => { inbound.send(m); } });
    const processHandler = makeProcess({ db, clock: systemClock, config, logger: silent });
    const updates = Array.from({ length: N }, (_, i) => telegramUpdate(1_000_000 + i, 9_000_000 + (i % CUSTOMERS), `bench message ${i}`));

    t = performance.now();
    for (const body of updates) await ingest(event(body));
    const ingestMs = performance.now() - t;

    const before = db.roundTrips();
    t = performance.now();
    const poller = new QueuePoller(inbound, processHandler, { batchSize: 10, concurrency });
    poller.start();
    await poller.whenIdle();
    const processMs = performance.now() - t;
    await poller.stop();
    inbound.close();
    const tripsPerMessage = (db.roundTrips() - before) / N;
    const pipelinePerSec = N / ((ingestMs + processMs) / 1000);

    // 3. round trips per message, measured one message at a time
    const perCase = async (body: string) => {
      const rec = { messageId: randomUUID(), receiptHandle: 'x', body: '', attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' };
      const q = new LocalQueue({ name: 'one.fifo', fifo: true });
      const e = event(body);
      const ing = makeIngest({ config, clock: systemClock, logger: silent, enqueue: async (m) => { rec.body = m.body; q.send(m); } });
      await ing(e);
      q.close();
      const b = db.roundTrips();
      await processHandler({ Records: [rec as never] });
      return db.roundTrips() - b;
    };
    const newCustomer = await perCase(telegramUpdate(2_000_001, 7_000_001, 'hello'));
    const knownOpen = await perCase(telegramUpdate(2_000_002, 7_000_001, 'hello again'));

    console.log(`\nConfluo pipeline benchmark (${N} Telegram updates from ${CUSTOMERS} customers, DynamoDB Local in memory, concurrency ${concurrency})\n`);
    row('raw PutItem', `${putsPerSec.toFixed(0)} items/s`);
    row('ingest (verify + enqueue)', `${(N / (ingestMs / 1000)).toFixed(0)} requests/s`);
    row('process (dedupe, identify, thread, commit)', `${(N / (processMs / 1000)).toFixed(0)} messages/s`);
    row('pipeline end to end', `${pipelinePerSec.toFixed(0)} messages/s`);
    row('DynamoDB round trips per message (mix)', tripsPerMessage.toFixed(2));
    row('  new customer (target ≤ 4)', String(newCustomer));
    row('  known customer, open ticket (target ≤ 2)', String(knownOpen));
    row('ratio pipeline ÷ raw PutItem', `${(pipelinePerSec / putsPerSec).toFixed(3)}`);
    console.log('');
    raw.destroy();
    db.doc.destroy();
  } finally {
    await ddb.stop();
  }
}

function telegramUpdate(updateId: number, fromId: number, text: string): string {
  return JSON.stringify({ update_id: updateId, message: { message_id: updateId, date: 1790000000, text, from: { id: fromId, is_bot: false, first_name: 'Bench' }, chat: { id: fromId, type: 'private' } } });
}

function event(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: '/webhooks/telegram', rawQueryString: '', headers: { 'x-telegram-bot-api-secret-token': SECRET },
    pathParameters: { channel: 'telegram' }, requestContext: { http: { method: 'POST', path: '/webhooks/telegram' }, requestId: randomUUID() },
    body, isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++); }));
}

await main();
