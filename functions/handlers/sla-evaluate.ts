/**
 * SLA evaluate λ: the one task of the SLA state machine (lib/sla-workflow.ts). Input
 * `{ticket_id, generation}`; it loads the ticket as it is now, asks the domain what is due
 * (functions/domain/sla/policy.ts `evaluate`), commits escalations, and tells the state machine
 * what to do next: `wait-until` (loop until `wait_until`), `escalate` (committed; loop until
 * `wait_until`) or `done`.
 *
 * load → decide → commit, idempotent:
 * - a stale execution (its generation is not the ticket's) answers `done` and writes nothing, so
 *   re-targeting never races: the newest execution alone acts;
 * - every write is conditional on the SLA block's revision and generation; a lost race reloads and
 *   decides again, and a repeated invocation (Step Functions retries) finds the marks it already
 *   committed and escalates nothing twice;
 * - escalation e-mails are committed as `sla.email_pending` in the same transaction and sent
 *   afterwards; a failed send throws, the state machine retries, and the next attempt sends what
 *   is still pending (at-least-once e-mail, never lost).
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { renderEscalationEmail, type RawEmailRequest } from '../domain/sla/notify.js';
import {
  calendarFor, policySubject, DEFAULT_SLA_SETTINGS, emailRecipient, evaluate, matchPolicy, normalize, parseSlaSettingsJson, raisePriority,
  type FullSla, type PendingEmail, type SlaSettings, type SlaState, type SlaTicket,
} from '../domain/sla/policy.js';
import { lambdaHandler } from '../runtime/aws.js';
import type { Config } from '../runtime/config.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import { alertEmailSender } from '../runtime/perform.js';
import type { Db } from '../store/db.js';
import { getTicket } from '../store/reads.js';
import type { EventEntry, FeedEvent, TicketRecord } from '../store/records.js';
import { commitEscalation, loadSlaSettings, removePendingEmail, writeSla } from '../store/sla.js';

export const SlaStepInput = z.object({
  ticket_id: z.string().min(1),
  generation: z.number().int().nonnegative(),
  /** `$$.Execution.Name`, for logs. */
  execution: z.string().optional(),
});
export type SlaStepInput = z.infer<typeof SlaStepInput>;

/** What the state machine branches on (its Choice state reads `kind`, its Wait state `wait_until`). */
export interface SlaStepOutput {
  readonly ticket_id: string;
  readonly generation: number;
  readonly kind: 'wait-until' | 'escalate' | 'done';
  /** ISO-8601 UTC, whole seconds (Step Functions Wait `TimestampPath`); null with `done`. */
  readonly wait_until: string | null;
  readonly level?: number;
  readonly breached?: readonly string[];
  readonly reason?: 'stale' | 'missing';
}

export interface SlaEvaluateDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Sends a described e-mail (AWS: SES SendRawEmail; local: the outbox, kind `escalation`). */
  readonly sendEmail: (request: RawEmailRequest, meta: { readonly ticket_id: string; readonly email_id: string }) => Promise<void>;
  /** ESCALATION_EMAIL: the 'default' recipient of escalation steps. */
  readonly escalationEmail?: string | undefined;
  /** EMAIL_FROM: the sender (a verified SES identity). Without it no escalation e-mail is committed. */
  readonly emailFrom?: string | undefined;
  /** Calendars and policies in force when none are stored (stack props → CONFLUO_SLA_DEFAULTS). */
  readonly defaults?: SlaSettings;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SlaEvaluateError extends Error {
  override readonly name = 'SlaEvaluateError';
}

const MAX_ATTEMPTS = 6;

/**
 * A Wait `TimestampPath` value: RFC 3339 with an uppercase T and Z
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html), rounded up to the whole
 * second so the wake-up is never before the threshold.
 */
export function waitTimestamp(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function slaTicketOf(t: TicketRecord): SlaTicket {
  return {
    id: t.id, status: t.status, priority: t.priority, channel: t.channel, category: t.category ?? null, team: t.team ?? null,
    tier: t.tier ?? null, contract: t.contract ?? null,
    created_at: t.created_at, first_response_at: t.first_response_at ?? null, last_inbound_at: t.last_inbound_at ?? null,
    last_outbound_at: t.last_outbound_at ?? null, sla: (t.sla as SlaState | null) ?? null,
  };
}

/** `sla.rev` as stored (null when the block predates revisions). */
export const storedRev = (t: TicketRecord): number | null => (typeof (t.sla as SlaState | null)?.rev === 'number' ? (t.sla as SlaState).rev! : null);

export function makeSlaEvaluate(deps: SlaEvaluateDeps) {
  const log = deps.logger ?? defaultLogger;
  const { db } = deps;
  const ulid = monotonicFactory();
  const defaults = deps.defaults ?? DEFAULT_SLA_SETTINGS;

  async function flushEmails(ticket: TicketRecord): Promise<number> {
    const pending = Object.values((ticket.sla as SlaState | null)?.email_pending ?? {}) as PendingEmail[];
    for (const e of pending.sort((a, b) => a.id.localeCompare(b.id))) {
      const request = renderEscalationEmail({ from: deps.emailFrom ?? 'confluo@confluo.localhost', email: e, ticket: { id: ticket.id, number: ticket.number } });
      await deps.sendEmail(request, { ticket_id: ticket.id, email_id: e.id });
      await removePendingEmail(db, ticket.id, e.id);
      log.info('sla escalation e-mailed', { ticket_id: ticket.id, email_id: e.id, escalation_level: e.level });
    }
    return pending.length;
  }

  async function step(input: SlaStepInput): Promise<SlaStepOutput> {
    const base = { ticket_id: input.ticket_id, generation: input.generation };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, input.ticket_id);
      if (!ticket) return { ...base, kind: 'done', wait_until: null, reason: 'missing' };
      const t = slaTicketOf(ticket);
      if ((t.sla?.generation ?? 0) !== input.generation) {
        log.info('sla stale wake-up', { ticket_id: t.id, generation: input.generation, current_generation: t.sla?.generation ?? 0, execution_id: input.execution });
        return { ...base, kind: 'done', wait_until: null, reason: 'stale' };
      }
      await flushEmails(ticket);

      const settings = await loadSlaSettings(db, defaults);
      const now = deps.clock.now();
      const full0 = t.sla ?? null;
      const policy = matchPolicy(settings.policies, policySubject(t, full0?.policy_priority ?? t.priority));
      const cal = calendarFor(settings, policy);
      const s = normalize(t, cal, now);
      const decision = evaluate(t, cal, policy, now);
      const next: FullSla = { ...s, ...decision.dues, policy: policy.id, calendar: cal.id, rev: s.rev + 1 };

      if (decision.kind !== 'escalate') {
        const wake = decision.kind === 'wait-until' ? decision.at : null;
        const ok = await writeSla(db, { ticketId: t.id, expectedRev: storedRev(ticket), sla: { ...next, wake_at: wake } });
        if (!ok) continue;
        log.info('sla evaluated', { ticket_id: t.id, generation: input.generation, kind: decision.kind, execution_id: input.execution });
        return { ...base, kind: decision.kind, wait_until: wake === null ? null : waitTimestamp(wake) };
      }

      // escalate: marks, breaches, level, priority, timeline, feed and the e-mails, in one transaction
      const raised = decision.raise > 0 ? raisePriority(t.priority, decision.raise) : t.priority;
      const raisedFrom = raised !== t.priority ? t.priority : null;
      const emails: Record<string, PendingEmail> = { ...s.email_pending };
      const timeline: EventEntry[] = [];
      const feed: FeedEvent[] = [];
      for (const a of decision.actions) {
        const to = deps.emailFrom ? emailRecipient(a.step, deps.escalationEmail) : null;
        const isTop = a === decision.actions.at(-1);
        const priorityChange = isTop && raisedFrom ? { from: raisedFrom, to: raised } : null;
        if (to) {
          const id = ulid(now);
          emails[id] = { id, to, clock: a.clock, level: a.level, notify: a.step.notify, at_percent: a.step.at_percent, due: a.due, priority: raised, raised_from: raisedFrom, at: now };
        }
        const data = { clock: a.clock, level: a.level, notify: a.step.notify, at_percent: a.step.at_percent, due: new Date(a.due).toISOString(), emailed: to !== null, ...(priorityChange ? { priority: priorityChange } : {}) };
        timeline.push({ type: 'event', id: ulid(now), ticket_id: t.id, at: now, event: 'sla.escalated', data });
        feed.push({ id: ulid(now), type: 'sla.escalated', at: now, ticket_id: t.id, customer_id: ticket.customer_id, data: { clock: a.clock, level: a.level, notify: a.step.notify, ...(priorityChange ? { priority: raised } : {}) } });
      }
      for (const clock of decision.breached) {
        const due = decision.actions.find((a) => a.clock === clock)?.due ?? null;
        timeline.push({ type: 'event', id: ulid(now), ticket_id: t.id, at: now, event: 'sla.breached', data: { clock, ...(due !== null ? { due: new Date(due).toISOString() } : {}) } });
        feed.push({ id: ulid(now), type: 'sla.breached', at: now, ticket_id: t.id, customer_id: ticket.customer_id, data: { clock, level: decision.level } });
      }
      const sla: FullSla = {
        ...next,
        marks: { ...s.marks, ...decision.marks },
        breached: [...new Set([...s.breached, ...decision.breached])],
        escalation_level: decision.level,
        email_pending: emails,
        wake_at: decision.next_at,
      };
      const result = await commitEscalation(db, {
        ticketId: t.id, expectedRev: storedRev(ticket), sla, touchAt: now, timeline, feed,
        ...(raisedFrom ? { priority: raised } : {}),
      });
      if (result === 'conflict') continue;
      log.info('sla escalated', { ticket_id: t.id, generation: input.generation, escalation_level: decision.level, breaches: decision.breached.length, execution_id: input.execution });
      const committed = await getTicket(db, t.id);
      if (committed) await flushEmails(committed);
      const out = { ...base, level: decision.level, breached: decision.breached };
      return decision.next_at === null
        ? { ...out, kind: 'done', wait_until: null }
        : { ...out, kind: 'escalate', wait_until: waitTimestamp(decision.next_at) };
    }
    throw new SlaEvaluateError('gave up after repeated write conflicts', { cause: { ticket_id: input.ticket_id, generation: input.generation, stage: 'commit', attempts: MAX_ATTEMPTS } });
  }

  const handler = async (event: unknown): Promise<SlaStepOutput> => {
    const parsed = SlaStepInput.safeParse(event);
    if (!parsed.success) throw new SlaEvaluateError('input is not {ticket_id, generation}', { cause: { stage: 'input', paths: parsed.error.issues.map((i) => i.path.join('.')) } });
    return step(parsed.data);
  };
  return Object.assign(handler, { step });
}

/** Deployment defaults from CONFLUO_SLA_DEFAULTS (JSON of {calendars, policies}), validated. */
export function slaDefaultsFrom(config: Pick<Config, 'CONFLUO_SLA_DEFAULTS'>): SlaSettings {
  return parseSlaSettingsJson(config.CONFLUO_SLA_DEFAULTS);
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeSlaEvaluate({
    db: platform.db(config), clock: platform.clock, defaults: slaDefaultsFrom(config),
    escalationEmail: config.ESCALATION_EMAIL, emailFrom: config.EMAIL_FROM,
    sendEmail: alertEmailSender(platform.perform(config)),
  });
});
