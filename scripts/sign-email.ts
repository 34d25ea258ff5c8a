/**
 * E-mail sample signer (channels.md §10 "How to sign", §8): builds the SNS envelope of each sample
 * from `request.sns` and the raw MIME in a sibling `.eml` file, and signs it with the test
 * signing key in `functions/channels/email/samples/pki/` exactly as SNS does (string to sign of
 * §8 step 5; SignatureVersion "1" RSA-SHA1, "2" RSA-SHA256; base64).
 *
 * `request.sns`:
 * - `envelope`: the SNS fields except `Message` (for notifications) and `Signature`;
 * - `notification`: the SES notification object; `content` is added from `eml` for the SNS action
 *   (UTF8: the text; BASE64: base64 of the bytes), none for the S3 action;
 * - `eml`: file name of the raw MIME beside the sample (CRLF preserved, `*.eml -text`);
 * - `tamper` `{from, to}`: replaced in the body AFTER signing (a tampered-message refusal);
 * - `omit`: fields removed after signing (missing-field refusals).
 * A top-level `defect` keeps the signature deliberately wrong (`wrong-credential`: the signature
 * of a different string) or absent (`missing-credential`).
 *
 * Deterministic: RSA PKCS#1 v1.5 signatures depend only on key and data, so re-signing an
 * unchanged sample changes nothing. Also used by the e2e test to build mail on the fly.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringToSign, type SnsType } from '../functions/channels/email/sns.js';
import { fileURLToPath } from 'node:url';
import type { SampleFile } from '../tests/helpers/samples.js';

// Not samplesDir() of tests/helpers/samples.ts: that module stamps e-mail samples with this
// signer (`loadSamples`), so this one must not import it at run time.
export const EMAIL_SAMPLES_DIR = fileURLToPath(new URL('../functions/channels/email/samples/', import.meta.url));
export const SNS_TEST_KEY_FILE = join(EMAIL_SAMPLES_DIR, 'pki', 'SimpleNotificationService-test0000-key.pem');
export const SNS_TEST_CERT_URL = 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-test0000.pem';

/** The order SNS writes its fields in (HTTP/S deliveries); unknown fields follow. */
const FIELD_ORDER = ['Type', 'MessageId', 'Token', 'TopicArn', 'Subject', 'Message', 'SubscribeURL', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL', 'UnsubscribeURL'];

export interface SnsSpec {
  readonly envelope: Record<string, string>;
  readonly notification?: Record<string, unknown>;
  readonly eml?: string;
  readonly tamper?: { readonly from: string; readonly to: string };
  readonly omit?: readonly string[];
}

/** SNS writes its body as indented JSON with ` : ` separators. */
export function snsWireFormat(fields: Record<string, string>): string {
  const keys = [...FIELD_ORDER.filter((k) => k in fields), ...Object.keys(fields).filter((k) => !FIELD_ORDER.includes(k))];
  return `{\n${keys.map((k) => `  ${JSON.stringify(k)} : ${JSON.stringify(fields[k])}`).join(',\n')}\n}`;
}

/** The SES `content` for the SNS action, from raw MIME. */
export function sesContent(raw: Buffer, encoding: string): string {
  return encoding === 'BASE64' ? raw.toString('base64') : raw.toString('utf8');
}

/**
 * Build and sign an SNS body. `raw` is the MIME (for notifications with an SNS action);
 * `defect` as in sample files.
 */
export function buildSnsBody(spec: SnsSpec, raw: Buffer | undefined, defect?: string): string {
  const fields: Record<string, string> = { ...spec.envelope };
  if (spec.notification) {
    const n = structuredClone(spec.notification) as Record<string, unknown> & { receipt?: { action?: { type?: string; encoding?: string } } };
    const action = n.receipt?.action;
    if (action?.type === 'SNS' && raw !== undefined) n.content = sesContent(raw, action.encoding ?? 'UTF8');
    fields.Message = JSON.stringify(n);
  }
  const type = (['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'].includes(fields.Type ?? '') ? fields.Type : 'Notification') as SnsType;
  const data = stringToSign(fields, type) + (defect === 'wrong-credential' ? 'forged' : '');
  const algorithm = fields.SignatureVersion === '1' ? 'sha1' : 'sha256';
  if (defect !== 'missing-credential') {
    fields.Signature = sign(algorithm, Buffer.from(data, 'utf8'), createPrivateKey(readFileSync(SNS_TEST_KEY_FILE))).toString('base64');
  }
  for (const k of spec.omit ?? []) delete fields[k];
  let body = snsWireFormat(fields);
  if (spec.tamper) {
    if (!body.includes(spec.tamper.from)) throw new Error(`sign-email: tamper text not found: ${spec.tamper.from}`);
    body = body.replace(spec.tamper.from, spec.tamper.to);
  }
  return body;
}

export function readEml(name: string): Buffer {
  if (!/^[\w.-]+\.eml$/.test(name)) throw new Error(`sign-email: bad eml file name ${name}`);
  return readFileSync(join(EMAIL_SAMPLES_DIR, name));
}

/** The channels.md §10 signer for `functions/channels/email/samples/`. */
export function signEmail(input: SampleFile, _secrets: Readonly<Record<string, string>>): SampleFile {
  const sample = structuredClone(input);
  const spec = sample.request.sns as SnsSpec | undefined;
  if (spec === undefined) return sample; // raw refusals (not JSON, …) carry no credential
  sample.request.body = buildSnsBody(spec, spec.eml ? readEml(spec.eml) : undefined, sample.defect);
  return sample;
}
