/**
 * Agent API: the knowledge base (README "Knowledge base").
 *
 * `GET /kb/articles` (agent; `q` searches the published articles with the same stemmed index as
 * the help centre, otherwise every article with `status`/`language`/`category` filters),
 * `GET /kb/articles/{id}` (agent; the body rendered as safe HTML too), `PUT /kb/articles/{id}`
 * and `DELETE /kb/articles/{id}?version=` (supervisor; conditional on the version read, 409 on a
 * lost race — like templates), `GET /kb/stats` (supervisor; deflection rate, article usefulness,
 * searches without a good article).
 */
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { kbKpis, publicArticleView } from '../../domain/kb/article.js';
import { articleAsText } from '../../domain/kb/article-text.js';
import { ArticleUsefulness, articleUsefulnessOf } from './kb-agent-routes.js';
import { KB_LANGUAGES } from '../../domain/kb/stemming.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { ARTICLE_STATUSES, deleteArticle, getArticle, listArticles, makeKbIndexCache, putArticle, readKbStats, type ArticleRecord } from '../../store/kb.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody } from './schemas.js';

export interface KbRouteDeps { readonly db: Db; readonly clock: Clock }

const isoTime = z.string().meta({ format: 'date-time' });
const Version = z.number().int().nonnegative().meta({ description: 'Version read (0: new); a write with a stale version is a 409' });

export const ArticleIdParam = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected 1-64 letters, digits, _ . -') });
export const ArticleOut = z.object({
  id: z.string(), title: z.string(), body: z.string().meta({ description: 'Markdown' }), html: z.string().meta({ description: 'The body rendered (raw HTML in the source is escaped; links limited to http(s), mailto, tel and relative)' }),
  snippet: z.string(), category: z.string().nullable(), tags: z.array(z.string()), language: z.enum(KB_LANGUAGES), status: z.enum(ARTICLE_STATUSES),
  version: z.number().int(), updated_at: isoTime, updated_by: z.string(),
  text: z.string().meta({ description: 'The body as plain text for a messenger reply: paragraphs, bullets, links as "text (url)"; relative links keep only their words' }),
}).meta({ id: 'KbArticle' });
export const ArticleSummary = z.object({
  id: z.string(), title: z.string(), snippet: z.string(), category: z.string().nullable(), tags: z.array(z.string()),
  language: z.enum(KB_LANGUAGES), status: z.enum(ARTICLE_STATUSES), version: z.number().int(), updated_at: isoTime,
  confidence: z.number().optional().meta({ description: 'With `q`: the share of the question\'s meaningful words the article holds (0–1)' }),
}).meta({ id: 'KbArticleSummary' });
export const ArticleList = z.object({ items: z.array(ArticleSummary) }).meta({ id: 'KbArticleList' });
export const PutArticleBody = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(50_000).meta({ description: 'Markdown; raw HTML is shown as text' }),
  category: z.string().trim().min(1).max(100).nullable().optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(20).optional(),
  language: z.enum(KB_LANGUAGES),
  status: z.enum(ARTICLE_STATUSES),
  version: Version.optional(),
}).meta({ id: 'PutKbArticle' });
export const ArticleQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  language: z.enum(KB_LANGUAGES).optional(),
  status: z.enum(ARTICLE_STATUSES).optional(),
  category: z.string().trim().min(1).max(100).optional(),
});
export const DeleteArticleQuery = z.strictObject({ version: z.coerce.number().int().positive().meta({ description: 'The version read' }) });

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
export const KbStatsQuery = z.strictObject({ from: day.optional(), to: day.optional() });
export const KbStatsOut = z.object({
  from: z.string(), to: z.string(), searches: z.number().int(), offers: z.number().int(), deflections: z.number().int(), escalations: z.number().int(),
  deflection_rate: z.number().nullable().meta({ description: 'deflections / (deflections + escalations): of the conversations offered an article that answered, the share solved by it' }),
  articles: z.array(z.object({ article_id: z.string(), offered: z.number().int(), solved: z.number().int(), not_solved: z.number().int(), usefulness: z.number().nullable() })),
  channels: z.array(z.object({
    channel: z.string(), offers: z.number().int(), deflections: z.number().int(), escalations: z.number().int(), deflection_rate: z.number().nullable(),
  })).meta({ description: 'Articles offered on messengers, per channel: offers, "That solved it" (deflections), "I still need help" or a further message (escalations)' }),
  missed_searches: z.array(z.object({ terms: z.string().meta({ description: 'Stemmed words (no digits or e-mails)' }), count: z.number().int(), last_at: isoTime })),
  article_usefulness: ArticleUsefulness,
}).meta({ id: 'KbStats' });

export function articleView(a: ArticleRecord) {
  const { html, snippet } = publicArticleView(a);
  return { id: a.id, title: a.title, body: a.body, html, snippet, category: a.category, tags: [...a.tags], language: a.language, status: a.status, version: a.version, updated_at: new Date(a.updated_at).toISOString(), updated_by: a.updated_by, text: articleAsText(a.body) };
}

function summaryView(a: ArticleRecord, confidence?: number) {
  const { snippet } = publicArticleView(a);
  return { id: a.id, title: a.title, snippet, category: a.category, tags: [...a.tags], language: a.language, status: a.status, version: a.version, updated_at: new Date(a.updated_at).toISOString(), ...(confidence !== undefined ? { confidence } : {}) };
}

export function kbRoutes(deps: KbRouteDeps): RouteDef[] {
  const { db } = deps;
  const indexOf = makeKbIndexCache();
  return [
    route({
      method: 'GET', path: '/kb/articles', summary: 'Knowledge-base articles: `q` searches the published ones (stemmed per language), otherwise all, filtered by status, language, category', role: 'agent',
      query: ArticleQuery, responses: { 200: ArticleList },
      handle: async ({ query }) => {
        if (query.q) {
          const { index, articles } = await indexOf(db);
          const hits = index.search(query.q, { language: query.language, limit: 10 });
          return { status: 200, body: { items: hits.map((h) => summaryView(articles.get(h.id)!, h.confidence)) } };
        }
        const items = (await listArticles(db))
          .filter((a) => (!query.status || a.status === query.status) && (!query.language || a.language === query.language) && (!query.category || a.category === query.category))
          .sort((x, y) => y.updated_at - x.updated_at || x.id.localeCompare(y.id));
        return { status: 200, body: { items: items.map((a) => summaryView(a)) } };
      },
    }),
    route({
      method: 'GET', path: '/kb/articles/{id}', summary: 'One article with its Markdown and the rendered HTML', role: 'agent',
      params: ArticleIdParam, responses: { 200: ArticleOut, 404: ErrorBody },
      handle: async ({ params }) => {
        const a = await getArticle(db, params.id);
        if (!a) throw new HttpError(404, 'not_found', 'no such article');
        return { status: 200, body: articleView(a) };
      },
    }),
    route({
      method: 'PUT', path: '/kb/articles/{id}', summary: 'Create or replace an article (supervisor); published ones are searchable by customers at once', role: 'supervisor',
      params: ArticleIdParam, body: PutArticleBody, responses: { 200: ArticleOut, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const stored = await getArticle(db, params.id);
        const current = stored?.version ?? 0;
        if (body.version !== undefined && body.version !== current) throw new HttpError(409, 'conflict', `article ${params.id} changed (version ${current}, you sent ${body.version}); reload and apply your change again`);
        const record = {
          id: params.id, title: body.title, body: body.body, category: body.category ?? null, tags: [...new Set(body.tags ?? [])],
          language: body.language, status: body.status, updated_at: deps.clock.now(), updated_by: caller.sub,
        };
        if (!(await putArticle(db, record, current))) throw new HttpError(409, 'conflict', `article ${params.id} changed while saving; reload and apply your change again`);
        return { status: 200, body: articleView({ ...record, version: current + 1 }) };
      },
    }),
    route({
      method: 'DELETE', path: '/kb/articles/{id}', summary: 'Delete an article (supervisor), conditional on the version read', role: 'supervisor',
      params: ArticleIdParam, query: DeleteArticleQuery, responses: { 200: z.object({ id: z.string(), deleted: z.literal(true) }), 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, query }) => {
        const stored = await getArticle(db, params.id);
        if (!stored) throw new HttpError(404, 'not_found', 'no such article');
        if (stored.version !== query.version || !(await deleteArticle(db, params.id, query.version))) {
          throw new HttpError(409, 'conflict', `article ${params.id} changed (version ${stored.version}, you sent ${query.version}); reload and decide again`);
        }
        return { status: 200, body: { id: params.id, deleted: true } };
      },
    }),
    route({
      method: 'GET', path: '/kb/stats', summary: 'Knowledge-base KPIs (supervisor): deflection rate, article usefulness, searches without a good article (days `from`..`to`, default the last 30)', role: 'supervisor',
      query: KbStatsQuery, responses: { 200: KbStatsOut },
      handle: async ({ query }) => {
        const now = deps.clock.now();
        const to = query.to ?? new Date(now).toISOString().slice(0, 10);
        const from = query.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
        if (from > to) throw new HttpError(400, 'invalid', 'from is after to');
        const stats = await readKbStats(db);
        return { status: 200, body: { ...kbKpis(stats, { from, to }), article_usefulness: await articleUsefulnessOf(db, stats.articles) } };
      },
    }),
  ];
}
