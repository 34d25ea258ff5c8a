/**
 * Undelivered replies in the web inbox, in a real browser (issue 13): a reply the platform refuses
 * turns red with the platform's reason as `message.failed` arrives live; the ticket is marked
 * undelivered in the list; *Retry* sends it again; a customer who blocked the bot is shown
 * unreachable on the card and in the reply box.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { customerWrites } from '../helpers/customer-writes.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

describe('web inbox: undelivered replies', () => {
  let rt: Rt;
  let page: Page;

  browserSuite({ CONFLUO_AUTO_ACK: 'off' }, { page: { viewport: { width: 1280, height: 900 } }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, page } = parts);
  });

  it('a refused reply turns red with the reason, live; Retry sends it again; a blocked bot shows the customer unreachable', async () => {
    expect((await rt.api.webhook('telegram', customerWrites('telegram', '58140001', 'Hi, is my parcel on its way?', rt.clock.now(), 'Marta Nowak'))).status).toBe(200);
    await rt.settle();

    await signIn(page, 'ann', { url: rt.url });
    await expect.poll(() => page.locator('.live').textContent()).toContain('live');
    const rows = page.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().click();
    const timeline = page.getByRole('list', { name: 'Timeline' });

    // The platform refuses the next send for good.
    expect((await fetch(`${rt.url}/dev/simulator`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'telegram', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } }) })).status).toBe(200);
    await page.getByLabel('Reply text').fill('Yes: it left the warehouse this morning.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const reply = timeline.locator('[data-direction="out"]', { hasText: 'left the warehouse' });
    await expect.poll(() => reply.count()).toBe(1);
    await rt.settle();

    // Live (message.failed over the stream): red, with the reason and the code; announced.
    await expect.poll(() => reply.first().getAttribute('data-delivery'), { timeout: 10_000 }).toBe('failed');
    expect(await reply.first().getAttribute('class')).toContain('failed');
    expect(await reply.first().locator('.failure').textContent()).toMatch(/Not delivered\..*Telegram refused the message.*\(400\)/);
    const color = await reply.first().locator('.bubble').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderTopColor: string } }).getComputedStyle(el).borderTopColor);
    expect(color).toBe('rgb(164, 0, 15)'); // --danger
    await expect.poll(() => page.locator('.topbar .sr').textContent()).toContain('message failed');
    await expect.poll(() => rows.first().locator('.undelivered').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('inbox-undelivered.png') });

    // Retry: a new attempt, as a new message, which goes through.
    await reply.first().getByRole('button', { name: 'Retry' }).click();
    await rt.settle();
    await expect.poll(() => timeline.locator('[data-direction="out"]', { hasText: 'left the warehouse' }).count()).toBe(2);
    const again = timeline.locator('[data-direction="out"]', { hasText: 'left the warehouse' }).nth(1);
    await expect.poll(() => again.getAttribute('data-delivery'), { timeout: 10_000 }).toBe('sent');
    await expect.poll(() => reply.first().locator('.failure').textContent()).toContain('Sent again.');
    expect(await reply.first().getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await expect.poll(() => rows.first().locator('.undelivered').count()).toBe(0);

    // The customer blocks the bot: the next send is refused with 403 → unreachable, on the card and in the reply box.
    expect((await fetch(`${rt.url}/dev/simulator`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'telegram', status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } }) })).status).toBe(200);
    await page.getByLabel('Reply text').fill('Anything else we can do?');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await rt.settle();
    const blocked = timeline.locator('[data-direction="out"]', { hasText: 'Anything else' });
    await expect.poll(() => blocked.getAttribute('data-delivery'), { timeout: 10_000 }).toBe('failed');
    expect(await blocked.locator('.failure').textContent()).toContain('blocked the bot');
    await expect.poll(() => page.getByRole('complementary').locator('.identities .unreachable').textContent()).toMatch(/unreachable \(blocked\) since/);
    await expect.poll(() => page.locator('.composer .unreachable').textContent()).toMatch(/cannot be reached on Telegram \(blocked\)/);
    await page.screenshot({ path: screenshotPath('inbox-unreachable.png') });
  });
});
