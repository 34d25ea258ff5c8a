/**
 * Twilio's form bodies and request signatures (channels.md §7).
 *
 * Twilio posts `application/x-www-form-urlencoded` UTF-8 and signs with `X-Twilio-Signature`:
 * base64 HMAC-SHA1, key = the auth token, over the webhook URL followed by every POST parameter
 * as name + value, names sorted (https://www.twilio.com/docs/usage/webhooks/webhooks-security,
 * "Validating signatures from Twilio"). Pure functions, no I/O.
 *
 * @module
 */
import { createHmac } from 'node:crypto';

export type FormPair = readonly [name: string, value: string];

/** A form body that is not valid `application/x-www-form-urlencoded` UTF-8. */
export class FormError extends Error {
  override readonly name = 'FormError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode a form body into (name, value) pairs in wire order, as the WHATWG URL standard does
 * (`+` → space, then `%XX`), **keeping empty values** — `FromCity=` signs as `FromCity`, and
 * dropping it would break the signature. Unlike `URLSearchParams`, a stray `%` or percent-encoded
 * bytes that are not UTF-8 are refused rather than passed through or replaced with U+FFFD: the
 * signature must be checked over exactly what Twilio meant, and Twilio never sends either.
 */
export function decodeForm(body: Buffer): FormPair[] {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new FormError('body is not UTF-8');
  }
  const pairs: FormPair[] = [];
  for (const piece of text.split('&')) {
    if (piece === '') continue; // `a=1&&b=2`, a trailing `&`: no parameter (WHATWG)
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? '' : piece.slice(eq + 1);
    pairs.push([decodeComponent(rawName), decodeComponent(rawValue)]);
  }
  return pairs;
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormError('bad percent-encoding');
  }
}

/** Byte-wise comparison of UTF-8 strings (channels.md §7: names in sorted byte order). */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The string Twilio signs: URL, then for each name in sorted order name + value; a repeated name
 * contributes each of its values in sorted order (`dedupeValues`: equal values once, as
 * twilio-node's `toFormUrlEncodedParam` does with `new Set(values)`).
 */
export function signedString(url: string, pairs: readonly FormPair[], dedupeValues = false): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  }
  let out = url;
  for (const name of [...byName.keys()].sort(byteCompare)) {
    const values = byName.get(name)!;
    for (const value of (dedupeValues ? [...new Set(values)] : values).sort(byteCompare)) out += name + value;
  }
  return out;
}

export function twilioSignature(authToken: string, url: string, pairs: readonly FormPair[], dedupeValues = false): string {
  return createHmac('sha1', authToken).update(signedString(url, pairs, dedupeValues)).digest('base64');
}

/**
 * The configured URL and its default-port twin. Twilio may sign `https://host/path` as
 * `https://host:443/path` or the other way round, depending on how the URL reached its
 * signer; its own validators try both (twilio-node `validateRequest`: "Check signature of the
 * url with and without the port number", https://github.com/twilio/twilio-node/blob/main/src/webhooks/webhooks.ts).
 * Everything but the port stays byte for byte as configured: behind API Gateway the URL cannot
 * be reconstructed from the request, so it is a setting (TWILIO_WEBHOOK_URL).
 */
export function urlForms(configured: string): string[] {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/is.exec(configured);
  if (!m) return [configured];
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  // The port is after the last `:` that is not inside an IPv6 literal (`[::1]:443`). Both
  // patterns match every string.
  const [, host, port] = /^(.*?)(?::(\d*))?$/s.exec(authority.replace(/^(.*@)?/, ''))! as unknown as [string, string, string | undefined];
  const userinfo = /^(.*@)?/.exec(authority)![0];
  if (host.startsWith('[') && !host.endsWith(']')) return [configured]; // not a host we understand
  let twin: string | undefined;
  if (port === undefined) twin = `${scheme}://${userinfo}${host}:${defaultPort}${rest}`;
  else if (port === defaultPort) twin = `${scheme}://${userinfo}${host}${rest}`;
  return twin === undefined ? [configured] : [configured, twin];
}
