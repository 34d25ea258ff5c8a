/**
 * Hosted-UI sign-in of the web inbox in a real browser (issue 6): the inbox is served by the
 * local runtime with a `config.json` whose auth is `cognito`, pointing at a tiny fake of Cognito's
 * OAuth endpoints started here. The agent signs in by the redirect round trip (authorization code
 * + PKCE S256, checked by the fake), sees the ticket list, is sent back to sign-in when the token
 * is refused as expired, and signs out through `/logout`.
 *
 * The fake's ID token is shaped like Cognito's (`sub`, `cognito:username`, `cognito:groups`,
 * `aud`), but signed HS256 with the runtime's AGENT_JWT_SECRET, issuer `confluo-local`, audience
 * `confluo-agent-api`: the local runtime only trusts its own tokens (local/agent-auth.ts), so the
 * fake plays a Cognito that the runtime trusts. In AWS API Gateway checks Cognito's RS256 tokens.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { testRuntime } from '../helpers/runtime.js';
import { loadSamples } from '../helpers/samples.js';
import { launchBrowser } from './browser.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;
const SECRET = 'signin-test-agent-secret-0123456789abcdef';
const CLIENT_ID = 'fake-client-id';

/** A fake of the Cognito hosted UI's OAuth endpoints: authorize (auto-approves "ann"), token, logout. */
function fakeCognito(redirectUri: () => string) {
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const log: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fail = (status: number, error: string) => { log.push(`refused ${url.pathname}: ${error}`); res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify({ error })); };
    if (url.pathname === '/oauth2/authorize' && req.method === 'GET') {
      const q = url.searchParams;
      log.push('authorize');
      if (q.get('response_type') !== 'code' || q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== redirectUri()) return fail(400, 'invalid_request');
      if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9\-_]{43}$/.test(q.get('code_challenge') ?? '')) return fail(400, 'invalid_request: S256 challenge required');
      if (!(q.get('scope') ?? '').split(' ').includes('openid') || !q.get('state')) return fail(400, 'invalid_request: scope/state');
      const code = randomUUID();
      codes.set(code, { challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (url.pathname === '/oauth2/token' && req.method === 'POST') {
      let body = '';
      for await (const c of req) body += String(c);
      const form = new URLSearchParams(body);
      log.push('token');
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return fail(400, 'invalid_request: form body');
      const issued = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? ''); // single use
      if (form.get('grant_type') !== 'authorization_code' || form.get('client_id') !== CLIENT_ID || !issued || form.get('redirect_uri') !== issued.redirectUri) return fail(400, 'invalid_grant');
      if (createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') !== issued.challenge) return fail(400, 'invalid_grant: verifier');
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({ 'cognito:username': 'ann', 'cognito:groups': ['agent'], email: 'ann@example.com', token_use: 'id' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('uuid-ann').setIssuer('confluo-local').setAudience('confluo-agent-api')
        .setIssuedAt(now).setExpirationTime(now + 3600).sign(new TextEncoder().encode(SECRET));
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify({ id_token: idToken, access_token: 'unused', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    if (url.pathname === '/logout' && req.method === 'GET') {
      log.push('logout');
      if (url.searchParams.get('client_id') !== CLIENT_ID || url.searchParams.get('logout_uri') !== redirectUri()) return fail(400, 'invalid_request');
      res.writeHead(302, { location: redirectUri() }).end();
      return;
    }
    fail(404, 'not_found');
  });
  return { server, log };
}

describe('web inbox: Cognito hosted-UI sign-in (authorization code + PKCE)', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;
  let fake: ReturnType<typeof fakeCognito>;
  let fakeOrigin: string;

  beforeAll(async () => {
    fake = fakeCognito(() => `${rt.url}/`);
    [rt, browser] = await Promise.all([
      testRuntime({ AGENT_JWT_SECRET: SECRET }),
      launchBrowser(),
      new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve)),
    ]);
    fakeOrigin = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    // The local server's Content-Security-Policy lets the inbox connect to its own origin only; the
    // deployed one also to the Cognito domains (lib/web-inbox.ts), which the fake stands in for.
    // The policy itself is tested in inbox-links.test.ts and tests/infra/web-inbox.test.ts.
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    page.setDefaultTimeout(10_000);
    // The deployed inbox's config.json (lib/web-inbox.ts writes it), pointing at the fake.
    await page.route(`${rt.url}/config.json`, (route) => route.fulfill({
      json: { apiBase: '/api/v1', auth: { kind: 'cognito', domain: fakeOrigin, clientId: CLIENT_ID, redirectUri: `${rt.url}/` } },
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await rt?.stop();
    fake?.server.closeAllConnections();
    await new Promise((resolve) => fake?.server.close(resolve));
  });

  it('signs in through the hosted UI round trip, sees the tickets, goes back to sign-in on an expired token, signs out', async () => {
    const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
    expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
    await rt.settle();

    // the local runtime answers a development config by itself
    expect(await (await fetch(`${rt.url}/config.json`)).json()).toEqual({ apiBase: '/api/v1', auth: { kind: 'dev' } });

    await page.goto(`${rt.url}/`);
    expect(await page.getByLabel('Agent id').count()).toBe(0); // no dev form with Cognito
    await page.getByRole('button', { name: 'Sign in' }).click();

    const rows = page.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(fake.log).toEqual(['authorize', 'token']);
    expect(await page.locator('.me').textContent()).toBe('ann · Agent'); // the role in the agent's language (web/inbox/messages.ts)
    expect(page.url()).toBe(`${rt.url}/`); // the code is gone from the address bar
    const stored = JSON.parse((await page.evaluate<string | null>("localStorage.getItem('confluo.inbox.auth')"))!) as { agent: string; via: string };
    expect(stored).toMatchObject({ agent: 'uuid-ann', via: 'cognito' });
    expect(await page.evaluate<string | null>("sessionStorage.getItem('confluo.inbox.pkce')")).toBeNull();

    // a forged callback (state of no sign-in in this tab) is refused, the token endpoint never asked
    await page.goto(`${rt.url}/?code=stolen&state=forged`);
    await expect.poll(() => rows.count()).toBe(1); // still signed in with the earlier token
    expect(fake.log).toEqual(['authorize', 'token']);

    // the token expires: the API answers 401 and the inbox goes back through the hosted UI
    // (a string: the root tsconfig has no DOM types)
    await page.evaluate(`(() => {
      const a = JSON.parse(localStorage.getItem('confluo.inbox.auth'));
      localStorage.setItem('confluo.inbox.auth', JSON.stringify({ ...a, token: a.token.slice(0, -4) + 'AAAA', expiresAt: Date.now() - 1000 }));
    })()`);
    await page.reload();
    await expect.poll(() => fake.log.length).toBe(4);
    expect(fake.log).toEqual(['authorize', 'token', 'authorize', 'token']);
    await expect.poll(() => rows.count()).toBe(1);

    // sign out: the hosted-UI session ends too, and the sign-in page is back
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => fake.log.at(-1)).toBe('logout');
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Confluo' }).isVisible()).toBe(true);
    expect(await page.evaluate<string | null>("localStorage.getItem('confluo.inbox.auth')")).toBeNull();
  });
});
