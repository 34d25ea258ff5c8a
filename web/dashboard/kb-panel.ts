/**
 * The dashboard's self-service section (issue 19 KPIs, `GET /kb/stats` for the dashboard's days):
 * how often customers found their answer in an article before a ticket was needed (deflection
 * rate, per channel), what they searched for without a good article (what to write next), and
 * how useful each article is — to customers (solved / still needed help) and to agents (linked
 * in replies, resolutions credited to it).
 *
 * Article titles and search terms are customer or editor content: rendered as text (Preact
 * escapes). The per-article figures are all-time (the API's), the others the chosen days.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import type { DashboardMessageKey } from './messages.js';

const html = htm.bind(h);
type T = (key: DashboardMessageKey, params?: Record<string, string | number>) => string;
type Num = number | null;

export interface KbStats {
  from: string; to: string; searches: number; offers: number; deflections: number; escalations: number; deflection_rate: Num;
  channels: Array<{ channel: string; offers: number; deflections: number; escalations: number; deflection_rate: Num }>;
  missed_searches: Array<{ terms: string; count: number; last_at: string }>;
  article_usefulness: Array<{ article_id: string; title: string | null; offered: number; solved: number; still_need_help: number; still_need_help_rate: Num; linked_in_replies: number; resolutions: number }>;
}

/** How many rows each table shows. */
const ROWS = 10;

/** The section, for the dashboard's range (`YYYY-MM-DD`, inclusive); nothing until it has loaded. */
export function KbPanel({ api, from, to, t, num, pct, channelName }: {
  api: { get<R>(path: string): Promise<R> }; from: string; to: string; t: T; num: Intl.NumberFormat; pct: Intl.NumberFormat; channelName: (c: string) => string;
}) {
  const [stats, setStats] = useState<KbStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    setError(null);
    api.get<KbStats>(`/kb/stats?${new URLSearchParams({ from, to })}`)
      .then((s) => { if (!cancelled) setStats(s); })
      .catch((e: { message?: string }) => { if (!cancelled) setError(t('load_failed', { error: e.message ?? String(e) })); });
    return () => { cancelled = true; };
  }, [api, from, to, t]);

  if (error) return html`<section class="kb-stats"><p class="error" role="alert">${error}</p></section>`;
  if (!stats) return null;
  const rate = (v: Num) => (v === null ? t('no_data') : pct.format(v));
  const tile = (id: string, label: DashboardMessageKey, value: Num, shown: string) => html`<div class="tile" data-kb=${id} data-value=${value ?? ''}><span class="tile-label">${t(label)}</span><strong>${value === null ? t('no_data') : shown}</strong></div>`;
  const none = (cols: number) => html`<tr><td colspan=${cols}>${t('none_yet')}</td></tr>`;
  return html`<section class="kb-stats" aria-labelledby="kb-title">
    <h2 id="kb-title">${t('kb_title')}</h2>
    <div class="tiles">
      ${tile('searches', 'kb_searches', stats.searches, num.format(stats.searches))}
      ${tile('offers', 'kb_offers', stats.offers, num.format(stats.offers))}
      ${tile('deflections', 'kb_deflections', stats.deflections, num.format(stats.deflections))}
      ${tile('deflection_rate', 'kb_rate', stats.deflection_rate, rate(stats.deflection_rate))}
    </div>
    <div class="two">
      <div><h3>${t('kb_by_channel')}</h3><table class="data" data-table="kb-channels">
        <thead><tr><th scope="col">${t('channel')}</th><th scope="col">${t('kb_offers')}</th><th scope="col">${t('kb_deflections')}</th><th scope="col">${t('kb_escalations')}</th><th scope="col">${t('kb_rate')}</th></tr></thead>
        <tbody>${stats.channels.length === 0 ? none(5) : stats.channels.map((c) => html`<tr data-channel=${c.channel}><th scope="row">${channelName(c.channel)}</th><td>${num.format(c.offers)}</td><td>${num.format(c.deflections)}</td><td>${num.format(c.escalations)}</td><td>${rate(c.deflection_rate)}</td></tr>`)}</tbody>
      </table></div>
      <div><h3>${t('kb_missed')}</h3><table class="data" data-table="kb-missed">
        <thead><tr><th scope="col">${t('kb_terms')}</th><th scope="col">${t('kb_times')}</th></tr></thead>
        <tbody>${stats.missed_searches.length === 0 ? none(2) : stats.missed_searches.slice(0, ROWS).map((m) => html`<tr><th scope="row">${m.terms}</th><td>${num.format(m.count)}</td></tr>`)}</tbody>
      </table></div>
    </div>
    <h3>${t('kb_articles')}</h3>
    <table class="data" data-table="kb-articles">
      <thead><tr><th scope="col">${t('kb_article')}</th><th scope="col">${t('kb_offered')}</th><th scope="col">${t('kb_solved')}</th><th scope="col">${t('kb_still_rate')}</th><th scope="col">${t('kb_linked')}</th><th scope="col">${t('kb_resolutions')}</th></tr></thead>
      <tbody>${stats.article_usefulness.length === 0 ? none(6) : stats.article_usefulness.slice(0, ROWS).map((a) => html`<tr data-article=${a.article_id}>
        <th scope="row">${a.title ?? t('kb_deleted', { id: a.article_id })}</th><td>${num.format(a.offered)}</td><td>${num.format(a.solved)}</td>
        <td>${rate(a.still_need_help_rate)}</td><td>${num.format(a.linked_in_replies)}</td><td>${num.format(a.resolutions)}</td></tr>`)}</tbody>
    </table>
  </section>`;
}
