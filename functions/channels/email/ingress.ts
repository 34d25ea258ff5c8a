/**
 * The e-mail channel's verify side (channels.md §8): what the ingest function imports — the SNS
 * signature check (./sns.ts: certificate URL, chain to the Amazon roots, signature, topic,
 * freshness), the validation of the SES notification inside (`zod/mini`: the same schemas the
 * parser in ./index.ts reads with) and the FIFO conversation key. No MIME parser here: the mail
 * itself is read on the parse side (./mime.ts).
 *
 * @module
 */
import * as z from 'zod/mini';
import { defineIngress, invalid, malformed, type Admission, type AdmitPorts, type RawRequest, type Secrets } from '../channel.js';
import { isRecord, parseJsonBody } from '../common.js';
import { isSnsUrl, snsHostFor, snsRegionOf, verifySnsMessage } from './sns.js';

const CHANNEL = 'email';

// ---------------------------------------------------------------------------------------------
// The SES notification inside `Message` (validated loosely: SES adds fields over time).
// ---------------------------------------------------------------------------------------------

const Verdict = z.looseObject({ status: z.string() });

const SesMail = z.looseObject({
  // SES ids are 40 lower-case alphanumerics; accept any printable token, bounded.
  messageId: z.string().check(z.regex(/^[\x21-\x7e]{1,200}$/)),
  timestamp: z.optional(z.string()),
  source: z.optional(z.string()),
  commonHeaders: z.optional(z.looseObject({ from: z.optional(z.array(z.string())) })),
});

const SesAction = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('SNS'), encoding: z.enum(['UTF8', 'BASE64']) }),
  z.looseObject({ type: z.literal('S3'), bucketName: z.string().check(z.minLength(1)), objectKey: z.string().check(z.minLength(1)) }),
]);

const SesReceived = z.looseObject({
  notificationType: z.literal('Received'),
  mail: SesMail,
  receipt: z.looseObject({
    action: SesAction,
    spamVerdict: z.optional(Verdict),
    virusVerdict: z.optional(Verdict),
    dmarcVerdict: z.optional(Verdict),
  }),
  content: z.optional(z.string()),
});
export type SesReceived = z.infer<typeof SesReceived>;

export const SesAny = z.looseObject({ notificationType: z.string() });

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/** Notification validation of §8 (→ 400). Returns the SES notification, or null when not `Received`. */
export function validateNotification(message: string | undefined): SesReceived | null {
  if (message === undefined) throw invalid(CHANNEL, 'validate', 'Message missing');
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    throw malformed(CHANNEL, 'validate', 'Message is not JSON');
  }
  const any = SesAny.safeParse(json);
  if (!any.success) throw invalid(CHANNEL, 'validate', 'notificationType missing');
  if (any.data.notificationType !== 'Received') return null;
  const parsed = SesReceived.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(root)').slice(0, 3).join(', ');
    throw invalid(CHANNEL, 'validate', `unexpected shape at ${where}`);
  }
  const n = parsed.data;
  if (n.receipt.action.type === 'SNS') {
    if (typeof n.content !== 'string') throw invalid(CHANNEL, 'validate', 'content missing');
    if (n.receipt.action.encoding === 'BASE64' && !BASE64.test(n.content)) throw invalid(CHANNEL, 'validate', 'content is not base64');
  }
  return n;
}

/** The address inside `Name <addr>` (or a bare address), lower-cased: the FIFO conversation key. */
function addressOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const bracketed = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(header)?.[1];
  const bare = /^\s*([^<>\s"]+@[^<>\s"]+)\s*$/.exec(header)?.[1];
  const address = bracketed ?? bare;
  return address ? address.toLowerCase() : null;
}

export const emailIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['EMAIL_SNS_TOPIC_ARN'],
  inboundOptional: ['SNS_CERT_DIR', 'SNS_TRUST_ROOT_PEM'],
  // SNS notification limit 512 KiB (§0.2); mail over 150 KB comes through the S3 action.
  capabilities: { maxBodyBytes: 524_288 },

  async admit(req: RawRequest, secrets: Secrets, now: number, ports?: AdmitPorts): Promise<Admission> {
    // parse → SNS authenticity → validate (§0.2): the credential is inside the body.
    const json = parseJsonBody(CHANNEL, req.body);
    if (!isRecord(json)) throw malformed(CHANNEL, 'parse', 'body is not a JSON object');
    const sns = await verifySnsMessage(json, secrets, now, ports);

    let conversationKey: string | null = null;
    if (sns.Type === 'Notification') {
      const n = validateNotification(sns.Message);
      if (n) conversationKey = addressOf(n.mail.commonHeaders?.from?.[0]) ?? addressOf(n.mail.source);
    } else if (sns.Type === 'SubscriptionConfirmation') {
      if (sns.SubscribeURL === undefined || !isSnsUrl(sns.SubscribeURL, { pem: false, host: snsHostFor(snsRegionOf(sns.TopicArn)!) })) throw invalid(CHANNEL, 'validate', 'SubscribeURL is not an https URL on the topic region\'s SNS host');
      if (sns.Token === undefined || sns.Token === '') throw invalid(CHANNEL, 'validate', 'Token missing');
    }
    // No header is carried: `x-amz-sns-message-id` duplicates the signed `MessageId` of the body.
    return { kind: 'accepted', conversationKey, reply: { status: 200 } };
  },
});
