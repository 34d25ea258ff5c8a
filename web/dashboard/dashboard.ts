/**
 * The supervisors' dashboard (issue 15), a page of the web inbox (`#dashboard`, role supervisor+).
 * Numbers from `GET /api/v1/kpis/daily`, `/kpis/recurring` and `/kpis/channel-hoppers` — the KPI
 * definitions of functions/domain/kpi.ts, so the totals equal `GET /api/v1/kpis` for the range.
 *
 * Charts are uPlot (canvas, ~50 KB minified, no dependencies). A canvas says nothing to a screen
 * reader, so every chart is a <figure> whose data is also a <table> (visually hidden until the
 * "Table" button shows it) and a CSV download.
 */
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';
// A type only: the module itself is loaded when a chart is drawn (see Chart).
import type uPlot from 'uplot';
import { makeTranslator, pickLocale } from '../i18n/translate.js';
import { DASHBOARD_MESSAGES, type DashboardMessageKey } from './messages.js';
import { toCsv } from './csv.js';
import { KbPanel } from './kb-panel.js';
import type { Api } from '../inbox/api.js';

const html = htm.bind(h);

const HOUR_MS = 3_600_000;
const CHANNELS = ['telegram', 'whatsapp', 'messenger', 'instagram', 'vk', 'viber', 'twilio', 'email', 'webchat'] as const;
const CHANNEL_NAMES: Record<string, string> = {
  telegram: 'Telegram', whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram', vk: 'VK', viber: 'Viber', twilio: 'SMS', email: 'E-mail', webchat: 'Web chat', voice: 'Voice',
};
const COLORS = ['#2457c5', '#1c7c3a', '#c5572b', '#7a3cc5', '#b0008a', '#0f8a8a', '#8a6d00', '#5b6472', '#a4000f'];
const AGE_BUCKETS = ['lt_1h', '1h_4h', '4h_24h', '1d_3d', '3d_7d', 'gt_7d'] as const;

type Num = number | null;
interface KpiSet { volume: number; backlog: number; first_response_p50_ms: Num; first_response_p90_ms: Num; resolution_p50_ms: Num; resolution_p90_ms: Num; sla_attainment: Num; csat_avg: Num; nps_score: Num }
interface DailyPoint extends KpiSet { day: string }
interface Daily {
  from: string; to: string; time_zone: string; channels: string[]; overall: KpiSet;
  days: Array<DailyPoint & { tickets_by_channel: Record<string, number>; messages_by_channel: Record<string, number> }>;
  backlog_by_age: Array<{ bucket: (typeof AGE_BUCKETS)[number]; count: number }>;
  load_by_agent: Array<{ agent: string | null; active: number; resolved: number }>;
}
interface RecurringRow { key: string | null; this_week: number; last_week: number }
interface Recurring { this_week: { from: string; to: string; tickets: number }; last_week: { from: string; to: string; tickets: number }; categories: RecurringRow[]; keywords: RecurringRow[] }
interface Hopper { ticket_id: string; number: string | null; status: string; created_at: string; channels: string[]; customer_messages: number; last_customer_message_at: string }
interface Hoppers { items: Hopper[]; total: number; next_cursor: string | null }

type T = (key: DashboardMessageKey, params?: Record<string, string | number>) => string;

/** `YYYY-MM-DD` of a local date (the date inputs' format). */
const isoDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
/** Local midnight of a `YYYY-MM-DD`. */
const localMidnight = (day: string) => { const [y, m, d] = day.split('-').map(Number); return new Date(y!, m! - 1, d!); };

interface Filters { from: string; to: string; channel: string; team: string; tier: string }

/**
 * The query of a filter set: [local midnight of `from`, local midnight after `to`), days in the
 * browser's time zone. Without dates: the API's default, the 30 days before the server's now (the
 * local runtime's virtual clock may be far from the browser's).
 */
export function rangeQuery(f: Filters): URLSearchParams {
  const q = new URLSearchParams({ tz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' });
  if (f.from && f.to) {
    const to = localMidnight(f.to);
    to.setDate(to.getDate() + 1);
    q.set('from', localMidnight(f.from).toISOString());
    q.set('to', to.toISOString());
  }
  if (f.channel) q.set('channel', f.channel);
  if (f.team.trim()) q.set('team', f.team.trim());
  if (f.tier.trim()) q.set('tier', f.tier.trim());
  return q;
}

function download(name: string, csv: string) {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

interface ChartSpec {
  id: string;
  title: string;
  /** Category labels of the x axis (days, buckets, agents). */
  labels: string[];
  series: Array<{ label: string; values: Num[]; color?: string; scale?: string }>;
  kind: 'line' | 'bars';
  /** Value as the table shows it (raw numbers go to the CSV). */
  format?: (v: number) => string;
  xLabel: string;
}

/** One chart: uPlot canvas, its data table (always in the page; visible on demand) and a CSV download. */
function Chart({ spec, t }: { spec: ChartSpec; t: T }) {
  const box = useRef<HTMLDivElement>(null);
  const [showTable, setShowTable] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const xs = spec.labels.map((_, i) => i);
    const scales = new Set(spec.series.map((s) => s.scale ?? 'y'));
    // uPlot is evaluated when the first chart is drawn, not when the inbox loads (esbuild defers a
    // module reached only through import()): at load it passes navigator.language to
    // Intl.NumberFormat, which throws on tags such as `en-US@posix` (Chromium under LANG=C) and
    // took the whole inbox down for agents who never open the dashboard.
    let plot: uPlot | undefined;
    let gone = false;
    void import('uplot').then(({ default: UPlot }) => {
      if (gone) return;
      plot = new UPlot({
        width: Math.max(280, el.clientWidth || 520), height: 220,
        legend: { show: true },
        scales: { x: { time: false, ...(spec.kind === 'bars' ? { range: [-0.5, spec.labels.length - 0.5] as [number, number] } : {}) } },
        axes: [
          { values: (_u, splits) => splits.map((v) => spec.labels[Math.round(v)] ?? ''), space: 60, incrs: [1, 2, 5, 7, 10, 14, 30] },
          ...[...scales].map((scale, i) => ({ scale, side: i === 0 ? 3 : 1, grid: { show: i === 0 } })),
        ],
        series: [
          { label: spec.xLabel, value: (_u: uPlot, v: number) => spec.labels[Math.round(v)] ?? '' },
          ...spec.series.map((s, i) => {
            const color = s.color ?? COLORS[i % COLORS.length]!;
            return {
              label: s.label, scale: s.scale ?? 'y', stroke: color, width: 2, spanGaps: true,
              ...(spec.kind === 'bars'
                // Several bar series nest (each narrower than the one before) instead of hiding each other.
                ? { fill: `${color}cc`, paths: UPlot.paths.bars!({ size: [0.8 / (i + 1), 60] }), points: { show: false } }
                : { points: { show: spec.labels.length < 40 } }),
              value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : spec.format ? spec.format(v) : String(v)),
            };
          }),
        ],
      }, [xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, el);
    });
    return () => { gone = true; plot?.destroy(); };
  }, [spec]);
  const fmt = (v: Num) => (v === null ? t('no_data') : spec.format ? spec.format(v) : String(v));
  const csv = () => download(`${spec.id}.csv`, toCsv([spec.xLabel, ...spec.series.map((s) => s.label)], spec.labels.map((l, i) => [l, ...spec.series.map((s) => s.values[i] ?? null)])));
  return html`<figure class="chart" data-chart=${spec.id} aria-labelledby=${`${spec.id}-title`}>
    <figcaption>
      <span id=${`${spec.id}-title`}>${spec.title}</span>
      <span class="chart-actions">
        <button type="button" aria-pressed=${showTable} aria-controls=${`${spec.id}-table`} onClick=${() => setShowTable(!showTable)}>${t('show_table')}</button>
        <button type="button" onClick=${csv} aria-label=${`${t('download_csv')}: ${spec.title}`}>${t('download_csv')}</button>
      </span>
    </figcaption>
    <div class="plot" ref=${box} role="img" aria-label=${spec.title} hidden=${showTable}></div>
    <table id=${`${spec.id}-table`} class=${showTable ? 'data' : 'data sr'}>
      <caption class="sr">${spec.title}</caption>
      <thead><tr><th scope="col">${spec.xLabel}</th>${spec.series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
      <tbody>${spec.labels.map((l, i) => html`<tr><th scope="row">${l}</th>${spec.series.map((s) => html`<td data-value=${s.values[i] ?? ''}>${fmt(s.values[i] ?? null)}</td>`)}</tr>`)}</tbody>
    </table>
  </figure>`;
}

/** `lang`: the agent's choice in the inbox; without it the browser's languages decide. */
export function Dashboard({ api, signOut, who, lang }: { api: Api; signOut: () => void; who: string; lang?: string }) {
  const locale = useMemo(() => lang ? pickLocale([lang]) : pickLocale(typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]), [lang]);
  const t = useMemo(() => makeTranslator(DASHBOARD_MESSAGES, locale), [locale]);
  const num = useMemo(() => new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }), [locale]);
  const pct = useMemo(() => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }), [locale]);
  const hours = (ms: number) => num.format(ms / HOUR_MS);
  const dayFmt = useMemo(() => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }), [locale]);
  const dateTime = useMemo(() => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }), [locale]);
  const dateOnly = useMemo(() => new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }), [locale]);

  const [draft, setDraft] = useState<Filters>({ from: '', to: '', channel: '', team: '', tier: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [daily, setDaily] = useState<Daily | null>(null);
  const [recurring, setRecurring] = useState<Recurring | null>(null);
  const [hoppers, setHoppers] = useState<Hoppers | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    setError(null);
    const q = rangeQuery(filters);
    const narrow = new URLSearchParams([...q].filter(([k]) => ['channel', 'team', 'tier'].includes(k)));
    void (async () => {
      try {
        const d = await api.get<Daily>(`/kpis/daily?${q}`);
        // The other two cover exactly the range the series cover (the server's when none was chosen).
        const range = new URLSearchParams({ from: d.from, to: d.to });
        const [r, hp] = await Promise.all([
          api.get<Recurring>(`/kpis/recurring?to=${encodeURIComponent(d.to)}&${narrow}`),
          api.get<Hoppers>(`/kpis/channel-hoppers?${range}&${narrow}&limit=50`),
        ]);
        if (cancelled) return;
        setDaily(d); setRecurring(r); setHoppers(hp);
        if (!filters.from) setDraft((f) => ({ ...f, from: isoDay(new Date(d.from)), to: isoDay(new Date(Date.parse(d.to) - 1)) }));
      } catch (e) {
        if (!cancelled) setError(t('load_failed', { error: (e as { message?: string }).message ?? String(e) }));
      } finally {
        if (!cancelled) setLoading(false);
      }
    })();
    return () => { cancelled = true; };
  }, [api, filters, t]);

  const moreHoppers = async () => {
    if (!hoppers?.next_cursor) return;
    const narrow = [...rangeQuery(filters)].filter(([k]) => ['channel', 'team', 'tier'].includes(k));
    const next = await api.get<Hoppers>(`/kpis/channel-hoppers?${new URLSearchParams([['from', daily!.from], ['to', daily!.to], ...narrow])}&limit=50&cursor=${hoppers.next_cursor}`);
    setHoppers({ ...next, items: [...hoppers.items, ...next.items] });
  };

  const charts = useMemo((): ChartSpec[] => {
    if (!daily) return [];
    const labels = daily.days.map((d) => dayFmt.format(Date.parse(`${d.day}T00:00:00Z`)));
    const byChannel = (field: 'tickets_by_channel' | 'messages_by_channel') => daily.channels.map((c, i) => ({ label: CHANNEL_NAMES[c] ?? c, color: COLORS[i % COLORS.length]!, values: daily.days.map((d) => d[field][c] ?? 0) }));
    const ms = (v: Num) => (v === null ? null : v / HOUR_MS);
    const round = (v: number) => Math.round(v * 100) / 100;
    return [
      { id: 'messages', title: t('chart_messages'), labels, kind: 'line', xLabel: t('day'), series: byChannel('messages_by_channel') },
      { id: 'tickets', title: t('chart_tickets'), labels, kind: 'line', xLabel: t('day'), series: byChannel('tickets_by_channel') },
      { id: 'first-response', title: t('chart_frt'), labels, kind: 'line', xLabel: t('day'), format: (v) => num.format(v),
        series: [{ label: t('p50'), values: daily.days.map((d) => ms(d.first_response_p50_ms)).map((v) => (v === null ? null : round(v))) }, { label: t('p90'), values: daily.days.map((d) => ms(d.first_response_p90_ms)).map((v) => (v === null ? null : round(v))) }] },
      { id: 'resolution', title: t('chart_resolution'), labels, kind: 'line', xLabel: t('day'), format: (v) => num.format(v),
        series: [{ label: t('p50'), values: daily.days.map((d) => ms(d.resolution_p50_ms)).map((v) => (v === null ? null : round(v))) }, { label: t('p90'), values: daily.days.map((d) => ms(d.resolution_p90_ms)).map((v) => (v === null ? null : round(v))) }] },
      { id: 'sla', title: t('chart_sla'), labels, kind: 'line', xLabel: t('day'), format: (v) => num.format(v),
        series: [{ label: t('sla_met_pct'), values: daily.days.map((d) => (d.sla_attainment === null ? null : round(d.sla_attainment * 100))) }] },
      { id: 'satisfaction', title: t('chart_satisfaction'), labels, kind: 'line', xLabel: t('day'), format: (v) => num.format(v),
        series: [{ label: t('csat_avg'), scale: 'csat', values: daily.days.map((d) => (d.csat_avg === null ? null : round(d.csat_avg))) }, { label: t('nps'), scale: 'nps', values: daily.days.map((d) => (d.nps_score === null ? null : round(d.nps_score))) }] },
      { id: 'backlog-age', title: t('chart_backlog'), labels: daily.backlog_by_age.map((b) => t(`age_${b.bucket}` as DashboardMessageKey)), kind: 'bars', xLabel: t('age'),
        series: [{ label: t('count'), values: daily.backlog_by_age.map((b) => b.count) }] },
      { id: 'agent-load', title: t('chart_load'), labels: daily.load_by_agent.map((a) => a.agent ?? t('unassigned')), kind: 'bars', xLabel: t('agent'),
        series: [{ label: t('active'), values: daily.load_by_agent.map((a) => a.active) }, { label: t('resolved'), values: daily.load_by_agent.map((a) => a.resolved) }] },
    ];
  }, [daily, t, num, dayFmt]);

  const o = daily?.overall;
  const tile = (id: string, label: DashboardMessageKey, value: Num, shown: string) => html`<div class="tile" data-kpi=${id} data-value=${value ?? ''}><span class="tile-label">${t(label)}</span><strong>${value === null ? t('no_data') : shown}</strong></div>`;
  const field = (name: keyof Filters, label: DashboardMessageKey, input: unknown) => html`<div class="field"><label for=${`dash-${name}`}>${t(label)}</label>${input}</div>`;
  const set = (name: keyof Filters) => (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value });
  const recurringTable = (rows: RecurringRow[], keyLabel: DashboardMessageKey, id: string) => html`<table class="data" data-table=${id}>
    <thead><tr><th scope="col">${t(keyLabel)}</th><th scope="col">${t('this_week')}</th><th scope="col">${t('last_week')}</th><th scope="col">${t('change')}</th></tr></thead>
    <tbody>${rows.length === 0 ? html`<tr><td colspan="4">${t('none_yet')}</td></tr>` : rows.map((r) => html`<tr><th scope="row">${r.key ?? t('no_category')}</th><td>${num.format(r.this_week)}</td><td>${num.format(r.last_week)}</td><td>${r.this_week - r.last_week > 0 ? '+' : ''}${num.format(r.this_week - r.last_week)}</td></tr>`)}</tbody>
  </table>`;

  return html`<div class="dashboard" lang=${locale}>
    <header class="topbar">
      <h1>Confluo · ${t('title')}</h1>
      <a class="nav" href="#">${t('back_to_inbox')}</a>
      <span class="spacer"></span>
      <span class="me">${who}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main class="dash-main">
      <form class="dash-filters" aria-label=${t('filters')} onSubmit=${(e: Event) => { e.preventDefault(); setFilters(draft); }}>
        ${field('from', 'from', html`<input id="dash-from" type="date" value=${draft.from} max=${draft.to} onInput=${set('from')} />`)}
        ${field('to', 'to', html`<input id="dash-to" type="date" value=${draft.to} min=${draft.from} onInput=${set('to')} />`)}
        ${field('channel', 'channel', html`<select id="dash-channel" value=${draft.channel} onChange=${set('channel')}><option value="">${t('any')}</option>${CHANNELS.map((c) => html`<option value=${c}>${CHANNEL_NAMES[c]}</option>`)}</select>`)}
        ${field('team', 'team', html`<input id="dash-team" value=${draft.team} onInput=${set('team')} placeholder=${t('any')} />`)}
        ${field('tier', 'tier', html`<input id="dash-tier" value=${draft.tier} onInput=${set('tier')} placeholder=${t('any')} list="dash-tiers" /><datalist id="dash-tiers"><option value="vip"></option><option value="standard"></option><option value="none">${t('no_tier')}</option></datalist>`)}
        <button type="submit" class="primary">${t('apply')}</button>
        ${loading && html`<span class="muted" role="status">${t('loading')}</span>`}
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${o && html`<section class="tiles" aria-label=${t('summary')} data-from=${daily!.from} data-to=${daily!.to}>
        ${tile('volume', 'kpi_volume', o.volume, num.format(o.volume))}
        ${tile('backlog', 'kpi_backlog', o.backlog, num.format(o.backlog))}
        ${tile('first_response_p50_ms', 'kpi_frt_p50', o.first_response_p50_ms, `${hours(o.first_response_p50_ms ?? 0)} h`)}
        ${tile('resolution_p50_ms', 'kpi_res_p50', o.resolution_p50_ms, `${hours(o.resolution_p50_ms ?? 0)} h`)}
        ${tile('sla_attainment', 'kpi_sla', o.sla_attainment, pct.format(o.sla_attainment ?? 0))}
        ${tile('csat_avg', 'kpi_csat', o.csat_avg, num.format(o.csat_avg ?? 0))}
        ${tile('nps_score', 'kpi_nps', o.nps_score, num.format(o.nps_score ?? 0))}
      </section>`}
      <div class="charts">${charts.map((spec) => html`<${Chart} key=${spec.id} spec=${spec} t=${t} />`)}</div>
      ${recurring && html`<section class="recurring" aria-labelledby="recurring-title">
        <h2 id="recurring-title">${t('recurring')}</h2>
        <p class="muted">${t('recurring_weeks', { this: `${dateOnly.format(Date.parse(recurring.this_week.from))} – ${dateOnly.format(Date.parse(recurring.this_week.to) - 1)}`, thisCount: recurring.this_week.tickets, last: `${dateOnly.format(Date.parse(recurring.last_week.from))} – ${dateOnly.format(Date.parse(recurring.last_week.to) - 1)}`, lastCount: recurring.last_week.tickets })}</p>
        <div class="two">
          <div><h3>${t('categories')}</h3>${recurringTable(recurring.categories, 'category', 'categories')}</div>
          <div><h3>${t('keywords')}</h3>${recurringTable(recurring.keywords, 'keyword', 'keywords')}</div>
        </div>
      </section>`}
      ${hoppers && html`<section class="hoppers" aria-labelledby="hoppers-title">
        <h2 id="hoppers-title">${t('hoppers')}</h2>
        <p class="muted">${t('hoppers_count', { count: hoppers.total })}</p>
        <table class="data" data-table="hoppers">
          <thead><tr><th scope="col">${t('ticket')}</th><th scope="col">${t('channels')}</th><th scope="col">${t('opened')}</th><th scope="col">${t('last_message')}</th><th scope="col">${t('messages')}</th><th scope="col">${t('status')}</th></tr></thead>
          <tbody>${hoppers.items.length === 0 ? html`<tr><td colspan="6">${t('none_yet')}</td></tr>` : hoppers.items.map((hp) => html`<tr data-ticket=${hp.ticket_id}>
            <th scope="row"><a href=${`#ticket=${encodeURIComponent(hp.ticket_id)}`}>${hp.number ?? hp.ticket_id}</a></th>
            <td>${hp.channels.map((c) => CHANNEL_NAMES[c] ?? c).join(' → ')}</td><td>${dateTime.format(Date.parse(hp.created_at))}</td>
            <td>${dateTime.format(Date.parse(hp.last_customer_message_at))}</td><td>${num.format(hp.customer_messages)}</td><td>${hp.status.replace(/_/g, ' ')}</td></tr>`)}</tbody>
        </table>
        ${hoppers.next_cursor && html`<button type="button" onClick=${moreHoppers}>${t('more')}</button>`}
      </section>`}
      ${daily && html`<${KbPanel} api=${api} t=${t} num=${num} pct=${pct} channelName=${(c: string) => CHANNEL_NAMES[c] ?? c}
        from=${new Date(daily.from).toISOString().slice(0, 10)} to=${new Date(Date.parse(daily.to) - 1).toISOString().slice(0, 10)} />`}
    </main>
  </div>`;
}
