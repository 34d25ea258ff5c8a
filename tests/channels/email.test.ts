/**
 * E-mail edge cases the samples cannot express (channels.md §8): the SNS certificate source and
 * chain (fetch port, cache, trust root, validity, 503), signature versions, MIME facts (auto-reply
 * headers, quoted history, dates, HTML-only mail), the raw reply and SES delivery ids.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { CertificateUnavailableError, clearCertificateCache, isSnsUrl, MAX_TIMESTAMP_SKEW_MS, signingCertNames, snsHostFor, snsRegionOf, stringToSign } from '../../functions/channels/email/sns.js';
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

/**
 * Which check answered: the status, and for a refusal the evidence it carries (`cause.stage`,
 * `cause.detail`) — a refusal for another reason than the one a test is about proves nothing.
 */
function verdict(outcome: { admission: Admission } | { error: unknown }): { status: number; stage?: string; detail?: string } {
  if ('admission' in outcome) return { status: outcome.admission.reply.status };
  if (outcome.error instanceof ChannelRequestError) {
    const { stage, detail } = outcome.error.cause as { stage: string; detail?: string };
    return { status: outcome.error.status, stage, detail };
  }
  throw outcome.error;
}

const refused = (stage: string, detail: string) => ({ status: 401, stage, detail });
const NOT_OUR_SNS_URL = refused('certificate-url', 'SigningCertURL is not an https .pem URL on the topic region\'s SNS host');
const NOT_ISSUED = refused('certificate', 'certificate not issued by the trust root');

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
    expect(verdict(await admit(JSON.stringify({ ...v1, SignatureVersion: '2' })))).toEqual(refused('signature', 'signature does not verify'));
  });

  it('checks the certificate URL host on the parsed URL, before any lookup, and never fetches a foreign one', async () => {
    const fetchCertificate = vi.fn(async () => 'not called');
    for (const url of [
      'https://sns.eu-central-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem',
      'https://evil.example/sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://sns.eu-central-1.amazonaws.com:8443/SimpleNotificationService-x.pem',
      'https://user@sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
      'https://:secret@sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem',
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
      'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-x.pem#',
      'not a URL',
    ]) {
      const body = buildSnsBody(spec({ envelope: { SigningCertURL: url } }), MIME);
      const outcome = await admit(body, TEST_SECRETS, { fetchCertificate });
      expect(verdict(outcome), url).toEqual(NOT_OUR_SNS_URL);
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
    const hour = 3_600_000;
    expect(MAX_TIMESTAMP_SKEW_MS).toBe(hour);
    expect(status(await admit(at(-hour)))).toBe(200);
    expect(status(await admit(at(hour)))).toBe(200);
    const stale = refused('timestamp', 'Timestamp is not within an hour of now');
    expect(verdict(await admit(at(-hour - 1)))).toEqual(stale);
    expect(verdict(await admit(at(hour + 1)))).toEqual(stale);
    expect(verdict(await admit(at(-MAX_TIMESTAMP_SKEW_MS - 1000)))).toEqual(stale);
    expect(verdict(await admit(at(MAX_TIMESTAMP_SKEW_MS + 1000)))).toEqual(stale);
    // Only SNS's own form, ISO 8601 in UTC: no other notation Date.parse would also read.
    for (const ts of ['yesterday', '2026-10-12 10:00:00', '2026-10-12T10:00:01+00:00', '2026-10-12T10:00:01.Z', '2026-10-12T10:00:01.1234567890Z', '2026-13-45T10:00:01Z', '+002026-10-12T10:00:01Z']) {
      expect(verdict(await admit(buildSnsBody(spec({ envelope: { Timestamp: ts } }), MIME))), ts).toEqual(stale);
    }
    for (const ts of ['2026-10-12T10:00:01Z', '2026-10-12T10:00:01.5Z', '2026-10-12T10:00:01.123456789Z']) {
      expect(status(await admit(buildSnsBody(spec({ envelope: { Timestamp: ts } }), MIME))), ts).toBe(200);
    }
  });

  it('refuses a foreign topic with 401 before looking at the certificate', async () => {
    const fetchCertificate = vi.fn(async () => 'not called');
    const body = buildSnsBody(spec({ envelope: { TopicArn: 'arn:aws:sns:eu-central-1:999999999999:theirs', SigningCertURL: OTHER_CERT_URL } }), MIME);
    expect(verdict(await admit(body, TEST_SECRETS, { fetchCertificate }))).toEqual(refused('topic', 'TopicArn is not EMAIL_SNS_TOPIC_ARN'));
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
    expect(verdict(await admit(untrustedBody(), noRoot, { fetchCertificate: async () => UNTRUSTED_CERT }))).toEqual(NOT_ISSUED);
    expect(verdict(await admit(signedWith(TEST_SIGNER_KEY), noRoot, { fetchCertificate: async () => TEST_SIGNER_CERT }))).toEqual(NOT_ISSUED);
  });

  it('refuses a certificate the trust root issued to a name other than SNS with 401', async () => {
    const body = signedWith(createPrivateKey(fixture('sns-wrong-name-key.pem')));
    expect(verdict(await admit(body, TEST_SECRETS, { fetchCertificate: async () => fixture('sns-wrong-name.pem') }))).toEqual(refused('certificate', 'certificate does not name SNS'));
  });

  it('completes the chain with the intermediate named by the certificate\'s AIA URL on amazontrust.com, and no other host', async () => {
    const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
    const served = (leaf: string) => vi.fn(async (url: string) => (url === OTHER_CERT_URL ? leaf : url === AIA_URL ? INTERMEDIATE_PEM : 'nothing here'));
    const good = served(fixture('sns-via-intermediate.pem'));
    expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: good }))).toBe(200);
    expect(good.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL, AIA_URL]);
    clearCertificateCache();
    const foreign = served(fixture('sns-via-intermediate-foreign-aia.pem'));
    expect(verdict(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: foreign }))).toEqual(NOT_ISSUED);
    expect(foreign.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL]);
    clearCertificateCache();
    // An "intermediate" that is not a CA, or not issued by the anchors, completes nothing.
    const notCa = vi.fn(async (url: string) => (url === OTHER_CERT_URL ? fixture('sns-via-intermediate.pem') : TEST_SIGNER_CERT));
    expect(verdict(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: notCa }))).toEqual(refused('certificate', 'issuer certificate not issued by the trust root'));
  });

  it('refuses a certificate not issued by SNS_TRUST_ROOT_PEM with 401', async () => {
    expect(verdict(await admit(untrustedBody(), TEST_SECRETS, { fetchCertificate: async () => UNTRUSTED_CERT }))).toEqual(NOT_ISSUED);
  });

  it('refuses a certificate outside its validity with 401', async () => {
    const stamped = (now: number) => buildSnsBody(spec({ envelope: { Timestamp: new Date(now).toISOString() } }), MIME);
    const outside = refused('certificate', 'certificate outside its validity');
    expect(verdict(await admit(stamped(Date.UTC(2131, 0, 1)), TEST_SECRETS, undefined, Date.UTC(2131, 0, 1)))).toEqual(outside);
    expect(verdict(await admit(stamped(Date.UTC(2019, 0, 1)), TEST_SECRETS, undefined, Date.UTC(2019, 0, 1)))).toEqual(outside);
  });

  it('refuses with 401 when a certificate is neither local nor fetchable (no port), and when the port returns garbage', async () => {
    const body = buildSnsBody(spec({ envelope: { SigningCertURL: OTHER_CERT_URL } }), MIME);
    expect(verdict(await admit(body))).toEqual(refused('certificate', 'certificate not available offline'));
    expect(verdict(await admit(body, TEST_SECRETS, { fetchCertificate: async () => '<html>not a certificate</html>' }))).toEqual(refused('certificate', 'certificate does not parse'));
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
    expect(verdict(await admit(JSON.stringify({ ...body, SignatureVersion: '3' })))).toEqual(refused('signature', 'unsupported SignatureVersion'));
    expect(verdict(await admit(JSON.stringify({ ...body, Type: 'Other' })))).toEqual(refused('authenticity', 'unknown message type'));
    for (const k of ['Message', 'Subject', 'Token', 'SubscribeURL', 'UnsubscribeURL']) {
      expect(verdict(await admit(JSON.stringify({ ...body, [k]: 42 }))), k).toEqual(refused('authenticity', `${k} is not a string`));
    }
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

describe('email: SNS authenticity, each check for its own reason', () => {
  const body = () => JSON.parse(buildSnsBody(spec(), MIME)) as Record<string, unknown>;
  const signer = (name: string) => createPrivateKey(fixture(`${name}-key.pem`));

  it('refuses a message missing a signed field, or with it empty or not a string, with 401 naming the field', async () => {
    for (const k of ['Type', 'MessageId', 'TopicArn', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL']) {
      const { [k]: _dropped, ...without } = body();
      for (const b of [without, { ...body(), [k]: '' }, { ...body(), [k]: 42 }]) {
        expect(verdict(await admit(JSON.stringify(b))), k).toEqual(refused('authenticity', `${k} missing`));
      }
    }
  });

  it('refuses everything with 401 while EMAIL_SNS_TOPIC_ARN is unset or not an SNS topic ARN', async () => {
    const b = buildSnsBody(spec(), MIME);
    for (const unset of [undefined, '']) {
      expect(verdict(await admit(b, { ...TEST_SECRETS, EMAIL_SNS_TOPIC_ARN: unset as unknown as string }))).toEqual(refused('authenticity', 'topic not configured'));
    }
    expect(verdict(await admit(b, { ...TEST_SECRETS, EMAIL_SNS_TOPIC_ARN: 'arn:aws:s3:::sns' }))).toEqual(refused('authenticity', 'EMAIL_SNS_TOPIC_ARN is not an SNS topic ARN'));
  });

  it('reads the region of topic ARNs in the aws, aws-cn and aws-us-gov partitions, and nothing else', () => {
    const account = '111122223333';
    expect(snsRegionOf(`arn:aws:sns:eu-central-1:${account}:mail`)).toBe('eu-central-1');
    expect(snsRegionOf(`arn:aws-cn:sns:cn-northwest-1:${account}:mail`)).toBe('cn-northwest-1');
    expect(snsRegionOf(`arn:aws-us-gov:sns:us-gov-west-1:${account}:mail`)).toBe('us-gov-west-1');
    expect(snsRegionOf(`arn:aws:sns:ap-southeast-12:${account}:${'a_b-C9'.repeat(42)}abcd`)).toBe('ap-southeast-12');
    for (const arn of [
      undefined, '', `arn:aws-iso:sns:us-iso-east-1:${account}:mail`, `xarn:aws:sns:eu-central-1:${account}:mail`, `arn:aws:sns:eu-central-1:${account}:mail/x`,
      `arn:aws:sns:eu-central-1:${account}:mail.fifo.x`, 'arn:aws:sns:eu-central-1:11112222333:mail', 'arn:aws:sns:eu-central-1:1111222233334:mail',
      `arn:aws:sns:eu-central-1:${account}:`, `arn:aws:sns:eu-central-1:${account}:${'a'.repeat(257)}`, `arn:aws:sns:eu-central:${account}:mail`,
      `arn:aws:sns:EU-central-1:${account}:mail`, `arn:aws:sns:eu-central-123:${account}:mail`, `arn:aws:sns:e-central-1:${account}:mail`,
      `arn:aws:sns:eu-1:${account}:mail`, `arn:aws:sqs:eu-central-1:${account}:mail`,
    ]) {
      expect(snsRegionOf(arn), arn).toBeUndefined();
    }
  });

  it('expects the signing certificate names AWS\'s SDK expects per region (SnsHostProvider)', () => {
    expect(signingCertNames('eu-central-1')).toEqual(['sns.amazonaws.com', 'sns-signing.eu-central-1.amazonaws.com', 'sns-eu-central-1.amazonaws.com']);
    expect(signingCertNames('cn-north-1')).toEqual(['sns.amazonaws.com', 'sns.amazonaws.com.cn', 'sns-signing.cn-north-1.amazonaws.com.cn', 'sns-cn-north-1.amazonaws.com.cn']);
    expect(signingCertNames('us-gov-east-1')).toEqual(['sns.amazonaws.com', 'sns-signing.us-gov-east-1.amazonaws.com', 'sns-us-gov-east-1.amazonaws.com', 'sns-us-gov-west-1.amazonaws.com']);
    expect(signingCertNames('us-gov-west-1')).toEqual(['sns.amazonaws.com', 'sns-signing.us-gov-west-1.amazonaws.com', 'sns-us-gov-west-1.amazonaws.com']);
  });

  it('signs the documented fields in the documented order, absent ones left out', () => {
    const fields = { Type: 'Notification', MessageId: 'm', TopicArn: 't', Subject: 's', Message: 'x', Timestamp: 'ts', Token: 'k', SubscribeURL: 'u', SignatureVersion: '2', Signature: 'sig', SigningCertURL: 'c', UnsubscribeURL: 'uu' };
    expect(stringToSign(fields, 'Notification')).toBe('Message\nx\nMessageId\nm\nSubject\ns\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n');
    const { Subject: _s, ...noSubject } = fields;
    expect(stringToSign(noSubject, 'Notification')).toBe('Message\nx\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n');
    for (const type of ['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const) {
      expect(stringToSign({ ...fields, Type: type }, type)).toBe(`Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\n${type}\n`);
    }
  });

  it('refuses a Signature that is not plain base64 with 401 before any certificate work', async () => {
    const b = body();
    const sig = b.Signature as string;
    for (const bad of [`!${sig}`, `${sig}!`, `${sig}=`, `${sig.slice(0, 10)}=${sig.slice(10)}`, '====']) {
      expect(verdict(await admit(JSON.stringify({ ...b, Signature: bad }))), bad.slice(0, 12)).toEqual(refused('signature', 'Signature is not base64'));
    }
  });

  it('refuses a certificate with a key other than RSA with 401', async () => {
    expect(verdict(await admit(signedWith(signer('sns-ec')), TEST_SECRETS, { fetchCertificate: async () => fixture('sns-ec.pem') })))
      .toEqual(refused('certificate', 'certificate key is not RSA'));
  });

  it('refuses a certificate whose only SNS-like name is a wildcard with 401', async () => {
    expect(verdict(await admit(signedWith(signer('sns-wildcard')), TEST_SECRETS, { fetchCertificate: async () => fixture('sns-wildcard.pem') })))
      .toEqual(refused('certificate', 'certificate does not name SNS'));
  });

  it('refuses a certificate that names the trust root as its issuer but was signed by another key with 401', async () => {
    expect(verdict(await admit(signedWith(signer('sns-forged-issuer')), TEST_SECRETS, { fetchCertificate: async () => fixture('sns-forged-issuer.pem') })))
      .toEqual(NOT_ISSUED);
  });

  it('accepts a certificate from its first to its last valid instant, and not a millisecond outside', async () => {
    // The test signer is valid 2020-01-01T00:00:00Z → 2120-01-01T00:00:00Z.
    const stamped = (now: number) => buildSnsBody(spec({ envelope: { Timestamp: new Date(now).toISOString() } }), MIME);
    for (const t of [Date.UTC(2020, 0, 1), Date.UTC(2120, 0, 1)]) {
      expect(status(await admit(stamped(t), TEST_SECRETS, undefined, t)), new Date(t).toISOString()).toBe(200);
    }
    for (const t of [Date.UTC(2020, 0, 1) - 1, Date.UTC(2120, 0, 1) + 1]) {
      expect(verdict(await admit(stamped(t), TEST_SECRETS, undefined, t)), new Date(t).toISOString()).toEqual(refused('certificate', 'certificate outside its validity'));
    }
  });

  it('keeps at most 64 verified certificates, forgetting the oldest first', async () => {
    const url = (i: number) => `https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-cache${i}.pem`;
    const fetchCertificate = vi.fn(async () => TEST_SIGNER_CERT);
    const ports = { fetchCertificate };
    for (let i = 0; i <= 64; i++) expect(status(await admit(signedWith(TEST_SIGNER_KEY, { SigningCertURL: url(i) }), TEST_SECRETS, ports))).toBe(200);
    expect(fetchCertificate).toHaveBeenCalledTimes(65);
    // 65 URLs: the first was forgotten, the 64 after it are still known.
    expect(status(await admit(signedWith(TEST_SIGNER_KEY, { SigningCertURL: url(64) }), TEST_SECRETS, ports))).toBe(200);
    expect(status(await admit(signedWith(TEST_SIGNER_KEY, { SigningCertURL: url(1) }), TEST_SECRETS, ports))).toBe(200);
    expect(fetchCertificate).toHaveBeenCalledTimes(65);
    expect(status(await admit(signedWith(TEST_SIGNER_KEY, { SigningCertURL: url(0) }), TEST_SECRETS, ports))).toBe(200);
    expect(fetchCertificate).toHaveBeenCalledTimes(66);
    expect(fetchCertificate).toHaveBeenLastCalledWith(url(0));
  });

  it('looks up only plain file names in SNS_CERT_DIR (letters, digits, . _ -; a letter or digit first; at most 205 characters)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-cert-dir-'));
    try {
      const plain = `a${'b'.repeat(200)}.pem`;
      for (const name of ['-signer.pem', '_signer.pem', `a${'b'.repeat(201)}.pem`, 'a.pem!x.pem', plain]) writeFileSync(join(dir, name), TEST_SIGNER_CERT);
      const secrets = { ...TEST_SECRETS, SNS_CERT_DIR: dir };
      const at = (name: string) => signedWith(TEST_SIGNER_KEY, { SigningCertURL: `https://sns.eu-central-1.amazonaws.com/certs/${name}` });
      expect(status(await admit(at(plain), secrets))).toBe(200);
      for (const name of ['-signer.pem', '_signer.pem', `a${'b'.repeat(201)}.pem`, 'a.pem!x.pem']) {
        expect(verdict(await admit(at(name), secrets)), name.slice(0, 12)).toEqual(refused('certificate', 'certificate not available offline'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses everything with 401 while SNS_TRUST_ROOT_PEM names a file that cannot be read', async () => {
    const secrets = { ...TEST_SECRETS, SNS_TRUST_ROOT_PEM: join(tmpdir(), 'no-such-trust-root.pem') };
    expect(verdict(await admit(buildSnsBody(spec(), MIME), secrets))).toEqual(refused('certificate', 'trust root not readable'));
  });

  it('trusts every certificate of SNS_TRUST_ROOT_PEM, none of a file without one, and follows a change of the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-trust-'));
    try {
      const ca = readFileSync(join(PKI, 'test-ca.pem'), 'utf8');
      const roots = (name: string, text: string) => { writeFileSync(join(dir, name), text); return { ...TEST_SECRETS, SNS_TRUST_ROOT_PEM: join(dir, name) }; };
      const b = buildSnsBody(spec(), MIME);
      expect(status(await admit(b, roots('two.pem', `${UNTRUSTED_CERT}\nsome text between\n${ca}`)))).toBe(200);
      // An intermediate issued by any one of them completes the chain.
      const viaIntermediate = async (url: string) => (url === AIA_URL ? INTERMEDIATE_PEM : fixture('sns-via-intermediate.pem'));
      expect(status(await admit(signedWith(createPrivateKey(fixture('sns-via-intermediate-key.pem'))), roots('two.pem', `${UNTRUSTED_CERT}\n${ca}`), { fetchCertificate: viaIntermediate }))).toBe(200);
      expect(verdict(await admit(b, roots('none.pem', 'no certificate here')))).toEqual(NOT_ISSUED);
      expect(verdict(await admit(b, roots('other.pem', UNTRUSTED_CERT)))).toEqual(NOT_ISSUED);
      expect(status(await admit(b, roots('ca.pem', ca)))).toBe(200);
      expect(verdict(await admit(b, roots('other.pem', UNTRUSTED_CERT)))).toEqual(NOT_ISSUED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fetches an issuer only over http(s) on amazontrust.com or a subdomain, without port or user, the first such AIA URL', async () => {
    const fetchCertificate = vi.fn(async (url: string) => (url === OTHER_CERT_URL ? fixture('sns-aia-hosts.pem') : INTERMEDIATE_PEM));
    expect(verdict(await admit(signedWith(signer('sns-aia-hosts')), TEST_SECRETS, { fetchCertificate }))).toEqual(NOT_ISSUED);
    expect(fetchCertificate.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL, 'https://amazontrust.com/f.cer']);
  });

  it('fetches an intermediate once for every certificate it issued, and not at all after an intermediate that is not a CA', async () => {
    const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
    const leaf = fixture('sns-via-intermediate.pem');
    const second = 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-second.pem';
    const fetchCertificate = vi.fn(async (url: string) => (url === AIA_URL ? INTERMEDIATE_PEM : leaf));
    expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate }))).toBe(200);
    expect(status(await admit(signedWith(key, { SigningCertURL: second }), TEST_SECRETS, { fetchCertificate }))).toBe(200);
    expect(fetchCertificate.mock.calls.map((c) => c[0])).toEqual([OTHER_CERT_URL, AIA_URL, second]);
  });

  it('refuses the chain through an intermediate outside its validity, and an intermediate that does not parse, with 401', async () => {
    const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
    const served = (issuer: string) => async (url: string) => (url === OTHER_CERT_URL ? fixture('sns-via-intermediate.pem') : issuer);
    // In 2131 leaf and intermediate have both expired: the chain is refused before the leaf's dates are looked at.
    const t = Date.UTC(2131, 0, 1);
    expect(verdict(await admit(signedWith(key, { Timestamp: new Date(t).toISOString() }), TEST_SECRETS, { fetchCertificate: served(INTERMEDIATE_PEM) }, t))).toEqual(NOT_ISSUED);
    clearCertificateCache();
    expect(verdict(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: served('garbage') }))).toEqual(refused('certificate', 'issuer certificate does not parse'));
    clearCertificateCache();
    // A port that fails with something other than an Error is no outage either.
    const odd = async (url: string) => { if (url === OTHER_CERT_URL) return fixture('sns-via-intermediate.pem'); throw undefined; };
    expect(verdict(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate: odd }))).toEqual(refused('certificate', 'issuer certificate does not parse'));
  });

  it('does not reuse an intermediate verified under one trust root once SNS_TRUST_ROOT_PEM names another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-trust-'));
    try {
      writeFileSync(join(dir, 'other.pem'), UNTRUSTED_CERT);
      const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
      const fetchCertificate = vi.fn(async (url: string) => (url === AIA_URL ? INTERMEDIATE_PEM : fixture('sns-via-intermediate.pem')));
      expect(status(await admit(signedWith(key), TEST_SECRETS, { fetchCertificate }))).toBe(200);
      expect(verdict(await admit(signedWith(key), { ...TEST_SECRETS, SNS_TRUST_ROOT_PEM: join(dir, 'other.pem') }, { fetchCertificate })))
        .toEqual(refused('certificate', 'issuer certificate not issued by the trust root'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps each certificate of SNS_CERT_DIR apart: two signers there, each message verified with its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-cert-dir-'));
    try {
      writeFileSync(join(dir, 'SimpleNotificationService-a.pem'), TEST_SIGNER_CERT);
      writeFileSync(join(dir, 'SimpleNotificationService-b.pem'), fixture('sns-via-intermediate.pem'));
      const secrets = { ...TEST_SECRETS, SNS_CERT_DIR: dir };
      const at = (name: string) => `https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-${name}.pem`;
      const ports = { fetchCertificate: async (url: string) => (url === AIA_URL ? INTERMEDIATE_PEM : 'not served') };
      expect(status(await admit(signedWith(TEST_SIGNER_KEY, { SigningCertURL: at('a') }), secrets, ports))).toBe(200);
      expect(status(await admit(signedWith(createPrivateKey(fixture('sns-via-intermediate-key.pem')), { SigningCertURL: at('b') }), secrets, ports))).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a certificate from SNS_CERT_DIR that needs an intermediate when no port can fetch it, with 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-cert-dir-'));
    try {
      writeFileSync(join(dir, 'SimpleNotificationService-0a1b2c3d4e5f.pem'), fixture('sns-via-intermediate.pem'));
      const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
      expect(verdict(await admit(signedWith(key), { ...TEST_SECRETS, SNS_CERT_DIR: dir }))).toEqual(NOT_ISSUED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a signed UnsubscribeConfirmation (200) and refuses it relabelled as another type', async () => {
    const unsubscribe = buildSnsBody({ envelope: {
      Type: 'UnsubscribeConfirmation', MessageId: 'aaaaaaaa-bbbb-4ccc-8ddd-ffffffffffff', Token: 't9', TopicArn: TOPIC, Message: 'unsubscribed',
      SubscribeURL: 'https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&Token=t9', Timestamp: new Date(NOW).toISOString(), SignatureVersion: '2', SigningCertURL: SNS_TEST_CERT_URL,
    } }, undefined);
    expect(status(await admit(unsubscribe))).toBe(200);
    expect(verdict(await admit(JSON.stringify({ ...JSON.parse(unsubscribe), Type: 'SubscriptionConfirmation' })))).toEqual(refused('signature', 'signature does not verify'));
  });

  it('lets the port\'s own refusals and outages through while fetching an intermediate', async () => {
    const key = createPrivateKey(fixture('sns-via-intermediate-key.pem'));
    for (const failure of [new CertificateUnavailableError('down'), new ChannelRequestError(401, 'unauthorized', 'too large', { cause: { channel: 'email', stage: 'certificate', detail: 'issuer too large' } })]) {
      clearCertificateCache();
      const fetchCertificate = async (url: string) => { if (url === OTHER_CERT_URL) return fixture('sns-via-intermediate.pem'); throw failure; };
      const outcome = await admit(signedWith(key), TEST_SECRETS, { fetchCertificate });
      expect('error' in outcome && outcome.error, failure.name).toBe(failure);
    }
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
