/**
 * Confluo web inbox: one window for every channel. Preact + htm (no build-time JSX), bundled by
 * esbuild (local/web.ts). Talks only to the Agent API (`/api/v1`), live through the change feed:
 * Server-Sent Events (`/api/v1/events/stream`, local runtime) or polling `GET /events`.
 */
import { h, render } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { beginSignIn, completeSignIn, fromIdToken, logoutUrl, parseCallback, withoutCallbackParams, type CognitoAuthConfig, type SignedIn } from './oidc.js';
import { safeLinkUrl } from './safe-url.js';
import { PresenceSelect } from './presence.js';
import { CardOrders, MentionedOrders } from './orders.js';
import { ArticlePicker, insertAt, type Insertion } from './articles.js';
import { articleUrl } from '../../functions/domain/kb/agent-use.js';
import { Api, errorText as apiErrorText, isApiError, type Attachment, type AttachmentLink, type CustomerCard, type FeedEvent, type Identity, type Template, type Ticket, type TimelineEntry, type WhatsAppTemplate } from './api.js';
import { splitText } from '../../functions/channels/text.js';
import { smsSegmentsOfParts } from '../../functions/domain/sms.js';
import { Dashboard } from '../dashboard/dashboard.js';
import { LOCALES, makeTranslator, pickLocale, type Locale } from '../i18n/translate.js';
import { en, pl, ru, type InboxKey } from './messages.js';

const html = htm.bind(h);

const AUTH_KEY = 'confluo.inbox.auth';
/** The agent's choice of language, kept in this browser (absent: the browser's languages). */
const LOCALE_KEY = 'confluo.inbox.locale';

function storedLocale(): Locale | null {
  try { const v = localStorage.getItem(LOCALE_KEY); return v && (LOCALES as readonly string[]).includes(v) ? (v as Locale) : null; } catch { return null; }
}
let locale: Locale = storedLocale() ?? pickLocale(navigator.languages ?? [navigator.language]);
/** The inbox's words (web/inbox/messages.ts) in the current language; every component calls it while rendering. */
let t = makeTranslator({ en, ru, pl }, locale);
function switchLocale(next: Locale): void {
  locale = next;
  t = makeTranslator({ en, ru, pl }, next);
  document.documentElement.lang = next;
  try { localStorage.setItem(LOCALE_KEY, next); } catch { /* storage blocked: this page only */ }
}
document.documentElement.lang = locale;
/** The API's own message and code, or — no answer at all — a word about the connection. */
const errorText = (e: unknown) => (isApiError(e) ? apiErrorText(e) : t('error.request'));
/** Catalogue key of a value (status, priority, channel…) when there is one; the value itself otherwise. */
const known = (key: string, fallback: string) => (key in en ? t(key as InboxKey) : fallback);

/**
 * Run-time settings: `config.json` next to index.html (AWS: written by the WebInbox deployment;
 * local runtime: `{ apiBase: '/api/v1', auth: { kind: 'dev' } }`). Without one, the
 * `<meta name="confluo-api">` origin and the development sign-in.
 */
interface InboxConfig { apiBase: string; auth: { kind: 'dev' } | CognitoAuthConfig; helpUrl?: string }
let API_BASE = '/api/v1';
/** Origin of the local runtime's `/dev/token` (the API base without `/api/v1`). */
let DEV_BASE = '';
let COGNITO: CognitoAuthConfig | null = null;
/** The public help centre page articles are linked to (config `helpUrl`; default `help.html` next to the inbox). */
let HELP_URL = '';

const STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const CHANNELS = ['telegram', 'whatsapp', 'messenger', 'instagram', 'vk', 'viber', 'twilio', 'email', 'webchat', 'voice'] as const;
/** A channel's name as agents know it (the catalogue's `channel.<code>`). */
const channelName = (c: string) => known(`channel.${c}`, c);
const statusName = (s: string) => known(`status.${s}`, label(s));
const priorityName = (p: string) => known(`priority.${p}`, p);
/** "ticket opened", "SLA breached": a feed or timeline event in words. */
const eventName = (type: string) => known(`event.${type}`, label(type.replace(/^ticket\./, 'ticket ').replace('.', ' ')));
/** "4 min 5 s", "40 s": a call's duration (seconds). */
const callTime = (s: number) => (s >= 60 ? (s % 60 ? t('call.minSec', { m: Math.floor(s / 60), s: s % 60 }) : t('call.min', { m: s / 60 })) : t('call.sec', { s }));

/** A phone call's facts (issue 16): outcome, queue wait and talk time, who took it, the recording's reference. */
function CallFacts({ call }: { call: NonNullable<TimelineEntry['call']> }) {
  const parts = [
    known(`call.outcome.${call.outcome}`, label(call.outcome)),
    call.wait_seconds !== null ? t('call.waited', { time: callTime(call.wait_seconds) }) : null,
    call.talk_seconds > 0 ? t('call.talked', { time: callTime(call.talk_seconds) }) : null,
    call.agent ? t('call.agent', { name: call.agent }) : null,
    call.disconnect_reason ? label(call.disconnect_reason.toLowerCase()) : null,
  ].filter((x): x is string => x !== null);
  return html`<p class="call" data-outcome=${call.outcome} data-wait=${call.wait_seconds ?? ''} data-talk=${call.talk_seconds}>📞 ${parts.join(' · ')}${call.recording ? html` · <span class="muted" title=${t('call.recordingTitle')}>${t('call.recording', { ref: call.recording })}</span>` : ''}</p>`;
}
/** Twilio's limit per SMS body: a longer reply goes out as several (functions/channels/twilio). */
const TWILIO_TEXT_LIMIT = { max: 1600, unit: 'utf16' } as const;
const label = (s: string) => s.replace(/_/g, ' ');
const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' }) : '—');
/** "3 h 20 min", "45 min", "3 days": a span as people read it, in the agent's language. */
const span = (ms: number) => {
  const m = Math.max(1, Math.round(Math.abs(ms) / 60_000));
  return m < 60 ? t('span.min', { m }) : m < 48 * 60 ? t('span.hm', { h: Math.floor(m / 60), m: m % 60 }) : t('span.days', { count: Math.round(m / 1440) });
};

type Auth = SignedIn;
interface Filters { status: string; assignee: string; channel: string; sla: string; awaiting: string; delivery: string; q: string }
const NO_FILTERS: Filters = { status: '', assignee: '', channel: '', sla: '', awaiting: '', delivery: '', q: '' };

function loadAuth(): Auth | null {
  try { return JSON.parse(localStorage.getItem(AUTH_KEY) ?? 'null') as Auth | null; } catch { return null; }
}

function ChannelBadge({ channel }: { channel: string }) {
  return html`<span class=${`badge ch ch-${channel}`} data-channel=${channel}>${channelName(channel)}</span>`;
}

const isSupervisor = (role: string) => role === 'supervisor' || role === 'admin';

/** location.hash, following navigation (the dashboard's links back to tickets change it). */
function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

// ------------------------------------------------------------------------------------------------
function App({ notice }: { notice: string | null }) {
  const [auth, setAuth] = useState<Auth | null>(loadAuth);
  const [message, setMessage] = useState<string | null>(notice);
  const [lang, setLang] = useState<Locale>(locale);
  const choose = useCallback((l: Locale) => { switchLocale(l); setLang(l); }, []);
  const signOut = useCallback(() => {
    const was = loadAuth();
    localStorage.removeItem(AUTH_KEY);
    setAuth(null);
    // End the hosted-UI session too, or the next sign-in would pass without a password.
    if (COGNITO && was?.via === 'cognito') location.assign(logoutUrl(COGNITO));
  }, []);
  const onUnauthorized = useCallback(() => {
    const was = loadAuth();
    localStorage.removeItem(AUTH_KEY);
    setAuth(null);
    // An expired Cognito token: straight back to the hosted UI. Any other 401 (a token the API
    // does not accept) shows the sign-in page instead of bouncing between the two for ever.
    if (COGNITO && was?.via === 'cognito' && (was.expiresAt ?? 0) <= Date.now() + 30_000) {
      void beginSignIn(COGNITO, sessionStorage).then((u) => location.assign(u));
    } else setMessage(t('signin.tokenRefused'));
  }, []);
  const api = useMemo(() => new Api(API_BASE, auth?.token ?? null, onUnauthorized), [auth, onUnauthorized]);
  const dashboard = useHash() === '#dashboard';
  if (!auth) return html`<${SignIn} notice=${message} lang=${lang} onLang=${choose} onSignedIn=${(a: Auth) => { localStorage.setItem(AUTH_KEY, JSON.stringify(a)); setMessage(null); setAuth(a); }} />`;
  // The supervisors' dashboard (web/dashboard) is a page of the inbox at #dashboard.
  if (dashboard && isSupervisor(auth.role)) return html`<${Dashboard} api=${api} signOut=${signOut} who=${`${auth.name ?? auth.agent} · ${auth.role}`} lang=${lang} />`;
  return html`<${Inbox} api=${api} auth=${auth} signOut=${signOut} lang=${lang} onLang=${choose} />`;
}

/** The agent's language: kept in this browser; the browser's languages decide until one is chosen. */
function LanguagePicker({ lang, onLang }: { lang: Locale; onLang: (l: Locale) => void }) {
  const names: Record<Locale, string> = { en: 'English', ru: 'Русский', pl: 'Polski' };
  return html`<select class="lang" name="locale" aria-label=${t('lang.label')} title=${t('lang.label')} value=${lang} onChange=${(e: Event) => onLang((e.target as HTMLSelectElement).value as Locale)}>
    ${LOCALES.map((l) => html`<option value=${l} lang=${l}>${names[l]}</option>`)}</select>`;
}

/** Paste a bearer token (any deployment): its claims name the agent and the role. */
function TokenSignIn({ onSignedIn, setError }: { onSignedIn: (a: Auth) => void; setError: (e: string | null) => void }) {
  const [token, setToken] = useState('');
  const use = () => {
    try { onSignedIn({ ...fromIdToken(token.trim()), via: 'token' }); } catch { setError(t('token.invalid')); }
  };
  return html`<details><summary>${t('token.summary')}</summary>
    <label for="token">${t('token.label')}</label>
    <textarea id="token" rows="3" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLTextAreaElement).value)}></textarea>
    <button type="button" disabled=${!token.trim()} onClick=${use}>${t('token.use')}</button>
  </details>`;
}

function SignIn({ onSignedIn, notice, lang, onLang }: { onSignedIn: (a: Auth) => void; notice: string | null; lang: Locale; onLang: (l: Locale) => void }) {
  const [agent, setAgent] = useState('');
  const [role, setRole] = useState('agent');
  const [error, setError] = useState<string | null>(notice);
  if (COGNITO) {
    const cognito = COGNITO;
    const go = async (e: Event) => {
      e.preventDefault();
      try { location.assign(await beginSignIn(cognito, sessionStorage)); } catch { setError(t('signin.noCrypto')); }
    };
    return html`<main class="signin">
      <form onSubmit=${go} aria-labelledby="signin-title">
        <h1 id="signin-title">${t('signin.title')}</h1> <${LanguagePicker} lang=${lang} onLang=${onLang} />
        <p>${t('signin.hosted')}</p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary">${t('signin.submit')}</button>
        <${TokenSignIn} onSignedIn=${onSignedIn} setError=${setError} />
      </form>
    </main>`;
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const res = await fetch(`${DEV_BASE}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: agent.trim(), role }) });
      if (!res.ok) throw new Error(res.status === 404 ? t('signin.noDev') : t('signin.refused'));
      onSignedIn({ token: ((await res.json()) as { token: string }).token, agent: agent.trim(), role, via: 'dev' });
    } catch (err) { setError((err as Error).message); }
  };
  return html`<main class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">${t('signin.title')}</h1> <${LanguagePicker} lang=${lang} onLang=${onLang} />
      <label for="agent">${t('signin.agent')}</label>
      <input id="agent" name="agent" autocomplete="username" value=${agent} onInput=${(e: Event) => setAgent((e.target as HTMLInputElement).value)} />
      <label for="role">${t('signin.role')}</label>
      <select id="role" value=${role} onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}>
        <option value="agent">${t('role.agent')}</option><option value="supervisor">${t('role.supervisor')}</option><option value="admin">${t('role.admin')}</option>
      </select>
      <${TokenSignIn} onSignedIn=${onSignedIn} setError=${setError} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${!agent.trim()}>${t('signin.submit')}</button>
      <p class="hint">${t('signin.hint')}</p>
    </form>
  </main>`;
}

// ------------------------------------------------------------------------------------------------
/** The change feed: SSE where the runtime offers it, else polling `GET /events`. */
function useFeed(api: Api, onEvent: (e: FeedEvent) => void): 'live' | 'polling' | 'offline' {
  const [mode, setMode] = useState<'live' | 'polling' | 'offline'>('offline');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    let stopped = false;
    let es: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (cursor: string | null) => {
      if (stopped) return;
      try {
        const page = await api.get<{ items: FeedEvent[]; next_cursor: string }>(`/events${cursor ? `?since=${encodeURIComponent(cursor)}` : ''}`);
        page.items.forEach((e) => handler.current(e));
        setMode('polling');
        cursor = page.next_cursor;
      } catch { setMode('offline'); }
      timer = setTimeout(() => void poll(cursor), 5000);
    };
    if (typeof EventSource !== 'undefined' && api.token) {
      let opened = false;
      es = new EventSource(`${API_BASE}/events/stream?access_token=${encodeURIComponent(api.token)}`);
      es.onopen = () => { opened = true; setMode('live'); };
      es.onmessage = () => {};
      // SSE events are named by feed type; every type the inbox reacts to.
      const types = ['ticket.opened', 'ticket.updated', 'ticket.reopened', 'ticket.status_changed', 'ticket.priority_changed', 'ticket.assigned', 'ticket.resolved',
        'ticket.closed', 'ticket.merged', 'ticket.unmerged', 'ticket.split', 'ticket.handoff', 'message.received', 'message.edited', 'message.failed', 'outbound.queued', 'note.added',
        'sla.escalated', 'sla.breached', 'survey.answered', 'survey.commented', 'customer.merged', 'customer.unmerged', 'customer.erased', 'identity.linked', 'ticket.resolution_article'];
      for (const t of types) es.addEventListener(t, (m) => { try { handler.current(JSON.parse((m as MessageEvent).data as string) as FeedEvent); } catch { /* ignore */ } });
      es.onerror = () => {
        if (!opened) { es?.close(); es = undefined; void poll(null); } // no stream here (AWS): poll
        else setMode('offline'); // reconnects by itself
      };
    } else void poll(null);
    return () => { stopped = true; es?.close(); clearTimeout(timer); };
  }, [api]);
  return mode;
}

/**
 * Keys for the list and the open ticket — not while the agent types in a field (or with a
 * modifier, which belongs to the browser): `j`/`k` next/previous ticket, `r` the reply box, `e`
 * resolve, `/` the search field.
 */
function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      const click = (sel: string) => { const el = document.querySelector<HTMLElement>(sel); if (el) { e.preventDefault(); el.click(); } return el; };
      if (e.key === 'j' || e.key === 'k') {
        const rows = [...document.querySelectorAll<HTMLButtonElement>('.ticket-row')];
        if (rows.length === 0) return;
        const at = rows.findIndex((row) => row.getAttribute('aria-current') === 'true');
        const next = rows[at === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, at + (e.key === 'j' ? 1 : -1)))]!;
        e.preventDefault();
        next.click();
        next.focus();
      } else if (e.key === 'r') {
        click('.composer [data-mode="reply"]');
        setTimeout(() => document.querySelector<HTMLElement>('#composer-text')?.focus(), 0);
      } else if (e.key === 'e') {
        click('.triage [data-action="resolve"]');
      } else if (e.key === '/') {
        const q = document.querySelector<HTMLInputElement>('#filter-q');
        if (q) { e.preventDefault(); q.focus(); q.select(); }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

function Inbox({ api, auth, signOut, lang, onLang }: { api: Api; auth: Auth; signOut: () => void; lang: Locale; onLang: (l: Locale) => void }) {
  useShortcuts();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [selected, setSelected] = useState<string | null>(() => new URLSearchParams(location.hash.slice(1)).get('ticket'));
  const [tick, setTick] = useState(0);
  const [announce, setAnnounce] = useState('');
  const [notify, setNotify] = useState(typeof Notification !== 'undefined' ? Notification.permission : 'denied');
  const bump = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const mode = useFeed(api, (e) => {
    clearTimeout(bump.current);
    bump.current = setTimeout(() => setTick((t) => t + 1), 250);
    // A reply that could not be delivered is news for whoever handles the ticket.
    const important = e.type === 'ticket.opened' || e.type === 'sla.breached' || e.type === 'sla.escalated' || e.type === 'message.failed' || (e.type === 'ticket.assigned' && e.data.assignee === auth.agent);
    if (e.type === 'message.received' || important) setAnnounce(eventName(e.type));
    if (important && typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
      const n = new Notification('Confluo', { body: eventName(e.type), tag: e.ticket_id ?? e.id });
      n.onclick = () => { window.focus(); if (e.ticket_id) setSelected(e.ticket_id); };
    }
  });
  useEffect(() => { history.replaceState(null, '', selected ? `#ticket=${selected}` : location.pathname + location.search); }, [selected]);

  return html`<div class=${`layout ${selected ? 'has-ticket' : ''}`}>
    <header class="topbar">
      <h1>Confluo</h1>
      <span class=${`live ${mode}`} role="status" title=${t('live.title')}>${mode === 'live' ? t('live.live') : mode === 'polling' ? t('live.polling') : t('live.offline')}</span>
      <span class="sr" aria-live="polite">${announce}</span>
      <span class="spacer"></span>
      ${notify === 'default' && html`<button type="button" onClick=${async () => setNotify(await Notification.requestPermission())}>${t('notify.enable')}</button>`}
      ${isSupervisor(auth.role) && html`<a class="nav" href="#dashboard">${t('nav.dashboard')}</a>`}
      <${PresenceSelect} api=${api} agent=${auth.agent} t=${t} />
      <span class="me">${auth.name ?? auth.agent} · ${known(`role.${auth.role}`, auth.role)}</span>
      <${LanguagePicker} lang=${lang} onLang=${onLang} />
      <button type="button" onClick=${signOut}>${t('signout')}</button>
    </header>
    <${TicketList} api=${api} filters=${filters} setFilters=${setFilters} selected=${selected} onSelect=${setSelected} tick=${tick} />
    ${selected
      ? html`<${TicketView} key=${selected} api=${api} id=${selected} auth=${auth} tick=${tick} onClose=${() => setSelected(null)} onSelect=${setSelected} />`
      : html`<section class="ticket empty" aria-label=${t('ticket.region')}><div><p>${t('ticket.select')}</p><p class="muted keys">${t('keys.hint')}</p></div></section>`}
  </div>`;
}

// ------------------------------------------------------------------------------------------------
function TicketList({ api, filters, setFilters, selected, onSelect, tick }: { api: Api; filters: Filters; setFilters: (f: Filters) => void; selected: string | null; onSelect: (id: string) => void; tick: number }) {
  const [tickets, setTickets] = useState<Ticket[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [counts, setCounts] = useState<{ mine: number; unassigned: number; awaiting_reply: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Waiting times and SLA countdowns move on by themselves.
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const id = setInterval(() => setNow(Date.now()), 30_000); return () => clearInterval(id); }, []);
  const query = (cursor?: string) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v.trim()) p.set(k, v.trim());
    p.set('limit', '50');
    if (cursor) p.set('cursor', cursor);
    return `/tickets?${p}`;
  };
  useEffect(() => {
    let live = true;
    api.get<{ items: Ticket[]; next_cursor: string | null }>(query())
      .then((r) => { if (live) { setTickets(r.items); setNext(r.next_cursor); setError(null); } })
      .catch((e) => { if (live) setError(errorText(e)); });
    api.get<{ mine: number; unassigned: number; awaiting_reply: number }>('/tickets/counts').then((c) => live && setCounts(c)).catch(() => {});
    return () => { live = false; };
  }, [api, filters, tick]);
  const set = (k: keyof Filters) => (e: Event) => setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  const view = (f: Partial<Filters>) => setFilters({ ...NO_FILTERS, ...f });
  const more = async () => {
    if (!next) return;
    const r = await api.get<{ items: Ticket[]; next_cursor: string | null }>(query(next));
    setTickets([...(tickets ?? []), ...r.items]); setNext(r.next_cursor);
  };
  return html`<nav class="list" aria-label=${t('list.label')}>
    <div class="views" role="group" aria-label=${t('views.label')}>
      <button type="button" aria-pressed=${filters.assignee === 'me' && !filters.awaiting} onClick=${() => view({ assignee: 'me' })}>${t('views.mine')} ${counts ? html`<b>${counts.mine}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.assignee === 'none'} onClick=${() => view({ assignee: 'none' })}>${t('views.unassigned')} ${counts ? html`<b>${counts.unassigned}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.awaiting === 'agent'} onClick=${() => view({ awaiting: 'agent' })}>${t('views.awaiting')} ${counts ? html`<b>${counts.awaiting_reply}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.delivery === 'failed'} onClick=${() => view({ delivery: 'failed' })}>${t('views.undelivered')}</button>
      <button type="button" onClick=${() => view({})}>${t('views.all')}</button>
    </div>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="filter-status">${t('filter.status')}</label> <select id="filter-status" name="status" value=${filters.status} onChange=${set('status')}>
        <option value="">${t('filter.status.any')}</option>${STATUSES.map((s) => html`<option value=${s}>${statusName(s)}</option>`)}</select></div>
      <div class="field"><label for="filter-assignee">${t('filter.assignee')}</label> <select id="filter-assignee" name="assignee" value=${filters.assignee} onChange=${set('assignee')}>
        <option value="">${t('filter.assignee.anyone')}</option><option value="me">${t('filter.assignee.me')}</option><option value="none">${t('filter.assignee.nobody')}</option></select></div>
      <div class="field"><label for="filter-channel">${t('filter.channel')}</label> <select id="filter-channel" name="channel" value=${filters.channel} onChange=${set('channel')}>
        <option value="">${t('filter.any')}</option>${CHANNELS.map((c) => html`<option value=${c}>${channelName(c)}</option>`)}</select></div>
      <div class="field"><label for="filter-sla">${t('filter.sla')}</label> <select id="filter-sla" name="sla" value=${filters.sla} onChange=${set('sla')}>
        <option value="">${t('filter.any')}</option><option value="at_risk">${t('filter.sla.atRisk')}</option><option value="breached">${t('filter.sla.breached')}</option></select></div>
      <div class="field"><label for="filter-awaiting">${t('filter.awaiting')}</label> <select id="filter-awaiting" name="awaiting" value=${filters.awaiting} onChange=${set('awaiting')}>
        <option value="">${t('filter.awaiting.either')}</option><option value="agent">${t('filter.awaiting.agent')}</option><option value="customer">${t('filter.awaiting.customer')}</option></select></div>
      <div class="field search"><label for="filter-q">${t('filter.search')}</label> <input id="filter-q" type="search" name="q" value=${filters.q} placeholder=${t('filter.search.placeholder')} aria-keyshortcuts="/" onChange=${set('q')} /></div>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${tickets === null ? html`<p class="muted">${t('list.loading')}</p>` : tickets.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`
    <ul class="tickets">
      ${tickets.map((ticket) => html`<li key=${ticket.id}><${TicketRow} ticket=${ticket} now=${now} selected=${ticket.id === selected} onSelect=${onSelect} /></li>`)}
    </ul>`}
    ${next && html`<button type="button" class="more" onClick=${more}>${t('list.more')}</button>`}
  </nav>`;
}

/** "AB" for `anna.bell`, "A1" for `agent-1`: an assignee at a glance. */
const initials = (id: string) => (id.split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 2).map((p) => [...p][0]!.toUpperCase()).join('') || '?');

/**
 * One ticket as a list row that tells its story: who (customer name, tier), what (the last
 * message's first line, its channel and direction), how long the customer has waited, the SLA
 * countdown or breach, and who has it (initials).
 */
function TicketRow({ ticket: tk, now, selected, onSelect }: { ticket: Ticket; now: number; selected: boolean; onSelect: (id: string) => void }) {
  const breached = (tk.sla?.breached.length ?? 0) > 0;
  const due = tk.sla ? tk.sla.first_response_due ?? tk.sla.next_response_due ?? tk.sla.resolution_due : null;
  const left = due ? Date.parse(due) - now : null;
  const awaitingUs = tk.last_inbound_at !== null && (tk.last_outbound_at === null || tk.last_outbound_at < tk.last_inbound_at) && tk.status !== 'resolved' && tk.status !== 'closed';
  const waited = awaitingUs ? now - Date.parse(tk.last_inbound_at!) : null;
  const dir = tk.last_message_direction;
  return html`<button type="button" class=${`ticket-row ${selected ? 'selected' : ''}`} aria-current=${selected ? 'true' : undefined} data-ticket=${tk.id} onClick=${() => onSelect(tk.id)}>
    <span class="row1">
      ${tk.assignee
        ? html`<span class="avatar" title=${t('row.assignee', { name: tk.assignee })} aria-label=${t('row.assignee', { name: tk.assignee })}>${initials(tk.assignee)}</span>`
        : html`<span class="avatar none" title=${t('row.unassigned')} aria-label=${t('row.unassigned')}></span>`}
      <strong class="name">${tk.customer_name ?? t('row.customer')}</strong>
      ${tk.tier && html`<span class=${`badge tier tier-${tk.tier}`} data-tier=${tk.tier} title=${t('row.tier', { tier: tk.tier })}>${tk.tier.toUpperCase()}</span>`}
      <span class="spacer"></span>
      ${waited !== null && html`<span class="waiting" title=${t('row.waitingTitle', { time: span(waited) })}>${t('row.waiting', { time: span(waited) })}</span>`}
    </span>
    <span class="row2 last">
      ${dir && html`<span class=${`dir dir-${dir}`} data-direction=${dir} role="img" aria-label=${dir === 'in' ? t('row.in') : t('row.out')} title=${dir === 'in' ? t('row.in') : t('row.out')}>${dir === 'in' ? '↘' : '↗'}</span>`}
      <${ChannelIcon} channel=${tk.last_message_channel ?? tk.channel} />
      <span class="preview">${tk.last_message_preview || html`<em>${t('row.noPreview')}</em>`}</span>
    </span>
    <span class="row3">
      <span class="number">${tk.number}</span> <${ChannelBadge} channel=${tk.channel} /> <span class=${`status st-${tk.status}`}>${statusName(tk.status)}</span>
      ${tk.priority !== 'normal' && html`<span class=${`prio p-${tk.priority}`}>${priorityName(tk.priority)}</span>`}
      ${breached ? html`<span class="sla breached" data-sla="breached">${t('row.slaBreached')}</span>`
        : left !== null && html`<span class=${`sla countdown ${left <= 0 ? 'overdue' : left < 15 * 60_000 ? 'soon' : ''}`} data-sla="due" title=${t('row.slaDueTitle', { time: when(due) })}>${left > 0 ? t('row.slaDue', { time: span(left) }) : t('row.slaOverdue', { time: span(left) })}</span>`}
      ${(tk.undelivered ?? 0) > 0 && html`<span class="undelivered" title=${t('row.undeliveredTitle')}>${t('row.undelivered')}</span>`}
      <span class="count muted">${t('row.messages', { count: tk.message_count })}</span>
    </span>
  </button>`;
}

/** A channel as a small round icon (its initial on the channel's colour), named for screen readers. */
function ChannelIcon({ channel }: { channel: string }) {
  const name = channelName(channel);
  return html`<span class=${`ch-icon ch-${channel}`} data-channel=${channel} role="img" aria-label=${name} title=${name}>${[...name][0]}</span>`;
}

// ------------------------------------------------------------------------------------------------
function TicketView({ api, id, auth, tick, onClose, onSelect }: { api: Api; id: string; auth: Auth; tick: number; onClose: () => void; onSelect: (id: string) => void }) {
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [card, setCard] = useState<CustomerCard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  /** The article the agent last linked in a reply: offered as the one that solved the ticket. */
  const [credit, setCredit] = useState<{ id: string; title: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const rechecks = useRef(0);
  const refresh = () => setVersion((v) => v + 1);
  useEffect(() => { rechecks.current = 0; }, [tick]);
  useEffect(() => {
    let live = true;
    Promise.all([api.get<Ticket>(`/tickets/${id}`), api.get<{ items: TimelineEntry[] }>(`/tickets/${id}/timeline`)])
      .then(([t, tl]) => {
        if (!live) return;
        setTicket(t); setTimeline(tl.items); setError(null);
        return api.get<CustomerCard>(`/customers/${t.customer_id}`).then((c) => live && setCard(c)).catch(() => {});
      })
      .catch((e) => { if (live) setError(errorText(e)); });
    return () => { live = false; };
  }, [api, id, tick, version]);
  // A layout effect: focus moves in the same task as the heading appears. A passive effect runs a
  // frame later, so on a busy machine an agent who pressed `r` as soon as the ticket showed could
  // lose the reply box to the late heading focus (seen once in a full test run; not reproduced).
  useLayoutEffect(() => { heading.current?.focus(); }, [ticket?.id]);
  // Delivery moves on without a feed event: while a reply is queued, look again shortly.
  useEffect(() => {
    if (!timeline.some((e) => e.type === 'message' && e.direction === 'out' && e.delivery === 'queued') || rechecks.current > 30) return;
    rechecks.current++;
    const t = setTimeout(refresh, 1000);
    return () => clearTimeout(t);
  }, [timeline]);
  if (error && !ticket) return html`<section class="ticket"><p class="error" role="alert">${error}</p></section>`;
  if (!ticket) return html`<section class="ticket"><p class="muted">${t('view.loading')}</p></section>`;
  return html`<section class="ticket" aria-labelledby="ticket-title">
    <div class="ticket-head">
      <button type="button" class="back" onClick=${onClose}>${t('view.back')}</button>
      <h2 id="ticket-title" tabindex="-1" ref=${heading}>${ticket.number} · ${ticket.customer?.display_name ?? t('view.customer')}</h2>
      <${ChannelBadge} channel=${ticket.channel} />
      <span class=${`status st-${ticket.status}`} data-status=${ticket.status}>${statusName(ticket.status)}</span>
    </div>
    <${Triage} api=${api} ticket=${ticket} auth=${auth} article=${credit} onChanged=${(t: Ticket) => { setTicket({ ...ticket, ...t }); refresh(); }} />
    <${SlaLine} ticket=${ticket} />
    <ol class="timeline" aria-label=${t('view.timeline')}>${timeline.map((e) => html`<${Entry} key=${e.id} e=${e} api=${api} ticketId=${ticket.id} card=${card} onChanged=${refresh} />`)}</ol>
    <${Composer} api=${api} ticket=${ticket} card=${card} onSent=${refresh} onArticleLinked=${setCredit} />
  </section>
  <${CustomerPanel} api=${api} card=${card} current=${ticket.id} onSelect=${onSelect} onChanged=${refresh} />`;
}

function SlaLine({ ticket }: { ticket: Ticket }) {
  const s = ticket.sla;
  if (!s) return null;
  const due = s.first_response_due ?? s.next_response_due ?? s.resolution_due;
  const state = s.breached.length ? t('sla.breached', { which: s.breached.map((b) => known(`sla.${b}`, label(b))).join(', ') }) : due ? t('sla.nextDue', { time: when(due) }) : t('sla.met');
  return html`<p class=${`sla-line ${s.breached.length ? 'breached' : ''}`}>${t('sla.label', { state })}${s.escalation_level ? t('sla.escalation', { level: s.escalation_level }) : ''}</p>`;
}

function Triage({ api, ticket, auth, article, onChanged }: { api: Api; ticket: Ticket; auth: Auth; article: { id: string; title: string } | null; onChanged: (t: Ticket) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [creditIt, setCreditIt] = useState(true);
  /** Resolve; with an article linked in a reply (and the box left ticked), credit the resolution to it. */
  const resolve = async () => {
    setError(null);
    let changed: Ticket;
    try { changed = (await api.patch<{ ticket: Ticket }>(`/tickets/${ticket.id}`, { status: 'resolved' })).ticket; } catch (e) { setError(errorText(e)); return; }
    // Resolved either way; a credit that fails (the article was deleted meanwhile) says so.
    if (article && creditIt) await api.call('PUT', `/tickets/${ticket.id}/resolution-article`, { article_id: article.id }).catch((e: unknown) => setError(errorText(e)));
    onChanged(changed);
  };
  const patch = async (body: Record<string, unknown>) => {
    setError(null);
    try { onChanged((await api.patch<{ ticket: Ticket }>(`/tickets/${ticket.id}`, body)).ticket); } catch (e) { setError(errorText(e)); }
  };
  const statuses = STATUSES.includes(ticket.status as never) ? STATUSES : [...STATUSES, ticket.status];
  return html`<form class="triage" aria-label=${t('triage.label')} onSubmit=${(e: Event) => e.preventDefault()}>
    <div class="field"><label for="triage-status">${t('triage.status')}</label> <select id="triage-status" name="status" value=${ticket.status} onChange=${(e: Event) => patch({ status: (e.target as HTMLSelectElement).value })}>
      ${statuses.map((s) => html`<option value=${s}>${statusName(s)}</option>`)}</select></div>
    <div class="field"><label for="triage-priority">${t('triage.priority')}</label> <select id="triage-priority" name="priority" value=${ticket.priority} onChange=${(e: Event) => patch({ priority: (e.target as HTMLSelectElement).value })}>
      ${PRIORITIES.map((p) => html`<option value=${p}>${priorityName(p)}</option>`)}</select></div>
    <span class="assignee">${t('triage.assignee')} <strong>${ticket.assignee ?? t('triage.nobody')}</strong></span>
    ${ticket.assignee !== auth.agent && html`<button type="button" onClick=${() => patch({ assignee: 'me' })}>${t('triage.assignMe')}</button>`}
    ${ticket.assignee && html`<button type="button" onClick=${() => patch({ assignee: null })}>${t('triage.unassign')}</button>`}
    ${ticket.status !== 'resolved' && ticket.status !== 'closed' && article && html`<label class="kb-credit"><input type="checkbox" checked=${creditIt} onChange=${(e: Event) => setCreditIt((e.target as HTMLInputElement).checked)} /> ${t('kb.credit', { title: article.title })}</label>`}
    ${ticket.status !== 'resolved' && ticket.status !== 'closed' && html`<button type="button" class="primary" data-action="resolve" aria-keyshortcuts="e" onClick=${() => void resolve()}>${t('triage.resolve')}</button>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

/** The help centre's public page of an article. */
const articleHref = (id: string) => articleUrl(HELP_URL || new URL('help.html', location.href).href, id);

const TICKS: Record<string, string> = { queued: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '⚠' };

/** Channels of the customer, other than `channel`, that are not known to be unreachable. */
function otherReachable(card: CustomerCard | null, channel: string): string[] {
  return [...new Set((card?.identities ?? []).filter((i) => i.channel !== channel && i.reachability !== 'unreachable').map((i) => i.channel))];
}

function Entry({ e, api, ticketId, card, onChanged }: { e: TimelineEntry; api: Api; ticketId: string; card: CustomerCard | null; onChanged: () => void }) {
  if (e.type === 'note') {
    return html`<li class="entry note" data-type="note"><span class="who">${t('entry.note', { author: e.author ?? '' })}</span><p>${e.text}</p><time>${when(e.at)}</time></li>`;
  }
  if (e.type === 'event' && e.event === 'ticket.resolution_article') {
    const d = e.data ?? {};
    const id = String(d.article_id ?? '');
    return html`<li class="entry event" data-type="event" data-event=${e.event} data-article=${id}><span>${t('event.resolutionArticle', { title: String(d.title ?? id) })}</span>${' '}
      <a href=${articleHref(id)} target="_blank" rel="noopener noreferrer">${t('kb.openArticle')} ↗</a> <time>${when(e.at)}</time></li>`;
  }
  if (e.type === 'event') {
    const d = e.data ?? {};
    const value = (k: string, v: unknown) => (v === null || v === undefined ? '—' : k === 'status' || k === 'from' || k === 'to' ? known(`status.${String(v)}`, known(`priority.${String(v)}`, String(v))) : k === 'priority' ? priorityName(String(v)) : String(v));
    const detail = (['from', 'to', 'assignee', 'priority', 'status'] as const).filter((k) => d[k] !== undefined).map((k) => t(`event.detail.${k}`, { value: value(k, d[k]) })).join(', ');
    return html`<li class="entry event" data-type="event" data-event=${e.event}><span>${eventName(String(e.event ?? 'event'))}${detail ? ` — ${detail}` : ''}</span> <time>${when(e.at)}</time></li>`;
  }
  const out = e.direction === 'out';
  const failed = out && e.delivery === 'failed';
  return html`<li class=${`entry msg ${out ? 'out' : 'in'} ${failed ? 'failed' : ''}`} data-type="message" data-direction=${e.direction} data-id=${e.id} data-delivery=${out ? e.delivery : undefined}>
    <div class="bubble">
      <span class="who"><${ChannelBadge} channel=${e.channel ?? ''} /> ${out ? (e.author ?? (e.outbound_kind && e.outbound_kind !== 'reply' ? e.outbound_kind : 'Confluo')) : t('entry.customer')}</span>
      ${!out && e.unauthenticated && html`<p class="sender-unverified" role="note">${t('entry.unverified')}</p>`}
      ${e.text && html`<p class="text">${e.text}</p>`}
      ${e.call && html`<${CallFacts} call=${e.call} />`}
      ${e.interaction && html`<p class="muted">${t('entry.pressed', { payload: e.interaction.payload })}</p>`}
      ${!out && html`<${MentionedOrders} orders=${e.orders} t=${t} />`}
      ${(e.attachments ?? []).length > 0 && html`<ul class="attachments" aria-label=${t('entry.attachments')}>${(e.attachments ?? []).map((a, n) => html`<${AttachmentItem} a=${a} n=${n} api=${api} ticketId=${ticketId} messageId=${e.id} />`)}</ul>`}
      <span class="meta"><time>${when(e.at)}</time>${e.edited ? html` · <em class="edited">${t('entry.edited')}</em>` : ''}
        ${out && html` <span class=${`ticks d-${e.delivery}`} data-delivery=${e.delivery} role="img" aria-label=${t('entry.delivery', { state: known(`delivery.${e.delivery}`, e.delivery ?? '') })} title=${known(`delivery.${e.delivery}`, e.delivery ?? '')}>${TICKS[e.delivery ?? 'queued'] ?? e.delivery}</span>`}</span>
      ${failed && html`<${Failure} e=${e} api=${api} ticketId=${ticketId} card=${card} onChanged=${onChanged} />`}
    </div></li>`;
}

/** A file in the reply box: uploading, uploaded (its `upload_id`), or refused (why). */
interface PendingFile { local: string; name: string; size: number; status: 'uploading' | 'ready' | 'error'; upload_id?: string; error?: string }

const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** "1.5 MB", "820 KB". */
const sizeText = (bytes: number | null | undefined) => (!bytes ? '' : bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`);

/**
 * One attachment (issue 14). Stored: images as thumbnails that open full size, audio and video
 * as players, anything else a download link with its name and size — all through short-lived
 * signed URLs the Agent API answers (asked for when shown; a download asks again when clicked, so
 * an old page never offers an expired link). Not stored: why (too large, gone, failed), or that it
 * is still being fetched. Without stored bytes a platform link is shown as before (safe-url.ts).
 */
function AttachmentItem({ a, n, api, ticketId, messageId }: { a: Attachment; n: number; api: Api; ticketId: string; messageId: string }) {
  const m = a.media;
  const kind = m?.status === 'stored' ? (m.content_type ?? '').split('/')[0] : '';
  const inline = kind === 'image' || kind === 'audio' || kind === 'video';
  const [link, setLink] = useState<AttachmentLink | null>(null);
  const [error, setError] = useState<string | null>(null);
  const path = `/tickets/${encodeURIComponent(ticketId)}/messages/${encodeURIComponent(messageId)}/attachments/${n}`;
  useEffect(() => {
    if (m?.status !== 'stored') return;
    let live = true;
    api.get<AttachmentLink>(`${path}${inline ? '?disposition=inline' : ''}`).then((l) => { if (live) setLink(l); }, (err) => { if (live) setError(errorText(err)); });
    return () => { live = false; };
  }, [path, m?.status, inline]);
  const name = a.file_name ?? link?.file_name ?? a.type;
  const size = sizeText(m?.size ?? a.size);
  if (!m || m.status !== 'stored') {
    const href = safeLinkUrl(a.url, location.href);
    const note = !m ? null : m.status === 'pending' ? t('att.fetching') : t('att.notKept', { reason: m.reason ?? label(m.status) });
    return html`<li class=${`attachment ${m ? `media-${m.status}` : ''}`} data-status=${m?.status ?? 'metadata'}>
      ${m && m.status !== 'pending' ? '⚠' : '📎'} ${href ? html`<a href=${href} target="_blank" rel="noopener noreferrer">${name}</a>` : name}
      <span class="muted">${a.mime_type ?? a.type}${size ? ` · ${size}` : ''}</span>
      ${note && html` <span class=${m?.status === 'pending' ? 'muted' : 'attachment-problem'} role=${m?.status === 'pending' ? undefined : 'note'}>${note}</span>`}</li>`;
  }
  const download = async (ev: Event) => {
    // A link shown a while ago may have expired: ask for a fresh one.
    if (link && Date.parse(link.expires_at) - Date.now() > 30_000) return;
    ev.preventDefault();
    try { const l = await api.get<AttachmentLink>(path); setLink(l); location.assign(l.url); } catch (err) { setError(errorText(err)); }
  };
  return html`<li class=${`attachment media-stored kind-${kind || 'file'}`} data-status="stored" data-content-type=${m.content_type}>
    ${kind === 'image' && link && html`<a class="thumb" href=${link.url} target="_blank" rel="noopener noreferrer" title=${t('att.openFull', { name })}><img src=${link.url} alt=${name} loading="lazy" /></a>`}
    ${kind === 'audio' && link && html`<audio controls preload="none" src=${link.url} aria-label=${name}></audio>`}
    ${kind === 'video' && link && html`<video controls preload="metadata" src=${link.url} aria-label=${name}></video>`}
    ${!inline && html`📎 <a class="download" href=${link?.url ?? '#'} download=${name} onClick=${download}>${name}</a>${' '}`}
    <span class="muted">${inline ? `${name} · ` : ''}${m.content_type}${size ? ` · ${size}` : ''}</span>
    ${error && html`<span class="error" role="alert">${error}</span>`}</li>`;
}

/** A reply that did not arrive: why (the platform's code in words), and what the agent can do — send it again, or on another channel. */
function Failure({ e, api, ticketId, card, onChanged }: { e: TimelineEntry; api: Api; ticketId: string; card: CustomerCard | null; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const retry = async (channel?: string) => {
    setBusy(true); setError(null);
    try { await api.post(`/tickets/${ticketId}/messages/${encodeURIComponent(e.id)}/retry`, channel ? { channel } : {}); onChanged(); } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
  };
  const others = otherReachable(card, e.channel ?? '');
  return html`<div class="failure" data-code=${String(e.delivery_error ?? '')}>
    <p><strong>${t('failure.title')}</strong> ${e.delivery_reason ?? t('failure.refused')} <span class="muted">(${String(e.delivery_error ?? 'error')})</span></p>
    ${e.retried_by ? html`<p class="muted">${t('failure.sentAgain')}</p>` : html`<div class="actions">
      <button type="button" disabled=${busy} onClick=${() => retry()}>${t('failure.retry')}</button>
      ${others.map((c) => html`<button type="button" disabled=${busy} onClick=${() => retry(c)}>${t('failure.sendOn', { channel: channelName(c) })}</button>`)}
    </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

/** The customer's identity a reply on `channel` goes to, as the card shows it (the one with the latest window). */
function identityOn(card: CustomerCard | null, channel: string): Identity | undefined {
  return (card?.identities ?? []).filter((i) => i.channel === channel)
    .sort((a, b) => Date.parse(b.reply_window_closes_at ?? '') - Date.parse(a.reply_window_closes_at ?? '') || 0)[0];
}

function Composer({ api, ticket, card, onSent, onArticleLinked }: { api: Api; ticket: Ticket; card: CustomerCard | null; onSent: () => void; onArticleLinked: (a: { id: string; title: string }) => void }) {
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);
  /** An article's link or text at the reply box's cursor (or over its selection); the cursor lands after it. */
  const insertArticle = (ins: Insertion) => {
    const el = box.current;
    const r = insertAt(text, el?.selectionStart ?? text.length, el?.selectionEnd ?? text.length, ins.text);
    setText(r.value);
    if (ins.kind === 'link') onArticleLinked(ins.article);
    requestAnimationFrame(() => { const ta = box.current; if (ta) { ta.focus(); ta.setSelectionRange(r.cursor, r.cursor); } });
  };
  const [channel, setChannel] = useState(ticket.channel);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [template, setTemplate] = useState('');
  const [waTemplates, setWaTemplates] = useState<WhatsAppTemplate[]>([]);
  const [waTemplate, setWaTemplate] = useState('');
  const [error, setError] = useState<{ code: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [dragging, setDragging] = useState(false);
  const [, setNow] = useState(Date.now());
  useEffect(() => { api.get<{ items: Template[] }>('/templates').then((r) => setTemplates(r.items)).catch(() => {}); }, [api]);
  useEffect(() => { api.get<{ items: WhatsAppTemplate[] }>('/whatsapp/templates').then((r) => setWaTemplates(r.items)).catch(() => {}); }, [api]);
  // The window's countdown moves on by itself.
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 60_000); return () => clearInterval(t); }, []);
  const channels = [...new Set([ticket.channel, ...(card?.identities ?? []).map((i) => i.channel)])];
  const identity = identityOn(card, channel);
  const closesAt = identity?.reply_window_closes_at;
  const windowLeft = closesAt === undefined ? undefined : closesAt === null ? -1 : Date.parse(closesAt) - Date.now();
  const windowClosed = windowLeft !== undefined && windowLeft <= 0;
  const unreachable = identity?.reachability === 'unreachable';
  const alternatives = otherReachable(card, channel);
  const sms = channel === 'twilio' && identity !== undefined && !identity.external_id.startsWith('whatsapp:') && text !== ''
    ? smsSegmentsOfParts(splitText(text, TWILIO_TEXT_LIMIT).map((p) => p.text)) : null;
  const chosen = templates.find((t) => t.id === template);
  const chosenWa = channel === 'whatsapp' ? waTemplates.find((t) => `${t.name}:${t.language}` === waTemplate) : undefined;
  /**
   * Files: each uploaded at once, straight to the media bucket (the Agent API answers a presigned
   * POST form; 422 when the channel does not take it), shown as a chip until the reply is sent.
   */
  const addFiles = (list: FileList | null) => {
    for (const file of Array.from(list ?? [])) {
      const local = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      setFiles((fs) => [...fs, { local, name: file.name, size: file.size, status: 'uploading' }]);
      const update = (p: Partial<PendingFile>) => setFiles((fs) => fs.map((f) => (f.local === local ? { ...f, ...p } : f)));
      void (async () => {
        try {
          const form = await api.post<{ upload_id: string; url: string; fields: Record<string, string> }>(`/tickets/${ticket.id}/attachments`, {
            file_name: file.name, content_type: file.type || 'application/octet-stream', size: file.size, ...(channel !== ticket.channel ? { channel } : {}),
          });
          const body = new FormData();
          for (const [k, v] of Object.entries(form.fields)) body.append(k, v);
          body.append('file', file);
          const res = await fetch(form.url, { method: 'POST', body });
          if (!res.ok) throw { status: res.status, code: 'upload_failed', message: t('composer.uploadRefused', { status: res.status }) };
          update({ status: 'ready', upload_id: form.upload_id });
        } catch (err) {
          update({ status: 'error', error: errorText(err) });
        }
      })();
    }
  };
  const ready = files.filter((f) => f.status === 'ready');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null); setBusy(true);
    try {
      if (mode === 'note') await api.post(`/tickets/${ticket.id}/notes`, { text });
      else await api.post(`/tickets/${ticket.id}/replies`, {
        ...(chosenWa ? { whatsapp_template: { name: chosenWa.name, language: chosenWa.language } } : chosen ? { template: chosen.id } : text.trim() !== '' ? { text } : {}),
        ...(ready.length > 0 && !chosenWa ? { attachments: ready.map((f) => ({ upload_id: f.upload_id!, file_name: f.name })) } : {}),
        ...(channel !== ticket.channel ? { channel } : {}),
      });
      setText(''); setTemplate(''); setWaTemplate(''); if (mode === 'reply') setFiles([]);
      onSent();
    } catch (err) {
      setError({ code: isApiError(err) ? err.code : 'error', text: isApiError(err) && err.code === 'messaging_window_closed'
        ? t('composer.windowClosedError', { channel: channelName(channel), message: err.message })
        : errorText(err) });
    } finally { setBusy(false); }
  };
  const uploading = files.some((f) => f.status === 'uploading');
  const canSend = !busy && !uploading && (mode === 'note' ? text.trim() !== '' : chosenWa !== undefined || chosen !== undefined || text.trim() !== '' || ready.length > 0);
  return html`<form class=${`composer ${mode} ${dragging ? 'dragging' : ''}`} onSubmit=${submit} aria-label=${mode === 'note' ? t('composer.note') : t('composer.reply')}
    onDragOver=${(e: DragEvent) => { if (mode === 'reply') { e.preventDefault(); setDragging(true); } }}
    onDragLeave=${() => setDragging(false)}
    onDrop=${(e: DragEvent) => { if (mode !== 'reply') return; e.preventDefault(); setDragging(false); addFiles(e.dataTransfer?.files ?? null); }}>
    <div class="tabs" role="group" aria-label=${t('composer.write')}>
      <button type="button" data-mode="reply" aria-keyshortcuts="r" aria-pressed=${mode === 'reply'} onClick=${() => setMode('reply')}>${t('composer.reply')}</button>
      <button type="button" data-mode="note" aria-pressed=${mode === 'note'} onClick=${() => setMode('note')}>${t('composer.note')}</button>
    </div>
    ${mode === 'reply' && html`<div class="reply-opts">
      <div class="field"><label for="reply-channel">${t('composer.channel')}</label> <select id="reply-channel" name="channel" value=${channel} onChange=${(e: Event) => setChannel((e.target as HTMLSelectElement).value)}>
        ${channels.map((c) => html`<option value=${c}>${channelName(c)}</option>`)}</select></div>
      <div class="field"><label for="reply-template">${t('composer.canned')}</label> <select id="reply-template" name="template" value=${template} onChange=${(e: Event) => setTemplate((e.target as HTMLSelectElement).value)}>
        <option value="">${t('composer.none')}</option>${templates.map((tpl) => html`<option value=${tpl.id}>${tpl.name}</option>`)}</select></div>
      ${windowLeft !== undefined && !windowClosed && html`<span class="window" role="status">${t('composer.windowOpen', { time: span(windowLeft) })}</span>`}
    </div>`}
    ${mode === 'reply' && unreachable && html`<p class="warning unreachable" role="note">${t('composer.unreachable', { channel: channelName(channel), reason: identity?.reachability_reason ? ` (${identity.reachability_reason})` : '', since: identity?.reachability_at ? t('composer.since', { time: when(identity.reachability_at) }) : '' })}
      ${alternatives.length > 0 && html`${t('composer.try')} ${alternatives.map((c) => html`<button type="button" class="link" onClick=${() => setChannel(c)}>${channelName(c)}</button> `)}`}</p>`}
    ${mode === 'reply' && windowClosed && html`<p class="warning" role="note">${t('composer.windowClosed', { channel: channelName(channel), why: closesAt ? t('composer.closedSince', { time: span(-windowLeft!) }) : t('composer.noMessage'), what: channel === 'whatsapp' ? t('composer.onlyTemplate') : t('composer.refused') })}
      ${alternatives.length > 0 && html`${t('composer.orReplyOn')} ${alternatives.map((c) => html`<button type="button" class="link" onClick=${() => setChannel(c)}>${channelName(c)}</button> `)}`}</p>`}
    ${mode === 'reply' && channel === 'whatsapp' && waTemplates.length > 0 && html`<div class="field"><label for="reply-wa-template">${t('composer.waTemplate')}</label> <select id="reply-wa-template" name="whatsapp_template" value=${waTemplate} onChange=${(e: Event) => setWaTemplate((e.target as HTMLSelectElement).value)}>
      <option value="">${t('composer.none')}</option>${waTemplates.map((w) => html`<option value=${`${w.name}:${w.language}`}>${w.name} (${w.language})</option>`)}</select></div>`}
    <label for="composer-text" class="sr">${mode === 'note' ? t('composer.noteText') : t('composer.replyText')}</label>
    ${chosenWa && mode === 'reply'
      ? html`<div class="template-preview" aria-live="polite"><span class="muted">${t('composer.waPreview')}</span><p>${chosenWa.body}</p></div>`
      : chosen && mode === 'reply'
      ? html`<div class="template-preview" aria-live="polite"><span class="muted">${t('composer.cannedPreview')}</span><p>${Object.values(chosen.bodies)[0]}</p></div>`
      : html`<textarea id="composer-text" ref=${box} name="text" rows="3" value=${text} placeholder=${mode === 'note' ? t('composer.notePlaceholder') : t('composer.replyPlaceholder')}
          onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
          onKeyDown=${(e: KeyboardEvent) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e); }}></textarea>`}
    ${mode === 'reply' && !chosenWa && !chosen && html`<${ArticlePicker} api=${api} t=${t} helpUrl=${HELP_URL} onInsert=${insertArticle} />`}
    ${mode === 'reply' && html`<div class="files">
      <label class="attach">📎 ${t('composer.attach')}<input type="file" multiple aria-label=${t('composer.attach')} onChange=${(e: Event) => { const input = e.target as HTMLInputElement; addFiles(input.files); input.value = ''; }} /></label>
      ${files.length > 0 && html`<ul class="chips" aria-label=${t('composer.files')}>${files.map((f) => html`<li class=${`chip ${f.status}`} data-status=${f.status}>
        <span class="name">${f.name}</span> <span class="muted">${kib(f.size)}${f.status === 'uploading' ? t('composer.uploading') : ''}</span>
        ${f.status === 'error' && html`<span class="error" role="alert">${f.error}</span>`}
        <button type="button" class="link" aria-label=${t('composer.remove', { name: f.name })} onClick=${() => setFiles((fs) => fs.filter((x) => x.local !== f.local))}>×</button></li>`)}</ul>`}
    </div>`}
    ${mode === 'reply' && sms && html`<p class="muted segments" role="status">${t('composer.segments', { count: sms.segments, encoding: sms.encoding })}</p>`}
    ${error && html`<p class=${`error ${error.code === 'messaging_window_closed' ? 'window-closed' : ''}`} role="alert">${error.text}</p>`}
    <button type="submit" class="primary" disabled=${!canSend}>${mode === 'note' ? t('composer.addNote') : t('composer.send')}</button>
  </form>`;
}

function CustomerPanel({ api, card, current, onSelect, onChanged }: { api: Api; card: CustomerCard | null; current: string; onSelect: (id: string) => void; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  if (!card) return html`<aside class="customer" aria-label=${t('customer.label')}><p class="muted">${t('customer.loading')}</p></aside>`;
  const merge = async (from: string) => {
    setError(null);
    try { await api.post(`/customers/${card.id}/merge`, { from }); onChanged(); } catch (e) { setError(errorText(e)); }
  };
  const mark = (verified: boolean | undefined) => (verified ? html`<span class="verified" title=${t('customer.verifiedTitle')} aria-label=${t('customer.verified')}>✔</span>` : html`<span class="unverified" title=${t('customer.unverifiedTitle')}>${t('customer.unverified')}</span>`);
  return html`<aside class="customer" aria-labelledby="customer-title">
    <h2 id="customer-title">${card.display_name ?? t('customer.label')}</h2>
    <h3>${t('customer.identities')}</h3>
    <ul class="identities">${card.identities.map((i) => html`<li>
      <${ChannelBadge} channel=${i.channel} /> ${i.display_name ?? i.username ?? i.external_id}${' '}
      ${i.username && html`<span class="muted">@${i.username}</span>`}
      ${i.phone && html`<div>☎ ${i.phone} ${mark(i.phone_verified)}</div>`}
      ${i.email && html`<div>✉ ${i.email} ${mark(i.email_verified)}</div>`}
      ${i.reachability === 'unreachable' && html`<div class="warning unreachable">${t('customer.unreachable', { reason: i.reachability_reason ? ` (${i.reachability_reason})` : '', since: i.reachability_at ? t('composer.since', { time: when(i.reachability_at) }) : '' })}</div>`}
    </li>`)}</ul>
    ${card.suggestions.length > 0 && html`<h3>${t('customer.suggestions')}</h3><ul class="suggestions">${card.suggestions.map((s) => html`<li>
      ${s.kind} ${s.value} <span class="muted">${t('customer.from', { source: channelName(s.source), reason: label(s.reason) })}</span>
      ${s.customer_id && s.customer_id !== card.id && html`<button type="button" onClick=${() => merge(s.customer_id!)}>${t('customer.merge')}</button>`}
    </li>`)}</ul>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${CardOrders} orders=${card.orders} t=${t} locale=${locale} />
    <h3>${t('customer.tickets')}</h3>
    <ul class="past">${card.tickets.map((tk) => html`<li>
      ${tk.id === current ? html`<strong>${tk.number}</strong>` : html`<button type="button" class="link" onClick=${() => onSelect(tk.id)}>${tk.number}</button>`}
      <${ChannelBadge} channel=${tk.channel} /> <span class=${`status st-${tk.status}`}>${statusName(tk.status)}</span> <span class="muted">${when(tk.created_at)}</span></li>`)}</ul>
  </aside>`;
}

async function loadConfig(): Promise<InboxConfig> {
  const meta = (document.querySelector('meta[name="confluo-api"]')?.getAttribute('content') ?? '').replace(/\/+$/, '');
  const fallback: InboxConfig = { apiBase: `${meta}/api/v1`, auth: { kind: 'dev' } };
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) return fallback;
    const c = (await res.json()) as Partial<InboxConfig>;
    return { apiBase: typeof c.apiBase === 'string' ? c.apiBase : fallback.apiBase, auth: c.auth?.kind === 'cognito' ? c.auth : { kind: 'dev' }, ...(typeof c.helpUrl === 'string' ? { helpUrl: c.helpUrl } : {}) };
  } catch { return fallback; }
}

/** Settings first; then, on the way back from the hosted UI, the code is exchanged for tokens. */
async function boot(): Promise<string | null> {
  const config = await loadConfig();
  API_BASE = config.apiBase.replace(/\/+$/, '');
  DEV_BASE = API_BASE.replace(/\/api\/v1$/, '');
  COGNITO = config.auth.kind === 'cognito' ? config.auth : null;
  try { HELP_URL = new URL(config.helpUrl ?? 'help.html', location.href).href; } catch { HELP_URL = new URL('help.html', location.href).href; }
  const callback = COGNITO ? parseCallback(location.search) : null;
  if (!COGNITO || !callback) return null;
  // The code is single-use and must not stay in the address bar or the history.
  history.replaceState(history.state, '', withoutCallbackParams(location.href));
  if ('error' in callback) return t('signin.failed', { error: callback.error });
  try {
    localStorage.setItem(AUTH_KEY, JSON.stringify(await completeSignIn(COGNITO, callback, sessionStorage)));
    return null;
  } catch (e) { return (e as Error).message; }
}

const mount = document.getElementById('app')!;
const booting = mount.querySelector('.boot');
if (booting) booting.textContent = t('boot.loading');
void boot().then((notice) => {
  mount.replaceChildren(); // the boot message
  render(html`<${App} notice=${notice} />`, mount);
});
