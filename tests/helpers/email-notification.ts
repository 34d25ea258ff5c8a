/** A freshly built, correctly signed SES → SNS receipt notification for a plain-text mail (CRLF MIME), for e2e tests. */
import { buildSnsBody, SNS_TEST_CERT_URL } from '../../scripts/sign-email.js';
import { TEST_SECRETS } from './samples.js';

export const SNS_HEADERS = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };

let seq = 0;

/** `now`: the runtime's clock (SNS messages older than an hour are refused); `dmarc`: SES's verdict (default PASS). */
export function sesNotification(opts: { from: string; subject: string; text: string; now: number; dmarc?: string }): string {
  seq += 1;
  const topic = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
  const id = `${process.pid}-${seq}`;
  const raw = Buffer.from([
    `Return-Path: <${opts.from}>`, `From: ${opts.from}`, 'To: support@acme.example', `Subject: ${opts.subject}`,
    'Date: Mon, 12 Oct 2026 10:00:00 +0000', `Message-ID: <helper-${id}@mail.example>`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', opts.text, '',
  ].join('\r\n'), 'utf8');
  return buildSnsBody({
    envelope: {
      Type: 'Notification', MessageId: `00000000-0000-4000-9000-${String(seq).padStart(12, '0')}`, TopicArn: topic, Subject: 'Amazon SES Email Receipt Notification',
      Timestamp: new Date(opts.now).toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topic}:helper`,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: new Date(opts.now).toISOString(), source: opts.from, messageId: `helper${String(seq).padStart(6, '0')}${'y'.repeat(34)}`, destination: ['support@acme.example'], commonHeaders: { from: [opts.from] } },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: opts.dmarc ?? 'PASS' }, action: { type: 'SNS', topicArn: topic, encoding: 'UTF8' } },
    },
  }, raw);
}
