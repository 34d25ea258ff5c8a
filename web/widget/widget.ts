/**
 * Confluo web-chat widget. Embed with one tag:
 *
 *   <script src="https://support.example.com/webchat/widget.js" data-title="Questions?" async></script>
 *
 * Options (data-* on the script tag): `data-api` (default: the script's origin), `data-title`,
 * `data-color`, `data-poll-ms` (default 2000), `data-open` ("true": start opened).
 * Session (token, visitor, conversation) and the shown messages live in localStorage, so a page
 * reload keeps the conversation. Everything renders in a shadow root: the shop's CSS cannot
 * break it and it cannot break the shop.
 */

interface ChatMessage { id: string; direction: 'in' | 'out'; text: string; at: string; pending?: boolean; failed?: boolean }
interface Session { token: string; visitor_id: string; conversation_id: string; expires_at: string }
interface Stored { session?: Session; after?: string | null; messages: ChatMessage[] }

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
async function renewSession(): Promise<Session> {
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
</style>
<button class="launcher" type="button" aria-expanded="false" aria-controls="confluo-panel">
  <span class="label"></span><span class="badge" hidden></span></button>
<section class="panel" id="confluo-panel" role="dialog" aria-label="Chat" hidden>
  <header><h2 class="title"></h2><button type="button" class="close" aria-label="Close chat">×</button></header>
  <div class="log" role="log" aria-live="polite" aria-label="Conversation"></div>
  <div class="error" role="alert" hidden></div>
  <form>
    <label class="sr" for="confluo-input">Your message</label>
    <textarea id="confluo-input" name="text" rows="1" maxlength="4000" placeholder="Write a message…"></textarea>
    <button type="submit">Send</button>
  </form>
</section>`;

const $ = <T extends Element>(sel: string) => root.querySelector(sel) as T;
const launcher = $<HTMLButtonElement>('.launcher');
const panel = $<HTMLElement>('.panel');
const log = $<HTMLDivElement>('.log');
const input = $<HTMLTextAreaElement>('textarea');
const errorBox = $<HTMLDivElement>('.error');
const badge = $<HTMLSpanElement>('.badge');
const title = opt('title') ?? 'Chat with us';
$<HTMLElement>('.title').textContent = title;
$<HTMLElement>('.label').textContent = title;
let unread = 0;

function render(): void {
  log.replaceChildren();
  if (state.messages.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'Ask us anything — we usually answer within minutes.';
    log.append(p);
  }
  for (const m of state.messages) {
    const div = document.createElement('div');
    div.className = `msg ${m.direction}`;
    div.dataset.id = m.id;
    div.dataset.direction = m.direction === 'in' ? 'visitor' : 'agent';
    div.textContent = m.text;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const time = new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    meta.textContent = m.direction === 'out' ? `Support · ${time}` : m.failed ? 'Not sent — tap Send to retry' : m.pending ? 'Sending…' : time;
    div.append(meta);
    log.append(div);
  }
  log.scrollTop = log.scrollHeight;
  badge.hidden = unread === 0;
  badge.textContent = String(unread);
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
      body: JSON.stringify({ type: 'message', messageId: m.id, sentAt: m.at, text: m.text, page: { url: pageUrl().slice(0, 2048), title: document.title.slice(0, 500) } }),
    });
    if (!res.ok) throw new Error(String(res.status));
    m.pending = false;
    showError(null);
  } catch {
    m.failed = true;
    showError('Your message could not be sent. Check your connection and try again.');
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
  const now = Date.now();
  const m: ChatMessage = { id: ulid(now), direction: 'in', text, at: new Date(now).toISOString(), pending: true };
  state.messages.push(m);
  save();
  render();
  void post(m);
});

/** Merge the server's view: the visitor's own messages (same ids) and the agents' replies. */
async function poll(): Promise<void> {
  if (!state.session) return; // nothing to fetch before the visitor's first message
  const q = state.after ? `?after=${encodeURIComponent(state.after)}` : '';
  const res = await authed(`/webchat/messages${q}`);
  if (res.status === 400 && state.after) { state.after = null; save(); return; } // a cursor the server no longer takes: fetch everything again (merged by id)
  if (!res.ok) return;
  const body = (await res.json()) as { items: Array<{ id: string; direction: 'in' | 'out'; text: string; at: string }>; next_cursor: string | null };
  let changed = false;
  for (const item of body.items) {
    const known = state.messages.find((m) => m.id === item.id);
    if (known) { if (known.pending || known.failed) { known.pending = false; known.failed = false; changed = true; } continue; }
    state.messages.push({ id: item.id, direction: item.direction, text: item.text, at: item.at });
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
