/**
 * SMS segments: what one SMS text costs. An SMS carries 140 bytes: 160 characters of the GSM 03.38
 * 7-bit alphabet, or 70 UTF-16 code units (UCS-2) as soon as one character is outside it. A longer
 * text is sent as a concatenated SMS whose segments lose room to the joining header: 153 GSM
 * characters or 67 UCS-2 units each. Characters of the GSM extension table (`^{}\[~]|€` and form
 * feed) take two. Carriers bill per segment
 * (https://www.twilio.com/docs/glossary/what-sms-character-limit,
 * https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding).
 *
 * Pure, no dependencies: the web inbox shows the count while the agent types (web/inbox imports
 * this module), the Agent API returns it with an accepted reply.
 *
 * @module
 */

/** GSM 03.38 basic character set (without the escape character). */
const GSM_BASIC = new Set(Array.from(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
));
/** GSM 03.38 extension table: each takes an escape plus the character. */
const GSM_EXTENDED = new Set(Array.from('^{}\\[~]|€\f'));

export interface SmsSegments {
  readonly encoding: 'GSM-7' | 'UCS-2';
  /** Segments the text is billed as (0 for an empty text). */
  readonly segments: number;
}

/** The encoding and segment count of one SMS text. */
export function smsSegments(text: string): SmsSegments {
  let septets = 0;
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENDED.has(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'UCS-2', segments: units === 0 ? 0 : units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', segments: septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

/** Segments of a text sent as several SMS (parts of at most 1,600 characters each): the sum over its parts. */
export function smsSegmentsOfParts(parts: readonly string[]): SmsSegments {
  const each = parts.map(smsSegments);
  return { encoding: each.some((s) => s.encoding === 'UCS-2') ? 'UCS-2' : 'GSM-7', segments: each.reduce((n, s) => n + s.segments, 0) };
}
