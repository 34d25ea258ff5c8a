/**
 * SLA/OLA policies and the evaluate decision (functions/domain/sla/policy.ts): defaults, matching,
 * escalation steps, re-targeting by replies and customer messages, the pending-customer pause,
 * merges keeping the earliest start, OLA hand-offs and settings validation. Fixed times, no mocks.
 */
import { describe, expect, it } from 'vitest';
import { CALENDAR_24X7, parseCalendar } from '../../../functions/domain/sla/calendar.js';
import {
  applyEvent, DEFAULT_POLICIES, DEFAULT_SLA_SETTINGS, dueDates, emailRecipient, evaluate, initialSla, matchPolicy, mergeInto,
  normalize, parseSlaSettings, raisePriority, type FullSla, type Policy, type SlaTicket,
} from '../../../functions/domain/sla/policy.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.parse('2026-06-08T10:00:00Z'); // a Monday
const normal = matchPolicy(DEFAULT_POLICIES, { priority: 'normal', channel: 'telegram', category: null });

function ticket(over: Partial<SlaTicket> = {}, sla: Partial<FullSla> = {}): SlaTicket {
  const base: SlaTicket = {
    id: '01TICKET', status: 'new', priority: 'normal', channel: 'telegram', category: null, team: null,
    created_at: T0, first_response_at: null, last_inbound_at: T0, last_outbound_at: null, sla: null,
  };
  const t = { ...base, ...over };
  return { ...t, sla: { ...initialSla(t.priority, t.created_at), generation: 1, ...sla } };
}

/** Apply an escalation decision to the ticket the way the evaluate handler commits it. */
function commit(t: SlaTicket, d: ReturnType<typeof evaluate>): SlaTicket {
  if (d.kind !== 'escalate') return t;
  const s = t.sla as FullSla;
  return { ...t, priority: d.raise ? raisePriority(t.priority, d.raise) : t.priority, sla: { ...s, marks: { ...s.marks, ...d.marks }, breached: [...new Set([...s.breached, ...d.breached])], escalation_level: d.level } };
}

describe('default policies (DESIGN.md §2)', () => {
  it('give normal tickets 1 h / 4 h / 24 h and urgent ones 15 min / 1 h / 4 h on the 24x7 calendar', () => {
    expect(normal.targets).toEqual({ first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 });
    expect(matchPolicy(DEFAULT_POLICIES, { priority: 'urgent', channel: 'email', category: null }).targets)
      .toEqual({ first_response_minutes: 15, next_response_minutes: 60, resolution_minutes: 240 });
    expect(normal.calendar).toBe('24x7');
    expect(normal.escalations.map((s) => [s.at_percent, s.notify, s.raise_priority])).toEqual([[80, 'assignee', false], [100, 'team_lead', true], [150, 'supervisor', false]]);
  });

  it('match on priority, channel and category in order, falling back to the built-in default', () => {
    const vip: Policy = { ...normal, id: 'vip-email', match: { channel: ['email'], category: ['billing'] } };
    expect(matchPolicy([vip, ...DEFAULT_POLICIES], { priority: 'normal', channel: 'email', category: 'billing' }).id).toBe('vip-email');
    expect(matchPolicy([vip, ...DEFAULT_POLICIES], { priority: 'normal', channel: 'email', category: null }).id).toBe('default-normal');
    expect(matchPolicy([vip], { priority: 'urgent', channel: 'telegram', category: null }).id).toBe('default-urgent');
  });
});

describe('evaluate: first response', () => {
  it('waits until the 80 % step of a new ticket', () => {
    const d = evaluate(ticket(), CALENDAR_24X7, normal, T0 + M);
    expect(d).toMatchObject({ kind: 'wait-until', at: T0 + 48 * M });
    expect(d.dues.first_response_due).toBe(T0 + H);
  });

  it('warns the assignee at 80 %, then breaches, raises the priority and escalates to the team lead at 100 %, then the supervisor at 150 %', () => {
    let t = ticket();
    const warn = evaluate(t, CALENDAR_24X7, normal, T0 + 48 * M);
    expect(warn).toMatchObject({ kind: 'escalate', level: 1, breached: [], raise: 0, next_at: T0 + H });
    t = commit(t, warn);
    const breach = evaluate(t, CALENDAR_24X7, normal, T0 + H);
    expect(breach).toMatchObject({ kind: 'escalate', level: 2, breached: ['first_response'], raise: 1, next_at: T0 + 90 * M });
    t = commit(t, breach);
    expect(t.priority).toBe('high');
    const sup = evaluate(t, CALENDAR_24X7, normal, T0 + 90 * M);
    expect(sup).toMatchObject({ kind: 'escalate', level: 3, breached: [] });
    t = commit(t, sup);
    // Nothing more on first response; the resolution clock's 80 % step is next.
    expect(evaluate(t, CALENDAR_24X7, normal, T0 + 91 * M)).toMatchObject({ kind: 'wait-until', at: T0 + (24 * H * 80) / 100 });
  });

  it('reaches several steps at once after a long sleep, and never repeats one', () => {
    const t = ticket();
    const d = evaluate(t, CALENDAR_24X7, normal, T0 + 3700 * 1000);
    expect(d.kind).toBe('escalate');
    if (d.kind !== 'escalate') return;
    expect(d.actions.map((a) => [a.clock, a.level, a.step.notify])).toEqual([['first_response', 1, 'assignee'], ['first_response', 2, 'team_lead']]);
    expect(d.breached).toEqual(['first_response']);
    expect(evaluate(commit(t, d), CALENDAR_24X7, normal, T0 + 3700 * 1000)).toMatchObject({ kind: 'wait-until', at: T0 + 90 * M });
  });

  it('stops when answered in time: the next deadline is the resolution clock', () => {
    const t = ticket({ first_response_at: T0 + 10 * M, last_outbound_at: T0 + 10 * M }, { awaiting_since: null });
    expect(evaluate(t, CALENDAR_24X7, normal, T0 + 61 * M)).toMatchObject({ kind: 'wait-until', at: T0 + (24 * H * 80) / 100 });
  });

  it('counts business time only: Friday 17:55 in a Mon–Fri 09–18 calendar is due Monday 09:55', () => {
    const cal = parseCalendar({ id: 'office', time_zone: 'UTC', week: { mon: ['09:00-18:00'], tue: ['09:00-18:00'], wed: ['09:00-18:00'], thu: ['09:00-18:00'], fri: ['09:00-18:00'] } });
    const fri = Date.parse('2026-06-05T17:55:00Z');
    const t = ticket({ created_at: fri, last_inbound_at: fri });
    const policy = { ...normal, calendar: 'office' };
    expect(new Date(evaluate(t, cal, policy, fri).dues.first_response_due!).toISOString()).toBe('2026-06-08T09:55:00.000Z');
    expect(evaluate(t, cal, policy, Date.parse('2026-06-08T09:54:59Z'))).toMatchObject({ kind: 'escalate', level: 1, breached: [] });
    expect(evaluate(t, cal, policy, Date.parse('2026-06-08T09:55:00Z'))).toMatchObject({ kind: 'escalate', breached: ['first_response'] });
  });

  it('is done for resolved, closed and merged tickets', () => {
    for (const status of ['resolved', 'closed', 'merged'] as const) expect(evaluate(ticket({ status }), CALENDAR_24X7, normal, T0 + 5 * H).kind).toBe('done');
  });
});

describe('events re-target the clocks', () => {
  const answered = () => applyEvent(ticket({ first_response_at: T0 + 5 * M, last_outbound_at: T0 + 5 * M }), CALENDAR_24X7, { type: 'outbound.queued', at: T0 + 5 * M, data: { kind: 'reply' } });

  it('an agent reply answers the customer; an acknowledgement does not', () => {
    expect(answered().awaiting_since).toBeNull();
    const ack = applyEvent(ticket(), CALENDAR_24X7, { type: 'outbound.queued', at: T0 + M, data: { kind: 'acknowledgement' } });
    expect(ack.awaiting_since).toBe(T0);
  });

  it('an answered phone call (or a call-back the customer picked up) answers the customer like a reply', () => {
    const s = applyEvent(ticket({ first_response_at: T0 + 5 * M }), CALENDAR_24X7, { type: 'call.answered', at: T0 + 5 * M, data: { channel: 'voice' } });
    expect(s.awaiting_since).toBeNull();
  });

  it('a customer message after a reply starts the next-response clock from that message', () => {
    const base = ticket({ first_response_at: T0 + 5 * M, last_outbound_at: T0 + 5 * M, last_inbound_at: T0 + 2 * H }, answered());
    const s = applyEvent(base, CALENDAR_24X7, { type: 'message.received', at: T0 + 2 * H, data: {} });
    expect(s.awaiting_since).toBe(T0 + 2 * H);
    const d = evaluate({ ...base, sla: s }, CALENDAR_24X7, normal, T0 + 2 * H);
    expect(d.dues.next_response_due).toBe(T0 + 6 * H);
    expect(d).toMatchObject({ kind: 'wait-until', at: T0 + 2 * H + (4 * H * 80) / 100 });
    // a second message does not move the clock
    expect(applyEvent({ ...base, sla: s }, CALENDAR_24X7, { type: 'message.received', at: T0 + 3 * H, data: {} }).awaiting_since).toBe(T0 + 2 * H);
  });

  it('pending_customer pauses the resolution clock and the paused business time moves its deadline', () => {
    const t = ticket({ status: 'pending_customer', first_response_at: T0 + 5 * M, last_outbound_at: T0 + 5 * M }, { awaiting_since: null });
    const paused = normalize(t, CALENDAR_24X7, T0 + H);
    expect(paused.paused_since).toBe(T0 + H);
    expect(evaluate({ ...t, sla: paused }, CALENDAR_24X7, normal, T0 + 30 * H)).toMatchObject({ kind: 'done', dues: { resolution_due: null } });
    const resumed = applyEvent({ ...t, status: 'open', sla: paused }, CALENDAR_24X7, { type: 'ticket.status_changed', at: T0 + 4 * H, data: { status: 'open' } });
    expect(resumed).toMatchObject({ paused_ms: 3 * H, paused_since: null });
    expect(dueDates({ ...t, status: 'open' }, resumed, normal, CALENDAR_24X7).resolution_due).toBe(T0 + 27 * H);
  });

  it('a reopen starts a new resolution cycle', () => {
    const s = applyEvent(ticket({ status: 'open', first_response_at: T0 + M }, { breached: ['resolution'], marks: { 'resolution@0': { level: 3, breached: true } } }), CALENDAR_24X7, { type: 'ticket.reopened', at: T0 + 50 * H, data: {} });
    expect(s).toMatchObject({ cycle: 1, resolution_since: T0 + 50 * H, awaiting_since: T0 });
    expect(dueDates(ticket({ status: 'open', first_response_at: T0 + M }), s, normal, CALENDAR_24X7).resolution_due).toBe(T0 + 74 * H);
  });

  it('an agent priority change re-matches the policy; an escalation raise does not', () => {
    // raised by an escalation: the ticket is urgent, the policy still the normal one
    const t = ticket({ priority: 'urgent' }, { policy_priority: 'normal' });
    expect(normalize(t, CALENDAR_24X7, T0).policy_priority).toBe('normal');
    expect(applyEvent(t, CALENDAR_24X7, { type: 'ticket.priority_changed', at: T0 + M, data: {} }).policy_priority).toBe('urgent');
  });

  it('a merged ticket keeps the earliest start', () => {
    const winner = normalize(ticket({ created_at: T0 + 2 * H }, { started_at: T0 + 2 * H, resolution_since: T0 + 2 * H, awaiting_since: T0 + 2 * H }), CALENDAR_24X7, T0 + 2 * H);
    const loser = normalize(ticket({}, { breached: ['first_response'] }), CALENDAR_24X7, T0 + 2 * H);
    const merged = mergeInto(winner, loser);
    expect(merged).toMatchObject({ started_at: T0, resolution_since: T0, awaiting_since: T0, breached: ['first_response'] });
    expect(dueDates(ticket(), merged, normal, CALENDAR_24X7).first_response_due).toBe(T0 + H);
  });

  it('OLA: a hand-off to a team starts its clock with the team target; the team acting stops it', () => {
    const policy: Policy = { ...normal, targets: { ...normal.targets, first_response_minutes: null, resolution_minutes: null }, ola: { 'second-line': 120, '*': 240 } };
    const t = ticket({ team: 'second-line', first_response_at: T0 + M }, { awaiting_since: null });
    const s = applyEvent(t, CALENDAR_24X7, { type: 'ticket.assigned', at: T0 + H, data: { team: 'second-line' } });
    const d = evaluate({ ...t, sla: s }, CALENDAR_24X7, policy, T0 + 3 * H);
    expect(d).toMatchObject({ kind: 'escalate', breached: ['ola'] });
    const acted = applyEvent({ ...t, sla: s }, CALENDAR_24X7, { type: 'note.added', at: T0 + 90 * M, data: {} });
    expect(acted.ola_started_at).toBeNull();
    expect(evaluate({ ...t, sla: acted }, CALENDAR_24X7, policy, T0 + 3 * H).kind).toBe('done');
  });
});

describe('escalation recipients and settings', () => {
  it('e-mails the team lead and the supervisor at ESCALATION_EMAIL, not the assignee, unless the step names an address', () => {
    const [warn, lead] = normal.escalations;
    expect(emailRecipient(warn!, 'lead@example.com')).toBeNull();
    expect(emailRecipient(lead!, 'lead@example.com')).toBe('lead@example.com');
    expect(emailRecipient({ ...warn!, email: 'desk@example.com' }, undefined)).toBe('desk@example.com');
    expect(emailRecipient(lead!, undefined)).toBeNull();
  });

  it('gives phone tickets (channel voice) their call-back targets: 30 min, 15 min at high or urgent priority', () => {
    expect(matchPolicy(DEFAULT_POLICIES, { priority: 'normal', channel: 'voice', category: null })).toMatchObject({ id: 'default-voice', targets: { first_response_minutes: 30 } });
    expect(matchPolicy(DEFAULT_POLICIES, { priority: 'high', channel: 'voice', category: null })).toMatchObject({ id: 'default-voice-priority', targets: { first_response_minutes: 15 } });
    expect(matchPolicy(DEFAULT_POLICIES, { priority: 'normal', channel: 'whatsapp', category: null }).id).toBe('default-normal');
  });

  it('fills defaults and refuses a policy naming an unknown calendar or duplicate steps', () => {
    expect(DEFAULT_SLA_SETTINGS.policies.map((p) => p.id)).toEqual(['default-voice-priority', 'default-voice', 'default-urgent', 'default-high', 'default-low', 'default-normal']);
    expect(() => parseSlaSettings({ policies: [{ id: 'p', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: null, resolution_minutes: null } }] }))
      .toThrow("sla policy 'p' names calendar 'office', which is not defined (known: 24x7)");
    expect(() => parseSlaSettings({ policies: [{ id: 'p', targets: { first_response_minutes: 60, next_response_minutes: null, resolution_minutes: null }, escalations: [{ at_percent: 100, notify: 'team_lead' }, { at_percent: 100, notify: 'supervisor' }] }] }))
      .toThrow('sla escalation steps need distinct at_percent values, got [100, 100]');
  });
});
