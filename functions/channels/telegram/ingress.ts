/**
 * Telegram's verify side (channels.md §1): what the ingest function imports — the secret-token
 * check, the Update shape (`zod/mini`: the same schema the parser in ./index.ts reads with, so
 * parse cannot fail on an update admit accepted) and the FIFO conversation key.
 *
 * @module
 */
import * as z from 'zod/mini';
import { defineIngress, invalid, unauthorized, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { isRecord, parseJsonBody, safeEqual } from '../common.js';

const CHANNEL = 'telegram';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

// ---------------------------------------------------------------------------------------------
// Update shape (https://core.telegram.org/bots/api#update). Validated loosely: only the fields we
// read are typed, unknown fields pass through, because Telegram adds fields in every Bot API
// release and a 400 would make it drop real updates after its retries.
// ---------------------------------------------------------------------------------------------

// z.int() only accepts safe integers; Telegram ids fit in 52 bits
// (https://core.telegram.org/bots/api#chat: "at most 52 significant bits").
export const Int = z.int();
const NonNegativeInt = z.int().check(z.nonnegative());
const optionalString = z.optional(z.string());

export const User = z.looseObject({
  id: Int,
  is_bot: z.optional(z.boolean()),
  first_name: optionalString,
  last_name: optionalString,
  username: optionalString,
  language_code: optionalString,
});

const Chat = z.looseObject({ id: Int, type: z.string() });

const FileBase = {
  file_id: z.string(),
  file_unique_id: optionalString,
  file_size: z.optional(NonNegativeInt),
};
const PhotoSize = z.looseObject({ ...FileBase, width: Int, height: Int });
export const Media = z.looseObject({
  ...FileBase,
  file_name: optionalString,
  mime_type: optionalString,
  width: z.optional(Int),
  height: z.optional(Int),
});
const Location = z.looseObject({ latitude: z.number(), longitude: z.number() });
const Contact = z.looseObject({
  phone_number: z.string(),
  first_name: optionalString,
  last_name: optionalString,
  user_id: z.optional(Int),
});
const InlineKeyboardMarkup = z.looseObject({
  inline_keyboard: z.array(z.array(z.looseObject({ text: z.string(), callback_data: optionalString }))),
});

export const Message = z.looseObject({
  message_id: Int,
  date: NonNegativeInt,
  chat: Chat,
  from: z.optional(User),
  edit_date: z.optional(NonNegativeInt),
  text: optionalString,
  caption: optionalString,
  reply_to_message: z.optional(z.looseObject({ message_id: Int })),
  photo: z.optional(z.array(PhotoSize)),
  document: z.optional(Media),
  video: z.optional(Media),
  video_note: z.optional(Media),
  animation: z.optional(Media),
  voice: z.optional(Media),
  audio: z.optional(Media),
  sticker: z.optional(Media),
  location: z.optional(Location),
  venue: z.optional(z.looseObject({ location: Location })),
  contact: z.optional(Contact),
  // Only on messages the bot sent; read to find the label of a pressed button.
  reply_markup: z.optional(InlineKeyboardMarkup),
});
export type Message = z.infer<typeof Message>;

// callback_query.message is a MaybeInaccessibleMessage: `date: 0` and no content when the message
// is older than 48 h (https://core.telegram.org/bots/api#inaccessiblemessage).
export const CallbackQuery = z.looseObject({
  id: z.string(),
  from: User,
  message: z.optional(Message),
  data: optionalString,
});

export const ChatMemberUpdated = z.looseObject({
  chat: Chat,
  from: User,
  date: NonNegativeInt,
  new_chat_member: z.looseObject({ status: z.string() }),
});

export const TelegramUpdate = z.looseObject({
  update_id: NonNegativeInt,
  message: z.optional(Message),
  edited_message: z.optional(Message),
  callback_query: z.optional(CallbackQuery),
  my_chat_member: z.optional(ChatMemberUpdated),
});
export type TelegramUpdate = z.infer<typeof TelegramUpdate>;

/** The first object-valued branch of an update (channel_post, message_reaction, …), by name. */
export function otherBranch(update: Record<string, unknown>): string | undefined {
  return Object.keys(update).find((k) => k !== 'update_id' && isRecord(update[k]));
}

/** FIFO conversation key: the chat of any branch, else the user, else none. */
function conversationKeyOf(update: Record<string, unknown>): string | null {
  for (const [k, v] of Object.entries(update)) {
    if (k === 'update_id' || !isRecord(v)) continue;
    const chat = isRecord(v.chat) ? v.chat : isRecord(v.message) && isRecord(v.message.chat) ? v.message.chat : undefined;
    if (chat && typeof chat.id === 'number') return String(chat.id);
    if (isRecord(v.from) && typeof v.from.id === 'number') return String(v.from.id);
  }
  return null;
}

export const telegramIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['TELEGRAM_SECRET_TOKEN'],
  capabilities: { maxBodyBytes: 262_144 },

  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    const expected = secrets.TELEGRAM_SECRET_TOKEN;
    const given = req.headers[SECRET_HEADER];
    if (expected === undefined || expected === '') throw unauthorized(CHANNEL, 'authenticity', 'inbound secret not configured');
    if (given === undefined) throw unauthorized(CHANNEL, 'authenticity', 'secret token header missing');
    if (!safeEqual(given, expected)) throw unauthorized(CHANNEL, 'authenticity', 'secret token mismatch');

    const json = parseJsonBody(CHANNEL, req.body);
    const parsed = TelegramUpdate.safeParse(json);
    if (!parsed.success) {
      // Paths only (e.g. "message.chat.id"), never values.
      const where = parsed.error.issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
      throw invalid(CHANNEL, 'validate', `unexpected shape at ${where}`);
    }
    return {
      kind: 'accepted',
      conversationKey: conversationKeyOf(parsed.data),
      // Empty body: a JSON body with `method` would be executed as a Bot API call
      // (https://core.telegram.org/bots/api#making-requests-when-getting-updates).
      reply: { status: 200 },
    };
  },
});
