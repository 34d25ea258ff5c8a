/**
 * The presence selector in the web inbox's top bar, in a real browser (issue 15): an agent sets
 * themselves available, and a new ticket of their team (automatic assignment on) lands in "Mine".
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { customerWrites } from '../helpers/customer-writes.js';
import { browserSuite, signIn, type Rt } from './suite.js';

describe('web inbox: presence', () => {
  let rt: Rt;
  let page: Page;

  browserSuite({ CONFLUO_AUTO_ACK: 'off' }, { page: { viewport: { width: 1280, height: 900 } }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, page } = parts);
  });

  it('sets the agent available from the top bar; a ticket of the team is then assigned to them', async () => {
    const lead = await rt.api.token('lead', 'supervisor');
    const put = (path: string, body: unknown) => fetch(`${rt.url}/api/v1${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${lead}` }, body: JSON.stringify(body) });
    expect((await put('/teams/support', { members: ['ann'], auto_assign: true })).status).toBe(200);
    expect((await put('/rules', { items: [{ id: 'all', keywords: ['parcel'], set: { team: 'support' } }] })).status).toBe(200);

    await signIn(page, 'ann', { url: rt.url });
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
