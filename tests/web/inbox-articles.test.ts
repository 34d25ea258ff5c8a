/**
 * The reply box's knowledge-base search in a real browser (issue 19): a supervisor publishes an
 * article through the Agent API; an agent opens a Telegram ticket, searches from the reply box
 * (keyboard only), inserts the article's text and then its help-centre link at the cursor, sends —
 * the platform request carries the link, and the link opens the article in the help centre.
 * Resolving credits the resolution to the linked article: the timeline says so and `/kb/stats`
 * counts the link and the resolution. Drafts are never offered; a title is shown as text, never
 * as markup; the search works at phone width.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadSamples } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const TITLE = 'Returning an order <img src=x onerror=alert(1)>';
const RETURNS = { title: TITLE, body: 'You can return orders within **30 days**:\n\n- fill in [the form](https://shop.example/returns)\n- send the parcel back', category: 'Returns', tags: ['returns'], language: 'en', status: 'published' };
const DRAFT = { title: 'Returning an order: internal fraud checklist', body: 'Agents only.', language: 'en', status: 'draft' };

describe('inbox: articles in the reply box', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;
  let supervisor: string;

  browserSuite({ CONFLUO_AUTO_ACK: 'off', CONFLUO_SURVEY: 'off' }, { timeoutMs: 240_000, page: { viewport: { width: 1280, height: 800 } }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, browser, page } = parts);
    supervisor = await rt.api.token('sue', 'supervisor');
    for (const [id, a] of [['en-returns', RETURNS], ['en-fraud', DRAFT]] as const) {
      const res = await fetch(`${rt.url}/api/v1/kb/articles/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${supervisor}` }, body: JSON.stringify(a) });
      expect(res.status).toBe(200);
    }
    const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
    expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
    await rt.settle();
  });

  it('searches published articles from the reply box, inserts text and a link at the cursor, sends the link; resolving credits the article', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); void d.dismiss(); });
    await signIn(page, 'ann', { url: rt.url });
    const rows = page.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().click();
    const ticketId = (await rows.first().getAttribute('data-ticket'))!;

    // keyboard only: the Articles button opens the search and focuses it
    const toggle = page.getByRole('button', { name: 'Articles' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const search = page.getByLabel('Search articles');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('kb-q');
    await page.keyboard.type('how to return my orders');
    const results = page.getByRole('list', { name: 'Articles found' });
    await expect.poll(() => results.locator('li').count()).toBe(1); // the draft is not offered
    const hit = results.locator('li').first();
    expect(await hit.getAttribute('data-article')).toBe('en-returns');
    expect(await hit.locator('.kb-title').textContent()).toBe(TITLE); // as text, not markup
    expect(await hit.locator('img').count()).toBe(0);
    expect(await hit.locator('.kb-snippet').textContent()).toContain('30 days');
    expect(await page.getByRole('status').filter({ hasText: '1 article' }).count()).toBe(1);

    // the article's text, as a messenger reads it
    await page.getByRole('button', { name: `Insert text of ${TITLE}` }).click();
    const box = page.getByLabel('Reply text');
    await expect.poll(() => box.inputValue()).toBe('You can return orders within 30 days:\n\n• fill in the form (https://shop.example/returns)\n• send the parcel back');

    // the link, at the cursor: between what the agent wrote before and after it
    await box.fill('Here is how: Thanks!');
    await page.evaluate(`document.getElementById('composer-text').setSelectionRange(${'Here is how:'.length}, ${'Here is how:'.length})`);
    await page.getByRole('button', { name: `Insert link to ${TITLE}` }).click();
    const link = `${rt.url}/help.html?article=en-returns`;
    await expect.poll(() => box.inputValue()).toBe(`Here is how: ${link} Thanks!`);
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('composer-text');

    // Escape closes the search and gives focus back to its button
    await search.focus();
    await page.keyboard.press('Escape');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.className')).toBe('kb-toggle');

    await page.getByRole('button', { name: 'Send reply' }).click();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await expect.poll(() => timeline.locator('[data-direction="out"]', { hasText: 'Here is how' }).count()).toBe(1);
    await rt.settle();
    const outbox = (await (await fetch(`${rt.url}/dev/outbox`)).json()) as { items: Array<{ channel: string; kind: string; ticket_id: string; request: { body: string } }> };
    const sent = outbox.items.filter((i) => i.channel === 'telegram' && i.kind === 'reply' && i.ticket_id === ticketId);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.request.body).text).toBe(`Here is how: ${link} Thanks!`);

    // resolving offers to credit the linked article, ticked
    const credit = page.getByLabel(`Credit the resolution to “${TITLE}”`);
    expect(await credit.isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => page.locator('.ticket-head [data-status]').getAttribute('data-status')).toBe('resolved');
    const credited = timeline.locator('[data-event="ticket.resolution_article"]');
    await expect.poll(() => credited.textContent()).toContain(`Resolved with article “${TITLE}”`);
    expect(await credited.getAttribute('data-article')).toBe('en-returns');
    await page.screenshot({ path: screenshotPath('inbox-articles.png') });

    const stats = (await rt.api.get('/api/v1/kb/stats', supervisor)).body;
    expect(stats.article_usefulness).toEqual([expect.objectContaining({ article_id: 'en-returns', linked_in_replies: 1, resolutions: 1 })]);

    // the link the customer got opens the article in the help centre
    const customer = await browser.newPage();
    await customer.goto(link);
    await expect.poll(() => customer.locator('article h2').textContent()).toBe(TITLE);
    expect(await customer.locator('article strong').textContent()).toBe('30 days');
    await customer.close();
    expect(errors).toEqual([]);
  });

  it('works at phone width: the search and its results fit 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    const toggle = page.getByRole('button', { name: 'Articles' });
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    await page.getByLabel('Search articles').fill('return');
    const hit = page.getByRole('list', { name: 'Articles found' }).locator('li').first();
    await expect.poll(() => hit.isVisible()).toBe(true);
    const insert = page.getByRole('button', { name: `Insert link to ${TITLE}` });
    await insert.scrollIntoViewIfNeeded();
    const box = (await insert.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('inbox-articles-phone.png'), fullPage: true });
    // in the agent's language
    await page.getByLabel('Language').selectOption('pl');
    expect(await page.getByRole('button', { name: 'Artykuły' }).getAttribute('aria-expanded')).toBe('true');
    expect(await page.getByLabel('Szukaj artykułów').inputValue()).toBe('return');
    expect(await page.getByRole('button', { name: `Wstaw link do „${TITLE}”` }).count()).toBe(1);
    await page.getByLabel('Język').selectOption('en');
  });
});
