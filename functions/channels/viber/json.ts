/**
 * Lossless JSON for Viber (channels.md §6 "Big numbers").
 *
 * Viber writes `message_token` as a bare 64-bit integer, above 2^53 in practice
 * (https://developers.viber.com/docs/api/rest-bot-api/#callbacks: `"message_token":4912661846655238145`).
 * `JSON.parse` silently rounds it (`6018829301442119937` → `6018829301442120000`), which breaks
 * dedupe and the matching of receipts to our messages. lossless-json hands us each number's
 * source text: integers that are not safe stay exact decimal strings, everything else becomes a
 * number. Floats (coordinates) become numbers even when their last digits cannot be represented,
 * as `JSON.parse` would — only integers can be ids.
 *
 * Never extract ids with a regular expression over the raw text: message text may contain the
 * same characters.
 */
import { isInteger, isSafeNumber, parse } from 'lossless-json';

/** Parse JSON text like `JSON.parse` (duplicate keys: the last wins), keeping unsafe integers as strings. */
export function parseLossless(text: string): unknown {
  return parse(text, undefined, {
    parseNumber: (n: string) => (isInteger(n) && !isSafeNumber(n) ? n : Number(n)),
    onDuplicateKey: ({ newValue }) => newValue,
  });
}

/**
 * A 64-bit unsigned id as its exact decimal string: from a safe number or from the string
 * `parseLossless` kept. Anything else (negative, fractional, not a number) → undefined.
 */
export function decimalId(v: unknown): string | undefined {
  const text = typeof v === 'number' ? (Number.isSafeInteger(v) && v >= 0 ? String(v) : undefined) : typeof v === 'string' ? v : undefined;
  if (text === undefined || !/^\d{1,20}$/.test(text)) return undefined;
  // Canonical form: no leading zeros, within uint64.
  const big = BigInt(text);
  return big <= 0xffff_ffff_ffff_ffffn ? big.toString() : undefined;
}
