/**
 * Delivery of a reply, pure: how long to wait before the next attempt, and what a failure means in
 * words an agent can act on (shown on the timeline next to the platform's code, and in the
 * `message.failed` feed event). docs/channels.md tables the codes per platform.
 *
 * @module
 */

/** First retry after about this long; each further retry waits twice as long (before jitter). */
export const RETRY_BASE_SECONDS = 30;
/** No backoff step longer than this (a platform's own wait may be longer). */
export const RETRY_CAP_SECONDS = 900;
/** SQS keeps a message hidden for at most 12 hours (ChangeMessageVisibility's limit). */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Seconds until attempt `attempt + 1` of a send that failed on attempt `attempt` (1-based): the
 * larger of the platform's own wait (`retry_after`, `Retry-After`) and an exponential backoff with
 * "equal jitter" — between half and all of 30 s × 2^(attempt-1), capped at 15 minutes — so retries
 * of many replies spread out instead of hitting a recovering platform together
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). At most 12 hours.
 */
export function retryDelaySeconds(attempt: number, platformWaitSeconds?: number, random: () => number = Math.random): number {
  const step = Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1));
  const backoff = step / 2 + random() * (step / 2);
  const wait = platformWaitSeconds !== undefined && Number.isFinite(platformWaitSeconds) && platformWaitSeconds > 0 ? platformWaitSeconds : 0;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(Math.max(wait, backoff)));
}

/** Codes Confluo itself gives a failed send (besides the platforms' own). */
export const OWN_FAILURE_CODES = {
  /** The message could not be described for the platform (a missing outbound setting, content it cannot take). */
  render_failed: 'The message could not be prepared for this channel: an outbound setting is missing or the content does not fit it.',
  /** An outbound secret is not configured (a placeholder was left in the request). */
  not_configured: 'This channel is not configured for replies (its outbound token or sender is missing).',
  /** Every attempt the queue allows failed with a temporary error. */
  retries_exhausted: 'The platform kept failing or asking to wait; Confluo gave up after its last attempt.',
  /** The platform did not answer in time and does not de-duplicate: a retry could deliver it twice. */
  timeout: 'The platform did not answer in time. The message may or may not have arrived: check with the customer before retrying.',
  /** A file of the reply is no longer in the media bucket (its retention ran out) or the bucket is not configured. */
  attachment_missing: 'A file of this reply is no longer stored (or attachments are not configured): attach it again.',
  /** A file the channel does not take (the reply moved to another channel, or the limits changed). */
  attachment_not_allowed: 'A file of this reply is not a type or size this channel takes.',
  /** The platform's upload of a file (VK's upload server) answered something unusable. */
  upload_failed: 'The platform did not take the upload of a file of this reply.',
} as const;

/**
 * Platform codes in words (`<channel>:<code>`), where the code alone says little. Sources:
 * Telegram https://core.telegram.org/bots/api#making-requests, WhatsApp
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes, Messenger
 * https://developers.facebook.com/docs/messenger-platform/error-codes, VK
 * https://dev.vk.com/en/reference/errors, Viber https://developers.viber.com/docs/api/rest-bot-api/#error-codes,
 * Twilio https://www.twilio.com/docs/api/errors, SES https://docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html.
 */
const PLATFORM_REASONS: Readonly<Record<string, string>> = {
  'telegram:blocked': 'The customer blocked the bot or deleted their Telegram account.',
  'telegram:400': 'Telegram refused the message (bad request: the chat may no longer exist).',
  'whatsapp:131047': 'More than 24 hours have passed since the customer last wrote: WhatsApp now takes only an approved template.',
  'whatsapp:131026': 'WhatsApp could not deliver: the number is not on WhatsApp, blocked the business, or uses an outdated app.',
  'whatsapp:131050': 'The customer stopped marketing messages from this business on WhatsApp.',
  'whatsapp:131051': 'WhatsApp does not support this message type.',
  'whatsapp:132001': 'The template does not exist in this language or is not approved yet.',
  'whatsapp:132000': 'The number of template parameters does not match the template registered with Meta.',
  'whatsapp:470': 'More than 24 hours have passed since the customer last wrote: WhatsApp now takes only an approved template.',
  'messenger:10/2018278': 'Outside Messenger\'s 24-hour window (and no HUMAN_AGENT permission).',
  'messenger:551': 'This person isn\'t available right now on Messenger.',
  'messenger:100/2018001': 'Messenger found no matching user (the person may have deleted their account).',
  'instagram:10/2018278': 'Outside Instagram\'s 24-hour window (and no HUMAN_AGENT permission).',
  'instagram:551': 'This person isn\'t available right now on Instagram.',
  'instagram:100/2018001': 'Instagram found no matching user (the person may have deleted their account).',
  'vk:900': 'The customer blocked the community on VK.',
  'vk:901': 'The customer has not allowed messages from the community on VK (or denied them since).',
  'vk:902': 'The customer\'s VK privacy settings do not allow messages from the community.',
  'vk:914': 'VK refused the message as too long.',
  'viber:receiverNotRegistered': 'The customer is not registered on Viber.',
  'viber:receiverNotSubscribed': 'The customer is not subscribed to the bot (or unsubscribed).',
  'viber:receiverNoSuitableDevice': 'The customer has no Viber device that can receive the message.',
  'twilio:21610': 'The customer replied STOP: SMS to them are blocked until they send START.',
  'twilio:21211': 'Twilio says the number is not a valid phone number.',
  'twilio:21617': 'Twilio refused the message as too long.',
  'twilio:30003': 'The handset is unreachable (switched off or out of coverage).',
  'twilio:30005': 'The number is unknown or no longer exists.',
  'twilio:30006': 'The number is a landline or cannot receive SMS.',
  'twilio:30007': 'The carrier filtered the message.',
  'twilio:63016': 'Outside WhatsApp\'s 24-hour window: via Twilio only an approved template can be sent.',
  'email:MessageRejected': 'SES rejected the e-mail (the address or the content was refused).',
  'email:MailFromDomainNotVerified': 'SES cannot send from EMAIL_FROM: its domain is not verified.',
  'email:AccountSendingPaused': 'Sending is paused for this SES account.',
};

/** What a failed send means, for the agent: Confluo's own codes, known platform codes, else the code itself. */
export function deliveryFailureReason(channel: string, code: string): string {
  if (Object.hasOwn(OWN_FAILURE_CODES, code)) return OWN_FAILURE_CODES[code as keyof typeof OWN_FAILURE_CODES];
  const known = PLATFORM_REASONS[`${channel}:${code}`];
  if (known) return known;
  if (/^[45]\d\d$/.test(code)) return `The platform refused the message (HTTP ${code}).`;
  return `The platform refused the message (code ${code}).`;
}
