/**
 * Steady pipeline figures (README "Scale"), against the store's own limit rather than a PutItem:
 *
 * - DynamoDB Local is warmed first (JIT of both the JVM and Node): a few hundred messages and raw
 *   requests that are not measured.
 * - The "limit" is raw requests of the same shape as a known customer's message: the reads the
 *   process function made for one (recorded by the capacity meter: operation and item count) and a
 *   TransactWriteItems with as many items as its commit (fresh Puts, one of them carrying the three
 *   GSI keys as the ticket does). Pipeline (ingest → FIFO queue → process) and limit are measured
 *   interleaved, three rounds, at the same concurrency; printed: the median ratio and its spread.
 * - Items written and round trips per message for a new customer, a known customer with an open
 *   ticket, and a merge of two customers.
 * - Latency per message through the local runtime (real HTTP routes, queues, stream, handlers as
 *   synthesised, acknowledgements on as deployed by default): first the runtime's ceiling on this
 *   machine (a burst of new customers' messages, drained), then `BENCH_LATENCY_MESSAGES` (default
 *   300) Telegram webhooks from new customers offered at a steady `BENCH_LATENCY_RATE` msgs/s
 *   (default: half that ceiling, so the figures are service time, not a queue building up);
 *   p50/p90/p99 from each webhook's 2xx (the message is in the FIFO queue) to the process
 *   function's commit returning (observed on the runtime's DynamoDB client) and to the
 *   acknowledgement's platform request (the outbox), and from an agent's
 *   `POST /tickets/{id}/replies` to the platform request for replies offered at the same rate.
 *   Also the Lambda time per invocation of each function for bench/cost.ts.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import type { Runtime } from '../local/runtime.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import type { Db } from '../functions/store/db.js';
import { median, meteredTable, pipeline, pool, quantile, row, SECRET, telegramContact, telegramUpdate } from './support.js';

export interface PipelineResult {
  readonly ratio: number;
  readonly itemsKnown: number;
  readonly itemsNew: number;
  /** Lambda ms per invocation and invocations per inbound message with one reply, per function. */
  readonly lambda: ReadonlyMap<string, { readonly msPerInvocation: number; readonly perMessage: number }>;
  /** Write/read units of one agent reply (API commit + send), DynamoDB-reported. */
  readonly replyWcu: number;
  readonly replyRcu: number;
  /** Write/read units of one inbound message with everything it sets off (process, dispatch, the acknowledgement, SLA steps). */
  readonly inboundWcu: number;
  readonly inboundRcu: number;
}

export async function pipelineBench(): Promise<PipelineResult> {
  const ddb = await startDynamoDbLocal({ inMemory: true });
  let counts: { itemsKnown: number; itemsNew: number; ratio: number };
  try {
    counts = await steady(ddb.endpoint);
  } finally {
    await ddb.stop();
  }
  const latency = await latencyUnderLoad();
  return { ...counts, ...latency };
}

/**
 * The steady figures and items per message alone, on a DynamoDB Local of their own (`npm run bench
 * -- items`, with the partition ceiling): no latency run.
 */
export async function itemsBench() {
  const ddb = await startDynamoDbLocal({ inMemory: true });
  try {
    return await steady(ddb.endpoint);
  } finally {
    await ddb.stop();
  }
}

async function steady(endpoint: string) {
  const K = Number(process.env.BENCH_STEADY_MESSAGES ?? 300);
  const concurrency = 4;
  const { db, meter } = await meteredTable(endpoint, 'bench-steady');
  const p = pipeline(db, concurrency);
  const CUSTOMERS = 40;
  let update = 7_000_000;
  const known = (n: number) => Array.from({ length: n }, (_, i) => telegramUpdate(update++, 30_000_000 + (i % CUSTOMERS), `steady ${update}`));

  // Per-message counts, one message at a time.
  const measure = async (body: string) => {
    const [items, checks, trips, wcu] = [meter.items, meter.checks, db.roundTrips(), meter.capacity.write];
    meter.calls = [];
    await p.one(body);
    const calls = meter.calls;
    meter.calls = null;
    return { items: meter.items - items, checks: meter.checks - checks, trips: db.roundTrips() - trips, wcu: meter.capacity.write - wcu, calls };
  };
  const newCustomer = await measure(telegramUpdate(update++, 31_000_001, 'hello'));
  const knownCustomer = await measure(telegramUpdate(update++, 31_000_001, 'hello again'));
  await measure(telegramUpdate(update++, 31_000_002, 'first customer'));
  await measure(telegramContact(update++, 31_000_002, '+447700900555'));
  await measure(telegramUpdate(update++, 31_000_003, 'second customer'));
  const merge = await measure(telegramContact(update++, 31_000_003, '+447700900555'));

  // The same shape as a known customer's message, raw.
  const shape = knownCustomer.calls;
  const RAW = `RAW#${randomUUID().slice(0, 4)}`;
  for (let i = 0; i < 50; i++) await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { pk: `${RAW}#${i}`, sk: 'R', pad: 'x'.repeat(400) } }));
  let seq = 0;
  const rawMessage = async () => {
    for (const c of shape) {
      if (c.op === 'BatchGetItem') await db.doc.send(new BatchGetCommand({ RequestItems: { [db.tableName]: { Keys: Array.from({ length: c.n }, (_, j) => ({ pk: `${RAW}#${(seq + j) % 50}`, sk: 'R' })), ConsistentRead: true } } }));
      else if (c.op === 'GetItem') await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: `${RAW}#${seq % 50}`, sk: 'R' }, ConsistentRead: true }));
      else if (c.op === 'Query') await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': `${RAW}#${seq % 50}` }, ConsistentRead: true }));
      else if (c.op === 'TransactWriteItems') {
        const s = seq++;
        await db.doc.send(new TransactWriteCommand({ TransactItems: Array.from({ length: c.n }, (_, j) => ({ Put: {
          TableName: db.tableName, ConditionExpression: 'attribute_not_exists(pk)',
          Item: { pk: `${RAW}#W${s}#${j}`, sk: 'W', pad: 'x'.repeat(300), ...(j === 0 ? { gsi1pk: `${RAW}#G${s % 64}`, gsi1sk: String(s), gsi2pk: `${RAW}#S${s % 64}`, gsi2sk: String(s), gsi3pk: `${RAW}#C${s}`, gsi3sk: 'T' } : {}) },
        } })) }));
      }
    }
  };
  const rawRate = async (n: number) => { const t = performance.now(); await pool(n, concurrency, rawMessage); return n / ((performance.now() - t) / 1000); };
  const pipeRate = async (n: number) => { const t = performance.now(); await p.run(known(n)); return n / ((performance.now() - t) / 1000); };

  // Warm-up: JVM and Node JIT, not measured.
  await p.run(known(CUSTOMERS)); // every customer known, each with an open ticket
  await pipeRate(Math.min(200, K));
  await rawRate(Math.min(200, K));

  const rounds: Array<{ pipe: number; raw: number }> = [];
  for (let r = 0; r < 3; r++) {
    const pipe = await pipeRate(K);
    const raw = await rawRate(K);
    rounds.push({ pipe, raw });
  }
  const ratios = rounds.map((x) => x.pipe / x.raw);
  const ratio = median(ratios);

  console.log(`Steady pipeline against the same-shape store limit (DynamoDB Local warmed; 3 interleaved rounds of ${K} known-customer messages, concurrency ${concurrency})\n`);
  row('same-shape request of a known customer\'s message', shape.map((c) => `${c.op}${c.n > 1 ? `×${c.n}` : ''}`).join(' + '));
  rounds.forEach((x, i) => row(`round ${i + 1}: pipeline / same-shape raw`, `${x.pipe.toFixed(0)} / ${x.raw.toFixed(0)} msgs/s = ${(x.pipe / x.raw).toFixed(2)}`));
  row('pipeline ÷ same-shape limit, median of 3 (spread)', `${ratio.toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  // Write units as DynamoDB reports them: 2 per transactional item of ≤ 1 KB (a condition check too), 1 per GSI entry written.
  row('items written per message: known customer, open ticket', `${knownCustomer.items} (+ ${knownCustomer.checks} condition check), ${knownCustomer.trips} round trips, ${knownCustomer.wcu} WCU`);
  row('items written per message: new customer', `${newCustomer.items} (+ ${newCustomer.checks} condition check), ${newCustomer.trips} round trips, ${newCustomer.wcu} WCU`);
  row('items written per message: merge of two customers', `${merge.items} (+ ${merge.checks} condition checks), ${merge.trips} round trips, ${merge.wcu} WCU`);
  console.log('');
  db.doc.destroy();
  return { ratio, itemsKnown: knownCustomer.items, itemsNew: newCustomer.items };
}

export async function latencyUnderLoad() {
  const N = Number(process.env.BENCH_LATENCY_MESSAGES ?? 300);
  process.env.CONFLUO_LOG_LEVEL = 'SILENT';
  const { startRuntime } = await import('../local/runtime.js');
  const { apiClient } = await import('../tests/helpers/runtime.js');
  // Acknowledgements on, as a deployment has them by default: the second latency is to the ack.
  const rt: Runtime = await startRuntime({
    env: { TELEGRAM_SECRET_TOKEN: SECRET, TELEGRAM_BOT_TOKEN: '1000000001:bench-telegram-bot-token-000', CONFLUO_LOG_LEVEL: 'SILENT', CONFLUO_AUTO_ACK: 'on' },
    port: 0, inMemory: true, announce: false, visibilityTimeoutMs: 30_000, log: () => {},
  });
  try {
    const { CapacityMeter } = await import('./capacity.js');
    const meter = new CapacityMeter().attach(rt.db);
    const api = apiClient(rt.url);
    const token = await api.token('bench', 'agent');
    // When each message's commit returned: the process function's transaction that writes the
    // sender's identity (IDENT#telegram:<user>) and the ticket, observed on the runtime's client.
    const committed = new Map<string, number>();
    const ticketUser = new Map<string, string>();
    rt.db.doc.middlewareStack.add((next, context) => async (args) => {
      const out = await next(args);
      if (/^TransactWrite/.test(String((context as { commandName?: string }).commandName))) {
        const at = performance.now();
        // Written keys only (a ConditionCheck may name a customer's previous ticket).
        type Pk = { pk?: unknown };
        const pk = (x: Pk | undefined) => (typeof x?.pk === 'string' ? x.pk : undefined);
        const pks = ((args.input as { TransactItems?: Array<{ Put?: { Item?: Pk }; Update?: { Key?: Pk } }> }).TransactItems ?? [])
          .map((t) => pk(t.Put?.Item) ?? pk(t.Update?.Key) ?? '');
        const user = pks.find((k) => k.startsWith('IDENT#telegram:'))?.slice('IDENT#telegram:'.length);
        const ticket = pks.find((k) => k.startsWith('TICKET#'))?.slice('TICKET#'.length);
        if (user && !committed.has(user)) { committed.set(user, at); if (ticket) ticketUser.set(ticket, user); }
      }
      return out;
    }, { step: 'initialize', name: 'benchCommitTimes' });
    // When each ticket's first platform request (acknowledgement, then the agent's reply) was made.
    const acked = new Map<string, number>();
    const sent = new Map<string, number>();
    const record = rt.outbox.record.bind(rt.outbox);
    rt.outbox.record = (item) => {
      const map = item.kind === 'acknowledgement' ? acked : item.kind === 'reply' ? sent : undefined;
      if (map && item.ticket_id && !map.has(item.ticket_id)) map.set(item.ticket_id, performance.now());
      record(item);
    };
    const userOf = (i: number) => String(40_000_000 + i);
    const webhook = (i: number) => api.webhook('telegram', { headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: telegramUpdate(9_000_000 + i, 40_000_000 + i, `latency ${i}`) });
    for (let i = 0; i < 20; i++) await webhook(N + 1000 + i); // warm-up
    await api.post('/dev/settle', {});

    // The ceiling of this runtime on this machine: a burst of new customers' messages, drained.
    const BURST = Math.max(20, Math.min(100, Math.floor(N / 3)));
    const tb = performance.now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => webhook(N + 2000 + i)));
    await api.post('/dev/settle', { timeoutSeconds: 300 });
    const ceiling = BURST / ((performance.now() - tb) / 1000);
    // Offered below it (half, unless BENCH_LATENCY_RATE says), so the figures are service time, not a queue.
    const RATE = Number(process.env.BENCH_LATENCY_RATE ?? Math.max(1, Math.floor(ceiling / 2)));
    (rt.lambdaTimes() as Map<string, unknown>).clear();
    const before = { w: meter.capacity.write, r: meter.capacity.read };

    // Webhook 2xx (the message is in the FIFO queue) → commit, → acknowledgement in the outbox.
    const enqueued = new Map<string, number>();
    const gap = 1000 / RATE;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: N }, async (_, i) => {
      await sleepUntil(t0 + i * gap);
      const res = await webhook(i);
      if (res.status !== 200) throw new Error(`bench: webhook answered ${res.status}`);
      enqueued.set(userOf(i), performance.now());
    }));
    const offeredFor = (performance.now() - t0) / 1000;
    await api.post('/dev/settle', { timeoutSeconds: 300 });
    const inbound = { w: meter.capacity.write - before.w, r: meter.capacity.read - before.r };
    const toCommit: number[] = [];
    const toAck: number[] = [];
    const ticketOf = new Map<string, string>([...ticketUser].map(([t, u]) => [u, t]));
    for (const [user, at] of enqueued) {
      const c = committed.get(user);
      if (c !== undefined) toCommit.push(c - at);
      const a = acked.get(ticketOf.get(user) ?? '');
      if (a !== undefined) toAck.push(a - at);
    }

    // Agent reply → platform request, offered at the same rate to the tickets just opened.
    const ids = Array.from({ length: N }, (_, i) => ticketOf.get(userOf(i)));
    const replied: number[] = [];
    const lost = { replied: 0 };
    const t1 = performance.now();
    await Promise.all(ids.map(async (id, i) => {
      if (!id) { lost.replied += 1; return; } // its commit was never seen (counted below)
      await sleepUntil(t1 + i * gap);
      const start = performance.now();
      const res = await api.post(`/api/v1/tickets/${id}/replies`, { text: `On it (${i}).` }, token);
      if (res.status >= 300) throw new Error(`bench: reply answered ${res.status}`);
      while (performance.now() - start < GIVE_UP_MS) {
        const at = sent.get(id);
        if (at !== undefined) { replied.push(at - start); return; }
        await sleep(5);
      }
      lost.replied += 1;
    }));
    await api.post('/dev/settle', {});
    const reply = { w: meter.capacity.write - before.w - inbound.w, r: meter.capacity.read - before.r - inbound.r };

    const show = (label: string, xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const missing = N - s.length;
      row(label, `p50 ${quantile(s, 0.5).toFixed(0)} ms, p90 ${quantile(s, 0.9).toFixed(0)} ms, p99 ${quantile(s, 0.99).toFixed(0)} ms (${s.length} messages${missing ? `, ${missing} not seen` : ''})`);
    };
    console.log(`Latency at a steady offered rate (local runtime: HTTP API, FIFO queue, table stream, handlers as synthesised; ${N} new customers' webhooks, then ${N} replies)\n`);
    row('ceiling of this runtime here (burst drained)', `${ceiling.toFixed(1)} msgs/s (${BURST} messages)`);
    row('offered rate', `${RATE} msgs/s (${(N / offeredFor).toFixed(1)} achieved)${process.env.BENCH_LATENCY_RATE ? ' (BENCH_LATENCY_RATE)' : ', half the ceiling'}`);
    show('webhook 2xx (enqueued) → commit', toCommit);
    show('webhook 2xx (enqueued) → acknowledgement request', toAck);
    show('agent reply POST → platform request', replied);
    const lambda = new Map<string, { msPerInvocation: number; perMessage: number }>();
    for (const [name, t] of [...rt.lambdaTimes().entries()].sort()) {
      lambda.set(name, { msPerInvocation: t.ms / t.invocations, perMessage: t.invocations / N });
      row(`Lambda ${name}`, `${(t.ms / t.invocations).toFixed(1)} ms per invocation, ${(t.invocations / N).toFixed(2)} invocations per message`);
    }
    row('capacity per agent reply (API commit, send, dispatch)', `${(reply.w / N).toFixed(2)} WCU, ${(reply.r / N).toFixed(2)} RCU`);
    row('capacity per inbound message (process, dispatch, acknowledgement, SLA steps)', `${(inbound.w / N).toFixed(2)} WCU, ${(inbound.r / N).toFixed(2)} RCU`);
    console.log('');
    return { lambda, replyWcu: reply.w / N, replyRcu: reply.r / N, inboundWcu: inbound.w / N, inboundRcu: inbound.r / N };
  } finally {
    await rt.stop();
  }
}

const GIVE_UP_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (t: number) => sleep(Math.max(0, t - performance.now()));
export type { Db };
