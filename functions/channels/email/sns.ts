/**
 * Amazon SNS message authenticity for the e-mail channel (channels.md §8 "Authenticity").
 *
 * SNS signs every HTTP(S) delivery; the receiver verifies it with the certificate named in
 * `SigningCertURL` (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
 * Order, as the contract prescribes, every failure a 401 and nothing fetched before the URL is
 * known to be Amazon's:
 *   1. the signed fields are present;
 *   2. `SigningCertURL` is https, on a host matching `^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`
 *      (the PARSED host — a substring test would accept `sns.eu-central-1.amazonaws.com.evil.example`)
 *      and a path ending `.pem`;
 *   3. `TopicArn` is ours (anyone can subscribe our URL to their own topic);
 *   4. the certificate: from `SNS_CERT_DIR` by the URL's last path segment, else fetched through
 *      the `fetchCertificate` port (cached by URL); chained to `SNS_TRUST_ROOT_PEM` when set;
 *   5. the signature over the documented string to sign: SignatureVersion "1" = SHA1withRSA,
 *      "2" = SHA256withRSA (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html).
 *
 * Pure apart from reading certificate files from the configured directory; the network fetch is a
 * port handed in by ingest (functions/runtime/sns-certificate.ts).
 *
 * @module
 */
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { unauthorized, type AdmitPorts, type Secrets } from '../channel.js';
import { safeEqual } from '../common.js';

const CHANNEL = 'email';

/** Host of a genuine SNS endpoint, including the China partition (`sns.cn-north-1.amazonaws.com.cn`). */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/**
 * Thrown by the certificate port when the certificate cannot be fetched right now (network,
 * timeout, 5xx). Ingest maps this name to 503 so SNS retries later (channels.md §8 step 4).
 */
export class CertificateUnavailableError extends Error {
  override readonly name = 'CertificateUnavailableError';
}

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** The SNS HTTP(S) body after authenticity: signed fields typed, the rest as received. */
export interface SnsMessage {
  readonly Type: SnsType;
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Timestamp: string;
  readonly SignatureVersion: '1' | '2';
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly Message?: string;
  readonly Subject?: string;
  readonly Token?: string;
  readonly SubscribeURL?: string;
  readonly UnsubscribeURL?: string;
}

const REQUIRED = ['Type', 'MessageId', 'TopicArn', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;
const TYPES: readonly string[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];

/** Keys of the string to sign, in the documented order, per message type. */
const SIGNED_KEYS: Readonly<Record<SnsType, readonly string[]>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** `Name\nValue\n` for each present key, in order (values JSON-decoded). */
export function stringToSign(msg: Readonly<Record<string, unknown>>, type: SnsType): string {
  let out = '';
  for (const k of SIGNED_KEYS[type]) {
    const v = msg[k];
    if (typeof v === 'string') out += `${k}\n${v}\n`;
  }
  return out;
}

/** https on an SNS host: the rule for SigningCertURL (plus `.pem`) and for SubscribeURL. */
export function isSnsUrl(raw: string, opts: { pem: boolean }): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  // `host` (not `hostname`) so an explicit port fails too; no credentials in the URL.
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || !SNS_HOST.test(url.host)) return false;
  return !opts.pem || url.pathname.endsWith('.pem');
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

interface TrustRoots { readonly path: string; readonly cas: readonly X509Certificate[] }
let trustCache: TrustRoots | undefined;

function trustRoots(path: string): readonly X509Certificate[] {
  const abs = resolve(path);
  if (trustCache?.path === abs) return trustCache.cas;
  let pem: string;
  try {
    pem = readFileSync(abs, 'utf8');
  } catch {
    // A configured but unreadable trust root must not silently disable the chain check.
    throw unauthorized(CHANNEL, 'certificate', 'trust root not readable');
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.map((b) => new X509Certificate(b));
  trustCache = { path: abs, cas };
  return cas;
}

/** Verified certificates by source + URL (+ trust root), so SNS's steady traffic costs no fetch. */
const certCache = new Map<string, X509Certificate>();
const CERT_CACHE_MAX = 64;

function remember(key: string, cert: X509Certificate): void {
  if (certCache.size >= CERT_CACHE_MAX) certCache.delete(certCache.keys().next().value!);
  certCache.set(key, cert);
}

/** Forget cached certificates (tests). */
export function clearCertificateCache(): void {
  certCache.clear();
  trustCache = undefined;
}

function checkValidity(cert: X509Certificate, now: number): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(from <= now && now <= to)) throw unauthorized(CHANNEL, 'certificate', 'certificate outside its validity');
}

function checkChain(cert: X509Certificate, secrets: Secrets): void {
  const rootPath = secrets.SNS_TRUST_ROOT_PEM;
  if (!rootPath) return; // trust rests on the validated host and TLS (channels.md §8 step 4)
  const issued = trustRoots(rootPath).some((ca) => {
    try {
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
  if (!issued) throw unauthorized(CHANNEL, 'certificate', 'certificate not issued by the trust root');
}

/** The last path segment of the certificate URL, when it is a plain file name. */
function certFileName(url: URL): string | undefined {
  const last = url.pathname.split('/').at(-1) ?? '';
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.pem$/.test(last) ? last : undefined;
}

async function certificateFor(certUrl: string, secrets: Secrets, now: number, ports: AdmitPorts | undefined): Promise<X509Certificate> {
  const url = new URL(certUrl);
  const dir = secrets.SNS_CERT_DIR;
  const name = certFileName(url);
  const local = dir && name !== undefined && existsSync(join(resolve(dir), name)) ? join(resolve(dir), name) : undefined;
  const key = `${local ? `file:${local}` : `url:${url.href}`}\n${secrets.SNS_TRUST_ROOT_PEM ?? ''}`;
  let cert = certCache.get(key);
  if (!cert) {
    let pem: string;
    if (local) {
      pem = readFileSync(local, 'utf8');
    } else if (ports?.fetchCertificate) {
      // Network failures surface as CertificateUnavailableError (→ 503, SNS retries).
      pem = await ports.fetchCertificate(url.href);
    } else {
      throw unauthorized(CHANNEL, 'certificate', 'certificate not available offline');
    }
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw unauthorized(CHANNEL, 'certificate', 'certificate does not parse');
    }
    if (cert.publicKey.asymmetricKeyType !== 'rsa') throw unauthorized(CHANNEL, 'certificate', 'certificate key is not RSA');
    checkChain(cert, secrets);
    remember(key, cert);
  }
  checkValidity(cert, now);
  return cert;
}

// ---------------------------------------------------------------------------------------------
// Authenticity
// ---------------------------------------------------------------------------------------------

/**
 * Steps 1–5 of channels.md §8 on an already JSON-parsed body. Returns the message typed;
 * throws a 401 ChannelRequestError (or CertificateUnavailableError from the port) otherwise.
 */
export async function verifySnsMessage(body: Record<string, unknown>, secrets: Secrets, now: number, ports?: AdmitPorts): Promise<SnsMessage> {
  const topic = secrets.EMAIL_SNS_TOPIC_ARN;
  if (!topic) throw unauthorized(CHANNEL, 'authenticity', 'topic not configured');

  // 1. signed fields present (as non-empty strings)
  for (const k of REQUIRED) {
    if (typeof body[k] !== 'string' || body[k] === '') throw unauthorized(CHANNEL, 'authenticity', `${k} missing`);
  }
  const type = body.Type as string;
  if (!TYPES.includes(type)) throw unauthorized(CHANNEL, 'authenticity', 'unknown message type');
  for (const k of ['Message', 'Subject', 'Token', 'SubscribeURL', 'UnsubscribeURL']) {
    if (body[k] !== undefined && typeof body[k] !== 'string') throw unauthorized(CHANNEL, 'authenticity', `${k} is not a string`);
  }

  // 2. certificate URL, before any lookup
  if (!isSnsUrl(body.SigningCertURL as string, { pem: true })) throw unauthorized(CHANNEL, 'certificate-url', 'SigningCertURL is not an https SNS .pem URL');

  // 3. our topic
  if (!safeEqual(body.TopicArn as string, topic)) throw unauthorized(CHANNEL, 'topic', 'TopicArn is not EMAIL_SNS_TOPIC_ARN');

  const version = body.SignatureVersion as string;
  if (version !== '1' && version !== '2') throw unauthorized(CHANNEL, 'signature', 'unsupported SignatureVersion');
  const signature = body.Signature as string;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) throw unauthorized(CHANNEL, 'signature', 'Signature is not base64');

  // 4. certificate
  const cert = await certificateFor(body.SigningCertURL as string, secrets, now, ports);

  // 5. signature
  const data = Buffer.from(stringToSign(body, type as SnsType), 'utf8');
  let ok = false;
  try {
    ok = verifySignature(version === '1' ? 'sha1' : 'sha256', data, cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw unauthorized(CHANNEL, 'signature', 'signature does not verify');
  return body as unknown as SnsMessage;
}
