/**
 * The web inbox in a real browser (issue 6): sign in, see a Telegram ticket in the list, open it,
 * reply (the reply shows in the timeline with its delivery tick), resolve it; a new web-chat
 * message arrives and shows up live (Server-Sent Events); the list works at phone width too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { testRuntime } from '../helpers/runtime.js';
import { loadSamples } from '../helpers/samples.js';
import { launchBrowser, screenshotPath } from './browser.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;

describe('web inbox', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [rt, browser] = await Promise.all([testRuntime({}, { visibilityTimeoutMs: 5000 }), launchBrowser()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await rt?.stop();
  });

  it('sign in, open a ticket, reply with a delivery tick, resolve; new messages arrive live', async () => {
    const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
    expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
    await rt.settle();

    await page.goto(rt.url);
    await page.getByLabel('Agent id').fill('ann');
    await page.getByRole('button', { name: 'Sign in' }).click();
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

    // a new web chat message arrives → a second ticket appears in the list without a reload
    const session = (await (await fetch(`${rt.url}/webchat/session`, { method: 'POST' })).json()) as { token: string };
    const posted = await fetch(`${rt.url}/webhooks/webchat`, {
      method: 'POST', headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', messageId: '01JF8Z3K5M7P9R1T3V5X7Z9B1D', text: 'Is the red kettle in stock?' }),
    });
    expect(posted.status).toBe(202);
    await rt.settle();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => rows.first().textContent()).toContain('Web chat');

    // filters: web chat only, then unassigned + status resolved → the Telegram ticket
    const filters = page.getByRole('navigation', { name: 'Tickets' });
    await filters.getByLabel('Channel').selectOption('webchat');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole('button', { name: /^All/ }).click();
    await filters.getByLabel('Status').selectOption('resolved');
    await expect.poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-ticket')))).toEqual([ticketId]);

    // phone width: one pane at a time
    await page.setViewportSize({ width: 390, height: 800 });
    await expect.poll(() => page.getByRole('button', { name: '← Tickets' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: '← Tickets' }).click();
    await expect.poll(() => rows.first().isVisible()).toBe(true);
  });
});
