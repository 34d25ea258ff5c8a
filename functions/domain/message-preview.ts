/**
 * The list row's "last message" line (issue 15): the first non-empty line of a message, without
 * markup, cut to PREVIEW_GRAPHEMES user-perceived characters. Cut by grapheme cluster
 * (`Intl.Segmenter`), not by UTF-16 unit, so an emoji, a flag or a letter with combining marks is
 * never split into a broken character
 * (https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Intl/Segmenter).
 *
 * The preview is the customer's words: it is stored on the ticket item like message bodies (never
 * logged) and removed by the GDPR erasure (store/erasure.ts) with them.
 */
export const PREVIEW_GRAPHEMES = 120;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** HTML tags and entities (e-mail bodies, rich web-chat text) and Markdown emphasis markers. */
function plain(line: string): string {
  return line
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ').replace(/&lt;/gi, '<').replace(/&gt;/gi, '>').replace(/&quot;/gi, '"').replace(/&#39;|&apos;/gi, "'").replace(/&amp;/gi, '&')
    .replace(/(\*\*|__|~~|`)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The preview of a message: its first line with text; without text, the first attachment's file
 * name (or type) after a paperclip; '' when there is nothing to show.
 */
export function messagePreview(text: string | null | undefined, attachments: ReadonlyArray<{ readonly file_name?: string | null; readonly type?: string }> = []): string {
  const line = (text ?? '').split(/\r?\n|\r/).map(plain).find((l) => l !== '') ?? '';
  if (line === '') {
    const a = attachments[0];
    return a ? `📎 ${cut(plain(a.file_name ?? a.type ?? ''), PREVIEW_GRAPHEMES - 2)}`.trim() : '';
  }
  return cut(line, PREVIEW_GRAPHEMES);
}

/** At most `max` graphemes; a cut one ends with an ellipsis (counted in `max`). */
export function cut(s: string, max: number): string {
  const parts: string[] = [];
  for (const { segment } of segmenter.segment(s)) {
    parts.push(segment);
    if (parts.length > max) break;
  }
  return parts.length <= max ? s : `${parts.slice(0, max - 1).join('').trimEnd()}…`;
}
