/**
 * E-mail Reply-To (issue 13), end to end: mail a web form sends on a customer's behalf (`From` in
 * EMAIL_FORM_SENDERS, `Reply-To` the customer) becomes a ticket of the Reply-To customer — two
 * customers of one form are two customers, not one "noreply" customer — with the address as an
 * unverified e-mail; the agent's reply goes `To:` that address. Any mail with a Reply-To is
 * answered there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { Runtime } from '../../local/runtime.js';
import { buildSnsBody, SNS_TEST_CERT_URL } from '../../scripts/sign-email.js';
import { testRuntime, type ApiClient, type DevOutboxItem } from '../helpers/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const TOPIC = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
const SNS_HEADERS = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };
const FORM = 'noreply@forms.shop.example';
let seq = 0;

/** A signed SES → SNS notification of a plain-text mail with the headers given (DMARC PASS for the From domain). */
function mail(headers: Record<string, string>, text: string): string {
  seq += 1;
  const raw = Buffer.from([
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'To: support@acme.example', 'Date: Mon, 12 Oct 2026 10:00:00 +0000',
    `Message-ID: <reply-to-${seq}@forms.shop.example>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', text, '',
  ].join('\r\n'), 'utf8');
  const from = /<([^>]+)>/.exec(headers.From!)?.[1] ?? headers.From!;
  return buildSnsBody({
    envelope: {
      Type: 'Notification', MessageId: `00000000-0000-4000-a000-${String(seq).padStart(12, '0')}`, TopicArn: TOPIC, Subject: 'Amazon SES Email Receipt Notification',
      // SNS notifications older than an hour are refused (issue 17): stamped now.
      Timestamp: new Date().toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
      UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:reply-to`,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: '2026-10-12T10:00:00.500Z', source: from, messageId: `rto${String(seq).padStart(4, '0')}${'z'.repeat(33)}`, destination: ['support@acme.example'], commonHeaders: { from: [headers.From!] } },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, action: { type: 'SNS', topicArn: TOPIC, encoding: 'UTF8' } },
    },
  }, raw);
}

describe('e-mail Reply-To and web-form senders', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const card = async (identity: string) => (await rt.api.get(`/api/v1/customers?identity=${encodeURIComponent(identity)}`, token)).body.items[0];
  const sent = async (ticketId: string) => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[]).filter((o) => o.ticket_id === ticketId && o.kind === 'reply');
  const send = async (headers: Record<string, string>, text: string) => {
    expect((await rt.api.webhook('email', { headers: SNS_HEADERS, body: mail(headers, text) })).status).toBe(200);
    expect((await rt.settle()).dlq).toBe(0);
  };

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off', EMAIL_FORM_SENDERS: `${FORM}, @marketplace.example` }, { visibilityTimeoutMs: 2000 });
    token = await rt.api.token('ann', 'agent');
  });
  afterAll(async () => { await rt?.stop(); });

  it('a web-form e-mail becomes a ticket of the Reply-To customer (unverified), and the reply goes To that address', async () => {
    await send({ From: `Shop contact form <${FORM}>`, 'Reply-To': 'Lena Vogel <Lena.Vogel@mail.example>', Subject: 'Contact form: order 5511' }, 'Hello, my order 5511 has not arrived.');
    await send({ From: `Shop contact form <${FORM}>`, 'Reply-To': 'Omar Haddad <omar@mail.example>', Subject: 'Contact form: return' }, 'How do I return a kettle?');

    // Two customers, each the person in Reply-To — not one "noreply" customer.
    expect(await card(`email:${FORM}`)).toBeUndefined();
    const lena = await card('email:lena.vogel@mail.example');
    const omar = await card('email:omar@mail.example');
    expect(lena.id).not.toBe(omar.id);
    expect(lena.display_name).toBe('Lena Vogel');
    expect(lena.identities).toEqual([expect.objectContaining({ channel: 'email', external_id: 'lena.vogel@mail.example', email: 'lena.vogel@mail.example', email_verified: false })]);
    // An address typed into a form is a claim: a suggestion for merging, never a verified e-mail.
    expect(lena.suggestions).toEqual([expect.objectContaining({ kind: 'email', value: 'lena.vogel@mail.example' })]);

    const ticketId = lena.tickets[0].id;
    const res = await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Hello Lena, your order ships today.' }, token);
    expect(res.status).toBe(202);
    await rt.settle();
    const [reply] = await sent(ticketId);
    const parsed = await simpleParser(reply!.request.body!);
    expect(parsed.to).toMatchObject({ value: [{ address: 'lena.vogel@mail.example' }] });
    expect(parsed.text).toContain('your order ships today');
  });

  it('answers any mail with a Reply-To there, the customer still being the verified From', async () => {
    await send({ From: 'Piotr Zieliński <piotr@work.example>', 'Reply-To': 'piotr.private@mail.example', Subject: 'Invoice' }, 'Please send the invoice to my private address.');
    const piotr = await card('email:piotr@work.example');
    expect(piotr.identities[0]).toMatchObject({ external_id: 'piotr@work.example', email_verified: true });
    const ticketId = piotr.tickets[0].id;
    expect((await rt.api.post(`/api/v1/tickets/${ticketId}/replies`, { text: 'Sent.' }, token)).status).toBe(202);
    await rt.settle();
    const parsed = await simpleParser((await sent(ticketId))[0]!.request.body!);
    expect(parsed.to).toMatchObject({ value: [{ address: 'piotr.private@mail.example' }] });
  });

  it('takes a whole domain of senders with @domain', async () => {
    await send({ From: 'orders@marketplace.example', 'Reply-To': 'buyer-7731@relay.marketplace.example', Subject: 'Question about item 7731' }, 'Is it still available?');
    expect(await card('email:buyer-7731@relay.marketplace.example')).toBeDefined();
    expect(await card('email:orders@marketplace.example')).toBeUndefined();
  });
});
