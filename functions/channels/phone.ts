/**
 * Phone numbers the platforms hand us, with libphonenumber-js (and its metadata): parse side only.
 * The verify side of a channel (`<name>/ingress.ts`) never imports this module — the metadata
 * alone is ~145 KB of the ingest bundle it was once in.
 *
 * @module
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * E.164 for a phone the platform delivered. Telegram writes contact numbers without `+` as often
 * as with it (`15550142`, `+1 555…`), always in international form. Kept even when
 * libphonenumber-js says invalid (§0.7: its metadata lags new ranges); undefined if not a number.
 */
export function platformPhoneToE164(raw: string): string | undefined {
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 4 || digits.length > 15) return undefined;
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const e164 = parsed?.number ?? `+${digits}`;
  return /^\+\d{4,15}$/.test(e164) ? e164 : undefined;
}

/** First valid phone typed in the text (a suggestion only, §0.7); no default region is known. */
export function phoneInText(text: string): { value: string; verified: false } | undefined {
  if (text === '') return undefined;
  const found = findPhoneNumbersInText(text).find((f) => f.number.isValid());
  return found ? { value: found.number.number, verified: false } : undefined;
}

