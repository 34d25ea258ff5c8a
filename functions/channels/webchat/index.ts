/**
 * Web chat adapter: Confluo's own widget (channels.md §9).
 *
 * The widget POSTs JSON with `Authorization: Bearer <JWT>`. Tokens are HS256 with
 * `WEBCHAT_SECRET`, minted either by Confluo's widget-token endpoint for an anonymous visitor
 * (`iss: "confluo-webchat"`) or by the shop's backend for a logged-in customer (`iss: "site"`).
 * Verification uses `jose` (RFC 7519 / RFC 8725 best practice: pin the algorithm, never trust the
 * header's `alg`, https://www.rfc-editor.org/rfc/rfc8725#section-3.1).
 *
 * There is no platform behind the widget: replies are stored per conversation and fetched by the
 * widget, so `render` describes a local store write.
 *
 * @module
 */
import { z } from 'zod';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Attachment, Identity, NormalisedEvent } from '../../domain/inbound.js';
import {
  defineChannel,
  forbidden,
  invalid,
  unauthorized,
  type Admission,
  type DeliveryResult,
  type Envelope,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RawRequest,
  type RenderContext,
  type Secrets,
} from '../channel.js';
import { attachmentTypeForMime, parseJsonBody } from '../common.js';
import { MB, type MediaCapability } from '../media.js';
import { mediaKeys } from '../../domain/media.js';
import { envelopeBody } from '../envelope.js';
import { phoneInText } from '../telegram/index.js';

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
/** A `sentAt` further ahead of our clock than this is not believed (§9). */
const MAX_SENT_AT_AHEAD_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------------

/**
 * Claims carried in the envelope's `auth` (never the token). `sub` and `sid` identify the visitor
 * and the conversation; `sub` must not contain `/` (it names the visitor everywhere;
 * upload keys are scoped by `sid`: `uploads/webchat/<sid>/…`). Descriptive claims of the wrong type are dropped rather than refused.
 */
export const WebchatClaims = z.object({
  iss: z.enum(WEBCHAT_ISSUERS),
  sub: z.string().min(1).max(128).regex(/^[^/\\\s\p{Cc}]+$/u),
  sid: z.string().min(1).max(128).regex(/^[^\s\p{Cc}]+$/u),
  exp: z.number(),
  email: z.string().max(254).optional().catch(undefined),
  email_verified: z.boolean().optional().catch(undefined),
  name: z.string().max(200).optional().catch(undefined),
  ext_uid: z.union([z.string().max(128), z.int()]).optional().catch(undefined),
  locale: z.string().max(35).optional().catch(undefined),
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
const Ulid = z.string().regex(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);

const UploadedFile = z.object({
  key: z.string().min(1).max(1024),
  name: z.string().min(1).max(255),
  contentType: z.string().max(255).regex(/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/),
  size: z.int().nonnegative(),
});

const Profile = z.object({
  name: z.string().max(200).optional(),
  email: z.string().max(254).optional(),
  phone: z.string().max(40).optional(),
  language: z.string().max(35).optional(),
});

const Page = z.object({
  url: z.string().max(2048).optional(),
  title: z.string().max(500).optional(),
  referrer: z.string().max(2048).optional(),
});

/**
 * A page URL as kept on the message: scheme, host and path. Queries and fragments carry sign-in
 * tokens, reset codes and e-mail addresses the visitor never meant to send; Confluo's widget sends
 * none (web/widget/widget.ts), another client's are cut here. Unparseable: dropped.
 */
function pageWithoutQuery(page: z.infer<typeof Page>): z.infer<typeof Page> {
  const strip = (u: string | undefined) => {
    if (u === undefined) return undefined;
    try {
      const url = new URL(u);
      return url.protocol === 'http:' || url.protocol === 'https:' ? `${url.origin}${url.pathname}` : undefined;
    } catch {
      return undefined;
    }
  };
  const url = strip(page.url);
  const referrer = strip(page.referrer);
  return { ...(url ? { url } : {}), ...(page.title !== undefined ? { title: page.title } : {}), ...(referrer ? { referrer } : {}) };
}

const MessageBody = z.object({
  type: z.literal('message'),
  messageId: Ulid,
  sentAt: z.string().max(64).optional(),
  text: z.string().max(4000).optional(),
  attachments: z.array(UploadedFile).max(10).optional(),
  profile: Profile.optional(),
  page: Page.optional(),
}).refine((b) => (b.text ?? '') !== '' || (b.attachments ?? []).length > 0, { message: 'text or attachments required' });

const TypingBody = z.object({ type: z.literal('typing'), state: z.enum(['start', 'stop']).optional() });

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

function validationError(issues: readonly z.core.$ZodIssue[]) {
  // Paths only (e.g. "attachments.0.key"), never values.
  const where = issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
  return invalid(CHANNEL, 'validate', `unexpected shape at ${where}`);
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s);

function emailOf(s: string | undefined): string | undefined {
  const v = nonEmpty(s)?.trim().toLowerCase();
  return v !== undefined && /^[^\s@]+@[^\s@]+$/.test(v) ? v : undefined;
}

/** A visitor-typed phone: E.164 when it is a possible international number, else dropped. */
function profilePhone(s: string | undefined): string | undefined {
  const raw = nonEmpty(s);
  if (raw === undefined) return undefined;
  const parsed = parsePhoneNumberFromString(raw);
  return parsed?.isPossible() && /^\+\d{4,15}$/.test(parsed.number) ? parsed.number : undefined;
}

function identityOf(c: WebchatClaims, profile: z.infer<typeof Profile> | undefined): Identity {
  const phone = profilePhone(profile?.phone);
  const phoneFields = phone === undefined ? {} : { phone, phone_verified: false };
  if (c.iss === 'site') {
    // The shop vouches for its own customer; only `email_verified: true` verifies the e-mail.
    const claimed = emailOf(c.email);
    const email = claimed ?? emailOf(profile?.email);
    return compact({
      external_id: c.sub,
      display_name: nonEmpty(c.name) ?? nonEmpty(profile?.name),
      ...(email === undefined ? {} : { email, email_verified: claimed !== undefined && c.email_verified === true }),
      ...phoneFields,
      site_user_id: c.ext_uid === undefined ? undefined : String(c.ext_uid),
      language: nonEmpty(c.locale) ?? nonEmpty(profile?.language),
    });
  }
  // Anonymous visitor: everything but `sub` is a claim typed into the widget.
  const email = emailOf(profile?.email);
  return compact({
    external_id: c.sub,
    display_name: nonEmpty(profile?.name),
    ...(email === undefined ? {} : { email, email_verified: false }),
    ...phoneFields,
    language: nonEmpty(profile?.language),
  });
}

function sentAtMs(sentAt: string | undefined, receivedAt: number): number {
  const ms = sentAt === undefined ? NaN : Date.parse(sentAt);
  return Number.isFinite(ms) && ms >= 0 && ms <= receivedAt + MAX_SENT_AT_AHEAD_MS ? ms : receivedAt;
}

/**
 * Files in the widget are links it shows (images inline): no platform in between, so the limit is
 * Confluo's own — 25 MB, what a visitor on a phone can still reasonably open.
 */
export const WEBCHAT_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], maxBytes: 25 * MB, via: 'url' },
    { as: 'document', contentTypes: 'any', maxBytes: 25 * MB, via: 'url' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'functions/channels/webchat/index.ts (no platform: Confluo\'s own limit)',
};

export const webchat = defineChannel({
  name: 'webchat',
  inboundSecrets: ['WEBCHAT_SECRET'],
  inboundOptional: ['WEBCHAT_ALLOWED_ORIGINS'],
  outboundSecrets: [],
  capabilities: { maxBodyBytes: 65_536, replyWindowSeconds: null, buttons: false, extraMethods: ['OPTIONS'], media: WEBCHAT_MEDIA },

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

  parse(envelope: Envelope): NormalisedEvent[] {
    // Trusts the queue: the claims were verified at ingest and the body validated there.
    const claims = WebchatClaims.parse(envelope.auth);
    const body = WebchatBody.parse(JSON.parse(envelopeBody(envelope).toString('utf8')));
    if (body.type === 'typing') return [{ kind: 'ignored', channel: CHANNEL, reason: 'typing' }];

    const ms = sentAtMs(body.sentAt, envelope.received_at);
    const text = body.text ?? '';
    const attachments: Attachment[] = (body.attachments ?? []).map((a) => ({
      type: attachmentTypeForMime(a.contentType),
      platform_ref: a.key,
      file_name: a.name,
      mime_type: a.contentType,
      size: a.size,
    }));
    return [compact({
      kind: 'message' as const,
      channel: CHANNEL,
      dedup_key: `${claims.sub}:${body.messageId}`,
      external_message_id: body.messageId,
      conversation_id: claims.sid,
      sent_at: Math.floor(ms / 1000),
      sent_at_ms: ms,
      edit: false,
      text,
      attachments,
      interaction: null,
      customer_identity: identityOf(claims, body.profile),
      phone_in_text: phoneInText(text),
      // Channel extra (a claim: the page the visitor says they are on), without query or fragment.
      page: body.page ? pageWithoutQuery(body.page) : undefined,
    })];
  },

  render(msg: OutboundMessage, _ctx: RenderContext): PlatformRequest {
    // No platform to call: the reply is already stored, and the widget fetches it with
    // GET /webchat/messages?after=<cursor> (§9). `store://` tells the sender there is nothing to
    // perform (functions/runtime/perform.ts), in AWS as locally.
    return {
      method: 'POST',
      url: `store://webchat/${encodeURIComponent(msg.conversation_id)}/messages`,
      headers: { 'content-type': 'application/json' },
      // Files are links the widget shows: GET /webchat/messages presigns each when it is read.
      body: JSON.stringify({ id: msg.id, text: msg.text, buttons: msg.buttons, ...(msg.attachments?.length ? { attachments: msg.attachments.map((f) => ({ file_name: f.file_name, content_type: f.content_type, size: f.size })) } : {}) }),
    };
  },

  readDelivery(_res: PlatformResponse, msg: OutboundMessage): DeliveryResult {
    return { ok: true, external_message_id: msg.id };
  },
});
