/**
 * `npm run bench`: throughput, scale and cost figures of the local pipeline, printed (never
 * asserted). A list of sections, each in its own module:
 *
 * - the partition ceiling: writes per partition key over 10,000 messages (bench/partitions.ts);
 * - steady pipeline ÷ same-shape store limit, items per message, latency under load
 *   (bench/pipeline.ts);
 * - ingest cost per channel, the analytics export, the SLA workflow (bench/sla.ts);
 * - list-price cost per 1M messages with one reply each (bench/cost.ts);
 * - hostile input: a backtracking-prone classification rule and hostile e-mail bodies
 *   (bench/hostile-input.ts);
 * - every function's bundle size and import time beside a bare SQS client (bench/bundles.ts).
 *
 * `npm run bench -- bundles` runs only the last part (as does `tsx bench/bundles.ts`);
 * `npm run bench -- latency` only the latency per message (bench/pipeline.ts `latencyUnderLoad`).
 * `npm run bench -- kb` only the knowledge base's search (bench/kb.ts).
 * `npm run bench -- items` only the partition ceiling with the write units per message
 * (bench/partitions.ts) and the steady figures with the items written per message (bench/pipeline.ts).
 *
 * Knobs: BENCH_SCALE_MESSAGES / BENCH_SCALE_CUSTOMERS (10,000 / 5,000), BENCH_STEADY_MESSAGES
 * (300), BENCH_LATENCY_MESSAGES / BENCH_LATENCY_RATE (300 / half the measured ceiling), BENCH_INGEST_ROUNDS,
 * BENCH_EXPORT_MESSAGES, BENCH_SLA_TICKETS — small values give a quick run.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { makeIngest } from '../functions/handlers/ingest.js';
import { systemClock } from '../functions/domain/clock.js';
import { loadConfig } from '../functions/runtime/config.js';
import { createLogger } from '../functions/runtime/logger.js';
import { createDb } from '../functions/store/db.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { LocalQueue } from '../local/queues.js';
import { ensureTable } from '../local/table.js';
import { channels } from '../functions/channels/registry.js';
import { fetchSnsCertificate } from '../functions/runtime/sns-certificate.js';
import { loadSamples, TEST_SECRETS } from '../tests/helpers/samples.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

const row = (label: string, value: string) => console.log(`  ${label.padEnd(48)} ${value}`);

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
if (only !== undefined && only !== 'bundles' && only !== 'latency' && only !== 'kb' && only !== 'items') throw new Error(`bench: unknown part '${only}' (known: bundles, latency, kb, items)`);
// Items and write units per message (bench/partitions.ts, bench/pipeline.ts): `npm run bench -- items`.
if (only === 'items') {
  const { partitionBench } = await import('./partitions.js');
  await partitionBench();
  const { itemsBench } = await import('./pipeline.js');
  await itemsBench();
  process.exit(0);
}
if (only === 'latency') {
  const { latencyUnderLoad } = await import('./pipeline.js');
  await latencyUnderLoad();
}
// The knowledge base's in-memory search (bench/kb.ts): `npm run bench -- kb`.
if (only === 'kb') { await import('./kb.js'); process.exit(0); }
if (only === undefined) {
  const { partitionBench } = await import('./partitions.js');
  const partitions = await partitionBench();
  const { pipelineBench } = await import('./pipeline.js');
  const steady = await pipelineBench();
  await ingestBench();
  await exportBench();

  const { slaBench, printSlaBench } = await import('./sla.js');
  const sla = await slaBench();
  printSlaBench(sla);

  const { printCost } = await import('./cost.js');
  printCost({
    inbound: { wcu: steady.inboundWcu, rcu: steady.inboundRcu }, reply: { wcu: steady.replyWcu, rcu: steady.replyRcu }, lambda: steady.lambda,
    transitionsPerTicket: sla.transitionsPerTicket, evaluationsPerTicket: sla.evaluationsPerTicket, ticketsPerMessage: Number(process.env.BENCH_SCALE_CUSTOMERS ?? 5_000) / partitions.messages,
  });

  const { hostileInputBench } = await import('./hostile-input.js');
  hostileInputBench();
}

if (only !== 'latency') {
  const { bundlesBench, printBundlesBench } = await import('./bundles.js');
  printBundlesBench(await bundlesBench());
}
