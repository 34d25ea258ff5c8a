/**
 * `npx confluo …` — the local command line (DESIGN.md §4):
 *
 *   confluo export [--full]                     Parquet under $CONFLUO_DATA_DIR/export/ (progress bar)
 *   confluo query --sql "<sql>" [--json|--csv]   DuckDB over the exported files
 *   confluo query --kpi <name> [--from <date>] [--to <date>] [--group-by channel|category|agent] [--json|--csv]
 *   confluo query --kpi list                     the named KPI queries
 *
 * Data: a running local runtime — persistent or `--in-memory`, both announce themselves there — is
 * found through `$CONFLUO_DATA_DIR/runtime.json` (its DynamoDB endpoint, table and virtual clock
 * are used); otherwise the CLI opens the persistent data directory itself (DynamoDB Local on
 * `$CONFLUO_DATA_DIR/dynamodb`). `export` prints which store it read first (`store: …`). The Parquet
 * files go to `$CONFLUO_DATA_DIR/export/` in every case (an in-memory runtime's too, where they
 * outlive it); `--export-dir` overrides that.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../functions/domain/clock.js';
import { DATASETS } from '../functions/domain/export-schema.js';
import { GROUP_BY, type GroupBy } from '../functions/domain/kpi.js';
import { kpiSql, KpiSqlError, NAMED_KPIS } from '../functions/domain/kpi-sql.js';
import { parseSlaSettingsJson } from '../functions/domain/sla/policy.js';
import { makeExport, privacyFrom, type ExportProgress, type ExportResult } from '../functions/handlers/export.js';
import { loadConfig, type Config } from '../functions/runtime/config.js';
import { ParquetEngine } from '../functions/runtime/parquet.js';
import { createDb, type Db } from '../functions/store/db.js';
import { VirtualClock } from './clock.js';
import { startDynamoDbLocal } from './dynamodb-local.js';
import { hasPartitions, localExportWriter } from './export-writer.js';
import { ensureTable } from './table.js';

const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Show a progress bar (default: when stderr is a terminal). */
  readonly progress?: boolean;
}

export class CliError extends Error {
  override readonly name = 'CliError';
}

const USAGE = `usage:
  confluo export [--full] [--export-dir <dir>]
  confluo query --sql "<sql>" [--json | --csv] [--export-dir <dir>]
  confluo query --kpi <name|list> [--from <date>] [--to <date>] [--group-by ${GROUP_BY.join('|')}] [--json | --csv]
views: ${DATASETS.join(', ')} (each with the partition column dt)`;

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'export') return await exportCommand(rest, io);
    if (command === 'query') return await queryCommand(rest, io);
    if (command === undefined || command === 'help' || command === '--help') { io.out(USAGE); return command === undefined ? 2 : 0; }
    io.err(`confluo: unknown command '${command}'\n${USAGE}`);
    return 2;
  } catch (e) {
    if (e instanceof CliError || e instanceof KpiSqlError) { io.err(`confluo: ${e.message}`); return 2; }
    const cause = (e as { cause?: unknown }).cause;
    io.err(`confluo: ${(e as Error).message ?? String(e)}${cause instanceof Error ? ` (${cause.message})` : ''}`);
    return 1;
  }
}

function configOf(io: CliIo): { config: Config; dataDir: string } {
  const config = loadConfig(io.env);
  return { config, dataDir: resolve(config.CONFLUO_DATA_DIR ?? '.confluo') };
}

const exportDirOf = (dataDir: string, flag: string | undefined) => resolve(flag ?? join(dataDir, 'export'));

interface RuntimeAnnouncement { pid: number; url: string; ddb_endpoint: string; table: string; in_memory?: boolean }

/** The runtime announced in runtime.json if its process is alive (a crashed run leaves a stale file). */
function runningRuntime(runtimeFile: string): RuntimeAnnouncement | null {
  if (!existsSync(runtimeFile)) return null;
  const rt = JSON.parse(readFileSync(runtimeFile, 'utf8')) as RuntimeAnnouncement;
  try {
    process.kill(rt.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return null; // EPERM: alive, another user's
  }
  return rt;
}

/**
 * The running runtime's DynamoDB and clock, or the data directory opened by us; `store` says
 * which, for the user (an in-memory runtime and the data directory are different stores).
 */
async function openData(config: Config, dataDir: string): Promise<{ db: Db; clock: Clock; store: string; inMemory: boolean; close: () => Promise<void> }> {
  const runtimeFile = join(dataDir, 'runtime.json');
  const rt = runningRuntime(runtimeFile);
  if (rt) {
    const res = await fetch(`${rt.url}/dev/clock`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => (r.ok ? r.json() as Promise<{ epoch_ms: number }> : null)).catch(() => null);
    // Never fall back to the data directory here: it may be a different store than the one running.
    if (!res) throw new CliError(`${runtimeFile} names a runtime (pid ${rt.pid}) at ${rt.url} that does not answer; stop that process, or remove the file if it is not a Confluo runtime`);
    const offset = res.epoch_ms - Date.now();
    const db = createDb(rt.table, { endpoint: rt.ddb_endpoint, ...LOCAL_AWS });
    const inMemory = rt.in_memory === true;
    return {
      db, clock: { now: () => Date.now() + offset }, inMemory,
      store: `running runtime pid ${rt.pid} at ${rt.url} (${inMemory ? 'in memory' : `data directory ${dataDir}`})`,
      close: async () => db.doc.destroy(),
    };
  }
  const ddb = await startDynamoDbLocal({ inMemory: false, dataDir: join(dataDir, 'dynamodb') });
  const raw = new DynamoDBClient({ endpoint: ddb.endpoint, ...LOCAL_AWS });
  try { await ensureTable(raw, config.CONFLUO_TABLE_NAME); } finally { raw.destroy(); }
  const db = createDb(config.CONFLUO_TABLE_NAME, { endpoint: ddb.endpoint, ...LOCAL_AWS });
  return {
    db, clock: new VirtualClock(join(dataDir, 'clock.json')), inMemory: false,
    store: `data directory ${dataDir} (no runtime running)`,
    close: async () => { db.doc.destroy(); await ddb.stop(); },
  };
}

async function exportCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { full: { type: 'boolean' }, 'export-dir': { type: 'string' } }, strict: true });
  const { config, dataDir } = configOf(io);
  const dir = exportDirOf(dataDir, values['export-dir']);
  const data = await openData(config, dataDir);
  io.out(`store: ${data.store}`);
  const showBar = io.progress ?? process.stderr.isTTY === true;
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ format: ' {phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
  let phase: string | null = null;
  const onProgress = (p: ExportProgress) => {
    if (!showBar) return;
    const label = p.phase === 'read' ? 'reading tickets ' : 'writing parquet ';
    if (phase !== p.phase) { if (phase) bar.stop(); bar.start(p.total, p.done, { phase: label }); phase = p.phase; } else bar.update(p.done, { phase: label });
  };
  let result: ExportResult;
  try {
    result = await makeExport({
      db: data.db, clock: data.clock, writer: localExportWriter(dir), privacy: privacyFrom(config),
      slaDefaults: parseSlaSettingsJson(config.CONFLUO_SLA_DEFAULTS), tmpDir: join(tmpdir(), `confluo-cli-${randomUUID()}`), onProgress,
    }).run({ full: values.full === true });
  } finally {
    if (phase) bar.stop();
    await data.close();
  }
  if (result.status === 'locked') { io.err('confluo: another export is running; try again in a moment'); return 1; }
  const rows = Object.entries(result.rows).map(([d, n]) => `${d} ${n}`).join(', ');
  io.out([
    `exported ${result.since === null ? 'everything' : `the changes since ${new Date(result.since).toISOString()}`}`,
    `  changed tickets ${result.changed_tickets}; rows written: ${rows}`,
    `  ${result.partitions} partitions rewritten, ${result.bytes} bytes, in ${dir}${data.inMemory ? ' (files that outlive the in-memory runtime)' : ''}`,
  ].join('\n'));
  return 0;
}

async function queryCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args], strict: true,
    options: {
      sql: { type: 'string' }, kpi: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' },
      json: { type: 'boolean' }, csv: { type: 'boolean' }, 'export-dir': { type: 'string' },
    },
  });
  if (values.kpi === 'list') {
    io.out(Object.entries(NAMED_KPIS).map(([n, k]) => `${n.padEnd(16)} ${k.title}`).join('\n'));
    return 0;
  }
  if ((values.sql === undefined) === (values.kpi === undefined)) throw new CliError(`query needs exactly one of --sql or --kpi\n${USAGE}`);
  const groupBy = values['group-by'];
  if (groupBy !== undefined && !(GROUP_BY as readonly string[]).includes(groupBy)) throw new CliError(`--group-by must be one of ${GROUP_BY.join(', ')}`);
  const instant = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new CliError(`--${flag} must be a date or date-time such as 2026-03-01, got '${v}'`);
    return t;
  };
  const from = instant('from', values.from);
  const to = instant('to', values.to);
  const sql = values.sql ?? kpiSql(values.kpi!, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(groupBy ? { groupBy: groupBy as GroupBy } : {}) });
  const { dataDir } = configOf(io);
  const dir = exportDirOf(dataDir, values['export-dir']);
  if (!DATASETS.some((d) => hasPartitions(dir, d))) throw new CliError(`no export under ${dir}; run \`npx confluo export\` first`);
  const engine = await ParquetEngine.open(join(tmpdir(), `confluo-cli-${randomUUID()}`));
  try {
    await engine.createViews(dir, (d) => hasPartitions(dir, d));
    const rows = await engine.query(sql);
    io.out(values.json ? JSON.stringify(rows) : values.csv ? toCsv(rows) : toTable(rows));
  } finally {
    engine.close();
  }
  return 0;
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function toTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

export function toCsv(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!);
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [cols.map(q).join(','), ...rows.map((r) => cols.map((c) => q(cell(r[c]))).join(','))].join('\n');
}
