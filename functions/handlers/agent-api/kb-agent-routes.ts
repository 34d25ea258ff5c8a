/**
 * Agent API: agents and the knowledge base (README "Knowledge base": agents).
 *
 * `PUT /tickets/{id}/resolution-article` (agent) credits a resolved ticket's resolution to the
 * article that solved it: shown on the timeline ("resolved with article …"), counted in
 * `GET /kb/stats` `article_usefulness` with the replies that linked each article (counted by the
 * reply route as the reply is queued, functions/store/kb-agent.ts). Agents search articles with
 * `GET /kb/articles?q=` (published ones only: customers cannot open drafts).
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { articleUsefulness, type SelfServiceCounts } from '../../domain/kb/agent-use.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { getArticle, listArticles } from '../../store/kb.js';
import { linkResolutionArticle, readAgentUse } from '../../store/kb-agent.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam } from './schemas.js';

export interface KbAgentRouteDeps { readonly db: Db; readonly clock: Clock }

export const ResolutionArticleBody = z.strictObject({
  article_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, _ . -').meta({ description: 'An existing article (GET /kb/articles)' }),
}).meta({ id: 'ResolutionArticle' });

export const ResolutionArticleOut = z.object({
  ticket_id: z.string(), article_id: z.string(),
  previous_article_id: z.string().nullable().meta({ description: 'The article this resolution was credited to before (it loses the credit)' }),
  changed: z.boolean().meta({ description: 'false: the resolution was already credited to this article (nothing counted again)' }),
}).meta({ id: 'ResolutionArticleLink' });

export const ArticleUsefulness = z.array(z.object({
  article_id: z.string(), title: z.string().nullable().meta({ description: 'null: the article was deleted' }),
  offered: z.number().int(), solved: z.number().int(), still_need_help: z.number().int(),
  still_need_help_rate: z.number().nullable().meta({ description: 'still_need_help / (solved + still_need_help): of the customers who answered an offer of it, the share who still needed an agent' }),
  linked_in_replies: z.number().int().meta({ description: 'Agents\' replies that linked it (help-centre URL `?article=<id>`)' }),
  resolutions: z.number().int().meta({ description: 'Ticket resolutions credited to it (PUT /tickets/{id}/resolution-article)' }),
})).meta({ id: 'KbArticleUsefulness', description: 'Per article, all time: customers\' self-service next to agents\' use; busiest first' });

/** `GET /kb/stats` `article_usefulness`: the self-service counters joined with the agents' ones and the titles. */
export async function articleUsefulnessOf(db: Db, selfService: readonly SelfServiceCounts[]) {
  const [agents, articles] = await Promise.all([readAgentUse(db), listArticles(db)]);
  return articleUsefulness(selfService, agents, new Map(articles.map((a) => [a.id, a.title])));
}

export function kbAgentRoutes(deps: KbAgentRouteDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();
  return [
    route({
      method: 'PUT', path: '/tickets/{id}/resolution-article', summary: 'Credit a resolved (or closed) ticket\'s resolution to the article that solved it: on the timeline and in the article\'s usefulness (GET /kb/stats)', role: 'agent',
      params: IdParam, body: ResolutionArticleBody, responses: { 200: ResolutionArticleOut, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const article = await getArticle(db, body.article_id);
        if (!article) throw new HttpError(422, 'invalid', `article_id: no article ${body.article_id}`);
        const r = await linkResolutionArticle(db, { ticketId: params.id, article: { id: article.id, title: article.title }, actor: caller.sub, now: deps.clock.now(), newId: (at) => ulid(at) });
        if (!r.ok) throw new HttpError(r.status, r.code, r.reason, { cause: { ticket_id: params.id, stage: 'resolution-article' } });
        return { status: 200, body: { ticket_id: params.id, article_id: article.id, previous_article_id: r.previous === article.id ? null : r.previous, changed: r.changed } };
      },
    }),
  ];
}
