/**
 * Business calendars and business-time arithmetic (DESIGN.md §2 SLA and OLA). Pure: no I/O, no
 * clock — every function takes instants (epoch ms) and returns instants or durations.
 *
 * A calendar is a time zone (IANA), the working hours of each weekday as one or more
 * `HH:MM-HH:MM` intervals in local wall-clock time, and holidays (local dates, closed all day).
 * Working hours are turned into UTC intervals day by day with `Intl.DateTimeFormat`, so daylight
 * saving time is handled by the platform's tz database, no extra dependency:
 * - a local time that does not exist (spring forward gap) maps to the instant after the gap, and a
 *   local time that exists twice (fall back) maps to the earlier instant — the "compatible"
 *   disambiguation of Temporal (https://tc39.es/proposal-temporal/docs/timezone.html#ambiguity);
 * - so an interval 00:00-24:00 lasts 23 h on a spring-forward day and 25 h on a fall-back day.
 *
 * Intervals are half-open `[start, end)`. `addBusinessTime` returns the earliest instant at which
 * the requested business duration has elapsed: for a positive duration that is inside a working
 * interval or exactly at its end (a deadline "at 18:00" on Friday stays Friday 18:00).
 */
import { z } from 'zod';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far ahead the arithmetic looks for working time before giving up (a calendar of holidays only). */
const MAX_SCAN_DAYS = 3_700;

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** `'09:00-18:00'` → `[540, 1080]` (minutes after local midnight); `24:00` allowed as an end. */
export function parseInterval(text: string): readonly [number, number] | null {
  const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(text);
  if (!m || !HHMM.test(m[1]!) || !(HHMM.test(m[2]!) || m[2] === '24:00')) return null;
  return [minutesOf(m[1]!), m[2] === '24:00' ? 1440 : minutesOf(m[2]!)];
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const IntervalText = z.string().superRefine((s, ctx) => {
  const iv = parseInterval(s);
  if (!iv) ctx.addIssue({ code: 'custom', message: `sla business hours must be HH:MM-HH:MM, got '${s}'` });
  else if (iv[0] >= iv[1]) ctx.addIssue({ code: 'custom', message: `sla business hours must end after they start, got '${s}' (use two intervals to span midnight)` });
});

const HolidayText = z.string().superRefine((s, ctx) => {
  if (!DATE.test(s) || new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s) {
    ctx.addIssue({ code: 'custom', message: `sla holidays must be dates YYYY-MM-DD, got '${s}'` });
  }
});

export const CalendarSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'sla calendar id must be 1-64 letters, digits, _ . - (e.g. \'office-berlin\')'),
  name: z.string().max(200).optional(),
  time_zone: z.string().superRefine((tz, ctx) => {
    if (!isTimeZone(tz)) ctx.addIssue({ code: 'custom', message: `sla calendar time_zone must be an IANA time zone such as 'Europe/Warsaw', got '${tz}'` });
  }),
  week: z.strictObject(Object.fromEntries(WEEKDAYS.map((d) => [d, z.array(IntervalText).max(12).default([])])) as Record<Weekday, z.ZodDefault<z.ZodArray<typeof IntervalText>>>),
  holidays: z.array(HolidayText).max(2_000).default([]),
}).superRefine((c, ctx) => {
  let any = false;
  for (const d of WEEKDAYS) {
    const ivs = c.week[d].map((s) => [s, parseInterval(s)] as const).filter((x): x is readonly [string, readonly [number, number]] => x[1] !== null && x[1][0] < x[1][1]);
    any ||= ivs.length > 0;
    const sorted = [...ivs].sort((a, b) => a[1][0] - b[1][0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1][0] < sorted[i - 1]![1][1]) {
        ctx.addIssue({ code: 'custom', path: ['week', d], message: `sla business hours overlap on ${d}: '${sorted[i - 1]![0]}' and '${sorted[i]![0]}'` });
      }
    }
  }
  if (!any) ctx.addIssue({ code: 'custom', path: ['week'], message: 'sla calendar needs working hours on at least one weekday' });
});

/** A validated calendar (use `parseCalendar` or `CalendarSchema` to build one from input). */
export type Calendar = z.output<typeof CalendarSchema>;
export type CalendarInput = z.input<typeof CalendarSchema>;

const ALL_DAY = ['00:00-24:00'];
/** The default calendar of a fresh install: always open, UTC (DESIGN.md §2). */
export const CALENDAR_24X7: Calendar = Object.freeze({
  id: '24x7', name: 'Always open (UTC)', time_zone: 'UTC',
  week: { sun: ALL_DAY, mon: ALL_DAY, tue: ALL_DAY, wed: ALL_DAY, thu: ALL_DAY, fri: ALL_DAY, sat: ALL_DAY },
  holidays: [],
}) as Calendar;

export class CalendarError extends Error {
  override readonly name = 'CalendarError';
}

/** Validate a calendar; the error message lists what is wrong, the `cause` the paths. */
export function parseCalendar(input: unknown): Calendar {
  const r = CalendarSchema.safeParse(input);
  if (!r.success) {
    throw new CalendarError(r.error.issues.map((i) => i.message).join('; '), { cause: { paths: r.error.issues.map((i) => i.path.join('.')) } });
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Time zone plumbing

interface Zone {
  readonly fmt: Intl.DateTimeFormat;
  /** offset (ms, local − UTC) by UTC hour: offsets change at most on whole-minute boundaries, so cache per exact minute. */
  readonly offsets: Map<number, number>;
}
const zones = new Map<string, Zone>();

function zone(tz: string): Zone {
  let z = zones.get(tz);
  if (!z) {
    z = {
      fmt: new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }),
      offsets: new Map(),
    };
    zones.set(tz, z);
  }
  return z;
}

interface Wall { readonly y: number; readonly m: number; readonly d: number; readonly minutes: number }

function wallOf(tz: string, t: number): Wall & { readonly s: number } {
  const parts = zone(tz).fmt.formatToParts(t);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { y: get('year'), m: get('month'), d: get('day'), minutes: get('hour') * 60 + get('minute'), s: get('second') };
}

/** Local − UTC in ms at instant `t`. */
function offsetAt(tz: string, t: number): number {
  const z = zone(tz);
  const key = Math.floor(t / MINUTE);
  let off = z.offsets.get(key);
  if (off === undefined) {
    const w = wallOf(tz, key * MINUTE);
    off = Date.UTC(w.y, w.m - 1, w.d, 0, w.minutes, w.s) - key * MINUTE;
    if (z.offsets.size > 50_000) z.offsets.clear();
    z.offsets.set(key, off);
  }
  return off;
}

/**
 * The instant of a local wall-clock time (minutes may be 1440 = next midnight). Around a DST
 * change the two offsets on either side are tried: both valid → the earlier instant (overlap);
 * neither → the wall time is in a gap and is shifted forward by the gap (Temporal "compatible").
 */
export function zonedTimeToUtc(tz: string, y: number, m: number, d: number, minutes: number): number {
  const asUtc = Date.UTC(y, m - 1, d, 0, minutes);
  const before = offsetAt(tz, asUtc - DAY / 2);
  const after = offsetAt(tz, asUtc + DAY / 2);
  const c1 = asUtc - before;
  if (before === after) return c1;
  const c2 = asUtc - after;
  const ok1 = offsetAt(tz, c1) === before;
  const ok2 = offsetAt(tz, c2) === after;
  if (ok1 && ok2) return Math.min(c1, c2);
  if (ok1) return c1;
  if (ok2) return c2;
  return c1; // in the gap: before-offset reading lands after the gap
}

/** The local calendar date containing instant `t`. */
export function localDate(tz: string, t: number): { y: number; m: number; d: number } {
  const w = wallOf(tz, t);
  return { y: w.y, m: w.m, d: w.d };
}

const pad = (n: number) => String(n).padStart(2, '0');

// ---------------------------------------------------------------------------------------------
// Working intervals

type Span = readonly [number, number];

/** Parsed working hours per weekday, sorted (memoised per calendar object). */
const parsedWeeks = new WeakMap<Calendar, { week: ReadonlyArray<ReadonlyArray<Span>>; holidays: ReadonlySet<string>; always: boolean }>();

function prepared(cal: Calendar) {
  let p = parsedWeeks.get(cal);
  if (!p) {
    const week = WEEKDAYS.map((d) => (cal.week[d] ?? []).map((s) => parseInterval(s)).filter((x): x is Span => x !== null && x[0] < x[1]).sort((a, b) => a[0] - b[0]));
    const always = week.every((ivs) => ivs.length === 1 && ivs[0]![0] === 0 && ivs[0]![1] === 1440) && (cal.holidays ?? []).length === 0;
    p = { week, holidays: new Set(cal.holidays ?? []), always };
    parsedWeeks.set(cal, p);
  }
  return p;
}

/** The working intervals (UTC ms) of one local date, in order. */
function dayIntervals(cal: Calendar, y: number, m: number, d: number): Span[] {
  const p = prepared(cal);
  if (p.holidays.has(`${y}-${pad(m)}-${pad(d)}`)) return [];
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const out: Span[] = [];
  for (const [a, b] of p.week[weekday]!) {
    const s = zonedTimeToUtc(cal.time_zone, y, m, d, a);
    const e = zonedTimeToUtc(cal.time_zone, y, m, d, b);
    if (e > s) out.push([s, e]);
  }
  return out;
}

/**
 * Working intervals from the local date that contains `fromMs` on, merged where they touch
 * (Friday 00:00-24:00 and Saturday 00:00-24:00 are one stretch).
 */
function* intervals(cal: Calendar, fromMs: number): Generator<Span> {
  const start = localDate(cal.time_zone, fromMs);
  let pending: [number, number] | null = null;
  for (let i = 0; i <= MAX_SCAN_DAYS; i++) {
    const day = new Date(Date.UTC(start.y, start.m - 1, start.d + i));
    for (const [s, e] of dayIntervals(cal, day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate())) {
      if (pending && s <= pending[1]) { pending[1] = Math.max(pending[1], e); continue; }
      if (pending) yield pending;
      pending = [s, e];
    }
  }
  if (pending) yield pending;
  throw new CalendarError(`sla calendar '${cal.id}' has no working time within ${MAX_SCAN_DAYS} days`, { cause: { calendar: cal.id, from: fromMs } });
}

/** Is `t` inside working hours (half-open intervals)? */
export function isWorkingTime(cal: Calendar, t: number): boolean {
  if (prepared(cal).always) return true;
  for (const [s, e] of intervals(cal, t - DAY)) {
    if (s > t) return false;
    if (t < e) return true;
  }
  return false;
}

/** `t` itself when inside working hours, otherwise the start of the next working interval. */
export function nextOpening(cal: Calendar, t: number): number {
  if (prepared(cal).always) return t;
  for (const [s, e] of intervals(cal, t - DAY)) {
    if (t < e) return Math.max(s, t);
  }
  /* c8 ignore next */
  throw new CalendarError('unreachable');
}

/**
 * The earliest instant at which `durationMs` of business time has elapsed since `startMs`.
 * Example: Friday 17:55 in a Mon–Fri 09–18 calendar + 1 h → Monday 09:55.
 */
export function addBusinessTime(cal: Calendar, startMs: number, durationMs: number): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new CalendarError('business duration must be a non-negative number of ms', { cause: { duration: durationMs } });
  if (prepared(cal).always || durationMs === 0) return startMs + durationMs;
  let left = durationMs;
  for (const [s, e] of intervals(cal, startMs - DAY)) {
    if (e <= startMs) continue;
    const from = Math.max(s, startMs);
    if (e - from >= left) return from + left;
    left -= e - from;
  }
  /* c8 ignore next */
  throw new CalendarError('unreachable');
}

/** Business time (ms) between `a` and `b`; 0 when `b` ≤ `a`. */
export function businessTimeBetween(cal: Calendar, a: number, b: number): number {
  if (b <= a) return 0;
  if (prepared(cal).always) return b - a;
  let total = 0;
  for (const [s, e] of intervals(cal, a - DAY)) {
    if (s >= b) break;
    if (e <= a) continue;
    total += Math.min(e, b) - Math.max(s, a);
  }
  return total;
}
