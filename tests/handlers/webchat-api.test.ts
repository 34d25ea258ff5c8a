/**
 * The widget's API (channels.md §9) without a browser: session tokens (mint, renew, expiry),
 * token checks on GET /webchat/messages (same rules as ingest), origins and CORS, and 404 when
 * web chat is not configured. The conversation itself is covered in tests/web/widget.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SignJWT, decodeJwt } from 'jose';
import { makeWebchatApi, REFRESH_GRACE_S, SESSION_TTL_S } from '../../functions/handlers/webchat-api.js';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import type { Db } from '../../functions/store/db.js';
import { freshTable } from '../helpers/ddb.js';

const SECRET = 'test-webchat-secret-0000000000000000';
/** No visitor has written yet: every read finds nothing. */
const emptyDb = { doc: { send: async () => ({}) }, tableName: 't', roundTrips: () => 0 } as unknown as Db;

function setup(config: { WEBCHAT_SECRET?: string; WEBCHAT_ALLOWED_ORIGINS?: string } = { WEBCHAT_SECRET: SECRET }, db: Db = emptyDb) {
  let now = Date.parse('2026-10-04T14:00:00Z');
  const api = makeWebchatApi({ db, clock: { now: () => now }, config, logger: { warn: () => {}, error: () => {} } });
  const call = async (method: string, path: string, headers: Record<string, string> = {}, query?: Record<string, string>) => {
    const r = await api({
      rawPath: path, headers, ...(query ? { queryStringParameters: query } : {}),
      requestContext: { http: { method } }, body: '', isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    return { status: r.statusCode, headers: (r.headers ?? {}) as Record<string, string>, body: r.body ? JSON.parse(r.body) : null };
  };
  return { call, advance: (s: number) => { now += s * 1000; }, now: () => now };
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('POST /webchat/session', () => {
  it('mints an anonymous visitor token: HS256, iss confluo-webchat, aud confluo:webchat, v_/c_ ids, hours not days', async () => {
    const { call, now } = setup();
    const r = await call('POST', '/webchat/session');
    expect(r.status).toBe(200);
    expect(r.body.visitor_id).toMatch(/^v_[A-Za-z0-9_-]{22}$/);
    expect(r.body.conversation_id).toMatch(/^c_[A-Za-z0-9_-]{22}$/);
    const claims = decodeJwt(r.body.token);
    expect(claims).toMatchObject({ iss: 'confluo-webchat', aud: 'confluo:webchat', sub: r.body.visitor_id, sid: r.body.conversation_id, exp: Math.floor(now() / 1000) + SESSION_TTL_S });
    expect(r.headers['cache-control']).toBe('no-store');
    // two visitors never share an id
    expect((await call('POST', '/webchat/session')).body.visitor_id).not.toBe(r.body.visitor_id);
  });

  it('renews a session (even expired, within the grace period) for the same visitor and conversation; later a new visitor', async () => {
    const { call, advance } = setup();
    const first = (await call('POST', '/webchat/session')).body;
    advance(SESSION_TTL_S + 3600);
    expect((await call('GET', '/webchat/messages', bearer(first.token))).status).toBe(401); // expired for reading
    const renewed = (await call('POST', '/webchat/session', bearer(first.token))).body;
    expect([renewed.visitor_id, renewed.conversation_id]).toEqual([first.visitor_id, first.conversation_id]);
    expect((await call('GET', '/webchat/messages', bearer(renewed.token))).status).toBe(200);
    advance(REFRESH_GRACE_S + SESSION_TTL_S + 60);
    expect((await call('POST', '/webchat/session', bearer(renewed.token))).body.visitor_id).not.toBe(first.visitor_id);
  });

  it('renews for hours after expiry, not days: 7 h after, the old token starts a new visitor', async () => {
    const { call, advance } = setup();
    const first = (await call('POST', '/webchat/session')).body;
    advance(SESSION_TTL_S + 5 * 3600);
    const renewed = (await call('POST', '/webchat/session', bearer(first.token))).body;
    expect(renewed.visitor_id).toBe(first.visitor_id);
    advance(SESSION_TTL_S + 7 * 3600);
    expect((await call('POST', '/webchat/session', bearer(renewed.token))).body.visitor_id).not.toBe(first.visitor_id);
  });

  it('ends a session a supervisor revoked: no renewal (a new visitor instead) and no reading, for that session only', async () => {
    const { db } = await freshTable('webchat-revoke');
    const { call, now } = setup({ WEBCHAT_SECRET: SECRET }, db);
    const victim = (await call('POST', '/webchat/session')).body;
    const other = (await call('POST', '/webchat/session')).body;
    expect((await call('GET', '/webchat/messages', bearer(victim.token))).status).toBe(200);
    const agentApi = makeAgentApi({ db, clock: { now } });
    const revoke = (role: string) => agentApi({
      version: '2.0', routeKey: '$default', rawPath: `/api/v1/webchat/sessions/${victim.conversation_id}`, rawQueryString: '', headers: {},
      requestContext: { http: { method: 'DELETE', path: `/api/v1/webchat/sessions/${victim.conversation_id}` }, authorizer: { jwt: { claims: { sub: 'lead', 'cognito:groups': `[${role}]` } } } },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    expect((await revoke('agent')).statusCode).toBe(403);
    const r = await revoke('supervisor');
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(String(r.body))).toMatchObject({ sid: victim.conversation_id });
    expect((await call('GET', '/webchat/messages', bearer(victim.token))).status).toBe(401);
    const renewed = (await call('POST', '/webchat/session', bearer(victim.token))).body;
    expect([renewed.visitor_id, renewed.conversation_id]).not.toContain(victim.visitor_id);
    expect(renewed.conversation_id).not.toBe(victim.conversation_id);
    expect((await call('GET', '/webchat/messages', bearer(other.token))).status).toBe(200);
  });

  it('never renews a forged token or a shop (`site`) token into an anonymous one with the same ids', async () => {
    const { call, now } = setup();
    const forged = await new SignJWT({ sid: 'c_x' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('confluo-webchat').setAudience('confluo:webchat')
      .setSubject('v_victim').setExpirationTime(Math.floor(now() / 1000) + 60).sign(new TextEncoder().encode('another-key-0000000000000000000000'));
    expect((await call('POST', '/webchat/session', bearer(forged))).body.visitor_id).not.toBe('v_victim');
    const site = await new SignJWT({ sid: 'c_shop' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('site').setAudience('confluo:webchat')
      .setSubject('u_42').setExpirationTime(Math.floor(now() / 1000) + 60).sign(new TextEncoder().encode(SECRET));
    expect((await call('POST', '/webchat/session', bearer(site))).body.visitor_id).not.toBe('u_42');
  });
});

describe('GET /webchat/messages', () => {
  it('401 without a token, with a forged one or alg none; 200 with a widget or shop token', async () => {
    const { call, now } = setup();
    expect((await call('GET', '/webchat/messages')).status).toBe(401);
    const { token } = (await call('POST', '/webchat/session')).body;
    const [h, p] = token.split('.');
    expect((await call('GET', '/webchat/messages', bearer(`${h}.${p}.AAAA`))).status).toBe(401);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect((await call('GET', '/webchat/messages', bearer(none))).status).toBe(401);
    const ok = await call('GET', '/webchat/messages', bearer(token));
    expect(ok).toMatchObject({ status: 200, body: { items: [], next_cursor: null } });
    const site = await new SignJWT({ sid: 'c_shop', email: 'a@example.com', email_verified: true }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('site').setAudience('confluo:webchat').setSubject('u_42').setExpirationTime(Math.floor(now() / 1000) + 600).sign(new TextEncoder().encode(SECRET));
    expect((await call('GET', '/webchat/messages', bearer(site))).status).toBe(200);
  });

  it('400 on a cursor it did not issue or a bad limit; the cursor is kept when nothing is new', async () => {
    const { call } = setup();
    const { token } = (await call('POST', '/webchat/session')).body;
    expect((await call('GET', '/webchat/messages', bearer(token), { after: 'x' })).status).toBe(400);
    expect((await call('GET', '/webchat/messages', bearer(token), { limit: '0' })).status).toBe(400);
    const after = '001795435537839#ack-01M844R9DEMAG6PHEAC17EF39W';
    expect((await call('GET', '/webchat/messages', bearer(token), { after })).body).toEqual({ items: [], next_cursor: after });
  });
});

describe('origins, CORS and configuration', () => {
  it('answers the preflight with the methods and headers the widget uses', async () => {
    const { call } = setup();
    const r = await call('OPTIONS', '/webchat/messages', { origin: 'https://shop.example' });
    expect(r.status).toBe(204);
    expect(r.headers).toMatchObject({ 'access-control-allow-origin': 'https://shop.example', 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'Authorization, Content-Type' });
  });

  it('403 for an origin not in WEBCHAT_ALLOWED_ORIGINS; listed origins and origin-less requests pass', async () => {
    const { call } = setup({ WEBCHAT_SECRET: SECRET, WEBCHAT_ALLOWED_ORIGINS: 'https://shop.example, https://www.shop.example/' });
    expect((await call('POST', '/webchat/session', { origin: 'https://evil.example' })).status).toBe(403);
    const ok = await call('POST', '/webchat/session', { origin: 'https://www.shop.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://www.shop.example');
    expect((await call('POST', '/webchat/session')).status).toBe(200);
  });

  it('404 when web chat is not configured, and for other paths; 405 for other methods', async () => {
    expect((await setup({}).call('POST', '/webchat/session')).status).toBe(404);
    const { call } = setup();
    expect((await call('GET', '/webchat/other')).status).toBe(404);
    expect((await call('DELETE', '/webchat/session')).status).toBe(405);
  });
});
