/**
 * An article as a messenger reply (README "Knowledge base": agents): Markdown → plain text that
 * reads well where no markup is rendered (Telegram, WhatsApp, SMS, the widget). Blocks are
 * separated by a blank line, list items keep a bullet or their number, emphasis marks are dropped,
 * a link becomes `text (url)` — or just the URL when that is its text — and an image its alt text.
 *
 * The parse is markdown-it's with the help centre's own rules (./markdown.ts): raw HTML in the
 * source stays text as it was written, a link with a scheme outside the allow-list is not a link
 * (its source text stays). Relative links are resolved against `base` (the help centre's URL)
 * when given, dropped to their text otherwise — a customer cannot open `/returns` in a messenger.
 */
import { parseMarkdown } from './markdown.js';

type Token = ReturnType<typeof parseMarkdown>[number];

export function articleAsText(source: string, opts: { base?: string } = {}): string {
  const blocks: string[] = [];
  const lists: { ordered: boolean; items: string[] }[] = [];
  /** The list items being read (nested lists: one per level), each the lines of its blocks and its mark. */
  const items: { mark: string; parts: string[] }[] = [];
  let quote = 0;
  const emit = (text: string) => {
    const t = text.trim();
    if (t === '') return;
    if (items.length > 0) items[items.length - 1]!.parts.push(t);
    else blocks.push(quote > 0 ? t.split('\n').map((l) => `> ${l}`).join('\n') : t);
  };
  for (const tok of parseMarkdown(source)) {
    switch (tok.type) {
      case 'bullet_list_open': case 'ordered_list_open': lists.push({ ordered: tok.type === 'ordered_list_open', items: [] }); break;
      case 'list_item_open': items.push({ mark: lists[lists.length - 1]?.ordered ? `${tok.info || '1'}.` : '•', parts: [] }); break;
      case 'list_item_close': {
        const it = items.pop()!;
        const pad = ' '.repeat(it.mark.length + 1);
        lists[lists.length - 1]?.items.push(`${it.mark} ${it.parts.join('\n').split('\n').join(`\n${pad}`)}`);
        break;
      }
      case 'bullet_list_close': case 'ordered_list_close': emit(lists.pop()?.items.join('\n') ?? ''); break;
      case 'blockquote_open': quote++; break;
      case 'blockquote_close': quote--; break;
      case 'inline': emit(inlineText(tok.children ?? [], opts.base)); break;
      case 'fence': case 'code_block': emit(tok.content); break;
      case 'hr': emit('———'); break;
      default: break;
    }
  }
  return blocks.join('\n\n');
}

function inlineText(children: readonly Token[], base: string | undefined): string {
  let out = '';
  let link: { href: string; text: string } | null = null;
  const add = (s: string) => { if (link) link.text += s; else out += s; };
  for (const c of children) {
    switch (c.type) {
      case 'text': case 'code_inline': case 'html_inline': add(c.content); break;
      case 'softbreak': add(' '); break;
      case 'hardbreak': add('\n'); break;
      case 'image': add(c.content); break;
      case 'link_open': link = { href: String(c.attrGet('href') ?? ''), text: '' }; break;
      case 'link_close': {
        const l = link!;
        link = null;
        out += linkText(l.text, l.href, base);
        break;
      }
      default: break;
    }
  }
  return out;
}

function linkText(text: string, href: string, base: string | undefined): string {
  const target = absolute(href, base);
  if (!target) return text;
  const shown = target.replace(/^(mailto|tel):/i, '');
  // autolinks ("https://…", "www.…", an e-mail address) are already their own target
  if (text.trim() === '' || text === href || text === target || text === shown || `http://${text}` === target) return text.trim() === '' ? shown : text === href ? shown : text;
  return `${text} (${shown})`;
}

function absolute(href: string, base: string | undefined): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return href;
  if (!base) return null;
  try { return new URL(href, base).href; } catch { return null; }
}
