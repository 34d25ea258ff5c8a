/**
 * Confluo web inbox: one window for every channel. Preact + htm (no build-time JSX), bundled by
 * esbuild (local/web.ts). Talks only to the Agent API (`/api/v1`), live through the change feed:
 * Server-Sent Events (`/api/v1/events/stream`, local runtime) or polling `GET /events`.
 */
import { h, render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { beginSignIn, completeSignIn, fromIdToken, logoutUrl, parseCallback, withoutCallbackParams, type CognitoAuthConfig, type SignedIn } from './oidc.js';
import { safeLinkUrl } from './safe-url.js';
import { PresenceSelect } from './presence.js';
import { Api, errorText, isApiError, type Attachment, type AttachmentLink, type CustomerCard, type FeedEvent, type Identity, type Template, type Ticket, type TimelineEntry, type WhatsAppTemplate } from './api.js';
import { splitText } from '../../functions/channels/text.js';
import { smsSegmentsOfParts } from '../../functions/domain/sms.js';

const html = htm.bind(h);

const AUTH_KEY = 'confluo.inbox.auth';

/**
 * Run-time settings: `config.json` next to index.html (AWS: written by the WebInbox deployment;
 * local runtime: `{ apiBase: '/api/v1', auth: { kind: 'dev' } }`). Without one, the
 * `<meta name="confluo-api">` origin and the development sign-in.
 */
interface InboxConfig { apiBase: string; auth: { kind: 'dev' } | CognitoAuthConfig }
let API_BASE = '/api/v1';
/** Origin of the local runtime's `/dev/token` (the API base without `/api/v1`). */
let DEV_BASE = '';
let COGNITO: CognitoAuthConfig | null = null;

const STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const CHANNELS = ['telegram', 'whatsapp', 'messenger', 'instagram', 'vk', 'viber', 'twilio', 'email', 'webchat', 'voice'] as const;
const CHANNEL_NAMES: Record<string, string> = {
  telegram: 'Telegram', whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram', vk: 'VK', viber: 'Viber', twilio: 'SMS', email: 'E-mail', webchat: 'Web chat', voice: 'Phone',
};
/** "4 min 5 s", "40 s": a call's duration (seconds). */
const callTime = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}` : `${s} s`);

/** A phone call's facts (issue 16): outcome, queue wait and talk time, who took it, the recording's reference. */
function CallFacts({ call }: { call: NonNullable<TimelineEntry['call']> }) {
  const parts = [
    label(call.outcome),
    call.wait_seconds !== null ? `waited ${callTime(call.wait_seconds)}` : null,
    call.talk_seconds > 0 ? `talked ${callTime(call.talk_seconds)}` : null,
    call.agent ? `agent ${call.agent}` : null,
    call.disconnect_reason ? label(call.disconnect_reason.toLowerCase()) : null,
  ].filter((x): x is string => x !== null);
  return html`<p class="call" data-outcome=${call.outcome} data-wait=${call.wait_seconds ?? ''} data-talk=${call.talk_seconds}>📞 ${parts.join(' · ')}${call.recording ? html` · <span class="muted" title="Find it in Amazon Connect's contact search">recording ${call.recording}</span>` : ''}</p>`;
}
/** Twilio's limit per SMS body: a longer reply goes out as several (functions/channels/twilio). */
const TWILIO_TEXT_LIMIT = { max: 1600, unit: 'utf16' } as const;
const label = (s: string) => s.replace(/_/g, ' ');
const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '—');
/** "3 h 20 min", "45 min": a span as people read it. */
const span = (ms: number) => {
  const m = Math.max(1, Math.round(Math.abs(ms) / 60_000));
  return m < 60 ? `${m} min` : m < 48 * 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.round(m / 1440)} days`;
};

type Auth = SignedIn;
interface Filters { status: string; assignee: string; channel: string; sla: string; awaiting: string; delivery: string; q: string }
const NO_FILTERS: Filters = { status: '', assignee: '', channel: '', sla: '', awaiting: '', delivery: '', q: '' };

function loadAuth(): Auth | null {
  try { return JSON.parse(localStorage.getItem(AUTH_KEY) ?? 'null') as Auth | null; } catch { return null; }
}

function ChannelBadge({ channel }: { channel: string }) {
  return html`<span class=${`badge ch ch-${channel}`} data-channel=${channel}>${CHANNEL_NAMES[channel] ?? channel}</span>`;
}

// ------------------------------------------------------------------------------------------------
function App({ notice }: { notice: string | null }) {
  const [auth, setAuth] = useState<Auth | null>(loadAuth);
  const [message, setMessage] = useState<string | null>(notice);
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
    } else setMessage('The API refused the token: sign in again.');
  }, []);
  const api = useMemo(() => new Api(API_BASE, auth?.token ?? null, onUnauthorized), [auth, onUnauthorized]);
  if (!auth) return html`<${SignIn} notice=${message} onSignedIn=${(a: Auth) => { localStorage.setItem(AUTH_KEY, JSON.stringify(a)); setMessage(null); setAuth(a); }} />`;
  return html`<${Inbox} api=${api} auth=${auth} signOut=${signOut} />`;
}

/** Paste a bearer token (any deployment): its claims name the agent and the role. */
function TokenSignIn({ onSignedIn, setError }: { onSignedIn: (a: Auth) => void; setError: (e: string | null) => void }) {
  const [token, setToken] = useState('');
  const use = () => {
    try { onSignedIn({ ...fromIdToken(token.trim()), via: 'token' }); } catch { setError('That is not a JWT.'); }
  };
  return html`<details><summary>Use a token instead</summary>
    <label for="token">Bearer token</label>
    <textarea id="token" rows="3" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLTextAreaElement).value)}></textarea>
    <button type="button" disabled=${!token.trim()} onClick=${use}>Use token</button>
  </details>`;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (a: Auth) => void; notice: string | null }) {
  const [agent, setAgent] = useState('');
  const [role, setRole] = useState('agent');
  const [error, setError] = useState<string | null>(notice);
  if (COGNITO) {
    const cognito = COGNITO;
    const go = async (e: Event) => {
      e.preventDefault();
      try { location.assign(await beginSignIn(cognito, sessionStorage)); } catch { setError('This browser cannot sign in here (no WebCrypto: use HTTPS).'); }
    };
    return html`<main class="signin">
      <form onSubmit=${go} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Confluo</h1>
        <p>You sign in on your organisation's Confluo sign-in page, then come back here.</p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" class="primary">Sign in</button>
        <${TokenSignIn} onSignedIn=${onSignedIn} setError=${setError} />
      </form>
    </main>`;
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const res = await fetch(`${DEV_BASE}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: agent.trim(), role }) });
      if (!res.ok) throw new Error(res.status === 404 ? 'This deployment has no development sign-in: paste a token.' : 'Sign-in refused: check the agent id.');
      onSignedIn({ token: ((await res.json()) as { token: string }).token, agent: agent.trim(), role, via: 'dev' });
    } catch (err) { setError((err as Error).message); }
  };
  return html`<main class="signin">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to Confluo</h1>
      <label for="agent">Agent id</label>
      <input id="agent" name="agent" autocomplete="username" value=${agent} onInput=${(e: Event) => setAgent((e.target as HTMLInputElement).value)} />
      <label for="role">Role</label>
      <select id="role" value=${role} onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}>
        <option value="agent">Agent</option><option value="supervisor">Supervisor</option><option value="admin">Admin</option>
      </select>
      <${TokenSignIn} onSignedIn=${onSignedIn} setError=${setError} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${!agent.trim()}>Sign in</button>
      <p class="hint">Local runtime: any agent id works (tokens from <code>POST /dev/token</code>).</p>
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
        'sla.escalated', 'sla.breached', 'survey.answered', 'survey.commented', 'customer.merged', 'customer.unmerged', 'customer.erased', 'identity.linked'];
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

function Inbox({ api, auth, signOut }: { api: Api; auth: Auth; signOut: () => void }) {
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
    if (e.type === 'message.received' || important) setAnnounce(`${label(e.type.replace('.', ' '))}`);
    if (important && typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
      const n = new Notification('Confluo', { body: label(e.type.replace('.', ': ')), tag: e.ticket_id ?? e.id });
      n.onclick = () => { window.focus(); if (e.ticket_id) setSelected(e.ticket_id); };
    }
  });
  useEffect(() => { history.replaceState(null, '', selected ? `#ticket=${selected}` : location.pathname + location.search); }, [selected]);

  return html`<div class=${`layout ${selected ? 'has-ticket' : ''}`}>
    <header class="topbar">
      <h1>Confluo</h1>
      <span class=${`live ${mode}`} role="status" title="Live updates">${mode === 'live' ? '● live' : mode === 'polling' ? '● polling' : '○ offline'}</span>
      <span class="sr" aria-live="polite">${announce}</span>
      <span class="spacer"></span>
      ${notify === 'default' && html`<button type="button" onClick=${async () => setNotify(await Notification.requestPermission())}>Enable notifications</button>`}
      <${PresenceSelect} api=${api} agent=${auth.agent} />
      <span class="me">${auth.name ?? auth.agent} · ${auth.role}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <${TicketList} api=${api} filters=${filters} setFilters=${setFilters} selected=${selected} onSelect=${setSelected} tick=${tick} />
    ${selected
      ? html`<${TicketView} key=${selected} api=${api} id=${selected} auth=${auth} tick=${tick} onClose=${() => setSelected(null)} onSelect=${setSelected} />`
      : html`<section class="ticket empty" aria-label="Ticket"><p>Select a ticket.</p></section>`}
  </div>`;
}

// ------------------------------------------------------------------------------------------------
function TicketList({ api, filters, setFilters, selected, onSelect, tick }: { api: Api; filters: Filters; setFilters: (f: Filters) => void; selected: string | null; onSelect: (id: string) => void; tick: number }) {
  const [tickets, setTickets] = useState<Ticket[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [counts, setCounts] = useState<{ mine: number; unassigned: number; awaiting_reply: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
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
  return html`<nav class="list" aria-label="Tickets">
    <div class="views" role="group" aria-label="Saved views">
      <button type="button" aria-pressed=${filters.assignee === 'me' && !filters.awaiting} onClick=${() => view({ assignee: 'me' })}>Mine ${counts ? html`<b>${counts.mine}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.assignee === 'none'} onClick=${() => view({ assignee: 'none' })}>Unassigned ${counts ? html`<b>${counts.unassigned}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.awaiting === 'agent'} onClick=${() => view({ awaiting: 'agent' })}>Awaiting reply ${counts ? html`<b>${counts.awaiting_reply}</b>` : ''}</button>
      <button type="button" aria-pressed=${filters.delivery === 'failed'} onClick=${() => view({ delivery: 'failed' })}>Undelivered</button>
      <button type="button" onClick=${() => view({})}>All</button>
    </div>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="filter-status">Status</label> <select id="filter-status" name="status" value=${filters.status} onChange=${set('status')}>
        <option value="">any (not merged)</option>${STATUSES.map((s) => html`<option value=${s}>${label(s)}</option>`)}</select></div>
      <div class="field"><label for="filter-assignee">Assignee</label> <select id="filter-assignee" name="assignee" value=${filters.assignee} onChange=${set('assignee')}>
        <option value="">anyone</option><option value="me">me</option><option value="none">nobody</option></select></div>
      <div class="field"><label for="filter-channel">Channel</label> <select id="filter-channel" name="channel" value=${filters.channel} onChange=${set('channel')}>
        <option value="">any</option>${CHANNELS.map((c) => html`<option value=${c}>${CHANNEL_NAMES[c]}</option>`)}</select></div>
      <div class="field"><label for="filter-sla">SLA</label> <select id="filter-sla" name="sla" value=${filters.sla} onChange=${set('sla')}>
        <option value="">any</option><option value="at_risk">at risk</option><option value="breached">breached</option></select></div>
      <div class="field"><label for="filter-awaiting">Awaiting</label> <select id="filter-awaiting" name="awaiting" value=${filters.awaiting} onChange=${set('awaiting')}>
        <option value="">either</option><option value="agent">our reply</option><option value="customer">the customer</option></select></div>
      <div class="field search"><label for="filter-q">Search</label> <input id="filter-q" type="search" name="q" value=${filters.q} placeholder="subject or name" onChange=${set('q')} /></div>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${tickets === null ? html`<p class="muted">Loading…</p>` : tickets.length === 0 ? html`<p class="muted">No tickets match.</p>` : html`
    <ul class="tickets">
      ${tickets.map((t) => html`<li key=${t.id}>
        <button type="button" class=${`ticket-row ${t.id === selected ? 'selected' : ''}`} aria-current=${t.id === selected ? 'true' : undefined} data-ticket=${t.id} onClick=${() => onSelect(t.id)}>
          <span class="row1"><strong>${t.number}</strong> <${ChannelBadge} channel=${t.channel} /> <span class=${`status st-${t.status}`}>${label(t.status)}</span>
            ${t.priority !== 'normal' && html`<span class=${`prio p-${t.priority}`}>${t.priority}</span>`}
            ${(t.sla?.breached.length ?? 0) > 0 && html`<span class="sla breached">SLA breached</span>`}
            ${(t.undelivered ?? 0) > 0 && html`<span class="undelivered" title="a reply could not be delivered">⚠ undelivered</span>`}</span>
          <span class="row2">${t.assignee ? `→ ${t.assignee}` : 'unassigned'} · ${when(t.updated_at)} · ${t.message_count} msg</span>
        </button></li>`)}
    </ul>`}
    ${next && html`<button type="button" class="more" onClick=${more}>Load more</button>`}
  </nav>`;
}

// ------------------------------------------------------------------------------------------------
function TicketView({ api, id, auth, tick, onClose, onSelect }: { api: Api; id: string; auth: Auth; tick: number; onClose: () => void; onSelect: (id: string) => void }) {
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [card, setCard] = useState<CustomerCard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
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
  useEffect(() => { heading.current?.focus(); }, [ticket?.id]);
  // Delivery moves on without a feed event: while a reply is queued, look again shortly.
  useEffect(() => {
    if (!timeline.some((e) => e.type === 'message' && e.direction === 'out' && e.delivery === 'queued') || rechecks.current > 30) return;
    rechecks.current++;
    const t = setTimeout(refresh, 1000);
    return () => clearTimeout(t);
  }, [timeline]);
  if (error && !ticket) return html`<section class="ticket"><p class="error" role="alert">${error}</p></section>`;
  if (!ticket) return html`<section class="ticket"><p class="muted">Loading…</p></section>`;
  return html`<section class="ticket" aria-labelledby="ticket-title">
    <div class="ticket-head">
      <button type="button" class="back" onClick=${onClose}>← Tickets</button>
      <h2 id="ticket-title" tabindex="-1" ref=${heading}>${ticket.number} · ${ticket.customer?.display_name ?? 'Customer'}</h2>
      <${ChannelBadge} channel=${ticket.channel} />
      <span class=${`status st-${ticket.status}`} data-status=${ticket.status}>${label(ticket.status)}</span>
    </div>
    <${Triage} api=${api} ticket=${ticket} auth=${auth} onChanged=${(t: Ticket) => { setTicket({ ...ticket, ...t }); refresh(); }} />
    <${SlaLine} ticket=${ticket} />
    <ol class="timeline" aria-label="Timeline">${timeline.map((e) => html`<${Entry} key=${e.id} e=${e} api=${api} ticketId=${ticket.id} card=${card} onChanged=${refresh} />`)}</ol>
    <${Composer} api=${api} ticket=${ticket} card=${card} onSent=${refresh} />
  </section>
  <${CustomerPanel} api=${api} card=${card} current=${ticket.id} onSelect=${onSelect} onChanged=${refresh} />`;
}

function SlaLine({ ticket }: { ticket: Ticket }) {
  const s = ticket.sla;
  if (!s) return null;
  const due = s.first_response_due ?? s.next_response_due ?? s.resolution_due;
  return html`<p class=${`sla-line ${s.breached.length ? 'breached' : ''}`}>SLA: ${s.breached.length ? `breached (${s.breached.map(label).join(', ')})` : due ? `next due ${when(due)}` : 'met'}${s.escalation_level ? ` · escalation level ${s.escalation_level}` : ''}</p>`;
}

function Triage({ api, ticket, auth, onChanged }: { api: Api; ticket: Ticket; auth: Auth; onChanged: (t: Ticket) => void }) {
  const [error, setError] = useState<string | null>(null);
  const patch = async (body: Record<string, unknown>) => {
    setError(null);
    try { onChanged((await api.patch<{ ticket: Ticket }>(`/tickets/${ticket.id}`, body)).ticket); } catch (e) { setError(errorText(e)); }
  };
  const statuses = STATUSES.includes(ticket.status as never) ? STATUSES : [...STATUSES, ticket.status];
  return html`<form class="triage" aria-label="Triage" onSubmit=${(e: Event) => e.preventDefault()}>
    <div class="field"><label for="triage-status">Status</label> <select id="triage-status" name="status" value=${ticket.status} onChange=${(e: Event) => patch({ status: (e.target as HTMLSelectElement).value })}>
      ${statuses.map((s) => html`<option value=${s}>${label(s)}</option>`)}</select></div>
    <div class="field"><label for="triage-priority">Priority</label> <select id="triage-priority" name="priority" value=${ticket.priority} onChange=${(e: Event) => patch({ priority: (e.target as HTMLSelectElement).value })}>
      ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</select></div>
    <span class="assignee">Assignee: <strong>${ticket.assignee ?? 'nobody'}</strong></span>
    ${ticket.assignee !== auth.agent && html`<button type="button" onClick=${() => patch({ assignee: 'me' })}>Assign to me</button>`}
    ${ticket.assignee && html`<button type="button" onClick=${() => patch({ assignee: null })}>Unassign</button>`}
    ${ticket.status !== 'resolved' && ticket.status !== 'closed' && html`<button type="button" class="primary" onClick=${() => patch({ status: 'resolved' })}>Resolve</button>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

const TICKS: Record<string, string> = { queued: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '⚠' };

/** Channels of the customer, other than `channel`, that are not known to be unreachable. */
function otherReachable(card: CustomerCard | null, channel: string): string[] {
  return [...new Set((card?.identities ?? []).filter((i) => i.channel !== channel && i.reachability !== 'unreachable').map((i) => i.channel))];
}

function Entry({ e, api, ticketId, card, onChanged }: { e: TimelineEntry; api: Api; ticketId: string; card: CustomerCard | null; onChanged: () => void }) {
  if (e.type === 'note') {
    return html`<li class="entry note" data-type="note"><span class="who">Note · ${e.author}</span><p>${e.text}</p><time>${when(e.at)}</time></li>`;
  }
  if (e.type === 'event') {
    const d = e.data ?? {};
    const detail = ['from', 'to', 'assignee', 'priority', 'status'].filter((k) => d[k] !== undefined).map((k) => `${k} ${String(d[k] ?? '—')}`).join(', ');
    return html`<li class="entry event" data-type="event"><span>${label(String(e.event ?? 'event').replace(/^ticket\./, 'ticket ').replace('.', ' '))}${detail ? ` — ${detail}` : ''}</span> <time>${when(e.at)}</time></li>`;
  }
  const out = e.direction === 'out';
  const failed = out && e.delivery === 'failed';
  return html`<li class=${`entry msg ${out ? 'out' : 'in'} ${failed ? 'failed' : ''}`} data-type="message" data-direction=${e.direction} data-id=${e.id} data-delivery=${out ? e.delivery : undefined}>
    <div class="bubble">
      <span class="who"><${ChannelBadge} channel=${e.channel ?? ''} /> ${out ? (e.author ?? (e.outbound_kind && e.outbound_kind !== 'reply' ? e.outbound_kind : 'Confluo')) : 'Customer'}</span>
      ${!out && e.unauthenticated && html`<p class="sender-unverified" role="note">⚠ Sender not verified: this e-mail failed the sender check (DMARC) and may be forged.</p>`}
      ${e.text && html`<p class="text">${e.text}</p>`}
      ${e.call && html`<${CallFacts} call=${e.call} />`}
      ${e.interaction && html`<p class="muted">pressed: ${e.interaction.payload}</p>`}
      ${(e.attachments ?? []).length > 0 && html`<ul class="attachments" aria-label="Attachments">${(e.attachments ?? []).map((a, n) => html`<${AttachmentItem} a=${a} n=${n} api=${api} ticketId=${ticketId} messageId=${e.id} />`)}</ul>`}
      <span class="meta"><time>${when(e.at)}</time>${e.edited ? html` · <em class="edited">edited</em>` : ''}
        ${out && html` <span class=${`ticks d-${e.delivery}`} data-delivery=${e.delivery} role="img" aria-label=${`delivery: ${e.delivery}`} title=${e.delivery}>${TICKS[e.delivery ?? 'queued'] ?? e.delivery}</span>`}</span>
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
    const note = !m ? null : m.status === 'pending' ? 'being fetched…' : `not kept: ${m.reason ?? label(m.status)}`;
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
    ${kind === 'image' && link && html`<a class="thumb" href=${link.url} target="_blank" rel="noopener noreferrer" title=${`${name} — open full size`}><img src=${link.url} alt=${name} loading="lazy" /></a>`}
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
    <p><strong>Not delivered.</strong> ${e.delivery_reason ?? 'The platform refused the message.'} <span class="muted">(${String(e.delivery_error ?? 'error')})</span></p>
    ${e.retried_by ? html`<p class="muted">Sent again.</p>` : html`<div class="actions">
      <button type="button" disabled=${busy} onClick=${() => retry()}>Retry</button>
      ${others.map((c) => html`<button type="button" disabled=${busy} onClick=${() => retry(c)}>Send on ${CHANNEL_NAMES[c] ?? c}</button>`)}
    </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

/** The customer's identity a reply on `channel` goes to, as the card shows it (the one with the latest window). */
function identityOn(card: CustomerCard | null, channel: string): Identity | undefined {
  return (card?.identities ?? []).filter((i) => i.channel === channel)
    .sort((a, b) => Date.parse(b.reply_window_closes_at ?? '') - Date.parse(a.reply_window_closes_at ?? '') || 0)[0];
}

function Composer({ api, ticket, card, onSent }: { api: Api; ticket: Ticket; card: CustomerCard | null; onSent: () => void }) {
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
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
          if (!res.ok) throw { status: res.status, code: 'upload_failed', message: `the upload was refused (HTTP ${res.status})` };
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
        ? `Not sent: the ${CHANNEL_NAMES[channel] ?? channel} window is closed — ${err.message}.`
        : errorText(err) });
    } finally { setBusy(false); }
  };
  const uploading = files.some((f) => f.status === 'uploading');
  const canSend = !busy && !uploading && (mode === 'note' ? text.trim() !== '' : chosenWa !== undefined || chosen !== undefined || text.trim() !== '' || ready.length > 0);
  return html`<form class=${`composer ${mode} ${dragging ? 'dragging' : ''}`} onSubmit=${submit} aria-label=${mode === 'note' ? 'Internal note' : 'Reply'}
    onDragOver=${(e: DragEvent) => { if (mode === 'reply') { e.preventDefault(); setDragging(true); } }}
    onDragLeave=${() => setDragging(false)}
    onDrop=${(e: DragEvent) => { if (mode !== 'reply') return; e.preventDefault(); setDragging(false); addFiles(e.dataTransfer?.files ?? null); }}>
    <div class="tabs" role="group" aria-label="Write">
      <button type="button" aria-pressed=${mode === 'reply'} onClick=${() => setMode('reply')}>Reply</button>
      <button type="button" aria-pressed=${mode === 'note'} onClick=${() => setMode('note')}>Internal note</button>
    </div>
    ${mode === 'reply' && html`<div class="reply-opts">
      <div class="field"><label for="reply-channel">Channel</label> <select id="reply-channel" name="channel" value=${channel} onChange=${(e: Event) => setChannel((e.target as HTMLSelectElement).value)}>
        ${channels.map((c) => html`<option value=${c}>${CHANNEL_NAMES[c] ?? c}</option>`)}</select></div>
      <div class="field"><label for="reply-template">Canned answer</label> <select id="reply-template" name="template" value=${template} onChange=${(e: Event) => setTemplate((e.target as HTMLSelectElement).value)}>
        <option value="">— none —</option>${templates.map((t) => html`<option value=${t.id}>${t.name}</option>`)}</select></div>
      ${windowLeft !== undefined && !windowClosed && html`<span class="window" role="status">Window open for ${span(windowLeft)}</span>`}
    </div>`}
    ${mode === 'reply' && unreachable && html`<p class="warning unreachable" role="note">The customer cannot be reached on ${CHANNEL_NAMES[channel] ?? channel}${identity?.reachability_reason ? ` (${identity.reachability_reason})` : ''}${identity?.reachability_at ? ` since ${when(identity.reachability_at)}` : ''}.
      ${alternatives.length > 0 && html` Try: ${alternatives.map((c) => html`<button type="button" class="link" onClick=${() => setChannel(c)}>${CHANNEL_NAMES[c] ?? c}</button> `)}`}</p>`}
    ${mode === 'reply' && windowClosed && html`<p class="warning" role="note">The ${CHANNEL_NAMES[channel] ?? channel} window is closed (${closesAt ? `since ${span(-windowLeft!)} ago` : 'no message from the customer here'}): ${channel === 'whatsapp' ? 'only a registered template can be sent.' : 'a free-text reply will be refused (or tagged HUMAN_AGENT, where this deployment allows it).'}
      ${alternatives.length > 0 && html` Or reply on: ${alternatives.map((c) => html`<button type="button" class="link" onClick=${() => setChannel(c)}>${CHANNEL_NAMES[c] ?? c}</button> `)}`}</p>`}
    ${mode === 'reply' && channel === 'whatsapp' && waTemplates.length > 0 && html`<div class="field"><label for="reply-wa-template">WhatsApp template</label> <select id="reply-wa-template" name="whatsapp_template" value=${waTemplate} onChange=${(e: Event) => setWaTemplate((e.target as HTMLSelectElement).value)}>
      <option value="">— none —</option>${waTemplates.map((t) => html`<option value=${`${t.name}:${t.language}`}>${t.name} (${t.language})</option>`)}</select></div>`}
    <label for="composer-text" class="sr">${mode === 'note' ? 'Note text' : 'Reply text'}</label>
    ${chosenWa && mode === 'reply'
      ? html`<div class="template-preview" aria-live="polite"><span class="muted">WhatsApp template (parameters filled in on send):</span><p>${chosenWa.body}</p></div>`
      : chosen && mode === 'reply'
      ? html`<div class="template-preview" aria-live="polite"><span class="muted">Canned answer (variables filled in on send):</span><p>${Object.values(chosen.bodies)[0]}</p></div>`
      : html`<textarea id="composer-text" name="text" rows="3" value=${text} placeholder=${mode === 'note' ? 'Only agents see notes' : 'Write a reply'}
          onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
          onKeyDown=${(e: KeyboardEvent) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e); }}></textarea>`}
    ${mode === 'reply' && html`<div class="files">
      <label class="attach">📎 Attach files<input type="file" multiple aria-label="Attach files" onChange=${(e: Event) => { const input = e.target as HTMLInputElement; addFiles(input.files); input.value = ''; }} /></label>
      ${files.length > 0 && html`<ul class="chips" aria-label="Files to send">${files.map((f) => html`<li class=${`chip ${f.status}`} data-status=${f.status}>
        <span class="name">${f.name}</span> <span class="muted">${kib(f.size)}${f.status === 'uploading' ? ' · uploading…' : ''}</span>
        ${f.status === 'error' && html`<span class="error" role="alert">${f.error}</span>`}
        <button type="button" class="link" aria-label=${`Remove ${f.name}`} onClick=${() => setFiles((fs) => fs.filter((x) => x.local !== f.local))}>×</button></li>`)}</ul>`}
    </div>`}
    ${mode === 'reply' && sms && html`<p class="muted segments" role="status">${sms.segments} SMS segment${sms.segments === 1 ? '' : 's'} (${sms.encoding})</p>`}
    ${error && html`<p class=${`error ${error.code === 'messaging_window_closed' ? 'window-closed' : ''}`} role="alert">${error.text}</p>`}
    <button type="submit" class="primary" disabled=${!canSend}>${mode === 'note' ? 'Add note' : 'Send reply'}</button>
  </form>`;
}

function CustomerPanel({ api, card, current, onSelect, onChanged }: { api: Api; card: CustomerCard | null; current: string; onSelect: (id: string) => void; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  if (!card) return html`<aside class="customer" aria-label="Customer"><p class="muted">Loading customer…</p></aside>`;
  const merge = async (from: string) => {
    setError(null);
    try { await api.post(`/customers/${card.id}/merge`, { from }); onChanged(); } catch (e) { setError(errorText(e)); }
  };
  const mark = (verified: boolean | undefined) => (verified ? html`<span class="verified" title="verified by the platform" aria-label="verified">✔</span>` : html`<span class="unverified" title="claimed, not verified">(unverified)</span>`);
  return html`<aside class="customer" aria-labelledby="customer-title">
    <h2 id="customer-title">${card.display_name ?? 'Customer'}</h2>
    <h3>Identities</h3>
    <ul class="identities">${card.identities.map((i) => html`<li>
      <${ChannelBadge} channel=${i.channel} /> ${i.display_name ?? i.username ?? i.external_id}${' '}
      ${i.username && html`<span class="muted">@${i.username}</span>`}
      ${i.phone && html`<div>☎ ${i.phone} ${mark(i.phone_verified)}</div>`}
      ${i.email && html`<div>✉ ${i.email} ${mark(i.email_verified)}</div>`}
      ${i.reachability === 'unreachable' && html`<div class="warning unreachable">unreachable${i.reachability_reason ? ` (${i.reachability_reason})` : ''}${i.reachability_at ? ` since ${when(i.reachability_at)}` : ''}</div>`}
    </li>`)}</ul>
    ${card.suggestions.length > 0 && html`<h3>Suggestions</h3><ul class="suggestions">${card.suggestions.map((s) => html`<li>
      ${s.kind} ${s.value} <span class="muted">from ${CHANNEL_NAMES[s.source] ?? s.source}: ${label(s.reason)}</span>
      ${s.customer_id && s.customer_id !== card.id && html`<button type="button" onClick=${() => merge(s.customer_id!)}>Merge with the customer who has it verified</button>`}
    </li>`)}</ul>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <h3>Tickets</h3>
    <ul class="past">${card.tickets.map((t) => html`<li>
      ${t.id === current ? html`<strong>${t.number}</strong>` : html`<button type="button" class="link" onClick=${() => onSelect(t.id)}>${t.number}</button>`}
      <${ChannelBadge} channel=${t.channel} /> <span class=${`status st-${t.status}`}>${label(t.status)}</span> <span class="muted">${when(t.created_at)}</span></li>`)}</ul>
  </aside>`;
}

async function loadConfig(): Promise<InboxConfig> {
  const meta = (document.querySelector('meta[name="confluo-api"]')?.getAttribute('content') ?? '').replace(/\/+$/, '');
  const fallback: InboxConfig = { apiBase: `${meta}/api/v1`, auth: { kind: 'dev' } };
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) return fallback;
    const c = (await res.json()) as Partial<InboxConfig>;
    return { apiBase: typeof c.apiBase === 'string' ? c.apiBase : fallback.apiBase, auth: c.auth?.kind === 'cognito' ? c.auth : { kind: 'dev' } };
  } catch { return fallback; }
}

/** Settings first; then, on the way back from the hosted UI, the code is exchanged for tokens. */
async function boot(): Promise<string | null> {
  const config = await loadConfig();
  API_BASE = config.apiBase.replace(/\/+$/, '');
  DEV_BASE = API_BASE.replace(/\/api\/v1$/, '');
  COGNITO = config.auth.kind === 'cognito' ? config.auth : null;
  const callback = COGNITO ? parseCallback(location.search) : null;
  if (!COGNITO || !callback) return null;
  // The code is single-use and must not stay in the address bar or the history.
  history.replaceState(history.state, '', withoutCallbackParams(location.href));
  if ('error' in callback) return `Sign-in failed: ${callback.error}`;
  try {
    localStorage.setItem(AUTH_KEY, JSON.stringify(await completeSignIn(COGNITO, callback, sessionStorage)));
    return null;
  } catch (e) { return (e as Error).message; }
}

const mount = document.getElementById('app')!;
void boot().then((notice) => {
  mount.replaceChildren(); // the boot message
  render(html`<${App} notice=${notice} />`, mount);
});
