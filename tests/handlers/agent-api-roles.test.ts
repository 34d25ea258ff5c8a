/**
 * Every Agent API route against a LITERAL role table (not the route's own `role`, which would let
 * a lowered role pass its own test): each route called over HTTP, through the local runtime's API
 * Gateway and JWT authorizer, with a token of each role — below the table's role 403, at or above
 * it anything but 401/403 — and without a token 401. Then, table-driven over the route table (so a
 * new route is covered the day it is added): a bad body or query → 400 before any data is touched
 * (the database here refuses every call). And how the role is read: `cognito:groups` only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import { callerOf, groupsOf, ROLES, type Role } from '../../functions/handlers/agent-api/router.js';
import type { Db } from '../../functions/store/db.js';
import { fixedClock } from '../../functions/domain/clock.js';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

/** Who may call what (DESIGN.md §3, issue 6): written out, never read from the route table. */
const EXPECTED_ROLES: Readonly<Record<string, Role | null>> = {
  'GET /tickets': 'agent',
  'GET /tickets/{id}': 'agent',
  'GET /tickets/{id}/timeline': 'agent',
  'POST /tickets/{id}/replies': 'agent',
  'POST /tickets/{id}/attachments': 'agent',
  'GET /customers': 'agent',
  'GET /customers/{id}': 'agent',
  'PATCH /tickets/{id}': 'agent',
  'POST /tickets/{id}/notes': 'agent',
  'GET /tickets/counts': 'agent',
  'GET /events': 'agent',
  'GET /templates': 'agent',
  'PUT /templates/{id}': 'supervisor',
  'GET /rules': 'agent',
  'PUT /rules': 'supervisor',
  'GET /survey/templates': 'agent',
  'PUT /survey/templates': 'admin',
  'POST /customers/{id}/merge': 'supervisor',
  'POST /customers/{id}/unmerge': 'supervisor',
  'DELETE /customers/{id}': 'admin',
  'GET /customers/{id}/erasure': 'admin',
  'GET /tickets/{id}/messages/{message_id}/attachments/{n}': 'agent',
  'POST /tickets/{id}/merge': 'agent',
  'POST /tickets/{id}/split': 'agent',
  'GET /sla/calendars': 'agent',
  'PUT /sla/calendars': 'supervisor',
  'GET /sla/policies': 'agent',
  'PUT /sla/policies': 'supervisor',
  'GET /kpis': 'supervisor',
  'DELETE /webchat/sessions/{sid}': 'supervisor',
  'POST /tickets/{id}/messages/{message_id}/retry': 'agent',
  'GET /whatsapp/templates': 'agent',
  'PUT /whatsapp/templates': 'supervisor',
  'GET /openapi.json': null,
};

const noDb = { tableName: 'none', roundTrips: () => 0, doc: { send: async () => { throw new Error('the database must not be reached'); } } } as unknown as Db;
const api = makeAgentApi({ db: noDb, clock: fixedClock(Date.UTC(2026, 10, 1)) });

const ULID = '01J00000000000000000000000';
const fill = (path: string) => path.replace('{id}', path.startsWith('/templates/') ? 'greeting' : ULID).replace('{sid}', 'c_roles000000000000000000').replace('{message_id}', ULID).replace('{n}', '0');

function event(method: string, path: string, opts: { role?: Role; body?: unknown; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: `/api/v1${path}`, rawQueryString: new URLSearchParams(opts.query ?? {}).toString(), headers: { 'content-type': 'application/json' },
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: {
      http: { method, path: `/api/v1${path}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      ...(opts.role ? { authorizer: { jwt: { claims: { sub: 'tester', 'cognito:groups': `[${opts.role}]` }, scopes: null } } } : {}),
    } as never,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body), isBase64Encoded: false } : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

const protectedRoutes = api.routes.filter((r) => r.role !== null);
const status = async (e: APIGatewayProxyEventV2) => {
  const r = await api(e);
  return { status: r.statusCode, body: JSON.parse(String(r.body)) as { error?: { code: string; message: string } } };
};

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

  it('has exactly the routes of the table, with the table\'s roles', () => {
    expect(Object.fromEntries(api.routes.map((r) => [`${r.method} ${r.path}`, r.role]))).toEqual(EXPECTED_ROLES);
  });

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

describe('the caller\'s role', () => {
  const caller = (claims: Record<string, unknown>) => callerOf({ requestContext: { authorizer: { jwt: { claims } } } } as unknown as APIGatewayProxyEventV2);

  it('comes from cognito:groups only: role and custom:role claims (user-writable) are ignored', () => {
    expect(caller({ sub: 'u', role: 'admin' })).toBeNull();
    expect(caller({ sub: 'u', 'custom:role': 'admin' })).toBeNull();
    expect(caller({ sub: 'u', role: 'admin', 'custom:role': 'admin', 'cognito:groups': '[agent]' })?.role).toBe('agent');
  });

  it('splits the groups as API Gateway passes them, taking the highest role', () => {
    expect(groupsOf('[admin supervisor]')).toEqual(['admin', 'supervisor']);
    expect(groupsOf('[agent]')).toEqual(['agent']);
    expect(groupsOf(['supervisor', 'agent'])).toEqual(['supervisor', 'agent']);
    expect(groupsOf('["supervisor","agent"]')).toEqual(['supervisor', 'agent']);
    expect(caller({ sub: 'u', 'cognito:groups': '[agent supervisor]' })?.role).toBe('supervisor');
    expect(caller({ sub: 'u', 'cognito:groups': '[support-team admin]' })?.role).toBe('admin');
    // A group whose name merely contains a role (Cognito allows commas in names) is not that role.
    expect(caller({ sub: 'u', 'cognito:groups': '[agent,admin]' })).toBeNull();
    expect(caller({ sub: 'u', 'cognito:groups': '[administrators]' })).toBeNull();
    expect(caller({ sub: 'u', 'cognito:groups': '' })).toBeNull();
  });
});

describe('Agent API validation, per route', () => {
  it('has the routes of issue 6 in its table', () => {
    const names = api.routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining([
      'PATCH /tickets/{id}', 'POST /tickets/{id}/notes', 'GET /tickets/counts', 'GET /events',
      'GET /templates', 'PUT /templates/{id}', 'GET /rules', 'PUT /rules', 'GET /survey/templates', 'PUT /survey/templates',
    ]));
  });

  it('documents the new routes in the generated OpenAPI document with their request schemas', () => {
    const doc = api.openapi as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; 'x-confluo-role'?: string }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.paths['/api/v1/tickets/{id}']!.patch!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/TicketPatch');
    expect(Object.keys(doc.components.schemas.TicketPatch!.properties!)).toEqual(['status', 'priority', 'assignee', 'team', 'category', 'tags']);
    expect(doc.paths['/api/v1/rules']!.put!['x-confluo-role']).toBe('supervisor');
    expect(doc.paths['/api/v1/survey/templates']!.put!['x-confluo-role']).toBe('admin');
    expect(doc.paths['/api/v1/survey/templates']!.put!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/PutSurveyTemplates');
    expect(Object.keys(doc.components.schemas.SurveyTemplate!.properties!)).toEqual(['question', 'reminder', 'reply_hint', 'thanks', 'thanks_low']);
    for (const p of ['/api/v1/tickets/{id}/notes', '/api/v1/tickets/counts', '/api/v1/events', '/api/v1/templates', '/api/v1/templates/{id}']) expect(doc.paths, p).toHaveProperty([p]);
  });

  it('lets a higher role through to validation (admin on a supervisor route)', async () => {
    const res = await status(event('PUT', '/rules', { role: 'admin', body: { items: 'nope' } }));
    expect(res.status).toBe(400);
  });

  const withBody = protectedRoutes.filter((r) => r.body);
  it.each(withBody.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses a bad body with 400 naming the field', async (_n, r) => {
    const res = await status(event(r.method, fill(r.path), { role: r.role!, body: { unexpected_field: 1 } }));
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid');
    expect(res.body.error?.message).toMatch(/^body/);
  });

  const withQuery = protectedRoutes.filter((r) => r.query);
  it.each(withQuery.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses an unknown query parameter with 400', async (_n, r) => {
    const res = await status(event(r.method, fill(r.path), { role: r.role!, query: { unexpected: '1' } }));
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/^query/);
  });
});

describe('Agent API behind API Gateway routes', () => {
  const withParams = api.routes.filter((r) => r.path.includes('{') && r.role !== null);

  it.each(withParams.map((r) => [`${r.method} ${r.path}`, r] as const))('%s accepts the path parameters of the gateway route that matched it (a greedy {proxy+} route adds proxy)', async (_n, r) => {
    const path = fill(r.path);
    const e = event(r.method, path, { role: 'admin', body: {} });
    // As API Gateway passes them for `ANY /api/v1/{proxy+}`: the greedy parameter only.
    (e as { pathParameters?: Record<string, string> }).pathParameters = { proxy: path.slice(1) };
    let res: { status: number | undefined; body: { error?: { code: string; message: string } } } | undefined;
    try { res = await status(e); } catch { /* reached the (refusing) database: the path was accepted */ }
    expect(res?.body.error?.message ?? '').not.toMatch(/^path/);
  });
});
