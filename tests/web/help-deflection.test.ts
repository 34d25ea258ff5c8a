/**
 * Knowledge base in a real browser (issue 19): the help centre's search and article page, and the
 * widget's "Did this answer your question?" before a first message — "That solved it" opens no
 * ticket and counts a deflection; "I still need help" sends the question and the ticket opens.
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { screenshotPath } from './browser.js';
import { browserSuite, type Rt } from './suite.js';

const RU = { title: 'Сроки доставки заказа', body: 'Доставка по России занимает **3–5 дней**. <img src=x onerror=alert(1)> Трек-номер приходит в письме.', category: 'Доставка', tags: ['доставка'], language: 'ru', status: 'published' };
const PL = { title: 'Zwrot zamówienia', body: 'Zamówienie można zwrócić w ciągu **30 dni**.', category: 'Zwroty', tags: ['zwrot'], language: 'pl', status: 'published' };

describe('help centre and widget deflection', () => {
  let rt: Rt;
  let browser: Browser;
  let agent: string;
  let supervisor: string;

  browserSuite({}, { timeoutMs: 240_000 }, async (parts) => {
    ({ rt, browser } = parts);
    agent = await rt.api.token('ann', 'agent');
    supervisor = await rt.api.token('sue', 'supervisor');
    for (const [id, a] of [['ru-delivery', RU], ['pl-returns', PL]] as const) {
      const res = await fetch(`${rt.url}/api/v1/kb/articles/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` }, body: JSON.stringify(a) });
      expect(res.status).toBe(200);
    }
  });

  it('help centre: a Polish search in another inflection finds the article, which opens rendered and without markup from the source', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${rt.url}/help`);
    await page.getByLabel('Search the help centre').fill('jak zwrócić zamówieniu');
    await page.getByRole('button', { name: 'Search' }).click();
    const result = page.getByRole('link', { name: 'Zwrot zamówienia' });
    await expect.poll(() => result.count()).toBe(1);
    await result.click();
    await expect.poll(() => page.locator('article h2').textContent()).toBe('Zwrot zamówienia');
    expect(await page.locator('article strong').textContent()).toBe('30 dni');
    await page.goto(`${rt.url}/help?article=ru-delivery`);
    await expect.poll(() => page.locator('article .body').textContent()).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('article img').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('help-centre.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  const ask = async (question: string) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rt.url}/webchat/demo`);
    await page.getByRole('button', { name: /Chat with us/ }).click();
    await page.getByLabel('Your message').fill(question);
    await page.getByLabel('Your message').press('Enter');
    const card = page.getByRole('group', { name: 'Suggested articles' });
    await expect.poll(() => card.count()).toBe(1);
    expect(await card.getByRole('heading').textContent()).toBe('Did this answer your question?');
    expect(await card.getByRole('button', { name: 'Сроки доставки заказа' }).count()).toBe(1);
    return { page, card };
  };

  it('widget: the visitor reads the offered Russian article, "That solved it" → no ticket, a deflection counted', async () => {
    const { page, card } = await ask('Сколько идёт доставка заказа?');
    await card.getByRole('button', { name: 'Сроки доставки заказа' }).click();
    await expect.poll(() => card.locator('.article strong').textContent()).toBe('3–5 дней');
    await page.screenshot({ path: screenshotPath('widget-deflection.png') });
    await card.getByRole('button', { name: 'That solved it' }).click();
    await expect.poll(() => page.locator('.note').textContent()).toContain('Glad we could help');
    expect(await page.locator('.msg[data-direction="visitor"]').count()).toBe(0);
    await rt.settle();
    expect((await rt.api.get('/api/v1/tickets?channel=webchat', agent)).body.items).toEqual([]);
    await expect.poll(async () => (await rt.api.get('/api/v1/kb/stats', supervisor)).body).toMatchObject({ offers: 1, deflections: 1, escalations: 0 });
    await page.close();
  });

  it('widget: "I still need help" sends the question and the ticket opens with it', async () => {
    const { page, card } = await ask('Где моя доставка? Заказ не пришёл');
    await card.getByRole('button', { name: 'I still need help' }).click();
    const mine = page.locator('.msg[data-direction="visitor"]');
    await expect.poll(() => mine.textContent()).toContain('Где моя доставка?');
    await expect.poll(() => mine.locator('.meta').textContent()).not.toMatch(/Sending|Not sent/);
    await rt.settle();
    const tickets = (await rt.api.get('/api/v1/tickets?channel=webchat', agent)).body.items;
    expect(tickets).toHaveLength(1);
    const timeline = (await rt.api.get(`/api/v1/tickets/${tickets[0].id}/timeline`, agent)).body.items;
    expect(timeline.find((e: { direction?: string }) => e.direction === 'in').text).toBe('Где моя доставка? Заказ не пришёл');
    await expect.poll(async () => (await rt.api.get('/api/v1/kb/stats', supervisor)).body).toMatchObject({ offers: 2, deflections: 1, escalations: 1 });
    // Only the first message of a conversation is matched: the next goes out at once.
    await page.getByLabel('Your message').fill('Доставка всё ещё не пришла');
    await page.getByLabel('Your message').press('Enter');
    await expect.poll(() => mine.count()).toBe(2);
    expect(await page.getByRole('group', { name: 'Suggested articles' }).count()).toBe(0);
    await page.close();
  });
});
