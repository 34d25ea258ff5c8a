/**
 * The reply box's knowledge-base search (issue 19, README "Knowledge base": agents). "Articles"
 * opens a search over the published articles (`GET /kb/articles?q=`, the help centre's stemmed
 * index — drafts are never offered: a customer could not open them); each result shows its title
 * and snippet and inserts either the public link of its help-centre page or its text as a
 * messenger reply (`GET /kb/articles/{id}` `text`) at the cursor of the reply box.
 *
 * Titles and snippets are article content: they are rendered as text (Preact escapes), never as
 * HTML. The panel is a disclosure: the button says whether it is open (`aria-expanded`), Escape
 * closes it and gives focus back to the button, results are a list of buttons named by article.
 * Strings come from the inbox's catalogue (web/inbox/messages.ts).
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { articleUrl } from '../../functions/domain/kb/agent-use.js';
import { errorText, type Api } from './api.js';
import type { InboxKey } from './messages.js';

const html = htm.bind(h);

export interface ArticleHit { id: string; title: string; snippet: string; language: string }
export type Insertion = { kind: 'link' | 'text'; article: { id: string; title: string }; text: string };
type T = (key: InboxKey, params?: Record<string, string | number>) => string;

/** Pause after the last keystroke before searching. */
const DEBOUNCE_MS = 250;

export function ArticlePicker({ api, t, helpUrl, onInsert }: { api: Api; t: T; helpUrl: string; onInsert: (ins: Insertion) => void }) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<ArticleHit[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => { if (open) input.current?.focus(); }, [open]);
  useEffect(() => {
    const query = q.trim();
    if (!open || query === '') { setHits(null); setBusy(false); return; }
    let live = true;
    setBusy(true);
    const timer = setTimeout(() => {
      api.get<{ items: ArticleHit[] }>(`/kb/articles?${new URLSearchParams({ q: query.slice(0, 200) })}`)
        .then((r) => { if (live) { setHits(r.items); setError(null); } })
        .catch((e) => { if (live) setError(errorText(e)); })
        .finally(() => { if (live) setBusy(false); });
    }, DEBOUNCE_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [api, q, open]);
  const close = () => { setOpen(false); toggle.current?.focus(); };
  const insertLink = (a: ArticleHit) => onInsert({ kind: 'link', article: { id: a.id, title: a.title }, text: articleUrl(helpUrl, a.id) });
  const insertText = async (a: ArticleHit) => {
    try {
      const full = await api.get<{ text: string }>(`/kb/articles/${encodeURIComponent(a.id)}`);
      onInsert({ kind: 'text', article: { id: a.id, title: a.title }, text: full.text });
    } catch (e) { setError(errorText(e)); }
  };
  return html`<div class="kb-picker" onKeyDown=${(e: KeyboardEvent) => { if (e.key === 'Escape' && open) { e.preventDefault(); e.stopPropagation(); close(); } }}>
    <button type="button" ref=${toggle} class="kb-toggle" aria-expanded=${open} aria-controls="kb-panel" title=${t('kb.openTitle')} onClick=${() => (open ? close() : setOpen(true))}>📖 ${t('kb.open')}</button>
    ${open && html`<div id="kb-panel" class="kb-panel" role="group" aria-label=${t('kb.open')}>
      <label for="kb-q">${t('kb.search')}</label>
      <input id="kb-q" ref=${input} type="search" autocomplete="off" maxlength="200" value=${q} placeholder=${t('kb.placeholder')}
        onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)}
        onKeyDown=${(e: KeyboardEvent) => { if (e.key === 'Enter') e.preventDefault(); }} />
      <p class="muted kb-status" role="status">${busy ? t('kb.searching') : hits === null ? '' : hits.length === 0 ? t('kb.none') : t('kb.found', { count: hits.length })}</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${hits && hits.length > 0 && html`<ul class="kb-results" aria-label=${t('kb.results')}>${hits.map((a) => html`<li key=${a.id} data-article=${a.id}>
        <strong class="kb-title" lang=${a.language}>${a.title}</strong> <span class="kb-lang muted">${a.language.toUpperCase()}</span>
        <p class="kb-snippet muted" lang=${a.language}>${a.snippet}</p>
        <div class="kb-actions">
          <button type="button" aria-label=${t('kb.insertLinkTo', { title: a.title })} onClick=${() => insertLink(a)}>${t('kb.insertLink')}</button>
          <button type="button" aria-label=${t('kb.insertTextOf', { title: a.title })} onClick=${() => void insertText(a)}>${t('kb.insertText')}</button>
        </div></li>`)}</ul>`}
    </div>`}
  </div>`;
}

/**
 * `text` put into `value` at the selection `[start, end)` with a space on either side where a word
 * would otherwise run into it; returns the new value and where the cursor goes (after the insertion).
 */
export function insertAt(value: string, start: number, end: number, text: string): { value: string; cursor: number } {
  const before = value.slice(0, start);
  const after = value.slice(end);
  const lead = before === '' || /\s$/.test(before) ? '' : ' ';
  const trail = after === '' || /^\s/.test(after) ? '' : ' ';
  const inserted = `${lead}${text}${trail}`;
  return { value: before + inserted + after, cursor: before.length + lead.length + text.length };
}
