/**
 * Shared by the three Meta channels — `whatsapp`, `messenger`, `instagram` (channels.md §2–§4):
 * the `X-Hub-Signature-256` check over the raw bytes, the `GET hub.challenge` subscription
 * handshake, the required top-level shape, Meta's JSON escaping (for the sample signer and
 * tests), and reading Graph API answers to our Send/Messages calls.
 *
 * Pure (no I/O), like every adapter.
 *
 * @module
 */
import {
  forbidden,
  invalid,
  unauthorized,
  type Admission,
  type DeliveryResult,
  type HttpReply,
  type PlatformResponse,
  type RawRequest,
  type Secrets,
} from './channel.js';
import { hmacHex, isRecord, parseJsonBody, safeEqual } from './common.js';

export type MetaChannel = 'whatsapp' | 'messenger' | 'instagram';

/** channels.md §0.2: 256 KiB for every Meta channel (Meta itself documents batches up to 3 MB). */
export const META_MAX_BODY_BYTES = 262_144;
/**
 * The free-form reply window of all three channels: 24 hours after the customer's last message.
 * WhatsApp: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows
 * Messenger / Instagram: https://developers.facebook.com/docs/messenger-platform/policy/policy-overview#24hours
 */
export const META_REPLY_WINDOW_SECONDS = 86_400;
/** Pinned default of META_GRAPH_API_VERSION (functions/runtime/config.ts declares the same default). */
export const DEFAULT_GRAPH_API_VERSION = 'v23.0';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

// ---------------------------------------------------------------------------------------------
// Authenticity
// ---------------------------------------------------------------------------------------------

/**
 * `sha256=<lowercase hex HMAC-SHA256(app secret, body bytes)>`, the value of `X-Hub-Signature-256`.
 *
 * Quirk: Meta signs the body *as it sends it* — non-ASCII escaped as `\uXXXX` with lowercase hex
 * digits and `/` as `\/` ("the signature is generated using an escaped unicode version of the
 * payload, with lowercase hex digits",
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads).
 * So the HMAC runs over the untouched request bytes; re-serialising parsed JSON would fail on
 * exactly the messages with Cyrillic, Polish letters or emoji.
 */
export function metaSignature(appSecret: string, body: Buffer | string): string {
  return `sha256=${hmacHex('sha256', appSecret, body)}`;
}

/**
 * 401 unless `X-Hub-Signature-256` is the HMAC of the raw body with META_APP_SECRET. The legacy
 * SHA-1 `X-Hub-Signature` is never accepted instead (§2).
 */
export function verifyMetaSignature(channel: MetaChannel, req: RawRequest, secrets: Secrets): void {
  const secret = secrets.META_APP_SECRET;
  if (secret === undefined || secret === '') throw unauthorized(channel, 'authenticity', 'app secret not configured');
  const given = req.headers[SIGNATURE_HEADER];
  if (given === undefined) {
    throw unauthorized(channel, 'authenticity', req.headers['x-hub-signature'] !== undefined ? 'only the legacy sha1 signature header was sent' : 'signature header missing');
  }
  if (!safeEqual(given, metaSignature(secret, req.body))) throw unauthorized(channel, 'authenticity', 'signature mismatch');
}

/**
 * The subscription handshake (§2): `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
 * → `200 text/plain` with exactly the challenge when the token equals META_VERIFY_TOKEN; anything
 * else → 403 and the challenge is never echoed.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
 */
export function metaHandshake(channel: MetaChannel, req: RawRequest, secrets: Secrets): HttpReply {
  const expected = secrets.META_VERIFY_TOKEN;
  if (expected === undefined || expected === '') throw forbidden(channel, 'handshake', 'verify token not configured');
  if (req.query['hub.mode'] !== 'subscribe') throw forbidden(channel, 'handshake', 'hub.mode is not subscribe');
  const token = req.query['hub.verify_token'];
  if (token === undefined) throw forbidden(channel, 'handshake', 'verify token missing');
  if (!safeEqual(token, expected)) throw forbidden(channel, 'handshake', 'verify token mismatch');
  const challenge = req.query['hub.challenge'];
  // Meta's challenge is a short run of digits; a reflected body is kept to printable ASCII.
  if (challenge === undefined || !/^[\x21-\x7e]{1,256}$/.test(challenge)) throw invalid(channel, 'handshake', 'hub.challenge missing or unusable');
  return { status: 200, headers: { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' }, body: challenge };
}

// ---------------------------------------------------------------------------------------------
// Shape
// ---------------------------------------------------------------------------------------------

/** The top level every Meta webhook has; `object` and `entry` are the only required fields (§2–§4). */
export interface MetaNotification {
  readonly object: string;
  readonly entry: readonly unknown[];
}

/** Parse and validate the top level: unparseable → 400 malformed, wrong shape → 400 invalid. */
export function parseMetaNotification(channel: MetaChannel, body: Buffer): MetaNotification {
  const json = parseJsonBody(channel, body);
  if (!isRecord(json)) throw invalid(channel, 'validate', 'body is not an object');
  if (typeof json.object !== 'string') throw invalid(channel, 'validate', 'object missing or not a string');
  if (!Array.isArray(json.entry)) throw invalid(channel, 'validate', 'entry missing or not an array');
  return { object: json.object, entry: json.entry };
}

/** What Meta expects back for an accepted POST: any 200; its sample code answers EVENT_RECEIVED. */
export const EVENT_RECEIVED: HttpReply = { status: 200, headers: { 'content-type': 'text/plain' }, body: 'EVENT_RECEIVED' };

/**
 * The ingest checks of all three channels, in the order of §0.2: GET → handshake; POST →
 * signature → parse → validate → accepted with the FIFO conversation key `keyOf` finds.
 */
export function admitMeta(channel: MetaChannel, req: RawRequest, secrets: Secrets, keyOf: (n: MetaNotification) => string | null): Admission {
  if (req.method.toUpperCase() === 'GET') return { kind: 'handshake', reply: metaHandshake(channel, req, secrets) };
  verifyMetaSignature(channel, req, secrets);
  const notification = parseMetaNotification(channel, req.body);
  return { kind: 'accepted', conversationKey: keyOf(notification), reply: EVENT_RECEIVED };
}

// ---------------------------------------------------------------------------------------------
// Meta's wire form (for the sample signer and tests)
// ---------------------------------------------------------------------------------------------

/**
 * Rewrite compact JSON text the way Meta writes it: every UTF-16 code unit above U+007E as
 * `\uXXXX` (lowercase hex; an emoji becomes its two surrogate escapes) and every `/` as `\/`.
 * `JSON.stringify` never emits `\/` or a `/` inside an escape, so escaping every `/` is safe.
 */
export function metaEscapeJson(json: string): string {
  let out = '';
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code === 0x2f) out += '\\/';
    else out += json[i];
  }
  return out;
}

/** A value serialised exactly as Meta sends it (compact JSON, escaped). */
export function metaWireBody(value: unknown): string {
  return metaEscapeJson(JSON.stringify(value));
}

// ---------------------------------------------------------------------------------------------
// Small readers shared by the parsers
// ---------------------------------------------------------------------------------------------

/** A non-empty id as Meta writes it (strings; a safe integer is accepted as its decimal form). */
export function idString(v: unknown): string | undefined {
  if (typeof v === 'string') return v !== '' && v.length <= 512 ? v : undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return undefined;
}

/** An optional string field. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A non-negative integer given as a number or a string of digits (WhatsApp timestamps are strings). */
export function intOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

/** Keys of Meta's own schema (webhook fields, item kinds) are safe to name in a reason; others are not. */
export function metaWord(v: unknown): string | undefined {
  return typeof v === 'string' && /^[a-z][a-z0-9_]{0,59}$/.test(v) ? v : undefined;
}

/**
 * The customer a Messenger/Instagram item is about: the sender, except for our own echoes (the
 * recipient). Chat plugin guests are `user_ref:<value>` (Messenger only: `userRef`).
 */
export function messagingCustomerOf(userRef: boolean, item: Record<string, unknown>): string | undefined {
  const echo = isRecord(item.message) && item.message.is_echo === true;
  const party = echo ? item.recipient : item.sender;
  if (!isRecord(party)) return undefined;
  const id = idString(party.id);
  if (id !== undefined) return id;
  const ref = userRef ? idString(party.user_ref) : undefined;
  return ref !== undefined ? `user_ref:${ref}` : undefined;
}

/** Messenger/Instagram FIFO conversation key: the customer of the first item (a mixed batch is ordered by its first). */
export function messagingConversationKey(userRef: boolean, n: MetaNotification): string | null {
  for (const entry of n.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.messaging)) continue;
    for (const item of entry.messaging) {
      if (!isRecord(item)) continue;
      const key = messagingCustomerOf(userRef, item);
      if (key !== undefined) return key;
    }
  }
  return null;
}

/** Drop `undefined` members so strict schemas see only what the platform gave. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

export function graphBase(secrets: Secrets): string {
  const version = secrets.META_GRAPH_API_VERSION || DEFAULT_GRAPH_API_VERSION;
  return `https://graph.facebook.com/${version}`;
}

/** Cut to `max` UTF-16 code units without splitting a surrogate pair, ending with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Choices listed in the text, for channels or counts without native buttons (as e-mail and SMS do). */
export function withNumberedChoices(text: string, buttons: ReadonlyArray<{ label: string }>): string {
  return `${text}\n\n${buttons.map((b, i) => `${i + 1}. ${b.label}`).join('\n')}`;
}

interface GraphError {
  readonly code?: number;
  readonly error_subcode?: number;
  readonly is_transient?: boolean;
}

function graphError(body: unknown): GraphError | undefined {
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const e = body.error;
  return compact({
    code: typeof e.code === 'number' ? e.code : undefined,
    error_subcode: typeof e.error_subcode === 'number' ? e.error_subcode : undefined,
    is_transient: typeof e.is_transient === 'boolean' ? e.is_transient : undefined,
  });
}

/**
 * Graph error codes that mean "slow down" (https://developers.facebook.com/docs/graph-api/overview/rate-limiting,
 * WhatsApp 130429 throughput, 131048 spam rate limit, 131056 pair rate limit:
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80006, 80007, 130429, 131048, 131056]);
/**
 * Temporary errors worth a retry: 1/2 (unknown/service), Messenger 1200 ("Temporary send message
 * failure. Please try again later", https://developers.facebook.com/docs/messenger-platform/error-codes),
 * WhatsApp 131000 (something went wrong), 131016 (service unavailable).
 */
const TRANSIENT_CODES = new Set([1, 2, 1200, 131000, 131016]);
/**
 * The person cannot be reached: WhatsApp 131026 (undeliverable: not on WhatsApp, blocked us, old
 * client), 131050 (stopped marketing messages); Messenger/Instagram 551 ("This person isn't
 * available right now"), 100/2018001 ("No matching user found"),
 * https://developers.facebook.com/docs/messenger-platform/error-codes.
 */
const UNREACHABLE_CODES = new Set([131026, 131050, 551]);
const UNREACHABLE_SUBCODES = new Set([2018001]);

function retryAfterSeconds(res: PlatformResponse): number | undefined {
  const raw = res.headers['retry-after'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : undefined;
}

/**
 * Map a Graph API answer (WhatsApp Messages, Messenger/Instagram Send API) to a delivery result:
 * 2xx → ok with the id `idOf` reads; 429, rate-limit codes, 5xx and transient errors → retryable
 * (honouring `Retry-After`); blocked/unavailable users → unreachable; anything else permanent, with
 * `error_code` = `<code>` or `<code>/<error_subcode>` (e.g. `131047`: the 24-hour window closed;
 * `10/2018278`: Messenger outside the allowed window).
 */
export function readGraphDelivery(res: PlatformResponse, idOf: (body: Record<string, unknown>) => string | undefined): DeliveryResult {
  let body: unknown;
  try {
    body = res.body === '' ? undefined : JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  if (res.status >= 200 && res.status < 300) {
    const id = isRecord(body) ? idOf(body) : undefined;
    return id ? { ok: true, external_message_id: id } : { ok: true };
  }
  const err = graphError(body);
  const code = err?.code !== undefined ? `${err.code}${err.error_subcode !== undefined ? `/${err.error_subcode}` : ''}` : String(res.status);
  const after = retryAfterSeconds(res);
  if (res.status === 429 || (err?.code !== undefined && RATE_LIMIT_CODES.has(err.code))) {
    return compact({ ok: false as const, retryable: true, retry_after_s: after, error_code: code });
  }
  if (res.status >= 500 || err?.is_transient === true || (err?.code !== undefined && TRANSIENT_CODES.has(err.code))) {
    return compact({ ok: false as const, retryable: true, retry_after_s: after, error_code: code });
  }
  if ((err?.code !== undefined && UNREACHABLE_CODES.has(err.code)) || (err?.error_subcode !== undefined && UNREACHABLE_SUBCODES.has(err.error_subcode))) {
    return { ok: false, retryable: false, unreachable: true, error_code: code };
  }
  return { ok: false, retryable: false, error_code: code };
}
