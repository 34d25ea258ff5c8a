/**
 * VK community messages through the Callback API (channels.md §5).
 *
 * Inbound: VK POSTs one JSON event per request to the server confirmed in the community's
 * "API usage → Callback API" settings (https://dev.vk.com/en/api/callback/getting-started).
 * There is no signature: the credential is the `secret` field **inside the body**, next to
 * `group_id`, so the body is parsed before it is authenticated (§0.2). The server is confirmed by
 * answering `type: "confirmation"` with the confirmation string as plain text; every other event
 * must be answered with the plain text `ok`, else VK re-sends it with the same `event_id` and an
 * `X-Retry-Counter` header (https://dev.vk.com/en/api/callback/getting-started).
 *
 * Outbound: `messages.send` (https://dev.vk.com/en/method/messages.send) with a `random_id`
 * derived from our outbound id, so a retried send is not delivered twice.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Attachment, IgnoredEvent, Identity, NormalisedEvent } from '../../domain/inbound.js';
import {
  defineChannel,
  type DeliveryResult,
  type Envelope,
  type InteractionRef,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
  type MediaFetch,
  plainDownload,
  type UploadFlow,
} from '../channel.js';
import { isRecord } from '../common.js';
import { envelopeBody } from '../envelope.js';
import { textParts, type TextLimit } from '../text.js';
import { MB, safeFileName, type MediaCapability, type OutboundMedia } from '../media.js';
import { check, parseBody, vkIngress, type Checked, type Message } from './ingress.js';

export { VK_RETRY_HEADER } from './ingress.js';
import { phoneInText } from '../phone.js';

const CHANNEL = 'vk';
export const VK_DEFAULT_API_VERSION = '5.199';

/**
 * Files go through VK's upload server, never by URL: a photo (https://dev.vk.com/en/api/upload/photo-in-message)
 * "JPG, PNG, GIF … up to 50 MB", a document (https://dev.vk.com/en/api/upload/document-in-message)
 * up to 200 MB. `uploadMedia` describes the three steps, `render` attaches what they return.
 */
export const VK_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 50 * MB, via: 'bytes' },
    { as: 'document', contentTypes: 'any', maxBytes: 200 * MB, via: 'bytes' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://dev.vk.com/en/api/upload/photo-in-message',
};

/** An upload step found no usable answer from the step before (VK's upload server or its save method). */
export class VkUploadError extends Error {
  override readonly name = 'VkUploadError';
}
/** `peer_id` of multi-user chats is 2000000000 + chat id (https://dev.vk.com/en/reference/objects/message). */
export const VK_CHAT_PEER_MIN = 2_000_000_000;
/** messages.send: "message — text of the message … up to 4096 characters" (error 914 beyond). */
export const VK_MAX_TEXT = 4096;
/** VK counts characters: code points here (an emoji is one). */
export const VK_TEXT_LIMIT: TextLimit = { max: VK_MAX_TEXT, unit: 'codepoint' };
/** Keyboards (https://dev.vk.com/en/api/bots/development/keyboard): label ≤ 40, payload ≤ 255 characters. */
export const VK_MAX_LABEL = 40;
export const VK_MAX_PAYLOAD = 255;
/** Inline keyboards hold at most 10 buttons (6 rows × 5); a regular keyboard 40 (10 rows × 5). */
const VK_INLINE_MAX_BUTTONS = 10;
const VK_KEYBOARD_MAX_BUTTONS = 40;
const VK_BUTTONS_PER_ROW = 5;

/**
 * `client_info.lang_id` → language tag (§5; https://dev.vk.com/en/api/bots/development/messages,
 * "lang_id"). Other ids leave the language unset.
 */
export const VK_LANGUAGES: Readonly<Record<number, string>> = { 0: 'ru', 1: 'uk', 3: 'en', 4: 'es', 6: 'de', 7: 'it', 15: 'pl', 16: 'fr' };

// ---------------------------------------------------------------------------------------------
// Event shapes (https://dev.vk.com/en/api/community-events/json-schema). Loose: VK adds fields
// with every API version; only what we read is typed. Attachments are read one by one and an
// unreadable one becomes `other` rather than a refusal of a message VK really sent.
// ---------------------------------------------------------------------------------------------

// z.int() only accepts safe integers; VK user, group and peer ids fit easily.
const Int = z.int();

const Size = z.looseObject({ url: z.string(), width: Int.nonnegative().optional(), height: Int.nonnegative().optional() });
const Owned = { id: Int, owner_id: Int, access_key: z.string().optional() };
const Photo = z.looseObject({ ...Owned, sizes: z.array(Size).optional(), orig_photo: Size.optional() });
const Doc = z.looseObject({ ...Owned, title: z.string().optional(), size: Int.nonnegative().optional(), url: z.string().optional() });
const AudioMessage = z.looseObject({ ...Owned, link_ogg: z.string().optional() });
const Video = z.looseObject({ ...Owned, title: z.string().optional(), image: z.array(Size).optional() });
const Sticker = z.looseObject({ sticker_id: Int, images: z.array(Size).optional() });
const Coordinates = z.looseObject({ latitude: z.number(), longitude: z.number() });

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `photo<owner_id>_<id>[_<access_key>]`, the form messages.send's `attachment` takes. */
function refOf(kind: string, o: { owner_id: number; id: number; access_key?: string | undefined }): string {
  return `${kind}${o.owner_id}_${o.id}${o.access_key ? `_${o.access_key}` : ''}`;
}

function largest<S extends { width?: number | undefined; height?: number | undefined }>(sizes: readonly S[] | undefined): S | undefined {
  let best: S | undefined;
  for (const s of sizes ?? []) {
    if (!best || (s.width ?? 0) * (s.height ?? 0) > (best.width ?? 0) * (best.height ?? 0)) best = s;
  }
  return best;
}

/** One attachment (https://dev.vk.com/en/reference/objects/attachments-message); unreadable → `other`. */
function attachmentOf(raw: unknown): Attachment {
  if (!isRecord(raw) || typeof raw.type !== 'string') return { type: 'other' };
  const body = raw[raw.type];
  switch (raw.type) {
    case 'photo': {
      const p = Photo.safeParse(body);
      if (!p.success) return { type: 'other' };
      // `orig_photo` (API ≥ 5.180) is the original; else the biggest of `sizes`.
      const size = p.data.orig_photo ?? largest(p.data.sizes);
      return compact({ type: 'image', platform_ref: refOf('photo', p.data), url: size?.url, width: size?.width, height: size?.height });
    }
    case 'doc': {
      const d = Doc.safeParse(body);
      if (!d.success) return { type: 'other' };
      return compact({ type: 'document', platform_ref: refOf('doc', d.data), file_name: d.data.title, size: d.data.size, url: d.data.url });
    }
    case 'audio_message': {
      const a = AudioMessage.safeParse(body);
      if (!a.success) return { type: 'other' };
      return compact({ type: 'audio', platform_ref: refOf('audio_message', a.data), url: a.data.link_ogg, mime_type: a.data.link_ogg ? 'audio/ogg' : undefined });
    }
    case 'video': {
      // Video files are not downloadable through the API for communities; the reference and the
      // preview image are what an agent can use (https://dev.vk.com/en/reference/objects/video).
      const v = Video.safeParse(body);
      if (!v.success) return { type: 'other' };
      const preview = largest(v.data.image);
      return compact({ type: 'video', platform_ref: refOf('video', v.data), file_name: v.data.title, thumbnail_url: preview?.url });
    }
    case 'sticker': {
      const s = Sticker.safeParse(body);
      if (!s.success) return { type: 'other' };
      const image = largest(s.data.images);
      return compact({ type: 'sticker', platform_ref: String(s.data.sticker_id), url: image?.url, width: image?.width, height: image?.height });
    }
    default:
      // wall, link, market, poll, graffiti, audio (music), gift, …
      return { type: 'other' };
  }
}

/** `message.geo.coordinates` is `{latitude, longitude}`; very old versions wrote "lat lon". */
function locationOf(geo: unknown): Attachment | undefined {
  if (!isRecord(geo)) return undefined;
  const c = Coordinates.safeParse(geo.coordinates);
  if (c.success) return { type: 'location', latitude: c.data.latitude, longitude: c.data.longitude };
  if (typeof geo.coordinates === 'string') {
    const [lat, lon] = geo.coordinates.trim().split(/\s+/).map(Number);
    if (Number.isFinite(lat) && Number.isFinite(lon)) return { type: 'location', latitude: lat!, longitude: lon! };
  }
  return { type: 'other' };
}

function attachmentsOf(m: Message): Attachment[] {
  const out = (m.attachments ?? []).map(attachmentOf);
  const location = locationOf(m.geo);
  if (location) out.push(location);
  // Forwarded messages are someone else's words: surfaced as `other`, not read as the customer's.
  if ((m.fwd_messages ?? []).length > 0) out.push({ type: 'other' });
  return out;
}

function inReplyTo(m: Message): string | undefined {
  const r = m.reply_message;
  if (!isRecord(r) || typeof r.conversation_message_id !== 'number' || !Number.isSafeInteger(r.conversation_message_id)) return undefined;
  return `${m.peer_id}:${r.conversation_message_id}`;
}

/** Our own, community-written or multi-user-chat messages are not customer messages (§5). */
function ignoreReason(m: Message): string | undefined {
  if (m.out === 1) return 'outgoing message';
  if (m.from_id < 0) return 'community-written message';
  if (m.from_id === 0) return 'no sender';
  if (m.peer_id >= VK_CHAT_PEER_MIN) return 'multi-user chat';
  return undefined;
}

function messageEvent(c: Extract<Checked, { kind: 'message' }>): NormalisedEvent {
  const m = c.message;
  const dedup_key = c.eventId;
  const reason = ignoreReason(m);
  if (reason) return { kind: 'ignored', channel: CHANNEL, reason, dedup_key };
  const attachments = attachmentsOf(m);
  const text = m.text ?? '';
  // Service messages (chat actions) carry no customer content.
  if (text === '' && attachments.length === 0) return { kind: 'ignored', channel: CHANNEL, reason: 'empty message', dedup_key };
  const edit = c.type === 'message_edit';
  const language = c.langId !== undefined ? VK_LANGUAGES[c.langId] : undefined;
  const identity: Identity = compact({ external_id: String(m.from_id), language });
  return compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key,
    external_message_id: `${m.peer_id}:${m.conversation_message_id}`,
    conversation_id: String(m.peer_id),
    sent_at: m.date,
    edit,
    edited_at: edit ? (m.update_time ?? m.date) : undefined,
    text,
    attachments,
    // A text button press: `text` is its label, `payload` the JSON text we set (§0.10).
    interaction: m.payload !== undefined ? { payload: m.payload } : null,
    in_reply_to: inReplyTo(m),
    customer_identity: identity,
    // A phone typed in the text: a suggestion only (§0.7).
    phone_in_text: phoneInText(text),
  });
}

function callbackEvent(c: Extract<Checked, { kind: 'callback' }>, receivedAtMs: number): NormalisedEvent {
  const e = c.event;
  const dedup_key = c.eventId;
  if (e.user_id <= 0) return { kind: 'ignored', channel: CHANNEL, reason: 'no sender', dedup_key };
  if (e.peer_id >= VK_CHAT_PEER_MIN) return { kind: 'ignored', channel: CHANNEL, reason: 'multi-user chat', dedup_key };
  if (e.payload === undefined) return { kind: 'ignored', channel: CHANNEL, reason: 'callback without payload', dedup_key };
  return compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key,
    external_message_id: `callback:${e.event_id}`,
    conversation_id: String(e.peer_id),
    // message_event has no date of its own.
    sent_at: Math.floor(receivedAtMs / 1000),
    edit: false,
    text: '',
    attachments: [],
    // `payload` arrives as parsed JSON; its JSON text is the interaction payload (§5).
    interaction: { payload: JSON.stringify(e.payload) },
    // What messages.sendMessageEventAnswer needs to end the button's spinner (answerInteraction).
    interaction_ref: { event_id: e.event_id, user_id: String(e.user_id), peer_id: String(e.peer_id) },
    in_reply_to: e.conversation_message_id !== undefined ? `${e.peer_id}:${e.conversation_message_id}` : undefined,
    customer_identity: { external_id: String(e.user_id) },
  });
}

function eventsOf(c: Checked, receivedAtMs: number): NormalisedEvent[] {
  switch (c.kind) {
    case 'message': return [messageEvent(c)];
    case 'callback': return [callbackEvent(c, receivedAtMs)];
    case 'reachability': {
      const base: IgnoredEvent = { kind: 'ignored', channel: CHANNEL, reason: 'messages permission change', dedup_key: c.eventId };
      if (c.userId <= 0) return [base];
      return [{ ...base, customer_identity: { external_id: String(c.userId) }, reachability: c.type === 'message_allow' ? 'reachable' : 'unreachable' }];
    }
    default: {
      // Type names are VK's (message_reply, message_typing_state, group_join, …): no personal data.
      const reason = c.type === 'message_reply' ? 'outgoing message' : /^[a-z_]{1,60}$/.test(c.type) ? `unsupported event: ${c.type}` : 'unsupported event';
      return [{ kind: 'ignored', channel: CHANNEL, reason, dedup_key: c.eventId }];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

/**
 * messages.send `random_id` (int32, "unique … used to prevent re-sending the same message"): a
 * positive int32 from SHA-256 of our outbound id, so every retry of one message sends the same.
 */
export function vkRandomId(outboundId: string): number {
  const n = createHash('sha256').update(outboundId).digest().readUInt32BE(0) & 0x7fffffff;
  return n === 0 ? 1 : n;
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function isJsonText(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * A button payload as VK wants it: a JSON text (≤ 255 characters). A payload that already is
 * JSON (`{"survey":"csat","score":5}`) is sent and comes back verbatim; any other string is sent
 * as a JSON string literal (`"csat:5"`, quotes included, is then what comes back).
 */
export function vkPayload(payload: string): string {
  const json = isJsonText(payload) ? payload : JSON.stringify(payload);
  if (json.length > VK_MAX_PAYLOAD) throw new Error(`vk: button payload exceeds ${VK_MAX_PAYLOAD} characters`);
  return json;
}

/**
 * Text buttons (the press comes back as `message_new` with `text` = label and `payload`): an
 * inline keyboard under the message when it fits, else a one-time keyboard.
 */
export function vkKeyboard(buttons: NonNullable<OutboundMessage['buttons']>): Record<string, unknown> {
  if (buttons.length > VK_KEYBOARD_MAX_BUTTONS) throw new Error(`vk: at most ${VK_KEYBOARD_MAX_BUTTONS} buttons fit a keyboard`);
  const cells = buttons.map((b) => ({ action: { type: 'text', label: truncate(b.label, VK_MAX_LABEL), payload: vkPayload(b.payload) }, color: 'secondary' }));
  const rows: (typeof cells)[] = [];
  for (let i = 0; i < cells.length; i += VK_BUTTONS_PER_ROW) rows.push(cells.slice(i, i + VK_BUTTONS_PER_ROW));
  return buttons.length <= VK_INLINE_MAX_BUTTONS ? { inline: true, buttons: rows } : { one_time: true, buttons: rows };
}

/**
 * VK API errors (https://dev.vk.com/en/reference/errors): answered with HTTP 200 and
 * `{"error":{"error_code":…}}`. Temporary ones are retried; 900–902 mean the user blocked the
 * community, never allowed or denied its messages, or their privacy settings forbid it.
 */
const VK_RETRYABLE: Readonly<Record<number, number | undefined>> = { 1: undefined, 6: 1, 9: 60, 10: undefined, 29: undefined };
const VK_UNREACHABLE = new Set([900, 901, 902]);

const SendAnswer = z.looseObject({
  response: z.unknown().optional(),
  error: z.looseObject({ error_code: Int }).optional(),
});

function retryAfter(res: PlatformResponse): number | undefined {
  const n = Number(res.headers['retry-after']);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export const vk = defineChannel({
  ...vkIngress,
  outboundSecrets: ['VK_ACCESS_TOKEN', 'VK_API_VERSION'],
  // No 24-hour window: the community may write to anyone who wrote to it or allowed its
  // messages and has not denied them since (error 901 otherwise).
  // messageIdOnce: `conversation_message_id` is unique inside its peer
  // (https://dev.vk.com/en/reference/objects/message), a retried event repeats it; a callback's
  // `event_id` is its own. Edits (`message_edit`) are `edit: true`, keyed by their event.
  capabilities: { ...vkIngress.capabilities, replyWindowSeconds: null, buttons: true, textLimit: VK_TEXT_LIMIT, idempotentSend: true, messageIdOnce: true, media: VK_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    // The queue only holds requests admit() accepted: this cannot fail on a real envelope.
    return eventsOf(check(parseBody(envelopeBody(envelope))), envelope.received_at);
  },

  /**
   * messages.send, one per part of a text over 4096 characters (keyboard on the last). Every part
   * has its own `random_id`, derived from the outbound id and the part's number, so a retried
   * part is de-duplicated by VK while the parts are not taken for repeats of each other.
   */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    const files = msg.attachments ?? [];
    const refs = files.map((f) => {
      if (!f.platform_ref) throw new VkUploadError('vk: a file was not uploaded before render', { cause: { channel: 'vk', stage: 'render' } });
      return f.platform_ref;
    });
    // The files ride on the last part (a message takes up to 10 attachments), or alone without text.
    const parts = msg.text === '' && files.length > 0 ? [''] : textParts(msg.text, VK_TEXT_LIMIT);
    return parts.map((part, i) => {
      // Without a token the body keeps a visible placeholder: the local outbox shows it.
      const form = new URLSearchParams();
      form.set('peer_id', msg.conversation_id);
      form.set('random_id', String(vkRandomId(i === 0 ? msg.id : `${msg.id}#${i + 1}`)));
      if (part !== '') form.set('message', part);
      if (refs.length > 0 && i === parts.length - 1) form.set('attachment', refs.join(','));
      if (msg.buttons && msg.buttons.length > 0 && i === parts.length - 1) form.set('keyboard', JSON.stringify(vkKeyboard(msg.buttons)));
      form.set('access_token', ctx.secrets.VK_ACCESS_TOKEN || '<VK_ACCESS_TOKEN>');
      form.set('v', ctx.secrets.VK_API_VERSION || VK_DEFAULT_API_VERSION);
      return {
        method: 'POST' as const,
        url: 'https://api.vk.com/method/messages.send',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      };
    });
  },

  /**
   * The upload-server flow of one file: get the server (photos.getMessagesUploadServer /
   * docs.getMessagesUploadServer with the conversation's peer_id), POST the bytes there as
   * multipart (`photo` / `file`), save what it answers (photos.saveMessagesPhoto / docs.save), and
   * attach `photo<owner>_<id>_<access_key>` / `doc<owner>_<id>`
   * (https://dev.vk.com/en/api/upload/photo-in-message, https://dev.vk.com/en/api/upload/document-in-message).
   * A retried send uploads again (the upload is not the message; `random_id` still de-duplicates the send).
   */
  uploadMedia(file: OutboundMedia, msg: OutboundMessage, ctx: RenderContext): UploadFlow {
    const photo = file.as === 'image';
    const api = (method: string, params: Record<string, string>): PlatformRequest => {
      const form = new URLSearchParams(params);
      form.set('access_token', ctx.secrets.VK_ACCESS_TOKEN || '<VK_ACCESS_TOKEN>');
      form.set('v', ctx.secrets.VK_API_VERSION || VK_DEFAULT_API_VERSION);
      return { method: 'POST', url: `https://api.vk.com/method/${method}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
    };
    const answer = (res: PlatformResponse | null, step: string): Record<string, unknown> => {
      let json: unknown;
      try { json = res ? JSON.parse(res.body) : undefined; } catch { json = undefined; }
      if (!isRecord(json)) throw new VkUploadError(`vk: ${step} answered no JSON object`, { cause: { channel: 'vk', stage: step } });
      return json;
    };
    const data = file.data_b64;
    if (data === undefined) throw new VkUploadError('vk: a file is uploaded, but its bytes were not read', { cause: { channel: 'vk', stage: 'upload' } });
    return {
      steps: [
        () => api(photo ? 'photos.getMessagesUploadServer' : 'docs.getMessagesUploadServer', { peer_id: msg.conversation_id, ...(photo ? {} : { type: 'doc' }) }),
        (prev) => {
          const r = answer(prev, 'upload server').response;
          const url = isRecord(r) && typeof r.upload_url === 'string' ? r.upload_url : undefined;
          if (!url || !url.startsWith('https://')) throw new VkUploadError('vk: no upload_url in the upload server answer', { cause: { channel: 'vk', stage: 'upload server' } });
          return { method: 'POST', url, headers: {}, body: null, form: [{ name: photo ? 'photo' : 'file', file_name: safeFileName(file.file_name), content_type: file.content_type, data_b64: data }] };
        },
        (prev) => {
          const up = answer(prev, 'upload');
          if (photo) {
            if (typeof up.photo !== 'string' || up.server === undefined || typeof up.hash !== 'string') throw new VkUploadError('vk: the photo upload answered no photo/server/hash', { cause: { channel: 'vk', stage: 'upload' } });
            return api('photos.saveMessagesPhoto', { photo: up.photo, server: String(up.server), hash: up.hash });
          }
          if (typeof up.file !== 'string') throw new VkUploadError('vk: the document upload answered no file', { cause: { channel: 'vk', stage: 'upload' } });
          return api('docs.save', { file: up.file, title: safeFileName(file.file_name) });
        },
      ],
      ref(last) {
        const r = answer(last, 'save').response;
        const saved = photo ? (Array.isArray(r) ? r[0] : undefined) : (isRecord(r) ? r.doc : undefined);
        if (!isRecord(saved) || typeof saved.id !== 'number' || typeof saved.owner_id !== 'number') throw new VkUploadError('vk: the save answered no owner_id/id', { cause: { channel: 'vk', stage: 'save' } });
        const key = typeof saved.access_key === 'string' && /^\w{1,64}$/.test(saved.access_key) ? `_${saved.access_key}` : '';
        return photo ? `photo${saved.owner_id}_${saved.id}${key}` : `doc${saved.owner_id}_${saved.id}${key}`;
      },
    };
  },

  /**
   * messages.sendMessageEventAnswer (https://dev.vk.com/en/method/messages.sendMessageEventAnswer):
   * answers a callback button press (`message_event`) so the client stops its loading state.
   * Without `event_data` nothing else happens (no snackbar, link or app). The object's `event_id`
   * is valid for about a minute (https://dev.vk.com/en/api/community-events/json-schema#message_event),
   * so the sender tries once.
   */
  answerInteraction(ref: InteractionRef, ctx: RenderContext): PlatformRequest | null {
    const { event_id, user_id, peer_id } = ref;
    if (!event_id || !user_id || !peer_id) return null;
    const form = new URLSearchParams();
    form.set('event_id', event_id);
    form.set('user_id', user_id);
    form.set('peer_id', peer_id);
    form.set('access_token', ctx.secrets.VK_ACCESS_TOKEN || '<VK_ACCESS_TOKEN>');
    form.set('v', ctx.secrets.VK_API_VERSION || VK_DEFAULT_API_VERSION);
    return {
      method: 'POST',
      url: 'https://api.vk.com/method/messages.sendMessageEventAnswer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  },

  /** Photo, document, voice and sticker URLs are public CDN links; community bots cannot download videos (url absent). */
  mediaFetch(attachment: Attachment): MediaFetch | null {
    return attachment.type === 'location' || attachment.type === 'video' ? null : plainDownload(attachment.url, attachment.size);
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfter(res);
      return compact({ ok: false as const, retryable: true, retry_after_s: after, error_code: String(res.status) });
    }
    if (res.status !== 200) return { ok: false, retryable: false, error_code: String(res.status) };
    let answer: z.infer<typeof SendAnswer> | undefined;
    try {
      const parsed = SendAnswer.safeParse(JSON.parse(res.body));
      answer = parsed.success ? parsed.data : undefined;
    } catch {
      answer = undefined;
    }
    // An unreadable 200 may or may not have sent: retrying is safe, random_id deduplicates.
    if (!answer) return { ok: false, retryable: true, error_code: 'unreadable' };
    if (answer.error) {
      const code = answer.error.error_code;
      if (Object.hasOwn(VK_RETRYABLE, code)) return compact({ ok: false as const, retryable: true, retry_after_s: VK_RETRYABLE[code], error_code: String(code) });
      if (VK_UNREACHABLE.has(code)) return { ok: false, retryable: false, unreachable: true, error_code: String(code) };
      return { ok: false, retryable: false, error_code: String(code) };
    }
    // With `peer_id`, `response` is the id of the new message. (VK sends no delivery receipts to
    // communities, so this id only identifies the message.)
    const id = answer.response;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return { ok: true, external_message_id: String(id) };
    return { ok: true };
  },
});
