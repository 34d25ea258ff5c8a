/**
 * Web chat adapter: Confluo's own widget (channels.md §9).
 *
 * The widget POSTs JSON with `Authorization: Bearer <JWT>`. Tokens are HS256 with
 * `WEBCHAT_SECRET`, minted either by Confluo's widget-token endpoint for an anonymous visitor
 * (`iss: "confluo-webchat"`) or by the shop's backend for a logged-in customer (`iss: "site"`).
 * Verification uses `jose` (RFC 7519 / RFC 8725 best practice: pin the algorithm, never trust the
 * header's `alg`, https://www.rfc-editor.org/rfc/rfc8725#section-3.1).
 *
 * There is no platform behind the widget: replies are stored per conversation and fetched by the
 * widget, so `render` describes a local store write.
 *
 * @module
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Attachment, Identity, NormalisedEvent } from '../../domain/inbound.js';
import {
  defineChannel,
  type DeliveryResult,
  type MediaFetch,
  type Envelope,
  type OutboundMessage,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
} from '../channel.js';
import { attachmentTypeForMime } from '../common.js';
import { MB, type MediaCapability } from '../media.js';
import { envelopeBody } from '../envelope.js';
import { phoneInText } from '../phone.js';
import { WebchatBody, WebchatClaims, webchatIngress, type Page, type Profile } from './ingress.js';

export {
  REFRESH_GRACE_S, SESSION_TTL_S, WEBCHAT_AUDIENCE, WEBCHAT_CLOCK_TOLERANCE_S, WEBCHAT_ISSUERS, WebchatBody, WebchatClaims, ownsKey,
} from './ingress.js';

const CHANNEL = 'webchat';
/** A `sentAt` further ahead of our clock than this is not believed (§9). */
const MAX_SENT_AT_AHEAD_MS = 5 * 60_000;

/**
 * A page URL as kept on the message: scheme, host and path. Queries and fragments carry sign-in
 * tokens, reset codes and e-mail addresses the visitor never meant to send; Confluo's widget sends
 * none (web/widget/widget.ts), another client's are cut here. Unparseable: dropped.
 */
function pageWithoutQuery(page: Page): Page {
  const strip = (u: string | undefined) => {
    if (u === undefined) return undefined;
    try {
      const url = new URL(u);
      return url.protocol === 'http:' || url.protocol === 'https:' ? `${url.origin}${url.pathname}` : undefined;
    } catch {
      return undefined;
    }
  };
  const url = strip(page.url);
  const referrer = strip(page.referrer);
  return { ...(url ? { url } : {}), ...(page.title !== undefined ? { title: page.title } : {}), ...(referrer ? { referrer } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s);

function emailOf(s: string | undefined): string | undefined {
  const v = nonEmpty(s)?.trim().toLowerCase();
  return v !== undefined && /^[^\s@]+@[^\s@]+$/.test(v) ? v : undefined;
}

/** A visitor-typed phone: E.164 when it is a possible international number, else dropped. */
function profilePhone(s: string | undefined): string | undefined {
  const raw = nonEmpty(s);
  if (raw === undefined) return undefined;
  const parsed = parsePhoneNumberFromString(raw);
  return parsed?.isPossible() && /^\+\d{4,15}$/.test(parsed.number) ? parsed.number : undefined;
}

function identityOf(c: WebchatClaims, profile: Profile | undefined): Identity {
  const phone = profilePhone(profile?.phone);
  const phoneFields = phone === undefined ? {} : { phone, phone_verified: false };
  if (c.iss === 'site') {
    // The shop vouches for its own customer; only `email_verified: true` verifies the e-mail.
    const claimed = emailOf(c.email);
    const email = claimed ?? emailOf(profile?.email);
    return compact({
      external_id: c.sub,
      display_name: nonEmpty(c.name) ?? nonEmpty(profile?.name),
      ...(email === undefined ? {} : { email, email_verified: claimed !== undefined && c.email_verified === true }),
      ...phoneFields,
      site_user_id: c.ext_uid === undefined ? undefined : String(c.ext_uid),
      language: nonEmpty(c.locale) ?? nonEmpty(profile?.language),
    });
  }
  // Anonymous visitor: everything but `sub` is a claim typed into the widget.
  const email = emailOf(profile?.email);
  return compact({
    external_id: c.sub,
    display_name: nonEmpty(profile?.name),
    ...(email === undefined ? {} : { email, email_verified: false }),
    ...phoneFields,
    language: nonEmpty(profile?.language),
  });
}

function sentAtMs(sentAt: string | undefined, receivedAt: number): number {
  const ms = sentAt === undefined ? NaN : Date.parse(sentAt);
  return Number.isFinite(ms) && ms >= 0 && ms <= receivedAt + MAX_SENT_AT_AHEAD_MS ? ms : receivedAt;
}

/**
 * Files in the widget are links it shows (images inline): no platform in between, so the limit is
 * Confluo's own — 25 MB, what a visitor on a phone can still reasonably open.
 */
export const WEBCHAT_MEDIA: MediaCapability = {
  rules: [
    { as: 'image', contentTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], maxBytes: 25 * MB, via: 'url' },
    { as: 'document', contentTypes: 'any', maxBytes: 25 * MB, via: 'url' },
  ],
  maxCount: 10,
  urlTtlSeconds: 3600,
  source: 'functions/channels/webchat/index.ts (no platform: Confluo\'s own limit)',
};

export const webchat = defineChannel({
  ...webchatIngress,
  outboundSecrets: [],
  capabilities: { ...webchatIngress.capabilities, replyWindowSeconds: null, buttons: false, media: WEBCHAT_MEDIA },

  parse(envelope: Envelope): NormalisedEvent[] {
    // Trusts the queue: the claims were verified at ingest and the body validated there.
    const claims = WebchatClaims.parse(envelope.auth);
    const body = WebchatBody.parse(JSON.parse(envelopeBody(envelope).toString('utf8')));
    if (body.type === 'typing') return [{ kind: 'ignored', channel: CHANNEL, reason: 'typing' }];

    const ms = sentAtMs(body.sentAt, envelope.received_at);
    const text = body.text ?? '';
    const attachments: Attachment[] = (body.attachments ?? []).map((a) => ({
      type: attachmentTypeForMime(a.contentType),
      platform_ref: a.key,
      file_name: a.name,
      mime_type: a.contentType,
      size: a.size,
    }));
    return [compact({
      kind: 'message' as const,
      channel: CHANNEL,
      dedup_key: `${claims.sub}:${body.messageId}`,
      external_message_id: body.messageId,
      conversation_id: claims.sid,
      sent_at: Math.floor(ms / 1000),
      sent_at_ms: ms,
      edit: false,
      text,
      attachments,
      interaction: null,
      customer_identity: identityOf(claims, body.profile),
      phone_in_text: phoneInText(text),
      // Channel extra (a claim: the page the visitor says they are on), without query or fragment.
      page: body.page ? pageWithoutQuery(body.page) : undefined,
    })];
  },

  render(msg: OutboundMessage, _ctx: RenderContext): PlatformRequest {
    // No platform to call: the reply is already stored, and the widget fetches it with
    // GET /webchat/messages?after=<cursor> (§9). `store://` tells the sender there is nothing to
    // perform (functions/runtime/perform.ts), in AWS as locally.
    return {
      method: 'POST',
      url: `store://webchat/${encodeURIComponent(msg.conversation_id)}/messages`,
      headers: { 'content-type': 'application/json' },
      // Files are links the widget shows: GET /webchat/messages presigns each when it is read.
      body: JSON.stringify({ id: msg.id, text: msg.text, buttons: msg.buttons, ...(msg.attachments?.length ? { attachments: msg.attachments.map((f) => ({ file_name: f.file_name, content_type: f.content_type, size: f.size })) } : {}) }),
    };
  },

  readDelivery(_res: PlatformResponse, msg: OutboundMessage): DeliveryResult {
    return { ok: true, external_message_id: msg.id };
  },

  /**
   * A visitor's file is already in the media bucket, under the session's upload prefix (checked at
   * ingest: `ownsKey`); the media function reads it from there, checks its bytes and keeps it
   * under the ticket like any other channel's attachment.
   */
  mediaFetch(attachment: Attachment): MediaFetch | null {
    const key = attachment.platform_ref;
    if (key === undefined || !key.startsWith('uploads/webchat/')) return null;
    return { kind: 'object', key, ...(attachment.size !== undefined ? { declaredSize: attachment.size } : {}) };
  },
});
