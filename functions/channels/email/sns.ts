/**
 * Amazon SNS message authenticity for the e-mail channel (channels.md §8 "Authenticity").
 *
 * SNS signs every HTTP(S) delivery; the receiver verifies it with the certificate named in
 * `SigningCertURL` (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
 * Order, as the contract prescribes, every failure a 401 and nothing fetched before the URL is
 * known to be Amazon's:
 *   1. the signed fields are present;
 *   2. `SigningCertURL` is https on exactly `sns.<region>.amazonaws.com` (`.amazonaws.com.cn` in
 *      China), the region being the one of `EMAIL_SNS_TOPIC_ARN`, with no port, credentials,
 *      query or fragment, and a path ending `.pem`. A pattern such as
 *      `^sns\.[a-z0-9-]+\.amazonaws\.com$` is not enough: it also matches S3's virtual-hosted
 *      names (`sns.s3.amazonaws.com`, `sns.s3-us-west-2.amazonaws.com` — a bucket called `sns`),
 *      where anyone who owns that bucket could serve a certificate of their own;
 *   3. `TopicArn` is ours (anyone can subscribe our URL to their own topic);
 *   4. `Timestamp` is within MAX_TIMESTAMP_SKEW_MS (1 h) of now, either way: a captured genuine
 *      notification cannot be replayed later (SNS's default HTTP/S delivery policy gives up within
 *      a minute; a custom policy whose retries run past an hour would see its late retries
 *      refused — keep retries within the hour);
 *   5. the certificate: from `SNS_CERT_DIR` by the URL's last path segment, else fetched through
 *      the `fetchCertificate` port (cached by URL); it must name SNS (its subject alternative
 *      name, or common name without one, is one of SIGNING_CERT_NAMES — the names AWS's own SDK
 *      expects, https://github.com/aws/aws-sdk-java-v2 `SnsHostProvider`), be valid now, and chain
 *      to the trust anchors: `SNS_TRUST_ROOT_PEM` when set, else Amazon Root CA 1–4
 *      (amazon-roots.ts). SNS serves the leaf alone, so when no anchor issued it directly, the one
 *      intermediate is fetched from the leaf's Authority Information Access "CA Issuers" URL —
 *      only on `amazontrust.com` (Amazon Trust Services) — and must be a CA issued by an anchor.
 *      The name check matters as much as the chain: Amazon's roots also issue ACM certificates
 *      for anyone's domains;
 *   6. the signature over the documented string to sign: SignatureVersion "1" = SHA1withRSA,
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
import { AMAZON_ROOT_CAS } from './amazon-roots.js';

const CHANNEL = 'email';

/** How far a message's `Timestamp` may be from now, either way (step 4). */
export const MAX_TIMESTAMP_SKEW_MS = 60 * 60 * 1000;

/** `arn:<partition>:sns:<region>:<account>:<topic>` → region, for the partitions Confluo deploys to. */
export function snsRegionOf(topicArn: string | undefined): string | undefined {
  const m = /^arn:aws(?:-cn|-us-gov)?:sns:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:[A-Za-z0-9_-]{1,256}$/.exec(topicArn ?? '');
  return m?.[1];
}

/** The one SNS endpoint host of a region: `sns.<region>.amazonaws.com`, `.amazonaws.com.cn` in China. */
export function snsHostFor(region: string): string {
  return `sns.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/**
 * Names an SNS signing certificate of `region` carries, as AWS's SDK expects them (most regions
 * `sns.amazonaws.com`; some opt-in regions `sns-signing.<region>.amazonaws.com`; China and
 * GovCloud `sns-<region>.…`). All are Amazon's own names: no one else obtains a certificate for them.
 */
export function signingCertNames(region: string): string[] {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [...new Set(['sns.amazonaws.com', `sns.${suffix}`, `sns-signing.${region}.${suffix}`, `sns-${region}.${suffix}`,
    ...(region.startsWith('us-gov-') ? ['sns-us-gov-west-1.amazonaws.com'] : [])])];
}

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

/**
 * https on exactly `host` (snsHostFor): the rule for SigningCertURL (plus `.pem`, no query, no
 * fragment) and for SubscribeURL (whose query is the confirmation itself).
 */
export function isSnsUrl(raw: string, opts: { pem: boolean; host: string }): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  // `host` (not `hostname`) so an explicit port fails too; no credentials in the URL.
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.host !== opts.host) return false;
  return !opts.pem || (url.search === '' && url.hash === '' && !raw.includes('?') && !raw.includes('#') && url.pathname.endsWith('.pem'));
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

interface TrustRoots { readonly path: string; readonly cas: readonly X509Certificate[] }
let trustCache: TrustRoots | undefined;
let amazonRoots: readonly X509Certificate[] | undefined;

/** The trust anchors: SNS_TRUST_ROOT_PEM's certificates when set, else Amazon Root CA 1–4. */
function trustAnchors(secrets: Secrets): readonly X509Certificate[] {
  const path = secrets.SNS_TRUST_ROOT_PEM;
  if (path) return trustRoots(path);
  return (amazonRoots ??= AMAZON_ROOT_CAS.map((pem) => new X509Certificate(pem)));
}

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
/** Intermediates fetched by their AIA URL (+ trust root), verified against the anchors. */
const issuerCache = new Map<string, X509Certificate>();
const CERT_CACHE_MAX = 64;

function remember(cache: Map<string, X509Certificate>, key: string, cert: X509Certificate): void {
  if (cache.size >= CERT_CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, cert);
}

/** Forget cached certificates (tests). */
export function clearCertificateCache(): void {
  certCache.clear();
  issuerCache.clear();
  trustCache = undefined;
}

function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function checkValidity(cert: X509Certificate, now: number): void {
  if (!validAt(cert, now)) throw unauthorized(CHANNEL, 'certificate', 'certificate outside its validity');
}

function issuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** The leaf's AIA "CA Issuers" URL when it is on Amazon Trust Services' host, else undefined. */
function amazonIssuerUrl(cert: X509Certificate): string | undefined {
  for (const line of (cert.infoAccess ?? '').split('\n')) {
    const m = /^CA Issuers - URI:(\S+)$/.exec(line.trim());
    if (!m) continue;
    try {
      const url = new URL(m[1]!);
      // http is the AIA norm (RFC 5280 §4.2.2.1); what comes back is verified against the anchors.
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.port === '' && url.username === '' && (url.hostname === 'amazontrust.com' || url.hostname.endsWith('.amazontrust.com'))) return url.href;
    } catch {
      // not a URL: try the next line
    }
  }
  return undefined;
}

async function checkChain(cert: X509Certificate, secrets: Secrets, now: number, ports: AdmitPorts | undefined): Promise<void> {
  const anchors = trustAnchors(secrets);
  if (anchors.some((ca) => issuedBy(cert, ca))) return;
  const url = amazonIssuerUrl(cert);
  if (url === undefined || !ports?.fetchCertificate) throw unauthorized(CHANNEL, 'certificate', 'certificate not issued by the trust root');
  const key = `${url}\n${secrets.SNS_TRUST_ROOT_PEM ?? ''}`;
  let issuer = issuerCache.get(key);
  if (!issuer) {
    let candidate: X509Certificate;
    try {
      candidate = new X509Certificate(await ports.fetchCertificate(url));
    } catch (e) {
      if ((e as Error)?.name === 'CertificateUnavailableError' || (e as Error)?.name === 'ChannelRequestError') throw e;
      throw unauthorized(CHANNEL, 'certificate', 'issuer certificate does not parse');
    }
    if (!candidate.ca || !anchors.some((ca) => issuedBy(candidate, ca))) throw unauthorized(CHANNEL, 'certificate', 'issuer certificate not issued by the trust root');
    issuer = candidate;
    remember(issuerCache, key, issuer);
  }
  if (!validAt(issuer, now) || !issuedBy(cert, issuer)) throw unauthorized(CHANNEL, 'certificate', 'certificate not issued by the trust root');
}

/** The certificate names SNS (step 5): subject alternative name, or common name when it has none. */
function checkNamesSns(cert: X509Certificate, region: string): void {
  const names = signingCertNames(region);
  if (!names.some((n) => cert.checkHost(n, { subject: 'default', wildcards: false }) !== undefined)) {
    throw unauthorized(CHANNEL, 'certificate', 'certificate does not name SNS');
  }
}

/** The last path segment of the certificate URL, when it is a plain file name. */
function certFileName(url: URL): string | undefined {
  const last = url.pathname.split('/').at(-1) ?? '';
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.pem$/.test(last) ? last : undefined;
}

async function certificateFor(certUrl: string, region: string, secrets: Secrets, now: number, ports: AdmitPorts | undefined): Promise<X509Certificate> {
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
    checkNamesSns(cert, region);
    await checkChain(cert, secrets, now, ports);
    remember(certCache, key, cert);
  }
  checkValidity(cert, now);
  return cert;
}

// ---------------------------------------------------------------------------------------------
// Authenticity
// ---------------------------------------------------------------------------------------------

/**
 * Steps 1–6 (module header) on an already JSON-parsed body. Returns the message typed;
 * throws a 401 ChannelRequestError (or CertificateUnavailableError from the port) otherwise.
 */
export async function verifySnsMessage(body: Record<string, unknown>, secrets: Secrets, now: number, ports?: AdmitPorts): Promise<SnsMessage> {
  const topic = secrets.EMAIL_SNS_TOPIC_ARN;
  if (!topic) throw unauthorized(CHANNEL, 'authenticity', 'topic not configured');
  const region = snsRegionOf(topic);
  if (region === undefined) throw unauthorized(CHANNEL, 'authenticity', 'EMAIL_SNS_TOPIC_ARN is not an SNS topic ARN');

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
  if (!isSnsUrl(body.SigningCertURL as string, { pem: true, host: snsHostFor(region) })) throw unauthorized(CHANNEL, 'certificate-url', 'SigningCertURL is not an https .pem URL on the topic region\'s SNS host');

  // 3. our topic
  if (!safeEqual(body.TopicArn as string, topic)) throw unauthorized(CHANNEL, 'topic', 'TopicArn is not EMAIL_SNS_TOPIC_ARN');

  // 4. fresh (a replayed capture is refused before any certificate work)
  const ts = body.Timestamp as string;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(ts) ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(at) || Math.abs(now - at) > MAX_TIMESTAMP_SKEW_MS) throw unauthorized(CHANNEL, 'timestamp', 'Timestamp is not within an hour of now');

  const version = body.SignatureVersion as string;
  if (version !== '1' && version !== '2') throw unauthorized(CHANNEL, 'signature', 'unsupported SignatureVersion');
  const signature = body.Signature as string;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) throw unauthorized(CHANNEL, 'signature', 'Signature is not base64');

  // 5. certificate
  const cert = await certificateFor(body.SigningCertURL as string, region, secrets, now, ports);

  // 6. signature
  const data = Buffer.from(stringToSign(body, type as SnsType));
  let ok = false;
  try {
    ok = verifySignature(version === '1' ? 'sha1' : 'sha256', data, cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw unauthorized(CHANNEL, 'signature', 'signature does not verify');
  return body as unknown as SnsMessage;
}
