/**
 * What `settle()` of the local runtime (`POST /dev/settle`) reports when the system does not
 * become quiet in time, shared by local/runtime.ts (which throws it) and local/server.ts (which
 * answers it as 503 `not_settled`). Counts only — never a message body or anything personal.
 */
import type { QueueStats } from './queues.js';

/** The wait that was running when time ran out; `a quiet pass` = every wait ended, but work kept coming. */
export type SettleWait = 'inbound queue' | 'table stream' | 'outbound queue' | 'media queue' | 'workflows' | 'a quiet pass';

export interface PendingWork {
  readonly waitingFor: SettleWait;
  /** Per queue as `GET /dev/queues` counts it: visible (`depth`), received but not finished (`inFlight`), dead letters. */
  readonly queues: readonly QueueStats[];
  /** Feed records the table stream dispatched during this settle (still counting up = still busy). */
  readonly stream: { readonly dispatched: number };
  /**
   * Executions with a step to run now (`due`; these block settling), `running` executions in all,
   * and those `parked` in a Wait for a later virtual time (these do not block); `steps` run during
   * this settle.
   */
  readonly workflows: { readonly due: number; readonly running: number; readonly parked: number; readonly steps: number };
}

export class NotSettledError extends Error {
  override readonly name = 'NotSettledError';
  constructor(message: string, readonly pending: PendingWork) {
    super(message, { cause: pending });
  }
}

/**
 * `wait`, or the error of `timedOut()` once `deadline` (epoch ms) has passed, whichever comes
 * first. The wait itself goes on (its later outcome is ignored); the caller stops waiting.
 */
export function beforeDeadline<T>(wait: Promise<T>, deadline: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now())); });
  return Promise.race([wait, expired]).finally(() => clearTimeout(timer));
}
