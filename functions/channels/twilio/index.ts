/**
 * Twilio Programmable Messaging adapter: SMS, MMS and WhatsApp via Twilio (channels.md §7).
 *
 * Inbound: incoming messages and status callbacks share one URL and arrive as
 * `application/x-www-form-urlencoded` posts signed with `X-Twilio-Signature`
 * (https://www.twilio.com/docs/messaging/guides/webhook-request,
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security). Order at ingest (§0.2): decode
 * the form → signature → validate. The answer is empty TwiML, so Twilio sends nothing itself.
 * Outbound: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
 * (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource).
 *
 * @module
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
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
  type ReplyWindowTarget,
  type MediaFetch,
} from '../channel.js';
import { attachmentTypeForMime } from '../common.js';
import { envelopeBody } from '../envelope.js';
import { textParts, type TextLimit } from '../text.js';
import { MB, type MediaCapability } from '../media.js';
import { smsSegmentsOfParts, type SmsSegments } from '../../domain/sms.js';
import { decodeForm } from './form.js';
import { SID, get, paramsOf, readParams, twilioIngress, type Media, type Params, type Parsed } from './ingress.js';

export { EMPTY_TWIML } from './ingress.js';

const CHANNEL = 'twilio';
/**
 * Stable across Twilio's retries of one webhook but undocumented (channels.md §7): carried in the
 * envelope for diagnosis, never relied on — the dedupe key is the MessageSid.
 */
/** The empty TwiML answer: Twilio does nothing further (channels.md §0.4). */
/** Meta's customer-service window, which WhatsApp via Twilio follows (error 63016 outside it). */
export const WHATSAPP_WINDOW_SECONDS = 86_400;
/**
 * `Body` is limited to 1,600 characters (error 21617, https://www.twilio.com/docs/errors/21617);
 * a longer reply goes out as several messages. Counted in UTF-16 code units, never fewer than
 * Twilio's characters.
 */
export const TWILIO_MAX_BODY = 1600;
export const TWILIO_TEXT_LIMIT: TextLimit = { max: TWILIO_MAX_BODY, unit: 'utf16' };
const WHATSAPP_PREFIX = 'whatsapp:';

// ---------------------------------------------------------------------------------------------
// Normalisation helpers
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * E.164 of the address Twilio delivered from (`+48…`, `whatsapp:+48…`). Formatted, but kept even
 * when libphonenumber-js says invalid (§0.7: its metadata lags; Twilio delivered from it).
 * Short codes and alphanumeric senders are not phones.
 */
export function phoneOfAddress(address: string): string | undefined {
  const raw = address.startsWith(WHATSAPP_PREFIX) ? address.slice(WHATSAPP_PREFIX.length) : address;
  if (!/^\+[\d\s().-]{4,30}$/.test(raw)) return undefined;
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 4 || digits.length > 15) return undefined;
  const e164 = parsePhoneNumberFromString(`+${digits}`)?.number ?? `+${digits}`;
  return /^\+\d{4,15}$/.test(e164) ? e164 : undefined;
}

/** ISO 3166-1 alpha-2 from `FromCountry` (Twilio writes `US`, `PL`, …; WhatsApp often omits it). */
function countryOf(p: Params): CountryCode | undefined {
  const c = get(p, 'FromCountry');
  return c !== undefined && /^[A-Z]{2}$/.test(c) ? (c as CountryCode) : undefined;
}

/** First valid phone typed in the text: a suggestion only (§0.7), default region when known. */
function phoneInText(text: string, country: CountryCode | undefined): { value: string; verified: false } | undefined {
  if (text === '') return undefined;
  try {
    const found = findPhoneNumbersInText(text, country ? { defaultCountry: country } : undefined).find((f) => f.number.isValid());
    return found ? { value: found.number.number, verified: false } : undefined;
  } catch {
    return undefined;
  }
}

function identityOf(p: Params, from: string): Identity {
  const phone = phoneOfAddress(from);
  const name = get(p, 'ProfileName');
  return compact({
    external_id: from,
    display_name: name,
    country: countryOf(p),
    phone,
    // Twilio delivered from this number: platform-verified (§0.7), for SMS, MMS and WhatsApp alike.
    phone_verified: phone === undefined ? undefined : true,
  });
}

/** `…/Messages/MM…/Media/ME…` → `ME…`, the media SID, when the URL has Twilio's shape. */
function mediaSid(url: string): string | undefined {
  return /\/Media\/(ME[0-9a-fA-F]{32})(?:[/?#]|$)/.exec(url)?.[1];
}

function attachmentsOf(media: readonly Media[], location: { latitude: number; longitude: number } | undefined): Attachment[] {
  // Media URLs need Basic auth unless HTTP Basic auth for media is turned off
  // (https://www.twilio.com/docs/usage/security#http-authentication); downloaded later, never here.
  const out: Attachment[] = media.map((m) => compact({
    type: attachmentTypeForMime(m.contentType),
    url: m.url,
    platform_ref: mediaSid(m.url),
    mime_type: m.contentType,
  }));
  if (location) out.push({ type: 'location', latitude: location.latitude, longitude: location.longitude });
  return out;
}

/**
 * The interaction of a WhatsApp reply, if any. Quick-reply buttons of a template or of Content
 * API messages come back as `MessageType=button` with `ButtonPayload` (the id we set) and
 * `ButtonText` (the label the customer saw); a list-picker choice as `ListId`/`ListTitle`
 * (https://www.twilio.com/docs/messaging/guides/webhook-request, WhatsApp parameters).
 */
function interactionOf(p: Params): { payload: string; label: string } | undefined {
  const type = get(p, 'MessageType')?.toLowerCase();
  const buttonPayload = get(p, 'ButtonPayload');
  const buttonText = get(p, 'ButtonText');
  if (type === 'button' || buttonPayload !== undefined) {
    const payload = buttonPayload ?? buttonText;
    if (payload !== undefined) return { payload, label: buttonText ?? payload };
  }
  const listId = get(p, 'ListId');
  if (listId !== undefined) return { payload: listId, label: get(p, 'ListTitle') ?? listId };
  return undefined;
}

function messageEvents(p: Params, m: Extract<Parsed, { kind: 'message' }>, receivedAtMs: number): NormalisedEvent[] {
  const interaction = interactionOf(p);
  const text = interaction ? interaction.label : m.body;
  const identity = identityOf(p, m.from);
  const inReplyTo = get(p, 'OriginalRepliedMessageSid');
  const message: NormalisedEvent = compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key: m.sid,
    external_message_id: m.sid,
    conversation_id: m.from,
    // Twilio gives no send time (§0.5): the time ingest received the request.
    sent_at: Math.floor(receivedAtMs / 1000),
    edit: false,
    text,
    attachments: attachmentsOf(m.media, m.location),
    interaction: interaction ? { payload: interaction.payload } : null,
    in_reply_to: inReplyTo,
    customer_identity: identity,
    phone_in_text: phoneInText(text, countryOf(p)),
    // Channel extras (§7): MMS is `sms` too; the business address answers the customer (reply `From`).
    sub_channel: m.from.startsWith(WHATSAPP_PREFIX) ? 'whatsapp' : 'sms',
    business_address: m.to,
  });
  const events: NormalisedEvent[] = [message];
  // Advanced Opt-Out (https://help.twilio.com/articles/360034798533): STOP words are still
  // delivered with `OptOutType=STOP`; Twilio then blocks sends with 21610 until START.
  // Stored as a message, then the identity's reachability (after the message created it).
  const optOut = get(p, 'OptOutType')?.toUpperCase();
  if (optOut === 'STOP' || optOut === 'START') {
    events.push({
      kind: 'ignored', channel: CHANNEL, reason: `opt-out ${optOut}`,
      customer_identity: identity, reachability: optOut === 'STOP' ? 'unreachable' : 'reachable',
    });
  }
  return events;
}

function statusEvent(s: Extract<Parsed, { kind: 'status' }>): NormalisedEvent {
  const update: StatusUpdate = compact({
    external_message_id: s.sid,
    status: s.status,
    error_code: s.errorCode === undefined ? undefined : /^\d{1,9}$/.test(s.errorCode) ? Number(s.errorCode) : s.errorCode,
  });
  return { kind: 'ignored', channel: CHANNEL, reason: 'status callback', status_updates: [update] };
}

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

/**
 * MMS (https://www.twilio.com/docs/messaging/guides/accepted-mime-types): up to 10 `MediaUrl`s
 * and 5 MB for the message and its media together; JPEG, GIF and PNG are "fully supported"
 * (formatted for the handset), PDF accepted. MMS reaches US and Canadian numbers only: elsewhere
 * Twilio sends the media as a link (its MMS Converter, where enabled) or refuses it.
 * Twilio fetches every `MediaUrl` (GET and HEAD, checking the Content-Type) while it takes the
 * request, so an hour is ample.
 */
export const TWILIO_MMS_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/gif', 'image/png'], maxBytes: 5 * MB, via: 'url' },
    { as: 'document', contentTypes: ['application/pdf'], maxBytes: 5 * MB, via: 'url' },
  ],
  maxCount: 10,
  maxTotalBytes: 5 * MB,
  urlTtlSeconds: 3600,
  source: 'https://www.twilio.com/docs/messaging/guides/accepted-mime-types',
};

/**
 * WhatsApp via Twilio (https://www.twilio.com/docs/whatsapp/guidance-whatsapp-media-messages):
 * 16 MB per message, images (JPG, JPEG, PNG) only 5 MB; images, audio, PDF and video. One media
 * per WhatsApp message, so each file is its own message; Twilio sets no file name on documents.
 */
export const TWILIO_WHATSAPP_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB, via: 'url' },
    { as: 'audio', contentTypes: ['audio/ogg', 'audio/amr', 'audio/3gpp', 'audio/aac', 'audio/mpeg'], maxBytes: 16 * MB, via: 'url' },
    { as: 'document', contentTypes: ['application/pdf'], maxBytes: 16 * MB, via: 'url' },
    { as: 'video', contentTypes: ['video/mp4'], maxBytes: 16 * MB, via: 'url' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://www.twilio.com/docs/whatsapp/guidance-whatsapp-media-messages',
};

/** Is this conversation WhatsApp via Twilio (else SMS/MMS)? */
function isWhatsApp(target: ReplyWindowTarget): boolean {
  return target.conversation_id.startsWith(WHATSAPP_PREFIX) || target.context?.sub_channel === 'whatsapp';
}

/** The texts of the messages a reply goes out as (numbered choices for surveys: no buttons on SMS). */
function bodiesOf(text: string, buttons: OutboundMessage['buttons']): string[] {
  // No free-form buttons on SMS, and on WhatsApp only through pre-approved Content templates
  // (https://www.twilio.com/docs/content): surveys list their options as numbered lines.
  const full = buttons && buttons.length > 0 ? `${text}\n\n${buttons.map((b, i) => `${i + 1}. ${b.label}`).join('\n')}` : text;
  return textParts(full, TWILIO_TEXT_LIMIT);
}

/**
 * Twilio error codes meaning the recipient cannot be messaged: 21610 "Attempt to send to
 * unsubscribed recipient" (the customer texted STOP, https://www.twilio.com/docs/errors/21610).
 */
const UNREACHABLE_CODES = new Set([21610]);

function errorBody(body: string): { code?: number; sid?: string } {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    const o = parsed as { code?: unknown; sid?: unknown };
    return compact({
      code: typeof o.code === 'number' && Number.isInteger(o.code) ? o.code : undefined,
      sid: typeof o.sid === 'string' && SID.test(o.sid) ? o.sid : undefined,
    });
  } catch {
    return {};
  }
}

/** Receipt words of §0.11, verbatim as Twilio writes them in `MessageStatus`. */
const DELIVERY_BY_STATUS: Readonly<Record<string, DeliveryState>> = {
  accepted: 'sent', scheduled: 'sent', queued: 'sent', sending: 'sent', sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed', failed: 'failed', canceled: 'failed',
};

export const twilio = defineChannel({
  ...twilioIngress,
  // The auth token is also the Basic-auth password of the REST API; the webhook URL the StatusCallback.
  outboundSecrets: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_MESSAGING_SERVICE_SID', 'TWILIO_WEBHOOK_URL'],
  mediaSecrets: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
  // The strictest window of the sub-channels; `replyWindowFor` gives the one of a conversation.
  capabilities: { ...twilioIngress.capabilities, replyWindowSeconds: WHATSAPP_WINDOW_SECONDS, buttons: false, textLimit: TWILIO_TEXT_LIMIT },

  parse(envelope: Envelope): NormalisedEvent[] {
    // The queue only holds requests admit() accepted: decoding and validation succeed again.
    const p = paramsOf(decodeForm(envelopeBody(envelope)));
    const parsed = readParams(p);
    if (typeof parsed === 'string') throw new Error(`twilio: queued request no longer valid (${parsed})`);
    return parsed.kind === 'status' ? [statusEvent(parsed)] : messageEvents(p, parsed, envelope.received_at);
  },

  /** WhatsApp via Twilio: Meta's 24 h window; SMS and MMS: none. Decided by the address (`To`). */
  replyWindowFor(target: ReplyWindowTarget): number | null {
    return isWhatsApp(target) ? WHATSAPP_WINDOW_SECONDS : null;
  },

  /** MMS or WhatsApp: decided by the address, like the window. */
  mediaFor(target: ReplyWindowTarget): MediaCapability {
    return isWhatsApp(target) ? TWILIO_WHATSAPP_MEDIA : TWILIO_MMS_MEDIA;
  },

  /** SMS only: the segments the reply is billed as (every part of it). */
  segmentsOf(text: string, target: ReplyWindowTarget): SmsSegments | null {
    return isWhatsApp(target) ? null : smsSegmentsOfParts(bodiesOf(text, undefined));
  },

  /** Messages.json, one per part of a text over 1,600 characters. */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    // Without an account SID the URL keeps a visible placeholder: the local outbox shows it and
    // the sender refuses to perform such a request (functions/runtime/perform.ts).
    const sid = ctx.secrets.TWILIO_ACCOUNT_SID;
    const account = sid ? encodeURIComponent(sid) : '<TWILIO_ACCOUNT_SID>';
    const token = ctx.secrets.TWILIO_AUTH_TOKEN ?? '';
    const business = typeof msg.context?.business_address === 'string' && msg.context.business_address !== '' ? msg.context.business_address : undefined;
    const service = ctx.secrets.TWILIO_MESSAGING_SERVICE_SID || undefined;
    // The number the customer wrote to answers them (for WhatsApp it must be that sender);
    // without one the messaging service picks a sender from its pool.
    if (business === undefined && service === undefined) {
      throw new Error('twilio: no sender — neither the inbound To nor TWILIO_MESSAGING_SERVICE_SID is known');
    }
    // MMS: every MediaUrl on the last text (or on a message of its own without text);
    // WhatsApp: one media per message, each after the text.
    const files = msg.attachments ?? [];
    const whatsapp = isWhatsApp(msg);
    const texts = msg.text === '' && files.length > 0 ? [] : bodiesOf(msg.text, msg.buttons);
    const messages: Array<{ body?: string; media: string[] }> = texts.map((body) => ({ body, media: [] }));
    if (files.length > 0 && whatsapp) messages.push(...files.map((f) => ({ media: [f.url] })));
    else if (files.length > 0 && messages.length > 0) messages[messages.length - 1]!.media.push(...files.map((f) => f.url));
    else if (files.length > 0) messages.push({ media: files.map((f) => f.url) });
    return messages.map((m) => {
      const form = new URLSearchParams();
      form.set('To', msg.conversation_id);
      if (business !== undefined) form.set('From', business);
      else form.set('MessagingServiceSid', service!);
      if (m.body !== undefined) form.set('Body', m.body);
      for (const url of m.media) form.append('MediaUrl', url);
      // Receipts come back to the inbound URL as status callbacks (§7, `sid` ↔ MessageSid).
      if (ctx.secrets.TWILIO_WEBHOOK_URL) form.set('StatusCallback', ctx.secrets.TWILIO_WEBHOOK_URL);
      return {
        method: 'POST' as const,
        url: `https://api.twilio.com/2010-04-01/Accounts/${account}/Messages.json`,
        headers: {
          authorization: `Basic ${Buffer.from(`${sid ?? ''}:${token}`, 'utf8').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
      };
    });
  },

  /**
   * `MediaUrlN` needs HTTP Basic auth with the account SID and auth token unless the account
   * turned that off (https://www.twilio.com/docs/usage/security#http-authentication); it
   * redirects to the file (fetch drops the Authorization header on the cross-origin redirect).
   */
  mediaFetch(attachment: Attachment, _index: number, ctx: RenderContext): MediaFetch | null {
    const url = attachment.url;
    if (!url || !/^https:\/\/api\.twilio\.com\//.test(url)) return null;
    const sid = ctx.secrets.TWILIO_ACCOUNT_SID;
    const token = ctx.secrets.TWILIO_AUTH_TOKEN;
    if (!sid || !token) return { kind: 'download', request: { method: 'GET', url, headers: { authorization: 'Basic <TWILIO_ACCOUNT_SID>' }, body: null } };
    return { kind: 'download', request: { method: 'GET', url, headers: { authorization: `Basic ${Buffer.from(`${sid}:${token}`, 'utf8').toString('base64')}` }, body: null } };
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    const body = errorBody(res.body);
    // 201 Created with the Message resource; its `sid` is the MessageSid of later status callbacks.
    if (res.status >= 200 && res.status < 300) return body.sid ? { ok: true, external_message_id: body.sid } : { ok: true };
    if (res.status === 429 || res.status >= 500) {
      // 429 (error 20429, "Too Many Requests"): queue-rate exceeded; Twilio may say when to retry.
      const header = Number(res.headers['retry-after']);
      return compact({
        ok: false as const, retryable: true,
        retry_after_s: Number.isFinite(header) && header >= 0 ? header : undefined,
        error_code: String(body.code ?? res.status),
      });
    }
    const code = body.code ?? res.status;
    if (UNREACHABLE_CODES.has(code)) return { ok: false, retryable: false, unreachable: true, error_code: String(code) };
    return { ok: false, retryable: false, error_code: String(code) };
  },

  deliveryFor(update: StatusUpdate): DeliveryState | null {
    return DELIVERY_BY_STATUS[update.status.toLowerCase()] ?? null;
  },
});
