/**
 * Knowledge base: articles, the version counter that keeps search indexes in step, and the
 * counters of the KPIs (README "Knowledge base").
 *
 * | item            | pk          | sk                 | attributes                                              |
 * |-----------------|-------------|--------------------|---------------------------------------------------------|
 * | article         | KB#ARTICLES | <id>               | id, title, body (Markdown), category, tags, language, status, version, updated_at/by |
 * | index version   | KB#META     | VERSION            | n (+1 on every article write or delete)                 |
 * | article stats   | KB#STATS    | ARTICLE#<id>       | offered, solved, not_solved, views                      |
 * | day stats       | KB#STATS    | DAY#<yyyy-mm-dd>   | searches, offers, deflections, escalations              |
 * | missed search   | KB#STATS    | MISS#<terms>       | count, last_at (a search without a good article)        |
 * | channel stats   | KB#STATS    | CHANNEL#<channel>#<yyyy-mm-dd> | offers, deflections, escalations of a messenger's offers (store/deflection.ts) |
 *
 * Articles sit in one partition (one Query lists them; a knowledge base is hundreds to a few
 * thousand articles, well under a partition's limits). Every write is a transaction of the
 * article (conditional on the version read, like templates: a lost race is a 409) and `ADD n 1`
 * on the index version, so a search function that sees the same `n` as when it built its index
 * knows the index is current ({@link kbIndexFor}); nothing can change an article without moving `n`.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { KbIndex, type KbSearchable } from '../domain/kb/search.js';
import { commitOrConflict, type Db } from './db.js';

export const kbKeys = {
  articles: 'KB#ARTICLES',
  article: (id: string) => ({ pk: 'KB#ARTICLES', sk: id }),
  version: () => ({ pk: 'KB#META', sk: 'VERSION' }),
  stats: 'KB#STATS',
  articleStats: (id: string) => ({ pk: 'KB#STATS', sk: `ARTICLE#${id}` }),
  dayStats: (day: string) => ({ pk: 'KB#STATS', sk: `DAY#${day}` }),
  miss: (terms: string) => ({ pk: 'KB#STATS', sk: `MISS#${terms}` }),
} as const;

export const ARTICLE_STATUSES = ['draft', 'published'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/** An article as stored: what search indexes (functions/domain/kb/search.ts) plus its state and version. */
export interface ArticleRecord extends KbSearchable {
  readonly status: ArticleStatus;
  readonly version: number;
  readonly updated_at: number;
  readonly updated_by: string;
}

const strip = <T>(i: Record<string, unknown>): T => { const { pk: _p, sk: _s, ...rest } = i; return rest as T; };

/** 1 round trip. */
export async function getArticle(db: Db, id: string): Promise<ArticleRecord | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: kbKeys.article(id), ConsistentRead: true }));
  return res.Item ? strip<ArticleRecord>(res.Item) : undefined;
}

/** Every article (drafts too), by id; 1 round trip per 1 MB. */
export async function listArticles(db: Db): Promise<ArticleRecord[]> {
  const out: ArticleRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': kbKeys.articles }, ExclusiveStartKey: start }));
    out.push(...(res.Items ?? []).map((i) => strip<ArticleRecord>(i)));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

const bumpVersion = (db: Db) => ({ Update: { TableName: db.tableName, Key: kbKeys.version(), UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } });

/** Create or replace an article, conditional on `expectedVersion` (0 = must not exist). False on a lost race. */
export async function putArticle(db: Db, a: Omit<ArticleRecord, 'version'>, expectedVersion: number): Promise<boolean> {
  const res = await commitOrConflict(db, [
    {
      Put: {
        TableName: db.tableName, Item: { ...kbKeys.article(a.id), ...a, version: expectedVersion + 1 },
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
        ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
      },
    },
    bumpVersion(db),
  ]);
  return res === 'committed';
}

/** Delete an article, conditional on the version read. False on a lost race or when it is gone. */
export async function deleteArticle(db: Db, id: string, expectedVersion: number): Promise<boolean> {
  const res = await commitOrConflict(db, [
    { Delete: { TableName: db.tableName, Key: kbKeys.article(id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } } },
    bumpVersion(db),
  ]);
  return res === 'committed';
}

/** The knowledge base's version counter (0: never written). Eventually consistent: a search may lag a write by a second. */
export async function kbVersion(db: Db): Promise<number> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: kbKeys.version(), ProjectionExpression: 'n' }));
  return (res.Item?.n as number | undefined) ?? 0;
}

/**
 * The search index of the published articles, cached per warm function instance and rebuilt when
 * the version counter moved: 1 GetItem per search while nothing changed, plus one Query of the
 * articles after a write.
 */
export function makeKbIndexCache() {
  let cached: { n: number; index: Promise<{ index: KbIndex; articles: Map<string, ArticleRecord> }> } | undefined;
  return async (db: Db) => {
    const n = await kbVersion(db);
    if (!cached || cached.n !== n) {
      const building = listArticles(db).then((all) => {
        const published = all.filter((a) => a.status === 'published');
        return { index: KbIndex.build(published), articles: new Map(published.map((a) => [a.id, a])) };
      });
      cached = { n, index: building };
      building.catch(() => { if (cached?.index === building) cached = undefined; });
    }
    return cached.index;
  };
}

// ---- KPIs -------------------------------------------------------------------------------------

export type KbOutcome = 'offered' | 'solved' | 'not_solved';

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** Count one event on an article and on the day (`solved` is a deflection, `not_solved` an escalation). */
export async function countArticleOutcome(db: Db, args: { articleId: string; outcome: KbOutcome; at: number }): Promise<void> {
  const dayField = args.outcome === 'offered' ? 'offers' : args.outcome === 'solved' ? 'deflections' : 'escalations';
  await Promise.all([
    db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: kbKeys.articleStats(args.articleId), UpdateExpression: 'ADD #f :one SET article_id = :id', ExpressionAttributeNames: { '#f': args.outcome }, ExpressionAttributeValues: { ':one': 1, ':id': args.articleId } })),
    db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: kbKeys.dayStats(dayOf(args.at)), UpdateExpression: 'ADD #f :one', ExpressionAttributeNames: { '#f': dayField }, ExpressionAttributeValues: { ':one': 1 } })),
  ]);
}

/**
 * Count a search: every search on the day, and a search without a good article under its terms
 * (what to write next). `terms` are the stemmed meaningful words — never the raw text — with
 * anything holding a digit or an `@` already removed by the caller (no order numbers, phones or e-mails).
 */
export async function countSearch(db: Db, args: { terms: string | null; at: number }): Promise<void> {
  const writes = [db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: kbKeys.dayStats(dayOf(args.at)), UpdateExpression: 'ADD searches :one', ExpressionAttributeValues: { ':one': 1 } }))];
  if (args.terms) {
    writes.push(db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: kbKeys.miss(args.terms), UpdateExpression: 'ADD #c :one SET last_at = :at, terms = :t', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':one': 1, ':at': args.at, ':t': args.terms } })));
  }
  await Promise.all(writes);
}

export interface KbStats {
  readonly days: { day: string; searches: number; offers: number; deflections: number; escalations: number }[];
  readonly articles: { article_id: string; offered: number; solved: number; not_solved: number }[];
  readonly misses: { terms: string; count: number; last_at: number }[];
  /** Offers on messengers and their answers, per channel and day (store/deflection.ts). */
  readonly channels?: { channel: string; day: string; offers: number; deflections: number; escalations: number }[];
}

/** Every KPI counter (one partition; small: one item per day, article and missed search). */
export async function readKbStats(db: Db): Promise<KbStats> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': kbKeys.stats }, ExclusiveStartKey: start }));
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const out: KbStats & { channels: NonNullable<KbStats['channels']> } = { days: [], articles: [], misses: [], channels: [] };
  for (const i of items) {
    const sk = i.sk as string;
    if (sk.startsWith('DAY#')) out.days.push({ day: sk.slice(4), searches: num(i.searches), offers: num(i.offers), deflections: num(i.deflections), escalations: num(i.escalations) });
    else if (sk.startsWith('ARTICLE#')) out.articles.push({ article_id: sk.slice(8), offered: num(i.offered), solved: num(i.solved), not_solved: num(i.not_solved) });
    else if (sk.startsWith('CHANNEL#')) out.channels.push({ channel: String(i.channel), day: String(i.day), offers: num(i.offers), deflections: num(i.deflections), escalations: num(i.escalations) });
    else if (sk.startsWith('MISS#')) out.misses.push({ terms: String(i.terms ?? sk.slice(5)), count: num(i.count), last_at: num(i.last_at) });
  }
  return out;
}
