/**
 * Facebook Messenger adapter (channels.md §3).
 *
 * Inbound: the Meta app's Page webhook (`object: "page"`), signed with `X-Hub-Signature-256`
 * (functions/channels/meta.ts) and subscribed with the `GET hub.challenge` handshake. One POST
 * batches `entry[].messaging[]` items of several kinds (functions/channels/meta-messaging.ts).
 * Outbound: the Send API, `POST /me/messages` with the Page access token
 * (https://developers.facebook.com/docs/messenger-platform/reference/send-api/).
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
import { messengerIngress } from './ingress.js';
import {
  META_REPLY_WINDOW_SECONDS,
  graphBase,
  idString,
  parseMetaNotification,
  readGraphDelivery,
  withNumberedChoices,
} from '../meta.js';
import { attachmentMessages, MAX_QUICK_REPLIES, MESSENGER_MEDIA, messagingDeliveryFor, parseMessaging, quickRepliesOf, type MessagingProfile } from '../meta-messaging.js';

const CHANNEL = 'messenger';

/** https://developers.facebook.com/docs/messenger-platform/reference/send-api/ — text "must be UTF-8 and has a 2000 character limit". */
export const MESSENGER_MAX_TEXT = 2000;
/** Counted in UTF-16 code units: never fewer than Messenger's characters. */
export const MESSENGER_TEXT_LIMIT: TextLimit = { max: MESSENGER_MAX_TEXT, unit: 'utf16' };
const profile: MessagingProfile = {
  channel: CHANNEL,
  object: 'page',
  userRef: true,
  // https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
  attachmentType(type: string, payload: Record<string, unknown>): Attachment['type'] {
    // Stickers (the thumbs-up included) arrive as `image` with a `sticker_id`: the platform's own kind wins (§0.6).
    if (type === 'image') return payload.sticker_id !== undefined ? 'sticker' : 'image';
    if (type === 'video' || type === 'audio') return type;
    if (type === 'file') return 'document';
    if (type === 'location') return 'location';
    return 'other'; // fallback (shared links), template, reel, …
  },
};

/** The Send API `recipient`: a PSID, or the chat plugin guest's `user_ref`. */
function recipientOf(conversationId: string): Record<string, string> {
  return conversationId.startsWith('user_ref:') ? { user_ref: conversationId.slice('user_ref:'.length) } : { id: conversationId };
}

export const messenger = defineChannel({
  ...messengerIngress,
  outboundSecrets: ['META_PAGE_ACCESS_TOKEN', 'META_GRAPH_API_VERSION'],
  capabilities: { ...messengerIngress.capabilities, replyWindowSeconds: META_REPLY_WINDOW_SECONDS, buttons: true, humanAgentTag: true, textLimit: MESSENGER_TEXT_LIMIT, media: MESSENGER_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    return parseMessaging(profile, parseMetaNotification(CHANNEL, envelopeBody(envelope)), envelope.received_at);
  },

  /**
   * `messaging_type: RESPONSE` is allowed for 24 hours after the person's last message; a human
   * agent's reply up to 7 days later goes out as `MESSAGE_TAG` + `HUMAN_AGENT` (`msg.tag`, set by
   * the Agent API where the deployment has that permission: META_HUMAN_AGENT_TAG); anything later
   * is refused with 409 `messaging_window_closed` before it gets here.
   */
  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest[] {
    const token = ctx.secrets.META_PAGE_ACCESS_TOKEN || '<META_PAGE_ACCESS_TOKEN>';
    const buttons = msg.buttons ?? [];
    const native = buttons.length > 0 && buttons.length <= MAX_QUICK_REPLIES;
    const text = buttons.length > MAX_QUICK_REPLIES ? withNumberedChoices(msg.text, buttons) : msg.text;
    // A long text goes out as several messages, in order; quick replies ride on the last one.
    const files = msg.attachments ?? [];
    const parts = text === '' && files.length > 0 ? [] : textParts(text, MESSENGER_TEXT_LIMIT);
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
        body: JSON.stringify({ recipient: recipientOf(msg.conversation_id), ...(msg.tag ? { messaging_type: 'MESSAGE_TAG', tag: msg.tag } : { messaging_type: 'RESPONSE' }), message }),
      };
    });
  },

  /** `{"recipient_id":"…","message_id":"m_…"}`: the mid that `delivery.mids` will name. */
  /** `payload.url` is a temporary public CDN URL (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages). */
  mediaFetch(attachment: Attachment): MediaFetch | null {
    return attachment.type === 'location' || attachment.type === 'other' ? null : plainDownload(attachment.url);
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage): DeliveryResult {
    return readGraphDelivery(res, (b) => idString(b.message_id));
  },

  deliveryFor: messagingDeliveryFor,
});
