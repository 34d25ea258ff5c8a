/**
 * Knowledge base end to end over HTTP against the local runtime (README "Knowledge base"): the
 * Agent API's versioned article writes (supervisors) and reads (agents), the public help API's
 * stemmed search in Russian and Polish, safe rendering, drafts hidden, the index following
 * writes and deletes, and the KPI counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const ARTICLES = {
  'ru-delivery': { title: 'Сроки доставки заказа', body: 'Доставка по России занимает **3–5 дней**. Трек-номер приходит в письме.', category: 'Доставка', tags: ['доставка', 'посылка'], language: 'ru', status: 'published' },
  'pl-returns': { title: 'Zwrot zamówienia', body: 'Zamówienie można zwrócić w ciągu 30 dni. Zwroty są bezpłatne.', category: 'Zwroty', tags: ['zwrot'], language: 'pl', status: 'published' },
  'en-returns': { title: 'Returning an order', body: 'You can return orders within 30 days. <script>alert(1)</script> [Form](javascript:alert(1)) [Policy](https://shop.example/returns)', category: 'Returns', tags: ['returns'], language: 'en', status: 'published' },
  'en-secret': { title: 'Internal: refund fraud checklist', body: 'Draft for agents only.', language: 'en', status: 'draft' },
} as const;

describe('knowledge base', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  const put = async (id: string, body: unknown, token = supervisor) => {
    const res = await fetch(`${rt.url}/api/v1/kb/articles/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const search = async (q: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${rt.url}/help/search?${new URLSearchParams({ q, ...extra })}`);
    return { status: res.status, body: await res.json() as any, headers: res.headers };
  };

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_KB_DEFLECTION: 'webchat,telegram' });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
    for (const [id, a] of Object.entries(ARTICLES)) expect((await put(id, a)).status).toBe(200);
  });
  afterAll(async () => { await rt?.stop(); });

  it('lets supervisors write articles and agents only read them; a stale version is a 409', async () => {
    expect((await put('en-x', { title: 'x', body: 'y', language: 'en', status: 'draft' }, agent)).status).toBe(403);
    const read = await rt.api.get('/api/v1/kb/articles/pl-returns', agent);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: 'pl-returns', version: 1, status: 'published', language: 'pl', updated_by: 'sue' });
    const stale = await put('pl-returns', { ...ARTICLES['pl-returns'], version: 0 });
    expect(stale.status).toBe(409);
    const next = await put('pl-returns', { ...ARTICLES['pl-returns'], tags: ['zwrot', 'zwroty'], version: 1 });
    expect(next.body).toMatchObject({ version: 2, tags: ['zwrot', 'zwroty'] });
    const list = await rt.api.get('/api/v1/kb/articles?status=draft', agent);
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual(['en-secret']);
  });

  it('finds the Russian article for a question in another inflection, publicly and without a token', async () => {
    const res = await search('Сколько идёт доставка моего заказа?');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.body.language).toBe('ru');
    expect(res.body.items[0]).toMatchObject({ id: 'ru-delivery', language: 'ru' });
    expect(res.body.items[0].confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('finds the Polish article for a Polish query with a different inflection', async () => {
    const res = await search('jak zwrócić zamówieniu', { language: 'pl' });
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(['pl-returns']);
  });

  it('offers articles only to channels with deflection on', async () => {
    expect((await search('zwrot zamówienia', { channel: 'webchat' })).body.offer).toEqual(['pl-returns']);
    expect((await search('zwrot zamówienia', { channel: 'email' })).body.offer).toEqual([]);
  });

  it('never shows drafts to customers, and renders bodies without scripts or unsafe links', async () => {
    expect((await search('refund fraud checklist', { language: 'en' })).body.items).toEqual([]);
    expect((await fetch(`${rt.url}/help/articles/en-secret`)).status).toBe(404);
    const page = await (await fetch(`${rt.url}/help/articles/en-returns`)).json() as { html: string };
    expect(page.html).not.toContain('<script');
    expect(page.html).toContain('&lt;script&gt;');
    expect(page.html).not.toContain('href="javascript:');
    expect(page.html).toContain('<a href="https://shop.example/returns" rel="noopener noreferrer nofollow">Policy</a>');
  });

  it('keeps the search in step with writes: a draft leaves it, a deleted article is gone', async () => {
    const v = (await rt.api.get('/api/v1/kb/articles/en-returns', agent)).body.version;
    expect((await put('en-returns', { ...ARTICLES['en-returns'], status: 'draft', version: v })).status).toBe(200);
    expect((await search('return my order', { language: 'en' })).body.items).toEqual([]);
    expect((await put('en-returns', { ...ARTICLES['en-returns'], status: 'published', version: v + 1 })).status).toBe(200);
    expect((await search('return my order', { language: 'en' })).body.items[0].id).toBe('en-returns');
    const del = await fetch(`${rt.url}/api/v1/kb/articles/en-returns?version=${v + 2}`, { method: 'DELETE', headers: { authorization: `Bearer ${supervisor}` } });
    expect(del.status).toBe(200);
    expect((await search('return my order', { language: 'en' })).body.items).toEqual([]);
    expect((await rt.api.get('/api/v1/kb/articles/en-returns', agent)).status).toBe(404);
  });

  it('agents search the published articles from the Agent API', async () => {
    const res = await rt.api.get(`/api/v1/kb/articles?${new URLSearchParams({ q: 'доставку', language: 'ru' })}`, agent);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(['ru-delivery']);
  });

  it('counts deflections, usefulness and searches without a good article (no digits kept)', async () => {
    await search('gift wrapping for order 51050', { language: 'en' });
    await search('gift wrapping', { language: 'en' });
    await search('Gift wrapping?', { language: 'en' });
    for (const outcome of ['offered', 'solved', 'offered', 'not_solved', 'offered', 'solved']) {
      const res = await fetch(`${rt.url}/help/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ article_id: 'ru-delivery', outcome }) });
      expect(res.status).toBe(204);
    }
    expect((await fetch(`${rt.url}/help/feedback`, { method: 'POST', body: JSON.stringify({ article_id: 'en-secret', outcome: 'solved' }) })).status).toBe(404);
    expect((await rt.api.get('/api/v1/kb/stats', agent)).status).toBe(403);
    const stats = (await rt.api.get('/api/v1/kb/stats', supervisor)).body;
    expect(stats).toMatchObject({ offers: 3, deflections: 2, escalations: 1 });
    expect(stats.deflection_rate).toBeCloseTo(2 / 3);
    expect(stats.articles).toEqual([{ article_id: 'ru-delivery', offered: 3, solved: 2, not_solved: 1, usefulness: 2 / 3 }]);
    expect(stats.missed_searches).toContainEqual(expect.objectContaining({ terms: 'gift wrap', count: 2 }));
    // The order number is not kept: only the stemmed words.
    expect(stats.missed_searches).toContainEqual(expect.objectContaining({ terms: 'gift order wrap', count: 1 }));
    // Searched while the English article was a draft or deleted: asked, nothing to offer.
    expect(stats.missed_searches).toContainEqual(expect.objectContaining({ terms: 'order return' }));
    expect(JSON.stringify(stats)).not.toContain('51050');
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await rt.api.get('/api/v1/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/kb/articles', '/api/v1/kb/articles/{id}', '/api/v1/kb/stats']));
    expect(doc.paths['/api/v1/kb/articles/{id}'].put['x-confluo-role']).toBe('supervisor');
  });
});
