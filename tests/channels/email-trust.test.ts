/**
 * The default trust of SNS signing certificates (functions/channels/email/sns.ts): Amazon Root
 * CA 1–4, committed as PEM files and embedded in amazon-roots.ts for the Lambda bundle — both must
 * agree and be the roots Node itself ships. And the certificate port turns an AIA issuer served as
 * DER into PEM.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { AMAZON_ROOT_CAS } from '../../functions/channels/email/amazon-roots.js';
import { fetchSnsCertificate } from '../../functions/runtime/sns-certificate.js';
import { REPO_ROOT } from '../helpers/samples.js';

describe('SNS default trust', () => {
  it('ships Amazon Root CA 1–4 as files, the same as the embedded module and as Node\'s root store', () => {
    const files = [1, 2, 3, 4].map((n) => readFileSync(join(REPO_ROOT, `functions/channels/email/trust/AmazonRootCA${n}.pem`), 'utf8'));
    expect(AMAZON_ROOT_CAS).toEqual(files);
    const subjects = files.map((pem) => new X509Certificate(pem).subject.replace(/\n/g, ', '));
    expect(subjects).toEqual([1, 2, 3, 4].map((n) => `C=US, O=Amazon, CN=Amazon Root CA ${n}`));
    const nodeRoots = new Set(rootCertificates.map((pem) => new X509Certificate(pem).fingerprint256));
    for (const pem of files) expect(nodeRoots.has(new X509Certificate(pem).fingerprint256)).toBe(true);
    // Amazon Root CA 1, as published by Amazon Trust Services
    expect(new X509Certificate(files[0]!).fingerprint256).toBe('8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E');
  });

  it('fetches an AIA issuer served as DER and returns it as PEM (and a PEM as it is)', async () => {
    const der = readFileSync(join(REPO_ROOT, 'tests/channels/fixtures/sns-test-intermediate.cer'));
    const pem = readFileSync(join(REPO_ROOT, 'tests/channels/fixtures/sns-test-intermediate.pem'), 'utf8');
    const server = createServer((req, res) => { res.writeHead(200); res.end(req.url === '/x.cer' ? der : pem); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const fromDer = new X509Certificate(await fetchSnsCertificate(`${base}/x.cer`));
      expect(fromDer.fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
      expect(await fetchSnsCertificate(`${base}/x.pem`)).toBe(pem);
    } finally {
      server.close();
    }
  });
});
