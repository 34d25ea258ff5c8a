/**
 * KPI definitions (DESIGN.md §2 KPIs) — the ONE place they are defined. Pure: plain ticket rows
 * and timeline rows in, numbers out; no I/O, no clock.
 *
 * Two steps, shared by `GET /api/v1/kpis` and the analytics export:
 *
 * 1. `ticketFacts(ticket, timeline, calendar)` — per-ticket facts (first response time in wall and
 *    business time, resolution time, handle time, agent replies, reopens, FCR, SLA met, survey
 *    score). The export writes these facts as columns of the `tickets` dataset, so Athena and
 *    DuckDB never re-derive them (business time needs the calendar arithmetic of sla/calendar.ts,
 *    which SQL cannot do).
 * 2. `aggregate(facts)` — the KPI set over a cohort of facts. `kpi-sql.ts` is the same aggregation
 *    in SQL over the `tickets` dataset; a test asserts both give the same numbers on the same data.
 *
 * Definitions (each is exactly what the code below does):
 * - **Cohort** of a report: the tickets *opened* in `[from, to)` (created_at), merged tickets
 *   excluded (their messages live on in the winner). Every KPI of a report is over its cohort.
 * - **First response time**: first agent reply (`first_response_at`, else the first outbound
 *   message of kind `reply`) − created_at; wall ms and business ms (the ticket's SLA calendar).
 *   Tickets without a reply are not in the sample. avg, p50, p90.
 * - **Resolution time**: resolved_at − created_at of tickets now `resolved` or `closed` (a
 *   reopened and re-resolved ticket counts up to its last resolution); wall and business ms.
 * - **Handle time**: for resolved/closed tickets, the time the ball was in the agents' court:
 *   summed over turns, from the first customer message nobody answered yet to the agent reply that
 *   answers it. (Confluo records no agent work sessions; this is its documented proxy.)
 * - **FCR**: a resolved/closed ticket with exactly one agent reply and no reopen within 7 days of
 *   a resolution. Rate = FCR tickets / resolved-or-closed tickets.
 * - **Reopen rate**: tickets reopened at least once / tickets resolved at least once (now
 *   resolved/closed, or reopened — a reopen implies an earlier resolution).
 * - **CSAT**: `survey.score` on the CSAT scale (1–5): average, and % satisfied (score ≥ 4).
 * - **NPS**: `survey.score` on the NPS scale (0–10): % promoters (9–10) − % detractors (0–6).
 * - **SLA attainment**: tickets with an SLA block whose `breached` list is empty / tickets with an
 *   SLA block.
 * - **Tier**: a report may be limited to the tickets of one customer tier (the tier copied onto the
 *   ticket, functions/domain/tier.ts) or grouped by tier (null key: no tier).
 * - **Calls** (phone, issue 16; calls on the cohort's tickets): answered = inbound calls an agent
 *   took; abandoned = inbound calls nobody answered that want a call-back (hung up in the queue,
 *   or after hours); average wait = mean queue wait of the inbound calls that queued (answered or
 *   abandoned), ms.
 * - **Volume**: tickets in the cohort. **Backlog**: those of them still active (new, open,
 *   pending_customer, on_hold) at the time of the report.
 * - Percentiles interpolate linearly between closest ranks (DuckDB `quantile_cont`, numpy
 *   `linear`). A KPI with an empty sample is null.
 */
import { businessTimeBetween, CALENDAR_24X7, type Calendar } from './sla/calendar.js';
import { matchPolicy, type SlaSettings } from './sla/policy.js';
import type { Priority } from './ticket.js';

export const DAY_MS = 86_400_000;
/** "Not reopened within 7 days" of FCR. */
export const FCR_REOPEN_WINDOW_MS = 7 * DAY_MS;
const ACTIVE = new Set(['new', 'open', 'pending_customer', 'on_hold']);
const DONE = new Set(['resolved', 'closed']);
/**
 * Not tickets agents worked: merged into another, or conversations an offered article held or
 * solved (README "Knowledge base": deflection; the knowledge base's own KPIs count those).
 */
const NOT_WORKED = new Set(['merged', 'held', 'deflected']);

/** The ticket fields KPIs read (a stored TicketRecord satisfies it). */
export interface KpiTicket {
  readonly id: string;
  readonly status: string;
  readonly priority: Priority | string;
  readonly category: string | null;
  readonly channel: string;
  readonly assignee: string | null;
  readonly customer_id: string;
  readonly created_at: number;
  readonly first_response_at: number | null;
  readonly resolved_at: number | null;
  readonly sla: { readonly policy?: string; readonly breached?: readonly string[]; readonly calendar?: string } | null;
  readonly survey: Readonly<Record<string, unknown>> | null;
  /** Customer tier and contract copied onto the ticket (functions/domain/tier.ts); absent = none. */
  readonly tier?: string | null;
  readonly contract?: string | null;
  /** An article offered on a messenger before the ticket opened (README "Knowledge base"): the ticket opened at the answer. */
  readonly deflection?: { readonly answer?: string; readonly answered_at?: number } | null;
}

/** The timeline fields KPIs read (stored MessageEntry / NoteEntry / EventEntry satisfy it). */
export interface KpiTimelineEntry {
  readonly type: 'message' | 'note' | 'event';
  readonly at: number;
  readonly direction?: 'in' | 'out';
  readonly outbound_kind?: string;
  readonly event?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Phone calls carry their facts here (functions/domain/voice.ts `CallFacts`). */
  readonly channel?: string;
  readonly extras?: Readonly<Record<string, unknown>>;
}

export type SurveyScale = 'csat' | 'nps';

/** Per-ticket facts: the columns the export adds to the `tickets` dataset. Durations in ms. */
export interface TicketFacts {
  readonly ticket_id: string;
  readonly status: string;
  readonly channel: string;
  readonly category: string | null;
  readonly assignee: string | null;
  /** The ticket's customer tier (null: none). */
  readonly tier: string | null;
  readonly created_at: number;
  readonly resolved_at: number | null;
  readonly first_response_ms: number | null;
  readonly first_response_business_ms: number | null;
  readonly resolution_ms: number | null;
  readonly resolution_business_ms: number | null;
  readonly handle_ms: number | null;
  readonly agent_replies: number;
  readonly customer_messages: number;
  readonly reopens: number;
  readonly reopened_within_7d: boolean;
  /** Resolved at least once (now resolved/closed, or reopened). */
  readonly ever_resolved: boolean;
  /** null unless the ticket is resolved/closed now. */
  readonly fcr: boolean | null;
  /** null when the ticket has no SLA block. */
  readonly sla_met: boolean | null;
  readonly backlog: boolean;
  readonly survey_scale: SurveyScale | null;
  readonly survey_score: number | null;
  /** Inbound phone calls an agent answered. */
  readonly calls_answered: number;
  /** Inbound phone calls nobody answered that want a call-back. */
  readonly calls_abandoned: number;
  /** Summed queue wait of the inbound calls that queued, ms, and how many they were. */
  readonly call_wait_ms: number;
  readonly calls_waited: number;
}

/** An inbound phone call's facts (direction, outcome, wait), when the entry is one. */
function inboundCall(e: KpiTimelineEntry): { outcome: string; wait_seconds: number | null } | null {
  if (e.type !== 'message' || e.channel !== 'voice' || e.direction !== 'in') return null;
  const c = e.extras?.call as { outcome?: unknown; wait_seconds?: unknown } | undefined;
  if (!c || typeof c.outcome !== 'string') return null;
  return { outcome: c.outcome, wait_seconds: typeof c.wait_seconds === 'number' ? c.wait_seconds : null };
}

/** An agent reply: an outbound message that is not automatic (acknowledgement, survey, reminder). */
export function isAgentReply(e: KpiTimelineEntry): boolean {
  return e.type === 'message' && e.direction === 'out' && (e.outbound_kind === undefined || e.outbound_kind === 'reply');
}

const isCustomerMessage = (e: KpiTimelineEntry) => e.type === 'message' && e.direction === 'in';

/** A status change to resolved, in the shapes the Agent API records it. */
export function isResolutionEvent(e: KpiTimelineEntry): boolean {
  if (e.type !== 'event') return false;
  if (e.event === 'ticket.resolved') return true;
  const to = e.data?.to ?? e.data?.status;
  return (e.event === 'ticket.status_changed' || e.event === 'ticket.updated') && to === 'resolved';
}

/** The survey's scale and score, when the ticket has an answered survey. */
export function surveyScore(survey: Readonly<Record<string, unknown>> | null): { scale: SurveyScale; score: number } | null {
  if (!survey) return null;
  const score = survey.score;
  if (typeof score !== 'number' || !Number.isFinite(score)) return null;
  const scale: SurveyScale = typeof survey.scale === 'string' && survey.scale.toLowerCase() === 'nps' ? 'nps' : 'csat';
  if (scale === 'csat' && (score < 1 || score > 5)) return null;
  if (scale === 'nps' && (score < 0 || score > 10)) return null;
  return { scale, score };
}

/** The business calendar a ticket's times are measured in: its SLA calendar, else its policy's, else 24x7. */
export function calendarResolver(settings: SlaSettings | undefined): (t: KpiTicket) => Calendar {
  if (!settings) return () => CALENDAR_24X7;
  const byId = new Map(settings.calendars.map((c) => [c.id, c]));
  return (t) => {
    const named = t.sla?.calendar ? byId.get(t.sla.calendar) : undefined;
    if (named) return named;
    const policy = settings.policies.find((p) => p.id === t.sla?.policy)
      ?? matchPolicy(settings.policies, { priority: t.priority as Priority, channel: t.channel, category: t.category, tier: t.tier ?? null, contract: t.contract ?? null });
    return byId.get(policy.calendar) ?? CALENDAR_24X7;
  };
}

/** The facts of one ticket from its record and timeline (any order; sorted here). */
export function ticketFacts(ticket: KpiTicket, timeline: readonly KpiTimelineEntry[], calendar: Calendar = CALENDAR_24X7): TicketFacts {
  const entries = [...timeline].sort((a, b) => a.at - b.at);
  // Agents' clocks start when the ticket opened: for one held by an offered article, when the customer asked for a person.
  const created = ticket.deflection?.answer === 'help' && typeof ticket.deflection.answered_at === 'number' ? ticket.deflection.answered_at : ticket.created_at;
  const done = DONE.has(ticket.status);

  let agentReplies = 0;
  let customerMessages = 0;
  let firstReplyAt: number | null = null;
  let waitingSince: number | null = null;
  let handle = 0;
  let reopens = 0;
  let reopenedWithin7d = false;
  let lastResolution: number | null = null;
  let callsAnswered = 0;
  let callsAbandoned = 0;
  let callWaitMs = 0;
  let callsWaited = 0;
  for (const e of entries) {
    const call = inboundCall(e);
    if (call) {
      if (call.outcome === 'answered') callsAnswered += 1;
      else if (call.outcome === 'abandoned' || call.outcome === 'missed') callsAbandoned += 1;
      if (call.wait_seconds !== null) { callWaitMs += call.wait_seconds * 1000; callsWaited += 1; }
    }
    if (isCustomerMessage(e)) {
      customerMessages += 1;
      waitingSince ??= Math.max(e.at, created);
    } else if (isAgentReply(e)) {
      agentReplies += 1;
      firstReplyAt ??= e.at;
      if (waitingSince !== null) { handle += Math.max(0, e.at - waitingSince); waitingSince = null; }
    } else if (isResolutionEvent(e)) {
      lastResolution = e.at;
    } else if (e.type === 'event' && e.event === 'ticket.reopened') {
      reopens += 1;
      // A reopen without a recorded resolution time: threading only reopens within the reopen window.
      if (lastResolution === null || e.at - lastResolution <= FCR_REOPEN_WINDOW_MS) reopenedWithin7d = true;
    }
  }

  const firstResponseAt = ticket.first_response_at ?? firstReplyAt;
  const firstResponseMs = firstResponseAt !== null ? Math.max(0, firstResponseAt - created) : null;
  const resolvedAt = done ? ticket.resolved_at : null;
  const resolutionMs = resolvedAt !== null && resolvedAt !== undefined ? Math.max(0, resolvedAt - created) : null;
  const survey = surveyScore(ticket.survey);
  const breached = ticket.sla ? (ticket.sla.breached ?? []) : null;
  return {
    ticket_id: ticket.id,
    status: ticket.status,
    channel: ticket.channel,
    category: ticket.category ?? null,
    assignee: ticket.assignee ?? null,
    tier: ticket.tier ?? null,
    created_at: ticket.created_at,
    resolved_at: ticket.resolved_at ?? null,
    first_response_ms: firstResponseMs,
    first_response_business_ms: firstResponseAt !== null ? businessTimeBetween(calendar, created, firstResponseAt) : null,
    resolution_ms: resolutionMs,
    resolution_business_ms: resolutionMs !== null ? businessTimeBetween(calendar, created, resolvedAt!) : null,
    handle_ms: done ? handle : null,
    agent_replies: agentReplies,
    customer_messages: customerMessages,
    reopens,
    reopened_within_7d: reopenedWithin7d,
    ever_resolved: done || reopens > 0,
    fcr: done ? agentReplies === 1 && !reopenedWithin7d : null,
    sla_met: breached === null ? null : breached.length === 0,
    backlog: ACTIVE.has(ticket.status),
    survey_scale: survey?.scale ?? null,
    survey_score: survey?.score ?? null,
    calls_answered: callsAnswered,
    calls_abandoned: callsAbandoned,
    call_wait_ms: callWaitMs,
    calls_waited: callsWaited,
  };
}

/**
 * One KPI set, flat so that the API, the SQL queries and the CLI share the column names
 * (`kpi-sql.ts` produces exactly these columns). Durations in ms, rates in [0, 1], NPS in [−100, 100].
 */
export interface KpiSet {
  volume: number;
  backlog: number;
  first_response_count: number;
  first_response_avg_ms: number | null;
  first_response_p50_ms: number | null;
  first_response_p90_ms: number | null;
  first_response_business_avg_ms: number | null;
  first_response_business_p50_ms: number | null;
  first_response_business_p90_ms: number | null;
  resolution_count: number;
  resolution_avg_ms: number | null;
  resolution_p50_ms: number | null;
  resolution_p90_ms: number | null;
  resolution_business_avg_ms: number | null;
  resolution_business_p50_ms: number | null;
  resolution_business_p90_ms: number | null;
  handle_time_count: number;
  handle_time_avg_ms: number | null;
  fcr_eligible: number;
  fcr_count: number;
  fcr_rate: number | null;
  reopen_eligible: number;
  reopen_count: number;
  reopen_rate: number | null;
  csat_responses: number;
  csat_avg: number | null;
  csat_satisfied_rate: number | null;
  nps_responses: number;
  nps_promoters: number;
  nps_detractors: number;
  nps_score: number | null;
  sla_eligible: number;
  sla_met: number;
  sla_attainment: number | null;
  calls_answered: number;
  calls_abandoned: number;
  call_wait_avg_ms: number | null;
}

export const KPI_FIELDS = [
  'volume', 'backlog',
  'first_response_count', 'first_response_avg_ms', 'first_response_p50_ms', 'first_response_p90_ms',
  'first_response_business_avg_ms', 'first_response_business_p50_ms', 'first_response_business_p90_ms',
  'resolution_count', 'resolution_avg_ms', 'resolution_p50_ms', 'resolution_p90_ms',
  'resolution_business_avg_ms', 'resolution_business_p50_ms', 'resolution_business_p90_ms',
  'handle_time_count', 'handle_time_avg_ms',
  'fcr_eligible', 'fcr_count', 'fcr_rate',
  'reopen_eligible', 'reopen_count', 'reopen_rate',
  'csat_responses', 'csat_avg', 'csat_satisfied_rate',
  'nps_responses', 'nps_promoters', 'nps_detractors', 'nps_score',
  'sla_eligible', 'sla_met', 'sla_attainment',
  'calls_answered', 'calls_abandoned', 'call_wait_avg_ms',
] as const satisfies ReadonlyArray<keyof KpiSet>;

/** Linear-interpolation percentile (DuckDB `quantile_cont`); null for an empty sample. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
const rate = (n: number, d: number) => (d > 0 ? n / d : null);
const sum = (v: readonly number[]) => v.reduce((a, b) => a + b, 0);
const present = <T>(v: T | null): v is T => v !== null;

/** The KPI set over a cohort of ticket facts (merged, held and deflected tickets are skipped). */
export function aggregate(all: readonly TicketFacts[]): KpiSet {
  const facts = all.filter((f) => !NOT_WORKED.has(f.status));
  const frt = facts.map((f) => f.first_response_ms).filter(present);
  const frtB = facts.map((f) => f.first_response_business_ms).filter(present);
  const res = facts.map((f) => f.resolution_ms).filter(present);
  const resB = facts.map((f) => f.resolution_business_ms).filter(present);
  const handle = facts.map((f) => f.handle_ms).filter(present);
  const fcr = facts.filter((f) => f.fcr !== null);
  const everResolved = facts.filter((f) => f.ever_resolved);
  const csat = facts.filter((f) => f.survey_scale === 'csat').map((f) => f.survey_score!);
  const nps = facts.filter((f) => f.survey_scale === 'nps').map((f) => f.survey_score!);
  const promoters = nps.filter((s) => s >= 9).length;
  const detractors = nps.filter((s) => s <= 6).length;
  const sla = facts.filter((f) => f.sla_met !== null);
  const slaMet = sla.filter((f) => f.sla_met).length;
  return {
    volume: facts.length,
    backlog: facts.filter((f) => f.backlog).length,
    first_response_count: frt.length,
    first_response_avg_ms: mean(frt),
    first_response_p50_ms: percentile(frt, 0.5),
    first_response_p90_ms: percentile(frt, 0.9),
    first_response_business_avg_ms: mean(frtB),
    first_response_business_p50_ms: percentile(frtB, 0.5),
    first_response_business_p90_ms: percentile(frtB, 0.9),
    resolution_count: res.length,
    resolution_avg_ms: mean(res),
    resolution_p50_ms: percentile(res, 0.5),
    resolution_p90_ms: percentile(res, 0.9),
    resolution_business_avg_ms: mean(resB),
    resolution_business_p50_ms: percentile(resB, 0.5),
    resolution_business_p90_ms: percentile(resB, 0.9),
    handle_time_count: handle.length,
    handle_time_avg_ms: mean(handle),
    fcr_eligible: fcr.length,
    fcr_count: fcr.filter((f) => f.fcr).length,
    fcr_rate: rate(fcr.filter((f) => f.fcr).length, fcr.length),
    reopen_eligible: everResolved.length,
    reopen_count: everResolved.filter((f) => f.reopens > 0).length,
    reopen_rate: rate(everResolved.filter((f) => f.reopens > 0).length, everResolved.length),
    csat_responses: csat.length,
    csat_avg: mean(csat),
    csat_satisfied_rate: rate(csat.filter((s) => s >= 4).length, csat.length),
    nps_responses: nps.length,
    nps_promoters: promoters,
    nps_detractors: detractors,
    nps_score: nps.length ? ((promoters - detractors) / nps.length) * 100 : null,
    sla_eligible: sla.length,
    sla_met: slaMet,
    sla_attainment: rate(slaMet, sla.length),
    calls_answered: sum(facts.map((f) => f.calls_answered ?? 0)),
    calls_abandoned: sum(facts.map((f) => f.calls_abandoned ?? 0)),
    call_wait_avg_ms: rate(sum(facts.map((f) => f.call_wait_ms ?? 0)), sum(facts.map((f) => f.calls_waited ?? 0))),
  };
}

export const GROUP_BY = ['channel', 'category', 'agent', 'tier'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** The ticket attribute a report groups by (agent = the assignee). */
export const groupKey = (f: TicketFacts, by: GroupBy): string | null => (by === 'agent' ? f.assignee : by === 'channel' ? f.channel : by === 'tier' ? f.tier : f.category);

export interface KpiReport {
  readonly from: number;
  readonly to: number;
  readonly group_by: GroupBy | null;
  /** Only tickets of this customer tier (null: every ticket). */
  readonly tier?: string | null;
  readonly overall: KpiSet;
  /** Ordered by key, the null key (no category / unassigned) last. */
  readonly groups: ReadonlyArray<{ readonly key: string | null } & KpiSet>;
}

/** Is a ticket in the cohort of `[from, to)`? */
export const inCohort = (createdAt: number, from: number, to: number) => createdAt >= from && createdAt < to;

/** The report over the facts of tickets opened in `[from, to)` (of one customer tier, when `tier` is given). */
export function kpiReport(facts: readonly TicketFacts[], opts: { from: number; to: number; groupBy?: GroupBy | null; tier?: string | null }): KpiReport {
  const tier = opts.tier ?? null;
  const cohort = facts.filter((f) => !NOT_WORKED.has(f.status) && inCohort(f.created_at, opts.from, opts.to) && (tier === null || f.tier === tier));
  const by = opts.groupBy ?? null;
  const groups: Array<{ key: string | null } & KpiSet> = [];
  if (by) {
    const buckets = new Map<string | null, TicketFacts[]>();
    for (const f of cohort) {
      const k = groupKey(f, by);
      buckets.set(k, [...(buckets.get(k) ?? []), f]);
    }
    const keys = [...buckets.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));
    for (const k of keys) groups.push({ key: k, ...aggregate(buckets.get(k)!) });
  }
  return { from: opts.from, to: opts.to, group_by: by, ...(tier !== null ? { tier } : {}), overall: aggregate(cohort), groups };
}
