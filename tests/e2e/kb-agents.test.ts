/**
 * Agents and the knowledge base end to end over HTTP on the local runtime (README "Knowledge base":
 * agents): a reply that links an article's help-centre page counts for that article with the reply
 * (the link goes out to the platform as written); a resolution is credited to the article that
 * solved it — once, on the timeline, refused for an unknown article or an unresolved ticket — and
 * `GET /kb/stats` reports each article's usefulness next to the customers' self-service counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { devControls, testRuntime, type ApiClient } from '../helpers/runtime.js';

const RETURNS = { title: 'Returning an order', body: 'You can return orders within **30 days**:\n\n- fill in [the form](https://shop.example/returns)\n- send the parcel back\n\nSee [our policy](/policy).', category: 'Returns', tags: ['returns'], language: 'en', status: 'published' };
const DELIVERY = { title: 'Delivery times', body: 'Parcels arrive in 3–5 days.', language: 'en', status: 'published' };

describe('knowledge base for agents', () => {
  let rt: Runtime & { api: ApiClient };
  let agent: string;
  let supervisor: string;
  let n = 0;
  const dev = () => devControls(rt.api, (s) => expect(s).toBe(200));
  const call = async (method: string, path: string, body: unknown, token = agent) => {
    const res = await fetch(`${rt.url}/api/v1${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const conversation = async (): Promise<string> => {
    const from = String(59140000 + ++n);
    expect((await rt.api.webhook('telegram', customerWrites('telegram', from, 'How do I return my order?', rt.clock.now()))).status).toBe(200);
    await dev().settle();
    return (await rt.api.get(`/api/v1/customers?identity=telegram:${from}`, agent)).body.items[0].tickets[0].id;
  };
  const usefulness = async () => (await rt.api.get('/api/v1/kb/stats', supervisor)).body.article_usefulness as Array<Record<string, unknown>>;
  const timeline = async (ticketId: string) => (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, agent)).body.items as Array<Record<string, any>>;
  const link = (ticketId: string, articleId: string) => call('PUT', `/tickets/${ticketId}/resolution-article`, { article_id: articleId });

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off', CONFLUO_SURVEY: 'off' });
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
    expect((await call('PUT', '/kb/articles/en-returns', RETURNS, supervisor)).status).toBe(200);
    expect((await call('PUT', '/kb/articles/en-delivery', DELIVERY, supervisor)).status).toBe(200);
  });
  afterAll(async () => { await rt?.stop(); });

  it('gives agents an article as messenger text: bullets, links spelled out, no markup', async () => {
    const a = (await rt.api.get('/api/v1/kb/articles/en-returns', agent)).body;
    expect(a.text).toBe('You can return orders within 30 days:\n\n• fill in the form (https://shop.example/returns)\n• send the parcel back\n\nSee our policy.');
  });

  it('counts a reply\'s help-centre link for its article, with the reply; ids of no article and notes count nothing', async () => {
    const ticketId = await conversation();
    const text = `Here is how: ${rt.url}/help?article=en-returns. Also ${rt.url}/help?article=no-such-article`;
    const res = await call('POST', `/tickets/${ticketId}/replies`, { text });
    expect(res.status).toBe(202);
    await dev().settle();
    const out = await dev().outbox(ticketId, 'reply');
    expect(out).toHaveLength(1);
    expect(out[0]!.request.body).toContain(`/help?article=en-returns`);
    expect(await usefulness()).toEqual([expect.objectContaining({ article_id: 'en-returns', title: 'Returning an order', linked_in_replies: 1, resolutions: 0 })]);
    // An agent's note is not a reply to the customer: not counted.
    expect((await call('POST', `/tickets/${ticketId}/notes`, { text: `see ${rt.url}/help?article=en-returns` })).status).toBe(201);
    expect((await usefulness())[0]).toMatchObject({ linked_in_replies: 1 });
  });

  it('does not count a failed reply sent again as a second link', async () => {
    const ticketId = await conversation();
    expect((await rt.api.post('/dev/simulator', { channel: 'telegram', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } })).status).toBe(200);
    const first = await call('POST', `/tickets/${ticketId}/replies`, { text: `See ${rt.url}/help?article=en-delivery` });
    expect(first.status).toBe(202);
    await dev().settle();
    expect((await usefulness()).find((a) => a.article_id === 'en-delivery')).toMatchObject({ linked_in_replies: 1 });
    const again = await call('POST', `/tickets/${ticketId}/messages/${first.body.id}/retry`, {});
    expect(again.status).toBe(202);
    await dev().settle();
    expect((await dev().outbox(ticketId, 'reply')).map((o) => o.request.body).filter((b) => b?.includes('article=en-delivery'))).toHaveLength(2);
    expect((await usefulness()).find((a) => a.article_id === 'en-delivery')).toMatchObject({ linked_in_replies: 1 });
  });

  it('credits a resolution to an article once, on the timeline; refuses an unknown article or an unresolved ticket', async () => {
    const ticketId = await conversation();
    const cursor = (await rt.api.get('/api/v1/events', agent)).body.next_cursor as string;
    expect(await link(ticketId, 'en-returns')).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await call('PATCH', `/tickets/${ticketId}`, { status: 'resolved' })).status).toBe(200);
    const before = (await timeline(ticketId)).length;
    expect(await link(ticketId, 'no-such-article')).toMatchObject({ status: 422, body: { error: { code: 'invalid' } } });
    expect(await timeline(ticketId)).toHaveLength(before);

    // Two agents at once: one credit.
    const both = await Promise.all([link(ticketId, 'en-returns'), link(ticketId, 'en-returns')]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(both.map((r) => r.body.changed).sort()).toEqual([false, true]);
    const events = (await timeline(ticketId)).filter((e) => e.type === 'event' && e.event === 'ticket.resolution_article');
    expect(events).toEqual([expect.objectContaining({ data: expect.objectContaining({ article_id: 'en-returns', title: 'Returning an order', actor: 'ann' }) })]);
    expect((await usefulness()).find((a) => a.article_id === 'en-returns')).toMatchObject({ resolutions: 1 });
    const ticket = async () => (await rt.api.get(`/api/v1/tickets/${ticketId}`, agent)).body;
    expect(await ticket()).toMatchObject({ status: 'resolved', resolution_article_id: 'en-returns' });

    // Another article in the same resolution takes the credit over.
    expect(await link(ticketId, 'en-delivery')).toMatchObject({ status: 200, body: { previous_article_id: 'en-returns', changed: true } });
    const rows = await usefulness();
    expect(rows.find((a) => a.article_id === 'en-returns')).toMatchObject({ resolutions: 0 });
    expect(rows.find((a) => a.article_id === 'en-delivery')).toMatchObject({ resolutions: 1 });

    // Reopened and resolved again: a new resolution earns its own credit.
    expect((await call('PATCH', `/tickets/${ticketId}`, { status: 'open' })).status).toBe(200);
    expect(await ticket()).toMatchObject({ status: 'open', resolution_article_id: null });
    expect(await link(ticketId, 'en-delivery')).toMatchObject({ status: 409 });
    expect((await call('PATCH', `/tickets/${ticketId}`, { status: 'resolved' })).status).toBe(200);
    expect(await link(ticketId, 'en-delivery')).toMatchObject({ status: 200, body: { previous_article_id: null, changed: true } });
    expect((await usefulness()).find((a) => a.article_id === 'en-delivery')).toMatchObject({ resolutions: 2 });
    expect(await ticket()).toMatchObject({ resolution_article_id: 'en-delivery' });
    // The feed says it with ids only (no title).
    const feed = (await rt.api.get(`/api/v1/events?since=${encodeURIComponent(cursor)}`, agent)).body.items as Array<Record<string, any>>;
    const credits = feed.filter((e) => e.type === 'ticket.resolution_article');
    expect(credits.map((e) => e.data.article_id)).toEqual(['en-returns', 'en-delivery', 'en-delivery']);
    expect(credits[1]!.data.previous_article_id).toBe('en-returns');
    expect(JSON.stringify(credits)).not.toContain('Returning an order');
  });

  it('joins self-service answers and agents\' use per article in /kb/stats', async () => {
    for (const outcome of ['offered', 'solved', 'offered', 'not_solved', 'offered', 'not_solved']) {
      expect((await fetch(`${rt.url}/help/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ article_id: 'en-returns', outcome }) })).status).toBe(204);
    }
    const row = (await usefulness()).find((a) => a.article_id === 'en-returns');
    expect(row).toEqual({ article_id: 'en-returns', title: 'Returning an order', offered: 3, solved: 1, still_need_help: 2, still_need_help_rate: 2 / 3, linked_in_replies: 1, resolutions: 0 });
    expect((await rt.api.get('/api/v1/kb/stats', agent)).status).toBe(403);
  });

  it('documents the route in the OpenAPI document', async () => {
    const doc = (await rt.api.get('/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/tickets/{id}/resolution-article'].put['x-confluo-role']).toBe('agent');
    expect(JSON.stringify(doc.components.schemas.KbStats)).toContain('article_usefulness');
  });
});
