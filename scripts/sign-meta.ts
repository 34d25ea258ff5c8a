/**
 * Meta sample signer — whatsapp, messenger, instagram (channels.md §10 "How to sign", §2–§4).
 *
 * POST samples: the body is rewritten the way Meta writes it (compact `JSON.stringify`, every
 * UTF-16 code unit above U+007E as `\uXXXX` with lowercase hex, every `/` as `\/`) and
 * `X-Hub-Signature-256` = `sha256=` + hex HMAC-SHA256(META_APP_SECRET, those bytes). A body that
 * is not JSON (the malformed refusal) is signed as it is. GET handshake samples get
 * `hub.verify_token` = META_VERIFY_TOKEN in their query. Deterministic and idempotent: re-signing
 * an unchanged sample changes nothing.
 *
 * Sample fields the signer reads (beside `request`):
 * - `defect`: `missing-credential` (no signature header / no verify token) or `wrong-credential`
 *   (signed with another secret of the same length / another verify token);
 * - `meta_signature`: `legacy-sha1` adds the SHA-1 `X-Hub-Signature` Meta also sends (valid, but
 *   never accepted instead of SHA-256); `reserialised` signs `JSON.stringify(JSON.parse(body))`
 *   instead of the bytes sent — the classic bug on non-ASCII text, which MUST fail.
 */
import { createHmac } from 'node:crypto';
import { metaSignature, metaWireBody } from '../functions/channels/meta.js';
import type { SampleFile } from '../tests/helpers/samples.js';

/** Same length as the test secrets, so refusals exercise the constant-time comparison itself. */
export const WRONG_META_APP_SECRET = 'test-meta-app-secret-009';
export const WRONG_META_VERIFY_TOKEN = 'test-meta-verify-009';

function setHeader(headers: Readonly<Record<string, string>>, name: string, value: string | undefined): Record<string, string> {
  const lower = name.toLowerCase();
  const existing = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== existing) out[k] = v;
    else if (value !== undefined) out[k] = value;
  }
  if (existing === undefined && value !== undefined) out[name] = value;
  return out;
}

function secretOf(secrets: Readonly<Record<string, string>>, name: string): string {
  const v = secrets[name];
  if (v === undefined) throw new Error(`sign-meta: test secret ${name} is not defined`);
  return v;
}

/** The wire form of a JSON body as Meta sends it; other text unchanged. */
export function metaWireForm(body: string): string {
  try {
    return metaWireBody(JSON.parse(body));
  } catch {
    return body;
  }
}

export function signMeta(input: SampleFile, secrets: Readonly<Record<string, string>>): SampleFile {
  const sample = structuredClone(input);
  const req = sample.request;
  if (req.method.toUpperCase() === 'GET') {
    const query: Record<string, string> = { ...req.query };
    if (sample.defect === 'missing-credential') delete query['hub.verify_token'];
    else query['hub.verify_token'] = sample.defect === 'wrong-credential' ? WRONG_META_VERIFY_TOKEN : secretOf(secrets, 'META_VERIFY_TOKEN');
    req.query = query;
    return sample;
  }
  const secret = secretOf(secrets, 'META_APP_SECRET');
  req.body = metaWireForm(req.body);
  const mode = (sample as Record<string, unknown>).meta_signature;
  let signature: string | undefined;
  if (sample.defect === 'missing-credential') signature = undefined;
  else if (sample.defect === 'wrong-credential') signature = metaSignature(WRONG_META_APP_SECRET, req.body);
  else if (mode === 'reserialised') signature = metaSignature(secret, JSON.stringify(JSON.parse(req.body)));
  else signature = metaSignature(secret, req.body);
  req.headers = setHeader(req.headers, 'X-Hub-Signature-256', signature);
  const legacy = mode === 'legacy-sha1' ? `sha1=${createHmac('sha1', secret).update(req.body).digest('hex')}` : undefined;
  req.headers = setHeader(req.headers, 'X-Hub-Signature', legacy);
  return sample;
}
