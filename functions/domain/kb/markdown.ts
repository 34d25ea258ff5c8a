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

// Plain text of a body lives apart from markdown-it, so the search index (and the process
// function, which offers articles on messengers) carries no renderer.
export { plainText, snippetOf } from './plain-text.js';
export { words };

/** The token stream of a body, parsed with the same rules as {@link renderMarkdown} (./article-text.ts reads it). */
export function parseMarkdown(source: string) {
  return md.parse(source, {});
}
