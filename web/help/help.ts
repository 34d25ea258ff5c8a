/**
 * The help centre (README "Knowledge base"): search the published articles and read one, for
 * customers, without an account. Served with the inbox pages (`/help` locally, `help.html` on
 * CloudFront) under the same Content-Security-Policy (no inline script).
 *
 * The help API is the webhook API (`/help/search`, `/help/articles/{id}`): the page's own origin
 * locally; on CloudFront `config.json` names it (`helpApiBase`), or `<meta name="confluo-help-api">`.
 * Article HTML comes rendered by the server with raw HTML escaped and links limited to safe
 * schemes (functions/domain/kb/markdown.ts), so it is inserted as it is.
 */
interface Hit { id: string; title: string; language: string; category: string | null; snippet: string; confidence: number }
interface Article { id: string; title: string; language: string; category: string | null; html: string; updated_at: string }

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('search');
const input = $<HTMLInputElement>('q');
const language = $<HTMLSelectElement>('language');
const status = $<HTMLParagraphElement>('status');
const results = $<HTMLOListElement>('results');
const articleBox = $<HTMLElement>('article');

async function apiBase(): Promise<string> {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="confluo-help-api"]')?.content;
  if (meta) return meta.replace(/\/+$/, '');
  try {
    const res = await fetch('config.json', { cache: 'no-cache' });
    if (res.ok) {
      const c = (await res.json()) as { helpApiBase?: string };
      if (c.helpApiBase) return c.helpApiBase.replace(/\/+$/, '');
    }
  } catch { /* same origin */ }
  return '';
}
const base = apiBase();

async function search(q: string, lang: string): Promise<void> {
  articleBox.hidden = true;
  results.replaceChildren();
  status.textContent = 'Searching…';
  const params = new URLSearchParams({ q, limit: '10', ...(lang ? { language: lang } : {}) });
  const res = await fetch(`${await base}/help/search?${params}`);
  if (!res.ok) { status.textContent = 'Search is unavailable right now. Please try again.'; return; }
  const body = (await res.json()) as { items: Hit[] };
  status.textContent = body.items.length === 0 ? 'No articles found. Try other words, or contact us.' : `${body.items.length} article${body.items.length === 1 ? '' : 's'} found`;
  for (const h of body.items) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `?article=${encodeURIComponent(h.id)}`;
    a.textContent = h.title;
    const p = document.createElement('p');
    p.textContent = h.snippet;
    li.append(a, p);
    results.append(li);
  }
}

async function show(id: string): Promise<void> {
  results.replaceChildren();
  status.textContent = '';
  const res = await fetch(`${await base}/help/articles/${encodeURIComponent(id)}`);
  if (!res.ok) { status.textContent = 'This article does not exist or is no longer published.'; return; }
  const a = (await res.json()) as Article;
  const h = document.createElement('h2');
  h.textContent = a.title;
  const meta = document.createElement('p');
  meta.className = 'meta';
  meta.textContent = [a.category, `updated ${new Date(a.updated_at).toLocaleDateString()}`].filter(Boolean).join(' · ');
  const body = document.createElement('div');
  body.className = 'body';
  body.innerHTML = a.html;
  articleBox.replaceChildren(h, meta, body);
  articleBox.lang = a.language;
  articleBox.hidden = false;
  document.title = `${a.title} — Help centre`;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = input.value.trim();
  if (!q) return;
  const url = new URL(location.href);
  url.search = new URLSearchParams({ q, ...(language.value ? { language: language.value } : {}) }).toString();
  history.pushState(null, '', url);
  void route();
});

async function route(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const id = params.get('article');
  const q = params.get('q');
  if (id) await show(id);
  else if (q) {
    input.value = q;
    language.value = params.get('language') ?? '';
    await search(q, language.value);
  } else {
    results.replaceChildren();
    articleBox.hidden = true;
    status.textContent = '';
  }
}
window.addEventListener('popstate', () => void route());
void route();
export {};
