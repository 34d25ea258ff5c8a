/**
 * Automatic assignment through the change feed (issue 15; functions/store/agents.ts):
 * - a ticket opened, reopened, handed to a team, unassigned, resolved, closed or merged: its hold
 *   follows it (a freed slot drains the queues of that agent's teams), then, if it waits for
 *   automatic assignment, it joins its team's queue and the queue is drained;
 * - `agent.presence_changed` to `available`: the agent's teams' queues are drained; to `offline`:
 *   the offline-return timer starts (one assignment workflow execution per offline spell), when
 *   the deployment has the workflow (`CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN`).
 * Every step is idempotent (conditional writes), as a redelivered stream record requires.
 */
import { monotonicFactory } from 'ulid';
import type { Clock } from '../../domain/clock.js';
import type { Db } from '../../store/db.js';
import { drainQueue, drainTeamsOf, enqueueTicket, getAgent, reconcileHold, teamsOf } from '../../store/agents.js';
import { offlineReturnPlan } from '../../domain/assignment.js';
import type { FeedEvent } from '../../store/records.js';
import type { Reaction } from './reaction.js';
import { waitTimestamp } from '../sla-evaluate.js';

export interface AssignmentDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly defaultCapacity: number;
  /** Starts the offline-return timer (the assignment state machine); absent: no offline return. */
  readonly startExecution?: (name: string, input: Record<string, unknown>) => Promise<void>;
}

/** Ticket events after which a ticket's hold or its place in the queue may have changed. */
export const TICKET_EVENTS = ['ticket.opened', 'ticket.reopened', 'ticket.assigned', 'ticket.updated', 'ticket.status_changed', 'ticket.merged', 'ticket.handoff'] as const;

/** An execution name for one offline spell (Step Functions: ≤ 80 characters of [A-Za-z0-9-_]). */
export const offlineExecutionName = (agentId: string, since: number) => `offline-${agentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 50)}-${since}`;

export function assignmentReactions(deps: AssignmentDeps): Record<string, Reaction[]> {
  const ulid = monotonicFactory();
  const writer = () => { const now = deps.clock.now(); return { now, newId: (at: number) => ulid(at), defaultCapacity: deps.defaultCapacity }; };

  const onTicket: Reaction = async function assignTicketOnChange(e: FeedEvent) {
    if (!e.ticket_id) return;
    const freed = await reconcileHold(deps.db, e.ticket_id, deps.defaultCapacity);
    if (freed) await drainTeamsOf(deps.db, freed, writer());
    const team = await enqueueTicket(deps.db, e.ticket_id);
    if (team) await drainQueue(deps.db, team.code, writer());
  };

  const onPresence: Reaction = async function assignOnPresence(e: FeedEvent) {
    const agentId = typeof e.data.agent_id === 'string' ? e.data.agent_id : null;
    if (!agentId) return;
    const agent = await getAgent(deps.db, agentId);
    if (!agent) return;
    if (agent.presence === 'available') {
      await drainTeamsOf(deps.db, agentId, writer());
      return;
    }
    if (agent.presence === 'offline' && e.data.to === 'offline' && deps.startExecution) {
      // The timer of this offline spell (presence_at): a later spell gets its own, and an
      // execution that wakes after the agent came back ends without returning anything.
      const plan = offlineReturnPlan(await teamsOf(deps.db, agentId), agentId, agent.presence_at, agent.presence_at);
      const first = plan.due.length > 0 ? agent.presence_at : plan.next;
      if (first === null) return;
      await deps.startExecution(offlineExecutionName(agentId, agent.presence_at), { agent_id: agentId, since: agent.presence_at, wait_until: waitTimestamp(first) });
    }
  };

  return {
    ...Object.fromEntries(TICKET_EVENTS.map((t) => [t, [onTicket]])),
    'agent.presence_changed': [onPresence],
  };
}
