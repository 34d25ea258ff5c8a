import { describe, expect, it } from 'vitest';
import { aggregate, calendarResolver, kpiReport, percentile, surveyScore, ticketFacts, type TicketFacts } from '../../functions/domain/kpi.js';
import { kpiSql, NAMED_KPIS } from '../../functions/domain/kpi-sql.js';
import { parseSlaSettings } from '../../functions/domain/sla/policy.js';
import { EXPECTED_OVERALL, expectSameKpis, FROM, OFFICE_SETTINGS, TO, scenario } from '../helpers/kpi-fixture.js';

const MIN = 60_000;
const settings = parseSlaSettings(OFFICE_SETTINGS);
const calendarOf = calendarResolver(settings);
const facts = (): TicketFacts[] => scenario().map(({ ticket, timeline }) => ticketFacts(ticket, timeline, calendarOf(ticket)));
const byNumber = (n: number) => facts().find((f) => f.ticket_id.endsWith(String(n).padStart(2, '0')))!;

describe('ticket facts', () => {
  it('measures first response and resolution in wall and business time of the ticket calendar', () => {
    const t2 = byNumber(2);
    expect(t2.first_response_ms).toBe(3960 * MIN);
    expect(t2.first_response_business_ms).toBe(120 * MIN);
    expect(t2.resolution_ms).toBe(5370 * MIN);
    expect(t2.resolution_business_ms).toBe(570 * MIN);
  });

  it('sums handle time over turns from the first unanswered customer message to the agent reply', () => {
    expect(byNumber(2).handle_ms).toBe(4010 * MIN);
    expect(byNumber(1).handle_ms).toBe(30 * MIN);
  });

  it('does not count automatic messages as agent replies or first responses', () => {
    const t3 = byNumber(3);
    expect(t3.agent_replies).toBe(0);
    expect(t3.first_response_ms).toBeNull();
    expect(byNumber(1).agent_replies).toBe(1);
  });

  it('falls back to the first agent reply on the timeline when the record has no first_response_at', () => {
    expect(byNumber(4).first_response_ms).toBe(5 * MIN);
  });

  it('counts FCR only for resolved tickets with one reply and no reopen within 7 days', () => {
    expect(byNumber(1).fcr).toBe(true);
    expect(byNumber(2)).toMatchObject({ fcr: false, reopens: 1, reopened_within_7d: true, ever_resolved: true });
    expect(byNumber(7).fcr).toBeNull();
  });

  it('does not call a reopen more than 7 days after a resolution a quick reopen', () => {
    const [t1] = scenario();
    const timeline = [...t1!.timeline, { type: 'event' as const, at: t1!.ticket.resolved_at! + 8 * 86_400_000, event: 'ticket.reopened', data: {} }];
    expect(ticketFacts({ ...t1!.ticket, status: 'resolved' }, timeline)).toMatchObject({ reopens: 1, reopened_within_7d: false, fcr: true });
  });

  it('marks SLA met only for tickets with an SLA block and no breach', () => {
    expect(byNumber(1).sla_met).toBe(true);
    expect(byNumber(2).sla_met).toBe(false);
    expect(byNumber(4).sla_met).toBeNull();
  });

  it('uses wall time as business time on the default 24x7 calendar', () => {
    const [, t2] = scenario();
    const f = ticketFacts(t2!.ticket, t2!.timeline);
    expect(f.first_response_business_ms).toBe(f.first_response_ms);
  });
});

describe('surveys', () => {
  it('reads CSAT 1–5 and NPS 0–10 and ignores unanswered or out-of-scale scores', () => {
    expect(surveyScore({ score: 4, scale: 'csat' })).toEqual({ scale: 'csat', score: 4 });
    expect(surveyScore({ score: 0, scale: 'NPS' })).toEqual({ scale: 'nps', score: 0 });
    expect(surveyScore({ sent_at: 1 })).toBeNull();
    expect(surveyScore({ score: 7, scale: 'csat' })).toBeNull();
    expect(surveyScore(null)).toBeNull();
  });
});

describe('percentiles', () => {
  it('interpolate linearly between closest ranks like DuckDB quantile_cont', () => {
    expect(percentile([5, 10, 30, 60, 3960], 0.9)).toBeCloseTo(2400, 9);
    expect(percentile([1, 2], 0.5)).toBe(1.5);
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('KPI report', () => {
  it('equals the hand-computed figures over the tickets opened in the range', () => {
    const report = kpiReport(facts(), { from: FROM, to: TO });
    expectSameKpis(report.overall, EXPECTED_OVERALL);
    expect(report.groups).toEqual([]);
  });

  it('leaves conversations an offered article holds or solved out, and times a ticket opened after an offer from the answer', () => {
    const { ticket, timeline } = scenario().find((x) => x.ticket.id.endsWith('01'))!;
    const held = ticketFacts({ ...ticket, id: 'held-1', status: 'held' }, timeline);
    const deflected = ticketFacts({ ...ticket, id: 'defl-1', status: 'deflected' }, timeline);
    const report = kpiReport([...facts(), held, deflected], { from: FROM, to: TO });
    expectSameKpis(report.overall, EXPECTED_OVERALL);
    const plain = ticketFacts(ticket, timeline);
    const afterOffer = ticketFacts({ ...ticket, deflection: { answer: 'help', answered_at: ticket.created_at + 2 * MIN } }, timeline);
    expect(afterOffer.created_at).toBe(plain.created_at);
    expect(afterOffer.first_response_ms).toBe(plain.first_response_ms! - 2 * MIN);
  });

  it('groups by channel, category and agent with the same definitions, the null key last', () => {
    const byChannel = kpiReport(facts(), { from: FROM, to: TO, groupBy: 'channel' }).groups;
    expect(byChannel.map((g) => [g.key, g.volume, g.fcr_rate])).toEqual([['email', 2, 1], ['telegram', 2, 0.5], ['whatsapp', 2, 1]]);
    const byAgent = kpiReport(facts(), { from: FROM, to: TO, groupBy: 'agent' }).groups;
    expect(byAgent.map((g) => [g.key, g.volume, g.backlog])).toEqual([['a1', 3, 0], ['a2', 2, 1], [null, 1, 1]]);
    const byCategory = kpiReport(facts(), { from: FROM, to: TO, groupBy: 'category' }).groups;
    expect(byCategory.map((g) => [g.key, g.csat_avg, g.nps_score])).toEqual([['billing', 3.5, null], ['shipping', null, 0], [null, null, null]]);
  });

  it('limits the cohort to one customer tier and groups by tier (no tier last)', () => {
    // Tickets carry the tier copied from their customer: every other ticket of the scenario is vip.
    const tiered = facts().map((f, i) => ({ ...f, tier: i % 2 === 0 ? 'vip' : null }));
    const vip = tiered.filter((f) => f.tier === 'vip');
    const report = kpiReport(tiered, { from: FROM, to: TO, tier: 'vip' });
    expect(report.tier).toBe('vip');
    expect(report.overall).toEqual(kpiReport(vip, { from: FROM, to: TO }).overall);
    expect(report.overall.volume).toBeLessThan(kpiReport(tiered, { from: FROM, to: TO }).overall.volume);
    const byTier = kpiReport(tiered, { from: FROM, to: TO, groupBy: 'tier' }).groups;
    expect(byTier.map((g) => g.key)).toEqual(['vip', null]);
    expect(byTier[0]!.volume + byTier[1]!.volume).toBe(kpiReport(tiered, { from: FROM, to: TO }).overall.volume);
  });

  it('gives nulls, not zeros, for KPIs with an empty sample', () => {
    expect(aggregate([])).toMatchObject({ volume: 0, first_response_avg_ms: null, fcr_rate: null, nps_score: null, sla_attainment: null });
  });
});

describe('KPI SQL', () => {
  it('selects every KPI column of the report under its API name', () => {
    const sql = kpiSql('summary', { from: FROM, to: TO, groupBy: 'agent' });
    for (const c of NAMED_KPIS.summary!.columns) expect(sql).toContain(` AS ${c}`);
    expect(sql).toContain("created_at >= TIMESTAMP '2026-03-01 00:00:00.000'");
    expect(sql).toContain('GROUP BY assignee');
  });

  it('filters and groups by tier, refusing anything but a tier code in the SQL text', () => {
    const sql = kpiSql('volume', { tier: 'vip', groupBy: 'tier' });
    expect(sql).toContain("tier = 'vip'");
    expect(sql).toContain('GROUP BY tier');
    expect(() => kpiSql('volume', { tier: "vip' OR 1=1 --" })).toThrow(/tier must be a lowercase code/);
  });

  it('uses approx_percentile on Athena and names unknown KPIs in the error', () => {
    expect(kpiSql('first_response', { dialect: 'athena' })).toContain('approx_percentile(');
    expect(() => kpiSql('nope')).toThrow(/unknown KPI 'nope'.*summary/);
  });
});
