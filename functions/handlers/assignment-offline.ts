/**
 * Assignment workflow task (lib/assignment.ts): an agent went offline at `since`; in each of its
 * teams whose offline return (`offline_return_minutes`) is due, its still-unanswered `new` tickets
 * go back to the team's queue and to a free member (functions/store/agents.ts
 * `returnOfflineTickets`). Answers when to look again for teams with a longer setting, or done.
 * The agent back online (or offline again later, which starts its own execution) ends it with
 * nothing returned. Idempotent: a retried step finds the tickets already returned.
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { lambdaHandler } from '../runtime/aws.js';
import { logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { returnOfflineTickets } from '../store/agents.js';
import { waitTimestamp } from './sla-evaluate.js';

export const OfflineStepInput = z.object({
  agent_id: z.string().min(1),
  since: z.number().int().nonnegative(),
});

export interface OfflineStepOutput {
  readonly agent_id: string;
  readonly since: number;
  readonly kind: 'wait-until' | 'done';
  /** ISO time of the next look (the state machine's Wait reads it); the input's on `done`. */
  readonly wait_until: string;
  readonly returned: number;
}

export class AssignmentOfflineError extends Error {
  override readonly name = 'AssignmentOfflineError';
}

export function makeAssignmentOffline(deps: { readonly db: Db; readonly clock: Clock; readonly defaultCapacity: number; readonly logger?: Pick<typeof defaultLogger, 'info'> }) {
  const ulid = monotonicFactory();
  const log = deps.logger ?? defaultLogger;
  return async (payload: unknown): Promise<OfflineStepOutput> => {
    const parsed = OfflineStepInput.safeParse(payload);
    if (!parsed.success) throw new AssignmentOfflineError('assignment-offline: input is not {agent_id, since}', { cause: { issues: parsed.error.issues.map((i) => i.path.join('.')) } });
    const { agent_id, since } = parsed.data;
    const now = deps.clock.now();
    const r = await returnOfflineTickets(deps.db, { agentId: agent_id, since, now, newId: (at) => ulid(at), defaultCapacity: deps.defaultCapacity });
    if (r.returned > 0) log.info('offline agent\'s tickets returned to the queue', { agent_id, returned: r.returned, teams: r.teams });
    return r.next === null
      ? { agent_id, since, kind: 'done', wait_until: waitTimestamp(now), returned: r.returned }
      : { agent_id, since, kind: 'wait-until', wait_until: waitTimestamp(r.next), returned: r.returned };
  };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeAssignmentOffline({ db: platform.db(config), clock: platform.clock, defaultCapacity: Number(config.CONFLUO_AGENT_DEFAULT_CAPACITY) });
});
