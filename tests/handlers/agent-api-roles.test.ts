/**
 * Every Agent API route, table-driven from the route table itself (so a new route is covered the
 * day it is added): no token → 401, a role below the route's → 403, and a bad body or query → 400
 * — all before any data is touched (the database here refuses every call).
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import { ROLES, type Role } from '../../functions/handlers/agent-api/router.js';
import type { Db } from '../../functions/store/db.js';
import { fixedClock } from '../../functions/domain/clock.js';

const noDb = { tableName: 'none', roundTrips: () => 0, doc: { send: async () => { throw new Error('the database must not be reached'); } } } as unknown as Db;
const api = makeAgentApi({ db: noDb, clock: fixedClock(Date.UTC(2026, 10, 1)) });

const ULID = '01J00000000000000000000000';
const fill = (path: string) => path.replace('{id}', path.startsWith('/templates/') ? 'greeting' : ULID);

function event(method: string, path: string, opts: { role?: Role; body?: unknown; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: `/api/v1${path}`, rawQueryString: new URLSearchParams(opts.query ?? {}).toString(), headers: { 'content-type': 'application/json' },
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: {
      http: { method, path: `/api/v1${path}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      ...(opts.role ? { authorizer: { jwt: { claims: { sub: 'tester', role: opts.role }, scopes: null } } } : {}),
    } as never,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body), isBase64Encoded: false } : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

const protectedRoutes = api.routes.filter((r) => r.role !== null);
const status = async (e: APIGatewayProxyEventV2) => {
  const r = await api(e);
  return { status: r.statusCode, body: JSON.parse(String(r.body)) as { error?: { code: string; message: string } } };
};

describe('Agent API roles, per route', () => {
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

  it.each(protectedRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s refuses an absent token with 401', async (_n, r) => {
    const res = await status(event(r.method, fill(r.path), { body: {} }));
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('unauthorized');
  });

  const above = protectedRoutes.filter((r) => r.role !== 'agent');
  it.each(above.map((r) => [`${r.method} ${r.path} (${r.role})`, r] as const))('%s refuses a too-low role with 403', async (_n, r) => {
    const lower = ROLES[ROLES.indexOf(r.role!) - 1]!;
    const res = await status(event(r.method, fill(r.path), { role: lower, body: {} }));
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'forbidden', message: `requires role ${r.role}` });
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
