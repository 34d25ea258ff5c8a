/**
 * Article bodies as plain text (README "Knowledge base"): for the search index and snippets, and
 * for the article an offer sends on a messenger. No Markdown renderer here (functions/domain/kb/markdown.ts
 * renders HTML), so functions that only search stay small. Every pattern is linear: bodies are
 * supervisors' text, but nothing here backtracks either way.
 */

/** The readable text of a body (no link targets, no markup), for the index and snippets. */
export function plainText(source: string): string {
  return source
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/[`*_#>~|-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first words of a body, at most `max` characters, cut at a word. */
export function snippetOf(source: string, max = 160): string {
  const text = plainText(source);
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const lastSpace = cut.lastIndexOf(' ');
  return (lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut) + '…';
}


/**
 * A body as a messenger shows it: paragraphs and line breaks kept, emphasis and heading marks
 * dropped, a link as its label followed by its address (a chat has no hidden links).
 */
export function readableText(source: string): string {
  return source
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\(([^)\s]*)[^)]*\)/g, (_m, label: string, url: string) => (/^(https?:|mailto:|tel:)/i.test(url) ? `${label} (${url})` : label))
    .replace(/<[^>]*>/g, ' ')
    .replace(/^[ \t]{0,3}#{1,6}[ \t]+/gm, '')
    .replace(/\*\*|__|`+/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
