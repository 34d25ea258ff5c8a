/**
 * The `fetchCertificate` port of ingest (channels.md §8 step 4): GET a certificate. Only called
 * with a URL the adapter has already checked (functions/channels/email/sns.ts): the SNS signing
 * certificate (https, the topic region's SNS host, `.pem`), or the issuing intermediate named by
 * that certificate's AIA "CA Issuers" URL on amazontrust.com (DER, usually over http — it is
 * verified against the trust anchors, not trusted for where it came from). Returns PEM either
 * way. The adapter caches what it verified by URL, so this runs about once per certificate
 * rotation per execution environment. A network failure, timeout, 5xx or oversized body is a
 * `CertificateUnavailableError`, which ingest answers with 503 so SNS retries; a 4xx is a 401.
 */
import { unauthorized } from '../channels/channel.js';
import { CertificateUnavailableError } from '../channels/email/sns.js';

const TIMEOUT_MS = 3000;
/** Real SNS certificates are about 2 KB; anything near this is not one. */
const MAX_BYTES = 16 * 1024;

export async function fetchSnsCertificate(url: string): Promise<string> {
  let res: Response;
  try {
    // No redirects: the validated host must be the one answering.
    res = await fetch(url, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new CertificateUnavailableError('SNS certificate could not be fetched', { cause: { stage: 'certificate', error: (e as Error)?.name } });
  }
  // SNS's own host says there is no such certificate: a forged URL, not an outage (401).
  if (res.status >= 400 && res.status < 500) throw unauthorized('email', 'certificate', 'certificate not found');
  if (res.status !== 200) throw new CertificateUnavailableError('SNS certificate fetch was refused', { cause: { stage: 'certificate', status: res.status } });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_BYTES) throw new CertificateUnavailableError('SNS certificate is implausibly large', { cause: { stage: 'certificate' } });
  const text = bytes.toString('latin1');
  if (text.trimStart().startsWith('-----BEGIN')) return bytes.toString('utf8');
  // DER (AIA issuers are served as .cer): the same bytes as PEM.
  return `-----BEGIN CERTIFICATE-----\n${bytes.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}
