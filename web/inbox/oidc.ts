/**
 * Sign-in through the Cognito hosted UI: OAuth 2.0 authorization-code flow with PKCE (S256,
 * RFC 7636) for a public client (no secret). Pure functions over WebCrypto, `fetch` and a
 * `sessionStorage`, so they run in the browser and in node (vitest) alike.
 *
 * Endpoints (https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html):
 * `https://<domain>/oauth2/authorize`, `/oauth2/token`, `/logout`.
 */

/** What `config.json` says about signing in with Cognito. */
export interface CognitoAuthConfig {
  readonly kind: 'cognito';
  /** Host of the user pool domain (`<prefix>.auth.<region>.amazoncognito.com` or a custom domain); a full `http(s)://` origin is taken as is. */
  readonly domain: string;
  readonly clientId: string;
  /** Where Cognito sends the browser back: the inbox URL, registered as a callback and logout URL of the app client. */
  readonly redirectUri: string;
  /** @default ['openid', 'email', 'profile'] */
  readonly scopes?: readonly string[];
}

/** The signed-in agent as the inbox keeps it. */
export interface SignedIn {
  token: string;
  /** The agent id the API knows the caller by (the token's `sub`): assignees are compared with it. */
  agent: string;
  role: string;
  /** Shown in the header: `cognito:username` or e-mail, when the token has them. */
  name?: string;
  expiresAt?: number;
  via?: 'cognito' | 'dev' | 'token';
}

/** The part of `sessionStorage` used here (a Map does in tests). */
export interface KeyValueStore { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }

/** sessionStorage key of the pending sign-in (verifier + state), gone once it is used. */
export const PENDING_KEY = 'confluo.inbox.pkce';
const ROLES = ['agent', 'supervisor', 'admin'] as const;

const base64url = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** A random string of the unreserved alphabet: 32 random bytes → 43 base64url characters (RFC 7636 §4.1 asks 43–128). */
export function randomVerifier(bytes = 32): string {
  if (bytes < 32 || bytes > 96) throw new RangeError('a PKCE verifier needs 32–96 random bytes (43–128 characters)');
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** `BASE64URL(SHA-256(ASCII(verifier)))` (RFC 7636 §4.2, method S256). */
export async function challengeS256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** `https://<domain>` (or the given origin when the domain already names a scheme). */
export function domainOrigin(domain: string): string {
  return (/^https?:\/\//i.test(domain) ? domain : `https://${domain}`).replace(/\/+$/, '');
}

export function authorizeUrl(cfg: CognitoAuthConfig, p: { state: string; challenge: string }): string {
  const q = new URLSearchParams({
    response_type: 'code', client_id: cfg.clientId, redirect_uri: cfg.redirectUri, scope: (cfg.scopes ?? ['openid', 'email', 'profile']).join(' '),
    state: p.state, code_challenge: p.challenge, code_challenge_method: 'S256',
  });
  return `${domainOrigin(cfg.domain)}/oauth2/authorize?${q}`;
}

export function logoutUrl(cfg: CognitoAuthConfig): string {
  return `${domainOrigin(cfg.domain)}/logout?${new URLSearchParams({ client_id: cfg.clientId, logout_uri: cfg.redirectUri })}`;
}

/** Start a sign-in: remember a fresh verifier and state, answer the authorize URL to go to. */
export async function beginSignIn(cfg: CognitoAuthConfig, storage: KeyValueStore): Promise<string> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  storage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  return authorizeUrl(cfg, { state, challenge: await challengeS256(verifier) });
}

/** The authorization response in a URL query: a code, an error, or nothing (not a callback). */
export function parseCallback(search: string): { code: string; state: string } | { error: string } | null {
  const q = new URLSearchParams(search);
  if (q.get('error')) return { error: `${q.get('error')}${q.get('error_description') ? `: ${q.get('error_description')}` : ''}` };
  const code = q.get('code');
  if (!code) return null;
  return { code, state: q.get('state') ?? '' };
}

/** The URL without the authorization response parameters (for `history.replaceState`). */
export function withoutCallbackParams(href: string): string {
  const u = new URL(href);
  for (const k of ['code', 'state', 'error', 'error_description']) u.searchParams.delete(k);
  return u.toString();
}

export class SignInError extends Error {}

/**
 * Finish a sign-in: check `state` against the pending one (refused otherwise: a forged or stale
 * callback), exchange the code and the verifier for tokens, answer the signed-in agent.
 *
 * The bearer is the **ID token**: API Gateway's JWT authorizer accepts a token whose `aud` (or,
 * when there is none, `client_id`) is one of the configured audiences — here the app client id
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
 * Cognito's ID token has `aud` = the client id and carries `cognito:groups` (the role) and the
 * profile claims the API and the inbox show; the access token would pass too, but has no profile.
 */
export async function completeSignIn(
  cfg: CognitoAuthConfig, callback: { code: string; state: string }, storage: KeyValueStore, fetchFn: typeof fetch = fetch,
): Promise<SignedIn> {
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY); // one use only
  type Pending = { verifier?: unknown; state?: unknown } | null;
  let pending: Pending = null;
  try { pending = raw ? (JSON.parse(raw) as Pending) : null; } catch { /* corrupt */ }
  if (!pending || typeof pending.verifier !== 'string' || typeof pending.state !== 'string') throw new SignInError('No sign-in was started in this tab: sign in again.');
  if (callback.state !== pending.state) throw new SignInError('The sign-in response does not match this tab (state mismatch): sign in again.');
  const res = await fetchFn(`${domainOrigin(cfg.domain)}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: cfg.clientId, code: callback.code, redirect_uri: cfg.redirectUri, code_verifier: pending.verifier,
    }).toString(),
  });
  const body = (await res.json().catch(() => null)) as { id_token?: string; error?: string } | null;
  if (!res.ok || !body?.id_token) throw new SignInError(`Sign-in failed at the token endpoint (${body?.error ?? `HTTP ${res.status}`}).`);
  return { ...fromIdToken(body.id_token), via: 'cognito' };
}

/** The claims of a JWT (not verified: the API verifies; the inbox only shows them). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new SignInError('That is not a JWT.');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

/** Agent id (`sub`, else `cognito:username`), display name and highest role (`cognito:groups` only, as the Agent API decides) of an ID token. */
export function fromIdToken(token: string): SignedIn {
  const c = jwtClaims(token);
  const groups = Array.isArray(c['cognito:groups']) ? c['cognito:groups'].map(String) : [];
  const roles = groups.filter((r): r is (typeof ROLES)[number] => typeof r === 'string' && (ROLES as readonly string[]).includes(r));
  const role = roles.sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0] ?? 'agent';
  const str = (k: string) => (typeof c[k] === 'string' && c[k] !== '' ? (c[k] as string) : undefined);
  const agent = str('sub') ?? str('cognito:username') ?? 'agent';
  const name = str('cognito:username') ?? str('email');
  return { token, agent, role, ...(name && name !== agent ? { name } : {}), ...(typeof c.exp === 'number' ? { expiresAt: c.exp * 1000 } : {}) };
}
