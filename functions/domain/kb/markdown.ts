/**
 * Article bodies: Markdown → HTML that is safe to put into a page (README "Knowledge base").
 *
 * markdown-it with `html: false` escapes every tag written in the source, so the only markup is
 * what the Markdown syntax itself produces. Links and images pass an allow-list of schemes
 * (`https:`, `http:`, `mailto:`, `tel:` and relative links) instead of markdown-it's deny-list
 * (https://github.com/markdown-it/markdown-it/blob/master/docs/security.md): a `data:` image or
 * an unknown scheme is shown as text. Links open with `rel="noopener noreferrer nofollow"`.
 * The help centre and the inbox additionally serve a CSP without inline scripts.
 */
import MarkdownIt from 'markdown-it';
import { words } from './stemming.js';

const SAFE_LINK = /^(https?:|mailto:|tel:|\/(?!\/)|#|\.{0,2}\/)/i;
/** A link with no scheme at all (`orders/returns`) is relative; one with a scheme must be listed. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
md.validateLink = (url: string) => {
  const u = url.trim();
  return SAFE_LINK.test(u) || (!HAS_SCHEME.test(u) && !u.startsWith('//'));
};
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** The HTML of an article body. */
export function renderMarkdown(source: string): string {
  return md.render(source);
}

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

export { words };

/** The token stream of a body, parsed with the same rules as {@link renderMarkdown} (./article-text.ts reads it). */
export function parseMarkdown(source: string) {
  return md.parse(source, {});
}
