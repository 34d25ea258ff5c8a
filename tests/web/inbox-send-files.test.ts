/**
 * Sending files from the web inbox (issue 14), in a real browser: the agent attaches a PDF in the
 * reply box (uploaded straight to the media bucket through a presigned POST, shown as a chip),
 * sends the reply, and the platform request in the outbox carries the file natively — a WhatsApp
 * `document` message whose link serves the very same bytes, an e-mail with a MIME attachment of
 * the same bytes (sha256 equal). A file the channel does not take is refused before upload with
 * the platform's limit.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildSnsBody, SNS_TEST_CERT_URL } from '../../scripts/sign-email.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { type DevOutboxItem } from '../helpers/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

/** A small real PDF (what the agent attaches). */
const PDF = Buffer.from([
  '%PDF-1.4', '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj', '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj',
  `% invoice ${'0123456789'.repeat(300)}`, 'trailer << /Root 1 0 R >>', '%%EOF', '',
].join('\n'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const TOPIC = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
const SNS_HEADERS = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };

/** A signed SES → SNS notification of a plain-text mail from `from`. */
function mail(from: string, subject: string, text: string): string {
  const raw = Buffer.from([
    `From: Jonas Berg <${from}>`, 'To: support@acme.example', `Subject: ${subject}`, 'Date: Mon, 12 Oct 2026 10:00:00 +0000',
    'Message-ID: <attach-1@customer.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', text, '',
  ].join('\r\n'), 'utf8');
  return buildSnsBody({
    envelope: {
      Type: 'Notification', MessageId: '00000000-0000-4000-a000-00000000a771', TopicArn: TOPIC, Subject: 'Amazon SES Email Receipt Notification',
      Timestamp: new Date().toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:attach`,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: '2026-10-12T10:00:00.500Z', source: from, messageId: `att0001${'z'.repeat(33)}`, destination: ['support@acme.example'], commonHeaders: { from: [`Jonas Berg <${from}>`] } },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, action: { type: 'SNS', topicArn: TOPIC, encoding: 'UTF8' } },
    },
  }, raw);
}

describe('web inbox: sending files', () => {
  let rt: Rt;
  let page: Page;

  browserSuite({ CONFLUO_AUTO_ACK: 'off' }, { visibilityTimeoutMs: 200, page: { viewport: { width: 1280, height: 900 } }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, page } = parts);
  });

  const replies = async (channel: string) => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[]).filter((o) => o.channel === channel && o.kind === 'reply');

  const row = (channel: string) => page.locator(`.ticket-row:has([data-channel="${channel}"])`).first();

  /** Open the ticket of `channel`, attach the PDF, send. */
  async function sendPdf(channel: string, text: string) {
    await row(channel).click();
    await page.getByLabel('Attach files').setInputFiles({ name: 'invoice-2026-118.pdf', mimeType: 'application/pdf', buffer: PDF });
    const chip = page.getByRole('list', { name: 'Files to send' }).locator('.chip', { hasText: 'invoice-2026-118.pdf' });
    await expect.poll(() => chip.getAttribute('data-status')).toBe('ready');
    await page.getByLabel('Reply text').fill(text);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Files to send' }).count()).toBe(0);
    await rt.settle();
  }

  it('a PDF attached to a WhatsApp reply goes out as a document message whose link serves the same bytes', async () => {
    expect((await rt.api.webhook('whatsapp', customerWrites('whatsapp', '4915112340001', 'Can you send me the invoice?', rt.clock.now(), 'Marta Nowak'))).status).toBe(200);
    expect((await rt.api.webhook('email', { headers: SNS_HEADERS, body: mail('jonas@customer.example', 'Invoice please', 'Please send the invoice by mail.') })).status).toBe(200);
    await rt.settle();

    await signIn(page, 'ann', { url: rt.url });
    await expect.poll(() => page.locator('.ticket-row').count()).toBe(2);

    // A file WhatsApp does not take is refused before it is uploaded, with the platform's limit.
    await row('whatsapp').click();
    await page.getByLabel('Attach files').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: Buffer.alloc(5_000_001, 1) });
    const refused = page.locator('.chip', { hasText: 'scan.png' });
    await expect.poll(() => refused.getAttribute('data-status')).toBe('error');
    expect(await refused.getByRole('alert').textContent()).toMatch(/larger than the 5 MB whatsapp takes for it \(attachment_too_large\)/);
    await refused.getByRole('button', { name: 'Remove scan.png' }).click();

    await sendPdf('whatsapp', 'Here is your invoice.');
    await page.screenshot({ path: screenshotPath('inbox-attachment-sent.png') });
    const wa = await replies('whatsapp');
    const bodies = wa.map((o) => JSON.parse(o.request.body ?? '{}') as { type: string; text?: { body: string }; document?: { link: string; filename: string } });
    expect(bodies.map((b) => b.type)).toEqual(['text', 'document']);
    expect(bodies[0]!.text!.body).toBe('Here is your invoice.');
    const doc = bodies[1]!.document!;
    expect(doc.filename).toBe('invoice-2026-118.pdf');
    // What WhatsApp would fetch: the presigned link serves the uploaded bytes, as PDF.
    const fetched = await fetch(doc.link);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('application/pdf');
    expect(sha(Buffer.from(await fetched.arrayBuffer()))).toBe(sha(PDF));
    const entry = page.getByRole('list', { name: 'Timeline' }).locator('[data-direction="out"]', { hasText: 'Here is your invoice.' });
    await expect.poll(() => entry.getAttribute('data-delivery')).toBe('sent');
    expect(await entry.getByRole('list', { name: 'Attachments' }).textContent()).toContain('invoice-2026-118.pdf');
  });

  it('a PDF attached to an e-mail reply is a MIME attachment with the same bytes', async () => {
    await sendPdf('email', 'The invoice is attached.');
    const [sent] = await replies('email');
    expect(sent!.request.url).toBe('ses:SendRawEmail');
    const parsed = await simpleParser(sent!.request.body!);
    expect(parsed.text?.trim()).toBe('The invoice is attached.');
    expect(parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([['invoice-2026-118.pdf', 'application/pdf']]);
    expect(sha(parsed.attachments[0]!.content)).toBe(sha(PDF));
  });
});
