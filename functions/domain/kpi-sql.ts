/**
 * The KPI definitions of kpi.ts as SQL over the exported `tickets` dataset (whose fact columns
 * are kpi.ts `ticketFacts`), for DuckDB (`npx confluo query --kpi <name>`) and Athena (named
 * queries of the Export construct). Each expression is the SQL twin of one `KpiSet` field of
 * `aggregate()`; a test asserts DuckDB and `GET /api/v1/kpis` agree on the same data.
 *
 * Athena has no exact percentile: there the p50/p90 columns use `approx_percentile` (Trino's
 * t-digest, close but not equal to the API's linear interpolation).
 */
import { GROUP_BY, KPI_FIELDS, type GroupBy, type KpiSet } from './kpi.js';
import { TierCode } from './tier.js';

export type SqlDialect = 'duckdb' | 'athena';

const dbl = (x: string) => `CAST(${x} AS DOUBLE)`;
const pct = (col: string, q: number) => (d: SqlDialect) => (d === 'duckdb' ? `quantile_cont(${dbl(col)}, ${q})` : `approx_percentile(${dbl(col)}, ${q})`);
const avg = (col: string) => () => `avg(${dbl(col)})`;
/** Rows where `cond` is true (0, never NULL, when no row qualifies). */
const countWhere = (cond: string) => `count(*) FILTER (WHERE ${cond})`;
const count = (cond: string) => () => countWhere(cond);
const ratio = (num: string, den: string) => () => `CAST(${countWhere(num)} AS DOUBLE) / nullif(${countWhere(den)}, 0)`;

/** SQL of each KPI column (over the cohort rows of `tickets`). */
export const KPI_SQL: Readonly<Record<keyof KpiSet, (d: SqlDialect) => string>> = {
  volume: () => 'count(*)',
  backlog: count('backlog'),
  first_response_count: () => 'count(first_response_ms)',
  first_response_avg_ms: avg('first_response_ms'),
  first_response_p50_ms: pct('first_response_ms', 0.5),
  first_response_p90_ms: pct('first_response_ms', 0.9),
  first_response_business_avg_ms: avg('first_response_business_ms'),
  first_response_business_p50_ms: pct('first_response_business_ms', 0.5),
  first_response_business_p90_ms: pct('first_response_business_ms', 0.9),
  resolution_count: () => 'count(resolution_ms)',
  resolution_avg_ms: avg('resolution_ms'),
  resolution_p50_ms: pct('resolution_ms', 0.5),
  resolution_p90_ms: pct('resolution_ms', 0.9),
  resolution_business_avg_ms: avg('resolution_business_ms'),
  resolution_business_p50_ms: pct('resolution_business_ms', 0.5),
  resolution_business_p90_ms: pct('resolution_business_ms', 0.9),
  handle_time_count: () => 'count(handle_ms)',
  handle_time_avg_ms: avg('handle_ms'),
  fcr_eligible: () => 'count(fcr)',
  fcr_count: count('fcr'),
  fcr_rate: () => `CAST(${countWhere('fcr')} AS DOUBLE) / nullif(count(fcr), 0)`,
  reopen_eligible: count('ever_resolved'),
  reopen_count: count('ever_resolved AND reopens > 0'),
  reopen_rate: ratio('ever_resolved AND reopens > 0', 'ever_resolved'),
  csat_responses: count("survey_scale = 'csat'"),
  csat_avg: () => `avg(CASE WHEN survey_scale = 'csat' THEN ${dbl('survey_score')} END)`,
  csat_satisfied_rate: ratio("survey_scale = 'csat' AND survey_score >= 4", "survey_scale = 'csat'"),
  nps_responses: count("survey_scale = 'nps'"),
  nps_promoters: count("survey_scale = 'nps' AND survey_score >= 9"),
  nps_detractors: count("survey_scale = 'nps' AND survey_score <= 6"),
  nps_score: () => `100.0 * (${countWhere("survey_scale = 'nps' AND survey_score >= 9")} - ${countWhere("survey_scale = 'nps' AND survey_score <= 6")}) / nullif(${countWhere("survey_scale = 'nps'")}, 0)`,
  sla_eligible: () => 'count(sla_met)',
  sla_met: count('sla_met'),
  sla_attainment: () => `CAST(${countWhere('sla_met')} AS DOUBLE) / nullif(count(sla_met), 0)`,
  calls_answered: () => 'coalesce(sum(calls_answered), 0)',
  calls_abandoned: () => 'coalesce(sum(calls_abandoned), 0)',
  call_wait_avg_ms: () => `CAST(sum(call_wait_ms) AS DOUBLE) / nullif(sum(calls_waited), 0)`,
};

/** Named KPI queries (`--kpi <name>`): which KpiSet columns each one shows. */
export const NAMED_KPIS: Readonly<Record<string, { readonly title: string; readonly columns: ReadonlyArray<keyof KpiSet> }>> = {
  summary: { title: 'Every KPI of the cohort', columns: KPI_FIELDS },
  volume: { title: 'Tickets opened and still open (backlog)', columns: ['volume', 'backlog'] },
  first_response: { title: 'First response time, wall and business (ms)', columns: KPI_FIELDS.filter((c) => c.startsWith('first_response')) },
  resolution: { title: 'Resolution time, wall and business (ms)', columns: KPI_FIELDS.filter((c) => c.startsWith('resolution')) },
  handle_time: { title: 'Average handle time (ms)', columns: ['handle_time_count', 'handle_time_avg_ms'] },
  fcr: { title: 'First contact resolution', columns: ['fcr_eligible', 'fcr_count', 'fcr_rate'] },
  reopen_rate: { title: 'Reopen rate', columns: ['reopen_eligible', 'reopen_count', 'reopen_rate'] },
  csat: { title: 'CSAT (average score, share satisfied)', columns: ['csat_responses', 'csat_avg', 'csat_satisfied_rate'] },
  nps: { title: 'Net promoter score', columns: ['nps_responses', 'nps_promoters', 'nps_detractors', 'nps_score'] },
  sla_attainment: { title: 'SLA attainment', columns: ['sla_eligible', 'sla_met', 'sla_attainment'] },
  calls: { title: 'Phone calls answered and abandoned, average queue wait (ms)', columns: ['calls_answered', 'calls_abandoned', 'call_wait_avg_ms'] },
};

export class KpiSqlError extends Error {
  override readonly name = 'KpiSqlError';
}

const GROUP_COLUMN: Readonly<Record<GroupBy, string>> = { channel: 'channel', category: 'category', agent: 'assignee', tier: 'tier' };

/** `2026-01-02 03:04:05.678` — a timestamp literal both dialects read as UTC wall time. */
const tsLiteral = (ms: number) => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface KpiQueryOptions {
  /** Cohort: tickets opened in [from, to) (epoch ms); both omitted = every ticket. */
  readonly from?: number;
  readonly to?: number;
  readonly groupBy?: GroupBy | null;
  /** Only tickets of this customer tier (a lowercase code, functions/domain/tier.ts). */
  readonly tier?: string | null;
  readonly dialect?: SqlDialect;
  /** Table or view to read (default `tickets`). */
  readonly table?: string;
}

/**
 * The SQL of a named KPI. Output columns: `group_key` first when grouped (ordered by it, nulls
 * last), then the KPI columns named as in `KpiSet`.
 */
export function kpiSql(name: string, opts: KpiQueryOptions = {}): string {
  const kpi = NAMED_KPIS[name];
  if (!kpi) throw new KpiSqlError(`unknown KPI '${name}' (known: ${Object.keys(NAMED_KPIS).join(', ')})`);
  const dialect = opts.dialect ?? 'duckdb';
  if (opts.groupBy && !GROUP_BY.includes(opts.groupBy)) throw new KpiSqlError(`groupBy must be one of ${GROUP_BY.join(', ')}`);
  // As functions/domain/kpi.ts `aggregate`: merged tickets and conversations an offered article held or solved are not agents' work.
  const where = ["status NOT IN ('merged', 'held', 'deflected')"];
  if (opts.tier !== undefined && opts.tier !== null) {
    // Only codes reach the SQL text: the tier grammar has no quote or space.
    if (!TierCode.safeParse(opts.tier).success) throw new KpiSqlError('tier must be a lowercase code such as vip');
    where.push(`tier = '${opts.tier}'`);
  }
  // dt = the UTC day a ticket was opened: the day bounds prune partitions (Athena partition projection).
  if (opts.from !== undefined) where.push(`created_at >= ${tsLiteral(opts.from)}`, `dt >= '${day(opts.from)}'`);
  if (opts.to !== undefined) where.push(`created_at < ${tsLiteral(opts.to)}`, `dt <= '${day(opts.to)}'`);
  const group = opts.groupBy ? GROUP_COLUMN[opts.groupBy] : null;
  const cols = kpi.columns.map((c) => `  ${KPI_SQL[c](dialect)} AS ${c}`);
  return [
    'SELECT',
    [...(group ? [`  ${group} AS group_key`] : []), ...cols].join(',\n'),
    `FROM ${opts.table ?? 'tickets'}`,
    `WHERE ${where.join(' AND ')}`,
    ...(group ? [`GROUP BY ${group}`, 'ORDER BY group_key NULLS LAST'] : []),
  ].join('\n');
}
