/**
 * The Agent API router without HTTP (the same handler API Gateway invokes, called with the event
 * it would pass): every route against the LITERAL role table (tests/helpers/agent-api-roles.ts),
 * how the caller's role is read (`cognito:groups` only), and request validation — a bad path,
 * query or body is a 400 before any data is touched (the database here refuses every call).
 * The same role matrix through the local runtime's API Gateway and JWT authorizer is
 * tests/handlers/agent-api-roles.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeAgentApi } from '../../../functions/handlers/agent-api.js';
import { z } from 'zod';
import { buildRouter, callerOf, errorToResult, groupsOf, route, ROLES, type Role } from '../../../functions/handlers/agent-api/router.js';
import { HttpError } from '../../../functions/runtime/http.js';
import { CursorError } from '../../../functions/store/reads.js';
import type { Db } from '../../../functions/store/db.js';
import { fixedClock } from '../../../functions/domain/clock.js';
import { EXPECTED_ROLES } from '../../helpers/agent-api-roles.js';

const noDb = { tableName: 'none', roundTrips: () => 0, doc: { send: async () => { throw new Error('the database must not be reached'); } } } as unknown as Db;
/**
 * A new handler in each test, never one built when the file loads: each test then exercises the
 * route table it checks (mutation testing attributes what runs at import to no test at all).
 */
const newApi = () => makeAgentApi({ db: noDb, clock: fixedClock(Date.UTC(2026, 10, 1)) });
type Api = ReturnType<typeof newApi>;
/** The literal table's keys, split (the tests are generated from the table, not the routes). */
const TABLE = Object.entries(EXPECTED_ROLES).map(([key, role]) => ({ key, method: key.split(' ')[0]!, path: key.split(' ')[1]!, role }));

const ULID = '01J00000000000000000000000';
const fill = (path: string) => path.replace('{id}', path.startsWith('/templates/') ? 'greeting' : path.startsWith('/organisations/') ? 'acme' : ULID).replace('{sid}', 'c_roles000000000000000000').replace('{message_id}', ULID).replace('{n}', '0').replace('{code}', 'support');

function event(method: string, path: string, opts: { role?: Role; groups?: string; body?: unknown; rawBody?: string; base64?: boolean; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const groups = opts.groups ?? (opts.role ? `[${opts.role}]` : undefined);
  const body = opts.rawBody ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
  return {
    version: '2.0', routeKey: '$default', rawPath: `/api/v1${path}`, rawQueryString: new URLSearchParams(opts.query ?? {}).toString(), headers: { 'content-type': 'application/json' },
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: {
      http: { method, path: `/api/v1${path}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      ...(groups !== undefined ? { authorizer: { jwt: { claims: { sub: 'tester', 'cognito:groups': groups }, scopes: null } } } : {}),
    } as never,
    ...(body !== undefined
      ? { body: opts.base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: opts.base64 === true }
      : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

/** The answer, or `reached-db` when the call got past the router to the (refusing) database. */
const status = async (api: Api, e: APIGatewayProxyEventV2) => {
  try {
    const r = await api(e);
    return { status: r.statusCode, body: JSON.parse(String(r.body)) as { error?: { code: string; message: string } } };
  } catch (err) {
    if ((err as Error).name === 'AgentApiError') return { status: 'reached-db' as const, body: {} as { error?: { code: string; message: string } } };
    throw err;
  }
};

describe('Agent API roles, against a literal table', () => {
  it('has exactly the routes of the table, with the table\'s roles', () => {
    const api = newApi();
    expect(Object.fromEntries(api.routes.map((r) => [`${r.method} ${r.path}`, r.role]))).toEqual(EXPECTED_ROLES);
  });

  for (const { key, method, path, role: minimum } of TABLE) {
    if (minimum === null) continue;
    it(`${key}: 401 without a token or a role, 403 below ${minimum} naming it, through at ${minimum} and above`, async () => {
      const api = newApi();
      const target = fill(path);
      const none = await status(api, event(method, target));
      expect(none.status).toBe(401);
      expect(none.body.error).toEqual({ code: 'unauthorized', message: 'a valid bearer token is required' });
      // A token whose groups name no role is no better than none.
      expect((await status(api, event(method, target, { groups: '[support-team]' }))).status).toBe(401);
      for (const role of ROLES) {
        const res = await status(api, event(method, target, { role }));
        if (ROLES.indexOf(role) < ROLES.indexOf(minimum)) {
          expect(res.status, `${role} on ${key}`).toBe(403);
          expect(res.body.error).toEqual({ code: 'forbidden', message: `requires role ${minimum}` });
        } else {
          expect([401, 403], `${role} on ${key}`).not.toContain(res.status);
        }
      }
    });
  }

  it('serves the public OpenAPI document without a token', async () => {
    const res = await newApi()(event('GET', '/openapi.json'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toMatchObject({ openapi: '3.1.0' });
  });
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
    const names = newApi().routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining([
      'PATCH /tickets/{id}', 'POST /tickets/{id}/notes', 'GET /tickets/counts', 'GET /events',
      'GET /templates', 'PUT /templates/{id}', 'GET /rules', 'PUT /rules', 'GET /survey/templates', 'PUT /survey/templates',
    ]));
  });

  it('documents the new routes in the generated OpenAPI document with their request schemas', () => {
    const doc = newApi().openapi as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; 'x-confluo-role'?: string }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.paths['/api/v1/tickets/{id}']!.patch!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/TicketPatch');
    expect(Object.keys(doc.components.schemas.TicketPatch!.properties!)).toEqual(['status', 'priority', 'assignee', 'team', 'category', 'tags']);
    expect(doc.paths['/api/v1/rules']!.put!['x-confluo-role']).toBe('supervisor');
    expect(doc.paths['/api/v1/survey/templates']!.put!['x-confluo-role']).toBe('admin');
    expect(doc.paths['/api/v1/survey/templates']!.put!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/PutSurveyTemplates');
    expect(Object.keys(doc.components.schemas.SurveyTemplate!.properties!)).toEqual(['question', 'reminder', 'reply_hint', 'thanks', 'thanks_low']);
    for (const p of ['/api/v1/tickets/{id}/notes', '/api/v1/tickets/counts', '/api/v1/events', '/api/v1/templates', '/api/v1/templates/{id}']) expect(doc.paths, p).toHaveProperty([p]);
  });

  it('lets a higher role through to validation (admin on a supervisor route)', async () => {
    const api = newApi();
    const res = await status(api, event('PUT', '/rules', { role: 'admin', body: { items: 'nope' } }));
    expect(res.status).toBe(400);
  });

  const routeOf = (api: Api, key: string) => api.routes.find((r) => `${r.method} ${r.path}` === key)!;

  for (const { key, role } of TABLE.filter((t) => t.role !== null)) {
    it(`${key} refuses a bad body or an unknown query parameter with 400, naming where`, async () => {
      const api = newApi();
      const r = routeOf(api, key);
      // GET/DELETE routes without a body schema ignore a body; every route refuses what its schemas do not know.
      if (r.body) {
        const res = await status(api, event(r.method, fill(r.path), { role: role!, body: { unexpected_field: 1 } }));
        expect(res.status).toBe(400);
        expect(res.body.error?.code).toBe('invalid');
        expect(res.body.error?.message).toMatch(/^body: |^body\./);
      }
      if (r.query) {
        const res = await status(api, event(r.method, fill(r.path), { role: role!, query: { unexpected: '1' } }));
        expect(res.status).toBe(400);
        expect(res.body.error?.message).toMatch(/^query/);
      }
    });
  }

  it('checks a body or query on most routes (the table above is not vacuous)', () => {
    const api = newApi();
    expect(api.routes.filter((r) => r.body).length).toBeGreaterThanOrEqual(12);
    expect(api.routes.filter((r) => r.query).length).toBeGreaterThanOrEqual(4);
  });
});

describe('Agent API behind API Gateway routes', () => {
  const withParams = TABLE.filter((t) => t.path.includes('{') && t.role !== null);

  it.each(withParams.map((t) => [t.key, t] as const))('%s accepts the path parameters of the gateway route that matched it (a greedy {proxy+} route adds proxy)', async (_n, r) => {
    const api = newApi();
    const path = fill(r.path);
    const e = event(r.method, path, { role: 'admin', body: {} });
    // As API Gateway passes them for `ANY /api/v1/{proxy+}`: the greedy parameter only.
    (e as { pathParameters?: Record<string, string> }).pathParameters = { proxy: path.slice(1) };
    let res: Awaited<ReturnType<typeof status>> | undefined;
    try { res = await status(api, e); } catch { /* reached the (refusing) database: the path was accepted */ }
    expect(res?.body.error?.message ?? '').not.toMatch(/^path/);
  });
});

describe('Agent API requests the router refuses itself', () => {
  const TICKET = '/tickets/01J00000000000000000000000';
  const body = async (api: Api, e: APIGatewayProxyEventV2) => {
    const r = await api(e);
    return { status: r.statusCode, body: JSON.parse(String(r.body)) as { error?: { code: string; message: string } } };
  };

  it('answers an unknown path, or a known path with another method, 404 no such route', async () => {
    const api = newApi();
    expect(await body(api, event('GET', '/nope', { role: 'admin' }))).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no such route' } } });
    expect(await body(api, event('DELETE', '/tickets', { role: 'admin' }))).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no such route' } } });
  });

  it('refuses a body that is not JSON with 400 malformed, plain or base64-encoded as API Gateway may pass it', async () => {
    const api = newApi();
    const want = { status: 400, body: { error: { code: 'malformed', message: 'body is not valid JSON' } } };
    expect(await body(api, event('PATCH', TICKET, { role: 'agent', rawBody: '{"status":' }))).toEqual(want);
    expect(await body(api, event('PATCH', TICKET, { role: 'agent', rawBody: '{"status":', base64: true }))).toEqual(want);
  });

  it('decodes a base64 body before validating it, and names each invalid field by its path (at most five)', async () => {
    const api = newApi();
    const two = await body(api, event('PATCH', TICKET, { role: 'agent', rawBody: JSON.stringify({ status: 'nope', priority: 'nope' }), base64: true }));
    expect(two.status).toBe(400);
    expect(two.body.error?.code).toBe('invalid');
    expect(two.body.error?.message).toMatch(/^body\.status: [^;]+; body\.priority: [^;]+$/);
    const many = await body(api, event('PATCH', TICKET, { role: 'agent', body: { status: 1, priority: 2, assignee: 3, team: 4, category: 5, tags: 6 } }));
    expect(many.body.error?.message.split('; ')).toHaveLength(5);
    // an issue of the whole body has no field path
    expect((await body(api, event('PATCH', TICKET, { role: 'agent', body: {} }))).body.error?.message).toMatch(/^body: /);
  });

  it('refuses a path parameter that is not an id with 400 naming it', async () => {
    const res = await body(newApi(), event('GET', '/tickets/not-a-ulid', { role: 'agent' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'invalid', message: expect.stringMatching(/^path\.id: /) });
  });

  it('refuses a cursor it did not issue with 400 invalid', async () => {
    const res = await body(newApi(), event('GET', '/tickets', { role: 'agent', query: { cursor: 'garbage' } }));
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid');
  });

  it('lets an unexpected failure through as an AgentApiError naming the route, the original as its cause (a 500 from the platform)', async () => {
    const failure = await newApi()(event('GET', TICKET, { role: 'agent' })).then(() => null, (e: unknown) => e as Error & { cause?: Error });
    expect(failure?.name).toBe('AgentApiError');
    expect(failure?.cause?.message).toBe('agent-api route GET /tickets/{id} failed');
    expect((failure?.cause?.cause as Error | undefined)?.message).toBe('the database must not be reached');
  });
});

describe('the caller', () => {
  const caller = (claims: Record<string, unknown> | undefined) => callerOf({ requestContext: { authorizer: claims ? { jwt: { claims } } : undefined } } as unknown as APIGatewayProxyEventV2);

  it('is nobody without claims or without a subject', () => {
    expect(caller(undefined)).toBeNull();
    expect(caller({ 'cognito:groups': '[admin]' })).toBeNull();
    expect(caller({ sub: 7, 'cognito:groups': '[admin]' })).toBeNull();
  });

  it('carries the subject, the highest role and the display name when the token has one', () => {
    expect(caller({ sub: 'u1', 'cognito:groups': '[agent admin]', name: 'Ann Agent' })).toEqual({ sub: 'u1', role: 'admin', name: 'Ann Agent' });
    expect(caller({ sub: 'u1', 'cognito:groups': '[agent]', name: '' })).toEqual({ sub: 'u1', role: 'agent' });
    expect(caller({ sub: 'u1', 'cognito:groups': '[agent]', name: 5 })).toEqual({ sub: 'u1', role: 'agent' });
  });

  it('reads groups however they arrive: API Gateway text, padded, a JSON array, a list; nothing from other types', () => {
    expect(groupsOf('  [admin   supervisor]  ')).toEqual(['admin', 'supervisor']);
    expect(groupsOf('admin')).toEqual(['admin']);
    expect(groupsOf('["sup port", 3, "agent"]')).toEqual(['sup port', 'agent']);
    // looks like JSON but is not: read as API Gateway text
    expect(groupsOf('["agent" admin]')).toEqual(['"agent"', 'admin']);
    expect(groupsOf('["agent",')).toEqual(['"agent",']);
    expect(groupsOf(['agent', 7, null])).toEqual(['agent']);
    expect(groupsOf(42)).toEqual([]);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf('[]')).toEqual([]);
  });

  it('keeps brackets inside group names (Cognito allows them): only the list\'s own outer brackets go', () => {
    expect(groupsOf('ad[min')).toEqual(['ad[min']);
    expect(groupsOf('[adm]in]')).toEqual(['adm]in']);
  });

  it('is nobody when the authorizer is not the JWT one', () => {
    expect(callerOf({ requestContext: { authorizer: { lambda: { role: 'admin' } } } } as unknown as APIGatewayProxyEventV2)).toBeNull();
  });
});

describe('the router with a route of its own', () => {
  /** A route that answers what the router handed it. */
  const echo = (over: Partial<Parameters<typeof route>[0]> = {}) => route({
    method: 'POST', path: '/things/{id}', summary: 'echo', role: 'agent',
    params: z.object({ id: z.string().optional() }).strict(),
    query: z.object({ q: z.string().optional() }).strict(),
    body: z.object({ n: z.number() }).strict().optional(),
    responses: {},
    handle: async ({ params, query, body, caller }) => ({ status: 201, body: { params, query, body, caller }, headers: { 'x-thing': 'yes' } }),
    ...over,
  });
  const call = async (def: ReturnType<typeof echo>, e: APIGatewayProxyEventV2) => {
    const r = await buildRouter([def])(e);
    return { status: r.statusCode, headers: r.headers, body: JSON.parse(String(r.body)) as Record<string, unknown> };
  };

  it('hands the route its declared path parameters only, the query, the body and the caller, and answers with its status and headers', async () => {
    const e = event('POST', '/things/t1', { role: 'supervisor', body: { n: 1 }, query: { q: 'x' } });
    (e as { pathParameters?: Record<string, string> }).pathParameters = { id: 't1', proxy: 'things/t1' };
    const r = await call(echo(), e);
    expect(r.status).toBe(201);
    expect(r.headers).toMatchObject({ 'x-thing': 'yes' });
    expect(r.body).toStrictEqual({ params: { id: 't1' }, query: { q: 'x' }, body: { n: 1 }, caller: { sub: 'tester', role: 'supervisor' } });
  });

  it('takes the path parameters from the matched path when the gateway gives none, and reads a missing body as absent (not as broken JSON)', async () => {
    const r = await call(echo(), event('POST', '/things/t1', { role: 'agent' }));
    expect(r.status).toBe(201);
    expect(r.body).toStrictEqual({ params: { id: 't1' }, query: {}, caller: { sub: 'tester', role: 'agent' } });
    const empty = await call(echo(), event('POST', '/things/t1', { role: 'agent', rawBody: '' }));
    expect(empty.status).toBe(201);
  });

  it('calls a public route as an anonymous agent-level caller, token or not', async () => {
    const r = await call(echo({ role: null }), event('POST', '/things/t1'));
    expect(r.body.caller).toStrictEqual({ sub: 'anonymous', role: 'agent' });
  });

  it('answers an unknown query parameter 400 naming the query, before the route runs', async () => {
    let ran = false;
    const r = await call(echo({ handle: async () => { ran = true; return { status: 200, body: {} }; } }), event('POST', '/things/t1', { role: 'agent', query: { nope: '1' } }));
    expect(r.status).toBe(400);
    expect((r.body.error as { message: string }).message).toMatch(/^query: /);
    expect(ran).toBe(false);
  });

  it('answers the HTTP errors a route throws as they say, and a bad cursor 400', async () => {
    const thrower = (err: unknown) => echo({ handle: async () => { throw err; } });
    expect(await call(thrower(new HttpError(409, 'conflict', 'the ticket changed meanwhile')), event('POST', '/things/t1', { role: 'agent' })))
      .toMatchObject({ status: 409, body: { error: { code: 'conflict', message: 'the ticket changed meanwhile' } } });
    expect(await call(thrower(new CursorError('cursor is not one this API issued')), event('POST', '/things/t1', { role: 'agent' })))
      .toMatchObject({ status: 400, body: { error: { code: 'invalid', message: 'cursor is not one this API issued' } } });
  });
});

describe('errorToResult', () => {
  it('maps the router library\'s errors: a missing route 404, an unknown method 405', () => {
    expect(errorToResult(Object.assign(new Error('Route does not exist'), { statusCode: 404 }))).toMatchObject({ statusCode: 404, body: JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }) });
    expect(errorToResult(new Error('Method not allowed'))).toMatchObject({ statusCode: 405, body: JSON.stringify({ error: { code: 'method_not_allowed', message: 'method not allowed' } }) });
  });

  it('throws anything else as an AgentApiError naming the route (or ? when none), keeping the error as its cause', () => {
    const boom = new Error('boom');
    let thrown: unknown;
    try { errorToResult(boom, route({ method: 'GET', path: '/x', summary: '', role: 'agent', responses: {}, handle: async () => ({ status: 200, body: null }) })); } catch (e) { thrown = e; }
    expect(thrown).toMatchObject({ name: 'AgentApiError', message: 'agent-api route GET /x failed', cause: boom });
    expect(() => errorToResult(Object.assign(new Error('teapot'), { statusCode: 418 }))).toThrow('agent-api route ? ? failed');
    expect(() => errorToResult(null)).toThrow('agent-api route ? ? failed');
  });
});
