/**
 * WhatsApp Cloud API adapter (channels.md §2).
 *
 * Inbound: the Meta app's `whatsapp_business_account` webhook, signed with `X-Hub-Signature-256`
 * and subscribed with the `GET hub.challenge` handshake (functions/channels/meta.ts). One POST
 * batches `entry[].changes[]`; a `messages` change carries customer `messages[]` and/or
 * `statuses[]` of our outbound messages, out of order
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components,
 * https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples).
 * Outbound: `POST /<phone_number_id>/messages`
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages).
 *
 * Lenient like the Messenger parser: only `object` and `entry` are required at ingest; a message
 * we cannot use becomes an ignored event with a short reason, never a failure (Meta retries a
 * refused delivery for up to 7 days).
 *
 * @module
 */
import type { Attachment, IgnoredEvent, Identity, InboundMessage, NormalisedEvent, StatusUpdate } from '../../domain/inbound.js';
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
} from '../channel.js';
import { isRecord } from '../common.js';
import { envelopeBody } from '../envelope.js';
import { MB, safeFileName, type MediaCapability } from '../media.js';
import { textParts, type TextLimit } from '../text.js';
import { whatsappIngress } from './ingress.js';
import { phoneInText } from '../phone.js';
import {
  META_REPLY_WINDOW_SECONDS,
  compact,
  graphBase,
  idString,
  intOf,
  metaWord,
  parseMetaNotification,
  readGraphDelivery,
  str,
  truncate,
  withNumberedChoices,
  type MetaNotification,
} from '../meta.js';

const CHANNEL = 'whatsapp';

/**
 * Media messages by link (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types):
 * images JPEG/PNG up to 5 MB; video MP4/3GPP and audio AAC/AMR/MP3/M4A/OGG up to 16 MB;
 * documents (text, PDF, Word, Excel, PowerPoint) up to 100 MB. WhatsApp downloads the link when
 * it sends the message (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#media-object:
 * `link` must be HTTPS), so an hour is ample.
 */
export const WHATSAPP_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB, via: 'url' },
    { as: 'video', contentTypes: ['video/mp4', 'video/3gpp'], maxBytes: 16 * MB, via: 'url' },
    { as: 'audio', contentTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB, via: 'url' },
    {
      as: 'document',
      contentTypes: [
        'text/plain', 'application/pdf', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'application/vnd.ms-powerpoint', 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      ],
      maxBytes: 100 * MB, via: 'url',
    },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types',
};
const OBJECT = 'whatsapp_business_account';

/** https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#text-object — body up to 4096 characters. */
export const WHATSAPP_MAX_TEXT = 4096;
/** Counted in UTF-16 code units: never fewer than WhatsApp's characters. */
export const WHATSAPP_TEXT_LIMIT: TextLimit = { max: WHATSAPP_MAX_TEXT, unit: 'utf16' };
/**
 * Interactive reply buttons: at most 3, titles up to 20 characters, ids up to 256; body text up to
 * 1024 characters (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages).
 */
export const WHATSAPP_MAX_REPLY_BUTTONS = 3;
export const REPLY_BUTTON_TITLE_MAX = 20;
export const REPLY_BUTTON_ID_MAX = 256;
export const INTERACTIVE_BODY_MAX = 1024;
/**
 * Interactive list: at most 10 rows, row titles up to 24 characters, descriptions up to 72, row
 * ids up to 200, the menu button label up to 20
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages).
 */
export const WHATSAPP_MAX_LIST_ROWS = 10;
export const LIST_ROW_TITLE_MAX = 24;
export const LIST_ROW_DESCRIPTION_MAX = 72;
export const LIST_ROW_ID_MAX = 200;
export const LIST_BUTTON_LABEL = 'Choose';

/** Media message types whose object carries a media `id` (downloaded later: GET /{media-id}, then its URL, same token). */
const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
/** Ignored message types (§2 table), plus `request_welcome` (the user opened the chat; no content). */
const IGNORED_TYPES: Readonly<Record<string, string>> = {
  reaction: 'reaction',
  system: 'system message',
  unsupported: 'unsupported message',
  request_welcome: 'welcome request',
  ephemeral: 'unsupported message',
};

type Ignored = IgnoredEvent;
const ignored = (reason: string, extra: Partial<IgnoredEvent> = {}): Ignored => compact({ kind: 'ignored' as const, channel: CHANNEL, reason, ...extra });

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

interface Contact {
  readonly wa_id?: string;
  readonly user_id?: string;
  readonly name?: string;
  readonly username?: string;
}

function contactsOf(value: Record<string, unknown>): Contact[] {
  return (Array.isArray(value.contacts) ? value.contacts : []).filter(isRecord).map((c) => {
    const profile = isRecord(c.profile) ? c.profile : {};
    return compact({ wa_id: idString(c.wa_id), user_id: idString(c.user_id), name: str(profile.name), username: str(profile.username) });
  });
}

/** `wa_id` is the phone number in digits without `+` (E.164 after adding it). */
const WA_ID = /^\d{4,15}$/;

/**
 * The sender: `from`/`wa_id` (the phone, verified: WhatsApp delivered from it) or, for a user who
 * hides the number behind a username, the business-scoped user id (BSUID, `from_user_id` /
 * `contacts[].user_id`, rolled out 2026:
 * https://developers.facebook.com/docs/whatsapp/cloud-api/business-scoped-user-ids).
 */
function identityOf(m: Record<string, unknown>, contacts: readonly Contact[]): Identity | undefined {
  const from = idString(m.from);
  const fromBsuid = idString(m.from_user_id);
  const contact = contacts.find((c) => (from !== undefined ? c.wa_id === from : fromBsuid !== undefined && c.user_id === fromBsuid))
    ?? (contacts.length === 1 && (from === undefined || contacts[0]!.wa_id === undefined) ? contacts[0] : undefined);
  const waId = from ?? contact?.wa_id;
  const bsuid = fromBsuid ?? contact?.user_id;
  const externalId = waId ?? bsuid;
  if (externalId === undefined) return undefined;
  const phone = waId !== undefined && WA_ID.test(waId) ? `+${waId}` : undefined;
  const username = contact?.username?.replace(/^@/, '');
  return compact({
    external_id: externalId,
    display_name: contact?.name !== '' ? contact?.name : undefined,
    username: username !== '' ? username : undefined,
    phone,
    phone_verified: phone !== undefined ? true : undefined,
    bsuid,
  });
}

function mediaAttachment(type: Attachment['type'], o: Record<string, unknown>): Attachment {
  const url = str(o.url);
  return compact({
    type,
    platform_ref: idString(o.id),
    mime_type: str(o.mime_type),
    sha256: str(o.sha256),
    file_name: type === 'document' ? str(o.filename) : undefined,
    url: url !== undefined && url.length <= 4096 ? url : undefined,
  });
}

interface Content {
  text: string;
  attachments: Attachment[];
  interaction: { payload: string } | null;
  contact?: { phone: string; owner_is_sender: false; name?: string };
}

/** The content of a message by `type` (§2 table); a string is the reason to ignore it. */
function contentOf(m: Record<string, unknown>, type: string): Content | string {
  const none: Content = { text: '', attachments: [], interaction: null };
  if (IGNORED_TYPES[type] !== undefined) return IGNORED_TYPES[type]!;
  if (type === 'text') {
    const body = isRecord(m.text) ? str(m.text.body) : undefined;
    return body !== undefined ? { ...none, text: body } : 'malformed text';
  }
  if ((MEDIA_TYPES as readonly string[]).includes(type)) {
    const o = m[type];
    if (!isRecord(o) || idString(o.id) === undefined) return `malformed ${type}`;
    return { ...none, text: str(o.caption) ?? '', attachments: [mediaAttachment(type as Attachment['type'], o)] };
  }
  if (type === 'interactive') {
    const i = isRecord(m.interactive) ? m.interactive : {};
    const reply = isRecord(i.button_reply) ? i.button_reply : isRecord(i.list_reply) ? i.list_reply : undefined;
    if (reply !== undefined) {
      const id = str(reply.id);
      return id !== undefined ? { ...none, text: str(reply.title) ?? '', interaction: { payload: id } } : 'malformed interactive';
    }
    // WhatsApp Flows answer: the form's JSON is the payload.
    if (isRecord(i.nfm_reply) && typeof i.nfm_reply.response_json === 'string') {
      return { ...none, text: str(i.nfm_reply.body) ?? '', interaction: { payload: i.nfm_reply.response_json } };
    }
    return 'unsupported interactive';
  }
  if (type === 'button') {
    // A quick-reply button of a template message we sent.
    const b = isRecord(m.button) ? m.button : {};
    const payload = str(b.payload) ?? str(b.text);
    return payload !== undefined ? { ...none, text: str(b.text) ?? '', interaction: { payload } } : 'malformed button';
  }
  if (type === 'location') {
    const l = isRecord(m.location) ? m.location : {};
    if (typeof l.latitude !== 'number' || typeof l.longitude !== 'number') return 'malformed location';
    const url = str(l.url);
    return { ...none, attachments: [compact({ type: 'location' as const, latitude: l.latitude, longitude: l.longitude, url })] };
  }
  if (type === 'contacts') {
    // Someone's contact cards: their phones are suggestions only, never the sender's identity (§0.7).
    const cards = (Array.isArray(m.contacts) ? m.contacts : []).filter(isRecord);
    for (const card of cards) {
      const phones = (Array.isArray(card.phones) ? card.phones : []).filter(isRecord);
      const raw = phones.map((p) => str(p.wa_id) ?? str(p.phone)).find((p) => p !== undefined && /\d{4}/.test(p));
      if (raw === undefined) continue;
      const digits = raw.replace(/\D/g, '');
      const phone = digits.length >= 4 && digits.length <= 15 ? `+${digits}` : raw;
      const name = isRecord(card.name) ? str(card.name.formatted_name) : undefined;
      return { ...none, contact: compact({ phone, owner_is_sender: false as const, name: name !== '' ? name : undefined }) };
    }
    return none;
  }
  if (type === 'order') {
    // A catalogue order: kept as content (the text the customer wrote) with an `other` attachment.
    const o = isRecord(m.order) ? m.order : {};
    return { ...none, text: str(o.text) ?? '', attachments: [{ type: 'other' }] };
  }
  const word = metaWord(type);
  return word ? `unsupported type: ${word}` : 'unsupported type';
}

function messageEvent(m: unknown, contacts: readonly Contact[], businessAccount: Record<string, string> | undefined): NormalisedEvent {
  if (!isRecord(m)) return ignored('malformed message');
  const wamid = idString(m.id);
  const type = str(m.type);
  const timestamp = intOf(m.timestamp);
  if (wamid === undefined || type === undefined || timestamp === undefined) return ignored('malformed message');
  const content = contentOf(m, type);
  if (typeof content === 'string') return ignored(content);
  const identity = identityOf(m, contacts);
  if (identity === undefined) return ignored('no sender');
  const context = isRecord(m.context) ? idString(m.context.id) : undefined;
  const event: InboundMessage = compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key: wamid,
    external_message_id: wamid,
    conversation_id: identity.external_id,
    sent_at: timestamp,
    edit: false,
    text: content.text,
    attachments: content.attachments,
    interaction: content.interaction,
    in_reply_to: context,
    customer_identity: identity,
    contact: content.contact,
    phone_in_text: phoneInText(content.text),
    // Channel extra: replies MUST leave from the number the customer wrote to (§2).
    business_account: businessAccount,
  });
  return event;
}

/**
 * `statuses[]` of our outbound messages → one ignored event listing them all, in the order sent
 * (not chronological: process applies them monotonically). `failed` with 131047 = the 24-hour
 * window had closed (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components#statuses-object).
 */
function statusEvent(statuses: readonly unknown[]): Ignored {
  const updates: StatusUpdate[] = [];
  for (const s of statuses) {
    if (!isRecord(s)) continue;
    const id = idString(s.id);
    const status = str(s.status);
    if (id === undefined || status === undefined || status === '') continue;
    const first = Array.isArray(s.errors) && isRecord(s.errors[0]) ? s.errors[0] : undefined;
    const code = first && (typeof first.code === 'number' || typeof first.code === 'string') ? first.code : undefined;
    updates.push(compact({ external_message_id: id, status: status.slice(0, 40), at: intOf(s.timestamp), error_code: code }));
  }
  return updates.length ? ignored('status update', { status_updates: updates }) : ignored('malformed status update');
}

function businessAccountOf(entryId: string | undefined, value: Record<string, unknown>): Record<string, string> | undefined {
  const meta = isRecord(value.metadata) ? value.metadata : {};
  const ba = compact({ waba_id: entryId, phone_number_id: idString(meta.phone_number_id), display_phone_number: str(meta.display_phone_number) });
  return Object.keys(ba).length ? (ba as Record<string, string>) : undefined;
}

function parseNotification(n: MetaNotification): NormalisedEvent[] {
  if (n.object !== OBJECT) return [ignored(`object is not ${OBJECT}`)];
  const events: NormalisedEvent[] = [];
  for (const entry of n.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.changes)) {
      events.push(ignored('malformed entry'));
      continue;
    }
    const entryId = idString(entry.id);
    for (const change of entry.changes) {
      if (!isRecord(change)) {
        events.push(ignored('malformed change'));
        continue;
      }
      if (change.field !== 'messages') {
        // Template, quality and account updates; `smb_message_echoes` (our own messages sent
        // from the WhatsApp Business app in coexistence) — echoes are never customers.
        const field = metaWord(change.field);
        events.push(ignored(field ? `field: ${field}` : 'unsupported field'));
        continue;
      }
      const value = isRecord(change.value) ? change.value : {};
      const contacts = contactsOf(value);
      const businessAccount = businessAccountOf(entryId, value);
      const before = events.length;
      for (const m of Array.isArray(value.messages) ? value.messages : []) events.push(messageEvent(m, contacts, businessAccount));
      if (Array.isArray(value.statuses) && value.statuses.length > 0) events.push(statusEvent(value.statuses));
      if (events.length === before) events.push(ignored(Array.isArray(value.errors) ? 'webhook error notice' : 'empty change'));
    }
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

/**
 * The recipient fields: a phone (`wa_id`) goes in `to`; a BSUID (`CC.<id>`, a user hiding the
 * number) in `recipient` (https://developers.facebook.com/docs/whatsapp/cloud-api/business-scoped-user-ids).
 */
function recipientFields(conversationId: string): Record<string, string> {
  return WA_ID.test(conversationId) ? { to: conversationId } : { recipient: conversationId };
}

/**
 * Survey buttons natively: ≤ 3 with titles ≤ 20 characters → reply buttons; otherwise (up to 10)
 * a list whose rows hold the label (cut to 24, the whole label as description when longer);
 * beyond 10 the choices are numbered in the text.
 */
export function interactiveOf(text: string, buttons: ReadonlyArray<{ label: string; payload: string }>): Record<string, unknown> | undefined {
  const body = { text: truncate(text, INTERACTIVE_BODY_MAX) };
  if (buttons.length <= WHATSAPP_MAX_REPLY_BUTTONS && buttons.every((b) => b.label.length <= REPLY_BUTTON_TITLE_MAX && b.payload.length <= REPLY_BUTTON_ID_MAX)) {
    return { type: 'button', body, action: { buttons: buttons.map((b) => ({ type: 'reply', reply: { id: b.payload, title: b.label } })) } };
  }
  if (buttons.length > WHATSAPP_MAX_LIST_ROWS) return undefined;
  for (const b of buttons) {
    if (b.payload.length === 0 || b.payload.length > LIST_ROW_ID_MAX) throw new Error(`whatsapp: list row id (button payload) must be 1-${LIST_ROW_ID_MAX} characters`);
  }
  const rows = buttons.map((b) => compact({
    id: b.payload,
    title: truncate(b.label, LIST_ROW_TITLE_MAX),
    description: b.label.length > LIST_ROW_TITLE_MAX ? truncate(b.label, LIST_ROW_DESCRIPTION_MAX) : undefined,
  }));
  return { type: 'list', body, action: { button: LIST_BUTTON_LABEL, sections: [{ rows }] } };
}

/** Delivery state for WhatsApp status words: `sent`/`delivered`/`read`/`failed` are ours too (§0.11). */
function deliveryFor(update: StatusUpdate): DeliveryState | null {
  return update.status === 'sent' || update.status === 'delivered' || update.status === 'read' || update.status === 'failed' ? update.status : null;
}

export const whatsapp = defineChannel({
  ...whatsappIngress,
  outboundSecrets: ['WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'META_GRAPH_API_VERSION'],
  mediaSecrets: ['WHATSAPP_ACCESS_TOKEN', 'META_GRAPH_API_VERSION'],
  capabilities: { ...whatsappIngress.capabilities, replyWindowSeconds: META_REPLY_WINDOW_SECONDS, buttons: true, textLimit: WHATSAPP_TEXT_LIMIT, templates: true, media: WHATSAPP_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    return parseNotification(parseMetaNotification(CHANNEL, envelopeBody(envelope)));
  },

  /**
   * Free-form messages only within 24 hours of the customer's last message (the API refuses later
   * replies with 409 `messaging_window_closed`; outside it only approved templates may be sent:
   * `msg.template`).
   * The sender number is the one the customer wrote to (`business_account.phone_number_id`),
   * else WHATSAPP_PHONE_NUMBER_ID.
   */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    const ba = isRecord(msg.context?.business_account) ? msg.context.business_account : {};
    const digits = (v: unknown) => (typeof v === 'string' && /^\d{1,30}$/.test(v) ? v : undefined);
    const phoneNumberId = digits(ba.phone_number_id) ?? digits(ctx.secrets.WHATSAPP_PHONE_NUMBER_ID) ?? '<WHATSAPP_PHONE_NUMBER_ID>';
    const token = ctx.secrets.WHATSAPP_ACCESS_TOKEN || '<WHATSAPP_ACCESS_TOKEN>';
    const request = (content: Record<string, unknown>): PlatformRequest => ({
      method: 'POST',
      url: `${graphBase(ctx.secrets)}/${phoneNumberId}/messages`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', ...recipientFields(msg.conversation_id), ...content }),
    });
    // A registered template (outside the 24-hour window): name and language as Meta approved
    // them, the body's parameters in order (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
    if (msg.template) {
      const t = msg.template;
      return [request({ type: 'template', template: {
        name: t.name, language: { code: t.language },
        ...(t.parameters.length > 0 ? { components: [{ type: 'body', parameters: t.parameters.map((text) => ({ type: 'text', text })) }] } : {}),
      } })];
    }
    const buttons = msg.buttons ?? [];
    const native = buttons.length > 0 && interactiveOf('', buttons) !== undefined;
    const text = buttons.length > 0 && !native ? withNumberedChoices(msg.text, buttons) : msg.text;
    // Long texts go out as several text messages; survey buttons ride on the last part, whose
    // body the interactive object caps at 1024 characters.
    const files = msg.attachments ?? [];
    const parts = text === '' && files.length > 0 ? [] : textParts(text, WHATSAPP_TEXT_LIMIT, native ? { lastMax: INTERACTIVE_BODY_MAX } : {});
    const texts = parts.map((part, i) => (native && i === parts.length - 1
      ? request({ type: 'interactive', interactive: interactiveOf(part, buttons) })
      : request({ type: 'text', text: { body: part } })));
    // Each file after the text, as a media message WhatsApp fetches by link; a document keeps its name.
    const media = files.map((f) => request(f.as === 'document'
      ? { type: 'document', document: { link: f.url, filename: safeFileName(f.file_name) } }
      : { type: f.as, [f.as]: { link: f.url } }));
    return [...texts, ...media];
  },

  /** `messages[0].id` is the wamid our statuses will carry. */
  /**
   * `GET /<media-id>` answers a `url` that lives 5 minutes (the id 30 days); downloading it needs
   * the same bearer token (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media).
   */
  mediaFetch(attachment: Attachment, _index: number, ctx: RenderContext): MediaFetch | null {
    const id = attachment.platform_ref;
    if (!id || !/^\d{1,30}$/.test(id)) return null;
    const headers = { authorization: `Bearer ${ctx.secrets.WHATSAPP_ACCESS_TOKEN || '<WHATSAPP_ACCESS_TOKEN>'}` };
    return {
      kind: 'lookup',
      request: { method: 'GET', url: `${graphBase(ctx.secrets)}/${id}`, headers, body: null },
      next(res) {
        let answer: unknown;
        try { answer = JSON.parse(res.body); } catch { answer = undefined; }
        const url = isRecord(answer) ? str(answer.url) : undefined;
        if (!url || !/^https:\/\//.test(url)) return { kind: 'unavailable', status: 'failed', reason: 'the media lookup answered no URL' };
        const size = isRecord(answer) && typeof answer.file_size === 'number' ? answer.file_size : undefined;
        return { kind: 'download', request: { method: 'GET', url, headers, body: null }, ...(size !== undefined ? { declaredSize: size } : {}) };
      },
    };
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    return readGraphDelivery(res, (b) => (Array.isArray(b.messages) && isRecord(b.messages[0]) ? idString(b.messages[0].id) : undefined));
  },

  deliveryFor,
});
