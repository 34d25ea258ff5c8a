/**
 * Web chat widget API (channels.md §9): the two endpoints besides the webhook that Confluo's
 * widget talks to.
 *
 * - `POST /webchat/session` → `{token, visitor_id, conversation_id, expires_at}`: an HS256 token
 *   (`WEBCHAT_SECRET`, `iss: "confluo-webchat"`, `aud: "confluo:webchat"`) for an anonymous visitor
 *   (`sub` = `v_` + 22 url-safe characters, `sid` = `c_` + 22). Sent with a previous widget token
 *   (expired up to {@link REFRESH_GRACE_S} ago, signature still valid) it renews that session —
 *   hours, not days: a token taken from a visitor's browser keeps working at most
 *   SESSION_TTL_S + REFRESH_GRACE_S after its issue unless the visitor's own widget renews it.
 * - `GET /webchat/messages?after=<cursor>` (same bearer token, verified exactly as ingest does):
 *   the conversation, oldest first — the visitor's own messages once processed and the agents'
 *   replies once sent; replies served here become `delivered`.
 *
 * - `POST /webchat/uploads` (same bearer token) `{file_name, content_type, size}` → a presigned POST
 *   form for one object under the session's own prefix (`uploads/webchat/<sid>/<ulid>.<ext>`,
 *   functions/domain/media.ts) — images and PDF up to {@link VISITOR_UPLOAD_MAX_BYTES} — whose
 *   `key` the widget then names in its message's `attachments` (ingest refuses any key outside
 *   the session's prefix). The bytes go from the browser to S3, never through Lambda.
 *
 * Files in the conversation come with a short-lived signed `url` (the visitor's own uploads and
 * the files agents send), so the widget shows images inline and the rest as links.
 *
 * Revocation: `DELETE /api/v1/webchat/sessions/{sid}` (supervisor) writes a revocation item
 * (functions/store/webchat.ts); both endpoints here check it — a revoked session is neither
 * renewed (a fresh anonymous session is minted instead: new visitor, new conversation) nor read
 * (401). Ingest does not check it (its only table access is the rate counter), so a revoked
 * token can still post messages
 * until it expires (≤ SESSION_TTL_S); they open nothing the revoked token can read back.
 *
 * A channel whose secret is not configured answers 404, like its webhook. Sessions are counted
 * per client network (`CONFLUO_WEBCHAT_SESSION_RATE`, functions/store/rate-limit.ts: one
 * UpdateItem): beyond the limit 429 with Retry-After, and no token is minted — every token can
 * start a customer, a ticket, a workflow and an acknowledgement.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod/mini';
import { REFRESH_GRACE_S, SESSION_TTL_S, WEBCHAT_AUDIENCE, WEBCHAT_CLOCK_TOLERANCE_S, WebchatClaims } from '../channels/webchat/ingress.js';
import type { Clock } from '../domain/clock.js';
import type { Config } from '../runtime/config.js';
import { lambdaHandler } from '../runtime/aws-edge-media.js';
import { jsonResponse, lowerCaseHeaders } from '../runtime/http.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { markServed, WEBCHAT_CURSOR, webchatConversation, webchatSessionRevoked } from '../store/webchat.js';
import { parseRate } from '../domain/rate-limit.js';
import { monotonicFactory } from 'ulid';
import { uploadIdFor } from '../domain/agent-uploads.js';
import { mediaKeys } from '../domain/media.js';
import type { MediaStore } from '../runtime/ports.js';
import type { MessageEntry } from '../store/records.js';
import { makeRateLimiter, WEBCHAT_SESSION_SCOPE, type RateDecision, type RateLimiter } from '../store/rate-limit.js';

export { REFRESH_GRACE_S, SESSION_TTL_S };
const ISSUER = 'confluo-webchat';

export interface WebchatApiDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Partial<Pick<Config, 'WEBCHAT_SECRET' | 'WEBCHAT_ALLOWED_ORIGINS'>>;
  readonly logger?: Pick<typeof defaultLogger, 'warn' | 'error'>;
  /** Counts session requests per client network (scope `webchat-session`). */
  readonly rateLimit?: RateLimiter;
  /** The media bucket: visitors' uploads and the files in the conversation. Without it uploads answer 404. */
  readonly media?: MediaStore;
}

// zod/mini: this is a public entry point, and the full zod build would double its bundle (README "Entry points").
/** What a visitor may upload: pictures and PDFs, up to 10 MB (the widget previews images). */
export const VISITOR_UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'application/pdf'] as const;
export const VISITOR_UPLOAD_MAX_BYTES = 10_000_000;
/** How long an upload form and a file link in the widget stay valid. */
const VISITOR_FORM_SECONDS = 600;
const VISITOR_LINK_SECONDS = 900;

const UploadRequest = z.strictObject({
  file_name: z.string().check(z.minLength(1), z.maxLength(255)),
  content_type: z.enum(VISITOR_UPLOAD_TYPES),
  size: z.int().check(z.positive(), z.lte(VISITOR_UPLOAD_MAX_BYTES)),
});

const MessagesQuery = z.strictObject({
  after: z.optional(z.string().check(z.regex(WEBCHAT_CURSOR))),
  limit: z._default(z.pipe(z.coerce.number(), z.int().check(z.gte(1), z.lte(200))), 100),
});

const urlSafeId = (prefix: string) => prefix + randomBytes(17).toString('base64url').slice(0, 22);

export function makeWebchatApi(deps: WebchatApiDeps) {
  const log = deps.logger ?? defaultLogger;
  const secret = deps.config.WEBCHAT_SECRET;
  const key = secret ? new TextEncoder().encode(secret) : undefined;
  const allowed = (deps.config.WEBCHAT_ALLOWED_ORIGINS ?? '').split(',').map(normaliseOrigin).filter((o) => o !== '');
  const ulid = monotonicFactory();

  /** The files of an entry as the widget shows them: a signed link for each stored one in this session. */
  async function filesOf(e: MessageEntry, sid: string) {
    return Promise.all((e.attachments ?? []).map(async (a) => {
      const key = a.media?.status === 'stored' ? a.media.key : a.platform_ref !== undefined && a.platform_ref.startsWith(mediaKeys.webchatUploadPrefix(sid)) ? a.platform_ref : undefined;
      const type = a.media?.content_type ?? a.mime_type ?? 'application/octet-stream';
      const url = key && deps.media
        ? await deps.media.presignGet(key, { fileName: a.file_name ?? 'file', contentType: type, expiresSeconds: VISITOR_LINK_SECONDS, disposition: type.startsWith('image/') ? 'inline' : 'attachment' })
        : null;
      return { type: a.type, name: a.file_name ?? null, mime_type: a.mime_type ?? a.media?.content_type ?? null, ...(a.size !== undefined ? { size: a.size } : {}), url };
    }));
  }

  async function verify(token: string, graceS: number, issuers: readonly string[]): Promise<WebchatClaims | undefined> {
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT')) return undefined;
      const { payload } = await jwtVerify(token, key!, {
        algorithms: ['HS256'], audience: WEBCHAT_AUDIENCE, issuer: [...issuers], clockTolerance: graceS,
        requiredClaims: ['sub', 'sid', 'exp'], currentDate: new Date(deps.clock.now()),
      });
      const claims = WebchatClaims.safeParse(payload);
      return claims.success ? claims.data : undefined;
    } catch {
      return undefined;
    }
  }

  async function mint(sub: string, sid: string) {
    const now = Math.floor(deps.clock.now() / 1000);
    const token = await new SignJWT({ sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER).setAudience(WEBCHAT_AUDIENCE).setSubject(sub)
      .setIssuedAt(now).setExpirationTime(now + SESSION_TTL_S)
      .sign(key!);
    return { token, visitor_id: sub, conversation_id: sid, expires_at: new Date((now + SESSION_TTL_S) * 1000).toISOString() };
  }

  return async function webchatApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const path = event.rawPath.replace(/\/+$/, '');
    const method = event.requestContext.http.method.toUpperCase();
    const headers = lowerCaseHeaders(event.headers);
    if (!key || (path !== '/webchat/session' && path !== '/webchat/messages' && path !== '/webchat/uploads')) return jsonResponse(404, { error: { code: 'not_found', message: 'no such route' } });
    // Origins are not authentication (any client can send any Origin), but a listed set keeps
    // other sites' pages from using the widget's endpoints through visitors' browsers.
    const origin = headers.origin;
    if (origin && allowed.length > 0 && !allowed.includes(normaliseOrigin(origin))) return jsonResponse(403, { error: { code: 'forbidden', message: 'origin not allowed' } });
    const cors: Record<string, string> = origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (method === 'OPTIONS') {
      return { statusCode: 204, headers: { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'Authorization, Content-Type', 'access-control-max-age': '600' } };
    }
    const bearer = /^Bearer[ ]+([^\s]+)\s*$/i.exec(headers.authorization ?? '')?.[1];
    const out = (status: number, body: unknown) => jsonResponse(status, body, { ...cors, 'cache-control': 'no-store' });
    try {
      if (path === '/webchat/session' && method === 'POST') {
        let decision: RateDecision = { allowed: true };
        try {
          decision = await deps.rateLimit?.take(WEBCHAT_SESSION_SCOPE, event.requestContext.http.sourceIp, deps.clock.now()) ?? decision;
        } catch (e) {
          // Fail open: a counter we cannot reach must not take the widget down with it.
          log.warn('rate counter unavailable', { path, ...errorFacts(e) });
        }
        if (!decision.allowed) {
          return jsonResponse(429, { error: { code: 'rate_limited', message: 'too many chat sessions from this network, try again later' } }, {
            ...cors, 'cache-control': 'no-store', 'retry-after': String(decision.retryAfterS), 'access-control-expose-headers': 'Retry-After',
          });
        }
        const verified = bearer ? await verify(bearer, REFRESH_GRACE_S, [ISSUER]) : undefined;
        const previous = verified && !(await webchatSessionRevoked(deps.db, verified.sid)) ? verified : undefined;
        return out(200, await mint(previous?.sub ?? urlSafeId('v_'), previous?.sid ?? urlSafeId('c_')));
      }
      if (path === '/webchat/uploads' && method === 'POST') {
        const claims = bearer ? await verify(bearer, WEBCHAT_CLOCK_TOLERANCE_S, [ISSUER, 'site']) : undefined;
        if (!claims || await webchatSessionRevoked(deps.db, claims.sid)) return out(401, { error: { code: 'unauthorized', message: 'a valid widget token is required' } });
        if (!deps.media) return out(404, { error: { code: 'not_found', message: 'uploads are not configured' } });
        let body: unknown;
        try { body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? ''); } catch { body = undefined; }
        const req = UploadRequest.safeParse(body);
        if (!req.success) {
          return out(422, { error: { code: 'invalid', message: `a file is one of ${VISITOR_UPLOAD_TYPES.join(', ')} of at most ${VISITOR_UPLOAD_MAX_BYTES / 1_000_000} MB` } });
        }
        const now = deps.clock.now();
        const objectKey = mediaKeys.webchatUploadPrefix(claims.sid) + uploadIdFor(ulid(now), req.data.content_type);
        const form = await deps.media.presignPost(objectKey, { maxBytes: req.data.size, contentTypes: [req.data.content_type], expiresSeconds: VISITOR_FORM_SECONDS });
        return out(201, { key: objectKey, url: form.url, fields: form.fields, max_bytes: req.data.size, expires_at: new Date(now + VISITOR_FORM_SECONDS * 1000).toISOString() });
      }
      if (path === '/webchat/messages' && method === 'GET') {
        const claims = bearer ? await verify(bearer, WEBCHAT_CLOCK_TOLERANCE_S, [ISSUER, 'site']) : undefined;
        if (!claims || await webchatSessionRevoked(deps.db, claims.sid)) return out(401, { error: { code: 'unauthorized', message: 'a valid widget token is required' } });
        const q = MessagesQuery.safeParse(event.queryStringParameters ?? {});
        if (!q.success) return out(400, { error: { code: 'invalid', message: 'expected after=<cursor from a previous answer> and limit ≤ 200' } });
        const items = await webchatConversation(deps.db, claims.sub, claims.sid, q.data.after, q.data.limit);
        await markServed(deps.db, items);
        return out(200, {
          items: await Promise.all(items.map(async ({ entry: e }) => ({
            // The visitor's own messages carry the id the widget gave them.
            id: e.direction === 'in' ? (e.external_message_id ?? e.id) : e.id,
            direction: e.direction,
            text: e.text,
            attachments: await filesOf(e, claims.sid),
            at: new Date(e.at).toISOString(),
            ...(e.direction === 'out' ? { kind: e.outbound_kind ?? 'reply' } : {}),
          }))),
          next_cursor: items.at(-1)?.cursor ?? q.data.after ?? null,
        });
      }
      return out(405, { error: { code: 'method_not_allowed', message: 'method not allowed' } });
    } catch (e) {
      log.error('webchat api failed', { path, ...errorFacts(e) });
      return out(500, { error: { code: 'internal', message: 'internal error' } });
    }
  };
}

function normaliseOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const db = platform.db(config);
  const sessionRate = parseRate(config.CONFLUO_WEBCHAT_SESSION_RATE ?? 'off');
  return makeWebchatApi({
    db, clock: platform.clock, config,
    ...(config.CONFLUO_MEDIA_BUCKET ? { media: platform.media(config) } : {}),
    ...(config.WEBCHAT_SECRET && sessionRate ? { rateLimit: makeRateLimiter(db, { key: config.WEBCHAT_SECRET, rates: { [WEBCHAT_SESSION_SCOPE]: sessionRate } }) } : {}),
  });
});
