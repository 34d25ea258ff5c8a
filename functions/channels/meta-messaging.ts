/**
 * The `entry[].messaging[]` webhook items shared by Messenger and Instagram Messaging
 * (channels.md §3, §4): one POST batches entries, each entry batches items, kinds mix. Every item
 * becomes exactly one normalised event — a message, or an ignored event (echoes, receipts,
 * reactions, referrals, opt-ins, handover, standby) — so one request gives many events.
 *
 * Lenient on purpose: only `object` and `entry` are required at ingest (a 400 makes Meta retry
 * for hours and then disable the subscription), so an item we cannot use becomes an ignored event
 * with a short reason instead of a failure.
 *
 * Item reference: https://developers.facebook.com/docs/messenger-platform/webhooks#event-notifications,
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events,
 * https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook
 *
 * @module
 */
import type { Attachment, IgnoredEvent, InboundMessage, NormalisedEvent, StatusUpdate, WatermarkUpdate } from '../domain/inbound.js';
import type { DeliveryState } from './channel.js';
import { isRecord } from './common.js';
import { MB, type MediaCapability, type OutboundMedia } from './media.js';
import { compact, idString, intOf, messagingCustomerOf, metaWord, str, truncate, type MetaNotification } from './meta.js';
import { phoneInText } from './phone.js';

/**
 * Quick replies (Messenger and Instagram alike): at most 13, titles up to 20 characters, payload
 * up to 1000 characters (https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies).
 */
export const MAX_QUICK_REPLIES = 13;
export const QUICK_REPLY_TITLE_MAX = 20;
export const QUICK_REPLY_PAYLOAD_MAX = 1000;

/**
 * Messenger attachments (https://developers.facebook.com/docs/messenger-platform/send-messages/saving-assets#supported-asset-types):
 * "up to 25 MB in size", an image "8 MB max for URL uploads"; audio needs an `audio/*`
 * Content-Type, which the presigned URL answers with the stored type. Meta fetches the URL while
 * it takes the request (a video within 75 seconds): an hour is ample.
 */
export const MESSENGER_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 8 * MB, via: 'url' },
    { as: 'video', contentTypes: ['video/mp4', 'video/quicktime', 'video/webm'], maxBytes: 25 * MB, via: 'url' },
    { as: 'audio', contentTypes: ['audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/aac', 'audio/wav', 'audio/ogg'], maxBytes: 25 * MB, via: 'url' },
    { as: 'document', contentTypes: 'any', maxBytes: 25 * MB, via: 'url' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://developers.facebook.com/docs/messenger-platform/send-messages/saving-assets#supported-asset-types',
};

/**
 * Instagram attachments (https://developers.facebook.com/docs/messenger-platform/instagram/features/attachment-upload):
 * audio AAC/M4A/WAV/MP4 25 MB, image PNG/JPEG/GIF 8 MB, video MP4/OGG/AVI/MOV/WEBM 25 MB, file PDF 25 MB.
 */
export const INSTAGRAM_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/png', 'image/jpeg', 'image/gif'], maxBytes: 8 * MB, via: 'url' },
    { as: 'video', contentTypes: ['video/mp4', 'video/ogg', 'video/x-msvideo', 'video/quicktime', 'video/webm'], maxBytes: 25 * MB, via: 'url' },
    { as: 'audio', contentTypes: ['audio/aac', 'audio/x-m4a', 'audio/wav', 'audio/mp4'], maxBytes: 25 * MB, via: 'url' },
    { as: 'document', contentTypes: ['application/pdf'], maxBytes: 25 * MB, via: 'url' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'https://developers.facebook.com/docs/messenger-platform/instagram/features/attachment-upload',
};

/**
 * Send API attachment messages, one per file (a message carries text or one attachment, never
 * both): `{ attachment: { type, payload: { url } } }`, Meta fetching the URL
 * (https://developers.facebook.com/docs/messenger-platform/send-messages#sending_attachments).
 */
export function attachmentMessages(files: readonly OutboundMedia[]): Array<Record<string, unknown>> {
  return files.map((f) => ({ attachment: { type: f.as === 'document' ? 'file' : f.as, payload: { url: f.url, is_reusable: false } } }));
}

/**
 * Send API `quick_replies` for a survey's buttons. Titles are cut to 20 characters (the label the
 * customer then sends back as `text`); the payload is ours and must fit whole.
 */
export function quickRepliesOf(channel: string, buttons: ReadonlyArray<{ label: string; payload: string }>): Array<{ content_type: 'text'; title: string; payload: string }> {
  return buttons.map((b) => {
    if (b.payload.length === 0 || b.payload.length > QUICK_REPLY_PAYLOAD_MAX) throw new Error(`${channel}: quick reply payload must be 1-${QUICK_REPLY_PAYLOAD_MAX} characters`);
    return { content_type: 'text' as const, title: truncate(b.label, QUICK_REPLY_TITLE_MAX), payload: b.payload };
  });
}

export interface MessagingProfile {
  readonly channel: 'messenger' | 'instagram';
  /** The `object` of this channel's webhooks (`page`, `instagram`); any other → ignored. */
  readonly object: string;
  /** Messenger's chat plugin: guests carry only `sender.user_ref` (§3). */
  readonly userRef: boolean;
  /** Attachment `type` for the platform's attachment type and payload. */
  attachmentType(type: string, payload: Record<string, unknown>): Attachment['type'];
}

/** Keys an item has besides its kind. */
const ITEM_FRAME = new Set(['sender', 'recipient', 'timestamp']);

/** Ignored item kinds with a fixed reason (no personal data). */
const IGNORED_KINDS: Readonly<Record<string, string>> = {
  reaction: 'reaction',
  referral: 'referral',
  optin: 'opt-in',
  pass_thread_control: 'handover',
  take_thread_control: 'handover',
  request_thread_control: 'handover',
  app_roles: 'handover',
  account_linking: 'account linking',
  policy_enforcement: 'policy enforcement',
  game_play: 'game play',
};

/** Delivery state for Messenger/Instagram receipt words (§0.11). */
export function messagingDeliveryFor(update: StatusUpdate): DeliveryState | null {
  if (update.status === 'delivery' || update.status === 'delivered') return 'delivered';
  if (update.status === 'read') return 'read';
  return null;
}

/** The customer an item is about (functions/channels/meta.ts, shared with the verify side). */
function customerOf(p: Pick<MessagingProfile, 'userRef'>, item: Record<string, unknown>): string | undefined {
  return messagingCustomerOf(p.userRef, item);
}

/** Every event of one notification, in order: entries, then their items. */
export function parseMessaging(p: MessagingProfile, n: MetaNotification, receivedAtMs: number): NormalisedEvent[] {
  const ignored = (reason: string, extra: Partial<IgnoredEvent> = {}): IgnoredEvent => ({ kind: 'ignored', channel: p.channel, reason, ...extra });
  if (n.object !== p.object) return [ignored(`object is not ${p.object}`)];
  const events: NormalisedEvent[] = [];
  for (const entry of n.entry) {
    if (!isRecord(entry)) {
      events.push(ignored('malformed entry'));
      continue;
    }
    const pageId = idString(entry.id);
    const before = events.length;
    if (Array.isArray(entry.messaging)) for (const item of entry.messaging) events.push(itemEvent(p, item, pageId, receivedAtMs));
    // Another app holds the thread (handover protocol): we only watch.
    if (Array.isArray(entry.standby)) for (const _ of entry.standby) events.push(ignored('standby'));
    // Instagram comments, mentions and other non-messaging fields arrive as `changes`.
    if (Array.isArray(entry.changes)) {
      for (const change of entry.changes) {
        const field = isRecord(change) ? metaWord(change.field) : undefined;
        events.push(ignored(field ? `field: ${field}` : 'unsupported change'));
      }
    }
    if (events.length === before) events.push(ignored('empty entry'));
  }
  return events;
}

function itemEvent(p: MessagingProfile, raw: unknown, pageId: string | undefined, receivedAtMs: number): NormalisedEvent {
  const ignored = (reason: string, extra: Partial<IgnoredEvent> = {}): IgnoredEvent => compact({ kind: 'ignored' as const, channel: p.channel, reason, ...extra });
  if (!isRecord(raw)) return ignored('malformed item');
  const item = raw;
  const timestampMs = intOf(item.timestamp) ?? receivedAtMs;
  const at = Math.floor(timestampMs / 1000);
  const senderId = isRecord(item.sender) ? idString(item.sender.id) : undefined;
  const fromPage = senderId !== undefined && senderId === pageId;
  const customer = customerOf(p, item);

  if (isRecord(item.message)) {
    // Our own outbound messages come back as echoes (Instagram even without subscribing to
    // message_echoes); the Page / professional account is never a customer.
    if (item.message.is_echo === true || fromPage) return ignored('echo');
    return messageEvent(p, item.message, customer, pageId, timestampMs) ?? ignored(messageIgnoreReason(item.message, customer));
  }
  if (fromPage) return ignored('echo');
  if (isRecord(item.message_edit)) {
    const e = item.message_edit;
    const mid = idString(e.mid);
    const num = intOf(e.num_edit);
    if (mid === undefined || num === undefined || customer === undefined) return ignored('malformed edit');
    const text = str(e.text) ?? '';
    return message(p, {
      dedup_key: `${mid}#edit${num}`, external_message_id: mid, customer, pageId, timestampMs,
      edit: true, edited_at: at, text, attachments: [], interaction: null,
    });
  }
  if (isRecord(item.postback)) {
    const pb = item.postback;
    const payload = str(pb.payload);
    if (payload === undefined || customer === undefined) return ignored('malformed postback');
    // Postbacks of older clients carry no mid: the documented fallback id (§3).
    const id = idString(pb.mid) ?? `postback:${customer}:${timestampMs}`;
    return message(p, {
      dedup_key: id, external_message_id: id, customer, pageId, timestampMs,
      edit: false, text: str(pb.title) ?? '', attachments: [], interaction: { payload },
    });
  }
  if (isRecord(item.delivery)) return receipt(p, 'delivery receipt', 'delivery', item.delivery, customer, at);
  if (isRecord(item.read)) return receipt(p, 'read receipt', 'read', item.read, customer, at);

  const kind = Object.keys(item).find((k) => !ITEM_FRAME.has(k) && isRecord(item[k]));
  if (kind !== undefined && IGNORED_KINDS[kind] !== undefined) return ignored(IGNORED_KINDS[kind]!);
  const word = metaWord(kind);
  return ignored(word ? `unsupported item: ${word}` : 'unsupported item');
}

/**
 * Receipts: `delivery {mids, watermark}` (Messenger) and `read {watermark}` (Messenger) or
 * `read {mid}` (Instagram). Named messages become status updates; a bare watermark becomes a
 * watermark update the process step applies to our messages sent at or before it.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries,
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
 */
function receipt(p: MessagingProfile, reason: string, status: 'delivery' | 'read', r: Record<string, unknown>, customer: string | undefined, at: number): IgnoredEvent {
  const mids = [...(Array.isArray(r.mids) ? r.mids : []), r.mid].map(idString).filter((m): m is string => m !== undefined);
  const status_updates: StatusUpdate[] = mids.map((m) => ({ external_message_id: m, status, at }));
  const watermark = intOf(r.watermark);
  const watermarks: WatermarkUpdate[] = mids.length === 0 && watermark !== undefined && customer !== undefined ? [{ conversation_id: customer, status, at_ms: watermark }] : [];
  return compact({
    kind: 'ignored' as const,
    channel: p.channel,
    reason,
    status_updates: status_updates.length ? status_updates : undefined,
    watermarks: watermarks.length ? watermarks : undefined,
  });
}

function messageIgnoreReason(m: Record<string, unknown>, customer: string | undefined): string {
  if (m.is_deleted === true) return 'deleted message';
  if (m.is_unsupported === true) return 'unsupported message';
  if (customer === undefined) return 'no sender';
  if (idString(m.mid) === undefined) return 'message without mid';
  return 'empty message';
}

function messageEvent(p: MessagingProfile, m: Record<string, unknown>, customer: string | undefined, pageId: string | undefined, timestampMs: number): InboundMessage | undefined {
  const mid = idString(m.mid);
  // Instagram: an unsent message (MAY later withdraw the stored one) and content the API cannot show.
  if (mid === undefined || customer === undefined || m.is_deleted === true || m.is_unsupported === true) return undefined;
  const text = str(m.text) ?? '';
  const attachments = (Array.isArray(m.attachments) ? m.attachments : []).filter(isRecord).map((a) => attachmentOf(p, a));
  const payload = isRecord(m.quick_reply) ? str(m.quick_reply.payload) : undefined;
  if (text === '' && attachments.length === 0 && payload === undefined) return undefined;
  const replyTo = isRecord(m.reply_to) ? idString(m.reply_to.mid) : undefined;
  return message(p, {
    dedup_key: mid, external_message_id: mid, customer, pageId, timestampMs, edit: false,
    // A quick reply: `text` is the chip's title, `payload` what we attached to it.
    text, attachments, interaction: payload !== undefined ? { payload } : null, in_reply_to: replyTo,
  });
}

function attachmentOf(p: MessagingProfile, a: Record<string, unknown>): Attachment {
  const payload = isRecord(a.payload) ? a.payload : {};
  const type = p.attachmentType(str(a.type) ?? '', payload);
  if (type === 'location' && isRecord(payload.coordinates)) {
    const { lat, long } = payload.coordinates;
    if (typeof lat === 'number' && typeof long === 'number') return { type, latitude: lat, longitude: long };
  }
  // `payload.url` is a temporary CDN URL: the content is fetched by the process/sender, never here.
  const url = str(payload.url);
  return compact({ type, url: url !== undefined && url.length <= 4096 ? url : undefined });
}

function message(p: MessagingProfile, m: {
  dedup_key: string; external_message_id: string; customer: string; pageId: string | undefined; timestampMs: number;
  edit: boolean; edited_at?: number; text: string; attachments: Attachment[]; interaction: { payload: string } | null; in_reply_to?: string | undefined;
}): InboundMessage {
  return compact({
    kind: 'message' as const,
    channel: p.channel,
    dedup_key: m.dedup_key,
    external_message_id: m.external_message_id,
    conversation_id: m.customer,
    sent_at: Math.floor(m.timestampMs / 1000),
    sent_at_ms: m.timestampMs,
    edit: m.edit,
    edited_at: m.edited_at,
    text: m.text,
    attachments: m.attachments,
    interaction: m.interaction,
    in_reply_to: m.in_reply_to,
    // Page-/Instagram-scoped ids only: the webhook carries no name or profile (§3, §4).
    customer_identity: { external_id: m.customer },
    phone_in_text: phoneInText(m.text),
    // Channel extra: the Page (Messenger) or professional account (Instagram) written to.
    page: m.pageId !== undefined ? { id: m.pageId } : undefined,
  });
}
