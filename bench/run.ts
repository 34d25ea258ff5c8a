/**
 * `npm run bench`: throughput and cost figures of the local pipeline, printed (never asserted).
 *
 * - raw PutItem/s against the same DynamoDB Local (the floor every figure is compared to);
 * - N Telegram updates through ingest → FIFO queue → process λ → DynamoDB: messages/s, and
 *   DynamoDB round trips per message for a new customer and for a known customer with an open
 *   ticket (counted by a middleware on the client, not estimated);
 * - ratio pipeline throughput ÷ raw PutItem throughput;
 * - hostile input: a backtracking-prone classification rule and hostile e-mail bodies
 *   (bench/hostile-input.ts);
 * - every function's bundle size and import time beside a bare SQS client (bench/bundles.ts).
 *
 * `npm run bench -- bundles` runs only the last part (as does `tsx bench/bundles.ts`).
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
import { channels } from '../functions/channels/registry.js';
import { fetchSnsCertificate } from '../functions/runtime/sns-certificate.js';
import { loadSamples, TEST_SECRETS } from '../tests/helpers/samples.js';

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
    // (c) Merge: two customers exist (one holds phone P verified, one does not); the second shares
    // its own contact card with P, a verified claim → automatic merge of the two customers.
    await perCase(telegramUpdate(2_000_003, 7_000_002, 'first customer'));
    await perCase(telegramContact(2_000_004, 7_000_002, '+447700900555'));
    await perCase(telegramUpdate(2_000_005, 7_000_003, 'second customer'));
    const mergeCase = await perCase(telegramContact(2_000_006, 7_000_003, '+447700900555'));

    console.log(`\nConfluo pipeline benchmark (${N} Telegram updates from ${CUSTOMERS} customers, DynamoDB Local in memory, concurrency ${concurrency})\n`);
    row('raw PutItem', `${putsPerSec.toFixed(0)} items/s`);
    row('ingest (verify + enqueue)', `${(N / (ingestMs / 1000)).toFixed(0)} requests/s`);
    row('process (dedupe, identify, thread, commit)', `${(N / (processMs / 1000)).toFixed(0)} messages/s`);
    row('pipeline end to end', `${pipelinePerSec.toFixed(0)} messages/s`);
    row('DynamoDB round trips per message (mix)', tripsPerMessage.toFixed(2));
    row('  new customer (target ≤ 4)', String(newCustomer));
    row('  known customer, open ticket (target ≤ 2)', String(knownOpen));
    row('  merge of two customers (target ≤ 8)', String(mergeCase));
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

function telegramContact(updateId: number, fromId: number, phone: string): string {
  return JSON.stringify({ update_id: updateId, message: { message_id: updateId, date: 1790000000, contact: { phone_number: phone, first_name: 'Bench', user_id: fromId }, from: { id: fromId, is_bot: false, first_name: 'Bench' }, chat: { id: fromId, type: 'private' } } });
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

/**
 * Per-channel ingest cost: the first accepted POST sample of every channel through ingest (size
 * check, authenticity, validity, envelope, enqueue into an in-process FIFO queue), as a ratio to
 * the bare enqueue of the same body. Signature checks dominate; e-mail verifies an RSA signature.
 */
async function ingestBench() {
  const config = loadConfig({ ...TEST_SECRETS, CONFLUO_LOG_LEVEL: 'SILENT' });
  const silent = createLogger('bench', 'SILENT');
  const rounds = Number(process.env.BENCH_INGEST_ROUNDS ?? 2000);
  const perSecond = async (n: number, task: () => Promise<unknown>) => {
    for (let i = 0; i < Math.min(50, n); i++) await task(); // warm-up (JIT, certificate cache)
    const t = performance.now();
    for (let i = 0; i < n; i++) await task();
    return n / ((performance.now() - t) / 1000);
  };
  // The floor: enqueueing a typical body into a fresh in-process FIFO queue, nothing else.
  const base = new LocalQueue({ name: 'ingest-bare.fifo', fifo: true });
  let n = 0;
  const body = 'x'.repeat(1024);
  const bare = await perSecond(rounds, async () => { base.send({ body, groupId: 'g', deduplicationId: String(n++) }); });
  base.close();
  console.log(`Ingest cost per channel (${rounds} requests each, first enqueued sample, in-process queue)\n`);
  row('bare enqueue (1 KiB body)', `${bare.toFixed(0)} requests/s`);
  for (const name of Object.keys(channels)) {
    const q = new LocalQueue({ name: `ingest-${name}.fifo`, fifo: true });
    const ingest = makeIngest({ config, clock: systemClock, logger: silent, enqueue: async (m) => { q.send({ ...m, deduplicationId: String(n++) }); }, ports: { fetchCertificate: fetchSnsCertificate } });
    const asEvent = (sample: ReturnType<typeof loadSamples>[number]) => ({
      version: '2.0', routeKey: '$default', rawPath: sample.request.path, rawQueryString: new URLSearchParams(sample.request.query).toString(),
      headers: Object.fromEntries(Object.entries(sample.request.headers).map(([k, v]) => [k.toLowerCase(), v])),
      queryStringParameters: sample.request.query, pathParameters: { channel: name },
      requestContext: { http: { method: sample.request.method, path: sample.request.path }, requestId: 'bench' }, body: sample.request.body, isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    // The first accepted sample that is really enqueued (not a handshake answered at the edge).
    let req: APIGatewayProxyEventV2 | undefined;
    for (const sample of loadSamples(name).filter((x) => x.kind === 'accepted' && x.request.method === 'POST')) {
      const depth = q.stats().depth;
      await ingest(asEvent(sample));
      if (q.stats().depth > depth) { req = asEvent(sample); break; }
    }
    if (!req) { row(name, 'no enqueued sample'); q.close(); continue; }
    const full = await perSecond(rounds, () => ingest(req));
    row(name, `${full.toFixed(0)} requests/s, ${(bare / full).toFixed(1)}× the bare enqueue`);
    q.close();
  }
  console.log('');
}

/**
 * Analytics export (issue 9): synthetic tickets with timelines written straight to DynamoDB Local,
 * then one full export to Parquet in a temp directory — rows/s (all datasets, DynamoDB reads
 * included) and Parquet bytes per 1,000 messages (metadata only, and with message text).
 */
async function exportBench() {
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { mkdtempSync, readdirSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { makeExport } = await import('../functions/handlers/export.js');
  const { fixedClock } = await import('../functions/domain/clock.js');
  const { ticketItem } = await import('../functions/store/inbound.js');
  const { keys } = await import('../functions/store/table.js');
  const { initialSla } = await import('../functions/domain/sla/policy.js');
  const { localExportWriter } = await import('../local/export-writer.js');

  const messages = Number(process.env.BENCH_EXPORT_MESSAGES ?? 5_000);
  const perTicket = 10;
  const tickets = Math.ceil(messages / perTicket);
  const ddb = await startDynamoDbLocal({ inMemory: true });
  const dir = mkdtempSync(join(tmpdir(), 'confluo-bench-export-'));
  try {
    const raw = new DynamoDBClient({ endpoint: ddb.endpoint, ...AWS });
    const table = `bench-export-${randomUUID().slice(0, 6)}`;
    await ensureTable(raw, table);
    raw.destroy();
    const db = createDb(table, { endpoint: ddb.endpoint, ...AWS });
    const t0 = Date.UTC(2026, 2, 2, 8, 0, 0);
    const words = ['order', 'delivery', 'refund', 'please', 'help', 'tracking', 'number', 'payment', 'card', 'thanks', 'when', 'arrive', 'broken', 'size', 'exchange'];
    const items: Array<Record<string, unknown>> = [];
    for (let t = 0; t < tickets; t++) {
      const id = `01BENCH${String(t).padStart(19, '0')}`;
      const customerId = `01BENCHCST${String(t).padStart(16, '0')}`;
      const created = t0 + t * 97_000;
      const n = Math.min(perTicket, messages - t * perTicket);
      const resolved = t % 3 !== 0;
      items.push(ticketItem({
        id, number: `C-${String(t + 1).padStart(6, '0')}`, status: resolved ? 'resolved' : 'open', priority: 'normal', category: ['billing', 'shipping', null][t % 3]!,
        tags: [], customer_id: customerId, channel: (['telegram', 'whatsapp', 'email'] as const)[t % 3]!, conversation_id: `c-${t}`, assignee: `agent-${t % 7}`, team: null,
        sla: initialSla('normal', created), survey: resolved ? { sent_at: created + 7_200_000, score: 1 + (t % 5), scale: 'csat' } : null, merged_into: null, previous_ticket_id: null,
        created_at: created, updated_at: created + n * 60_000, last_inbound_at: created, last_outbound_at: created + 60_000, first_response_at: created + 60_000,
        resolved_at: resolved ? created + n * 60_000 : null, closed_at: null, message_count: n,
      }));
      items.push({ ...keys.customer(customerId), id: customerId, created_at: created, display_name: `Bench Customer ${t}` });
      for (let m = 0; m < n; m++) {
        const at = created + m * 60_000;
        const mid = `01BENCHMSG${String(t * perTicket + m).padStart(16, '0')}`;
        const text = Array.from({ length: 6 + ((t * 7 + m * 3) % 30) }, (_, k) => words[(t + m * 5 + k * 3) % words.length]).join(' ');
        items.push({
          ...keys.timelineEntry(id, at, mid), type: 'message', id: mid, ticket_id: id, at, channel: 'telegram', direction: m % 2 ? 'out' : 'in', external_message_id: String(1000 + m),
          conversation_id: `c-${t}`, text, attachments: m % 4 === 0 ? [{ type: 'image' }] : [], interaction: null, edited: false, sent_at: at,
          ...(m % 2 ? { outbound_kind: 'reply', author: `agent-${t % 7}`, delivery: 'delivered' } : {}),
        });
      }
      items.push({ ...keys.feedEvent(created, `01BENCHEVT${String(t).padStart(16, '0')}`), id: `01BENCHEVT${String(t).padStart(16, '0')}`, type: 'ticket.opened', at: created, ticket_id: id, customer_id: customerId, data: { channel: 'telegram' } });
    }
    for (let i = 0; i < items.length; i += 25) {
      await db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    const clock = fixedClock(t0 + tickets * 97_000 + 86_400_000);
    const sizeOf = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? sizeOf(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
    const run = async (messageText: boolean) => {
      const out = join(dir, messageText ? 'with-text' : 'metadata');
      const started = performance.now();
      const result = await makeExport({ db, clock, writer: localExportWriter(out), privacy: { messageText, customerProfile: false }, tmpDir: join(dir, 'scratch') }).run({ full: true });
      const seconds = (performance.now() - started) / 1000;
      const rows = Object.values(result.rows).reduce((a, b) => a + b, 0);
      return { rows, seconds, messageBytes: sizeOf(join(out, 'messages')), totalBytes: result.bytes };
    };
    const meta = await run(false);
    const withText = await run(true);
    console.log(`Analytics export benchmark (${tickets} tickets, ${messages} messages, DynamoDB Local in memory → zstd Parquet)\n`);
    row('export, full run (DynamoDB reads + Parquet)', `${(meta.rows / meta.seconds).toFixed(0)} rows/s (${meta.rows} rows in ${meta.seconds.toFixed(2)} s)`);
    row('messages Parquet per 1,000 messages, metadata', `${((meta.messageBytes / messages) * 1000 / 1024).toFixed(1)} KiB`);
    row('messages Parquet per 1,000 messages, with text', `${((withText.messageBytes / messages) * 1000 / 1024).toFixed(1)} KiB`);
    row('all datasets per 1,000 messages, metadata', `${((meta.totalBytes / messages) * 1000 / 1024).toFixed(1)} KiB`);
    console.log('');
    db.doc.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ddb.stop();
  }
}

const only = process.argv[2];
if (only !== undefined && only !== 'bundles') throw new Error(`bench: unknown part '${only}' (known: bundles)`);
if (only === undefined) {
  await main();
  await ingestBench();
  await exportBench();
  const { slaBench, printSlaBench } = await import('./sla.js');
  printSlaBench(await slaBench());
  const { hostileInputBench } = await import('./hostile-input.js');
  hostileInputBench();
}

const { bundlesBench, printBundlesBench } = await import('./bundles.js');
printBundlesBench(await bundlesBench());
