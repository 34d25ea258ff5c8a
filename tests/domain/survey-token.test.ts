/**
 * Survey e-mail score-link tokens (functions/domain/survey-token.ts): a signed token round-trips;
 * any change to any character, a token signed with another key, a score outside the scale and a
 * malformed token are `forged`; a genuine token past its time is `expired` — checked after the
 * signature, so a forgery never learns anything from the expiry.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signSurveyToken, SurveyTokenError, verifySurveyToken, type SurveyLinkClaims } from '../../functions/domain/survey-token.js';

const SECRET = 'test-survey-link-secret-000000000000';
const NOW = Date.UTC(2026, 10, 2, 9);
const H = 3_600_000;
const claims = (over: Partial<SurveyLinkClaims> = {}): SurveyLinkClaims => ({
  ticket_id: '01JABCDEFGHJKMNPQRSTVWXYZ0', round: 1, scale: 'csat', score: 4, expires_at: NOW + 72 * H, ...over,
});
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const arbClaims = fc.oneof(
  fc.record({ scale: fc.constant('csat' as const), score: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ scale: fc.constant('nps' as const), score: fc.integer({ min: 0, max: 10 }) }),
).chain((s) => fc.record({
  ticket_id: fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  round: fc.integer({ min: 1, max: 999 }),
  scale: fc.constant(s.scale), score: fc.constant(s.score),
  expires_at: fc.integer({ min: NOW + 1000, max: NOW + 400 * 24 * H }),
}));

describe('survey link tokens', () => {
  it('round-trips: the verified claims are the signed ones (expiry rounded up to the second)', () => {
    fc.assert(fc.property(arbClaims, (c) => {
      const r = verifySurveyToken(signSurveyToken(c, SECRET), SECRET, NOW);
      expect(r).toEqual({ ok: true, claims: { ...c, expires_at: Math.ceil(c.expires_at / 1000) * 1000 } });
    }));
  });

  it('carries ids and numbers only (no personal data) and fits a URL path segment', () => {
    const token = signSurveyToken(claims(), SECRET);
    expect(token).toMatch(/^01JABCDEFGHJKMNPQRSTVWXYZ0\.1\.csat4\.\d{10}\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('refuses any single-character change anywhere in the token as forged', () => {
    fc.assert(fc.property(arbClaims, fc.nat(), fc.constantFrom(...BASE64URL, '.'), (c, at, ch) => {
      const token = signSurveyToken(c, SECRET);
      const i = at % token.length;
      fc.pre(token[i] !== ch);
      const tampered = token.slice(0, i) + ch + token.slice(i + 1);
      expect(verifySurveyToken(tampered, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    }));
  });

  it('refuses a token whose claims were swapped for others under the old signature (another score, ticket, round, later expiry)', () => {
    fc.assert(fc.property(arbClaims, arbClaims, (a, b) => {
      const ta = signSurveyToken(a, SECRET);
      const tb = signSurveyToken(b, SECRET);
      const spliced = `${tb.slice(0, tb.lastIndexOf('.'))}${ta.slice(ta.lastIndexOf('.'))}`;
      fc.pre(spliced !== ta);
      expect(verifySurveyToken(spliced, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
    }));
  });

  it('refuses tokens signed with another key, truncated, extended or arbitrary strings', () => {
    fc.assert(fc.property(arbClaims, fc.string({ minLength: 32, maxLength: 64 }), (c, other) => {
      fc.pre(other !== SECRET);
      expect(verifySurveyToken(signSurveyToken(c, other), SECRET, NOW).ok).toBe(false);
    }));
    const token = signSurveyToken(claims(), SECRET);
    for (const bad of [token.slice(0, -1), `${token}A`, `${token}.`, token.replace('.csat4.', '.csat9.'), '', 'x', '../../etc/passwd', token.toLowerCase()]) {
      expect(verifySurveyToken(bad, SECRET, NOW), bad).toEqual({ ok: false, reason: 'forged' });
    }
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => { expect(verifySurveyToken(s, SECRET, NOW).ok).toBe(false); }));
  });

  it('reports a genuine token past its expiry as expired (and only a genuine one)', () => {
    const token = signSurveyToken(claims({ expires_at: NOW + H }), SECRET);
    expect(verifySurveyToken(token, SECRET, NOW + H).ok).toBe(true);
    expect(verifySurveyToken(token, SECRET, NOW + H + 1)).toEqual({ ok: false, reason: 'expired', claims: claims({ expires_at: NOW + H }) });
    expect(verifySurveyToken(token, 'another-secret-of-at-least-32-characters', NOW + 2 * H)).toEqual({ ok: false, reason: 'forged' });
  });

  it('will not sign a score outside the scale or an id that cannot be put in a link', () => {
    expect(() => signSurveyToken(claims({ score: 6 }), SECRET)).toThrow(SurveyTokenError);
    expect(() => signSurveyToken(claims({ scale: 'nps', score: 11 }), SECRET)).toThrow(SurveyTokenError);
    expect(() => signSurveyToken(claims({ ticket_id: 'a/b' }), SECRET)).toThrow(SurveyTokenError);
    expect(() => signSurveyToken(claims({ round: 0 }), SECRET)).toThrow(SurveyTokenError);
  });
});

describe('survey link tokens, by their documented format', () => {
  // The module's header: the signed text is `confluo-survey-link:v1:` + everything before the
  // last dot, HMAC-SHA256 under the secret, base64url. Signed here independently of the code.
  const signAsDocumented = (payload: string, secret = SECRET) =>
    `${payload}.${createHmac('sha256', secret).update(`confluo-survey-link:v1:${payload}`).digest('base64url')}`;
  const EXP = Math.ceil((NOW + 72 * H) / 1000);

  it('signs and verifies exactly the documented text: links already sent keep working', () => {
    const token = signAsDocumented(`01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat4.${EXP}`);
    expect(signSurveyToken(claims(), SECRET)).toBe(token);
    expect(verifySurveyToken(token, SECRET, NOW)).toEqual({ ok: true, claims: claims({ expires_at: EXP * 1000 }) });
    // without the prefix, the same HMAC is not a signature of ours
    const bare = `01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat4.${EXP}.${createHmac('sha256', SECRET).update(`01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat4.${EXP}`).digest('base64url')}`;
    expect(verifySurveyToken(bare, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses a correctly signed text that is not a token of the format: junk before it, a score off the scale or with a leading zero', () => {
    for (const payload of [`x/01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat4.${EXP}`, `01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat9.${EXP}`, `01JABCDEFGHJKMNPQRSTVWXYZ0.1.csat04.${EXP}`, `01JABCDEFGHJKMNPQRSTVWXYZ0.1.nps11.${EXP}`]) {
      expect(verifySurveyToken(signAsDocumented(payload), SECRET, NOW), payload).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('refuses a signature in a non-canonical base64url spelling of the right bytes', () => {
    const token = signSurveyToken(claims(), SECRET);
    const last = token.at(-1)!;
    // 43 characters carry 258 bits for 256: the last character's two low bits are padding
    const twin = BASE64URL[BASE64URL.indexOf(last) ^ 1]!;
    const tampered = token.slice(0, -1) + twin;
    expect(Buffer.from(tampered.slice(tampered.lastIndexOf('.') + 1), 'base64url')).toEqual(Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url'));
    expect(verifySurveyToken(tampered, SECRET, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('will not sign an id with anything around its 10–40 letters and digits, and says why without the id', () => {
    for (const ticket_id of ['x/0123456789AB', '0123456789AB/x', '0123456789AB x']) {
      expect(() => signSurveyToken(claims({ ticket_id }), SECRET), ticket_id).toThrow(SurveyTokenError);
    }
    const refusal = (c: SurveyLinkClaims) => { try { signSurveyToken(c, SECRET); } catch (e) { return e as Error; } return null; };
    expect(refusal(claims({ score: 6 }))).toMatchObject({ name: 'SurveyTokenError', message: 'score outside the scale', cause: { scale: 'csat', score: 6 } });
    expect(refusal(claims({ round: 0 }))).toMatchObject({ name: 'SurveyTokenError', message: 'ticket id or round cannot be put in a link', cause: { round: 0 } });
    expect(JSON.stringify((refusal(claims({ ticket_id: 'a/b' })) as Error & { cause: unknown }).cause)).not.toContain('a/b');
  });
});
