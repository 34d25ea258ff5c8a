/**
 * The web inbox in a real browser (issue 6): sign in, see a Telegram ticket in the list, open it,
 * reply (the reply shows in the timeline with its delivery tick), resolve it; a new web-chat
 * message arrives and shows up live (Server-Sent Events); the list works at phone width too.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { loadSamples } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

describe('web inbox', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;

  browserSuite({}, { page: { viewport: { width: 1280, height: 800 } } }, async (parts) => {
    ({ rt, browser, page } = parts);
  });

  it('sign in, open a ticket, reply with a delivery tick, resolve; new messages arrive live', async () => {
    const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
    expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
    await rt.settle();

    await signIn(page, 'ann', { url: rt.url });
    await expect.poll(() => page.locator('.live').textContent()).toContain('live');

    const rows = page.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => rows.first().textContent()).toContain('Telegram');
    await rows.first().click();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await expect.poll(() => timeline.locator('[data-direction="in"]').count()).toBe(1);

    // reply on Telegram → in the timeline, with a tick once the sender handed it over
    await page.getByLabel('Reply text').fill('We are on it — expect news within the hour.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const reply = timeline.locator('[data-direction="out"]', { hasText: 'We are on it' });
    await expect.poll(() => reply.count()).toBe(1);
    await rt.settle();
    await expect.poll(() => reply.locator('.ticks').getAttribute('data-delivery'), { timeout: 10_000 }).toBe('sent');
    expect(await reply.locator('.ticks').getAttribute('aria-label')).toBe('delivery: sent');
    const outbox = (await (await fetch(`${rt.url}/dev/outbox`)).json()) as { items: Array<{ channel: string; kind: string; request: { body: string } }> };
    expect(outbox.items.some((i) => i.channel === 'telegram' && i.kind === 'reply' && i.request.body.includes('We are on it'))).toBe(true);

    // an internal note
    await page.getByRole('button', { name: 'Internal note' }).click();
    await page.getByLabel('Note text').fill('Checked the order: shipped yesterday.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => timeline.locator('[data-type="note"]').textContent()).toContain('shipped yesterday');

    // the customer card: the Telegram identity
    await expect.poll(() => page.getByRole('complementary').locator('.identities').textContent()).toContain('Telegram');
    await page.screenshot({ path: screenshotPath('inbox.png') });

    // resolve
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await expect.poll(() => page.locator('.triage .assignee').textContent()).toContain('ann');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => page.locator('.ticket-head [data-status]').getAttribute('data-status')).toBe('resolved');
    const ticketId = await rows.first().getAttribute('data-ticket');
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}`, await rt.api.token())).body.status).toBe('resolved');

    // phone width: one pane at a time (the ticket replaces the list; back returns to it)
    await page.setViewportSize({ width: 390, height: 800 });
    await expect.poll(() => page.getByRole('button', { name: '← Tickets' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: '← Tickets' }).click();
    await expect.poll(() => rows.first().isVisible()).toBe(true);
    await page.close();
  });

  it('a visitor writes in the widget → the ticket appears live → awaiting reply, assign to self, canned answer → the widget shows it; resolve', async () => {
    const supervisor = await rt.api.token('sam', 'supervisor');
    const put = await fetch(`${rt.url}/api/v1/templates/in-stock`, {
      method: 'PUT', headers: { authorization: `Bearer ${supervisor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'In stock', bodies: { en: 'Hi {{customer.first_name | there}}, yes: it is in stock and ships today ({{ticket.number}}).' } }),
    });
    expect(put.status).toBe(200);

    const inbox = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    inbox.setDefaultTimeout(10_000);
    await signIn(inbox, 'bob', { url: rt.url });
    await expect.poll(() => inbox.locator('.live').textContent()).toContain('live');
    const rows = inbox.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1); // the Telegram ticket of the first test

    // the visitor writes in the widget (another browser context: another person)
    const shop = await (await browser.newContext({ viewport: { width: 390, height: 760 } })).newPage();
    shop.setDefaultTimeout(10_000);
    await shop.goto(`${rt.url}/webchat/demo`);
    await shop.getByRole('button', { name: /Chat with us/ }).click();
    await shop.getByLabel('Your message').fill('Is the red kettle in stock?');
    await shop.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => shop.locator('.msg[data-direction="visitor"] .meta').textContent()).not.toMatch(/Sending|Not sent/);
    await rt.settle();

    // → live in the inbox, without a reload
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => rows.first().textContent()).toContain('Web chat');

    // "Awaiting reply" lists it; assign to self; answer with the canned answer
    await inbox.getByRole('button', { name: /^Awaiting reply/ }).click();
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringContaining('Web chat')]);
    await rows.first().click();
    await inbox.getByRole('button', { name: 'Assign to me' }).click();
    await expect.poll(() => inbox.locator('.triage .assignee').textContent()).toContain('bob');
    await inbox.getByLabel('Canned answer').selectOption('in-stock');
    await inbox.getByRole('button', { name: 'Send reply' }).click();
    const timeline = inbox.getByRole('list', { name: 'Timeline' });
    await expect.poll(async () => (await timeline.locator('[data-direction="out"]', { hasText: 'ships today' }).count()) || await inbox.locator('.composer').textContent()).toBe(1);
    await rt.settle();

    // → the widget shows the rendered answer, and the inbox sees it delivered
    const answer = shop.locator('.msg[data-direction="agent"]', { hasText: 'ships today' });
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toMatch(/Hi there, yes: it is in stock and ships today \(C-\d{6}\)/);
    await shop.screenshot({ path: screenshotPath('widget-phone.png') });
    await expect.poll(async () => {
      await inbox.getByRole('button', { name: 'Internal note' }).click(); // any re-render; the feed also refreshes
      await inbox.getByRole('button', { name: 'Reply', exact: true }).click();
      return timeline.locator('[data-direction="out"]', { hasText: 'ships today' }).locator('.ticks').getAttribute('data-delivery');
    }, { timeout: 10_000 }).toMatch(/sent|delivered/);

    // resolve; "Mine" still lists it with its new status
    await inbox.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => inbox.locator('.ticket-head [data-status]').getAttribute('data-status')).toBe('resolved');
    await inbox.getByRole('button', { name: /^Mine/ }).click();
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringMatching(/Web chat.*resolved/)]);
    await inbox.screenshot({ path: screenshotPath('inbox-webchat.png') });
  });
});
