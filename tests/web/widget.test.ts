/**
 * The web-chat widget in a real browser (issue 6): a visitor on the demo shop page writes →
 * a ticket via the Agent API; an agent replies through the API → the reply shows in the widget
 * (and becomes `delivered`); a reload keeps the conversation.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { screenshotPath } from './browser.js';
import { browserSuite, type Rt } from './suite.js';

describe('web-chat widget', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;
  let token: string;

  browserSuite({}, { page: { viewport: { width: 1280, height: 800 } } }, async (parts) => {
    ({ rt, browser, page } = parts);
    token = await rt.api.token('ann', 'agent');
  });

  const waitFor = async <T>(what: () => Promise<T | undefined>, ms = 15_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await what();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('a visitor writes, an agent answers, a reload keeps the conversation', async () => {
    await page.goto(`${rt.url}/webchat/demo`);
    const launcher = page.getByRole('button', { name: /Questions\? Chat with us/ });
    await launcher.click();
    const input = page.getByLabel('Your message');
    await expect.poll(() => input.evaluate((el) => el === (el.getRootNode() as unknown as { activeElement: unknown }).activeElement)).toBe(true); // focus moves into the chat
    await input.fill('Does the blue kettle come with a two-year warranty?');
    await input.press('Enter');
    const mine = page.locator('.msg[data-direction="visitor"]');
    await expect.poll(() => mine.textContent()).toContain('two-year warranty');
    await expect.poll(() => mine.locator('.meta').textContent()).not.toMatch(/Sending|Not sent/);

    // → a web chat ticket in the Agent API with the visitor's text
    await rt.settle();
    const ticket = await waitFor(async () => (await rt.api.get('/api/v1/tickets?channel=webchat', token)).body.items[0]);
    expect(ticket).toMatchObject({ channel: 'webchat', status: 'new' });
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, token)).body.items;
    expect(timeline.find((e: { direction?: string }) => e.direction === 'in').text).toBe('Does the blue kettle come with a two-year warranty?');

    // an agent replies through the API → it shows in the widget
    const sent = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Yes — two years, parts and labour.' }, token);
    expect(sent.status).toBe(202);
    await rt.settle();
    const replies = page.locator('.msg[data-direction="agent"]');
    await expect.poll(() => replies.allTextContents(), { timeout: 10_000 }).toEqual(expect.arrayContaining([expect.stringContaining('two years, parts and labour')]));
    // served to the widget → delivered
    await expect.poll(async () => (await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, token)).body.items
      .find((e: { id: string }) => e.id === sent.body.id)?.delivery).toBe('delivered');
    await page.screenshot({ path: screenshotPath('widget.png') });

    // a reload keeps the session and the conversation (localStorage), panel still open
    const visitor = await page.evaluate(() => Object.keys((globalThis as unknown as { localStorage: object }).localStorage).find((k) => k.startsWith('confluo.webchat')));
    expect(visitor).toBeTruthy();
    await page.reload();
    await expect.poll(() => page.locator('.msg').allTextContents()).toEqual(expect.arrayContaining([
      expect.stringContaining('two-year warranty'), expect.stringContaining('two years, parts and labour'),
    ]));
    // a second message after the reload lands on the same ticket (same visitor, same conversation)
    await page.getByLabel('Your message').fill('Great, thanks!');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('.msg[data-direction="visitor"]').last().locator('.meta').textContent()).not.toMatch(/Sending|Not sent/);
    await rt.settle();
    const list = (await rt.api.get('/api/v1/tickets?channel=webchat', token)).body.items;
    expect(list).toHaveLength(1);
    expect(list[0].message_count).toBe(2);
  });

  it('sends the page as origin and path only: a query or fragment (tokens, addresses) never reaches the ticket or the browser\'s storage', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 760 } });
    const shop = await context.newPage();
    shop.setDefaultTimeout(10_000);
    const posted: string[] = [];
    shop.on('request', (r) => { if (r.url().endsWith('/webhooks/webchat') && r.method() === 'POST') posted.push(r.postData() ?? ''); });
    await shop.goto(`${rt.url}/webchat/demo?reset_token=s3cr3t-reset&email=ann%40example.com#access_token=frag-secret`);
    await shop.getByRole('button', { name: /Chat with us/ }).click();
    await shop.getByLabel('Your message').fill('Which kettle holds two litres?');
    await shop.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => shop.locator('.msg[data-direction="visitor"] .meta').textContent()).not.toMatch(/Sending|Not sent/);
    expect(posted).toHaveLength(1);
    expect(JSON.parse(posted[0]!).page.url).toBe(`${rt.url}/webchat/demo`);
    const stored = await shop.evaluate(() => JSON.stringify({ ...(globalThis as unknown as { localStorage: Record<string, string> }).localStorage }));
    await rt.settle();
    const table = JSON.stringify((await rt.db.doc.send(new ScanCommand({ TableName: rt.db.tableName }))).Items);
    expect(table).toContain('Which kettle holds two litres?');
    expect(table).toContain(`"url":"${rt.url}/webchat/demo"`);
    for (const secret of ['s3cr3t-reset', 'ann%40example.com', 'ann@example.com', 'frag-secret']) {
      expect(table, secret).not.toContain(secret);
      expect(stored, secret).not.toContain(secret);
    }
    await context.close();
  });

  it('the widget API refuses a missing or forged token and answers 404 where web chat is off', async () => {
    expect((await fetch(`${rt.url}/webchat/messages`)).status).toBe(401);
    const s = await (await fetch(`${rt.url}/webchat/session`, { method: 'POST' })).json() as { token: string; visitor_id: string };
    expect(s.visitor_id).toMatch(/^v_[A-Za-z0-9_-]{22}$/);
    const forged = s.token.slice(0, -2) + (s.token.endsWith('AA') ? 'BB' : 'AA');
    expect((await fetch(`${rt.url}/webchat/messages`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    const ok = await fetch(`${rt.url}/webchat/messages`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: [], next_cursor: null });
    expect((await fetch(`${rt.url}/webchat/messages?after=nonsense`, { headers: { authorization: `Bearer ${s.token}` } })).status).toBe(400);
    // renewal keeps the visitor and the conversation
    const renewed = await (await fetch(`${rt.url}/webchat/session`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } })).json() as { visitor_id: string; conversation_id: string };
    expect(renewed.visitor_id).toBe(s.visitor_id);
  });
});
