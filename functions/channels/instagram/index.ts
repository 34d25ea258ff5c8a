/**
 * Instagram Messaging adapter, Facebook Login flavour (channels.md §4).
 *
 * Inbound: the Meta app's Instagram webhook (`object: "instagram"`), signed with META_APP_SECRET
 * like Messenger (functions/channels/meta.ts) and batched the same way
 * (functions/channels/meta-messaging.ts); `entry.id` is our professional account. Outbound:
 * `POST /me/messages` with the token of the Page linked to the account
 * (https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message).
 *
 * Quirk: Instagram sends echoes of our own messages in the `messages` field itself (no separate
 * `message_echoes` subscription), so `is_echo` / `sender.id == entry.id` MUST be checked or the
 * business would become its own customer
 * (https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook).
 *
 * @module
 */
import type { Attachment, NormalisedEvent } from '../../domain/inbound.js';
import {
  defineChannel,
  type DeliveryResult,
  type Envelope,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
  type MediaFetch,
  plainDownload,
} from '../channel.js';
import { envelopeBody } from '../envelope.js';
import { textParts, type TextLimit } from '../text.js';
import { instagramIngress } from './ingress.js';
import {
  META_REPLY_WINDOW_SECONDS,
  graphBase,
  idString,
  parseMetaNotification,
  readGraphDelivery,
  withNumberedChoices,
} from '../meta.js';
import { attachmentMessages, MAX_QUICK_REPLIES, INSTAGRAM_MEDIA, messagingDeliveryFor, parseMessaging, quickRepliesOf, type MessagingProfile } from '../meta-messaging.js';

const CHANNEL = 'instagram';

/**
 * Instagram text messages: "Message text must be UTF-8 and be a 1000 bytes or less"
 * (https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message) —
 * bytes, not characters: 550 Cyrillic letters (1,100 bytes) are refused.
 */
export const INSTAGRAM_MAX_TEXT = 1000;
export const INSTAGRAM_TEXT_LIMIT: TextLimit = { max: INSTAGRAM_MAX_TEXT, unit: 'utf8' };

const profile: MessagingProfile = {
  channel: CHANNEL,
  object: 'instagram',
  userRef: false,
  attachmentType(type: string, payload: Record<string, unknown>): Attachment['type'] {
    if (type === 'image') return payload.sticker_id !== undefined ? 'sticker' : 'image';
    if (type === 'video' || type === 'audio') return type;
    if (type === 'file') return 'document';
    // share, story_mention, ig_reel, reel, ig_post, … (the `url` is short-lived).
    return 'other';
  },
};

export const instagram = defineChannel({
  ...instagramIngress,
  outboundSecrets: ['INSTAGRAM_ACCESS_TOKEN', 'META_PAGE_ACCESS_TOKEN', 'META_GRAPH_API_VERSION'],
  capabilities: { ...instagramIngress.capabilities, replyWindowSeconds: META_REPLY_WINDOW_SECONDS, buttons: true, humanAgentTag: true, textLimit: INSTAGRAM_TEXT_LIMIT, media: INSTAGRAM_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    return parseMessaging(profile, parseMetaNotification(CHANNEL, envelopeBody(envelope)), envelope.received_at);
  },

  /** Free-form replies within 24 hours of the customer's last message (the API enforces it: 409 `messaging_window_closed`). */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    const token = ctx.secrets.INSTAGRAM_ACCESS_TOKEN || ctx.secrets.META_PAGE_ACCESS_TOKEN || '<INSTAGRAM_ACCESS_TOKEN>';
    const buttons = msg.buttons ?? [];
    const native = buttons.length > 0 && buttons.length <= MAX_QUICK_REPLIES;
    const text = buttons.length > MAX_QUICK_REPLIES ? withNumberedChoices(msg.text, buttons) : msg.text;
    // A long text goes out as several messages, in order; quick replies ride on the last one.
    const files = msg.attachments ?? [];
    const parts = text === '' && files.length > 0 ? [] : textParts(text, INSTAGRAM_TEXT_LIMIT);
    const messages: Array<Record<string, unknown>> = parts.map((part, i) => {
      const message: Record<string, unknown> = { text: part };
      if (native && i === parts.length - 1) message.quick_replies = quickRepliesOf(CHANNEL, buttons);
      return message;
    });
    // Each file after the text, as its own attachment message.
    messages.push(...attachmentMessages(files));
    return messages.map((message) => {
      return {
        method: 'POST' as const,
        url: `${graphBase(ctx.secrets)}/me/messages`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        // Beyond the 24-hour window a human agent's reply carries the HUMAN_AGENT tag (7 days).
        body: JSON.stringify({ recipient: { id: msg.conversation_id }, ...(msg.tag ? { messaging_type: 'MESSAGE_TAG', tag: msg.tag } : {}), message }),
      };
    });
  },

  /** `{"recipient_id":"…","message_id":"…"}`: the mid a later `read.mid` names. */
  /** `payload.url` is a temporary public CDN URL (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages). */
  mediaFetch(attachment: Attachment): MediaFetch | null {
    return attachment.type === 'location' || attachment.type === 'other' ? null : plainDownload(attachment.url);
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    return readGraphDelivery(res, (b) => idString(b.message_id));
  },

  deliveryFor: messagingDeliveryFor,
});
