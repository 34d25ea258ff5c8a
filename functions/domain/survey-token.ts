/**
 * Signed score links of survey e-mails (issue 8, README "Close the loop"): one link per score,
 * `<public URL>/survey/<token>`. The token says which ticket, which survey round, which score and
 * until when — ids and numbers only, never an address, a name or message text — and is signed
 * with HMAC-SHA256 under `CONFLUO_SURVEY_LINK_SECRET`, so nobody can make a link for a score the
 * customer was not offered or for another ticket.
 *
 *   <ticket id>.<round>.<scale><score>.<expiry, epoch seconds>.<signature, base64url>
 *   01J9ZK3Q0000000000000000AB.1.csat4.1790262000.Xk3…   (≈ 100 characters)
 *
 * The signed text is `confluo-survey-link:v1:` + everything before the last dot (the prefix keeps
 * a signature of this key from ever meaning anything elsewhere). Verification is constant-time
 * (`timingSafeEqual`) and happens before the expiry is looked at: a forged token is `forged`
 * (403) whatever it claims, a genuine one past its time is `expired` (410).
 * https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b · RFC 2104 (HMAC)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inRange, type SurveyScale } from './survey.js';

export interface SurveyLinkClaims {
  readonly ticket_id: string;
  readonly round: number;
  readonly scale: SurveyScale;
  readonly score: number;
  /** Epoch ms after which the link no longer records (the survey's `expires_at`). */
  readonly expires_at: number;
}

export type SurveyTokenCheck =
  | { readonly ok: true; readonly claims: SurveyLinkClaims }
  | { readonly ok: false; readonly reason: 'forged' }
  | { readonly ok: false; readonly reason: 'expired'; readonly claims: SurveyLinkClaims };

const DOMAIN = 'confluo-survey-link:v1:';
/** Ticket ids are ULIDs (Crockford base32); tests use other upper-case ids of the same alphabet. */
const FORMAT = /^([0-9A-Za-z]{10,40})\.([1-9]\d{0,5})\.(csat|nps)(\d{1,2})\.(\d{9,12})\.([A-Za-z0-9_-]{43})$/;

export class SurveyTokenError extends Error {
  override readonly name = 'SurveyTokenError';
}

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(DOMAIN + payload, 'utf8').digest();
}

/** The token of one score link. */
export function signSurveyToken(claims: SurveyLinkClaims, secret: string): string {
  if (!inRange(claims.scale, claims.score)) throw new SurveyTokenError('score outside the scale', { cause: { scale: claims.scale, score: claims.score } });
  if (!/^[0-9A-Za-z]{10,40}$/.test(claims.ticket_id) || !Number.isInteger(claims.round) || claims.round < 1) {
    throw new SurveyTokenError('ticket id or round cannot be put in a link', { cause: { round: claims.round } });
  }
  const payload = `${claims.ticket_id}.${claims.round}.${claims.scale}${claims.score}.${Math.ceil(claims.expires_at / 1000)}`;
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** Check a token from a URL: its shape, its signature (constant time), then its expiry. */
export function verifySurveyToken(token: string, secret: string, now: number): SurveyTokenCheck {
  const m = FORMAT.exec(token);
  if (!m) return { ok: false, reason: 'forged' };
  const payload = token.slice(0, token.lastIndexOf('.'));
  const given = Buffer.from(m[6]!, 'base64url');
  const expected = mac(secret, payload);
  // A 43-character base64url string may still decode to fewer bytes if it is non-canonical; the
  // length check keeps timingSafeEqual from throwing and refuses such a token.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  if (given.toString('base64url') !== m[6]) return { ok: false, reason: 'forged' };
  const scale = m[3] as SurveyScale;
  const score = Number(m[4]);
  if (!inRange(scale, score) || String(score) !== m[4]) return { ok: false, reason: 'forged' };
  const claims: SurveyLinkClaims = { ticket_id: m[1]!, round: Number(m[2]), scale, score, expires_at: Number(m[5]) * 1000 };
  return now > claims.expires_at ? { ok: false, reason: 'expired', claims } : { ok: true, claims };
}
