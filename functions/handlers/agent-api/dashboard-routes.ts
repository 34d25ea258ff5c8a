/**
 * The supervisors' dashboard endpoints (issue 15): `GET /kpis/daily`, `/kpis/recurring` and
 * `/kpis/channel-hoppers`. Numbers from the KPI definitions of functions/domain/kpi.ts through
 * functions/domain/dashboard.ts — the same cohort read as `GET /kpis` (kpi-routes.ts
 * `cohortOpenedBetween`), so a range without filters answers exactly the `/kpis` totals.
 *
 * Access pattern and cost: like `GET /kpis` — the tickets opened in the range from the inbox index
 * (every ticket active since `from` is read), one timeline Query per ticket (8 at a time), refused
 * with 422 above MAX_TICKETS (5 000) tickets; the range is at most 92 days here. The page's three
 * calls read the same tickets three times (reads are eventually cheap: ~1–2 KB per ticket, one
 * timeline page each); past a few thousand tickets a range belongs to the analytics export.
 * Channel hoppers are paginated (`limit`, `cursor`).
 */
import { z } from 'zod';
import { DEFAULT_SLA_SETTINGS, type SlaSettings } from '../../domain/sla/policy.js';
import {
  AGE_BUCKETS, channelHoppers, dailyReport, isTimeZone, matchesFilter, recurringProblems, WEEK_MS, type CohortRow, type DashboardFilter,
} from '../../domain/dashboard.js';
import type { Clock } from '../../domain/clock.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { loadSlaSettings } from '../../store/sla.js';
import { cohortOpenedBetween, KpiSet } from './kpi-routes.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface DashboardRoutesDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly slaDefaults?: SlaSettings;
}

const DAY_MS = 86_400_000;
export const MAX_DASHBOARD_RANGE_DAYS = 92;
const DEFAULT_RANGE_MS = 30 * DAY_MS;

const instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date or date-time, e.g. 2026-01-01 or 2026-01-01T00:00:00Z');
const filterFields = {
  channel: z.string().max(32).optional().meta({ description: 'Only tickets opened on this channel' }),
  team: z.string().max(128).optional().meta({ description: 'Only tickets of this team' }),
  tier: z.string().max(64).optional().meta({ description: 'Only tickets of customers of this tier; `none`: without a tier' }),
};

export const DailyQuery = z.strictObject({
  from: instant.optional().meta({ description: 'Start of the cohort (tickets opened at or after), default: 30 days before `to`' }),
  to: instant.optional().meta({ description: 'End of the cohort (tickets opened before), default: now' }),
  tz: z.string().max(64).refine(isTimeZone, 'expected an IANA time zone such as Europe/Warsaw').optional().meta({ description: 'Time zone of the days, default UTC' }),
  ...filterFields,
});

const counts = z.record(z.string(), z.number().int());
export const DailyReport = z.object({
  from: z.string().meta({ format: 'date-time' }),
  to: z.string().meta({ format: 'date-time' }),
  time_zone: z.string(),
  channels: z.array(z.string()),
  overall: KpiSet,
  days: z.array((KpiSet as unknown as z.ZodObject).extend({ day: z.string().meta({ format: 'date' }), tickets_by_channel: counts, messages_by_channel: counts })),
  backlog_by_age: z.array(z.object({ bucket: z.enum(AGE_BUCKETS), count: z.number().int() })),
  load_by_agent: z.array(z.object({ agent: z.string().nullable(), active: z.number().int(), resolved: z.number().int() })),
}).meta({ id: 'KpiDailyReport', description: 'Per-day KPIs of the tickets opened each day (definitions: functions/domain/kpi.ts, dashboard.ts); `overall` equals GET /kpis for the same range' });

export const RecurringQuery = z.strictObject({
  to: instant.optional().meta({ description: 'End of "this week" (the 7 days before it; "last week" the 7 before those), default: now' }),
  limit: z.coerce.number().int().min(1).max(50).default(10),
  ...filterFields,
});
const RecurringRow = z.object({ key: z.string().nullable(), this_week: z.number().int(), last_week: z.number().int() });
const Week = z.object({ from: z.string().meta({ format: 'date-time' }), to: z.string().meta({ format: 'date-time' }), tickets: z.number().int() });
export const RecurringReport = z.object({
  this_week: Week, last_week: Week, categories: z.array(RecurringRow), keywords: z.array(RecurringRow),
}).meta({ id: 'RecurringProblems', description: 'Top categories and first-message keywords of new tickets this week vs last' });

export const HoppersQuery = z.strictObject({
  from: instant.optional().meta({ description: 'Tickets opened at or after, default: 30 days before `to`' }),
  to: instant.optional().meta({ description: 'Tickets opened before, default: now' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d{1,5}$/).optional().meta({ description: '`next_cursor` of the previous page' }),
  ...filterFields,
});
export const ChannelHopperList = z.object({
  items: z.array(z.object({
    ticket_id: z.string(), number: z.string().nullable(), customer_id: z.string(), status: z.string(),
    created_at: z.string().meta({ format: 'date-time' }), channels: z.array(z.string()), customer_messages: z.number().int(),
    last_customer_message_at: z.string().meta({ format: 'date-time' }),
  })),
  total: z.number().int(),
  next_cursor: z.string().nullable(),
}).meta({ id: 'ChannelHopperList', description: 'Still-open tickets whose customer wrote on two or more channels, oldest first' });

const iso = (ms: number) => new Date(ms).toISOString();
const filterOf = (q: { channel?: string | undefined; team?: string | undefined; tier?: string | undefined }): DashboardFilter => ({
  ...(q.channel ? { channel: q.channel } : {}), ...(q.team ? { team: q.team } : {}), ...(q.tier ? { tier: q.tier } : {}),
});

export function dashboardRoutes(deps: DashboardRoutesDeps): RouteDef[] {
  const range = (q: { from?: string | undefined; to?: string | undefined }) => {
    const to = q.to ? Date.parse(q.to) : deps.clock.now();
    const from = q.from ? Date.parse(q.from) : to - DEFAULT_RANGE_MS;
    if (from >= to) throw new HttpError(400, 'invalid', 'query.from must be before query.to');
    if (to - from > MAX_DASHBOARD_RANGE_DAYS * DAY_MS) throw new HttpError(400, 'invalid', `the range may span at most ${MAX_DASHBOARD_RANGE_DAYS} days; query the analytics export for longer periods`);
    return { from, to };
  };
  const cohort = async (from: number, to: number, filter: DashboardFilter): Promise<CohortRow[]> => {
    const settings = await loadSlaSettings(deps.db, deps.slaDefaults ?? DEFAULT_SLA_SETTINGS);
    return cohortOpenedBetween(deps.db, from, to, settings, (t) => matchesFilter(t, filter));
  };
  return [
    route({
      method: 'GET', path: '/kpis/daily', summary: 'Dashboard series: KPIs per day of the tickets opened in [from, to), new tickets and customer messages per day by channel, backlog by age, load per agent; filter by channel, team, tier', role: 'supervisor',
      query: DailyQuery, responses: { 200: DailyReport, 400: ErrorBody, 422: ErrorBody },
      handle: async ({ query }) => {
        const { from, to } = range(query);
        const report = dailyReport(await cohort(from, to, filterOf(query)), { from, to, now: deps.clock.now(), timeZone: query.tz ?? 'UTC' });
        return { status: 200, body: { ...report, from: iso(from), to: iso(to) } };
      },
    }),
    route({
      method: 'GET', path: '/kpis/recurring', summary: 'Recurring problems: top categories and keywords of the first customer message of tickets opened this week (7 days before `to`) vs last week', role: 'supervisor',
      query: RecurringQuery, responses: { 200: RecurringReport, 400: ErrorBody, 422: ErrorBody },
      handle: async ({ query }) => {
        const to = query.to ? Date.parse(query.to) : deps.clock.now();
        const r = recurringProblems(await cohort(to - 2 * WEEK_MS, to, filterOf(query)), { to, limit: query.limit });
        const week = (w: { from: number; to: number; tickets: number }) => ({ from: iso(w.from), to: iso(w.to), tickets: w.tickets });
        return { status: 200, body: { ...r, this_week: week(r.this_week), last_week: week(r.last_week) } };
      },
    }),
    route({
      method: 'GET', path: '/kpis/channel-hoppers', summary: 'Channel hoppers: still-open tickets opened in [from, to) whose customer wrote on two or more channels, oldest first (paginated)', role: 'supervisor',
      query: HoppersQuery, responses: { 200: ChannelHopperList, 400: ErrorBody, 422: ErrorBody },
      handle: async ({ query }) => {
        const { from, to } = range(query);
        const all = channelHoppers(await cohort(from, to, filterOf(query)));
        const start = query.cursor ? Number(query.cursor) : 0;
        const items = all.slice(start, start + query.limit).map((h) => ({ ...h, created_at: iso(h.created_at), last_customer_message_at: iso(h.last_customer_message_at) }));
        const next = start + query.limit < all.length ? String(start + query.limit) : null;
        return { status: 200, body: { items, total: all.length, next_cursor: next } };
      },
    }),
  ];
}
