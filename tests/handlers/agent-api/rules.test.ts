/**
 * PUT /api/v1/rules refuses a pattern the linear-time engine cannot run (lookaround,
 * backreferences) with 400 and the reason, before anything is stored.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeAgentApi } from '../../../functions/handlers/agent-api.js';
import { fixedClock } from '../../../functions/domain/clock.js';
import type { Db } from '../../../functions/store/db.js';

const noDb = { tableName: 'none', roundTrips: () => 0, doc: { send: async () => { throw new Error('the database must not be reached'); } } } as unknown as Db;
const api = (e: APIGatewayProxyEventV2) => makeAgentApi({ db: noDb, clock: fixedClock(Date.UTC(2026, 11, 6)) })(e);

const put = (body: unknown) => api({
  version: '2.0', routeKey: '$default', rawPath: '/api/v1/rules', rawQueryString: '', headers: { 'content-type': 'application/json' },
  requestContext: { http: { method: 'PUT', path: '/api/v1/rules' }, authorizer: { jwt: { claims: { sub: 'lead', 'cognito:groups': '[supervisor]' }, scopes: null } } } as never,
  body: JSON.stringify(body), isBase64Encoded: false,
} as APIGatewayProxyEventV2);

describe('PUT /api/v1/rules', () => {
  it('refuses a lookahead pattern with 400 and says why', async () => {
    const r = await put({ items: [{ id: 'vip', pattern: '^(?=.*vip)', set: { priority: 'high' } }] });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(String(r.body)).error.message).toMatch(/body\.items\.0\.pattern: rule 'vip': pattern is not a valid regular expression for the linear-time \(RE2\) engine/);
  });

  it('refuses a backreference with 400', async () => {
    const r = await put({ items: [{ id: 'rep', pattern: '(\\w)\\1{3}', set: { team: 'spam' } }] });
    expect(r.statusCode).toBe(400);
  });
});
