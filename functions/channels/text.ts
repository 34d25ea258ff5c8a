/**
 * Text limits of the messaging platforms and the one splitter every adapter uses for them.
 *
 * Each platform caps one message's text, each in its own unit: Telegram, WhatsApp, Messenger and
 * Twilio count characters (we count UTF-16 code units, never fewer than the platform's characters),
 * VK and Viber characters (we count code points), Instagram **bytes of UTF-8**
 * (https://developers.facebook.com/docs/messenger-platform/instagram/features/send-message: "text
 * … must be UTF-8 and less than 1000 bytes"). A reply longer than that is sent as several
 * messages, in order, cut at paragraph, line or word boundaries — never cut short with "…": the
 * timeline shows the text as the agent wrote it, so the customer must get all of it. The limits
 * per platform, with their documentation, are tabled in docs/channels.md.
 *
 * Pure, no I/O.
 *
 * @module
 */

/** How a platform counts the length of a text. */
export type TextUnit = 'utf16' | 'codepoint' | 'utf8';

/** The longest text one platform message takes. */
export interface TextLimit {
  readonly max: number;
  readonly unit: TextUnit;
}

/**
 * A reply is sent as at most this many platform messages; a longer text is refused by the Agent
 * API (422 `text_too_long`, naming the limit) instead of flooding the customer's chat.
 */
export const MAX_MESSAGE_PARTS = 10;

/** One part of a split text and the separator dropped after it ('' after a hard cut and, unless the text ends with a separator, after the last part). */
export interface TextPart {
  readonly text: string;
  readonly sep: '' | '\n\n' | '\n' | ' ';
}

/** A boundary is only taken when it leaves the part at least this full (else tiny parts). */
const MIN_FILL = 0.5;

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  // A lone surrogate is written as U+FFFD (3 bytes) by every UTF-8 encoder.
  if (codePoint < 0x10000) return 3;
  return 4;
}

/** The length of `text` in `unit`. */
export function measureText(text: string, unit: TextUnit): number {
  if (unit === 'utf16') return text.length;
  let n = 0;
  for (const ch of text) n += unit === 'codepoint' ? 1 : utf8Length(ch.codePointAt(0)!);
  return n;
}

/** The end (UTF-16 index) of the longest prefix of `text` measuring at most `max`; never inside a surrogate pair. */
function fitIndex(text: string, max: number, unit: TextUnit): number {
  if (unit === 'utf16') {
    let i = Math.min(max, text.length);
    if (i < text.length && isHigh(text.charCodeAt(i - 1))) i -= 1;
    return i;
  }
  let used = 0;
  let i = 0;
  for (const ch of text) {
    const size = unit === 'codepoint' ? 1 : utf8Length(ch.codePointAt(0)!);
    if (used + size > max) break;
    used += size;
    i += ch.length;
  }
  return i;
}

/**
 * Split `text` into parts measuring at most `limit.max` each.
 *
 * Each cut is at the last paragraph break (`\n\n`) that fits, else the last line break, else the
 * last space — each only when it leaves the part at least half full — else a hard cut at the
 * limit, never between the halves of a surrogate pair (nor, counting bytes, inside a character).
 * The separator at a cut is dropped (it would only pad the edge of a message) and reported in
 * `sep`, so `parts.map((p) => p.text + p.sep).join('') === text` always holds, and no part is
 * empty (except the one part of an empty text).
 *
 * `lastMax`: a smaller limit for the last part, which carries the buttons on some platforms
 * (WhatsApp's interactive body takes 1024 characters where a text takes 4096).
 *
 * Known limitation: a run of whitespace longer than half a part can yield a whitespace-only part,
 * which some platforms refuse; agents' texts have none.
 */
export function splitText(text: string, limit: TextLimit, opts: { readonly lastMax?: number } = {}): TextPart[] {
  const { max, unit } = limit;
  // A UTF-8 character takes up to 4 bytes; any other unit at most 2 per character.
  if (max < (unit === 'utf8' ? 4 : 2)) throw new RangeError(`splitText: a part must hold at least one character (max ${max} ${unit})`);
  const parts: TextPart[] = [];
  let rest = text;
  while (measureText(rest, unit) > max) {
    const fit = fitIndex(rest, max, unit);
    const min = Math.ceil((unit === 'utf16' ? max : fit) * MIN_FILL);
    let cut = -1;
    let sep: TextPart['sep'] = '';
    for (const candidate of ['\n\n', '\n', ' '] as const) {
      // A separator starting right after a full part still counts (it is dropped).
      const at = rest.lastIndexOf(candidate, fit);
      if (at >= min && at <= fit) { cut = at; sep = candidate; break; }
    }
    if (cut < 0) { cut = fit; sep = ''; }
    parts.push({ text: rest.slice(0, cut), sep });
    rest = rest.slice(cut + sep.length);
  }
  // A text ending in a separator right after a full part leaves nothing more to send.
  if (rest !== '' || parts.length === 0) parts.push({ text: rest, sep: '' });
  const lastMax = opts.lastMax;
  const last = parts[parts.length - 1]!;
  if (lastMax !== undefined && lastMax < max && measureText(last.text, unit) > lastMax) {
    if (lastMax < (unit === 'utf8' ? 4 : 2)) throw new RangeError(`splitText: the last part must hold at least one character (lastMax ${lastMax} ${unit})`);
    parts.splice(parts.length - 1, 1, ...splitTail(last, lastMax, unit));
  }
  return parts;
}

/**
 * `part` (within the limit) as a head and a tail measuring at most `lastMax`: the tail as long as
 * it can be, starting after a paragraph break, line break or space when one leaves it at least
 * half full, else right after the longest head that leaves it within `lastMax`.
 */
function splitTail(part: TextPart, lastMax: number, unit: TextUnit): TextPart[] {
  const text = part.text;
  // The smallest start of a suffix within lastMax, on a character boundary.
  let start = 0;
  let rest = measureText(text, unit);
  for (const ch of text) {
    if (rest <= lastMax) break;
    rest -= unit === 'utf16' ? ch.length : unit === 'codepoint' ? 1 : utf8Length(ch.codePointAt(0)!);
    start += ch.length;
  }
  for (const candidate of ['\n\n', '\n', ' '] as const) {
    const at = text.indexOf(candidate, Math.max(1, start - candidate.length));
    if (at < 1) continue;
    const tail = text.slice(at + candidate.length);
    if (tail !== '' && measureText(tail, unit) <= lastMax && measureText(tail, unit) >= Math.ceil(lastMax * MIN_FILL)) {
      return [{ text: text.slice(0, at), sep: candidate }, { text: tail, sep: part.sep }];
    }
  }
  return [{ text: text.slice(0, start), sep: '' }, { text: text.slice(start), sep: part.sep }];
}

/** The texts of the parts of `text` under `limit` (no limit: the text itself). */
export function textParts(text: string, limit: TextLimit | undefined, opts: { readonly lastMax?: number } = {}): string[] {
  return limit ? splitText(text, limit, opts).map((p) => p.text) : [text];
}

/** "1,000 bytes (UTF-8)", "4,096 characters": a limit as people read it. */
export function describeLimit(limit: TextLimit): string {
  const n = limit.max.toLocaleString('en-US');
  return limit.unit === 'utf8' ? `${n} bytes (UTF-8)` : `${n} characters`;
}
