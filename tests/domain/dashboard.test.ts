import { describe, expect, it } from 'vitest';
import { ageBucket, daysBetween, keywordsOf, matchesFilter } from '../../functions/domain/dashboard.js';
import { demoPlan } from '../../local/demo.js';

const H = 3_600_000;

describe('dashboard domain', () => {
  it('lists every calendar day of a range, across a DST change too', () => {
    // Europe/Warsaw springs forward on 2026-03-29 (a 23-hour day).
    const from = Date.parse('2026-03-27T23:00:00Z');
    const to = Date.parse('2026-03-30T22:00:00Z');
    expect(daysBetween(from, to, 'Europe/Warsaw')).toEqual(['2026-03-28', '2026-03-29', '2026-03-30']);
    expect(daysBetween(Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-03-02T00:00:00Z'), 'UTC')).toEqual(['2026-03-01']);
  });

  it('puts ages into buckets with the upper bound exclusive', () => {
    expect([0, H - 1, H, 4 * H, 24 * H, 72 * H, 168 * H].map(ageBucket)).toEqual(['lt_1h', 'lt_1h', '1h_4h', '4h_24h', '1d_3d', '3d_7d', 'gt_7d']);
  });

  it('takes words of four letters or more, without stop words, in any script', () => {
    expect([...keywordsOf('Hello, where is my REFUND for order 4471? Refund please!')]).toEqual(['refund', 'order']);
    expect([...keywordsOf('Здравствуйте! Посылка не пришла, посылка')]).toEqual(['посылка', 'пришла']);
    expect([...keywordsOf('Dzień dobry, paczka nie dotarła')]).toEqual(['paczka', 'dotarła']);
  });

  it('filters on tier, with none for tickets without one', () => {
    const t = { channel: 'telegram', team: 'billing' } as Parameters<typeof matchesFilter>[0];
    expect(matchesFilter(t, { tier: 'none' })).toBe(true);
    expect(matchesFilter({ ...t, tier: 'vip' }, { tier: 'none' })).toBe(false);
    expect(matchesFilter({ ...t, tier: 'vip' }, { tier: 'vip', team: 'billing', channel: 'telegram' })).toBe(true);
    expect(matchesFilter(t, { team: 'logistics' })).toBe(false);
  });
});

describe('demo plan', () => {
  it('is the same month for the same seed and another for another seed', () => {
    const a = demoPlan({ days: 30, ticketsPerDay: 5, seed: 15, startMs: Date.parse('2026-12-01T00:00:00Z') });
    expect(demoPlan({ days: 30, ticketsPerDay: 5, seed: 15, startMs: Date.parse('2026-12-01T00:00:00Z') })).toEqual(a);
    expect(demoPlan({ days: 30, ticketsPerDay: 5, seed: 16, startMs: Date.parse('2026-12-01T00:00:00Z') })).not.toEqual(a);
    expect(a.tickets.length).toBeGreaterThan(100);
    expect(a.tickets.length).toBeLessThan(200);
    expect(new Set(a.tickets.map((t) => t.channel))).toEqual(new Set(['telegram', 'whatsapp', 'twilio', 'vk']));
    // Steps in time order, within the month; some customers switch channel (WhatsApp → SMS).
    expect(a.steps.every((s, i) => i === 0 || s.at >= a.steps[i - 1]!.at)).toBe(true);
    expect(a.steps.every((s) => s.at >= 0 && s.at < 30 * 24 * H)).toBe(true);
    expect(a.steps.some((s) => s.kind === 'inbound' && s.channel === 'twilio' && a.tickets[s.ticket]!.channel === 'whatsapp')).toBe(true);
    expect(a.steps.filter((s) => s.kind === 'survey').length).toBeGreaterThan(20);
  });
});
