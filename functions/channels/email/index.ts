/**
 * E-mail adapter: SES receipt rule → SNS → `POST /webhooks/email` (channels.md §8).
 *
 * Inbound: an SES receipt rule publishes each received mail to the SNS topic
 * `EMAIL_SNS_TOPIC_ARN`; the topic delivers it to this webhook as an HTTPS subscription with raw
 * message delivery off, i.e. the SNS JSON envelope whose `Message` is the SES notification
 * (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html). The SNS
 * action carries the MIME itself (`content`, UTF8 or BASE64) and bounces mail over 150 KB; larger
 * mail goes through an S3 action that stores the MIME and notifies without content
 * (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-s3.html) — the process step
 * reads it through the `readObject` port.
 *
 * Quirks:
 * - SNS posts `Content-Type: text/plain; charset=UTF-8` although the body is JSON
 *   (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html).
 * - The `x-amz-sns-*` headers duplicate the body and are not signed: never trusted.
 * - SNS retries an unanswered delivery for a long time (HTTP delivery policy); duplicates share
 *   the SES `mail.messageId`, which is the dedupe key.
 * - SES replaces the Message-ID of mail we send (reply.ts).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { findPhoneNumbersInText } from 'libphonenumber-js';
import type { Attachment, Identity, NormalisedEvent } from '../../domain/inbound.js';
import {
  defineChannel,
  ChannelRenderError,
  type DeliveryResult,
  type Envelope,
  type OutboundMessage,
  type ParsePorts,
  type PlatformRequest,
  type PlatformResponse,
  type RenderContext,
  type MediaFetch,
} from '../channel.js';
import { isRecord } from '../common.js';
import { envelopeBody } from '../envelope.js';
import { readMail } from './mime.js';
import { EMAIL_MEDIA, renderRawEmail } from './reply.js';
import { isSnsUrl, snsHostFor, snsRegionOf, type SnsMessage } from './sns.js';
import { sesMessageIdDomain, sesRegion } from './ses.js';
import { emailIngress, SesAny, validateNotification, type SesReceived } from './ingress.js';

export { sesMessageIdDomain, sesRegion };

export { CertificateUnavailableError } from './sns.js';

const CHANNEL = 'email';

class EmailParseError extends Error {
  override readonly name = 'EmailParseError';
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** First valid phone typed in the (unquoted) text: a suggestion only (§0.7); no default region. */
function phoneInText(text: string): { value: string; verified: false } | undefined {
  if (text === '') return undefined;
  const found = findPhoneNumbersInText(text).find((f) => f.number.isValid());
  return found ? { value: found.number.number, verified: false } : undefined;
}

const ignored = (reason: string, dedup_key?: string): NormalisedEvent => compact({ kind: 'ignored' as const, channel: CHANNEL, reason, dedup_key });

async function rawMime(n: SesReceived, ports: ParsePorts | undefined): Promise<{ raw: Buffer; source: 'sns' | 's3'; encoding?: 'UTF8' | 'BASE64' }> {
  const action = n.receipt.action;
  if (action.type === 'SNS') {
    const content = n.content ?? '';
    return { raw: action.encoding === 'BASE64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8'), source: 'sns', encoding: action.encoding };
  }
  if (!ports?.readObject) throw new EmailParseError('no readObject port to read the S3-action mail', { cause: { channel: CHANNEL, stage: 'parse' } });
  // A missing object rejects: the record is retried, then dead-lettered (§8).
  return { raw: await ports.readObject(action.bucketName, action.objectKey), source: 's3' };
}

async function receivedEvents(sns: SnsMessage, n: SesReceived, receivedAtMs: number, ports: ParsePorts | undefined): Promise<NormalisedEvent[]> {
  const id = n.mail.messageId;
  // Verdicts first: no need to read (or download) a mail we drop anyway.
  if (n.receipt.virusVerdict?.status === 'FAIL') return [ignored('virus', id)];
  // A metric-worthy reason: spam dropped before anyone saw it (§8 SHOULD).
  if (n.receipt.spamVerdict?.status === 'FAIL') return [ignored('spam', id)];

  const { raw, source, encoding } = await rawMime(n, ports);
  const mail = await readMail(raw);
  // The attachments' bytes live only in this MIME (the SNS content dies with the queue message):
  // the process step keeps it for the media function, which cuts the parts out (`mediaFetch`).
  if (mail.attachments.length > 0) ports?.keepRaw?.(raw);
  if (mail.autoSubmitted) return [ignored('auto-submitted', id)];
  if (!mail.from) return [ignored('no sender address', id)];

  const address = mail.from.address;
  // Reply-To: replies go there (as any mail client would answer). Mail a web form or a
  // marketplace sends on a customer's behalf comes `From: noreply@…` with the customer in
  // Reply-To: for senders listed in EMAIL_FORM_SENDERS the Reply-To address is the customer —
  // unverified (anyone can type any address into a form), so a suggestion for merging, never a
  // verified e-mail — instead of every such customer becoming one "noreply" customer.
  const replyTo = mail.replyTo !== undefined && mail.replyTo !== address ? mail.replyTo : undefined;
  const viaForm = replyTo !== undefined && isFormSender(address, ports?.settings?.EMAIL_FORM_SENDERS);
  const identity: Identity = viaForm
    ? compact({ external_id: replyTo, display_name: mail.replyToName, email: replyTo, email_verified: false })
    : compact({
      external_id: address,
      display_name: mail.from.name,
      email: address,
      // Only a DMARC PASS proves the From domain (GRAY, FAIL or missing → a claim).
      email_verified: n.receipt.dmarcVerdict?.status === 'PASS',
    });
  const mailTs = n.mail.timestamp !== undefined ? Date.parse(n.mail.timestamp) : NaN;
  const sentAt = mail.date ?? (Number.isFinite(mailTs) && mailTs >= 0 ? Math.floor(mailTs / 1000) : Math.floor(receivedAtMs / 1000));

  return [compact({
    kind: 'message' as const,
    channel: CHANNEL,
    dedup_key: id,
    external_message_id: id,
    conversation_id: replyTo ?? address,
    sent_at: sentAt,
    edit: false,
    text: mail.text,
    attachments: mail.attachments,
    interaction: null,
    customer_identity: identity,
    // From the reply only: the quoted history holds our own signature's phone number.
    phone_in_text: phoneInText(mail.replyText),
    subject: mail.subject,
    rfc_message_id: mail.rfcMessageId,
    sns_message_id: sns.MessageId,
    content_source: source,
    content_encoding: encoding,
    reply_text: mail.replyText,
    reply_to: mail.replyTo,
    form_sender: viaForm ? address : undefined,
    thread: mail.thread,
  }) as NormalisedEvent];
}

/**
 * Is `address` one of EMAIL_FORM_SENDERS (comma-separated addresses, or `@domain` for every
 * address of a domain), whose mail carries the customer in Reply-To?
 */
export function isFormSender(address: string, setting: string | undefined): boolean {
  if (!setting) return false;
  const a = address.toLowerCase();
  return setting.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')
    .some((s) => (s.startsWith('@') ? a.endsWith(s) : a === s));
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

function errorCodeOf(body: string): string | undefined {
  try {
    const j: unknown = JSON.parse(body);
    if (!isRecord(j)) return undefined;
    const code = isRecord(j.Error) ? j.Error.Code : (j.code ?? j.name ?? j.Code);
    return typeof code === 'string' && /^[\w.-]{1,80}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

export const email = defineChannel({
  ...emailIngress,
  parseSettings: ['EMAIL_FORM_SENDERS'],
  // The topic's region is the SES region when EMAIL_SES_REGION is unset (ses.ts).
  outboundSecrets: ['EMAIL_FROM', 'EMAIL_SES_REGION', 'EMAIL_SNS_TOPIC_ARN'],
  // No reply window and no buttons in e-mail.
  capabilities: { ...emailIngress.capabilities, replyWindowSeconds: null, buttons: false, media: EMAIL_MEDIA },

  async parse(envelope: Envelope, ports?: ParsePorts): Promise<NormalisedEvent[]> {
    // The queue only holds requests admit() accepted (signed, validated): trusted here.
    const sns = JSON.parse(envelopeBody(envelope).toString('utf8')) as SnsMessage;
    if (sns.Type === 'SubscriptionConfirmation') {
      const url = sns.SubscribeURL ?? '';
      const region = snsRegionOf(sns.TopicArn);
      if (region === undefined || !isSnsUrl(url, { pem: false, host: snsHostFor(region) })) return [ignored('subscribe url not on sns')];
      // Once per Token (§8); the token is long, its hash makes a bounded key.
      const token = createHash('sha256').update(sns.Token ?? '').digest('hex');
      return [{ kind: 'verification', channel: CHANNEL, dedup_key: `sns-subscription:${token}`, confirm: { method: 'GET', url } }];
    }
    if (sns.Type === 'UnsubscribeConfirmation') return [ignored('sns unsubscribe confirmation')];
    const n = validateNotification(sns.Message);
    if (!n) {
      const type = SesAny.parse(JSON.parse(sns.Message ?? '{}')).notificationType;
      return [ignored(/^[A-Za-z_]{1,50}$/.test(type) ? `ses ${type}` : 'ses notification')];
    }
    return receivedEvents(sns, n, envelope.received_at, ports);
  },

  render(msg: OutboundMessage, ctx: RenderContext): PlatformRequest {
    const from = ctx.secrets.EMAIL_FROM;
    if (!from) throw new ChannelRenderError('email: EMAIL_FROM is not configured (a verified SES identity)', { cause: { channel: CHANNEL, stage: 'render', setting: 'EMAIL_FROM' } });
    // functions/runtime/perform.ts sends this body through SES SendRawEmail.
    return { method: 'POST', url: 'ses:SendRawEmail', headers: {}, body: renderRawEmail(msg, from) };
  },

  /** Attachment `index` is MIME attachment `index` of the raw mail the process step kept (functions/channels/email/mime.ts `mimePart`). */
  mediaFetch(_attachment: Attachment, index: number): MediaFetch | null {
    return { kind: 'mime-part', index };
  },

  readDelivery(res: PlatformResponse, _msg: OutboundMessage, ctx?: RenderContext): DeliveryResult {
    if (res.status === 200) {
      let id: unknown;
      try {
        id = (JSON.parse(res.body) as { MessageId?: unknown }).MessageId;
      } catch {
        id = undefined;
      }
      const region = sesRegion(ctx?.secrets);
      if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,200}$/.test(id) || region === undefined) return { ok: true };
      // What the customer's client will quote in In-Reply-To/References.
      return { ok: true, external_message_id: `<${id}@${sesMessageIdDomain(region)}>` };
    }
    const code = errorCodeOf(res.body);
    // https://docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html
    if (res.status === 429 || code === 'Throttling' || code === 'ThrottlingException') {
      const after = Number(res.headers['retry-after']);
      return compact({ ok: false as const, retryable: true, retry_after_s: Number.isFinite(after) && after >= 0 ? after : undefined, error_code: code ?? '429' });
    }
    if (res.status >= 500) return { ok: false, retryable: true, error_code: code ?? String(res.status) };
    // MessageRejected, MailFromDomainNotVerified, ConfigurationSetDoesNotExist, AccountSendingPaused…
    return { ok: false, retryable: false, error_code: code ?? String(res.status) };
  },
});
