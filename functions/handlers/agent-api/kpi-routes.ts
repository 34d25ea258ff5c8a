/**
 * Agent API: `GET /kpis?from=&to=&groupBy=channel|category|agent` (DESIGN.md §3), supervisors.
 * The definitions are functions/domain/kpi.ts — the same the analytics export writes as ticket
 * facts and the named SQL queries aggregate.
 *
 * Access pattern and cost: the tickets opened in [from, to) come from the inbox index gsi1 read
 * from `from` on (every ticket active since `from` is read, those opened in range kept), then one
 * timeline Query per ticket (8 at a time) and one Get of the SLA settings. A report over N tickets
 * costs about N + N/500 + 1 round trips, so it is capped at MAX_TICKETS; longer periods and
 * history belong to the analytics export (Athena / DuckDB), which holds the same numbers.
 */
import { z } from 'zod';
import { TierCode } from '../../domain/tier.js';
import { calendarResolver, GROUP_BY, KPI_FIELDS, kpiReport, ticketFacts, type TicketFacts } from '../../domain/kpi.js';
import type { SlaSettings } from '../../domain/sla/policy.js';
import { DEFAULT_SLA_SETTINGS } from '../../domain/sla/policy.js';
import type { Clock } from '../../domain/clock.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { ticketsOpenedBetween } from '../../store/analytics.js';
import { listTimeline } from '../../store/reads.js';
import { loadSlaSettings } from '../../store/sla.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface KpiRoutesDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly slaDefaults?: SlaSettings;
}

export const MAX_TICKETS = 5_000;
const MAX_RANGE_MS = 366 * 86_400_000;
const DEFAULT_RANGE_MS = 30 * 86_400_000;

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date or date-time, e.g. 2026-01-01 or 2026-01-01T00:00:00Z');

export const KpiQuery = z.strictObject({
  from: instant.optional().meta({ description: 'Start of the cohort (tickets opened at or after), default: 30 days before `to`' }),
  to: instant.optional().meta({ description: 'End of the cohort (tickets opened before), default: now' }),
  groupBy: z.enum(GROUP_BY).optional(),
  tier: TierCode.optional().meta({ description: 'Only tickets of this customer tier (e.g. vip)' }),
});

const nullableNumber = z.number().nullable();
const KpiSetSchema = z.object(Object.fromEntries(KPI_FIELDS.map((f) => [f, f.endsWith('_count') || ['volume', 'backlog', 'fcr_eligible', 'reopen_eligible', 'csat_responses', 'nps_responses', 'nps_promoters', 'nps_detractors', 'sla_eligible', 'sla_met', 'calls_answered', 'calls_abandoned'].includes(f) ? z.number().int() : nullableNumber])) as unknown as Record<(typeof KPI_FIELDS)[number], z.ZodType<number | null>>);

export const KpiSet = KpiSetSchema.meta({ id: 'KpiSet', description: 'Durations in ms, rates in [0, 1], NPS in [-100, 100]; null when the sample is empty. Definitions: functions/domain/kpi.ts' });
export const KpiReport = z.object({
  from: z.string().meta({ format: 'date-time' }),
  to: z.string().meta({ format: 'date-time' }),
  group_by: z.enum(GROUP_BY).nullable(),
  tier: z.string().optional().meta({ description: 'The tier filter, when one was given' }),
  overall: KpiSet,
  groups: z.array(KpiSetSchema.extend({ key: z.string().nullable() })),
}).meta({ id: 'KpiReport' });

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); }
  }));
  return out;
}

/** Facts of the tickets opened in [from, to) — the API's read path (exported for the e2e/bench parity checks). */
export async function factsOpenedBetween(db: Db, from: number, to: number, settings: SlaSettings): Promise<TicketFacts[]> {
  const tickets = await ticketsOpenedBetween(db, from, to);
  if (tickets.length > MAX_TICKETS) {
    throw new HttpError(422, 'invalid', `${tickets.length} tickets were opened in this range (the API reports on at most ${MAX_TICKETS}); narrow it or query the analytics export`);
  }
  const calendarOf = calendarResolver(settings);
  return mapLimit(tickets, 8, async (t) => ticketFacts(t, await listTimeline(db, t.id), calendarOf(t)));
}

export function kpiRoutes(deps: KpiRoutesDeps): RouteDef[] {
  return [
    route({
      method: 'GET', path: '/kpis', summary: 'KPI report over the tickets opened in [from, to), optionally of one customer tier and grouped by channel, category, agent (assignee) or tier', role: 'supervisor',
      query: KpiQuery, responses: { 200: KpiReport, 400: ErrorBody, 422: ErrorBody },
      handle: async ({ query }) => {
        const to = query.to ? Date.parse(query.to) : deps.clock.now();
        const from = query.from ? Date.parse(query.from) : to - DEFAULT_RANGE_MS;
        if (from >= to) throw new HttpError(400, 'invalid', 'query.from must be before query.to');
        if (to - from > MAX_RANGE_MS) throw new HttpError(400, 'invalid', 'the range may span at most 366 days; query the analytics export for longer periods');
        const settings = await loadSlaSettings(deps.db, deps.slaDefaults ?? DEFAULT_SLA_SETTINGS);
        const report = kpiReport(await factsOpenedBetween(deps.db, from, to, settings), { from, to, groupBy: query.groupBy ?? null, tier: query.tier ?? null });
        return { status: 200, body: { ...report, from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
      },
    }),
  ];
}
