/**
 * The Agent API's route keys (`GET /api/v1/tickets/{id}`, …) with the role each requires, listed
 * from the handler's own route table (`makeAgentApi(deps).routes`) without a database. The CDK
 * stack gives API Gateway exactly one route per entry, so API Gateway answers CORS preflights
 * itself (an `ANY` route would swallow them) and a route can never exist on one side only.
 *
 * The route factories only build closures over their deps; nothing is read until a request is
 * handled. The deps passed here are inert: touching the database or the clock while the table is
 * being built throws, so a factory that starts doing I/O at construction fails loudly here
 * instead of silently reaching for AWS during `cdk synth`.
 */
import type { Clock } from '../../domain/clock.js';
import type { Db } from '../../store/db.js';
import { makeAgentApi } from '../agent-api.js';
import { API_PREFIX, type RouteDef, type Role } from './router.js';

export interface AgentRouteKey {
  readonly method: RouteDef['method'];
  /** Full path in API Gateway syntax, e.g. `/api/v1/tickets/{id}`. */
  readonly path: string;
  /** Lowest role allowed; null = public (no authorizer). */
  readonly role: Role | null;
}

export class RouteKeysError extends Error {
  override name = 'RouteKeysError';
}

function inert<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      throw new RouteKeysError(`route-keys: the Agent API route table touched ${what}.${String(prop)} while being built; route factories must not do I/O at construction`);
    },
  });
}

/** Every route of the Agent API as API Gateway must route it, in the handler's table order. */
export function agentApiRouteKeys(): AgentRouteKey[] {
  const { routes } = makeAgentApi({ db: inert<Db>('db'), clock: inert<Clock>('clock') });
  return routes.map((r) => ({ method: r.method, path: API_PREFIX + r.path, role: r.role }));
}
