/**
 * The presence selector in the web inbox's top bar, in a real browser (issue 15): an agent sets
 * themselves available, and a new ticket of their team (automatic assignment on) lands in "Mine".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { testRuntime } from '../helpers/runtime.js';
import { customerWrites } from '../helpers/customer-writes.js';
import { launchBrowser } from './browser.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;

describe('web inbox: presence', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [rt, browser] = await Promise.all([testRuntime({ CONFLUO_AUTO_ACK: 'off' }, { visibilityTimeoutMs: 5000 }), launchBrowser()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await rt?.stop();
  });

  it('sets the agent available from the top bar; a ticket of the team is then assigned to them', async () => {
    const lead = await rt.api.token('lead', 'supervisor');
    const put = (path: string, body: unknown) => fetch(`${rt.url}/api/v1${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${lead}` }, body: JSON.stringify(body) });
    expect((await put('/teams/support', { members: ['ann'], auto_assign: true })).status).toBe(200);
    expect((await put('/rules', { items: [{ id: 'all', keywords: ['parcel'], set: { team: 'support' } }] })).status).toBe(200);

    await page.goto(rt.url);
    await page.getByLabel('Agent id').fill('ann');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const presence = page.getByLabel('Presence');
    await expect.poll(() => presence.isEnabled()).toBe(true);
    expect(await presence.inputValue()).toBe('offline');
    await presence.selectOption('available');
    await expect.poll(async () => ((await rt.api.get('/api/v1/agents', lead)).body.items as Array<{ id: string; presence: string }>).find((a) => a.id === 'ann')?.presence).toBe('available');
    await expect.poll(() => page.locator('.presence .load').textContent()).toBe('0/10');

    expect((await rt.api.webhook('telegram', customerWrites('telegram', '58150001', 'Where is my parcel?', rt.clock.now(), 'Marta Nowak'))).status).toBe(200);
    await rt.settle();
    await page.getByRole('button', { name: /^Mine/ }).click();
    await expect.poll(() => page.locator('.ticket-row').count()).toBe(1);
  }, 120_000);
});
