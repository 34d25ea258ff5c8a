/**
 * Telegram Bot API adapter (channels.md §1).
 *
 * Inbound: Telegram POSTs one `Update` per request to the URL given to `setWebhook`, with the
 * `secret_token` from that call echoed in `X-Telegram-Bot-Api-Secret-Token`
 * (https://core.telegram.org/bots/api#setwebhook). There is no body signature: the header is the
 * only credential. Outbound: `sendMessage` (https://core.telegram.org/bots/api#sendmessage), one
 * request per part of a text over 4096 characters; a pressed inline button is acknowledged with
 * `answerCallbackQuery` (https://core.telegram.org/bots/api#answercallbackquery).
 *
 * @module
 */
import { z } from 'zod';
import type { Attachment, Identity, NormalisedEvent } from '../../domain/inbound.js';
import {
  ChannelRenderError,
  defineChannel,
  type DeliveryResult,
  type Envelope,
  type InteractionRef,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
  type MediaFetch,
} from '../channel.js';
import { envelopeBody } from '../envelope.js';
import { phoneInText, platformPhoneToE164 } from '../phone.js';
import { CallbackQuery, ChatMemberUpdated, Int, Media, Message, otherBranch, TelegramUpdate, telegramIngress, User } from './ingress.js';
import { MB, safeFileName, type MediaCapability } from '../media.js';
import { splitText, type TextLimit, type TextPart } from '../text.js';

const CHANNEL = 'telegram';
/** https://core.telegram.org/bots/api#sendmessage — "1-4096 characters after entities parsing". */
export const TELEGRAM_MAX_TEXT = 4096;

/**
 * Files (https://core.telegram.org/bots/api#sending-files): a photo by URL up to 5 MB ("5 MB max
 * size for photos and 20 MB max for other types of content" fetched by URL) in the types sendPhoto
 * shows as a photo; anything else — and a larger image — as a document uploaded with
 * multipart/form-data, up to 50 MB, because "sending by URL will currently only work for GIF, PDF
 * and ZIP files" in sendDocument. Telegram fetches a URL at once, so an hour is plenty.
 */
export const TELEGRAM_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/webp'], maxBytes: 5 * MB, via: 'url' },
    { as: 'document', contentTypes: 'any', maxBytes: 50 * MB, via: 'bytes' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://core.telegram.org/bots/api#sending-files',
};
/** https://core.telegram.org/bots/api#inlinekeyboardbutton — `callback_data` is 1-64 bytes. */
export const TELEGRAM_MAX_CALLBACK_DATA_BYTES = 64;
/** Buttons per inline-keyboard row that Telegram clients show without squeezing (and its API limit). */
export const TELEGRAM_MAX_BUTTONS_PER_ROW = 8;

// ---------------------------------------------------------------------------------------------
// Normalisation helpers
// ---------------------------------------------------------------------------------------------

/** Drop `undefined` members so strict schemas and snapshots see only what the platform gave. */
function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function identityOf(user: z.infer<typeof User>): Identity {
  const name = [user.first_name, user.last_name].filter((s): s is string => typeof s === 'string' && s !== '').join(' ');
  return compact({
    external_id: String(user.id),
    display_name: name === '' ? undefined : name,
    username: user.username,
    language: user.language_code,
  });
}

function fileAttachment(type: Attachment['type'], m: z.infer<typeof Media>): Attachment {
  return compact({
    type,
    platform_ref: m.file_id,
    file_unique_id: m.file_unique_id,
    file_name: m.file_name,
    mime_type: m.mime_type,
    size: m.file_size,
    width: m.width,
    height: m.height,
  });
}

/**
 * Attachments of a message, files downloaded later via getFile
 * (https://core.telegram.org/bots/api#getfile, 20 MB limit).
 */
function attachmentsOf(m: Message): Attachment[] {
  const out: Attachment[] = [];
  // `photo` lists the available sizes, smallest first (https://core.telegram.org/bots/api#message).
  const photo = m.photo?.at(-1);
  if (photo) {
    out.push(compact({
      type: 'image', platform_ref: photo.file_id, file_unique_id: photo.file_unique_id,
      width: photo.width, height: photo.height, size: photo.file_size,
    }));
  }
  // Quirk: for backward compatibility an `animation` message also carries `document`
  // (https://core.telegram.org/bots/api#message, field animation) — report it once, as video.
  if (m.animation) out.push(fileAttachment('video', m.animation));
  else if (m.document) out.push(fileAttachment('document', m.document));
  if (m.video) out.push(fileAttachment('video', m.video));
  if (m.video_note) out.push(fileAttachment('video', m.video_note));
  if (m.voice) out.push(fileAttachment('audio', m.voice));
  if (m.audio) out.push(fileAttachment('audio', m.audio));
  if (m.sticker) out.push(fileAttachment('sticker', m.sticker));
  // Quirk: a `venue` message also carries `location` (same docs, field venue) — report it once.
  const location = m.venue?.location ?? m.location;
  if (location) out.push({ type: 'location', latitude: location.latitude, longitude: location.longitude });
  return out;
}

/** Customer content we cannot represent; surfaced as `other` rather than silently dropped. */
const OTHER_CONTENT = ['poll', 'dice', 'game', 'story', 'paid_media', 'checklist', 'invoice'] as const;

/** A private message from a person (§1 table): anything else is ignored with a short reason. */
function ignoreReason(m: Message): string | undefined {
  if (m.chat.type !== 'private') return 'non-private chat';
  if (!m.from) return 'no sender';
  if (m.from.is_bot === true) return 'bot sender';
  return undefined;
}

function messageEvent(update: TelegramUpdate, m: Message, edit: boolean): NormalisedEvent {
  const dedup_key = `update_id:${update.update_id}`;
  const reason = ignoreReason(m);
  if (reason !== undefined || !m.from) return { kind: 'ignored', channel: CHANNEL, reason: reason ?? 'no sender', dedup_key };
  const from = m.from;
  const chatId = String(m.chat.id);
  const attachments = attachmentsOf(m);
  const raw = m as Record<string, unknown>;
  if (OTHER_CONTENT.some((k) => raw[k] !== undefined)) attachments.push({ type: 'other' });
  const text = m.text ?? m.caption ?? '';
  if (text === '' && attachments.length === 0 && !m.contact) {
    // Service messages (pinned_message, write_access_allowed, …) carry no customer content.
    return { kind: 'ignored', channel: CHANNEL, reason: 'service message', dedup_key };
  }

  const identity = identityOf(from);
  let contact: { phone: string; owner_is_sender: boolean; name?: string } | undefined;
  if (m.contact) {
    const phone = platformPhoneToE164(m.contact.phone_number);
    const owner = m.contact.user_id !== undefined && m.contact.user_id === from.id;
    const name = [m.contact.first_name, m.contact.last_name].filter((s) => s !== undefined && s !== '').join(' ');
    contact = compact({ phone: phone ?? m.contact.phone_number, owner_is_sender: owner, name: name === '' ? undefined : name });
    // Only the sender's own card (shared with the "share my phone" button) is platform-verified;
    // someone else's card is a suggestion and never lands on the identity (§0.7).
    if (owner && phone !== undefined) Object.assign(identity, { phone, phone_verified: true });
  }

  return compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key,
    external_message_id: `${chatId}:${m.message_id}`,
    conversation_id: chatId,
    sent_at: m.date,
    edit,
    edited_at: edit ? (m.edit_date ?? m.date) : undefined,
    text,
    attachments,
    interaction: null,
    in_reply_to: m.reply_to_message ? `${chatId}:${m.reply_to_message.message_id}` : undefined,
    customer_identity: identity,
    contact,
    phone_in_text: phoneInText(text),
  });
}

function callbackEvent(update: TelegramUpdate, q: z.infer<typeof CallbackQuery>, receivedAtMs: number): NormalisedEvent {
  const dedup_key = `update_id:${update.update_id}`;
  // Game buttons send `game_short_name` instead of `data`; we never send those.
  if (q.data === undefined) return { kind: 'ignored', channel: CHANNEL, reason: 'callback without data', dedup_key };
  const label = q.message?.reply_markup?.inline_keyboard.flat().find((b) => b.callback_data === q.data)?.text;
  const conversation = q.message ? String(q.message.chat.id) : String(q.from.id);
  return compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key,
    external_message_id: `callback:${q.id}`,
    conversation_id: conversation,
    // A callback query has no date of its own (https://core.telegram.org/bots/api#callbackquery).
    sent_at: Math.floor(receivedAtMs / 1000),
    edit: false,
    text: label ?? q.data,
    attachments: [],
    interaction: { payload: q.data },
    // Kept to answer the press (answerCallbackQuery), else the client shows a spinner.
    interaction_ref: { callback_query_id: q.id },
    // The message whose button was pressed (ours), so surveys can match their answer.
    in_reply_to: q.message ? `${q.message.chat.id}:${q.message.message_id}` : undefined,
    customer_identity: identityOf(q.from),
  });
}

function chatMemberEvent(update: TelegramUpdate, u: z.infer<typeof ChatMemberUpdated>): NormalisedEvent {
  const dedup_key = `update_id:${update.update_id}`;
  // In a private chat `kicked` means the user blocked the bot and `member` that they (re)started
  // it (https://core.telegram.org/bots/api#chatmemberupdated). In groups it is about the group.
  if (u.chat.type !== 'private') return { kind: 'ignored', channel: CHANNEL, reason: 'membership change', dedup_key };
  const status = u.new_chat_member.status;
  const reachability = status === 'kicked' ? 'unreachable' : status === 'member' ? 'reachable' : undefined;
  return compact({
    kind: 'ignored' as const,
    channel: CHANNEL,
    reason: 'membership change',
    dedup_key,
    customer_identity: identityOf(u.from),
    reachability,
  });
}

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

/** `chat_id` as Telegram documents it: an integer, or a `@channelusername` string. */
/** A file that must be uploaded came without its bytes: the send handler resolves them (`via: bytes`). */
function requireBytes(data: string | undefined): string {
  if (data === undefined) throw new ChannelRenderError('telegram: a document is uploaded, but its bytes were not read', { cause: { channel: CHANNEL, stage: 'render' } });
  return data;
}

function chatIdOf(conversationId: string): number | string {
  if (/^-?\d+$/.test(conversationId)) {
    const n = Number(conversationId);
    if (Number.isSafeInteger(n)) return n;
  }
  return conversationId;
}

export type { TextPart } from '../text.js';
/** Phone helpers shared with other channels (functions/channels/phone.ts), re-exported where they began. */
export { phoneInText, platformPhoneToE164 } from '../phone.js';
export { TelegramUpdate } from './ingress.js';

/** sendMessage's text limit (UTF-16 code units: see `splitTelegramText`). */
export const TELEGRAM_TEXT_LIMIT: TextLimit = { max: TELEGRAM_MAX_TEXT, unit: 'utf16' };

/**
 * Split `text` into parts of at most `max` UTF-16 code units each, for sendMessage's
 * "1-4096 characters after entities parsing" (https://core.telegram.org/bots/api#sendmessage; we
 * send no parse_mode, so nothing is parsed away). We count UTF-16 code units — JavaScript's
 * `length`, and the unit Telegram measures text in for entities
 * (https://core.telegram.org/api/entities#entity-length). Should the limit be counted in code
 * points instead, our count is never smaller, so a part still never exceeds it. The cutting rules
 * are the shared ones of functions/channels/text.ts `splitText`.
 */
export function splitTelegramText(text: string, max: number = TELEGRAM_MAX_TEXT): TextPart[] {
  if (max < 2) throw new RangeError('telegram: a part must hold at least 2 code units');
  return splitText(text, { max, unit: 'utf16' });
}

const DeliveryBody = z.looseObject({
  ok: z.boolean(),
  result: z.looseObject({ message_id: Int, chat: z.looseObject({ id: Int }) }).optional(),
  parameters: z.looseObject({ retry_after: z.number().nonnegative().optional() }).optional(),
});

function deliveryBody(body: string): z.infer<typeof DeliveryBody> | undefined {
  try {
    const parsed = DeliveryBody.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const GetFileAnswer = z.object({ ok: z.literal(true), result: z.object({ file_path: z.string().min(1).max(1024), file_size: z.number().int().nonnegative().optional() }) });

/** The `result` of a getFile answer, when it names a file path. */
function telegramFile(body: string): { file_path: string; file_size?: number } | undefined {
  try {
    const r = GetFileAnswer.safeParse(JSON.parse(body));
    return r.success && !r.data.result.file_path.split('/').includes('..') ? r.data.result : undefined;
  } catch {
    return undefined;
  }
}

export const telegram = defineChannel({
  ...telegramIngress,
  outboundSecrets: ['TELEGRAM_BOT_TOKEN'],
  mediaSecrets: ['TELEGRAM_BOT_TOKEN'],
  // messageIdOnce: `message_id` is unique inside its chat (https://core.telegram.org/bots/api#message),
  // a redelivered update repeats it, and a callback query's id is its own: `<chat>:<message_id>`
  // and `callback:<id>` name one event each (edits are `edit: true`, keyed by their update).
  capabilities: { ...telegramIngress.capabilities, replyWindowSeconds: null, buttons: true, textLimit: TELEGRAM_TEXT_LIMIT, messageIdOnce: true, media: TELEGRAM_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    // The queue only holds requests admit() accepted, so this cannot fail on a real envelope.
    const update = TelegramUpdate.parse(JSON.parse(envelopeBody(envelope).toString('utf8')));
    if (update.message) return [messageEvent(update, update.message, false)];
    if (update.edited_message) return [messageEvent(update, update.edited_message, true)];
    if (update.callback_query) return [callbackEvent(update, update.callback_query, envelope.received_at)];
    if (update.my_chat_member) return [chatMemberEvent(update, update.my_chat_member)];
    const branch = otherBranch(update);
    // Branch names are Telegram's field names (channel_post, message_reaction, …): no personal data.
    const reason = branch && /^[a-z_]{1,60}$/.test(branch) ? `unsupported update: ${branch}` : 'unsupported update';
    return [{ kind: 'ignored', channel: CHANNEL, reason, dedup_key: `update_id:${update.update_id}` }];
  },

  /**
   * One sendMessage per part of the text (`splitTelegramText`); survey buttons go on the last
   * part, so the press names that message and the delivery id (the last part's) matches it.
   */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    // Without a token the URL keeps a visible placeholder: the local outbox shows it and the
    // sender refuses to perform such a request.
    const token = ctx.secrets.TELEGRAM_BOT_TOKEN || '<TELEGRAM_BOT_TOKEN>';
    let keyboard: Record<string, unknown> | undefined;
    if (msg.buttons && msg.buttons.length > 0) {
      for (const b of msg.buttons) {
        if (Buffer.byteLength(b.payload, 'utf8') > TELEGRAM_MAX_CALLBACK_DATA_BYTES) {
          throw new Error(`telegram: button payload exceeds ${TELEGRAM_MAX_CALLBACK_DATA_BYTES} bytes of callback_data`);
        }
      }
      // Rows of at most 8 buttons (Telegram's limit per row), balanced: CSAT 1–5 is one row, NPS
      // 0–10 two (6 + 5). The press comes back as a callback_query whose `data` is the payload.
      const cells = msg.buttons.map((b) => ({ text: b.label, callback_data: b.payload }));
      const perRow = Math.ceil(cells.length / Math.ceil(cells.length / TELEGRAM_MAX_BUTTONS_PER_ROW));
      const rows: Array<typeof cells> = [];
      for (let i = 0; i < cells.length; i += perRow) rows.push(cells.slice(i, i + perRow));
      keyboard = { inline_keyboard: rows };
    }
    const files = msg.attachments ?? [];
    const parts = msg.text === '' && files.length > 0 ? [] : splitTelegramText(msg.text);
    const chatId = chatIdOf(msg.conversation_id);
    const texts: PlatformRequest[] = parts.map((part, i) => {
      const body: Record<string, unknown> = { chat_id: chatId, text: part.text };
      if (keyboard && i === parts.length - 1) body.reply_markup = keyboard;
      return {
        method: 'POST',
        url: `https://api.telegram.org/bot${token}/sendMessage`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      };
    });
    // Each file after the text, as its own message: a photo by URL (sendPhoto), anything else
    // uploaded (sendDocument, multipart) with its name.
    const media = files.map((f): PlatformRequest => f.as === 'image'
      ? { method: 'POST', url: `https://api.telegram.org/bot${token}/sendPhoto`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: chatId, photo: f.url }) }
      : {
          method: 'POST', url: `https://api.telegram.org/bot${token}/sendDocument`, headers: {}, body: null,
          form: [{ name: 'chat_id', value: String(chatId) }, { name: 'document', file_name: safeFileName(f.file_name), content_type: f.content_type, data_b64: requireBytes(f.data_b64) }],
        });
    return [...texts, ...media];
  },

  /**
   * answerCallbackQuery (https://core.telegram.org/bots/api#answercallbackquery): "the answer
   * will be displayed to the user as a notification at the top of the chat screen or as an
   * alert"; without `text` it only ends the button's progress indicator. Queries expire within
   * seconds to minutes ("query is too old"), so the sender tries once.
   */
  answerInteraction(ref: InteractionRef, ctx: RenderContext): PlatformRequest | null {
    const id = ref.callback_query_id;
    if (id === undefined || id === '') return null;
    const token = ctx.secrets.TELEGRAM_BOT_TOKEN || '<TELEGRAM_BOT_TOKEN>';
    return {
      method: 'POST',
      url: `https://api.telegram.org/bot${token}/answerCallbackQuery`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callback_query_id: id }),
    };
  },

  /**
   * getFile (https://core.telegram.org/bots/api#getfile) answers `file_path`, valid for at least an
   * hour; the bytes are at `https://api.telegram.org/file/bot<token>/<file_path>`. Bots can
   * download files up to 20 MB (functions/domain/media.ts PLATFORM_MAX_BYTES).
   */
  mediaFetch(attachment: Attachment, _index: number, ctx: RenderContext): MediaFetch | null {
    const fileId = attachment.platform_ref;
    if (!fileId || attachment.type === 'location' || attachment.type === 'other') return null;
    const token = ctx.secrets.TELEGRAM_BOT_TOKEN || '<TELEGRAM_BOT_TOKEN>';
    return {
      kind: 'lookup',
      request: { method: 'GET', url: `https://api.telegram.org/bot${token}/getFile?file_id=${encodeURIComponent(fileId)}`, headers: {}, body: null },
      next(res) {
        const file = telegramFile(res.body);
        if (!file) return { kind: 'unavailable', status: 'failed', reason: 'getFile answered no file_path' };
        return {
          kind: 'download',
          request: { method: 'GET', url: `https://api.telegram.org/file/bot${token}/${file.file_path.split('/').map(encodeURIComponent).join('/')}`, headers: {}, body: null },
          ...(file.file_size !== undefined ? { declaredSize: file.file_size } : {}),
        };
      },
    };
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    const body = deliveryBody(res.body);
    if (res.status === 200) {
      const r = body?.ok ? body.result : undefined;
      return r ? { ok: true, external_message_id: `${r.chat.id}:${r.message_id}` } : { ok: true };
    }
    if (res.status === 429) {
      // Flood control: about one message per second per chat; the wait is in
      // `parameters.retry_after` (https://core.telegram.org/bots/api#responseparameters,
      // https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
      const header = Number(res.headers['retry-after']);
      const after = body?.parameters?.retry_after ?? (Number.isFinite(header) && header >= 0 ? header : undefined);
      return compact({ ok: false as const, retryable: true, retry_after_s: after, error_code: '429' });
    }
    if (res.status >= 500) return { ok: false, retryable: true, error_code: String(res.status) };
    // 403 "Forbidden: bot was blocked by the user" (or the user deactivated their account).
    if (res.status === 403) return { ok: false, retryable: false, unreachable: true, error_code: 'blocked' };
    return { ok: false, retryable: false, error_code: String(res.status) };
  },
});
