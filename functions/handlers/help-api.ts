/**
 * Help API λ: the public, read-only face of the knowledge base (README "Knowledge base"), on the
 * webhook HTTP API (lib/help-api.ts; locally through local/http-api.ts like every route).
 *
 * - `GET /help/search?q=&language=&channel=` → the best published articles
 *   `{items: [{id, title, language, category, snippet, confidence}], offer: [ids]}`; `offer`
 *   names those above CONFLUO_KB_CONFIDENCE when `channel` offers articles (CONFLUO_KB_DEFLECTION)
 *   — what the widget shows before sending. Every search is counted; one whose best article is
 *   below the threshold is kept as a missed search (stemmed words only: functions/domain/kb/article.ts).
 * - `GET /help/articles/{id}` → one published article with its body rendered as safe HTML
 *   (drafts and unknown ids: 404).
 * - `POST /help/feedback` `{article_id, outcome: offered|solved|not_solved}` → 204: the widget's
 *   "Did this answer your question?" (solved is a deflection). Anyone can post it (the visitor
 *   has no account), so these counters are indicative; the stage throttles the route.
 *
 * No authentication, no personal data in or out; answers may be cached by browsers for a minute.
 * The index is the published articles, built per warm instance and rebuilt when the knowledge
 * base's version counter moves (functions/store/kb.ts `makeKbIndexCache`).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import type { Clock } from '../domain/clock.js';
import { missTerms, publicArticleView } from '../domain/kb/article.js';
import { deflectionSettingsFrom, offerable, type DeflectionSettings } from '../domain/kb/deflection.js';
import { guessLanguage, KB_LANGUAGES, termsOf } from '../domain/kb/stemming.js';
import { lambdaHandler } from '../runtime/aws-edge.js';
import { jsonResponse, rawBody } from '../runtime/http.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { countArticleOutcome, countSearch, getArticle, makeKbIndexCache } from '../store/kb.js';

export interface HelpApiDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly deflection: DeflectionSettings;
  readonly logger?: Pick<typeof defaultLogger, 'warn' | 'error'>;
}

const SearchQuery = z.strictObject({
  q: z.string().check(z.minLength(1), z.maxLength(300)),
  language: z.optional(z.enum(KB_LANGUAGES)),
  channel: z.optional(z.string().check(z.regex(/^[a-z]{2,20}$/))),
  limit: z._default(z.pipe(z.coerce.number(), z.int().check(z.gte(1), z.lte(10))), 5),
});
const Feedback = z.strictObject({
  article_id: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)),
  outcome: z.enum(['offered', 'solved', 'not_solved']),
});
const ARTICLE_PATH = /^\/help\/articles\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/;

export function makeHelpApi(deps: HelpApiDeps) {
  const log = deps.logger ?? defaultLogger;
  const indexOf = makeKbIndexCache();
  // Public, read-only content: any site may embed the search (the widget runs on the shop's pages).
  const cors = { 'access-control-allow-origin': '*' };
  const out = (status: number, body: unknown, cache = 'no-store') => jsonResponse(status, body, { ...cors, 'cache-control': cache });
  const fail = (status: number, code: string, message: string) => out(status, { error: { code, message } });

  return async function helpApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const path = event.rawPath.replace(/\/+$/, '');
    const method = event.requestContext.http.method.toUpperCase();
    try {
      if (method === 'OPTIONS') {
        return { statusCode: 204, headers: { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'Content-Type', 'access-control-max-age': '600' } };
      }
      if (path === '/help/search' && method === 'GET') {
        const q = SearchQuery.safeParse(event.queryStringParameters ?? {});
        if (!q.success) return fail(400, 'invalid', 'expected q (1–300 characters), optional language en|ru|pl, channel and limit ≤ 10');
        const language = q.data.language ?? guessLanguage(q.data.q);
        const { index } = await indexOf(deps.db);
        const hits = index.search(q.data.q, { language, limit: q.data.limit });
        const good = offerable(hits, deps.deflection);
        const now = deps.clock.now();
        await countSearch(deps.db, { terms: good.length === 0 ? missTerms(termsOf(q.data.q, language)) : null, at: now })
          .catch((e: unknown) => log.warn('kb search counter failed', errorFacts(e)));
        const offers = q.data.channel && deps.deflection.channels.has(q.data.channel) ? good.map((h) => h.id) : [];
        return out(200, {
          language,
          items: hits.map((h) => ({ id: h.id, title: h.title, language: h.language, category: h.category, snippet: h.snippet, confidence: Math.round(h.confidence * 100) / 100 })),
          offer: offers,
        });
      }
      const m = ARTICLE_PATH.exec(path);
      if (m && method === 'GET') {
        const a = await getArticle(deps.db, m[1]!);
        if (!a || a.status !== 'published') return fail(404, 'not_found', 'no such article');
        return out(200, publicArticleView(a), 'public, max-age=60');
      }
      if (path === '/help/feedback' && method === 'POST') {
        let body: unknown;
        try { body = JSON.parse(rawBody(event).toString('utf8')); } catch { body = undefined; }
        const f = Feedback.safeParse(body);
        if (!f.success) return fail(400, 'invalid', 'expected {article_id, outcome: offered|solved|not_solved}');
        const a = await getArticle(deps.db, f.data.article_id);
        if (!a || a.status !== 'published') return fail(404, 'not_found', 'no such article');
        await countArticleOutcome(deps.db, { articleId: a.id, outcome: f.data.outcome, at: deps.clock.now() });
        return { statusCode: 204, headers: { ...cors, 'cache-control': 'no-store' } };
      }
      if (path === '/help/search' || path === '/help/feedback' || m) return fail(405, 'method_not_allowed', 'method not allowed');
      return fail(404, 'not_found', 'no such route');
    } catch (e) {
      log.error('help api failed', { path, ...errorFacts(e) });
      return fail(500, 'internal', 'internal error');
    }
  };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeHelpApi({ db: platform.db(config), clock: platform.clock, deflection: deflectionSettingsFrom(config) });
});
