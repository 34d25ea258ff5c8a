/**
 * Twilio sample signer (channels.md §10 "How to sign", §7): `X-Twilio-Signature` = base64
 * HMAC-SHA1(TWILIO_AUTH_TOKEN, URL + sorted name+value pairs of the decoded form, empty values
 * kept). Deterministic, so re-signing an unchanged sample changes nothing.
 *
 * Sample fields the signer reads (beside `request`):
 * - `signed_url`: the URL to sign over instead of TWILIO_WEBHOOK_URL (the `:443` twin, or a
 *   foreign URL for a refusal);
 * - `signed_body`: the wire text to sign instead of `request.body` (a body tampered after signing);
 * - `defect`: `missing-credential` (no header) or `wrong-credential` (signed with another token).
 * A body that does not decode (the malformed-form refusal) keeps whatever header it has.
 */
import { decodeForm, twilioSignature } from '../functions/channels/twilio/form.js';
import type { SampleFile } from '../tests/helpers/samples.js';

/** A token that is not TWILIO_AUTH_TOKEN, for wrong-signature samples. */
export const WRONG_TWILIO_TOKEN = 'test-twilio-auth-token-999';
const HEADER = 'X-Twilio-Signature';

/** The signature Twilio would send for `body` posted to `url`. */
export function signTwilioBody(token: string, url: string, body: string): string {
  return twilioSignature(token, url, decodeForm(Buffer.from(body, 'utf8')));
}

function setHeader(headers: Readonly<Record<string, string>>, value: string | undefined): Record<string, string> {
  const existing = Object.keys(headers).find((k) => k.toLowerCase() === HEADER.toLowerCase());
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== existing) out[k] = v;
    else if (value !== undefined) out[k] = value;
  }
  if (existing === undefined && value !== undefined) out[HEADER] = value;
  return out;
}

export function signTwilio(input: SampleFile, secrets: Readonly<Record<string, string>>): SampleFile {
  const sample = structuredClone(input);
  const token = secrets.TWILIO_AUTH_TOKEN;
  const configured = secrets.TWILIO_WEBHOOK_URL;
  if (token === undefined || configured === undefined) throw new Error('sign-twilio: TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL test values are required');
  const url = typeof sample.signed_url === 'string' ? sample.signed_url : configured;
  const body = typeof sample.signed_body === 'string' ? sample.signed_body : sample.request.body;
  let value: string | undefined;
  if (sample.defect === 'missing-credential') value = undefined;
  else {
    try {
      value = signTwilioBody(sample.defect === 'wrong-credential' ? WRONG_TWILIO_TOKEN : token, url, body);
    } catch {
      return sample; // not a form: refused before the signature is looked at
    }
  }
  sample.request.headers = setHeader(sample.request.headers, value);
  return sample;
}
