/** The inbox's Cognito hosted-UI sign-in (web/inbox/oidc.ts): PKCE S256, URLs, state check, code exchange. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PENDING_KEY, SignInError, authorizeUrl, beginSignIn, challengeS256, completeSignIn, fromIdToken, logoutUrl, parseCallback, randomVerifier, withoutCallbackParams,
  type CognitoAuthConfig, type KeyValueStore,
} from '../../web/inbox/oidc.js';

const cfg: CognitoAuthConfig = { kind: 'cognito', domain: 'confluo-x.auth.eu-west-1.amazoncognito.com', clientId: 'client123', redirectUri: 'https://d111.cloudfront.net/' };

function memoryStorage(): KeyValueStore {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: object) => `${b64url({ alg: 'RS256' })}.${b64url(claims)}.sig`;

describe('PKCE', () => {
  it('makes 43-character unreserved verifiers, different every time', () => {
    const a = randomVerifier();
    expect(a).toMatch(/^[A-Za-z0-9\-_]{43}$/);
    expect(randomVerifier()).not.toBe(a);
    expect(randomVerifier(96)).toHaveLength(128);
    expect(() => randomVerifier(16)).toThrow(RangeError);
  });

  it('S256 challenge = base64url(sha256(verifier)), the RFC 7636 appendix B example', async () => {
    expect(await challengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const v = randomVerifier();
    expect(await challengeS256(v)).toBe(createHash('sha256').update(v).digest('base64url'));
  });
});

describe('hosted UI URLs', () => {
  it('authorize: code flow, the client, the redirect, openid/email/profile, state and an S256 challenge', () => {
    const u = new URL(authorizeUrl(cfg, { state: 'st', challenge: 'ch' }));
    expect(`${u.origin}${u.pathname}`).toBe('https://confluo-x.auth.eu-west-1.amazoncognito.com/oauth2/authorize');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      response_type: 'code', client_id: 'client123', redirect_uri: 'https://d111.cloudfront.net/', scope: 'openid email profile',
      state: 'st', code_challenge: 'ch', code_challenge_method: 'S256',
    });
  });

  it('logout: client id and logout uri; a domain with a scheme is kept as is', () => {
    expect(logoutUrl(cfg)).toBe('https://confluo-x.auth.eu-west-1.amazoncognito.com/logout?client_id=client123&logout_uri=https%3A%2F%2Fd111.cloudfront.net%2F');
    expect(logoutUrl({ ...cfg, domain: 'http://127.0.0.1:9/' })).toMatch(/^http:\/\/127\.0\.0\.1:9\/logout\?/);
  });

  it('parses the callback and cleans it from the URL', () => {
    expect(parseCallback('?code=abc&state=xyz')).toEqual({ code: 'abc', state: 'xyz' });
    expect(parseCallback('?error=access_denied&error_description=nope')).toEqual({ error: 'access_denied: nope' });
    expect(parseCallback('')).toBeNull();
    expect(withoutCallbackParams('https://d111.cloudfront.net/?code=abc&state=xyz&keep=1#ticket=t1')).toBe('https://d111.cloudfront.net/?keep=1#ticket=t1');
  });
});

describe('sign-in round trip', () => {
  const idToken = jwt({ sub: 'uuid-ann', 'cognito:username': 'ann', 'cognito:groups': ['agent', 'supervisor'], aud: 'client123', exp: 2_000_000_000 });

  it('keeps verifier and state in session storage; exchanges the code with the verifier; reads the ID token', async () => {
    const storage = memoryStorage();
    const url = new URL(await beginSignIn(cfg, storage));
    const pending = JSON.parse(storage.getItem(PENDING_KEY)!) as { verifier: string; state: string };
    expect(url.searchParams.get('state')).toBe(pending.state);
    expect(url.searchParams.get('code_challenge')).toBe(await challengeS256(pending.verifier));

    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (u: string, init: RequestInit) => {
      calls.push({ url: u, init });
      return new Response(JSON.stringify({ id_token: idToken, access_token: 'a', token_type: 'Bearer', expires_in: 3600 }), { status: 200 });
    }) as unknown as typeof fetch;
    const signedIn = await completeSignIn(cfg, { code: 'the-code', state: pending.state }, storage, fakeFetch);
    expect(signedIn).toEqual({ token: idToken, agent: 'uuid-ann', name: 'ann', role: 'supervisor', expiresAt: 2_000_000_000_000, via: 'cognito' });

    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('https://confluo-x.auth.eu-west-1.amazoncognito.com/oauth2/token');
    expect(calls[0]!.init.method).toBe('POST');
    expect((calls[0]!.init.headers as Record<string, string>)['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(String(calls[0]!.init.body)))).toEqual({
      grant_type: 'authorization_code', client_id: 'client123', code: 'the-code', redirect_uri: 'https://d111.cloudfront.net/', code_verifier: pending.verifier,
    });
    expect(storage.getItem(PENDING_KEY)).toBeNull(); // single use
  });

  it('refuses a wrong state without calling the token endpoint, and a replay of the right one', async () => {
    const storage = memoryStorage();
    await beginSignIn(cfg, storage);
    const { state } = JSON.parse(storage.getItem(PENDING_KEY)!) as { state: string };
    let called = 0;
    const fakeFetch = (async () => { called++; return new Response(JSON.stringify({ id_token: idToken })); }) as unknown as typeof fetch;
    await expect(completeSignIn(cfg, { code: 'c', state: 'forged' }, storage, fakeFetch)).rejects.toThrow(/state mismatch/);
    await expect(completeSignIn(cfg, { code: 'c', state }, storage, fakeFetch)).rejects.toBeInstanceOf(SignInError);
    expect(called).toBe(0);
  });

  it('reports a refused code', async () => {
    const storage = memoryStorage();
    await beginSignIn(cfg, storage);
    const { state } = JSON.parse(storage.getItem(PENDING_KEY)!) as { state: string };
    const fakeFetch = (async () => new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400 })) as unknown as typeof fetch;
    await expect(completeSignIn(cfg, { code: 'c', state }, storage, fakeFetch)).rejects.toThrow(/invalid_grant/);
  });

  it('reads a dev-style token too (cognito:groups, sub), and never a role claim', () => {
    expect(fromIdToken(jwt({ sub: 'bob', 'cognito:groups': ['admin'] }))).toEqual({ token: jwt({ sub: 'bob', 'cognito:groups': ['admin'] }), agent: 'bob', role: 'admin' });
    expect(fromIdToken(jwt({ sub: 'eve', role: 'admin', 'custom:role': 'admin' })).role).toBe('agent');
    expect(() => fromIdToken('nope')).toThrow();
  });
});
