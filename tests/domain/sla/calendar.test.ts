/**
 * Business-time arithmetic (functions/domain/sla/calendar.ts): examples with named dates, DST in
 * Europe/Warsaw and America/New_York, holidays, several intervals a day, validation messages, and
 * fast-check properties over random calendars.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessTime, businessTimeBetween, CALENDAR_24X7, isWorkingTime, nextOpening, parseCalendar, WEEKDAYS, zonedTimeToUtc,
  type Calendar,
} from '../../../functions/domain/sla/calendar.js';

const H = 3_600_000;
const M = 60_000;
const utc = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const weekdays = (hours: string[]) => ({ mon: hours, tue: hours, wed: hours, thu: hours, fri: hours });
const office = (time_zone: string, extra: Partial<{ holidays: string[] }> = {}): Calendar =>
  parseCalendar({ id: 'office', time_zone, week: weekdays(['09:00-18:00']), ...extra });

describe('addBusinessTime', () => {
  it('carries Friday 17:55 + 1 h in a Mon–Fri 09–18 calendar over the weekend to Monday 09:55', () => {
    const cal = office('UTC');
    expect(iso(addBusinessTime(cal, utc('2026-06-05T17:55:00Z'), H))).toBe('2026-06-08T09:55:00.000Z');
  });

  it('does the same in local time in Europe/Warsaw, across the spring-forward weekend', () => {
    // Friday 2026-03-27 17:55 CET (+01:00); DST starts Sunday 03-29; Monday 09:55 is CEST (+02:00).
    const cal = office('Europe/Warsaw');
    expect(iso(addBusinessTime(cal, utc('2026-03-27T16:55:00Z'), H))).toBe('2026-03-30T07:55:00.000Z');
  });

  it('starts a duration that begins outside working hours at the next opening', () => {
    const cal = office('UTC');
    expect(iso(addBusinessTime(cal, utc('2026-06-06T12:00:00Z'), 30 * M))).toBe('2026-06-08T09:30:00.000Z'); // Saturday
    expect(iso(addBusinessTime(cal, utc('2026-06-08T07:00:00Z'), 30 * M))).toBe('2026-06-08T09:30:00.000Z'); // before opening
  });

  it('keeps a deadline that lands on closing time on that day', () => {
    const cal = office('UTC');
    expect(iso(addBusinessTime(cal, utc('2026-06-05T17:00:00Z'), H))).toBe('2026-06-05T18:00:00.000Z');
  });

  it('skips the lunch break of a day with two intervals', () => {
    const cal = parseCalendar({ id: 'split', time_zone: 'UTC', week: weekdays(['09:00-12:00', '13:00-17:00']) });
    expect(iso(addBusinessTime(cal, utc('2026-06-08T11:30:00Z'), H))).toBe('2026-06-08T13:30:00.000Z');
    expect(iso(addBusinessTime(cal, utc('2026-06-08T16:30:00Z'), H))).toBe('2026-06-09T09:30:00.000Z');
  });

  it('skips holidays (local dates)', () => {
    const cal = office('UTC', { holidays: ['2026-06-08', '2026-06-09'] });
    expect(iso(addBusinessTime(cal, utc('2026-06-05T17:55:00Z'), H))).toBe('2026-06-10T09:55:00.000Z');
  });

  it('adds plain time on the 24x7 calendar', () => {
    expect(addBusinessTime(CALENDAR_24X7, 1_000, 5 * H)).toBe(1_000 + 5 * H);
  });

  it('refuses a negative duration', () => {
    expect(() => addBusinessTime(CALENDAR_24X7, 0, -1)).toThrow('business duration must be a non-negative number of ms');
  });
});

describe('daylight saving time', () => {
  const sundays = (time_zone: string, hours: string[]) => parseCalendar({ id: 'sun', time_zone, week: { sun: hours } });

  it('Europe/Warsaw: a whole Sunday lasts 23 h when clocks go forward and 25 h when they go back', () => {
    const cal = sundays('Europe/Warsaw', ['00:00-24:00']);
    expect(businessTimeBetween(cal, utc('2026-03-28T00:00:00Z'), utc('2026-03-30T00:00:00Z'))).toBe(23 * H);
    expect(businessTimeBetween(cal, utc('2026-10-24T00:00:00Z'), utc('2026-10-26T00:00:00Z'))).toBe(25 * H);
  });

  it('Europe/Warsaw: hours in the spring gap do not exist, hours in the autumn overlap count twice', () => {
    const cal = sundays('Europe/Warsaw', ['01:00-04:00']);
    expect(businessTimeBetween(cal, utc('2026-03-28T00:00:00Z'), utc('2026-03-30T00:00:00Z'))).toBe(2 * H);
    expect(businessTimeBetween(cal, utc('2026-10-24T00:00:00Z'), utc('2026-10-26T00:00:00Z'))).toBe(4 * H);
  });

  it('America/New_York: 09–17 on the DST Sundays is 8 business hours at the right instants', () => {
    const cal = sundays('America/New_York', ['09:00-17:00']);
    // 2026-03-08: EST → EDT at 02:00; 09:00 EDT = 13:00Z.  2026-11-01: EDT → EST; 09:00 EST = 14:00Z.
    expect(iso(nextOpening(cal, utc('2026-03-08T05:00:00Z')))).toBe('2026-03-08T13:00:00.000Z');
    expect(iso(nextOpening(cal, utc('2026-11-01T05:00:00Z')))).toBe('2026-11-01T14:00:00.000Z');
    expect(businessTimeBetween(cal, utc('2026-03-07T00:00:00Z'), utc('2026-03-09T12:00:00Z'))).toBe(8 * H);
    expect(businessTimeBetween(cal, utc('2026-10-31T00:00:00Z'), utc('2026-11-02T12:00:00Z'))).toBe(8 * H);
  });

  it('America/New_York: a wall time in the gap maps after it, one in the overlap to the earlier instant', () => {
    expect(iso(zonedTimeToUtc('America/New_York', 2026, 3, 8, 2 * 60 + 30))).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(iso(zonedTimeToUtc('America/New_York', 2026, 11, 1, 60 + 30))).toBe('2026-11-01T05:30:00.000Z'); // first 01:30 (EDT)
  });
});

describe('nextOpening and isWorkingTime', () => {
  const cal = office('UTC', { holidays: ['2026-06-10'] });

  it('is the instant itself inside working hours', () => {
    expect(nextOpening(cal, utc('2026-06-08T10:00:00Z'))).toBe(utc('2026-06-08T10:00:00Z'));
    expect(isWorkingTime(cal, utc('2026-06-08T10:00:00Z'))).toBe(true);
  });

  it('is the next opening after closing, over weekends and holidays', () => {
    expect(iso(nextOpening(cal, utc('2026-06-08T18:00:00Z')))).toBe('2026-06-09T09:00:00.000Z');
    expect(iso(nextOpening(cal, utc('2026-06-09T18:30:00Z')))).toBe('2026-06-11T09:00:00.000Z');
    expect(iso(nextOpening(cal, utc('2026-06-13T08:00:00Z')))).toBe('2026-06-15T09:00:00.000Z');
    expect(isWorkingTime(cal, utc('2026-06-08T18:00:00Z'))).toBe(false);
  });

  it('measures no business time outside working hours', () => {
    expect(businessTimeBetween(cal, utc('2026-06-05T18:00:00Z'), utc('2026-06-08T09:00:00Z'))).toBe(0);
    expect(businessTimeBetween(cal, utc('2026-06-08T10:00:00Z'), utc('2026-06-08T09:00:00Z'))).toBe(0);
  });
});

describe('calendar validation', () => {
  const problems = (input: unknown) => { try { parseCalendar(input); return ''; } catch (e) { return (e as Error).message; } };

  it('names a malformed interval and shows it', () => {
    expect(problems({ id: 'x', time_zone: 'UTC', week: { mon: ['9-5'] } })).toContain("sla business hours must be HH:MM-HH:MM, got '9-5'");
  });

  it('refuses intervals that end before they start or overlap', () => {
    expect(problems({ id: 'x', time_zone: 'UTC', week: { mon: ['18:00-09:00'] } })).toContain("must end after they start, got '18:00-09:00'");
    expect(problems({ id: 'x', time_zone: 'UTC', week: { mon: ['09:00-12:00', '11:00-13:00'] } })).toContain("overlap on mon: '09:00-12:00' and '11:00-13:00'");
  });

  it('refuses unknown time zones, impossible holidays and a week without hours', () => {
    expect(problems({ id: 'x', time_zone: 'Mars/Olympus', week: { mon: ['09:00-17:00'] } })).toContain("IANA time zone such as 'Europe/Warsaw', got 'Mars/Olympus'");
    expect(problems({ id: 'x', time_zone: 'UTC', week: { mon: ['09:00-17:00'] }, holidays: ['2026-02-30'] })).toContain("holidays must be dates YYYY-MM-DD, got '2026-02-30'");
    expect(problems({ id: 'x', time_zone: 'UTC', week: {} })).toContain('needs working hours on at least one weekday');
  });

  it('accepts 24:00 as an end and fills missing days as closed', () => {
    const cal = parseCalendar({ id: 'late', time_zone: 'UTC', week: { sat: ['20:00-24:00'] } });
    expect(cal.week.mon).toEqual([]);
    expect(businessTimeBetween(cal, utc('2026-06-06T00:00:00Z'), utc('2026-06-07T00:00:00Z'))).toBe(4 * H);
  });
});

describe('properties over random calendars', () => {
  const ZONES = ['UTC', 'Europe/Warsaw', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/Santiago'];
  const intervalsArb = fc.uniqueArray(fc.integer({ min: 0, max: 48 }), { minLength: 0, maxLength: 6 }).map((cuts) => {
    const sorted = [...cuts].sort((a, b) => a - b);
    const out: string[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      const hhmm = (half: number) => `${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 ? '30' : '00'}`;
      out.push(`${hhmm(sorted[i]!)}-${hhmm(sorted[i + 1]!)}`); // 48 half-hours = '24:00'
    }
    return out;
  });
  const calendarArb = fc.record({
    time_zone: fc.constantFrom(...ZONES),
    week: fc.tuple(...WEEKDAYS.map(() => intervalsArb)).map((days) => Object.fromEntries(WEEKDAYS.map((d, i) => [d, days[i]!]))),
    holidays: fc.array(fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), { maxLength: 20 }),
  }).filter((c) => Object.values(c.week).some((d) => d.length > 0)).map((c) => parseCalendar({ id: 'p', ...c }));
  const startArb = fc.integer({ min: utc('2026-01-01T00:00:00Z'), max: utc('2026-12-31T00:00:00Z') });
  const durationArb = fc.integer({ min: 1, max: 120 * H });

  it('measuring what was added gives the same duration back', () => {
    fc.assert(fc.property(calendarArb, startArb, durationArb, (cal, start, d) => {
      expect(businessTimeBetween(cal, start, addBusinessTime(cal, start, d))).toBe(d);
    }), { numRuns: 150 });
  });

  it('a deadline is always inside working hours (its last millisecond is working time)', () => {
    fc.assert(fc.property(calendarArb, startArb, durationArb, (cal, start, d) => {
      const due = addBusinessTime(cal, start, d);
      expect(due).toBeGreaterThan(start);
      expect(isWorkingTime(cal, due - 1)).toBe(true);
    }), { numRuns: 150 });
  });

  it('adding in two parts equals adding at once; the next opening is working time with nothing before it', () => {
    fc.assert(fc.property(calendarArb, startArb, durationArb, durationArb, (cal, start, a, b) => {
      expect(addBusinessTime(cal, addBusinessTime(cal, start, a), b)).toBe(addBusinessTime(cal, start, a + b));
      const open = nextOpening(cal, start);
      expect(isWorkingTime(cal, open)).toBe(true);
      expect(businessTimeBetween(cal, start, open)).toBe(0);
    }), { numRuns: 100 });
  });
});
