/**
 * Export λ (issue 9): tickets, messages, customers, events and surveys as zstd Parquet,
 * partitioned `dt=YYYY-MM-DD`, written incrementally (hourly schedule + watermark) through a
 * `writer` port — local files (`$CONFLUO_DATA_DIR/export/…`) or S3.
 *
 * One run (load → decide → commit):
 * 1. take the export lease and read the watermark (item `EXPORT#watermark`);
 * 2. find what changed since `watermark − overlap` without a scan: tickets by activity (gsi1),
 *    merged tickets (gsi2), the change feed of the whole UTC days involved, and the tickets of
 *    customers erased since (gsi3);
 * 3. re-read those tickets with their timelines and customers; build rows (export-schema.ts,
 *    KPI facts from kpi.ts);
 * 4. rewrite every affected partition whole: its old rows minus those of the changed keys, plus
 *    the new rows (events: the day's feed, whole). A re-run therefore overwrites and never
 *    duplicates; a crash before step 5 leaves the watermark, so the next run redoes the work;
 * 5. advance the watermark to the run's start and release the lease.
 *
 * GDPR: an erased customer (`erased_at`) has no text, comment or profile in any row, and the run
 * after the erase rewrites the partitions holding that customer's rows (found through the
 * `customer.erased` feed event — or any feed event naming the customer — and gsi3).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import type { Clock } from '../domain/clock.js';
import {
  customerRow, dayOf, eventRow, messageRow, surveyRow, ticketRow, DATASETS,
  type Dataset, type PrivacyOptions, type Row,
} from '../domain/export-schema.js';
import { calendarResolver, ticketFacts } from '../domain/kpi.js';
import { DEFAULT_SLA_SETTINGS, parseSlaSettingsJson, type SlaSettings } from '../domain/sla/policy.js';
import { lambdaHandler } from '../runtime/aws.js';
import { partitionPath, type ExportWriter } from '../runtime/ports.js';
import type { Config } from '../runtime/config.js';
import { errorFacts, logger } from '../runtime/logger.js';
import { ParquetEngine } from '../runtime/parquet.js';
import type { Db } from '../store/db.js';
import {
  acquireExportLease, batchGetCustomers, batchGetTickets, commitExportState, customerIdentities, customerTickets,
  feedBetween, mergedTicketsSince, releaseExportLease, ticketsActiveSince,
} from '../store/analytics.js';
import type { MessageEntry, TicketRecord } from '../store/records.js';
import { listTimeline } from '../store/reads.js';
import { loadSlaSettings } from '../store/sla.js';

export { partitionPath, type ExportWriter };

export interface ExportProgress { readonly phase: 'read' | 'write'; readonly done: number; readonly total: number }

export interface ExportDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly writer: ExportWriter;
  readonly privacy: PrivacyOptions;
  readonly slaDefaults?: SlaSettings;
  /** Scratch space for DuckDB and partition files (default: the OS temp dir). */
  readonly tmpDir?: string;
  /** Re-read this much before the watermark (GSI propagation, writers' clock skew). Default 5 min. */
  readonly overlapMs?: number;
  readonly onProgress?: (p: ExportProgress) => void;
}

export interface ExportResult {
  readonly status: 'exported' | 'locked';
  /** Changes after this instant were exported (null: everything). */
  readonly since: number | null;
  /** The new watermark (the run's start). */
  readonly until: number;
  readonly changed_tickets: number;
  /** Rows written per dataset (the new rows of the changed keys). */
  readonly rows: Readonly<Record<Dataset, number>>;
  /** Rows in the rewritten partitions after the run, per dataset. */
  readonly partition_rows: Readonly<Record<Dataset, number>>;
  readonly partitions: number;
  readonly bytes: number;
}

export class ExportError extends Error {
  override readonly name = 'ExportError';
}

const LEASE_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
const startOfDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const zeroes = (): Record<Dataset, number> => Object.fromEntries(DATASETS.map((d) => [d, 0])) as Record<Dataset, number>;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>, onDone?: (n: number) => void): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); onDone?.(++done); }
  }));
  return out;
}

export function makeExport(deps: ExportDeps) {
  const { db, clock, writer, privacy } = deps;
  const overlap = deps.overlapMs ?? 5 * 60_000;

  async function run(opts: { full?: boolean } = {}): Promise<ExportResult> {
    const now = clock.now();
    const owner = randomUUID();
    const state = await acquireExportLease(db, owner, now, LEASE_MS);
    if (!state) return { status: 'locked', since: null, until: now, changed_tickets: 0, rows: zeroes(), partition_rows: zeroes(), partitions: 0, bytes: 0 };
    const scratch = join(deps.tmpDir ?? tmpdir(), `confluo-export-${owner}`);
    mkdirSync(scratch, { recursive: true });
    let engine: ParquetEngine | undefined;
    try {
      const since = opts.full || state.watermark === undefined ? null : Math.max(0, state.watermark - overlap);

      // --- load: what changed
      const [active, merged] = await Promise.all([ticketsActiveSince(db, since), mergedTicketsSince(db, since)]);
      const tickets = new Map<string, TicketRecord>();
      for (const t of [...active, ...merged]) tickets.set(t.id, t);
      const firstDay = startOfDay(since ?? [...tickets.values()].reduce((m, t) => Math.min(m, t.created_at), now));
      const feed = await feedBetween(db, firstDay, now);
      const feedTicketIds = feed.map((e) => e.ticket_id).filter((id): id is string => !!id && !tickets.has(id));
      for (const t of (await batchGetTickets(db, feedTicketIds)).values()) tickets.set(t.id, t);
      const feedCustomers = await batchGetCustomers(db, feed.map((e) => e.customer_id).filter((id): id is string => !!id));
      for (const cu of feedCustomers.values()) {
        if (cu.erased_at !== undefined && (since === null || cu.erased_at >= since)) {
          for (const t of await customerTickets(db, cu.id)) tickets.set(t.id, t);
        }
      }
      const customers = new Map([...feedCustomers, ...await batchGetCustomers(db, [...tickets.values()].map((t) => t.customer_id).filter((id) => !feedCustomers.has(id)))]);
      const live = [...tickets.values()].filter((t) => t.status !== 'merged');
      const settings = await loadSlaSettings(db, deps.slaDefaults ?? DEFAULT_SLA_SETTINGS);
      const calendarOf = calendarResolver(settings);
      const total = live.length + customers.size;
      deps.onProgress?.({ phase: 'read', done: 0, total });
      const timelines = await mapLimit(live, 8, (t) => listTimeline(db, t.id), (n) => deps.onProgress?.({ phase: 'read', done: n, total }));
      const identities = await mapLimit([...customers.keys()], 8, (id) => customerIdentities(db, id), (n) => deps.onProgress?.({ phase: 'read', done: live.length + n, total }));

      // --- decide: rows per dataset and partition
      const rows: Record<Dataset, Map<string, Row[]>> = { tickets: new Map(), messages: new Map(), customers: new Map(), events: new Map(), surveys: new Map() };
      const add = (d: Dataset, dt: string, r: Row | null) => { const m = rows[d]; if (!m.has(dt)) m.set(dt, []); if (r) m.get(dt)!.push(r); };
      live.forEach((t, i) => {
        const erased = customers.get(t.customer_id)?.erased_at !== undefined;
        const timeline = timelines[i]!;
        const day = dayOf(t.created_at);
        add('tickets', day, ticketRow(t, ticketFacts(t, timeline, calendarOf(t))));
        add('surveys', day, surveyRow(t, { ...privacy, erased }));
        for (const e of timeline) {
          if (e.type === 'message') add('messages', dayOf(e.at), messageRow(e as MessageEntry, t.customer_id, { ...privacy, erased }));
        }
      });
      // Merged tickets leave their partition (their rows are dropped, none added).
      for (const t of tickets.values()) if (t.status === 'merged') { add('tickets', dayOf(t.created_at), null); add('surveys', dayOf(t.created_at), null); }
      [...customers.values()].forEach((cu, i) => add('customers', dayOf(cu.created_at), customerRow(cu, identities[i]!, privacy)));
      for (let day = firstDay; day <= now; day += DAY_MS) add('events', dayOf(day), null);
      for (const e of feed) add('events', dayOf(e.at), eventRow(e));

      const changedTicketIds = [...tickets.keys()];
      const drop = (d: Dataset) => (d === 'events' ? 'all' as const
        : d === 'customers' ? [{ column: 'customer_id', values: [...customers.keys()] }]
          : [{ column: 'ticket_id', values: changedTicketIds }]);

      // --- commit: rewrite partitions, then the watermark
      engine = await ParquetEngine.open(join(scratch, 'duckdb'));
      const jobs = DATASETS.flatMap((d) => [...rows[d].entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dt, r]) => ({ d, dt, r })));
      const written = zeroes();
      const partitionRows = zeroes();
      let bytes = 0;
      let done = 0;
      deps.onProgress?.({ phase: 'write', done: 0, total: jobs.length });
      for (const { d, dt, r } of jobs) {
        const oldFile = await writer.fetch(d, dt, scratch);
        const outFile = join(scratch, `${d}-${dt}-${randomUUID()}.parquet`);
        partitionRows[d] += await engine.rewritePartition({ dataset: d, oldFile, drop: drop(d), rows: r, outFile });
        bytes += await writer.put(d, dt, outFile);
        written[d] += r.length;
        rmSync(outFile, { force: true });
        deps.onProgress?.({ phase: 'write', done: ++done, total: jobs.length });
      }
      const result: ExportResult = { status: 'exported', since, until: now, changed_tickets: tickets.size, rows: written, partition_rows: partitionRows, partitions: jobs.length, bytes };
      if (!(await commitExportState(db, owner, now, { ...result, rows: { ...written }, partition_rows: { ...partitionRows } }))) {
        throw new ExportError('export: the lease expired before the watermark was committed', { cause: { stage: 'commit', lease_ms: LEASE_MS } });
      }
      return result;
    } catch (e) {
      await releaseExportLease(db, owner).catch(() => {});
      if (e instanceof ExportError) throw e;
      throw new ExportError('export: run failed', { cause: e });
    } finally {
      engine?.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  return { run };
}

/** Privacy switches from the configuration. */
export const privacyFrom = (config: Config): PrivacyOptions => ({
  messageText: config.CONFLUO_EXPORT_MESSAGE_TEXT === 'on',
  customerProfile: config.CONFLUO_EXPORT_CUSTOMER_PROFILE === 'on',
});

/** Lambda entry point: the hourly EventBridge schedule invokes it; S3 writer on CONFLUO_EXPORT_BUCKET. */
export const handler = lambdaHandler<ScheduledEvent, ExportResult>(async (platform) => {
  const config = await platform.settings();
  if (!config.CONFLUO_EXPORT_BUCKET) throw new ExportError('export: CONFLUO_EXPORT_BUCKET is not set', { cause: { stage: 'config' } });
  const exporter = makeExport({
    db: platform.db(config), clock: platform.clock, writer: platform.exportWriter(config.CONFLUO_EXPORT_BUCKET), privacy: privacyFrom(config),
    slaDefaults: parseSlaSettingsJson(config.CONFLUO_SLA_DEFAULTS), tmpDir: platform.scratchDir,
  });
  return async () => {
    try {
      const result = await exporter.run();
      logger.info('export finished', { status: result.status, changed_tickets: result.changed_tickets, partitions: result.partitions, bytes: result.bytes });
      return result;
    } catch (e) {
      logger.error('export failed', errorFacts(e));
      throw e;
    }
  };
});
