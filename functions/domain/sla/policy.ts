/**
 * SLA and OLA policies and the one decision the SLA workflow asks for (DESIGN.md §2). Pure: the
 * ticket, the calendar, the policy and "now" come in; a decision comes out.
 *
 * Clocks of a ticket (each measured in business time of the policy's calendar):
 * - first_response: from the ticket's start (the earliest start of merged tickets) until the first
 *   agent reply;
 * - next_response: from the first customer message nobody answered yet (`awaiting_since`) until
 *   the next agent reply — only after the first response;
 * - resolution: from the start of the current cycle (creation, or the last reopen) until
 *   resolution; time in `pending_customer` does not count (it is tracked as paused business time);
 * - ola: from an internal hand-off to a team (assignment or hand-off note) until that team acts
 *   (reply, note or status change), with the team's OLA target.
 *
 * Escalation steps fire at a percentage of a clock's target (default 80 % warn the assignee,
 * 100 % escalate to the team lead and raise the priority, 150 % escalate to the supervisor); a
 * clock at 100 % is breached. Each clock instance has a key (`next_response@<since>`) and the
 * highest step it reached is remembered in `marks`, so a repeated evaluation never repeats an
 * escalation.
 *
 * The workflow that calls `evaluate` holds no rules: it waits until `at`/`next_at`, asks again,
 * and stops on `done` (DESIGN.md §1 Workflows).
 */
import { z } from 'zod';
import { CHANNELS, type Channel } from '../inbound.js';
import { PRIORITIES, type Priority, type TicketStatus } from '../ticket.js';
import { ContractCode, TierCode } from '../tier.js';
import { addBusinessTime, businessTimeBetween, CALENDAR_24X7, CalendarSchema, type Calendar } from './calendar.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

// ---------------------------------------------------------------------------------------------
// Policies

export const CLOCKS = ['first_response', 'next_response', 'resolution', 'ola'] as const;
export type SlaClock = (typeof CLOCKS)[number];

export const NOTIFY = ['assignee', 'team_lead', 'supervisor'] as const;
export type Notify = (typeof NOTIFY)[number];

export const EscalationStepSchema = z.strictObject({
  /** Percentage of the clock's target at which the step fires (100 = the deadline). */
  at_percent: z.number().int().min(1).max(1000),
  notify: z.enum(NOTIFY),
  /** Raise the ticket's priority one level (low → normal → high → urgent). */
  raise_priority: z.boolean().default(false),
  /**
   * Who gets an e-mail: 'default' = ESCALATION_EMAIL, 'none' = timeline and change feed only, or
   * an address. Default: 'none' when notifying the assignee (the inbox shows it), otherwise 'default'.
   */
  email: z.union([z.literal('default'), z.literal('none'), z.email()]).optional(),
});
export type EscalationStep = z.output<typeof EscalationStepSchema>;

export const DEFAULT_ESCALATIONS: readonly EscalationStep[] = [
  { at_percent: 80, notify: 'assignee', raise_priority: false },
  { at_percent: 100, notify: 'team_lead', raise_priority: true },
  { at_percent: 150, notify: 'supervisor', raise_priority: false },
];

const minutes = z.number().int().positive().max(525_600);

export const PolicySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'sla policy id must be 1-64 letters, digits, _ . -'),
  name: z.string().max(200).optional(),
  /** Which tickets the policy applies to; an omitted list matches anything. First match wins. */
  match: z.strictObject({
    priority: z.array(z.enum(PRIORITIES)).min(1).optional(),
    channel: z.array(z.enum(CHANNELS)).min(1).optional(),
    category: z.array(z.string().min(1)).min(1).optional(),
    /** Customer tiers (functions/domain/tier.ts); a ticket without a tier matches no tier list. */
    tier: z.array(TierCode).min(1).optional(),
    /** Contracts: a contract is the policy (with its calendar and targets) that matches its code. */
    contract: z.array(ContractCode).min(1).optional(),
  }).default({}),
  calendar: z.string().default('24x7'),
  /** Targets in business minutes of the calendar; null = no target for that clock. */
  targets: z.strictObject({
    first_response_minutes: minutes.nullable(),
    next_response_minutes: minutes.nullable(),
    resolution_minutes: minutes.nullable(),
  }),
  escalations: z.array(EscalationStepSchema).max(10).default([...DEFAULT_ESCALATIONS]).superRefine((steps, ctx) => {
    const p = steps.map((s) => s.at_percent);
    if (new Set(p).size !== p.length) ctx.addIssue({ code: 'custom', message: `sla escalation steps need distinct at_percent values, got [${p.join(', ')}]` });
  }),
  /** OLA: business minutes a team has to act on a hand-off, by team id; '*' = any other team. */
  ola: z.record(z.string().min(1), minutes).default({ '*': 240 }),
});
export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

const policy = (id: string, priority: Priority | null, fr: number, nr: number, res: number): Policy => ({
  id, match: priority ? { priority: [priority] } : {}, calendar: '24x7',
  targets: { first_response_minutes: fr, next_response_minutes: nr, resolution_minutes: res },
  escalations: DEFAULT_ESCALATIONS.map((s) => ({ ...s })), ola: { '*': 240 },
});

/**
 * Defaults of a fresh install (DESIGN.md §2): normal 1 h / 4 h / 24 h, urgent 15 min / 1 h / 4 h.
 * Phone tickets (channel `voice`, issue 16) come first: the customer who could not get through is
 * called back within 30 minutes (15 for high and urgent priority — a VIP's call-back, see
 * functions/domain/voice.ts `TIER_CALLBACK_PRIORITY`); the first response of a voice ticket is
 * the answered call or the call-back.
 */
export const DEFAULT_POLICIES: readonly Policy[] = [
  { ...policy('default-voice-priority', null, 15, 60, 480), match: { channel: ['voice'], priority: ['urgent', 'high'] } },
  { ...policy('default-voice', null, 30, 120, 1440), match: { channel: ['voice'] } },
  policy('default-urgent', 'urgent', 15, 60, 240),
  policy('default-high', 'high', 30, 120, 480),
  policy('default-low', 'low', 240, 480, 2880),
  policy('default-normal', null, 60, 240, 1440),
];

export const SlaSettingsSchema = z.strictObject({
  calendars: z.array(CalendarSchema).max(100).default([]),
  policies: z.array(PolicySchema).min(1).max(200).default(DEFAULT_POLICIES.map((p) => structuredClone(p))),
}).superRefine((s, ctx) => {
  const calendarIds = s.calendars.map((c) => c.id);
  const dup = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const id of dup(calendarIds)) ctx.addIssue({ code: 'custom', path: ['calendars'], message: `sla calendar id '${id}' is used twice` });
  for (const id of dup(s.policies.map((p) => p.id))) ctx.addIssue({ code: 'custom', path: ['policies'], message: `sla policy id '${id}' is used twice` });
  const known = new Set([CALENDAR_24X7.id, ...calendarIds]);
  s.policies.forEach((p, i) => {
    if (!known.has(p.calendar)) ctx.addIssue({ code: 'custom', path: ['policies', i, 'calendar'], message: `sla policy '${p.id}' names calendar '${p.calendar}', which is not defined (known: ${[...known].join(', ')})` });
  });
});
export type SlaSettings = z.output<typeof SlaSettingsSchema>;
export type SlaSettingsInput = z.input<typeof SlaSettingsSchema>;

export class SlaPolicyError extends Error {
  override readonly name = 'SlaPolicyError';
}

/** Validate settings; the message lists every problem (for 400s and synthesis errors). */
export function parseSlaSettings(input: unknown): SlaSettings {
  const r = SlaSettingsSchema.safeParse(input);
  if (!r.success) throw new SlaPolicyError(r.error.issues.map((i) => i.message).join('; '), { cause: { paths: r.error.issues.map((i) => i.path.join('.')) } });
  return r.data;
}

export const DEFAULT_SLA_SETTINGS: SlaSettings = parseSlaSettings({});

/** Settings from their JSON text (the CONFLUO_SLA_DEFAULTS setting); the built-in defaults when absent. */
export function parseSlaSettingsJson(json: string | undefined): SlaSettings {
  if (json === undefined || json === '') return DEFAULT_SLA_SETTINGS;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new SlaPolicyError('sla settings are not JSON', { cause: { stage: 'config' } });
  }
  return parseSlaSettings(value);
}

export interface PolicySubject {
  readonly priority: Priority;
  readonly channel: Channel | string;
  readonly category: string | null;
  /** The ticket's tier and contract (copied from its customer or organisation); absent = none. */
  readonly tier?: string | null | undefined;
  readonly contract?: string | null | undefined;
}

/** The first policy whose `match` accepts the ticket; the built-in default for its priority otherwise. */
export function matchPolicy(policies: readonly Policy[], t: PolicySubject): Policy {
  const ok = (p: Policy) =>
    (!p.match.priority || p.match.priority.includes(t.priority))
    && (!p.match.channel || (p.match.channel as readonly string[]).includes(t.channel))
    && (!p.match.category || (t.category !== null && p.match.category.includes(t.category)))
    && (!p.match.tier || (typeof t.tier === 'string' && p.match.tier.includes(t.tier)))
    && (!p.match.contract || (typeof t.contract === 'string' && p.match.contract.includes(t.contract)));
  return policies.find(ok) ?? DEFAULT_POLICIES.find(ok)!;
}

/** What `matchPolicy` reads of a ticket, with the priority the policy follows. */
export function policySubject(t: Pick<SlaTicket, 'priority' | 'channel' | 'category' | 'tier' | 'contract'>, priority: Priority = t.priority): PolicySubject {
  return { priority, channel: t.channel, category: t.category, tier: t.tier ?? null, contract: t.contract ?? null };
}

export function calendarFor(settings: SlaSettings, policyId: Policy): Calendar {
  return settings.calendars.find((c) => c.id === policyId.calendar) ?? CALENDAR_24X7;
}

// ---------------------------------------------------------------------------------------------
// The SLA state kept on a ticket

/** Highest escalation step a clock instance reached, and whether it breached. */
export interface Mark { readonly level: number; readonly breached: boolean }

/** An escalation e-mail committed but not yet confirmed sent (sent after the commit, retried until removed). */
export interface PendingEmail {
  readonly id: string;
  readonly to: string;
  readonly clock: SlaClock;
  readonly level: number;
  readonly notify: Notify;
  readonly at_percent: number;
  readonly due: number;
  readonly priority: Priority;
  readonly raised_from: Priority | null;
  readonly at: number;
}

/** The ticket's `sla` block (times in epoch ms). Fields after `escalation_level` may be absent on old records. */
export interface SlaState {
  readonly policy: string;
  readonly first_response_due: number | null;
  readonly next_response_due: number | null;
  readonly resolution_due: number | null;
  readonly breached: string[];
  readonly escalation_level: number;
  /** Optimistic-concurrency revision: every SLA write is conditional on it and increments it. */
  readonly rev?: number;
  /** Workflow generation: the execution `<ticket_id>-<generation>` is the current one; older ones are stale. */
  readonly generation?: number;
  /** When the current execution wakes next (null: no execution waiting). */
  readonly wake_at?: number | null;
  readonly started_at?: number;
  readonly awaiting_since?: number | null;
  readonly cycle?: number;
  readonly resolution_since?: number;
  readonly paused_ms?: number;
  readonly paused_since?: number | null;
  readonly policy_priority?: Priority;
  readonly calendar?: string;
  readonly ola_started_at?: number | null;
  readonly ola_team?: string | null;
  readonly marks?: Readonly<Record<string, Mark>>;
  readonly email_pending?: Readonly<Record<string, PendingEmail>>;
}

/** What the SLA engine reads of a ticket. */
export interface SlaTicket {
  readonly id: string;
  readonly status: TicketStatus;
  readonly priority: Priority;
  readonly channel: Channel | string;
  readonly category: string | null;
  readonly team: string | null;
  readonly tier?: string | null;
  readonly contract?: string | null;
  readonly created_at: number;
  readonly first_response_at: number | null;
  readonly last_inbound_at: number | null;
  readonly last_outbound_at: number | null;
  readonly sla: SlaState | null;
}

/** Everything `normalize` fills in. */
export type FullSla = SlaState & Required<Pick<SlaState, 'rev' | 'generation' | 'wake_at' | 'started_at' | 'awaiting_since' | 'cycle' | 'resolution_since' | 'paused_ms' | 'paused_since' | 'policy_priority' | 'ola_started_at' | 'ola_team' | 'marks' | 'email_pending'>>;

/** Targets of the built-in policies, for callers that only need numbers. */
export interface Targets { readonly firstResponseMs: number; readonly nextResponseMs: number; readonly resolutionMs: number }
export const DEFAULT_TARGETS: Readonly<Record<Priority, Targets>> = Object.fromEntries(PRIORITIES.map((p) => {
  const t = matchPolicy(DEFAULT_POLICIES, { priority: p, channel: 'telegram', category: null }).targets;
  return [p, { firstResponseMs: t.first_response_minutes! * MIN, nextResponseMs: t.next_response_minutes! * MIN, resolutionMs: t.resolution_minutes! * MIN }];
})) as Record<Priority, Targets>;

/**
 * The SLA block of a new ticket, on the default `24x7` calendar. The ticket-opened reaction
 * re-targets it with the configured policy and calendar before the workflow starts.
 */
export function initialSla(priority: Priority, createdMs: number, targets: Targets = DEFAULT_TARGETS[priority]): FullSla {
  return {
    policy: matchPolicy(DEFAULT_POLICIES, { priority, channel: 'telegram', category: null }).id,
    first_response_due: createdMs + targets.firstResponseMs,
    next_response_due: null,
    resolution_due: createdMs + targets.resolutionMs,
    breached: [],
    escalation_level: 0,
    rev: 0, generation: 0, wake_at: null,
    started_at: createdMs, awaiting_since: createdMs, cycle: 0, resolution_since: createdMs,
    paused_ms: 0, paused_since: null, policy_priority: priority,
    ola_started_at: null, ola_team: null, marks: {}, email_pending: {},
  };
}

/**
 * Fill in what an older or partial SLA block lacks, and bring the pause in line with the status
 * (a ticket in pending_customer whose pause start was never recorded is paused from `at`).
 */
export function normalize(t: SlaTicket, cal: Calendar, at: number): FullSla {
  const s = t.sla ?? initialSla(t.priority, t.created_at);
  const started = s.started_at ?? t.created_at;
  const awaiting = s.awaiting_since !== undefined ? s.awaiting_since
    : t.last_inbound_at !== null && t.last_inbound_at > (t.last_outbound_at ?? -1) ? t.last_inbound_at : null;
  const full: FullSla = {
    ...s,
    breached: s.breached ?? [], escalation_level: s.escalation_level ?? 0,
    rev: s.rev ?? 0, generation: s.generation ?? 0, wake_at: s.wake_at ?? null,
    started_at: started, awaiting_since: awaiting, cycle: s.cycle ?? 0, resolution_since: s.resolution_since ?? started,
    paused_ms: s.paused_ms ?? 0, paused_since: s.paused_since ?? null, policy_priority: s.policy_priority ?? t.priority,
    ola_started_at: s.ola_started_at ?? null, ola_team: s.ola_team ?? null, marks: s.marks ?? {}, email_pending: s.email_pending ?? {},
  };
  return { ...full, ...pauseFor(t.status, full, cal, at) };
}

function pauseFor(status: TicketStatus, s: FullSla, cal: Calendar, at: number): Partial<FullSla> {
  if (status === 'pending_customer' && s.paused_since === null) return { paused_since: at };
  if (status !== 'pending_customer' && s.paused_since !== null) {
    return { paused_ms: s.paused_ms + businessTimeBetween(cal, s.paused_since, Math.max(at, s.paused_since)), paused_since: null };
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Events that move clocks

/** A change-feed event as the SLA engine sees it (type, time, non-personal data). */
export interface SlaEvent { readonly type: string; readonly at: number; readonly data: Readonly<Record<string, unknown>> }

/**
 * The SLA block after an event (pure). `t` is the ticket as stored after the change the event
 * describes (feed events are written in the same transaction as their change).
 */
export function applyEvent(t: SlaTicket, cal: Calendar, ev: SlaEvent): FullSla {
  const s = normalize(t, cal, ev.at);
  const data = ev.data;
  switch (ev.type) {
    case 'ticket.opened':
      return { ...s, awaiting_since: s.awaiting_since ?? ev.at };
    case 'message.received':
      // The customer waits for an agent from their first unanswered message on.
      return { ...s, awaiting_since: s.awaiting_since ?? ev.at };
    case 'ticket.reopened':
      // A new resolution cycle: its clock starts at the reopen; the customer is waiting again.
      return { ...s, awaiting_since: s.awaiting_since ?? ev.at, cycle: s.cycle + 1, resolution_since: ev.at, paused_ms: 0, paused_since: null };
    case 'call.answered':
      // A phone call an agent answered, or a call-back the customer picked up (issue 16): it
      // answers the customer like a reply does.
      return { ...s, awaiting_since: null, ...(s.ola_started_at !== null && ev.at >= s.ola_started_at ? { ola_started_at: null, ola_team: null } : {}) };
    case 'outbound.queued':
      if (data.kind !== 'reply') return s;
      // An agent reply answers everything the customer wrote so far and counts as the team acting.
      return { ...s, awaiting_since: null, ...(s.ola_started_at !== null && ev.at >= s.ola_started_at ? { ola_started_at: null, ola_team: null } : {}) };
    case 'note.added': {
      const team = typeof data.handoff_team === 'string' ? data.handoff_team : null;
      if (team) return { ...s, ola_started_at: ev.at, ola_team: team };
      return s.ola_started_at !== null ? { ...s, ola_started_at: null, ola_team: null } : s;
    }
    case 'ticket.assigned':
    case 'ticket.handoff': {
      const team = typeof data.team === 'string' ? data.team : t.team;
      return team ? { ...s, ola_started_at: ev.at, ola_team: team } : s;
    }
    case 'ticket.priority_changed':
      return { ...s, policy_priority: t.priority };
    case 'ticket.status_changed':
      return s.ola_started_at !== null ? { ...s, ola_started_at: null, ola_team: null } : s;
    case 'ticket.updated': {
      let out: FullSla = s;
      if (typeof data.priority === 'string' || (Array.isArray(data.changed) && data.changed.includes('priority'))) out = { ...out, policy_priority: t.priority };
      if (typeof data.team === 'string' && data.team !== '') out = { ...out, ola_started_at: ev.at, ola_team: data.team };
      else if ((typeof data.status === 'string' || (Array.isArray(data.changed) && data.changed.includes('status'))) && out.ola_started_at !== null) out = { ...out, ola_started_at: null, ola_team: null };
      return out;
    }
    default:
      return s;
  }
}

/**
 * The surviving ticket of a merge keeps the earliest start of both (DESIGN.md §2 Threading): the
 * first-response and resolution clocks run from the older start, and a customer waiting on the
 * loser keeps waiting on the winner since their earliest unanswered message.
 */
export function mergeInto(winner: FullSla, loser: FullSla): FullSla {
  const min = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
  return {
    ...winner,
    started_at: Math.min(winner.started_at, loser.started_at),
    resolution_since: Math.min(winner.resolution_since, loser.resolution_since),
    awaiting_since: min(winner.awaiting_since, loser.awaiting_since),
    breached: [...new Set([...winner.breached, ...loser.breached])],
  };
}

// ---------------------------------------------------------------------------------------------
// Clocks and the decision

export interface ClockRun {
  readonly clock: SlaClock;
  /** Identifies this instance of the clock (a new next_response wait is a new instance). */
  readonly key: string;
  readonly start: number;
  readonly targetMs: number;
  /** Business time that does not count (pending_customer) — resolution only. */
  readonly pausedMs: number;
  readonly paused: boolean;
}

export function olaTarget(p: Policy, team: string | null): number | null {
  if (team === null) return null;
  const m = p.ola[team] ?? p.ola['*'];
  return m === undefined ? null : m * MIN;
}

/** No clock runs: done, merged, or a messenger conversation an offered article holds or solved (README "Knowledge base"). */
const FINAL: readonly TicketStatus[] = ['resolved', 'closed', 'merged', 'held', 'deflected'];

/** The clocks running (or paused) on a ticket now. */
export function runningClocks(t: SlaTicket, s: FullSla, p: Policy): ClockRun[] {
  if (FINAL.includes(t.status)) return [];
  const out: ClockRun[] = [];
  const tg = p.targets;
  if (tg.first_response_minutes !== null && t.first_response_at === null) {
    out.push({ clock: 'first_response', key: 'first_response', start: s.started_at, targetMs: tg.first_response_minutes * MIN, pausedMs: 0, paused: false });
  }
  if (tg.next_response_minutes !== null && t.first_response_at !== null && s.awaiting_since !== null) {
    out.push({ clock: 'next_response', key: `next_response@${s.awaiting_since}`, start: s.awaiting_since, targetMs: tg.next_response_minutes * MIN, pausedMs: 0, paused: false });
  }
  if (tg.resolution_minutes !== null) {
    out.push({ clock: 'resolution', key: `resolution@${s.cycle}`, start: s.resolution_since, targetMs: tg.resolution_minutes * MIN, pausedMs: s.paused_ms, paused: s.paused_since !== null });
  }
  const ola = olaTarget(p, s.ola_team);
  if (ola !== null && s.ola_started_at !== null) {
    out.push({ clock: 'ola', key: `ola@${s.ola_started_at}`, start: s.ola_started_at, targetMs: ola, pausedMs: 0, paused: false });
  }
  return out;
}

/** When a clock reaches `percent` of its target (null while paused). */
export function thresholdAt(cal: Calendar, c: ClockRun, percent: number): number | null {
  if (c.paused) return null;
  return addBusinessTime(cal, c.start, Math.ceil((c.targetMs * percent) / 100) + c.pausedMs);
}

/** Business time counted on a clock at `now`. */
export function elapsed(cal: Calendar, c: ClockRun, s: FullSla, now: number): number {
  const pausedNow = c.clock === 'resolution' && s.paused_since !== null ? businessTimeBetween(cal, s.paused_since, now) : 0;
  return Math.max(0, businessTimeBetween(cal, c.start, now) - c.pausedMs - pausedNow);
}

export interface Dues { readonly first_response_due: number | null; readonly next_response_due: number | null; readonly resolution_due: number | null }

/** Deadlines shown on the ticket. First response stays visible after it was met (attainment). */
export function dueDates(t: SlaTicket, s: FullSla, p: Policy, cal: Calendar): Dues {
  if (FINAL.includes(t.status)) return { first_response_due: s.first_response_due, next_response_due: null, resolution_due: s.resolution_due };
  const run = runningClocks(t, s, p);
  const due = (clock: SlaClock) => {
    const c = run.find((r) => r.clock === clock);
    return c ? thresholdAt(cal, c, 100) : null;
  };
  const fr = p.targets.first_response_minutes;
  return {
    first_response_due: fr === null ? null : addBusinessTime(cal, s.started_at, fr * MIN),
    next_response_due: due('next_response'),
    resolution_due: due('resolution'),
  };
}

export interface EscalationAction {
  readonly clock: SlaClock;
  readonly key: string;
  /** 1-based index of the step in the policy's escalation list. */
  readonly level: number;
  readonly step: EscalationStep;
  /** When the clock's target is (was) reached. */
  readonly due: number;
}

export type SlaDecision =
  | { readonly kind: 'wait-until'; readonly at: number; readonly dues: Dues }
  | {
    readonly kind: 'escalate';
    /** Highest step reached in this decision (1-based). */
    readonly level: number;
    /** Clocks that breached in this decision. */
    readonly breached: readonly SlaClock[];
    readonly actions: readonly EscalationAction[];
    /** Marks to store for the clock instances that moved. */
    readonly marks: Readonly<Record<string, Mark>>;
    /** Number of priority levels to raise. */
    readonly raise: number;
    /** When to look again (null: nothing more can happen without a new event). */
    readonly next_at: number | null;
    readonly dues: Dues;
  }
  | { readonly kind: 'done'; readonly dues: Dues };

/**
 * What happens next on a ticket. `wait-until`: nothing is due before `at`. `escalate`: steps or
 * breaches are due now (commit them, then look again at `next_at`). `done`: no clock can fire
 * without a new event (the ticket is final, answered with no target left, or paused).
 */
export function evaluate(t: SlaTicket, cal: Calendar, p: Policy, now: number): SlaDecision {
  const s = normalize(t, cal, now);
  const dues = dueDates(t, s, p, cal);
  const run = runningClocks(t, s, p);
  const steps = [...p.escalations].sort((a, b) => a.at_percent - b.at_percent);
  const actions: EscalationAction[] = [];
  const marks: Record<string, Mark> = {};
  const breached: SlaClock[] = [];
  let next: number | null = null;
  const later = (x: number | null) => { if (x !== null && x > now && (next === null || x < next)) next = x; };

  for (const c of run) {
    if (c.paused) continue;
    const mark = s.marks[c.key] ?? { level: 0, breached: false };
    let level = mark.level;
    for (let i = mark.level; i < steps.length; i++) {
      const at = thresholdAt(cal, c, steps[i]!.at_percent)!;
      if (at <= now) {
        level = i + 1;
        actions.push({ clock: c.clock, key: c.key, level, step: steps[i]!, due: thresholdAt(cal, c, 100)! });
      } else {
        later(at);
        break;
      }
    }
    const due = thresholdAt(cal, c, 100)!;
    const isBreached = mark.breached || due <= now;
    if (isBreached && !mark.breached) breached.push(c.clock);
    if (!isBreached) later(due);
    if (level !== mark.level || isBreached !== mark.breached) marks[c.key] = { level, breached: isBreached };
  }

  if (actions.length > 0 || breached.length > 0) {
    return {
      kind: 'escalate',
      level: Math.max(s.escalation_level, ...actions.map((a) => a.level)),
      breached, actions, marks,
      raise: actions.filter((a) => a.step.raise_priority).length,
      next_at: next, dues,
    };
  }
  return next === null ? { kind: 'done', dues } : { kind: 'wait-until', at: next, dues };
}

/** One priority level up (urgent stays urgent). */
export function raisePriority(p: Priority, levels = 1): Priority {
  return PRIORITIES[Math.min(PRIORITIES.length - 1, PRIORITIES.indexOf(p) + levels)]!;
}

/** Where a step's e-mail goes: an address, or null for none. */
export function emailRecipient(step: EscalationStep, escalationEmail: string | undefined): string | null {
  const e = step.email ?? (step.notify === 'assignee' ? 'none' : 'default');
  if (e === 'none') return null;
  if (e === 'default') return escalationEmail ?? null;
  return e;
}

export { HOUR as HOUR_MS, MIN as MINUTE_MS };
