/**
 * Article shapes shared by the Agent API (supervisors edit) and the public help API (customers
 * read), and the knowledge-base KPIs (README "Knowledge base": KPIs).
 */
import { renderMarkdown, snippetOf } from './markdown.js';
import type { KbLanguage } from './stemming.js';

export interface ArticleLike {
  readonly id: string; readonly title: string; readonly body: string; readonly category: string | null;
  readonly tags: readonly string[]; readonly language: KbLanguage; readonly updated_at: number;
}

/** What a customer sees of a published article (never drafts, versions or who edited it). */
export function publicArticleView(a: ArticleLike) {
  return {
    id: a.id, title: a.title, language: a.language, category: a.category, tags: [...a.tags],
    html: renderMarkdown(a.body), snippet: snippetOf(a.body), updated_at: new Date(a.updated_at).toISOString(),
  };
}

/** Words that make a missed search personal or unique (digits: order numbers, phones; `@`: e-mails) are not kept. */
export function missTerms(terms: readonly string[]): string | null {
  const kept = [...new Set(terms.filter((t) => !/[\p{N}@]/u.test(t) && t.length <= 40))].slice(0, 6).sort();
  return kept.length === 0 ? null : kept.join(' ');
}

export interface KbKpiInput {
  readonly days: readonly { day: string; searches: number; offers: number; deflections: number; escalations: number }[];
  readonly articles: readonly { article_id: string; offered: number; solved: number; not_solved: number }[];
  readonly misses: readonly { terms: string; count: number; last_at: number }[];
  readonly channels?: readonly { channel: string; day: string; offers: number; deflections: number; escalations: number }[];
}

/**
 * - deflection rate: of the conversations that were offered an article and answered, the share
 *   the customer marked solved (`deflections / (deflections + escalations)`), over [from, to];
 * - usefulness per article: `solved / (solved + not_solved)` (null before any answer);
 * - missed searches: the most frequent searches whose best article was below the confidence
 *   threshold (what to write next);
 * - per channel: the offers made on each messenger and their answers (`deflections`: "That
 *   solved it", `escalations`: "I still need help" or a further message), with the same rate.
 */
export function kbKpis(input: KbKpiInput, range: { from: string; to: string }, opts: { topMisses?: number } = {}) {
  const days = input.days.filter((d) => d.day >= range.from && d.day <= range.to);
  const sum = (k: 'searches' | 'offers' | 'deflections' | 'escalations') => days.reduce((s, d) => s + d[k], 0);
  const deflections = sum('deflections');
  const escalations = sum('escalations');
  return {
    from: range.from, to: range.to,
    searches: sum('searches'), offers: sum('offers'), deflections, escalations,
    deflection_rate: deflections + escalations === 0 ? null : deflections / (deflections + escalations),
    articles: input.articles
      .map((a) => ({ ...a, usefulness: a.solved + a.not_solved === 0 ? null : a.solved / (a.solved + a.not_solved) }))
      .sort((x, y) => (y.solved + y.not_solved) - (x.solved + x.not_solved) || x.article_id.localeCompare(y.article_id)),
    channels: perChannel(input.channels ?? [], range),
    missed_searches: [...input.misses].sort((x, y) => y.count - x.count || y.last_at - x.last_at).slice(0, opts.topMisses ?? 20)
      .map((m) => ({ terms: m.terms, count: m.count, last_at: new Date(m.last_at).toISOString() })),
  };
}

function perChannel(rows: NonNullable<KbKpiInput['channels']>, range: { from: string; to: string }) {
  const by = new Map<string, { channel: string; offers: number; deflections: number; escalations: number }>();
  for (const r of rows) {
    if (r.day < range.from || r.day > range.to) continue;
    const c = by.get(r.channel) ?? by.set(r.channel, { channel: r.channel, offers: 0, deflections: 0, escalations: 0 }).get(r.channel)!;
    c.offers += r.offers; c.deflections += r.deflections; c.escalations += r.escalations;
  }
  return [...by.values()].sort((x, y) => x.channel.localeCompare(y.channel))
    .map((c) => ({ ...c, deflection_rate: c.deflections + c.escalations === 0 ? null : c.deflections / (c.deflections + c.escalations) }));
}
