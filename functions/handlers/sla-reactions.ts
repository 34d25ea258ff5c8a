/**
 * SLA reactions of the dispatch λ: change-feed events that start or move SLA clocks keep the
 * ticket's `sla` block current and make sure the ticket's workflow execution wakes in time.
 *
 * One execution per ticket and generation, named `<ticket_id>-<generation>`. An event that moves
 * the next deadline EARLIER than the current execution's wake-up (or finds none waiting) bumps the
 * generation (a conditional write on the SLA revision) and starts the new execution; the old one
 * wakes later, sees a stale generation and ends without acting. An event that moves deadlines
 * later or stops a clock needs no new execution: the waiting one wakes, reads the ticket as it is
 * then and waits again — so a typical ticket costs one execution and a few transitions.
 *
 * StartExecution is idempotent by name and input
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html):
 * each reaction (re)starts the current generation's execution, so a crash between the commit and
 * the start is repaired by the stream's retry; `ExecutionAlreadyExists` (the execution ran with
 * another input or already finished) means it exists and is ignored.
 */
import { systemClock, type Clock } from '../domain/clock.js';
import {
  applyEvent, calendarFor, policySubject, DEFAULT_SLA_SETTINGS, evaluate, matchPolicy, mergeInto, normalize,
  type FullSla, type SlaSettings, type SlaState, type SlaTicket,
} from '../domain/sla/policy.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { getTicket } from '../store/reads.js';
import type { FeedEvent, TicketRecord } from '../store/records.js';
import { loadSlaSettings, writeSla } from '../store/sla.js';
import type { Reaction } from './reactions/reaction.js';
import { slaTicketOf, storedRev, waitTimestamp } from './sla-evaluate.js';

/** The input of an SLA execution (the state machine's first Wait reads `wait_until`). */
export interface SlaExecutionInput { readonly ticket_id: string; readonly generation: number; readonly wait_until: string }

/** Starts an SLA execution (AWS: SFN StartExecution; local: the local workflow engine). */
export type StartExecution = (name: string, input: SlaExecutionInput) => Promise<void>;

/**
 * Event types that move SLA clocks. Names not emitted yet by other capabilities (status,
 * priority, assignment, notes, merges from the Agent API) are listed so those capabilities only
 * have to emit them: `ticket.status_changed`, `ticket.priority_changed`, `ticket.updated` (data may
 * name `status`, `priority`, `team` or list `changed`), `ticket.assigned`/`ticket.handoff` (data.team),
 * `note.added` (data.handoff_team for an internal hand-off), `ticket.merged` (the loser's event, data
 * `into`/`merged_into`: the surviving ticket id), `ticket.resolved`, `ticket.closed`.
 */
export const SLA_EVENT_TYPES = [
  'ticket.opened', 'ticket.reopened', 'message.received', 'outbound.queued',
  'ticket.status_changed', 'ticket.priority_changed', 'ticket.updated', 'ticket.assigned', 'ticket.handoff',
  'note.added', 'ticket.merged', 'ticket.resolved', 'ticket.closed',
  // The customer's tier or contract changed (functions/store/organisations.ts): the policy is matched again.
  'ticket.tier_changed',
  // Phone (issue 16): an answered call or a call-back the customer picked up answers them.
  'call.answered',
] as const;

export interface SlaReactionDeps {
  readonly db: Db;
  readonly startExecution: StartExecution;
  readonly clock?: Clock;
  readonly defaults?: SlaSettings;
  /**
   * A waiting execution whose wake-up is older than this is presumed dead (its retries, at most
   * ~15 minutes, ran out) and replaced by a new generation. Default 1 hour.
   */
  readonly staleAfterMs?: number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export class SlaReactionError extends Error {
  override readonly name = 'SlaReactionError';
}

const MAX_ATTEMPTS = 6;

export function slaReactions(deps: SlaReactionDeps): Record<string, Reaction[]> {
  const log = deps.logger ?? defaultLogger;
  const clock = deps.clock ?? systemClock;
  const defaults = deps.defaults ?? DEFAULT_SLA_SETTINGS;
  const staleAfterMs = deps.staleAfterMs ?? 60 * 60_000;
  const { db } = deps;

  async function ensureStarted(ticketId: string, sla: Pick<FullSla, 'generation' | 'wake_at'>): Promise<void> {
    if (sla.wake_at === null || sla.generation === 0) return;
    try {
      await deps.startExecution(`${ticketId}-${sla.generation}`, { ticket_id: ticketId, generation: sla.generation, wait_until: waitTimestamp(sla.wake_at) });
    } catch (e) {
      if ((e as { name?: string })?.name !== 'ExecutionAlreadyExists') throw e;
    }
  }

  /** Load, apply `change` to the SLA block, re-target when a deadline moved earlier, commit, start. */
  async function retarget(ticketId: string, event: FeedEvent, change: (t: SlaTicket, s: FullSla, settings: SlaSettings) => Promise<FullSla> | FullSla): Promise<void> {
    let settings: SlaSettings | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const ticket = await getTicket(db, ticketId);
      // Held / deflected: no SLA until (unless) the ticket opens (README "Knowledge base": deflection).
      if (!ticket || ticket.status === 'merged' || ticket.status === 'held' || ticket.status === 'deflected') return;
      settings ??= await loadSlaSettings(db, defaults);
      const t = slaTicketOf(ticket);
      const now = Math.max(clock.now(), event.at);
      const policy0 = matchPolicy(settings.policies, policySubject(t, t.sla?.policy_priority ?? t.priority));
      const cal0 = calendarFor(settings, policy0);
      const before = normalize(t, cal0, event.at);
      const changed = await change(t, before, settings);
      // The policy follows the priority agents set (an escalation's raise does not re-match it).
      const policy = matchPolicy(settings.policies, policySubject(t, changed.policy_priority));
      const cal = calendarFor(settings, policy);
      const after: SlaTicket = { ...t, sla: changed };
      const decision = evaluate(after, cal, policy, now);
      const wakeNeeded = decision.kind === 'done' ? null : decision.kind === 'escalate' ? now : decision.at;
      const current = before.wake_at;
      const restart = wakeNeeded !== null && (current === null || before.generation === 0 || wakeNeeded < current || current < now - staleAfterMs);
      const next: FullSla = {
        ...changed, ...decision.dues, policy: policy.id, calendar: cal.id, rev: before.rev + 1,
        ...(restart ? { generation: before.generation + 1, wake_at: wakeNeeded } : {}),
      };
      if (!restart && sameSla(t.sla, next)) {
        await ensureStarted(t.id, next);
        return;
      }
      if (!(await writeSla(db, { ticketId: t.id, expectedRev: storedRev(ticket), sla: next }))) continue;
      if (restart) log.info('sla re-targeted', { ticket_id: t.id, event_type: event.type, generation: next.generation, wake_at: next.wake_at });
      await ensureStarted(t.id, next);
      return;
    }
    throw new SlaReactionError('gave up after repeated write conflicts', { cause: { ticket_id: ticketId, event_type: event.type, stage: 'commit', attempts: MAX_ATTEMPTS } });
  }

  const onEvent: Reaction = async (event) => {
    if (!event.ticket_id) return;
    // Acknowledgements, surveys and other automatic messages answer nobody (DESIGN.md §2).
    if (event.type === 'outbound.queued' && event.data.kind !== 'reply') return;
    await retarget(event.ticket_id, event, (t, _s, settings) => {
      const policy = matchPolicy(settings.policies, policySubject(t, t.sla?.policy_priority ?? t.priority));
      return applyEvent(t, calendarFor(settings, policy), { type: event.type, at: event.at, data: event.data });
    });
  };

  /** A merge: the loser's workflow ends by itself (status merged); the winner keeps the earliest start. */
  const onMerged: Reaction = async (event) => {
    const into = [event.data.into, event.data.merged_into, event.data.winner_id].find((v): v is string => typeof v === 'string');
    const loserId = event.ticket_id;
    if (!into || !loserId) return;
    const loser: TicketRecord | undefined = await getTicket(db, loserId);
    if (!loser) return;
    await retarget(into, event, (_t, s, settings) => {
      const lt = slaTicketOf(loser);
      const policy = matchPolicy(settings.policies, policySubject(lt, lt.sla?.policy_priority ?? lt.priority));
      return mergeInto(s, normalize(lt, calendarFor(settings, policy), event.at));
    });
  };

  const reactions: Record<string, Reaction[]> = {};
  for (const type of SLA_EVENT_TYPES) reactions[type] = [type === 'ticket.merged' ? onMerged : onEvent];
  return reactions;
}

/** Nothing the SLA cares about changed (the revision aside): skip the write. */
function sameSla(stored: SlaState | null, next: FullSla): boolean {
  if (!stored) return false;
  const { rev: _a, ...x } = stored as FullSla;
  const { rev: _b, ...y } = next;
  return stableJson(x) === stableJson(y);
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => (val && typeof val === 'object' && !Array.isArray(val)
    ? Object.fromEntries(Object.entries(val as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)))
    : val));
}

export { combineReactions } from './reactions/reaction.js';
