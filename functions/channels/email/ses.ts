/**
 * The one SES region of the e-mail channel. SES rewrites the Message-ID of every mail it sends to
 * `<MessageId>@<region>.amazonses.com` (`email.amazonses.com` in us-east-1)
 * (https://docs.aws.amazon.com/ses/latest/dg/send-email-raw.html), and customers' replies quote
 * it in In-Reply-To/References: the region that sends a reply and the region its stored
 * Message-ID names must be the same one, and `EMAIL_FROM` must be verified there. Both the
 * sender (functions/runtime/perform.ts, through the platform's SES client) and the adapter's
 * `readDelivery` take it from here.
 */
import type { Secrets } from '../channel.js';

/** SES's Message-ID domain: `email.amazonses.com` in us-east-1, `<region>.amazonses.com` elsewhere. */
export function sesMessageIdDomain(region: string): string {
  return region === 'us-east-1' ? 'email.amazonses.com' : `${region}.amazonses.com`;
}

/** EMAIL_SES_REGION, else the region of EMAIL_SNS_TOPIC_ARN (receiving and sending usually share one); undefined: neither is set. */
export function sesRegion(secrets: Partial<Secrets> | undefined): string | undefined {
  const explicit = secrets?.EMAIL_SES_REGION;
  if (explicit && /^[a-z]{2}(-[a-z]+)+-\d$/.test(explicit)) return explicit;
  const fromArn = /^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d):/.exec(secrets?.EMAIL_SNS_TOPIC_ARN ?? '')?.[1];
  return fromArn;
}
