/**
 * VK's verify side (channels.md §5): what the ingest function imports — the `confirmation`
 * handshake, the `secret` and `group_id` checks, the event shapes (`zod/mini`: the same schemas
 * the parser in ./index.ts reads with, so parse cannot fail on an event admit accepted) and the
 * FIFO conversation key.
 *
 * @module
 */
import * as z from 'zod/mini';
import { defineIngress, invalid, malformed, unauthorized, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { isRecord, KiB, parseJsonBody, safeEqual } from '../common.js';

const CHANNEL = 'vk';
/** The header VK sets on re-sent events (carried in the envelope, §0.4). */
export const VK_RETRY_HEADER = 'x-retry-counter';

// ---------------------------------------------------------------------------------------------
// Event shapes (https://dev.vk.com/en/api/community-events/json-schema). Loose: VK adds fields
// with every API version; only what we read is typed. Attachments are read on the parse side,
// one by one (./index.ts).
// ---------------------------------------------------------------------------------------------

// z.int() only accepts safe integers; VK user, group and peer ids fit easily.
const Int = z.int();
const NonNegativeInt = z.int().check(z.nonnegative());
const NonEmpty = z.string().check(z.minLength(1));

/** The top level once authenticated (§5: `type`, `event_id` strings and `object` required). */
const Callback = z.looseObject({
  type: NonEmpty,
  event_id: NonEmpty,
  object: z.record(z.string(), z.unknown()),
});

const Message = z.looseObject({
  id: z.optional(Int),
  date: NonNegativeInt,
  peer_id: Int,
  from_id: Int,
  out: z.optional(Int),
  text: z.optional(z.string()),
  conversation_message_id: NonNegativeInt,
  /** A keyboard button's payload: a JSON text, kept verbatim (§5). */
  payload: z.optional(z.string()),
  attachments: z.optional(z.array(z.unknown())),
  geo: z.optional(z.unknown()),
  reply_message: z.optional(z.unknown()),
  fwd_messages: z.optional(z.array(z.unknown())),
  update_time: z.optional(NonNegativeInt),
});
export type Message = z.infer<typeof Message>;

/** message_event: a press of a callback button (https://dev.vk.com/en/api/bots/development/keyboard#Callback buttons). */
const MessageEvent = z.looseObject({
  user_id: Int,
  peer_id: Int,
  event_id: NonEmpty,
  payload: z.optional(z.unknown()),
  conversation_message_id: z.optional(NonNegativeInt),
});

const UserEvent = z.looseObject({ user_id: Int });

/** One event after the checks: which kind and its typed object. */
export type Checked =
  | { kind: 'message'; type: 'message_new' | 'message_edit'; eventId: string; message: Message; langId?: number }
  | { kind: 'callback'; eventId: string; event: z.infer<typeof MessageEvent> }
  | { kind: 'reachability'; type: 'message_allow' | 'message_deny'; eventId: string; userId: number }
  | { kind: 'other'; type: string; eventId: string; object: Record<string, unknown> };

function issuesAt(error: { readonly issues: ReadonlyArray<{ readonly path: readonly PropertyKey[] }> }): string {
  // Paths only (e.g. "object.message.from_id"), never values.
  return error.issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
}

export function parseBody(body: Buffer): Record<string, unknown> {
  const json = parseJsonBody(CHANNEL, body);
  if (!isRecord(json)) throw malformed(CHANNEL, 'parse', 'body is not a JSON object');
  return json;
}

/**
 * §5 after parsing: `secret` present and equal to VK_SECRET, `group_id` equal to VK_GROUP_ID
 * (compared as decimal strings), both in constant time.
 */
function checkCredentials(json: Record<string, unknown>, secrets: Secrets, opts: { secretRequired: boolean }): void {
  const secret = secrets.VK_SECRET;
  const groupId = secrets.VK_GROUP_ID;
  if (!secret || !groupId) throw unauthorized(CHANNEL, 'authenticity', 'inbound settings not configured');
  const given = json.secret;
  if (given === undefined) {
    if (opts.secretRequired) throw unauthorized(CHANNEL, 'authenticity', 'secret missing');
  } else if (typeof given !== 'string' || !safeEqual(given, secret)) {
    throw unauthorized(CHANNEL, 'authenticity', 'secret mismatch');
  }
  const group = json.group_id;
  const groupText = typeof group === 'number' && Number.isSafeInteger(group) ? String(group) : typeof group === 'string' ? group : undefined;
  if (groupText === undefined || !safeEqual(groupText, groupId)) throw unauthorized(CHANNEL, 'authenticity', 'group_id mismatch');
}

/** Validate an authenticated event (400 `invalid` on a wrong shape). */
export function check(json: Record<string, unknown>): Checked {
  const top = Callback.safeParse(json);
  if (!top.success) throw invalid(CHANNEL, 'validate', `unexpected shape at ${issuesAt(top.error)}`);
  const { type, event_id: eventId, object } = top.data;
  const read = <T extends z.ZodMiniType>(schema: T, value: unknown, where: string): z.infer<T> => {
    const r = schema.safeParse(value);
    if (!r.success) throw invalid(CHANNEL, 'validate', `unexpected shape at ${where}.${issuesAt(r.error)}`);
    return r.data as z.infer<T>;
  };
  switch (type) {
    case 'message_new': {
      // API ≥ 5.103: {message, client_info}; older versions: the object is the message
      // (https://dev.vk.com/en/api/bots/development/messages, "client_info").
      if (isRecord(object.message)) {
        const clientInfo = isRecord(object.client_info) ? object.client_info : undefined;
        const langId = typeof clientInfo?.lang_id === 'number' && Number.isSafeInteger(clientInfo.lang_id) ? clientInfo.lang_id : undefined;
        return { kind: 'message', type, eventId, message: read(Message, object.message, 'object.message'), ...(langId !== undefined ? { langId } : {}) };
      }
      return { kind: 'message', type, eventId, message: read(Message, object, 'object') };
    }
    case 'message_edit':
    case 'message_reply':
      // Both carry the message itself as `object` (no client_info). message_reply is ignored,
      // but a malformed one is still a malformed request.
      if (type === 'message_reply') return { kind: 'other', type, eventId, object };
      return { kind: 'message', type, eventId, message: read(Message, object, 'object') };
    case 'message_event':
      return { kind: 'callback', eventId, event: read(MessageEvent, object, 'object') };
    case 'message_allow':
    case 'message_deny':
      return { kind: 'reachability', type, eventId, userId: read(UserEvent, object, 'object').user_id };
    default:
      return { kind: 'other', type, eventId, object };
  }
}

/** FIFO conversation key: the peer, else the user; messages of one customer stay in order. */
function conversationKeyOf(c: Checked): string | null {
  switch (c.kind) {
    case 'message': return String(c.message.peer_id);
    case 'callback': return String(c.event.peer_id);
    case 'reachability': return String(c.userId);
    default: {
      const o = c.object;
      for (const k of ['peer_id', 'from_id', 'user_id'] as const) {
        const v = o[k];
        if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      }
      return null;
    }
  }
}

export const vkIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['VK_SECRET', 'VK_CONFIRMATION', 'VK_GROUP_ID'],
  capabilities: { maxBodyBytes: 256 * KiB },

  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    // Order of §0.2 for VK: parse → confirmation branch → secret and group_id → validate.
    const json = parseBody(req.body);
    if (json.type === 'confirmation') {
      // VK sends the confirmation with the secret when one is set; group_id must be ours.
      checkCredentials(json, secrets, { secretRequired: false });
      // Exactly the string, as plain text: not `ok`, not JSON (https://dev.vk.com/en/api/callback/getting-started).
      return { kind: 'handshake', reply: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: secrets.VK_CONFIRMATION ?? '' } };
    }
    checkCredentials(json, secrets, { secretRequired: true });
    const checked = check(json);
    const retry = req.headers[VK_RETRY_HEADER];
    return {
      kind: 'accepted',
      conversationKey: conversationKeyOf(checked),
      ...(retry !== undefined && /^\d{1,6}$/.test(retry) ? { headers: { [VK_RETRY_HEADER]: retry } } : {}),
      // Anything but `ok` makes VK re-send the event (and, after repeated failures, pause the server).
      reply: { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' },
    };
  },
});
