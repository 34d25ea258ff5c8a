/**
 * Viber REST bot API adapter (channels.md §6).
 *
 * Inbound: Viber POSTs one JSON callback per request to the URL given to `set_webhook`, signed
 * with a hex HMAC-SHA256 of the raw body keyed with the bot's auth token, in the header
 * `X-Viber-Content-Signature` (https://developers.viber.com/docs/api/rest-bot-api/#callbacks).
 * Viber's own Node SDK also reads the signature from the `sig` query parameter
 * (https://github.com/Viber/viber-bot-node/blob/master/lib/middleware.js: `headers.X_Viber_Content_Signature || query.sig`), so both are checked:
 * at least one present, each one present right. Right after `set_webhook` Viber sends
 * `event: "webhook"` and fails the call unless it gets a quick 200.
 *
 * Quirk: `message_token` is a 64-bit integer above 2^53, written as a bare JSON number; it is read
 * losslessly as its exact decimal string (./json.ts), here and in `send_message` answers.
 *
 * Outbound: `send_message` (https://developers.viber.com/docs/api/rest-bot-api/#send-message).
 *
 * @module
 */
import type { Attachment, Identity, NormalisedEvent, StatusUpdate } from '../../domain/inbound.js';
import {
  defineChannel,
  type DeliveryResult,
  type DeliveryState,
  type Envelope,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
  type MediaFetch,
  plainDownload,
} from '../channel.js';
import { isRecord } from '../common.js';
import { envelopeBody } from '../envelope.js';
import { phoneInText, platformPhoneToE164 } from '../phone.js';
import { decimalId, parseLossless } from './json.js';
import { textParts, type TextLimit } from '../text.js';
import { MB, safeFileName, type MediaCapability } from '../media.js';
import { check, parseBody, viberIngress, type Checked, type Message, type MessageCallback, type User } from './ingress.js';

export { VIBER_SIGNATURE_HEADER, VIBER_SIGNATURE_QUERY } from './ingress.js';

const CHANNEL = 'viber';
export const VIBER_SEND_URL = 'https://chatapi.viber.com/pa/send_message';
/** send_message: `sender.name` "Max 28 characters"; `text` "Max length 7,000 characters". */
export const VIBER_MAX_SENDER_NAME = 28;
export const VIBER_MAX_TEXT = 7000;
/** Viber counts characters: code points here. */
export const VIBER_TEXT_LIMIT: TextLimit = { max: VIBER_MAX_TEXT, unit: 'codepoint' };
/** `tracking_data`: "Max 4096 characters". */
export const VIBER_MAX_TRACKING_DATA = 4096;
/** Keyboards need API version 3+; 7 is what channels.md §6 pins (current clients). */
export const VIBER_MIN_API_VERSION = 7;

/**
 * Files (https://developers.viber.com/docs/api/rest-bot-api/#picture-message,
 * https://developers.viber.com/docs/api/rest-bot-api/#file-message): a `picture` is a JPEG, PNG or
 * non-animated GIF — "Max image size: 1MB on iOS, 3MB on Android", so 1 MB reaches every client —
 * whose URL's last path segment ends in .jpeg, .png or .gif (agent upload keys end in the file's
 * extension: functions/domain/media-keys.ts); any other file is a `file` message up to 50 MB,
 * with its size and name, and Viber refuses the executable formats it lists.
 */
export const VIBER_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 1 * MB, via: 'url' },
    {
      as: 'document', contentTypes: 'any', maxBytes: 50 * MB, via: 'url',
      forbiddenExtensions: ['ade', 'adp', 'app', 'asp', 'bas', 'bat', 'cer', 'chm', 'cmd', 'com', 'cpl', 'crt', 'csh', 'der', 'exe', 'fxp', 'gadget', 'hlp', 'hta', 'inf', 'ins', 'isp', 'its', 'js', 'jse', 'ksh', 'lnk', 'mad', 'maf', 'mag', 'mam', 'maq', 'mar', 'mas', 'mat', 'mau', 'mav', 'maw', 'mda', 'mdb', 'mde', 'mdt', 'mdw', 'mdz', 'msc', 'msh', 'msh1', 'msh2', 'mshxml', 'msh1xml', 'msh2xml', 'msi', 'msp', 'mst', 'ops', 'pcd', 'pif', 'plg', 'prf', 'prg', 'pst', 'reg', 'scf', 'scr', 'sct', 'shb', 'shs', 'ps1', 'ps1xml', 'ps2', 'ps2xml', 'psc1', 'psc2', 'tmp', 'url', 'vb', 'vbe', 'vbs', 'vsmacros', 'vsw', 'ws', 'wsc', 'wsf', 'wsh', 'xnk'],
    },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://developers.viber.com/docs/api/rest-bot-api/#file-message',
};
/** Viber's longest `file_name` (characters, with the extension). */
export const VIBER_MAX_FILE_NAME = 256;

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Identity from a Viber user (§6). `country` is kept only as two letters (the schema's ISO
 * 3166-1 alpha-2); Viber's docs show `"UK"`, which is kept as given.
 */
function identityOf(u: User): Identity {
  return compact({
    external_id: u.id,
    display_name: u.name === '' ? undefined : u.name,
    language: u.language && /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$/.test(u.language) ? u.language : undefined,
    country: u.country && /^[A-Za-z]{2}$/.test(u.country) ? u.country.toUpperCase() : undefined,
    avatar_url: u.avatar === '' ? undefined : u.avatar,
  });
}

/** Attachments of one message by `message.type` (https://developers.viber.com/docs/api/rest-bot-api/#message-types). */
function attachmentsOf(m: Message): Attachment[] {
  const file = (type: Attachment['type']) => compact({ type, url: m.media, file_name: m.file_name, size: m.size, thumbnail_url: m.thumbnail });
  switch (m.type) {
    case 'text':
    case 'url':
      return [];
    case 'picture': return [file('image')];
    case 'video': return [file('video')];
    case 'file': return [file('document')];
    case 'sticker': return [compact({ type: 'sticker' as const, platform_ref: m.sticker_id !== undefined ? String(m.sticker_id) : undefined, url: m.media })];
    case 'location':
      return m.location ? [{ type: 'location', latitude: m.location.lat, longitude: m.location.lon }] : [{ type: 'other' }];
    case 'contact':
      return [];
    default:
      // rich_media and future types.
      return [{ type: 'other' }];
  }
}

/**
 * Buttons we offered, kept in the `tracking_data` of the message that showed them (see
 * `viberTrackingData`). Viber passes the tracking data of our last message back with the user's
 * next one, and a `reply` button sends its `ActionBody` as the user's text — so a text equal to
 * one of the offered payloads is that button's press (§0.10: `text` = the label they saw).
 */
function pressedButton(m: Message): { payload: string; label: string } | undefined {
  if (m.type !== 'text' || m.text === undefined || m.tracking_data === undefined || !m.tracking_data.startsWith('{')) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(m.tracking_data);
  } catch {
    return undefined;
  }
  if (!isRecord(data) || !isRecord(data.buttons) || !Object.hasOwn(data.buttons, m.text)) return undefined;
  const label = data.buttons[m.text];
  return typeof label === 'string' ? { payload: m.text, label } : undefined;
}

function messageEvent(cb: MessageCallback): NormalisedEvent {
  const m = cb.message;
  const pressed = pressedButton(m);
  // A picture's or video's caption is in `text`; a `url` message's link is in `media`.
  const text = pressed ? pressed.label : m.type === 'url' ? (m.media ?? m.text ?? '') : (m.text ?? '');
  const contact = m.type === 'contact' && m.contact
    ? compact({ phone: platformPhoneToE164(m.contact.phone_number) ?? m.contact.phone_number, owner_is_sender: false, name: m.contact.name === '' ? undefined : m.contact.name })
    : undefined;
  return compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key: cb.message_token,
    external_message_id: cb.message_token,
    conversation_id: cb.sender.id,
    sent_at: Math.floor(cb.timestamp / 1000),
    sent_at_ms: cb.timestamp,
    edit: false,
    text,
    attachments: attachmentsOf(m),
    interaction: pressed ? { payload: pressed.payload } : null,
    customer_identity: identityOf(cb.sender),
    // Someone's contact card: a suggestion at most, never on the identity (§0.7).
    contact,
    // A phone typed in the text: a suggestion only (§0.7).
    phone_in_text: pressed ? undefined : phoneInText(text),
    tracking_data: m.tracking_data,
  });
}

function eventsOf(c: Checked): NormalisedEvent[] {
  switch (c.kind) {
    case 'webhook': return [{ kind: 'ignored', channel: CHANNEL, reason: 'webhook verification' }];
    case 'message': return [messageEvent(c.cb)];
    case 'user':
      return [c.event === 'subscribed'
        ? { kind: 'ignored', channel: CHANNEL, reason: 'subscribed', customer_identity: identityOf(c.user), reachability: 'reachable' }
        : { kind: 'ignored', channel: CHANNEL, reason: 'conversation started', customer_identity: identityOf(c.user) }];
    case 'unsubscribed':
      return [{ kind: 'ignored', channel: CHANNEL, reason: 'unsubscribed', customer_identity: { external_id: c.userId }, reachability: 'unreachable' }];
    case 'receipt': {
      const update: StatusUpdate = compact({
        external_message_id: c.cb.message_token,
        status: c.cb.event,
        at: c.cb.timestamp !== undefined ? Math.floor(c.cb.timestamp / 1000) : undefined,
        // `desc` is Viber's failure description, e.g. "Receiver is not subscribed".
        error_code: c.cb.event === 'failed' ? (c.cb.desc ? c.cb.desc.slice(0, 200) : 'failed') : undefined,
      });
      return [{ kind: 'ignored', channel: CHANNEL, reason: `receipt: ${c.cb.event}`, status_updates: [update] }];
    }
    default: {
      const reason = /^[a-z_]{1,60}$/.test(c.event) ? `unsupported event: ${c.event}` : 'unsupported event';
      return [{ kind: 'ignored', channel: CHANNEL, reason }];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

/** `sender.name` from VIBER_SENDER_NAME, cut to Viber's 28 characters. */
export function viberSenderName(configured: string | undefined): string {
  const name = configured && configured.trim() !== '' ? configured.trim() : 'Support';
  return Array.from(name).slice(0, VIBER_MAX_SENDER_NAME).join('');
}

/**
 * `tracking_data` of an outbound message: the ticket number (§6), or for a message with buttons
 * `{"ticket":…,"buttons":{"<payload>":"<label>"}}`, which lets the answer be recognised.
 */
export function viberTrackingData(ticket: string | undefined, buttons: OutboundMessage['buttons']): string | undefined {
  if (!buttons || buttons.length === 0) return ticket;
  const data = JSON.stringify({ ...(ticket !== undefined ? { ticket } : {}), buttons: Object.fromEntries(buttons.map((b) => [b.payload, b.label])) });
  if (data.length > VIBER_MAX_TRACKING_DATA) throw new Error(`viber: buttons exceed ${VIBER_MAX_TRACKING_DATA} characters of tracking_data`);
  return data;
}

/**
 * A keyboard of `reply` buttons on Viber's 6-column grid
 * (https://developers.viber.com/docs/tools/keyboards/): the press sends `ActionBody` as the
 * user's text message.
 */
export function viberKeyboard(buttons: NonNullable<OutboundMessage['buttons']>): Record<string, unknown> {
  const perRow = Math.min(buttons.length, 6);
  const columns = Math.max(1, Math.floor(6 / perRow));
  return {
    Type: 'keyboard',
    DefaultHeight: false,
    Buttons: buttons.map((b) => ({ ActionType: 'reply', ActionBody: b.payload, Text: b.label, TextSize: 'regular', Columns: columns, Rows: 1 })),
  };
}

/**
 * send_message `status` codes (https://developers.viber.com/docs/api/rest-bot-api/#error-codes).
 * 12 (too many requests) is retried; 5, 6 and 11 mean the user cannot receive bot messages.
 */
const VIBER_STATUS: Readonly<Record<number, string>> = {
  1: 'invalidUrl', 2: 'invalidAuthToken', 3: 'badData', 4: 'missingData', 5: 'receiverNotRegistered',
  6: 'receiverNotSubscribed', 7: 'publicAccountBlocked', 8: 'publicAccountNotFound', 9: 'publicAccountSuspended',
  10: 'webhookNotSet', 11: 'receiverNoSuitableDevice', 12: 'tooManyRequests', 13: 'apiVersionNotSupported',
  14: 'incompatibleWithVersion', 15: 'publicAccountNotAuthorized', 16: 'inchatReplyMessageNotAllowed',
  17: 'publicAccountIsNotInline', 18: 'noPublicChat', 19: 'cannotSendBroadcast', 20: 'broadcastNotAllowed',
  21: 'unsupportedCountry', 22: 'paymentUnsupported', 23: 'freeMessagesExceeded', 24: 'noBalance',
};
const VIBER_UNREACHABLE = new Set([5, 6, 11]);
const VIBER_TOO_MANY_REQUESTS = 12;

const DELIVERY_BY_EVENT: Readonly<Record<string, DeliveryState>> = { delivered: 'delivered', seen: 'read', failed: 'failed' };

export const viber = defineChannel({
  ...viberIngress,
  outboundSecrets: ['VIBER_AUTH_TOKEN', 'VIBER_SENDER_NAME'],
  // No reply window: only subscribed users receive bot messages, and Viber bills bot-initiated
  // messages (roughly: not answering a user message of the last 24 h) — a cost, not a refusal.
  capabilities: { ...viberIngress.capabilities, replyWindowSeconds: null, buttons: true, textLimit: VIBER_TEXT_LIMIT, media: VIBER_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    // The queue only holds requests admit() accepted: this cannot fail on a real envelope.
    return eventsOf(check(parseBody(envelopeBody(envelope))));
  },

  /** send_message, one per part of a text over 7,000 characters; the keyboard (and its tracking data) on the last. */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    const ticket = typeof msg.context?.ticket_number === 'string' ? msg.context.ticket_number : undefined;
    const files = msg.attachments ?? [];
    const parts = msg.text === '' && files.length > 0 ? [] : textParts(msg.text, VIBER_TEXT_LIMIT);
    const common = () => ({
      receiver: msg.conversation_id,
      min_api_version: VIBER_MIN_API_VERSION,
      sender: { name: viberSenderName(ctx.secrets.VIBER_SENDER_NAME) },
    });
    const bodies: Array<Record<string, unknown>> = parts.map((part, i) => {
      const last = i === parts.length - 1;
      const tracking = viberTrackingData(ticket, last ? msg.buttons : undefined);
      const body: Record<string, unknown> = { ...common(), ...(tracking !== undefined ? { tracking_data: tracking } : {}), type: 'text', text: part };
      if (last && msg.buttons && msg.buttons.length > 0) body.keyboard = viberKeyboard(msg.buttons);
      return body;
    });
    // Each file after the text: a picture (its `text` is required, empty for none) or a file with its size and name.
    for (const f of files) {
      bodies.push(f.as === 'image'
        ? { ...common(), type: 'picture', text: '', media: f.url }
        : { ...common(), type: 'file', media: f.url, size: f.size, file_name: safeFileName(f.file_name).slice(-VIBER_MAX_FILE_NAME) });
    }
    return bodies.map((body) => ({
      method: 'POST' as const,
      url: VIBER_SEND_URL,
      // Without a token the header keeps a visible placeholder: the local outbox shows it.
      headers: { 'content-type': 'application/json', 'x-viber-auth-token': ctx.secrets.VIBER_AUTH_TOKEN || '<VIBER_AUTH_TOKEN>' },
      body: JSON.stringify(body),
    }));
  },

  /** `message.media` is a temporary public URL (https://developers.viber.com/docs/api/rest-bot-api/#receive-message-from-user). */
  mediaFetch(attachment: Attachment): MediaFetch | null {
    return attachment.type === 'location' ? null : plainDownload(attachment.url, attachment.size);
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    if (res.status === 429 || res.status >= 500) {
      const after = Number(res.headers['retry-after']);
      return compact({ ok: false as const, retryable: true, retry_after_s: Number.isFinite(after) && after >= 0 ? after : undefined, error_code: String(res.status) });
    }
    if (res.status !== 200) return { ok: false, retryable: false, error_code: String(res.status) };
    let answer: unknown;
    try {
      // The answer's message_token is above 2^53 too: read it losslessly.
      answer = parseLossless(res.body);
    } catch {
      answer = undefined;
    }
    if (!isRecord(answer) || typeof answer.status !== 'number') return { ok: false, retryable: true, error_code: 'unreadable' };
    const status = answer.status;
    if (status === 0) {
      const token = decimalId(answer.message_token);
      return token !== undefined ? { ok: true, external_message_id: token } : { ok: true };
    }
    const code = VIBER_STATUS[status] ?? String(status);
    if (status === VIBER_TOO_MANY_REQUESTS) return { ok: false, retryable: true, error_code: code };
    if (VIBER_UNREACHABLE.has(status)) return { ok: false, retryable: false, unreachable: true, error_code: code };
    return { ok: false, retryable: false, error_code: code };
  },

  deliveryFor(update: StatusUpdate): DeliveryState | null {
    return DELIVERY_BY_EVENT[update.status] ?? null;
  },
});
