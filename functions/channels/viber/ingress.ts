/**
 * Viber's verify side (channels.md §6): what the ingest function imports — the signature check
 * (header and/or `sig` query), the lossless JSON read (./json.ts) and the callback shapes
 * (`zod/mini`: the same schemas the parser in ./index.ts reads with, so parse cannot fail on a
 * callback admit accepted), the `webhook` handshake and the FIFO conversation key.
 *
 * @module
 */
import * as z from 'zod/mini';
import { defineIngress, invalid, malformed, unauthorized, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { hmacHex, isRecord, KiB, safeEqual } from '../common.js';
import { decimalId, parseLossless } from './json.js';

const CHANNEL = 'viber';
export const VIBER_SIGNATURE_HEADER = 'x-viber-content-signature';
export const VIBER_SIGNATURE_QUERY = 'sig';

// ---------------------------------------------------------------------------------------------
// Callback shapes (https://developers.viber.com/docs/api/rest-bot-api/#callbacks). Core fields
// are required; descriptive ones of the wrong type are dropped rather than refused.
// ---------------------------------------------------------------------------------------------

const Int = z.int();
const NonNegativeInt = z.int().check(z.nonnegative());
const NonEmpty = z.string().check(z.minLength(1));
/** An optional descriptive field: the wrong type reads as absent. */
const opt = <T extends z.ZodMiniType>(schema: T) => z.catch(z.optional(schema), undefined);

const Token = z.pipe(
  z.unknown(),
  z.transform((v, ctx) => {
    const id = decimalId(v);
    if (id === undefined) {
      ctx.issues.push({ code: 'custom', message: 'not a 64-bit unsigned integer', input: v });
      return z.NEVER;
    }
    return id;
  }),
);

const User = z.looseObject({
  id: NonEmpty,
  name: opt(z.string()),
  avatar: opt(z.string()),
  country: opt(z.string()),
  language: opt(z.string()),
});
export type User = z.infer<typeof User>;

const Message = z.looseObject({
  type: NonEmpty,
  text: z.optional(z.string()),
  media: opt(z.string()),
  thumbnail: opt(z.string()),
  file_name: opt(z.string()),
  size: opt(NonNegativeInt),
  sticker_id: opt(Int),
  location: opt(z.looseObject({ lat: z.number(), lon: z.number() })),
  contact: opt(z.looseObject({ name: opt(z.string()), phone_number: z.string() })),
  tracking_data: opt(z.string()),
});
export type Message = z.infer<typeof Message>;

const MessageCallback = z.looseObject({
  event: z.literal('message'),
  timestamp: NonNegativeInt,
  message_token: Token,
  sender: User,
  message: Message,
});
export type MessageCallback = z.infer<typeof MessageCallback>;
const UserCallback = z.looseObject({ event: z.string(), timestamp: opt(NonNegativeInt), user: User });
const UnsubscribedCallback = z.looseObject({ event: z.string(), user_id: NonEmpty });
const ReceiptCallback = z.looseObject({
  event: z.string(),
  timestamp: opt(NonNegativeInt),
  message_token: Token,
  user_id: opt(NonEmpty),
  desc: opt(z.string()),
});
const Top = z.looseObject({ event: NonEmpty });

const RECEIPTS = ['delivered', 'seen', 'failed'] as const;

export type Checked =
  | { kind: 'webhook' }
  | { kind: 'message'; cb: MessageCallback }
  | { kind: 'user'; event: 'conversation_started' | 'subscribed'; user: User }
  | { kind: 'unsubscribed'; userId: string }
  | { kind: 'receipt'; cb: z.infer<typeof ReceiptCallback> & { event: (typeof RECEIPTS)[number] } }
  | { kind: 'other'; event: string; json: Record<string, unknown> };

function issuesAt(error: { readonly issues: ReadonlyArray<{ readonly path: readonly PropertyKey[] }> }): string {
  return error.issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
}

export function parseBody(body: Buffer): Record<string, unknown> {
  let json: unknown;
  try {
    json = parseLossless(body.toString('utf8'));
  } catch {
    // SyntaxError, or RangeError on absurd nesting: either way not JSON we can read.
    throw malformed(CHANNEL, 'parse', 'body is not JSON');
  }
  if (!isRecord(json)) throw malformed(CHANNEL, 'parse', 'body is not a JSON object');
  return json;
}

export function check(json: Record<string, unknown>): Checked {
  const top = Top.safeParse(json);
  if (!top.success) throw invalid(CHANNEL, 'validate', `unexpected shape at ${issuesAt(top.error)}`);
  const read = <T extends z.ZodMiniType>(schema: T): z.infer<T> => {
    const r = schema.safeParse(json);
    if (!r.success) throw invalid(CHANNEL, 'validate', `unexpected shape at ${issuesAt(r.error)}`);
    return r.data as z.infer<T>;
  };
  const event = top.data.event;
  switch (event) {
    case 'webhook': return { kind: 'webhook' };
    case 'message': return { kind: 'message', cb: read(MessageCallback) };
    case 'conversation_started':
    case 'subscribed': return { kind: 'user', event, user: read(UserCallback).user };
    case 'unsubscribed': return { kind: 'unsubscribed', userId: read(UnsubscribedCallback).user_id };
    case 'delivered':
    case 'seen':
    case 'failed': return { kind: 'receipt', cb: { ...read(ReceiptCallback), event } };
    default: return { kind: 'other', event, json };
  }
}

/** §6: at least one signature present, each one present equal to the lowercase hex HMAC. */
function checkSignature(req: RawRequest, secrets: Secrets): void {
  const token = secrets.VIBER_AUTH_TOKEN;
  if (!token) throw unauthorized(CHANNEL, 'authenticity', 'auth token not configured');
  const header = req.headers[VIBER_SIGNATURE_HEADER];
  const query = Object.hasOwn(req.query, VIBER_SIGNATURE_QUERY) ? req.query[VIBER_SIGNATURE_QUERY] : undefined;
  if (header === undefined && query === undefined) throw unauthorized(CHANNEL, 'authenticity', 'signature missing');
  const expected = hmacHex('sha256', token, req.body);
  if (header !== undefined && !safeEqual(header, expected)) throw unauthorized(CHANNEL, 'authenticity', 'header signature mismatch');
  if (query !== undefined && !safeEqual(query, expected)) throw unauthorized(CHANNEL, 'authenticity', 'query signature mismatch');
}

function conversationKeyOf(c: Checked): string | null {
  switch (c.kind) {
    case 'message': return c.cb.sender.id;
    case 'user': return c.user.id;
    case 'unsubscribed': return c.userId;
    case 'receipt': return c.cb.user_id ?? null;
    default: return null;
  }
}

export const viberIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['VIBER_AUTH_TOKEN'],
  capabilities: { maxBodyBytes: 256 * KiB },

  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    // §0.2 for Viber: header credential → parse → validate.
    checkSignature(req, secrets);
    const checked = check(parseBody(req.body));
    // Sent right after set_webhook, which fails without a quick 200; never enqueued.
    if (checked.kind === 'webhook') return { kind: 'handshake', reply: { status: 200 } };
    // conversation_started MAY be answered with a welcome message; we answer empty.
    return { kind: 'accepted', conversationKey: conversationKeyOf(checked), reply: { status: 200 } };
  },
});
