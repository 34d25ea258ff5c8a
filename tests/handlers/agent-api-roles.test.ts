/**
 * Every Agent API route against a LITERAL role table (tests/helpers/agent-api-roles.ts, not the
 * route's own `role`, which would let a lowered role pass its own test): each route called over
 * HTTP, through the local runtime's API Gateway and JWT authorizer, with a token of each role —
 * below the table's role 403, at or above it anything but 401/403 — and without a token 401.
 * The router's own behaviour (how the role is read, the same matrix without HTTP, validation
 * before any data is touched) is in tests/handlers/agent-api/router.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../functions/handlers/agent-api/router.js';
import { EXPECTED_ROLES } from '../helpers/agent-api-roles.js';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const ULID = '01J00000000000000000000000';
const fill = (path: string) => path.replace('{id}', path.startsWith('/templates/') ? 'greeting' : ULID).replace('{sid}', 'c_roles000000000000000000').replace('{message_id}', ULID).replace('{n}', '0');

describe('Agent API roles over HTTP, against a literal table', () => {
  let rt: Runtime & { api: ApiClient };
  const tokens: Partial<Record<Role, string>> = {};
  beforeAll(async () => {
    rt = await testRuntime();
    for (const role of ROLES) tokens[role] = await rt.api.token(`roles-${role}`, role);
  });
  afterAll(async () => { await rt?.stop(); });

  const call = async (method: string, path: string, token?: string) => {
    const res = await fetch(`${rt.url}/api/v1${path}`, {
      method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
    });
    return { status: res.status, text: await res.text() };
  };

  for (const [key, minimum] of Object.entries(EXPECTED_ROLES)) {
    const [method, path] = key.split(' ') as [string, string];
    it(`${key}: ${minimum === null ? 'public' : `401 without a token, 403 below ${minimum}, through at ${minimum} and above`}`, async () => {
      // A read of a missing record or an invalid body: nothing is changed by any role's call.
      const target = path === '/customers/{id}' && method === 'DELETE' ? fill(path).replace(ULID, '01J0000000000000000000NONE') : fill(path);
      if (minimum === null) {
        expect((await call(method, target)).status).toBe(200);
        return;
      }
      expect((await call(method, target)).status).toBe(401);
      for (const role of ROLES) {
        const res = await call(method, target, tokens[role]);
        if (ROLES.indexOf(role) < ROLES.indexOf(minimum)) {
          expect(res.status, `${role} on ${key}`).toBe(403);
          expect(JSON.parse(res.text).error.message).toBe(`requires role ${minimum}`);
        } else {
          expect([401, 403], `${role} on ${key}: ${res.text}`).not.toContain(res.status);
        }
      }
    });
  }
});
