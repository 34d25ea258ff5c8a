import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../functions/domain/clock.js';
import { makeAgentApi } from '../../../functions/handlers/agent-api.js';
import { agentApiRouteKeys } from '../../../functions/handlers/agent-api/route-keys.js';
import { createDb } from '../../../functions/store/db.js';

describe('agentApiRouteKeys', () => {
  it('lists exactly the routes the handler serves, with their methods, full paths and roles, without a database', () => {
    const served = makeAgentApi({ db: createDb('unused'), clock: systemClock }).routes.map((r) => ({ method: r.method, path: `/api/v1${r.path}`, role: r.role }));
    expect(agentApiRouteKeys()).toEqual(served);
    expect(agentApiRouteKeys()).toContainEqual({ method: 'GET', path: '/api/v1/openapi.json', role: null });
    expect(agentApiRouteKeys()).toContainEqual({ method: 'PATCH', path: '/api/v1/tickets/{id}', role: 'agent' });
  });

  it('lists each method and path once (API Gateway refuses a duplicate route key)', () => {
    const keys = agentApiRouteKeys().map((k) => `${k.method} ${k.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('uses only API Gateway path syntax: literal segments and whole-segment {name} parameters', () => {
    for (const k of agentApiRouteKeys()) expect(k.path).toMatch(/^(\/([\w.-]+|\{[A-Za-z_]\w*\}))+$/);
  });
});
