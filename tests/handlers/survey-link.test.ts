/**
 * survey-link handler without a database: what it refuses before reading anything — no secret
 * configured (404), a forged token (403), a method other than GET/POST (405) — and what its pages
 * look like (HTML, no-store, no referrer, a CSP without scripts). The recording paths run through
 * the local service in tests/e2e/survey-links.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { fixedClock } from '../../functions/domain/clock.js';
import { DEFAULT_SURVEY_SETTINGS } from '../../functions/domain/survey.js';
import { signSurveyToken } from '../../functions/domain/survey-token.js';
import { makeSurveyLink } from '../../functions/handlers/survey-link.js';
import type { Db } from '../../functions/store/db.js';

const SECRET = 'test-survey-link-secret-000000000000';
const NOW = Date.UTC(2026, 10, 2, 9);
const noDb = { tableName: 'none', doc: { send: async () => { throw new Error('the database must not be reached'); } } } as unknown as Db;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const link = (secret: string | undefined) => makeSurveyLink({ db: noDb, clock: fixedClock(NOW), settings: DEFAULT_SURVEY_SETTINGS, secret, logger: quiet });

function event(method: string, token: string, body?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: '$default', rawPath: `/survey/${token}`, rawQueryString: '', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requestContext: { http: { method, path: `/survey/${token}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } } as never,
    ...(body !== undefined ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

const genuine = signSurveyToken({ ticket_id: '01JABCDEFGHJKMNPQRSTVWXYZ0', round: 1, scale: 'csat', score: 4, expires_at: NOW + 3_600_000 }, SECRET);

describe('survey link handler', () => {
  it('answers 404 when no link secret is configured, whatever the token', async () => {
    expect((await link(undefined)(event('GET', genuine))).statusCode).toBe(404);
    expect((await link(undefined)(event('POST', genuine, 'action=answer'))).statusCode).toBe(404);
  });

  it('refuses forged tokens with a 403 page for GET and POST without reading the database', async () => {
    const forged = genuine.replace('.csat4.', '.csat1.');
    for (const method of ['GET', 'POST']) {
      const r = await link(SECRET)(event(method, forged, 'action=answer'));
      expect(r.statusCode).toBe(403);
      expect(r.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
        'content-security-policy': expect.stringContaining("default-src 'none'"),
      });
      expect(String(r.body)).toContain('This link is not valid.');
      expect(String(r.body)).not.toContain('<script');
    }
    const signedElsewhere = signSurveyToken({ ticket_id: '01JABCDEFGHJKMNPQRSTVWXYZ0', round: 1, scale: 'csat', score: 4, expires_at: NOW + 3_600_000 }, 'another-secret-of-at-least-32-characters');
    expect((await link(SECRET)(event('GET', signedElsewhere))).statusCode).toBe(403);
  });

  it('answers 405 to other methods and 413 to an oversized form', async () => {
    const r = await link(SECRET)(event('DELETE', genuine));
    expect(r.statusCode).toBe(405);
    expect(r.headers).toMatchObject({ allow: 'GET, POST' });
    expect((await link(SECRET)(event('POST', genuine, `action=comment&comment=${'x'.repeat(20_000)}`))).statusCode).toBe(413);
  });
});
