/**
 * Twilio's verify side (channels.md §5): what the ingest function imports — the form decoding,
 * the `X-Twilio-Signature` check over the configured URL and the decoded parameters, and the
 * validation the parser in ./index.ts shares (so parse cannot fail on a record admit accepted).
 * No phone metadata here: numbers are formatted on the parse side.
 *
 * @module
 */
import { defineIngress, invalid, malformed, unauthorized, type Admission, type RawRequest, type Secrets } from '../channel.js';
import { safeEqual } from '../common.js';
import { FormError, decodeForm, twilioSignature, urlForms, type FormPair } from './form.js';

const CHANNEL = 'twilio';
const SIGNATURE_HEADER = 'x-twilio-signature';
const IDEMPOTENCY_HEADER = 'i-twilio-idempotency-token';
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
/** An MMS carries at most 10 media (https://www.twilio.com/docs/messaging/guides/webhook-request). */
const MAX_MEDIA = 10;
/** Decimal numbers as Twilio writes coordinates (`Latitude=52.2297`). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
/** Inbound status words: these are the states of a message we *received*, not a receipt. */
const INBOUND_STATUSES = new Set(['received', 'receiving']);
/** `SM…`/`MM…` message SIDs are 34 characters; anything SID-like is accepted, nothing unbounded. */
export const SID = /^[A-Za-z0-9]{2,64}$/;

// ---------------------------------------------------------------------------------------------
// Reading the form
// ---------------------------------------------------------------------------------------------

/** First value of each parameter (Twilio never repeats a name; signatures still cover every value). */
export type Params = ReadonlyMap<string, string>;

export function paramsOf(pairs: readonly FormPair[]): Params {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) if (!m.has(k)) m.set(k, v);
  return m;
}

/** A parameter's value, `undefined` when absent **or empty** (Twilio sends `FromCity=` etc.). */
export function get(p: Params, name: string): string | undefined {
  const v = p.get(name);
  return v === undefined || v === '' ? undefined : v;
}

export interface Media { readonly url: string; readonly contentType: string | undefined }

export type Parsed =
  | { readonly kind: 'status'; readonly sid: string; readonly status: string; readonly errorCode: string | undefined }
  | {
      readonly kind: 'message';
      readonly sid: string;
      readonly from: string;
      readonly to: string | undefined;
      readonly body: string;
      readonly media: readonly Media[];
      readonly location: { readonly latitude: number; readonly longitude: number } | undefined;
    };

/**
 * Validate the decoded form (channels.md §7 "Validation"): `MessageSid` (or `SmsSid`) and `From`
 * required; what we read must be what Twilio writes (NumMedia a small integer with its MediaUrls,
 * coordinates decimal). Shared by `admit` (→ 400) and `parse`, so parse cannot fail on a record
 * admit accepted.
 */
export function readParams(p: Params): Parsed | string {
  const sid = get(p, 'MessageSid') ?? get(p, 'SmsSid');
  if (sid === undefined) return 'MessageSid missing';
  if (!SID.test(sid)) return 'MessageSid is not a SID';
  const from = get(p, 'From');
  if (from === undefined) return 'From missing';
  if (from.length > 256) return 'From too long';

  // Status callbacks carry MessageStatus (and SmsStatus); incoming messages carry SmsStatus
  // `received` (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status).
  const status = get(p, 'MessageStatus') ?? get(p, 'SmsStatus');
  if (status !== undefined && !INBOUND_STATUSES.has(status.toLowerCase())) {
    const errorCode = get(p, 'ErrorCode');
    if (status.length > 40) return 'MessageStatus too long';
    if (errorCode !== undefined && errorCode.length > 40) return 'ErrorCode too long';
    return { kind: 'status', sid, status, errorCode };
  }

  const numMedia = get(p, 'NumMedia') ?? '0';
  if (!/^\d{1,2}$/.test(numMedia) || Number(numMedia) > MAX_MEDIA) return 'NumMedia is not a media count';
  const media: Media[] = [];
  for (let i = 0; i < Number(numMedia); i++) {
    const url = get(p, `MediaUrl${i}`);
    if (url === undefined) return `MediaUrl${i} missing`;
    media.push({ url, contentType: get(p, `MediaContentType${i}`) });
  }

  let location: { latitude: number; longitude: number } | undefined;
  const lat = get(p, 'Latitude');
  const lon = get(p, 'Longitude');
  if (lat !== undefined || lon !== undefined) {
    if (lat === undefined || lon === undefined || !DECIMAL.test(lat) || !DECIMAL.test(lon)) return 'Latitude/Longitude not a coordinate';
    const latitude = Number(lat);
    const longitude = Number(lon);
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return 'Latitude/Longitude out of range';
    location = { latitude, longitude };
  }

  return { kind: 'message', sid, from, to: get(p, 'To'), body: p.get('Body') ?? '', media, location };
}

export const twilioIngress = defineIngress({
  name: CHANNEL,
  inboundSecrets: ['TWILIO_AUTH_TOKEN', 'TWILIO_WEBHOOK_URL'],
  capabilities: { maxBodyBytes: 262_144 },

  admit(req: RawRequest, secrets: Secrets, _now: number): Admission {
    const token = secrets.TWILIO_AUTH_TOKEN;
    const url = secrets.TWILIO_WEBHOOK_URL;
    if (!token || !url) throw unauthorized(CHANNEL, 'authenticity', 'inbound settings not configured');

    // 1. Decode the form: the signature is over the decoded parameters, not the bytes.
    let pairs: FormPair[];
    try {
      pairs = decodeForm(req.body);
    } catch (e) {
      throw malformed(CHANNEL, 'decode', e instanceof FormError ? e.message : 'form not decodable');
    }

    // 2. Signature over the configured URL (either port form) + sorted name/value pairs.
    const given = req.headers[SIGNATURE_HEADER];
    if (given === undefined || given === '') throw unauthorized(CHANNEL, 'authenticity', 'signature header missing');
    const candidates = urlForms(url).flatMap((u) => [twilioSignature(token, u, pairs), twilioSignature(token, u, pairs, true)]);
    // Every candidate is compared (no early exit), in constant time each.
    const matches = [...new Set(candidates)].map((expected) => safeEqual(given, expected));
    if (!matches.includes(true)) throw unauthorized(CHANNEL, 'authenticity', 'signature mismatch');

    // 3. Validate.
    const params = paramsOf(pairs);
    const parsed = readParams(params);
    if (typeof parsed === 'string') throw invalid(CHANNEL, 'validate', parsed);

    const idempotency = req.headers[IDEMPOTENCY_HEADER];
    return {
      kind: 'accepted',
      // One FIFO group per customer address: `From` of their messages, `To` of our receipts.
      conversationKey: parsed.kind === 'message' ? parsed.from : (get(params, 'To') ?? null),
      ...(idempotency !== undefined && idempotency !== '' && idempotency.length <= 200 ? { headers: { [IDEMPOTENCY_HEADER]: idempotency } } : {}),
      reply: { status: 200, headers: { 'content-type': 'text/xml' }, body: EMPTY_TWIML },
    };
  },
});
