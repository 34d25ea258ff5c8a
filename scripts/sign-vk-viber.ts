/**
 * Signers of the VK and Viber samples (channels.md §10 "How to sign"), used by
 * `npm run samples:sign` through scripts/sign-samples.ts.
 *
 * - VK: the credential is the `secret` field inside the body. The body is rewritten as
 *   `JSON.stringify` of itself with `secret` set (key order kept); `group_id` is content and is
 *   left as the sample wrote it (the wrong-group refusals keep theirs). A body that is not a JSON
 *   object (the malformed refusal) is left unchanged.
 * - Viber: hex HMAC-SHA256 of the body bytes with VIBER_AUTH_TOKEN, in `X-Viber-Content-Signature`
 *   and in `?sig=`. The body is never touched (its `message_token`s above 2^53 are bare integers
 *   that JSON.stringify could not write). A sample may say where its signature goes and how:
 *   `"viber_signature": {"header": "right" | "wrong" | "upper" | "absent", "query": …}`;
 *   without it both are right, or both wrong / absent for the `wrong-credential` /
 *   `missing-credential` defects.
 */
import { createHmac } from 'node:crypto';
import type { SampleFile } from '../tests/helpers/samples.js';

type Signer = (sample: SampleFile, secrets: Readonly<Record<string, string>>) => SampleFile;

function secret(secrets: Readonly<Record<string, string>>, name: string): string {
  const v = secrets[name];
  if (v === undefined) throw new Error(`sign-samples: test secret ${name} is not defined`);
  return v;
}

/** Set (or remove) a header, keeping the sample's own spelling and position. */
function withHeader(headers: Readonly<Record<string, string>>, name: string, value: string | undefined): Record<string, string> {
  const lower = name.toLowerCase();
  const existing = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k === existing) {
      if (value !== undefined) out[k] = value;
    } else if (k.toLowerCase() !== lower) out[k] = v;
  }
  if (existing === undefined && value !== undefined) out[name] = value;
  return out;
}

/** Same length as the right value, one character different: exercises the constant-time compare. */
function wrongOf(right: string): string {
  return right.replace(/.$/, (c) => (c === '9' ? '8' : '9'));
}

export const signVk: Signer = (input, secrets) => {
  const sample = structuredClone(input);
  let body: unknown;
  try {
    body = JSON.parse(sample.request.body);
  } catch {
    return sample;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return sample;
  const doc = body as Record<string, unknown>;
  const right = secret(secrets, 'VK_SECRET');
  if (sample.defect === 'missing-credential') delete doc.secret;
  else doc.secret = sample.defect === 'wrong-credential' ? wrongOf(right) : right;
  sample.request.body = JSON.stringify(doc);
  return sample;
};

/** A key that is not VIBER_AUTH_TOKEN, for forged signatures. */
export const FORGED_VIBER_TOKEN = 'forged-viber-auth-token-000';

type Placement = 'right' | 'wrong' | 'upper' | 'absent';

export const signViber: Signer = (input, secrets) => {
  const sample = structuredClone(input);
  const body = Buffer.from(sample.request.body, 'utf8');
  const right = createHmac('sha256', secret(secrets, 'VIBER_AUTH_TOKEN')).update(body).digest('hex');
  const forged = createHmac('sha256', FORGED_VIBER_TOKEN).update(body).digest('hex');
  const fallback: Placement = sample.defect === 'missing-credential' ? 'absent' : sample.defect === 'wrong-credential' ? 'wrong' : 'right';
  const spec = (sample as Record<string, unknown>).viber_signature as { header?: Placement; query?: Placement } | undefined;
  const value = (p: Placement): string | undefined => (p === 'absent' ? undefined : p === 'wrong' ? forged : p === 'upper' ? right.toUpperCase() : right);
  sample.request.headers = withHeader(sample.request.headers, 'X-Viber-Content-Signature', value(spec?.header ?? fallback));
  const sig = value(spec?.query ?? fallback);
  const { sig: _old, ...query } = sample.request.query;
  sample.request.query = sig === undefined ? query : { ...query, sig };
  return sample;
};
