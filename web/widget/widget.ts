/**
 * Confluo web-chat widget. Embed with one tag:
 *
 *   <script src="https://support.example.com/webchat/widget.js" data-title="Questions?" async></script>
 *
 * Options (data-* on the script tag): `data-api` (default: the script's origin), `data-title`,
 * `data-color`, `data-poll-ms` (default 2000), `data-open` ("true": start opened),
 * `data-deflect` ("off": never offer articles; default on when the server offers them).
 * Answer before a ticket (README "Knowledge base"): the first message of a conversation is first
 * matched against the published articles (`GET /help/search?channel=webchat`); when the server
 * offers some, the widget asks "Did this answer your question?" before sending. "That solved it"
 * sends nothing (a deflection is counted, `POST /help/feedback`); "I still need help" sends the
 * message as typed, and the ticket opens as without articles. A failed search sends at once.
 * The visitor may attach a picture or a PDF (📎): it is uploaded straight to the media bucket with
 * the form `POST /webchat/uploads` signs for the session, then sent as a message naming its key;
 * images show inline (a preview while uploading), other files as links.
 * Session (token, visitor, conversation) and the shown messages live in localStorage, so a page
 * reload keeps the conversation. Everything renders in a shadow root: the shop's CSS cannot
 * break it and it cannot break the shop.
 */

/** A file in the conversation: a signed link from the server (or, while the visitor's upload is on its way, a local preview). */
interface ChatFile { name: string; mime_type: string | null; url: string | null; key?: string; size?: number }
interface ChatMessage { id: string; direction: 'in' | 'out'; text: string; at: string; pending?: boolean; failed?: boolean; files?: ChatFile[] }
interface Session { token: string; visitor_id: string; conversation_id: string; expires_at: string }
interface Stored { session?: Session; after?: string | null; messages: ChatMessage[] }

import { makeTranslator, pickLocale } from '../i18n/translate.js';
import { en, pl, ru } from './messages.js';

/** The visitor's language (their browser's), for the widget's own words, times and plurals. */
const locale = pickLocale(navigator.languages ?? [navigator.language]);
const t = makeTranslator({ en, ru, pl }, locale);

const script = document.currentScript as HTMLScriptElement | null;
const opt = (name: string) => script?.dataset[name];
const api = (opt('api') ?? (script?.src ? new URL(script.src).origin : location.origin)).replace(/\/+$/, '');
const pollMs = Math.max(500, Number(opt('pollMs') ?? 2000) || 2000);
const storageKey = `confluo.webchat:${api}`;

function load(): Stored {
  try {
    const v = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as Stored | null;
    if (v && Array.isArray(v.messages)) return v;
  } catch { /* fresh start */ }
  return { messages: [] };
}
const state: Stored = load();
const save = () => { try { localStorage.setItem(storageKey, JSON.stringify(state)); } catch { /* storage full or blocked */ } };

/** ULID (https://github.com/ulid/spec): 48-bit ms time + 80 random bits, Crockford base32. */
function ulid(now = Date.now()): string {
  const A = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = '';
  for (let i = 0, n = now; i < 10; i++) { t = A[n % 32] + t; n = Math.floor(n / 32); }
  const r = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const b of r) s += A[b % 32];
  return t + s;
}

async function session(): Promise<Session> {
  if (state.session && Date.parse(state.session.expires_at) - Date.now() > 60_000) return state.session;
  return renewSession();
}
/**
 * One renewal at a time: two calls racing without a session (the first message and an upload, a
 * poll) would otherwise mint two sessions, and the second one's new conversation would drop what
 * the first one started (an upload keyed under the first session's prefix is then refused).
 */
let renewing: Promise<Session> | null = null;
function renewSession(): Promise<Session> {
  renewing ??= mintSession().finally(() => { renewing = null; });
  return renewing;
}
async function mintSession(): Promise<Session> {
  const res = await fetch(`${api}/webchat/session`, {
    method: 'POST', headers: state.session ? { authorization: `Bearer ${state.session.token}` } : {},
  });
  if (!res.ok) throw new Error(`session ${res.status}`);
  const s = (await res.json()) as Session;
  if (state.session && s.conversation_id !== state.session.conversation_id) { state.messages = []; state.after = null; }
  state.session = s;
  save();
  return s;
}
/** A call with the bearer token; one renewal on 401. */
async function authed(path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const s = attempt === 0 ? await session() : await renewSession();
    const res = await fetch(`${api}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${s.token}` } });
    if (res.status !== 401 || attempt > 0) return res;
  }
}

// --------------------------------------------------------------------------------------------
// UI
// --------------------------------------------------------------------------------------------
const color = opt('color') ?? '#2457c5';
const host = document.createElement('div');
host.id = 'confluo-webchat';
const root = host.attachShadow({ mode: 'open' });
root.innerHTML = `
<style>
  :host { all: initial; }
  * { box-sizing: border-box; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 999px;
    padding: 12px 18px; background: ${color}; color: #fff; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
  .launcher:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
  .badge { display: inline-block; min-width: 1.4em; margin-left: 6px; border-radius: 999px; background: #fff; color: ${color}; font-size: 12px; padding: 0 5px; }
  .panel { position: fixed; right: 20px; bottom: 80px; z-index: 2147483000; width: min(370px, calc(100vw - 24px)); height: min(520px, calc(100vh - 110px));
    display: flex; flex-direction: column; background: #fff; color: #1b1b1b; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.28); overflow: hidden; }
  .panel[hidden], .badge[hidden] { display: none; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px; background: ${color}; color: #fff; }
  header h2 { margin: 0; font-size: 16px; font-weight: 600; color: inherit; }
  header button { background: transparent; color: #fff; border: 0; font-size: 20px; cursor: pointer; line-height: 1; }
  .log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f5f6f8; }
  .msg { max-width: 82%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; word-wrap: break-word; }
  .msg.in { align-self: flex-end; background: ${color}; color: #fff; border-bottom-right-radius: 4px; }
  .msg.out { align-self: flex-start; background: #fff; border: 1px solid #dde1e6; border-bottom-left-radius: 4px; }
  .msg .meta { display: block; font-size: 11px; opacity: .75; margin-top: 2px; }
  .empty { color: #5a6270; text-align: center; margin: auto; }
  form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dde1e6; }
  textarea { flex: 1; resize: none; border: 1px solid #b8bfc8; border-radius: 8px; padding: 8px; min-height: 40px; max-height: 120px; color: #1b1b1b; background: #fff; }
  form button { border: 0; border-radius: 8px; background: ${color}; color: #fff; padding: 0 14px; font-weight: 600; cursor: pointer; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .error { color: #a4000f; font-size: 13px; padding: 0 12px 6px; }
  .msg img.thumb { display: block; max-width: 100%; max-height: 180px; border-radius: 8px; margin-top: 4px; background: #fff; }
  .msg a.file { display: block; color: inherit; margin-top: 4px; }
  .attach { display: flex; align-items: center; cursor: pointer; font-size: 18px; padding: 0 4px; }
  .attach input { position: absolute; width: 1px; height: 1px; opacity: 0; }
  .deflect { align-self: stretch; background: #fff; border: 1px solid #dde1e6; border-radius: 12px; padding: 10px 12px; }
  .deflect h3 { margin: 0 0 6px; font-size: 15px; font-weight: 600; }
  .deflect ul { margin: 0 0 8px; padding-left: 18px; }
  .deflect li button { background: none; border: 0; padding: 2px 0; color: ${color}; text-decoration: underline; cursor: pointer; text-align: left; }
  .deflect .article { border-left: 3px solid ${color}; padding: 2px 8px; margin: 4px 0 8px; max-height: 200px; overflow-y: auto; }
  .deflect .article * { font-size: 14px; }
  .deflect .actions { display: flex; gap: 8px; flex-wrap: wrap; }
  .deflect .actions button { border: 1px solid ${color}; border-radius: 8px; padding: 6px 10px; cursor: pointer; background: #fff; color: ${color}; font-weight: 600; }
  .deflect .actions button.primary { background: ${color}; color: #fff; }
  .note { align-self: center; color: #3b6b2b; font-size: 13px; }
</style>
<button class="launcher" type="button" aria-expanded="false" aria-controls="confluo-panel">
  <span class="label"></span><span class="badge" hidden></span></button>
<section class="panel" id="confluo-panel" role="dialog" aria-label="${t('dialog.label')}" lang="${locale}" hidden>
  <header><h2 class="title"></h2><button type="button" class="close" aria-label="${t('close.label')}">×</button></header>
  <div class="log" role="log" aria-live="polite" aria-label="${t('log.label')}"></div>
  <div class="error" role="alert" hidden></div>
  <form>
    <label class="attach" title="${t('attach.title')}">📎<input type="file" name="file" accept="image/jpeg,image/png,image/gif,image/webp,application/pdf" aria-label="${t('attach.label')}" /></label>
    <label class="sr" for="confluo-input">${t('input.label')}</label>
    <textarea id="confluo-input" name="text" rows="1" maxlength="4000" placeholder="${t('input.placeholder')}"></textarea>
    <button type="submit">${t('send')}</button>
  </form>
</section>`;

const $ = <T extends Element>(sel: string) => root.querySelector(sel) as T;
const launcher = $<HTMLButtonElement>('.launcher');
const panel = $<HTMLElement>('.panel');
const log = $<HTMLDivElement>('.log');
const input = $<HTMLTextAreaElement>('textarea');
const errorBox = $<HTMLDivElement>('.error');
const badge = $<HTMLSpanElement>('.badge');
const title = opt('title') ?? t('title.default');
$<HTMLElement>('.title').textContent = title;
$<HTMLElement>('.label').textContent = title;
let unread = 0;
/** The articles offered for the first message, until the visitor answers (kept across re-renders). */
let offerCard: HTMLElement | null = null;

function render(): void {
  log.replaceChildren();
  if (state.messages.length === 0 && !offerCard) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = t('empty');
    log.append(p);
  }
  for (const m of state.messages) {
    const div = document.createElement('div');
    div.className = `msg ${m.direction}`;
    div.dataset.id = m.id;
    div.dataset.direction = m.direction === 'in' ? 'visitor' : 'agent';
    div.textContent = m.text;
    for (const f of m.files ?? []) div.append(fileView(f));
    const meta = document.createElement('span');
    meta.className = 'meta';
    const time = new Date(m.at).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
    meta.textContent = m.direction === 'out' ? t('meta.agent', { time }) : m.failed ? t('meta.failed') : m.pending ? t('meta.sending') : time;
    div.append(meta);
    log.append(div);
  }
  if (offerCard) log.append(offerCard);
  log.scrollTop = log.scrollHeight;
  badge.hidden = unread === 0;
  badge.textContent = new Intl.NumberFormat(locale).format(unread);
  badge.setAttribute('aria-label', t('unread', { count: unread }));
}

/** Only links the server signed (https:, or http: locally) and the widget's own previews (blob:). */
function safeUrl(u: string | null): string | null {
  if (!u) return null;
  try { const p = new URL(u, location.href).protocol; return p === 'https:' || p === 'http:' || p === 'blob:' ? u : null; } catch { return null; }
}

function fileView(f: ChatFile): HTMLElement {
  const url = safeUrl(f.url);
  if (url && (f.mime_type ?? '').startsWith('image/')) {
    const img = document.createElement('img');
    img.className = 'thumb';
    img.src = url;
    img.alt = f.name;
    return img;
  }
  const a = document.createElement(url ? 'a' : 'span');
  a.className = 'file';
  a.textContent = `📄 ${f.name}`;
  if (url && a instanceof HTMLAnchorElement) { a.href = url; a.target = '_blank'; a.rel = 'noopener noreferrer'; }
  return a;
}

function setOpen(open: boolean): void {
  panel.hidden = !open;
  launcher.setAttribute('aria-expanded', String(open));
  if (open) { unread = 0; render(); input.focus(); }
  try { sessionStorage.setItem(`${storageKey}:open`, open ? '1' : ''); } catch { /* ignore */ }
}
launcher.addEventListener('click', () => setOpen(panel.hidden));
$<HTMLButtonElement>('.close').addEventListener('click', () => { setOpen(false); launcher.focus(); });
panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { setOpen(false); launcher.focus(); } });
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $<HTMLFormElement>('form').requestSubmit(); }
});

function showError(text: string | null): void {
  errorBox.hidden = text === null;
  errorBox.textContent = text ?? '';
}

/**
 * The page the visitor writes from, as the agents see it: origin and path only. The query and the
 * fragment often hold what must not end up on a ticket (sign-in tokens, password-reset codes,
 * e-mail addresses, order numbers of someone else's link).
 */
function pageUrl(): string {
  return `${location.origin}${location.pathname}`;
}

async function post(m: ChatMessage): Promise<void> {
  m.pending = true; m.failed = false;
  try {
    const res = await authed('/webhooks/webchat', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message', messageId: m.id, sentAt: m.at, ...(m.text ? { text: m.text } : {}),
        ...(m.files?.length ? { attachments: m.files.filter((f) => f.key).map((f) => ({ key: f.key, name: f.name, contentType: f.mime_type ?? 'application/octet-stream', size: f.size ?? 0 })) } : {}),
        page: { url: pageUrl().slice(0, 2048), title: document.title.slice(0, 500) },
      }),
    });
    if (!res.ok) throw new Error(String(res.status));
    m.pending = false;
    showError(null);
  } catch {
    m.failed = true;
    showError(t('error.send'));
  }
  save();
  render();
}

$<HTMLFormElement>('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) {
    for (const m of state.messages.filter((x) => x.failed)) void post(m);
    return;
  }
  input.value = '';
  const isFirst = !state.messages.some((x) => x.direction === 'in');
  if (isFirst && opt('deflect') !== 'off') void offerArticles(text);
  else send(text);
});

function send(text: string): void {
  offerCard = null;
  const now = Date.now();
  const m: ChatMessage = { id: ulid(now), direction: 'in', text, at: new Date(now).toISOString(), pending: true };
  state.messages.push(m);
  save();
  render();
  void post(m);
}

// --------------------------------------------------------------------------------------------
// Answer before a ticket: articles offered for the first message
// --------------------------------------------------------------------------------------------
interface Offer { id: string; title: string; snippet: string }

function feedback(articleId: string, outcome: 'offered' | 'solved' | 'not_solved'): void {
  // Counters only: a lost one must never hold up the visitor.
  void fetch(`${api}/help/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ article_id: articleId, outcome }) }).catch(() => undefined);
}

async function offerArticles(text: string): Promise<void> {
  let offers: Offer[] = [];
  try {
    const lang = (document.documentElement.lang || navigator.language || '').slice(0, 2).toLowerCase();
    const q = new URLSearchParams({ q: text.slice(0, 300), channel: 'webchat', limit: '3', ...(['en', 'ru', 'pl'].includes(lang) && !/\p{Script=Cyrillic}/u.test(text) ? { language: lang } : {}) });
    const res = await fetch(`${api}/help/search?${q}`);
    if (res.ok) {
      const body = (await res.json()) as { items: Offer[]; offer: string[] };
      offers = body.items.filter((i) => body.offer.includes(i.id));
    }
  } catch { /* no articles: the message goes out as typed */ }
  if (offers.length === 0) { send(text); return; }
  for (const o of offers) feedback(o.id, 'offered');
  showOffers(text, offers);
}

function showOffers(text: string, offers: Offer[]): void {
  const card = document.createElement('div');
  card.className = 'deflect';
  card.setAttribute('role', 'group');
  card.setAttribute('aria-label', 'Suggested articles');
  const h = document.createElement('h3');
  h.textContent = 'Did this answer your question?';
  const list = document.createElement('ul');
  const reader = document.createElement('div');
  reader.className = 'article';
  reader.hidden = true;
  for (const o of offers) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = o.title;
    b.title = o.snippet;
    b.addEventListener('click', async () => {
      reader.hidden = false;
      reader.textContent = o.snippet;
      try {
        const res = await fetch(`${api}/help/articles/${encodeURIComponent(o.id)}`);
        // The server renders the Markdown with raw HTML escaped and links limited to safe schemes.
        if (res.ok) reader.innerHTML = ((await res.json()) as { html: string }).html;
      } catch { /* the snippet stays */ }
    });
    li.append(b);
    list.append(li);
  }
  const actions = document.createElement('div');
  actions.className = 'actions';
  const solved = document.createElement('button');
  solved.type = 'button';
  solved.className = 'primary';
  solved.textContent = 'That solved it';
  const more = document.createElement('button');
  more.type = 'button';
  more.textContent = 'I still need help';
  actions.append(solved, more);
  card.append(h, list, reader, actions);
  solved.addEventListener('click', () => {
    feedback(offers[0]!.id, 'solved');
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = 'Glad we could help! Write again any time.';
    offerCard = note;
    render();
  });
  more.addEventListener('click', () => {
    feedback(offers[0]!.id, 'not_solved');
    offerCard = null;
    send(text);
  });
  offerCard = card;
  render();
  solved.focus();
}

/** Files a visitor may send (the server checks again): pictures and PDFs up to 10 MB. */
const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'application/pdf'];
const UPLOAD_MAX_BYTES = 10_000_000;

/** Upload the chosen file (a form signed for this session, posted straight to the bucket), then send it as a message. */
async function sendFile(file: File): Promise<void> {
  if (!UPLOAD_TYPES.includes(file.type) || file.size > UPLOAD_MAX_BYTES || file.size === 0) {
    showError(t('error.fileType', { size: UPLOAD_MAX_BYTES / 1_000_000 }));
    return;
  }
  const now = Date.now();
  const preview = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
  const m: ChatMessage = { id: ulid(now), direction: 'in', text: '', at: new Date(now).toISOString(), pending: true, files: [{ name: file.name, mime_type: file.type, url: preview, size: file.size }] };
  state.messages.push(m);
  render();
  try {
    const res = await authed('/webchat/uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ file_name: file.name, content_type: file.type, size: file.size }) });
    if (!res.ok) throw new Error(String(res.status));
    const form = (await res.json()) as { key: string; url: string; fields: Record<string, string> };
    const body = new FormData();
    for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
    body.append('file', file);
    const up = await fetch(form.url, { method: 'POST', body });
    if (!up.ok) throw new Error(String(up.status));
    m.files = [{ name: file.name, mime_type: file.type, url: preview, key: form.key, size: file.size }];
  } catch {
    state.messages = state.messages.filter((x) => x !== m);
    showError(t('error.upload'));
    render();
    return;
  }
  await post(m);
}

$<HTMLInputElement>('input[type=file]').addEventListener('change', (e) => {
  const picker = e.target as HTMLInputElement;
  const file = picker.files?.[0];
  picker.value = '';
  if (file) void sendFile(file);
});

/** Merge the server's view: the visitor's own messages (same ids) and the agents' replies. */
async function poll(): Promise<void> {
  if (!state.session) return; // nothing to fetch before the visitor's first message
  const q = state.after ? `?after=${encodeURIComponent(state.after)}` : '';
  const res = await authed(`/webchat/messages${q}`);
  if (res.status === 400 && state.after) { state.after = null; save(); return; } // a cursor the server no longer takes: fetch everything again (merged by id)
  if (!res.ok) return;
  const body = (await res.json()) as { items: Array<{ id: string; direction: 'in' | 'out'; text: string; at: string; attachments?: Array<{ name: string | null; mime_type: string | null; url: string | null }> }>; next_cursor: string | null };
  let changed = false;
  for (const item of body.items) {
    const files = (item.attachments ?? []).map((a) => ({ name: a.name ?? t('file.default'), mime_type: a.mime_type, url: a.url }));
    const known = state.messages.find((m) => m.id === item.id);
    if (known) {
      if (known.pending || known.failed) { known.pending = false; known.failed = false; changed = true; }
      // The server's signed links replace a local preview.
      if (files.some((f) => f.url)) { known.files = files; changed = true; }
      continue;
    }
    state.messages.push({ id: item.id, direction: item.direction, text: item.text, at: item.at, ...(files.length > 0 ? { files } : {}) });
    if (item.direction === 'out' && panel.hidden) unread++;
    changed = true;
  }
  if (changed) state.messages.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  if (body.next_cursor) state.after = body.next_cursor;
  save();
  if (changed) render();
}

let timer: ReturnType<typeof setTimeout> | undefined;
function loop(): void {
  poll().catch(() => { /* offline: try again later */ }).finally(() => { timer = setTimeout(loop, document.hidden ? pollMs * 5 : pollMs); });
}
document.addEventListener('visibilitychange', () => { if (!document.hidden) { clearTimeout(timer); loop(); } });

function mount(): void {
  document.body.append(host);
  render();
  let wasOpen = false;
  try { wasOpen = sessionStorage.getItem(`${storageKey}:open`) === '1'; } catch { /* ignore */ }
  if (opt('open') === 'true' || wasOpen) setOpen(true);
  loop();
}
if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
