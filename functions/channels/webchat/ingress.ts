/**
 * The web chat's verify side (channels.md §9): what the ingest function imports — the widget
 * token (HS256 only, checked with jose), the Origin list and CORS preflight, and the message body
 * shape (`zod/mini`: the same schemas the parser in ./index.ts reads with). The widget's session
 * endpoint (functions/handlers/webchat-api.ts) shares the token constants and claims.
 *
 * @module
 */
import * as z from 'zod/mini';
// jose's subpath exports, not its index: the index's `errors` namespace keeps its JWE code in the
// ingest bundle (1.4 KB).
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import * as joseErrors from 'jose/errors';
import { jwtVerify } from 'jose/jwt/verify';
import { defineIngress, forbidden, invalid, unauthorized, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { parseJsonBody } from '../common.js';
import { mediaKeys } from '../../domain/media.js';

const CHANNEL = 'webchat';
export const WEBCHAT_AUDIENCE = 'confluo:webchat';
export const WEBCHAT_ISSUERS = ['confluo-webchat', 'site'] as const;
/** Allowed clock skew for `exp` / `nbf`, in seconds. */
export const WEBCHAT_CLOCK_TOLERANCE_S = 60;
/** Widget tokens Confluo mints live hours, not days (§9; functions/handlers/webchat-api.ts). */
export const SESSION_TTL_S = 12 * 3600;
/**
 * A widget token expired less than this long ago can still be renewed (the visitor keeps their
 * chat across a short absence). Bounded to hours: a stolen token must not be renewable for weeks.
 */
export const REFRESH_GRACE_S = 6 * 3600;

// ---------------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------------

/**
 * Claims carried in the envelope's `auth` (never the token). `sub` and `sid` identify the visitor
 * and the conversation; `sub` must not contain `/` (it names the visitor everywhere; upload keys
 * are scoped by `sid`: `uploads/webchat/<sid>/…`). Descriptive claims of the wrong type are dropped
 * rather than refused.
 */
export const WebchatClaims = z.object({
  iss: z.enum(WEBCHAT_ISSUERS),
  sub: z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[^/\\\s\p{Cc}]+$/u)),
  sid: z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[^\s\p{Cc}]+$/u)),
  exp: z.number(),
  email: z.catch(z.optional(z.string().check(z.maxLength(254))), undefined),
  email_verified: z.catch(z.optional(z.boolean()), undefined),
  name: z.catch(z.optional(z.string().check(z.maxLength(200))), undefined),
  ext_uid: z.catch(z.optional(z.union([z.string().check(z.maxLength(128)), z.int()])), undefined),
  locale: z.catch(z.optional(z.string().check(z.maxLength(35))), undefined),
});
export type WebchatClaims = z.infer<typeof WebchatClaims>;

function bearerToken(req: RawRequest): string | undefined {
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

async function verifyToken(token: string, secret: string, now: number): Promise<WebchatClaims> {
  // Explicit header check before any cryptography: `alg` exactly HS256 (never `none`, never an
  // asymmetric algorithm whose "public key" would be our secret), `typ` if present `JWT`.
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw unauthorized(CHANNEL, 'authenticity', 'token header unreadable');
  }
  if (header.alg !== 'HS256') throw unauthorized(CHANNEL, 'authenticity', 'token alg not HS256');
  if (header.typ !== undefined && header.typ !== 'JWT') throw unauthorized(CHANNEL, 'authenticity', 'token typ not JWT');

  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      audience: WEBCHAT_AUDIENCE,
      issuer: [...WEBCHAT_ISSUERS],
      clockTolerance: WEBCHAT_CLOCK_TOLERANCE_S,
      requiredClaims: ['sub', 'sid', 'exp'],
      currentDate: new Date(now),
    }));
  } catch (e) {
    // jose's codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, …) and claim names
    // (`aud`, `nbf`) carry no claim values.
    const code = e instanceof joseErrors.JOSEError ? e.code : 'verification failed';
    const claim = e instanceof joseErrors.JWTClaimValidationFailed ? ` (${e.claim} ${e.reason})` : '';
    throw unauthorized(CHANNEL, 'authenticity', `token refused: ${code}${claim}`);
  }
  const claims = WebchatClaims.safeParse(payload);
  if (!claims.success) throw unauthorized(CHANNEL, 'authenticity', 'token claims unusable');
  return claims.data;
}

/** The claims ingest hands to the process step; site-only claims only for `iss: "site"`. */
function authOf(c: WebchatClaims): Record<string, unknown> {
  const base = { iss: c.iss, sub: c.sub, sid: c.sid, exp: c.exp };
  if (c.iss !== 'site') return base;
  return compact({ ...base, email: c.email, email_verified: c.email_verified, name: c.name, ext_uid: c.ext_uid, locale: c.locale });
}

// ---------------------------------------------------------------------------------------------
// Origin (not authentication: any non-browser client can send any Origin)
// ---------------------------------------------------------------------------------------------

function normaliseOrigin(o: string): string {
  return o.trim().replace(/\/+$/, '').toLowerCase();
}

/** The request's Origin if allowed (undefined when absent); throws 403 when not listed. */
function checkOrigin(req: RawRequest, secrets: Secrets): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return undefined;
  const allowed = (secrets.WEBCHAT_ALLOWED_ORIGINS ?? '').split(',').map(normaliseOrigin).filter((o) => o !== '');
  if (allowed.length > 0 && !allowed.includes(normaliseOrigin(origin))) {
    throw forbidden(CHANNEL, 'origin', 'origin not in WEBCHAT_ALLOWED_ORIGINS');
  }
  return origin;
}

function corsHeaders(origin: string | undefined): Record<string, string> {
  // https://developer.mozilla.org/docs/Web/HTTP/Guides/CORS — the actual response needs
  // Access-Control-Allow-Origin too, or the widget cannot read our 202.
  return origin === undefined ? {} : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

// ---------------------------------------------------------------------------------------------
// Body
// ---------------------------------------------------------------------------------------------

/** ULID: 26 characters of Crockford base32; the first is ≤ 7 (48-bit timestamp), https://github.com/ulid/spec. */
const Ulid = z.string().check(z.regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/));

const UploadedFile = z.object({
  key: z.string().check(z.minLength(1), z.maxLength(1024)),
  name: z.string().check(z.minLength(1), z.maxLength(255)),
  contentType: z.string().check(z.maxLength(255), z.regex(/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/)),
  size: z.int().check(z.nonnegative()),
});

const Profile = z.object({
  name: z.optional(z.string().check(z.maxLength(200))),
  email: z.optional(z.string().check(z.maxLength(254))),
  phone: z.optional(z.string().check(z.maxLength(40))),
  language: z.optional(z.string().check(z.maxLength(35))),
});

const Page = z.object({
  url: z.optional(z.string().check(z.maxLength(2048))),
  title: z.optional(z.string().check(z.maxLength(500))),
  referrer: z.optional(z.string().check(z.maxLength(2048))),
});

export type Profile = z.infer<typeof Profile>;
export type Page = z.infer<typeof Page>;

const MessageBody = z.object({
  type: z.literal('message'),
  messageId: Ulid,
  sentAt: z.optional(z.string().check(z.maxLength(64))),
  text: z.optional(z.string().check(z.maxLength(4000))),
  attachments: z.optional(z.array(UploadedFile).check(z.maxLength(10))),
  profile: z.optional(Profile),
  page: z.optional(Page),
}).check(z.refine((b) => (b.text ?? '') !== '' || (b.attachments ?? []).length > 0, { message: 'text or attachments required' }));

const TypingBody = z.object({ type: z.literal('typing'), state: z.optional(z.enum(['start', 'stop'])) });

export const WebchatBody = z.discriminatedUnion('type', [MessageBody, TypingBody]);
export type WebchatBody = z.infer<typeof WebchatBody>;

/**
 * Upload keys must sit under the session's own prefix `uploads/webchat/<sid>/` (functions/domain/media.ts;
 * the widget's upload form, `POST /webchat/uploads`, signs only keys there): no foreign keys, no
 * URLs, no `.`/`..` or empty segments that could escape the prefix.
 */
export function ownsKey(sid: string, key: string): boolean {
  const prefix = mediaKeys.webchatUploadPrefix(sid);
  if (!key.startsWith(prefix)) return false;
  const rest = key.slice(prefix.length).split('/');
  return rest.every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !/[\\\p{Cc}]/u.test(seg));
}

function validationError(issues: ReadonlyArray<{ readonly path: readonly PropertyKey[] }>) {
  // Paths only (e.g. "attachments.0.key"), never values.
  const where = issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
  return invalid(CHANNEL, 'validate', `unexpected shape at ${where}`);
}

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const webchatIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['WEBCHAT_SECRET'],
  inboundOptional: ['WEBCHAT_ALLOWED_ORIGINS'],
  capabilities: { maxBodyBytes: 65_536, extraMethods: ['OPTIONS'] },

  async admit(req: RawRequest, secrets: Secrets, now: number): Promise<Admission> {
    const origin = checkOrigin(req, secrets);
    if (req.method.toUpperCase() === 'OPTIONS') {
      // CORS preflight: browsers never send credentials with it, so nothing to verify.
      return {
        kind: 'handshake',
        reply: {
          status: 204,
          headers: {
            'access-control-allow-methods': 'POST',
            'access-control-allow-headers': 'Authorization, Content-Type',
            'access-control-max-age': '600',
            ...corsHeaders(origin),
          },
        },
      };
    }

    const secret = secrets.WEBCHAT_SECRET;
    if (secret === undefined || secret === '') throw unauthorized(CHANNEL, 'authenticity', 'inbound secret not configured');
    const token = bearerToken(req);
    if (token === undefined) throw unauthorized(CHANNEL, 'authenticity', 'bearer token missing');
    const claims = await verifyToken(token, secret, now);

    const parsed = WebchatBody.safeParse(parseJsonBody(CHANNEL, req.body));
    if (!parsed.success) throw validationError(parsed.error.issues);
    const body = parsed.data;
    if (body.type === 'message' && !(body.attachments ?? []).every((a) => ownsKey(claims.sid, a.key))) {
      throw invalid(CHANNEL, 'validate', 'attachment key outside the visitor prefix');
    }

    return {
      kind: 'accepted',
      conversationKey: claims.sid,
      auth: authOf(claims),
      reply: {
        status: 202,
        headers: { 'content-type': 'application/json', ...corsHeaders(origin) },
        body: JSON.stringify(body.type === 'message' ? { ok: true, messageId: body.messageId } : { ok: true }),
      },
    };
  },
});
