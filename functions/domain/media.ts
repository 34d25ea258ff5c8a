/**
 * Attachment bytes (issue 14): where they live in the media bucket and how much of them is kept.
 *
 * Key layout (one bucket, lib/media.ts; lifecycle expiry of `mediaRetentionDays` on everything):
 *
 * - `tickets/{ticket_id}/messages/{message_id}/{n}` — inbound attachment `n` (0-based index in the
 *   message's `attachments`) of a customer's message, stored by the media function. The ticket is
 *   the one the message was first stored under (a later merge or split moves the entry, not the
 *   object; the entry's `media.key` is the authority).
 * - `inbound-mail/{sha256(dedup_key)}.eml` — the raw MIME of an e-mail with attachments, kept by
 *   the process function before the queue message holding it is deleted; the media function cuts
 *   the parts out of it. Expires after `INBOUND_MAIL_DAYS` (lifecycle rule on the prefix) and is
 *   deleted by a GDPR erase.
 * - `uploads/agents/{agent_id}/{upload_id}` — files an agent uploads (presigned POST) to send.
 * - `uploads/webchat/{session_id}/{upload_id}` — files a web-chat visitor uploads; the visitor's
 *   token can only sign POSTs under its own session's prefix.
 *
 * Keys hold ids only (ULIDs, hashes, indexes), never names, phones or file names: a key shows up
 * in access logs and errors.
 */
import { createHash } from 'node:crypto';
import type { Channel } from './inbound.js';

export const MB = 1024 * 1024;

/**
 * Receives of a media job before its queue dead-letters it (lib/inbound-media.ts); on the last
 * one the media function records what still fails as `failed` instead, so only a defect of ours
 * ever reaches the DLQ — never a platform's trouble or an oversized file.
 */
export const MEDIA_MAX_RECEIVES = 5;

/** Days the raw MIME of an inbound e-mail is kept for the media function. */
export const INBOUND_MAIL_DAYS = 7;
export const INBOUND_MAIL_PREFIX = 'inbound-mail/';

export const mediaKeys = {
  inbound: (ticketId: string, messageId: string, n: number) => `tickets/${ticketId}/messages/${messageId}/${n}`,
  inboundMail: (dedupKey: string) => `${INBOUND_MAIL_PREFIX}${createHash('sha256').update(dedupKey).digest('hex')}.eml`,
  agentUploadPrefix: (agentId: string) => `uploads/agents/${safeSegment(agentId)}/`,
  webchatUploadPrefix: (sessionId: string) => `uploads/webchat/${safeSegment(sessionId)}/`,
} as const;

/** A key segment from an id: kept when it is a plain id, hashed otherwise (never a raw claim in a key). */
function safeSegment(id: string): string {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 40);
}

/**
 * Hard platform ceilings on what a bot may download, whatever the settings say: Telegram's Bot
 * API serves files up to 20 MB through getFile (https://core.telegram.org/bots/api#getfile).
 */
export const PLATFORM_MAX_BYTES: Readonly<Partial<Record<Channel, number>>> = {
  telegram: 20 * MB,
};

export interface MediaLimits {
  /** Per attachment, by channel. */
  readonly perAttachment: (channel: Channel) => number;
  /** All attachments of one message together. */
  readonly perMessage: number;
}

/** Limits from the settings (`CONFLUO_MEDIA_MAX_MB`, `CONFLUO_MEDIA_CHANNEL_MAX_MB`, `CONFLUO_MEDIA_MESSAGE_MAX_MB`). */
export function mediaLimitsFrom(settings: { readonly CONFLUO_MEDIA_MAX_MB?: string | undefined; readonly CONFLUO_MEDIA_CHANNEL_MAX_MB?: string | undefined; readonly CONFLUO_MEDIA_MESSAGE_MAX_MB?: string | undefined }): MediaLimits {
  const general = Number(settings.CONFLUO_MEDIA_MAX_MB ?? '25') * MB;
  const perChannel = new Map<string, number>();
  for (const pair of (settings.CONFLUO_MEDIA_CHANNEL_MAX_MB ?? '').split(',')) {
    const [name, mb] = pair.split('=').map((s) => s.trim());
    if (name && mb && /^\d+$/.test(mb)) perChannel.set(name, Number(mb) * MB);
  }
  return {
    perAttachment: (channel) => Math.min(perChannel.get(channel) ?? general, PLATFORM_MAX_BYTES[channel] ?? Number.POSITIVE_INFINITY),
    perMessage: Number(settings.CONFLUO_MEDIA_MESSAGE_MAX_MB ?? '50') * MB,
  };
}

/** A size for people: `1.5 MB`, `820 KB`, `12 B`. */
export function humanSize(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes >= 10 * MB ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
