/**
 * Full-text search over the published articles (README "Knowledge base": search).
 *
 * DynamoDB is not a search engine, and a knowledge base is small (hundreds to a few thousand
 * articles), so the index is built in memory by the function that searches, from the published
 * articles, with MiniSearch (https://lucaong.github.io/minisearch/) — one index per language,
 * each with its own stemmer and stop words (./stemming.ts). The function keeps it per warm
 * instance and rebuilds it when the knowledge base's version counter changes
 * (functions/store/kb.ts `kbIndexFor`). Build and search times for 2,000 articles: `npm run
 * bench -- kb` (bench/kb.ts).
 *
 * A hit's `confidence` is the share of the question's meaningful terms the article contains
 * (0–1; fuzzy and prefix matches count), independent of the article count — the score that
 * deflection thresholds compare with. `score` is MiniSearch's BM25 relevance, for ordering.
 */
import MiniSearch from 'minisearch';
import { snippetOf, plainText } from './plain-text.js';
import { KB_LANGUAGES, termOf, termsOf, words, type KbLanguage } from './stemming.js';

export interface KbSearchable {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly category: string | null;
  readonly tags: readonly string[];
  readonly language: KbLanguage;
}

export interface KbHit {
  readonly id: string;
  readonly title: string;
  readonly language: KbLanguage;
  readonly category: string | null;
  readonly snippet: string;
  readonly score: number;
  readonly confidence: number;
}

interface Doc { id: string; title: string; text: string; tags: string; category: string }

const fuzzy = (term: string) => (term.length >= 6 ? 0.2 : term.length >= 4 ? 1 / term.length : false);

export class KbIndex {
  private readonly byLanguage = new Map<KbLanguage, MiniSearch<Doc>>();
  private readonly articles = new Map<string, KbSearchable>();

  private constructor() {}

  static build(articles: Iterable<KbSearchable>): KbIndex {
    const index = new KbIndex();
    const docs = new Map<KbLanguage, Doc[]>();
    for (const a of articles) {
      index.articles.set(a.id, a);
      (docs.get(a.language) ?? docs.set(a.language, []).get(a.language)!).push({
        id: a.id, title: a.title, text: plainText(a.body), tags: a.tags.join(' '), category: a.category ?? '',
      });
    }
    for (const language of KB_LANGUAGES) {
      const ms = new MiniSearch<Doc>({
        fields: ['title', 'text', 'tags', 'category'],
        tokenize: words,
        processTerm: (term) => termOf(term, language),
      });
      ms.addAll(docs.get(language) ?? []);
      index.byLanguage.set(language, ms);
    }
    return index;
  }

  get size(): number { return this.articles.size; }

  /** The best `limit` articles for `query`, in `language` (or every language when absent). */
  search(query: string, opts: { language?: KbLanguage | undefined; limit?: number } = {}): KbHit[] {
    const limit = opts.limit ?? 5;
    const languages = opts.language ? [opts.language] : [...KB_LANGUAGES];
    const hits: KbHit[] = [];
    for (const language of languages) {
      const meaningful = new Set(termsOf(query, language));
      if (meaningful.size === 0) continue;
      const ms = this.byLanguage.get(language)!;
      const results = ms.search(query, {
        boost: { title: 3, tags: 2, category: 1.5 },
        fuzzy, prefix: (term) => term.length >= 4, combineWith: 'OR',
      });
      for (const r of results.slice(0, limit)) {
        const a = this.articles.get(r.id as string)!;
        const matched = new Set(r.queryTerms).size;
        hits.push({
          id: a.id, title: a.title, language: a.language, category: a.category, snippet: snippetOf(a.body),
          score: r.score, confidence: Math.min(1, matched / meaningful.size),
        });
      }
    }
    return hits.sort((x, y) => y.confidence - x.confidence || y.score - x.score).slice(0, limit);
  }
}
