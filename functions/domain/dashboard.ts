/**
 * The supervisors' dashboard (issue 15): per-day KPI series, backlog by age, load per agent,
 * recurring problems and channel hoppers. Pure: ticket rows with their timelines in, numbers out.
 *
 * Every number is a KPI of kpi.ts over a cohort of kpi.ts `ticketFacts` — never a second
 * definition: a day's KPIs are `aggregate()` over the tickets opened that day, the totals are
 * `kpiReport()` over the whole range, so the day series sum (volumes, counts) to exactly what
 * `GET /api/v1/kpis` answers for the same range and filters.
 *
 * Definitions added here (each is exactly what the code does):
 * - **Day** of a ticket: the calendar day of its `created_at` in the report's time zone (IANA).
 * - **Messages per day by channel**: customer (inbound) messages of the cohort's tickets, by the
 *   day and channel they arrived on (a message after `to` is not counted).
 * - **Backlog by age**: the cohort's backlog tickets (kpi.ts: still active) by `now − created_at`.
 * - **Load per agent**: per assignee, the cohort's backlog tickets (`active`) and its
 *   resolved/closed tickets (`resolved`); unassigned tickets under the null agent.
 * - **Recurring problems**: tickets opened in the last 7 days before `to` ("this week") against
 *   the 7 days before ("last week"): count per category, and per keyword of the first customer
 *   message (a word of ≥ 4 letters, lower-cased, not a stop word of en/ru/pl; a ticket counts a
 *   keyword once).
 * - **Channel hoppers**: active tickets whose customer messages arrived on two or more channels,
 *   oldest ticket first.
 */
import { aggregate, kpiReport, type KpiSet, type KpiTicket, type KpiTimelineEntry, type TicketFacts } from './kpi.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const WEEK_MS = 7 * DAY;

/** The ticket fields the dashboard reads beyond kpi.ts (team; `tier` from the tiers feature, absent = none). */
export interface DashboardTicket extends KpiTicket {
  readonly number?: string;
  readonly team?: string | null;
  readonly tier?: string | null;
}

export interface DashboardEntry extends KpiTimelineEntry {
  readonly channel?: string;
  readonly text?: string;
}

/** One ticket of a cohort: its record, its timeline and its kpi.ts facts. */
export interface CohortRow {
  readonly ticket: DashboardTicket;
  readonly timeline: readonly DashboardEntry[];
  readonly facts: TicketFacts;
}

/** Filters of the dashboard: `tier: 'none'` selects tickets without a tier. */
export interface DashboardFilter {
  readonly channel?: string;
  readonly team?: string;
  readonly tier?: string;
}

export const matchesFilter = (t: DashboardTicket, f: DashboardFilter): boolean =>
  (f.channel === undefined || t.channel === f.channel)
  && (f.team === undefined || (t.team ?? null) === f.team)
  && (f.tier === undefined || (f.tier === 'none' ? !t.tier : t.tier === f.tier));

/** `YYYY-MM-DD` of an instant in an IANA time zone. */
export function dayOf(ms: number, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/** Is `tz` an IANA time zone this runtime knows? */
export function isTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
}

/** Every day from the day of `from` to the day of `to − 1 ms`, in order. */
export function daysBetween(from: number, to: number, timeZone: string): string[] {
  const out: string[] = [];
  // Step by 6 h so that a 23-hour or 25-hour day (DST) is never skipped.
  for (let t = from; t < to; t += 6 * HOUR) {
    const d = dayOf(t, timeZone);
    if (out[out.length - 1] !== d) out.push(d);
  }
  const last = dayOf(to - 1, timeZone);
  if (to > from && out[out.length - 1] !== last) out.push(last);
  return out;
}

export const AGE_BUCKETS = ['lt_1h', '1h_4h', '4h_24h', '1d_3d', '3d_7d', 'gt_7d'] as const;
export type AgeBucket = (typeof AGE_BUCKETS)[number];
const AGE_LIMITS: ReadonlyArray<[AgeBucket, number]> = [['lt_1h', HOUR], ['1h_4h', 4 * HOUR], ['4h_24h', DAY], ['1d_3d', 3 * DAY], ['3d_7d', WEEK_MS]];
export const ageBucket = (ageMs: number): AgeBucket => AGE_LIMITS.find(([, limit]) => ageMs < limit)?.[0] ?? 'gt_7d';

export interface DailyPoint extends KpiSet {
  readonly day: string;
  /** New tickets of the day by channel (sums to `volume`). */
  readonly tickets_by_channel: Readonly<Record<string, number>>;
  /** Customer messages of the cohort's tickets that arrived that day, by channel. */
  readonly messages_by_channel: Readonly<Record<string, number>>;
}

export interface DailyReport {
  readonly from: number;
  readonly to: number;
  readonly time_zone: string;
  /** Channels that occur in the series, sorted. */
  readonly channels: readonly string[];
  readonly overall: KpiSet;
  readonly days: readonly DailyPoint[];
  readonly backlog_by_age: ReadonlyArray<{ readonly bucket: AgeBucket; readonly count: number }>;
  readonly load_by_agent: ReadonlyArray<{ readonly agent: string | null; readonly active: number; readonly resolved: number }>;
}

const isCustomerMessage = (e: DashboardEntry) => e.type === 'message' && e.direction === 'in';
const inc = (m: Record<string, number>, k: string, n = 1) => { m[k] = (m[k] ?? 0) + n; };

/** The dashboard's series over the tickets opened in `[from, to)` (rows outside are ignored). */
export function dailyReport(all: readonly CohortRow[], opts: { from: number; to: number; now: number; timeZone: string }): DailyReport {
  const { from, to, now, timeZone } = opts;
  const rows = all.filter((r) => !['merged', 'held', 'deflected'].includes(r.facts.status) && r.facts.created_at >= from && r.facts.created_at < to);
  const report = kpiReport(rows.map((r) => r.facts), { from, to });
  const dayKeys = daysBetween(from, to, timeZone);
  const byDay = new Map(dayKeys.map((d) => [d, { facts: [] as TicketFacts[], tickets: {} as Record<string, number>, messages: {} as Record<string, number> }]));
  const channels = new Set<string>();
  for (const r of rows) {
    const day = byDay.get(dayOf(r.facts.created_at, timeZone))!;
    day.facts.push(r.facts);
    inc(day.tickets, r.facts.channel);
    channels.add(r.facts.channel);
    for (const e of r.timeline) {
      if (!isCustomerMessage(e) || e.at < from || e.at >= to) continue;
      const channel = e.channel ?? r.facts.channel;
      inc(byDay.get(dayOf(e.at, timeZone))!.messages, channel);
      channels.add(channel);
    }
  }
  const ages = new Map<AgeBucket, number>(AGE_BUCKETS.map((b) => [b, 0]));
  const agents = new Map<string | null, { active: number; resolved: number }>();
  for (const r of rows) {
    const f = r.facts;
    if (f.backlog) ages.set(ageBucket(Math.max(0, now - f.created_at)), ages.get(ageBucket(Math.max(0, now - f.created_at)))! + 1);
    const done = f.status === 'resolved' || f.status === 'closed';
    if (!f.backlog && !done) continue;
    const a = agents.get(f.assignee) ?? { active: 0, resolved: 0 };
    if (f.backlog) a.active += 1; else a.resolved += 1;
    agents.set(f.assignee, a);
  }
  return {
    from, to, time_zone: timeZone,
    channels: [...channels].sort(),
    overall: report.overall,
    days: dayKeys.map((d) => {
      const b = byDay.get(d)!;
      return { day: d, ...aggregate(b.facts), tickets_by_channel: b.tickets, messages_by_channel: b.messages };
    }),
    backlog_by_age: AGE_BUCKETS.map((bucket) => ({ bucket, count: ages.get(bucket)! })),
    load_by_agent: [...agents.entries()]
      .map(([agent, v]) => ({ agent, ...v }))
      .sort((a, b) => b.active - a.active || b.resolved - a.resolved || (a.agent === null ? 1 : b.agent === null ? -1 : a.agent < b.agent ? -1 : 1)),
  };
}

// ---- recurring problems --------------------------------------------------------------------------

/** Words that say nothing about the problem (en, ru, pl), ≥ 4 letters (shorter words are skipped anyway). */
const STOP_WORDS = new Set([
  // en
  'about', 'after', 'again', 'also', 'been', 'before', 'being', 'could', 'does', 'doing', 'dont', 'from', 'have', 'having', 'hello', 'here', 'into',
  'just', 'know', 'like', 'more', 'much', 'need', 'only', 'other', 'please', 'some', 'still', 'than', 'thank', 'thanks', 'that', 'their', 'them',
  'then', 'there', 'these', 'they', 'this', 'today', 'very', 'want', 'were', 'what', 'when', 'where', 'which', 'while', 'will', 'with', 'would',
  'your', 'yours', 'good', 'morning', 'evening', 'regards', 'help', 'can\'t', 'cannot', 'since', 'should', 'there\'s', 'it\'s', 'i\'m', 'yesterday',
  // ru
  'здравствуйте', 'добрый', 'день', 'вечер', 'спасибо', 'пожалуйста', 'меня', 'мной', 'мне', 'тоже', 'этот', 'этого', 'этом', 'этой', 'было',
  'была', 'были', 'будет', 'когда', 'где', 'почему', 'очень', 'можно', 'нужно', 'надо', 'есть', 'нету', 'если', 'чтобы', 'только', 'уже', 'ещё',
  'еще', 'вчера', 'сегодня', 'там', 'тут', 'какой', 'какая', 'какие', 'который', 'которая', 'помогите', 'подскажите', 'вопрос',
  // pl
  'dzień', 'dobry', 'witam', 'dziękuję', 'dzieki', 'dzięki', 'proszę', 'prosze', 'mnie', 'jest', 'było', 'była', 'były', 'będzie', 'kiedy',
  'gdzie', 'dlaczego', 'bardzo', 'można', 'trzeba', 'jeśli', 'tylko', 'jeszcze', 'wczoraj', 'dzisiaj', 'który', 'która', 'które', 'pomocy',
  'mój', 'moje', 'moja', 'mojego', 'mojej', 'jak', 'tego', 'tym', 'przez', 'oraz', 'może', 'pytanie',
]);

/** The distinct keywords of a text (see the module comment). */
export function keywordsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.toLowerCase().matchAll(/\p{L}[\p{L}'’]*/gu)) {
    const w = m[0].replace(/[’]/g, '\'');
    if ([...w].length >= 4 && !STOP_WORDS.has(w)) out.add(w);
  }
  return out;
}

export interface RecurringRow { readonly key: string | null; readonly this_week: number; readonly last_week: number }
export interface RecurringReport {
  readonly this_week: { readonly from: number; readonly to: number; readonly tickets: number };
  readonly last_week: { readonly from: number; readonly to: number; readonly tickets: number };
  /** By tickets this week, then last week, then key; the null category (not classified) included. */
  readonly categories: readonly RecurringRow[];
  readonly keywords: readonly RecurringRow[];
}

/** Top categories and keywords of the tickets opened in the week before `to` against the week before that. */
export function recurringProblems(all: readonly CohortRow[], opts: { to: number; limit: number }): RecurringReport {
  const thisFrom = opts.to - WEEK_MS;
  const lastFrom = thisFrom - WEEK_MS;
  const cats = new Map<string | null, { this_week: number; last_week: number }>();
  const words = new Map<string, { this_week: number; last_week: number }>();
  let thisN = 0;
  let lastN = 0;
  for (const r of all) {
    const f = r.facts;
    if (f.status === 'merged' || f.created_at < lastFrom || f.created_at >= opts.to) continue;
    const week = f.created_at >= thisFrom ? 'this_week' : 'last_week';
    if (week === 'this_week') thisN += 1; else lastN += 1;
    const c = cats.get(f.category) ?? { this_week: 0, last_week: 0 };
    c[week] += 1;
    cats.set(f.category, c);
    const first = [...r.timeline].filter(isCustomerMessage).sort((a, b) => a.at - b.at)[0];
    for (const w of keywordsOf(first?.text ?? '')) {
      const k = words.get(w) ?? { this_week: 0, last_week: 0 };
      k[week] += 1;
      words.set(w, k);
    }
  }
  const top = <K extends string | null>(m: Map<K, { this_week: number; last_week: number }>) => [...m.entries()]
    .map(([key, v]) => ({ key, ...v }))
    .sort((a, b) => b.this_week - a.this_week || b.last_week - a.last_week || String(a.key ?? '\uffff').localeCompare(String(b.key ?? '\uffff')))
    .slice(0, opts.limit);
  return {
    this_week: { from: thisFrom, to: opts.to, tickets: thisN },
    last_week: { from: lastFrom, to: thisFrom, tickets: lastN },
    categories: top(cats),
    // A keyword of a single ticket is not a recurring problem.
    keywords: top(words).filter((k) => k.this_week + k.last_week >= 2),
  };
}

// ---- channel hoppers -----------------------------------------------------------------------------

export interface ChannelHopper {
  readonly ticket_id: string;
  readonly number: string | null;
  readonly customer_id: string;
  readonly status: string;
  readonly created_at: number;
  /** Channels of the customer's messages on this ticket, in the order first used. */
  readonly channels: readonly string[];
  readonly customer_messages: number;
  readonly last_customer_message_at: number;
}

/** Active tickets whose customer wrote on two or more channels, oldest ticket first. */
export function channelHoppers(all: readonly CohortRow[]): ChannelHopper[] {
  const out: ChannelHopper[] = [];
  for (const r of all) {
    if (!r.facts.backlog) continue;
    const msgs = [...r.timeline].filter(isCustomerMessage).sort((a, b) => a.at - b.at);
    const channels = [...new Set(msgs.map((m) => m.channel ?? r.ticket.channel))];
    if (channels.length < 2) continue;
    out.push({
      ticket_id: r.ticket.id, number: r.ticket.number ?? null, customer_id: r.ticket.customer_id, status: r.ticket.status,
      created_at: r.ticket.created_at, channels, customer_messages: msgs.length, last_customer_message_at: msgs[msgs.length - 1]!.at,
    });
  }
  return out.sort((a, b) => a.created_at - b.created_at || (a.ticket_id < b.ticket_id ? -1 : 1));
}
