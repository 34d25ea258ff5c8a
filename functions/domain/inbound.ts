/**
 * The normalised shapes every channel adapter produces (channels.md §0.5–§0.7, §0.11).
 * The zod schemas are the contract: the channel contract test validates every sample's
 * parse result against them, so an adapter cannot drift from the shared shape.
 */
import { z } from 'zod';

export const CHANNELS = [
  'telegram', 'whatsapp', 'messenger', 'instagram', 'vk', 'viber', 'twilio', 'email', 'webchat',
  // Phone calls through Amazon Connect (issue 16): not a webhook channel — no adapter in the
  // channel registry, no `/webhooks/voice`; calls come from the Connect lookup and contact events
  // (functions/domain/voice.ts), and replies are calls the agent makes.
  'voice',
] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

/**
 * What became of an attachment's bytes (issue 14; functions/domain/media.ts): set by the process
 * function (`pending`) and the media function, never by an adapter. `size`, `content_type` and
 * `sha256` are measured on the stored bytes — the content type detected from their magic bytes,
 * never the sender's claim (the attachment's own `mime_type`/`size` are the platform's claims).
 */
export const MEDIA_STATUSES = ['pending', 'stored', 'too_large', 'gone', 'failed'] as const;
export const StoredMedia = z.strictObject({
  status: z.enum(MEDIA_STATUSES),
  /** Object key in the media bucket (stored only). */
  key: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  content_type: z.string().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** Why it is not stored, in words (too_large, gone, failed). */
  reason: z.string().optional(),
  /** Epoch ms of the last change. */
  at: z.number().int().optional(),
});
export type StoredMedia = z.infer<typeof StoredMedia>;

export const Attachment = z.strictObject({
  type: z.enum(['image', 'video', 'audio', 'document', 'sticker', 'location', 'other']),
  platform_ref: z.string().optional(),
  url: z.string().optional(),
  mime_type: z.string().optional(),
  file_name: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  file_unique_id: z.string().optional(),
  sha256: z.string().optional(),
  thumbnail_url: z.string().optional(),
  latitude: z.number().optional(),
  longitude: z.number().optional(),
  media: StoredMedia.optional(),
});
export type Attachment = z.infer<typeof Attachment>;

export const IdentityFields = z.strictObject({
  external_id: z.string().min(1),
  display_name: z.string().optional(),
  username: z.string().optional(),
  language: z.string().optional(),
  country: z.string().length(2).optional(),
  phone: z.string().regex(/^\+\d{4,15}$/).optional(),
  phone_verified: z.boolean().optional(),
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
  bsuid: z.string().optional(),
  site_user_id: z.string().optional(),
  avatar_url: z.string().optional(),
});
export const Identity = IdentityFields.refine((i) => (i.phone === undefined) === (i.phone_verified === undefined), {
  message: 'phone_verified is present exactly when phone is',
}).refine((i) => (i.email === undefined) === (i.email_verified === undefined), {
  message: 'email_verified is present exactly when email is',
});
export type Identity = z.infer<typeof Identity>;

export const StatusUpdate = z.strictObject({
  external_message_id: z.string().min(1),
  status: z.string().min(1),
  at: z.number().int().optional(),
  error_code: z.union([z.number(), z.string()]).optional(),
});
export type StatusUpdate = z.infer<typeof StatusUpdate>;

const unixSeconds = z.number().int().nonnegative();

// Loose: channel extras named in each channels.md section (business_account, sub_channel, subject,
// rfc_message_id, thread, page, …) sit at the top level beside the common fields.
export const InboundMessage = z.looseObject({
  kind: z.literal('message'),
  channel: Channel,
  dedup_key: z.string().min(1),
  external_message_id: z.string().min(1),
  conversation_id: z.string().min(1),
  sent_at: unixSeconds,
  sent_at_ms: z.number().int().nonnegative().optional(),
  edit: z.boolean(),
  edited_at: unixSeconds.optional(),
  text: z.string(),
  attachments: z.array(Attachment),
  interaction: z.strictObject({ payload: z.string() }).nullable(),
  in_reply_to: z.string().optional(),
  customer_identity: Identity,
  contact: z.strictObject({ phone: z.string(), owner_is_sender: z.boolean(), name: z.string().optional() }).optional(),
  phone_in_text: z.strictObject({ value: z.string(), verified: z.literal(false) }).optional(),
  /**
   * What the adapter needs to answer this interaction later (`ChannelAdapter.answerInteraction`):
   * platform ids only, e.g. Telegram `{callback_query_id}`. Stored in the entry's extras (erased
   * with them), never in feed events.
   */
  interaction_ref: z.record(z.string(), z.string()).optional(),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

/**
 * A receipt that names no message but a time (Messenger `read.watermark`, `delivery` without
 * `mids`, channels.md §3): our messages to `conversation_id` sent at or before `at_ms` get `status`.
 */
export const WatermarkUpdate = z.strictObject({
  conversation_id: z.string().min(1),
  status: z.string().min(1),
  at_ms: z.number().int().nonnegative(),
});
export type WatermarkUpdate = z.infer<typeof WatermarkUpdate>;

export const IgnoredEvent = z.strictObject({
  kind: z.literal('ignored'),
  channel: Channel,
  reason: z.string().min(1).max(80),
  dedup_key: z.string().optional(),
  status_updates: z.array(StatusUpdate).optional(),
  watermarks: z.array(WatermarkUpdate).optional(),
  customer_identity: Identity.optional(),
  reachability: z.enum(['reachable', 'unreachable']).optional(),
});
export type IgnoredEvent = z.infer<typeof IgnoredEvent>;

/**
 * The reason code of an ignored event, for logs and metric dimensions: the adapter's reason up to
 * its first `:` (`field: statuses_x` → `field`), lower-case, non-alphanumerics as `_`, at most 40
 * characters — a bounded set per channel, never a value from the payload.
 */
export function ignoredReasonCode(reason: string): string {
  const code = (reason.split(':')[0] ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return code === '' ? 'unspecified' : code;
}

/** Whether an ignored event's reason says the payload was malformed (alarmed, unlike echoes or receipts). */
export function isMalformedReason(code: string): boolean {
  return code.startsWith('malformed');
}

/** A platform-level verification step the process handler performs (e.g. SNS subscription). */
export const VerificationEvent = z.strictObject({
  kind: z.literal('verification'),
  channel: Channel,
  dedup_key: z.string().min(1),
  confirm: z.strictObject({ method: z.literal('GET'), url: z.string().url() }),
});
export type VerificationEvent = z.infer<typeof VerificationEvent>;

export const NormalisedEvent = z.discriminatedUnion('kind', [InboundMessage, IgnoredEvent, VerificationEvent]);
export type NormalisedEvent = z.infer<typeof NormalisedEvent>;
