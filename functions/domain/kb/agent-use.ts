/**
 * Agents and the knowledge base (README "Knowledge base": agents): which articles a reply links to,
 * and how useful each article is across customers' self-service and agents' work.
 */

/** How the help centre addresses an article: `…/help?article=<id>` (web/help/help.ts). */
const ARTICLE_LINK = /[?&]article=([A-Za-z0-9][A-Za-z0-9_.-]{0,63})/g;

/**
 * The article ids a reply's text links to (help-centre URLs `…?article=<id>`), first mention
 * first, at most `max` distinct ones. A sentence's full stop after the link is not part of the id.
 * Linear: one pass of a bounded character class, no backtracking.
 */
export function articleLinksIn(text: string, max = 5): string[] {
  const ids = new Set<string>();
  for (const m of text.matchAll(ARTICLE_LINK)) {
    ids.add(m[1]!.replace(/[.]+$/, ''));
    if (ids.size >= max) break;
  }
  return [...ids].filter((id) => id !== '');
}

/** The help centre's address of an article, from the help page's URL (`https://support.example/help.html`). */
export function articleUrl(helpUrl: string, id: string): string {
  const u = new URL(helpUrl);
  u.search = new URLSearchParams({ article: id }).toString();
  u.hash = '';
  return u.href;
}

export interface SelfServiceCounts { readonly article_id: string; readonly offered: number; readonly solved: number; readonly not_solved: number }
export interface AgentUseCounts { readonly article_id: string; readonly linked_in_replies: number; readonly resolutions: number }

/**
 * One row per article that anyone used: customers' self-service (offered, solved, "still need
 * help") next to agents' use (replies that linked it, ticket resolutions credited to it).
 * `still_need_help_rate`: of the customers who answered an offer of it, the share who still needed
 * an agent (null before any answer). Titles of deleted articles are null. Busiest first.
 */
export function articleUsefulness(selfService: readonly SelfServiceCounts[], agents: readonly AgentUseCounts[], titles: ReadonlyMap<string, string>) {
  const ids = new Set([...selfService.map((a) => a.article_id), ...agents.map((a) => a.article_id)]);
  const self = new Map(selfService.map((a) => [a.article_id, a]));
  const agent = new Map(agents.map((a) => [a.article_id, a]));
  return [...ids].map((id) => {
    const s = self.get(id);
    const a = agent.get(id);
    const offered = s?.offered ?? 0, solved = s?.solved ?? 0, notSolved = s?.not_solved ?? 0;
    return {
      article_id: id, title: titles.get(id) ?? null,
      offered, solved, still_need_help: notSolved,
      still_need_help_rate: solved + notSolved === 0 ? null : notSolved / (solved + notSolved),
      linked_in_replies: Math.max(0, a?.linked_in_replies ?? 0), resolutions: Math.max(0, a?.resolutions ?? 0),
    };
  }).sort((x, y) => (y.solved + y.still_need_help + y.linked_in_replies + y.resolutions) - (x.solved + x.still_need_help + x.linked_in_replies + x.resolutions) || x.article_id.localeCompare(y.article_id));
}

/** A resolution's credit as stored on a ticket (functions/store/kb-agent.ts): the article, and the `resolved_at` it belongs to. */
export interface ResolutionArticle { readonly id: string; readonly cycle: number }

/** Which resolution a credit belongs to: the ticket's `resolved_at`, or `closed_at` for a ticket closed without resolving. */
export const resolutionCycleOf = (t: { readonly resolved_at: number | null; readonly closed_at: number | null }) => t.resolved_at ?? t.closed_at ?? 0;

/** The article the ticket's current resolution is credited to; null while open again after a reopen, or never credited. */
export function resolutionArticleOf(t: { readonly status: string; readonly resolved_at: number | null; readonly closed_at: number | null; readonly resolution_article?: ResolutionArticle }): string | null {
  const ra = t.resolution_article;
  if (!ra || (t.status !== 'resolved' && t.status !== 'closed')) return null;
  return ra.cycle === resolutionCycleOf(t) ? ra.id : null;
}
