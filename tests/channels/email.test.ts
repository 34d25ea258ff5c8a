/**
 * E-mail edge cases the samples cannot express (channels.md §8): the SNS certificate source and
 * chain (fetch port, cache, trust root, validity, 503), signature versions, MIME facts (auto-reply
 * headers, quoted history, dates, HTML-only mail), the raw reply and SES delivery ids.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { simpleParser } from 'mailparser';
import { decodeTime } from 'ulid';
import { ChannelRequestError, type Admission, type ChannelAdapter, type OutboundMessage, type RawRequest, type Secrets } from '../../functions/channels/channel.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import { email, sesRegion } from '../../functions/channels/email/index.js';
import { isAutoSubmitted, normaliseText, readMail, stripQuotedHistory } from '../../functions/channels/email/mime.js';
import { encodeHeaderText, renderRawEmail, replySubject } from '../../functions/channels/email/reply.js';
import { CertificateUnavailableError, clearCertificateCache, isSnsUrl, MAX_TIMESTAMP_SKEW_MS, snsHostFor, snsRegionOf, stringToSign } from '../../functions/channels/email/sns.js';
import { makeIngest } from '../../functions/handlers/ingest.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { NormalisedEvent, type InboundMessage } from '../../functions/domain/inbound.js';
import { buildSnsBody, SNS_TEST_CERT_URL, type SnsSpec } from '../../scripts/sign-email.js';
import { testConfig } from '../helpers/pipeline.js';
import { REPO_ROOT, TEST_SECRETS } from '../helpers/samples.js';

const NOW = Date.UTC(2026, 9, 12, 10);
const TOPIC = TEST_SECRETS.EMAIL_SNS_TOPIC_ARN!;
const PKI = join(REPO_ROOT, 'functions/channels/email/samples/pki');
const UNTRUSTED_CERT = readFileSync(join(REPO_ROOT, 'tests/channels/fixtures/sns-untrusted.pem'), 'utf8');
const UNTRUSTED_KEY = createPrivateKey(readFileSync(join(REPO_ROOT, 'tests/channels/fixtures/sns-untrusted-key.pem')));
const OTHER_CERT_URL = 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0a1b2c3d4e5f.pem';
const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'tests/channels/fixtures', name), 'utf8');
const TEST_SIGNER_CERT = readFileSync(join(PKI, 'SimpleNotificationService-test0000.pem'), 'utf8');
const TEST_SIGNER_KEY = createPrivateKey(readFileSync(join(PKI, 'SimpleNotificationService-test0000-key.pem')));
const AIA_URL = 'http://crt.test.amazontrust.com/test-intermediate.cer';
/** What the certificate port returns for the test intermediate (it turns the DER of an AIA URL into PEM). */
const INTERMEDIATE_PEM = fixture('sns-test-intermediate.pem');

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
const MIME = crlf(['From: Anna Kowalska <anna@shop.example>', 'To: support@acme.example', 'Subject: Hello', 'Date: Mon, 12 Oct 2026 10:00:00 +0000', 'Message-ID: <m1@shop.example>', 'Content-Type: text/plain; charset=UTF-8', '', 'Hello there', '']);

function spec(over: { envelope?: Record<string, string>; action?: Record<string, unknown>; receipt?: Record<string, unknown>; mail?: Record<string, unknown> } = {}): SnsSpec {
  return {
    envelope: {
      Type: 'Notification', MessageId: '11111111-2222-4333-8444-555555555555', TopicArn: TOPIC, Subject: 'Amazon SES Email Receipt Notification',
      Timestamp: '2026-10-12T10:00:01.000Z', SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL, UnsubscribeURL: 'https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe',
      ...over.envelope,
    },
    notification: {
      notificationType: 'Received',
      mail: { timestamp: '2026-10-12T10:00:00.500Z', source: 'anna@shop.example', messageId: 'unit0001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', commonHeaders: { from: ['Anna Kowalska <anna@shop.example>'] }, ...over.mail },
      receipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' }, dmarcVerdict: { status: 'PASS' }, action: { type: 'SNS', topicArn: TOPIC, encoding: 'UTF8', ...over.action }, ...over.receipt },
    },
  };
}

const req = (body: string): RawRequest => ({ method: 'POST', path: '/webhooks/email', query: {}, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: Buffer.from(body, 'utf8') });

async function admit(body: string, secrets: Secrets = TEST_SECRETS, ports?: Parameters<typeof email.admit>[3], now = NOW): Promise<{ admission: Admission } | { error: unknown }> {
  try {
    return { admission: await email.admit(req(body), secrets, now, ports) };
  } catch (error) {
    return { error };
  }
}

function status(outcome: { admission: Admission } | { error: unknown }): number {
  if ('admission' in outcome) return outcome.admission.reply.status;
  if (outcome.error instanceof ChannelRequestError) return outcome.error.status;
  throw outcome.error;
}

async function parse(body: string, raw?: Buffer, readObject?: (b: string, k: string) => Promise<Buffer>): Promise<InboundMessage | NormalisedEvent> {
  const admission = await email.admit(req(body), TEST_SECRETS, NOW);
  if (admission.kind !== 'accepted') throw new Error('handshake');
  const envelope = JSON.parse(JSON.stringify(buildEnvelope('email', req(body), admission, NOW, 'req-1')));
  const events = await email.parse(envelope, readObject ? { readObject } : (raw ? { readObject: async () => raw } : {}));
  expect(events).toHaveLength(1);
  expect(NormalisedEvent.safeParse(events[0]).success).toBe(true);
  return events[0]!;
}

/** A notification signed with `key`, naming OTHER_CERT_URL (not in SNS_CERT_DIR: served by the port). */
function signedWith(key: ReturnType<typeof createPrivateKey>, envelope: Record<string, string> = {}): string {
  const fields: Record<string, string> = { ...spec({ envelope: { SigningCertURL: OTHER_CERT_URL, ...envelope } }).envelope, Message: JSON.stringify({ ...spec().notification, content: MIME.toString('utf8') }) };
  fields.Signature = sign('sha256', Buffer.from(stringToSign(fields, 'Notification'), 'utf8'), key).toString('base64');
  return JSON.stringify(fields);
}

/** A notification signed with the untrusted (self-issued) key, its certificate served by the port. */
const untrustedBody = () => signedWith(UNTRUSTED_KEY);

beforeEach(() => clearCertificateCache());

describe('email: SNS authenticity', () => {
  it('accepts SignatureVersion 1 and 2 and refuses a v1 signature that claims to be v2 with 401', async () => {
    expect(status(await admit(buildSnsBody(spec({ envelope: { SignatureVersion: '1' } }), MIME)))).toBe(200);
    expect(status(await admit(buildSnsBody(spec(), MIME)))).toBe(200);
    const v1 = JSON.parse(buildSnsBody(spec({ envelope: { SignatureVersion: '1' } }), MIME));
    expect(status(await admit(JSON.stringify({ ...v1, SignatureVersion: '2' })))).toBe(401);
  });

  it('checks the certificate URL host on the parsed URL, before any lookup, and never fetches a foreign one', async () => {
    const fetchCertificate = vi.fn(async () => 'not called');
    for (const url of [
      'https://sns.eu-central-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem',
      'https://evil.example/sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.eu-central-1.amazonaws.com:8443/SimpleNotificationService-x.pem',
      'https://user@sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
      'http://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem.txt',
      'https://SNS.eu_central.amazonaws.com/x.pem',
      // S3's virtual-hosted names: a bucket called `sns` is anyone's (issue 17, finding 2)
      'https://sns.s3.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-x.pem',
      // SNS itself, but not the region of EMAIL_SNS_TOPIC_ARN (eu-central-1)
      'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem',
      // a query or fragment after a .pem path
      'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem?x=1',
      'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem?',
      'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem#x',
    ]) {
      const body = buildSnsBody(spec({ envelope: { SigningCertURL: url } }), MIME);
      const outcome = await admit(body, TEST_SECRETS, { fetchCertificate });
      expect(status(outcome), url).toBe(401);
    }
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('pins the SNS host to the topic\'s region, .amazonaws.com.cn in China', () => {
    expect(snsRegionOf('arn:aws-cn:sns:cn-north-1:111122223333:mail')).toBe('cn-north-1');
    expect(snsRegionOf('arn:aws:sns:eu-central-1:111122223333:mail')).toBe('eu-central-1');
    expect(snsRegionOf('arn:aws:s3:::sns')).toBeUndefined();
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem', { pem: true, host: snsHostFor('cn-north-1') })).toBe(true);
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-1.pem', { pem: true, host: snsHostFor('cn-north-1') })).toBe(false);
    expect(isSnsUrl('https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&Token=t', { pem: false, host: snsHostFor('eu-central-1') })).toBe(true);
  });

  it('refuses a message whose Timestamp is more than an hour from now, either way, or not a timestamp, with 401', async () => {
    const at = (ms: number) => buildSnsBody(spec({ envelope: { Timestamp: new Date(NOW + ms).toISOString() } }), MIME);
    expect(status(await admit(at(-MAX_TIMESTAMP_SKEW_MS + 1000)))).toBe(200);
    expect(status(await admit(at(MAX_TIMESTAMP_SKEW_MS - 1000)))).toBe(200);
    expect(status(await admit(at(-MAX_TIMESTAMP_SKEW_MS - 1000)))).toBe(401);
    expect(status(await admit(at(MAX_TIMESTAMP_SKEW_MS + 1000)))).toBe(401);
    expect(status(await admit(buildSnsBody(spec({ envelope: { Timestamp: 'yesterday' } }), MIME)))).toBe(401);
    expect(status(await admit(buildSnsBody(spec({ envelope: { Timestamp: '2026-10-12 10:00:00' } }), MIME)))).toBe(401);
  });

  it('refuses a foreign topic with 401 before looking at the certificate', async () => {
    const fetchCertificate = vi.fn(async () => 'not called');
    const body = buildSnsBody(spec({ envelope: { TopicArn: 'arn:aws:sns:eu-central-1:999999999999:theirs', SigningCertURL: OTHER_CERT_URL } }), MIME);
    expect(status(await admit(body, TEST_SECRETS, { fetchCertificate }))).toBe(401);
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('fetches a certificate that is not in SNS_CERT_DIR through the port, once per URL', async () => {
    const fetchCertificate = vi.fn(async () => TEST_SIGNER_CERT);
    expect(status(await admit(signedWith(TEST_SIGNER_KEY), TEST_SECRETS, { fetchCertificate }))).toBe(200);
    expect(status(await admit(signedWith(TEST_SIGNER_KEY), TEST_SECRETS, { fetchCertificate }))).toBe(200);
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
    expect(fetchCertificate).toHaveBeenCalledWith(OTHER_CERT_URL);
  });

  it('trusts Amazon\'s root CAs when SNS_TRUST_ROOT_PEM is not set: a certificate from anyone else is refused with 401', async () => {
    const noRoot = { ...TEST_SECRETS, SNS_TRUST_ROOT_PEM: '' };
    expect(status(await admit(untrustedBody(), noRoot, { fetchCertificate: async () => UNTRUSTED_CERT }))).toBe(401);
    expect(status(await admit(signedWith(TEST_SIGNER_KEY), noRoot, { fetchCertificate: async () => TEST_SIGNER_CERT }))).toBe(401);
  });

  it('refuses a certificate the trust root issued to a name other than SNS with 401', async () => {
    const body = signedWith(createPrivateKey(fixture('sns-wrong-name-key.pem')));
    expect(status(await admit(body, TEST_SECRETS, { fetchCertificate: async () => fixture('sns-wrong-name.pem') }))).toBe(401);
  });

  it('completes the chain with the intermediate named by the certificate\'s AIA URL on amazontrust.com, and no other host', async () => {
    const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
    const served = (leaf: string) => vi.fn(async (url: string) => (url === OTHER_CERT_URL ? leaf : url === AIA_URL ? INTERMEDIATE_PEM : 'nothing here'));
    const good = served(fixture('sns-via-intermediate.pem'));
    expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: good }))).toBe(200);
    expect(good.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL, AIA_URL]);
    clearCertificateCache();
    const foreign = served(fixture('sns-via-intermediate-foreign-aia.pem'));
    expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: foreign }))).toBe(401);
    expect(foreign.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL]);
    clearCertificateCache();
    // An "intermediate" that is not a CA, or not issued by the anchors, completes nothing.
    const notCa = vi.fn(async (url: string) => (url === OTHER_CERT_URL ? fixture('sns-via-intermediate.pem') : TEST_SIGNER_CERT));
    expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: notCa }))).toBe(401);
  });

  it('refuses a certificate not issued by SNS_TRUST_ROOT_PEM with 401', async () => {
    expect(status(await admit(untrustedBody(), TEST_SECRETS, { fetchCertificate: async () => UNTRUSTED_CERT }))).toBe(401);
  });

  it('refuses a certificate outside its validity with 401', async () => {
    const stamped = (now: number) => buildSnsBody(spec({ envelope: { Timestamp: new Date(now).toISOString() } }), MIME);
    expect(status(await admit(stamped(Date.UTC(2131, 0, 1)), TEST_SECRETS, undefined, Date.UTC(2131, 0, 1)))).toBe(401);
    expect(status(await admit(stamped(Date.UTC(2019, 0, 1)), TEST_SECRETS, undefined, Date.UTC(2019, 0, 1)))).toBe(401);
  });

  it('refuses with 401 when a certificate is neither local nor fetchable (no port), and when the port returns garbage', async () => {
    const body = buildSnsBody(spec({ envelope: { SigningCertURL: OTHER_CERT_URL } }), MIME);
    expect(status(await admit(body))).toBe(401);
    expect(status(await admit(body, TEST_SECRETS, { fetchCertificate: async () => '<html>not a certificate</html>' }))).toBe(401);
  });

  it('lets a certificate outage through as CertificateUnavailableError, which ingest answers with 503 and enqueues nothing', async () => {
    const body = buildSnsBody(spec({ envelope: { SigningCertURL: OTHER_CERT_URL } }), MIME);
    const down = async (): Promise<string> => { throw new CertificateUnavailableError('network down'); };
    const outcome = await admit(body, TEST_SECRETS, { fetchCertificate: down });
    expect('error' in outcome && (outcome.error as Error).name).toBe('CertificateUnavailableError');

    const enqueue = vi.fn(async () => {});
    const ingest = makeIngest({ config: testConfig(), clock: fixedClock(NOW), enqueue, ports: { fetchCertificate: down }, logger: { info: () => {}, warn: () => {}, error: () => {} } });
    const res = await ingest({
      version: '2.0', routeKey: '$default', rawPath: '/webhooks/email', rawQueryString: '', headers: { 'content-type': 'text/plain; charset=UTF-8' },
      pathParameters: { channel: 'email' }, requestContext: { http: { method: 'POST', path: '/webhooks/email' }, requestId: 'r-1' }, body, isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);
    expect(res).toMatchObject({ statusCode: 503 });
    expect(enqueue).not.toHaveBeenCalled();
  });

  it('refuses SignatureVersion other than 1 and 2, and non-string signed fields, with 401', async () => {
    const body = JSON.parse(buildSnsBody(spec(), MIME));
    expect(status(await admit(JSON.stringify({ ...body, SignatureVersion: '3' })))).toBe(401);
    expect(status(await admit(JSON.stringify({ ...body, Subject: 42 })))).toBe(401);
    expect(status(await admit(JSON.stringify({ ...body, Type: 'Other' })))).toBe(401);
  });

  it('answers a body that is JSON but not an object with 400', async () => {
    expect(status(await admit('[]'))).toBe(400);
    expect(status(await admit('"Notification"'))).toBe(400);
  });

  it('validates the SES notification after authenticity: content, encoding, S3 location (400)', async () => {
    expect(status(await admit(buildSnsBody(spec(), undefined)))).toBe(400); // SNS action without content
    expect(status(await admit(buildSnsBody(spec({ action: { type: 'S3' } }), undefined)))).toBe(400); // S3 without bucket/key
    const b64 = spec({ action: { encoding: 'BASE64' } });
    expect(status(await admit(buildSnsBody(b64, MIME)))).toBe(200);
    const notBase64 = { ...b64, notification: { ...b64.notification, content: 'not*base64!' } };
    expect(status(await admit(buildSnsBody(notBase64, undefined)))).toBe(400);
    const other = { ...b64, notification: { notificationType: 'Bounce', bounce: {} } };
    expect(status(await admit(buildSnsBody(other, undefined)))).toBe(200); // other types: ignored at parse
    expect(await parse(buildSnsBody(other, undefined))).toEqual({ kind: 'ignored', channel: 'email', reason: 'ses Bounce' });
  });
});

describe('email: parse', () => {
  it('reads the S3-action mail through readObject, and fails the record when the object is missing or no port is given', async () => {
    const body = buildSnsBody(spec({ action: { type: 'S3', bucketName: 'acme-inbound-mail', objectKey: 'inbound/unit0001' } }), undefined);
    const read = vi.fn(async () => MIME);
    const ev = await parse(body, undefined, read) as InboundMessage;
    expect(read).toHaveBeenCalledWith('acme-inbound-mail', 'inbound/unit0001');
    expect(ev).toMatchObject({ kind: 'message', text: 'Hello there', content_source: 's3' });
    const admission = await email.admit(req(body), TEST_SECRETS, NOW) as Extract<Admission, { kind: 'accepted' }>;
    const envelope = buildEnvelope('email', req(body), admission, NOW, 'req-2');
    await expect(email.parse(envelope, { readObject: async () => { throw new Error('NoSuchKey'); } })).rejects.toThrow('NoSuchKey');
    await expect(email.parse(envelope, {})).rejects.toThrow(/readObject/);
  });

  it('confirms a subscription only for an https SubscribeURL on an SNS host, once per Token', async () => {
    const confirmation = (token: string, url: string) => buildSnsBody({ envelope: {
      Type: 'SubscriptionConfirmation', MessageId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', Token: token, TopicArn: TOPIC, Message: 'confirm',
      SubscribeURL: url, Timestamp: new Date(NOW).toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
    } }, undefined);
    const url = 'https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&Token=t1';
    const a = await parse(confirmation('t1', url));
    const b = await parse(confirmation('t1', url));
    const c = await parse(confirmation('t2', url));
    expect(a).toMatchObject({ kind: 'verification', confirm: { method: 'GET', url } });
    expect((a as { dedup_key: string }).dedup_key).toBe((b as { dedup_key: string }).dedup_key);
    expect((a as { dedup_key: string }).dedup_key).not.toBe((c as { dedup_key: string }).dedup_key);
    expect(status(await admit(confirmation('t1', 'http://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription')))).toBe(400);
    // SNS, but another region than the topic's: not where our subscription is confirmed
    expect(status(await admit(confirmation('t1', 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t1')))).toBe(400);
    expect(status(await admit(confirmation('t1', 'https://sns.s3.amazonaws.com/?Action=ConfirmSubscription&Token=t1')))).toBe(400);
  });

  it('takes sent_at from Date, else from mail.timestamp (never "now"), and ignores mail without a From address', async () => {
    const noDate = crlf(['From: anna@shop.example', 'Subject: x', '', 'hi', '']);
    const ev = await parse(buildSnsBody(spec(), noDate)) as InboundMessage;
    expect(ev.sent_at).toBe(Math.floor(Date.parse('2026-10-12T10:00:00.500Z') / 1000));
    const badDate = crlf(['From: anna@shop.example', 'Date: next Tuesday', '', 'hi', '']);
    expect((await parse(buildSnsBody(spec(), badDate)) as InboundMessage).sent_at).toBe(ev.sent_at);
    const noFrom = crlf(['To: support@acme.example', 'Subject: x', '', 'hi', '']);
    expect(await parse(buildSnsBody(spec(), noFrom))).toMatchObject({ kind: 'ignored', reason: 'no sender address' });
  });

  it('marks the e-mail verified only on DMARC PASS (GRAY, FAIL, missing → claim)', async () => {
    for (const [verdict, verified] of [['PASS', true], ['GRAY', false], ['FAIL', false], [undefined, false]] as const) {
      const receipt = verdict === undefined ? { dmarcVerdict: undefined } : { dmarcVerdict: { status: verdict } };
      const ev = await parse(buildSnsBody(spec({ receipt }), MIME)) as InboundMessage;
      expect(ev.customer_identity, String(verdict)).toEqual({ external_id: 'anna@shop.example', display_name: 'Anna Kowalska', email: 'anna@shop.example', email_verified: verified });
    }
  });

  it('generates text from HTML when there is no text part, with CRLF → LF and trailing newlines removed', async () => {
    const html = crlf(['From: anna@shop.example', 'Content-Type: text/html; charset=UTF-8', '', '<p>Hello<br>World</p><p>Second</p>', '', '']);
    const ev = await parse(buildSnsBody(spec(), html)) as InboundMessage;
    expect(ev.text).toBe('Hello\nWorld\n\nSecond');
    expect(normaliseText('a\r\nb\r\n\r\n\n')).toBe('a\nb');
    expect(normaliseText('  a  \n\n b ')).toBe('  a  \n\n b ');
  });

  it('reports a phone typed in the reply but not one in the quoted history', async () => {
    const quoted = crlf(['From: anna@shop.example', '', 'Thanks!', '', 'On Mon, Support wrote:', '> Call us at +44 20 7946 0958', '']);
    expect((await parse(buildSnsBody(spec(), quoted)) as InboundMessage).phone_in_text).toBeUndefined();
  });
});

describe('email: auto-replies and bounces', () => {
  const mail = (headers: string[], from = 'anna@shop.example') => simpleParser(crlf([`From: ${from}`, ...headers, 'Subject: x', '', 'body', '']));
  it.each([
    [['Auto-Submitted: auto-replied'], true],
    [['Auto-Submitted: auto-generated; owner-email="x@y.example"'], true],
    [['Auto-Submitted: no'], false],
    [['Auto-Submitted: No'], false],
    [['X-Autoreply: yes'], true],
    [['X-Autorespond: vacation'], true],
    [['Precedence: bulk'], true],
    [['Precedence: junk'], true],
    [['Precedence: list'], true],
    [['Precedence: auto_reply'], true],
    [['Precedence: first-class'], false],
    [['Return-Path: <>'], true],
    [['Return-Path: <anna@shop.example>'], false],
    [['Content-Type: multipart/report; report-type=delivery-status; boundary=b'], true],
    [[], false],
  ])('%j → auto-submitted %s', async (headers, expected) => {
    const m = await mail(headers);
    expect(isAutoSubmitted(m, 'anna@shop.example')).toBe(expected);
  });

  it('treats mail from MAILER-DAEMON as a delivery report', async () => {
    const facts = await readMail(crlf(['From: MAILER-DAEMON@mx.example', 'Subject: Undeliverable', '', 'x', '']));
    expect(facts.autoSubmitted).toBe(true);
  });
});

describe('email: quoted history (reply_text)', () => {
  it('equals text exactly when nothing is quoted, signatures and trailing spaces included', () => {
    const t = 'Thanks!  \n-- \nJane Doe\nSent from my phone';
    expect(stripQuotedHistory(t)).toBe(t);
  });

  it('cuts the attribution line and the > lines after it, including a wrapped attribution', () => {
    expect(stripQuotedHistory('Yes please.\n\nOn Mon, 5 Oct 2026 at 10:00, Acme <support@acme.example> wrote:\n> Shall we?\n> Regards')).toBe('Yes please.');
    expect(stripQuotedHistory('Yes.\n\nOn Mon, 5 Oct 2026 at 10:00, Acme Support <support@acme.example>\nwrote:\n\n> Shall we?')).toBe('Yes.');
    expect(stripQuotedHistory('Ja.\n\nAm 05.10.2026 um 18:02 schrieb Acme <a@acme.example>:\n> Frage')).toBe('Ja.');
    expect(stripQuotedHistory('Tak.\n\nW dniu 5.10.2026 o 10:00 Acme pisze:\n> Pytanie')).toBe('Tak.');
    expect(stripQuotedHistory('Да.\n\n5 окт. 2026 г., в 10:00, Acme <a@acme.example> пишет:\n> Вопрос')).toBe('Да.');
  });

  it('keeps answers written between quotes, and cuts an Outlook original-message block', () => {
    expect(stripQuotedHistory('Answer one\n\n> question one\n\nAnswer two\n> q2')).toBe('Answer one\n\nAnswer two');
    expect(stripQuotedHistory('See below.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\n\nOld text')).toBe('See below.');
  });

  it('keeps a colon line that is not followed by a quote', () => {
    const t = 'My colleague wrote:\nthe parcel is lost.';
    expect(stripQuotedHistory(t)).toBe(t);
  });

  // Their speed (the email-reply-parser package took minutes on these) is measured by
  // `npm run bench` (bench/hostile-input.ts); here, what comes out of them.
  it('keeps hostile bodies that only look like attributions, and cuts a run of quote markers', () => {
    const lookalikes = [('Op x schreef y\n').repeat(40_000), `On ${'a '.repeat(100_000)}`, `${'\n'.repeat(200_000)}x`];
    for (const body of lookalikes) expect(stripQuotedHistory(body)).toBe(body);
    expect(stripQuotedHistory(`${'>\n'.repeat(50_000)}x`)).toBe('x');
    const all = lookalikes.join('\n');
    expect(normaliseText(all)).toBe(all);
  });
});

describe('email: reply', () => {
  const context = {
    ticket_number: 'C-000042', subject: 'Re: [C-000042] Zamówienie 4471', rfc_message_id: '<m2@shop.example>',
    thread: { in_reply_to: '<r1@eu-central-1.amazonses.com>', references: ['<m1@shop.example>', '<r1@eu-central-1.amazonses.com>'], ticket_tag: 'C-000042' },
  };
  const msg = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({ id: '01JF8Z3K5M7P9R1T3V5X7Z9B1D', channel: 'email', conversation_id: 'anna@shop.example', text: 'Dzień dobry,\nsprawdzamy.', kind: 'reply', context, ...over });
  const secrets = { EMAIL_FROM: 'Acme Support <support@acme.example>' };

  it('describes SES SendRawEmail from EMAIL_FROM to the customer, threaded with In-Reply-To and References', async () => {
    const request = email.render(msg(), { secrets });
    expect(request).toMatchObject({ method: 'POST', url: 'ses:SendRawEmail', headers: {} });
    const raw = request.body!;
    expect(raw).toMatch(/^From: Acme Support <support@acme\.example>\r\nTo: anna@shop\.example\r\n/);
    expect(raw).not.toMatch(/[^\r]\n/); // CRLF throughout
    const parsed = await simpleParser(Buffer.from(raw, 'utf8'));
    expect(parsed.subject).toBe('Re: [C-000042] Zamówienie 4471');
    expect(parsed.inReplyTo).toBe('<m2@shop.example>');
    expect(parsed.references).toEqual(['<m1@shop.example>', '<r1@eu-central-1.amazonses.com>', '<m2@shop.example>']);
    expect(parsed.text).toBe('Dzień dobry,\nsprawdzamy.');
    expect(parsed.headers.get('auto-submitted')).toBeUndefined();
    expect(parsed.date?.getTime()).toBe(Math.floor(decodeTime('01JF8Z3K5M7P9R1T3V5X7Z9B1D') / 1000) * 1000); // the ULID's time
  });

  it('marks acknowledgements Auto-Submitted: auto-replied (RFC 3834) and surveys auto-generated, listing survey choices', async () => {
    expect(email.render(msg({ kind: 'acknowledgement', id: 'ack-x' }), { secrets }).body).toMatch(/\r\nAuto-Submitted: auto-replied\r\n/);
    const survey = email.render(msg({ kind: 'survey', buttons: [{ label: 'Good', payload: 'csat:5' }, { label: 'Bad', payload: 'csat:1' }] }), { secrets }).body!;
    expect(survey).toMatch(/\r\nAuto-Submitted: auto-generated\r\n/);
    expect((await simpleParser(Buffer.from(survey))).text).toContain('1. Good\n2. Bad');
  });

  it('builds the subject without piling up Re: or the ticket tag, and encodes it (RFC 2047)', () => {
    expect(replySubject('Re: RE: Aw: [C-000042] Order', 'C-000042')).toBe('Re: [C-000042] Order');
    expect(replySubject('Fwd: Order [C-000042]', 'C-000042')).toBe('Re: [C-000042] Order');
    expect(replySubject('', 'C-000042')).toBe('Re: [C-000042]');
    expect(replySubject('Order', undefined)).toBe('Re: Order');
    expect(encodeHeaderText('Plain')).toBe('Plain');
    expect(encodeHeaderText('Zażółć gęślą jaźń '.repeat(5)).split('\r\n ').every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w) && w.length <= 75)).toBe(true);
  });

  it('keeps header injection out: CR/LF in the subject, and a conversation that is not an address', () => {
    const raw = renderRawEmail(msg({ context: { ...context, subject: 'Hi\r\nBcc: victim@evil.example' } }), secrets.EMAIL_FROM);
    expect(raw).not.toMatch(/^Bcc:/m);
    expect(() => email.render(msg({ conversation_id: 'anna@shop.example\r\nBcc: x@evil.example' }), { secrets })).toThrow();
    expect(() => email.render(msg(), { secrets: {} })).toThrow(/EMAIL_FROM/);
  });

  it('writes ASCII bodies as 7bit and others as base64', () => {
    expect(renderRawEmail(msg({ text: 'Hello' }), secrets.EMAIL_FROM)).toContain('Content-Transfer-Encoding: 7bit\r\n\r\nHello\r\n');
    expect(renderRawEmail(msg(), secrets.EMAIL_FROM)).toContain('Content-Transfer-Encoding: base64');
  });

  it('caps References at 20 ids, keeping the first and the newest', () => {
    const refs = Array.from({ length: 40 }, (_, i) => `<r${i}@x.example>`);
    const raw = renderRawEmail(msg({ context: { ...context, thread: { ...context.thread, references: refs } } }), secrets.EMAIL_FROM);
    const ids = /References: ([\s\S]*?)\r\n(?! )/.exec(raw)![1]!.split('\r\n ');
    expect(ids).toHaveLength(20);
    expect(ids[0]).toBe('<r0@x.example>');
    expect(ids.at(-1)).toBe('<m2@shop.example>');
  });
});

describe('email: delivery', () => {
  const m: OutboundMessage = { id: 'x', channel: 'email', conversation_id: 'anna@shop.example', text: 'x', kind: 'reply' };
  const ok = { status: 200, headers: {}, body: JSON.stringify({ MessageId: '0107018f2a3b4c5d-6e7f8091-a2b3-4c4d-9e5f-607182930a1b-000000' }) };

  it('stores SES\'s Message-ID <MessageId@<region>.amazonses.com>, region from EMAIL_SES_REGION else the topic ARN', () => {
    expect(email.readDelivery(ok, m, { secrets: TEST_SECRETS })).toEqual({ ok: true, external_message_id: '<0107018f2a3b4c5d-6e7f8091-a2b3-4c4d-9e5f-607182930a1b-000000@eu-central-1.amazonses.com>' });
    expect(email.readDelivery(ok, m, { secrets: { ...TEST_SECRETS, EMAIL_SES_REGION: 'us-east-1' } })).toMatchObject({ external_message_id: expect.stringMatching(/@email\.amazonses\.com>$/) });
    expect(email.readDelivery(ok, m, { secrets: { ...TEST_SECRETS, EMAIL_SES_REGION: 'eu-west-1' } })).toMatchObject({ external_message_id: expect.stringMatching(/@eu-west-1\.amazonses\.com>$/) });
    expect(email.readDelivery(ok, m)).toEqual({ ok: true });
    expect(sesRegion({ EMAIL_SNS_TOPIC_ARN: 'arn:aws-cn:sns:cn-north-1:1:t' })).toBe('cn-north-1');
  });

  it('retries throttling and 5xx, and fails permanently on a rejected message with its code', () => {
    expect(email.readDelivery({ status: 400, headers: {}, body: JSON.stringify({ Error: { Code: 'Throttling' } }) }, m)).toMatchObject({ ok: false, retryable: true, error_code: 'Throttling' });
    expect(email.readDelivery({ status: 429, headers: { 'retry-after': '3' }, body: '' }, m)).toEqual({ ok: false, retryable: true, retry_after_s: 3, error_code: '429' });
    expect(email.readDelivery({ status: 503, headers: {}, body: '' }, m)).toMatchObject({ ok: false, retryable: true });
    expect(email.readDelivery({ status: 400, headers: {}, body: JSON.stringify({ Error: { Code: 'MessageRejected' } }) }, m)).toEqual({ ok: false, retryable: false, error_code: 'MessageRejected' });
  });

  it('has no messaging window and no native buttons', () => {
    expect(email.capabilities).toMatchObject({ replyWindowSeconds: null, buttons: false, maxBodyBytes: 524_288 });
    expect((email as ChannelAdapter).deliveryFor).toBeUndefined(); // SES sends no receipts on this path
  });
});

describe('email: test PKI', () => {
  it('keeps the signing certificate named like the samples\' SigningCertURL, issued by the test CA', () => {
    expect(SNS_TEST_CERT_URL.split('/').at(-1)).toBe('SimpleNotificationService-test0000.pem');
    expect(readFileSync(join(PKI, 'SimpleNotificationService-test0000.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(readFileSync(join(PKI, 'test-ca.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
