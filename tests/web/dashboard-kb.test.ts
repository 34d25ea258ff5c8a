/**
 * The dashboard's self-service section in Chromium (issue 19 KPIs): a Telegram customer is offered
 * a published article and presses "That solved it", another asks what no article answers, a
 * help-centre visitor searches for nothing we have; the supervisor's dashboard then shows the same
 * figures as `GET /api/v1/kb/stats` — offers, deflections and the deflection rate, the Telegram
 * row, the search without a good article, the article's usefulness — with the article's title as
 * text, never markup.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TEST_SECRETS } from '../helpers/samples.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const TITLE = 'Returning an order <b>fast</b>';
const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TEST_SECRETS.TELEGRAM_SECRET_TOKEN! };

describe('dashboard: self-service (knowledge base)', () => {
  let rt: Rt;
  let page: Page;
  let update = 890_000_000;

  const writes = async (id: number, text: string) => {
    update += 1;
    const date = Math.floor(((await rt.api.get('/dev/clock')).body.epoch_ms as number) / 1000);
    const from = { id, is_bot: false, first_name: 'Test', language_code: 'en' };
    expect((await rt.api.webhook('telegram', { headers: TG, body: JSON.stringify({ update_id: update, message: { message_id: update % 1e6, from, chat: { id, type: 'private' }, date, text } }) })).status).toBe(200);
    await rt.settle();
  };
  const presses = async (id: number, data: string) => {
    update += 1;
    const date = Math.floor(((await rt.api.get('/dev/clock')).body.epoch_ms as number) / 1000);
    const body = { update_id: update, callback_query: { id: `88${update}`, from: { id, is_bot: false, first_name: 'Test' }, chat_instance: '-1', data,
      message: { message_id: 7000 + (update % 1000), from: { id: 7000000001, is_bot: true, first_name: 'Bot' }, chat: { id, type: 'private' }, date, text: 'offer' } } };
    expect((await rt.api.webhook('telegram', { headers: TG, body: JSON.stringify(body) })).status).toBe(200);
    await rt.settle();
  };

  browserSuite({ CONFLUO_KB_DEFLECTION: 'webchat,telegram', TELEGRAM_BOT_TOKEN: 'test-bot-token' }, { page: { viewport: { width: 1400, height: 1000 }, locale: 'en-GB' }, actionTimeoutMs: 10_000, timeoutMs: 120_000 }, async (parts) => {
    ({ rt, page } = parts);
    const supervisor = await rt.api.token('sue', 'supervisor');
    const put = await fetch(`${rt.url}/api/v1/kb/articles/en-returns`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` },
      body: JSON.stringify({ title: TITLE, body: 'You can return orders within 30 days. Returns are free.', category: 'Returns', tags: ['returns'], language: 'en', status: 'published' }) });
    expect(put.status).toBe(200);
    await writes(6200001, 'How can I return an order?');
    const agent = await rt.api.token('ann', 'agent');
    const held = (await rt.api.get('/api/v1/customers?identity=telegram:6200001', agent)).body.items[0].tickets[0];
    expect(held.status).toBe('held');
    await presses(6200001, `kb:solved:${held.id}`);
    expect((await fetch(`${rt.url}/help/search?q=${encodeURIComponent('warranty for scooters')}`)).status).toBe(200);
  });

  it('shows the same figures as GET /kb/stats: offers, deflections, rate, the Telegram row, the missed search and the article', async () => {
    await signIn(page, 'sue', { url: `${rt.url}/#dashboard`, role: 'supervisor' });
    const section = page.locator('section.kb-stats');
    await expect.poll(() => section.count(), { timeout: 30_000 }).toBe(1);

    const today = new Date((await rt.api.get('/dev/clock')).body.epoch_ms as number).toISOString().slice(0, 10);
    const stats = (await rt.api.get(`/api/v1/kb/stats?from=${today}&to=${today}`, await rt.api.token('sue', 'supervisor'))).body;
    expect(stats).toMatchObject({ offers: 1, deflections: 1, deflection_rate: 1 });
    for (const k of ['searches', 'offers', 'deflections', 'deflection_rate']) {
      const shown = await section.locator(`[data-kb="${k}"]`).getAttribute('data-value');
      expect(shown === '' ? null : Number(shown), k).toBe(stats[k]);
    }
    expect((await section.locator('[data-kb="deflection_rate"] strong').textContent())).toBe('100%');
    expect(await section.locator('[data-table="kb-channels"] tr[data-channel="telegram"] td').allTextContents()).toEqual(['1', '1', '0', '100%']);
    expect(await section.locator('[data-table="kb-missed"] tbody tr').count()).toBeGreaterThan(0);
    const article = section.locator('[data-table="kb-articles"] tr[data-article="en-returns"]');
    expect(await article.locator('th').textContent()).toBe(TITLE);
    expect(await article.locator('b').count()).toBe(0);
    expect(await article.locator('td').allTextContents()).toEqual(['1', '1', '0%', '0', '0']);
  });
});
