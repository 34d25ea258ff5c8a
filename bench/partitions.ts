/**
 * The partition ceiling (README "Scale"): `BENCH_SCALE_MESSAGES` Telegram messages (default
 * 10,000) from `BENCH_SCALE_CUSTOMERS` customers (default 5,000) through ingest → FIFO queue →
 * process → DynamoDB Local, every write counted per partition key of the table and of each GSI
 * (bench/capacity.ts). Printed per target: the hottest key and its share of that target's writes,
 * and the inbound rate at which the hottest partition would take 1,000 write units/s — the
 * documented per-partition limit
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html),
 * using the write units per write DynamoDB reported for that target (transactions count double).
 * The same counts with the shard suffix removed show the ceiling of the unsharded keys (before).
 * Inbox reads: the read units each partition takes for one inbox page (25 tickets), and the pages
 * per second at which the hottest one would reach 3,000 read units/s.
 *
 * Also returns the DynamoDB capacity and Lambda time per message for bench/cost.ts.
 */
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { listInbox } from '../functions/store/triage.js';
import { meteredTable, pipeline, row, telegramUpdate } from './support.js';

export interface PartitionResult {
  readonly messages: number;
  readonly projectedMsgsPerSec: number;
  readonly hottestShare: number;
  /** Write and read units per inbound message (capacity reported by DynamoDB, all targets). */
  readonly wcuPerMessage: number;
  readonly rcuPerMessage: number;
  /** Lambda milliseconds per inbound message. */
  readonly ingestMsPerMessage: number;
  readonly processMsPerMessage: number;
}

const unsharded = (key: string) => key.replace(/^(FEED#\d{4}-\d{2}-\d{2}|TICKETS|STATUS#[a-z_]+)#\d{2}$/, '$1');

export async function partitionBench(): Promise<PartitionResult> {
  const N = Number(process.env.BENCH_SCALE_MESSAGES ?? 10_000);
  const C = Number(process.env.BENCH_SCALE_CUSTOMERS ?? 5_000);
  const ddb = await startDynamoDbLocal({ inMemory: true });
  try {
    const { db, meter } = await meteredTable(ddb.endpoint, 'bench-scale');
    const p = pipeline(db, 4);
    const bodies = Array.from({ length: N }, (_, i) => telegramUpdate(5_000_000 + i, 20_000_000 + (i % C), `scale message ${i}`));
    const t = performance.now();
    await p.run(bodies);
    const seconds = (performance.now() - t) / 1000;

    console.log(`Partition ceiling (${N} Telegram messages from ${C} customers through ingest → FIFO → process, DynamoDB Local; ${seconds.toFixed(0)} s)\n`);
    const totalWrites = [...meter.writes.values()].reduce((s, m) => s + [...m.values()].reduce((a, b) => a + b, 0), 0);
    let projected = Infinity;
    let projectedBefore = Infinity;
    let hottestShare = 0;
    for (const [target, counts] of [...meter.writes.entries()].sort()) {
      const writes = [...counts.values()].reduce((a, b) => a + b, 0);
      // The larger of the reported average and 2: every write of a message is transactional, and a
      // transactional write of ≤ 1 KB costs 2 write units (the average mixes in cheaper writes).
      const wcuPerWrite = Math.max(2, (meter.capacity.byTarget.get(target)?.write ?? 0) / writes);
      const [hotKey, hot] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
      const atLimit = 1000 / ((hot * wcuPerWrite) / N);
      const before = new Map<string, number>();
      for (const [k, v] of counts) before.set(unsharded(k), (before.get(unsharded(k)) ?? 0) + v);
      const [hotBeforeKey, hotBefore] = [...before.entries()].sort((a, b) => b[1] - a[1])[0]!;
      const atLimitBefore = 1000 / ((hotBefore * wcuPerWrite) / N);
      projected = Math.min(projected, atLimit);
      projectedBefore = Math.min(projectedBefore, atLimitBefore);
      hottestShare = Math.max(hottestShare, hot / totalWrites);
      row(`${target}: ${writes} writes over ${counts.size} keys, ${wcuPerWrite.toFixed(2)} WCU/write`, `hottest ${hotKey} (${(100 * hot / writes).toFixed(2)} % of ${target}, ${(100 * hot / totalWrites).toFixed(2)} % of all writes)`);
      row(`  hottest partition at 1,000 WCU/s when`, `${fmt(atLimit)} msgs/s (unsharded ${hotBeforeKey}: ${fmt(atLimitBefore)} msgs/s)`);
    }
    row('hottest key, share of all writes (table + GSIs)', `${(100 * hottestShare).toFixed(2)} %`);
    row('projected inbound ceiling (first partition at 1,000 WCU/s)', `${fmt(projected)} msgs/s (unsharded keys: ${fmt(projectedBefore)} msgs/s)`);

    // Inbox reads: read units per partition for one first page of the inbox (eventually consistent index reads).
    meter.readsByKey.clear();
    const pages = 20;
    for (let i = 0; i < pages; i++) await listInbox(db, {}, { limit: 25 });
    const hotRead = Math.max(...[...meter.readsByKey.entries()].filter(([k]) => k.startsWith('gsi1 ')).map(([, v]) => v)) / pages;
    row('inbox page (25 tickets): read units of the hottest gsi1 partition', `${hotRead.toFixed(2)} RCU → 3,000 RCU/s at ${fmt(3000 / hotRead)} pages/s`);

    const wcuPerMessage = meter.capacity.write / N;
    const rcuPerMessage = (meter.capacity.read - [...meter.readsByKey.values()].reduce((a, b) => a + b, 0)) / N;
    row('capacity per inbound message (DynamoDB-reported)', `${wcuPerMessage.toFixed(2)} WCU, ${rcuPerMessage.toFixed(2)} RCU`);
    console.log('');
    db.doc.destroy();
    return {
      messages: N, projectedMsgsPerSec: projected, hottestShare, wcuPerMessage, rcuPerMessage,
      ingestMsPerMessage: p.time.ingestMs / p.time.ingestCalls, processMsPerMessage: p.time.processMs / p.time.records,
    };
  } finally {
    await ddb.stop();
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '∞');
