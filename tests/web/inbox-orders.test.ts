/**
 * The shop's orders in the web inbox, in a real browser (issue 19): a customer texts by SMS from
 * a phone the shop's orders carry; the signed order pushes link to them; the card lists the orders
 * newest first with status, total and tracking link; the customer's "where is order 51051?" shows
 * that order under the message. In Polish, the words and the amount follow the agent's language.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { signOrderBody } from '../../functions/domain/orders.js';
import { signTwilioBody } from '../../scripts/sign-twilio.js';
import { TEST_SECRETS } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const SECRET = TEST_SECRETS.CONFLUO_ORDERS_WEBHOOK_SECRET!;
const PHONE = '+12065550177';

const order = (over: Record<string, unknown>) => ({
  id: 'gid-5101', number: '#51051', status: 'shipped',
  items: [{ sku: 'KET-BLUE', name: 'Blue kettle', quantity: 2, price: 24.5 }, { name: 'Descaler', quantity: 1, price: 5 }],
  totals: { currency: 'EUR', total: 54, shipping: 0 },
  placed_at: '2026-12-01T10:00:00Z', shipped_at: '2026-12-02T09:00:00Z', tracking_url: 'https://track.example/PL51051',
  customer: { phone: PHONE }, updated_at: '2026-12-02T09:00:00Z', ...over,
});

describe('web inbox: the shop\'s orders', () => {
  let rt: Rt;
  let page: Page;

  const sms = async (text: string, n: number) => {
    const sid = `SM${String(n).padStart(32, '7')}`;
    const body = new URLSearchParams([['SmsMessageSid', sid], ['NumMedia', '0'], ['SmsSid', sid], ['SmsStatus', 'received'], ['Body', text], ['To', '+14155550100'],
      ['MessageSid', sid], ['AccountSid', 'AC0123456789abcdef0123456789abcdef'], ['From', PHONE], ['ApiVersion', '2010-04-01']]).toString();
    const signature = signTwilioBody(TEST_SECRETS.TWILIO_AUTH_TOKEN!, TEST_SECRETS.TWILIO_WEBHOOK_URL!, body);
    expect((await rt.api.webhook('twilio', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body })).status).toBe(200);
    await rt.settle();
  };
  const push = async (body: unknown) => {
    const raw = JSON.stringify(body);
    const res = await fetch(`${rt.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-confluo-signature': signOrderBody(raw, SECRET) }, body: raw });
    return (await res.json()) as { linked: boolean };
  };

  browserSuite({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', CONFLUO_AUTO_ACK: 'off' }, { page: { viewport: { width: 1280, height: 900 }, locale: 'pl-PL' }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, page } = parts);
    await sms('Dzień dobry', 1);
    expect((await push(order({}))).linked).toBe(true);
    expect((await push(order({ id: 'gid-4900', number: '49900', status: 'delivered', items: [{ name: 'Toaster', quantity: 1 }], totals: { currency: 'EUR', total: 30 }, placed_at: '2026-10-01T10:00:00Z', shipped_at: null, tracking_url: null, updated_at: '2026-10-03T10:00:00Z' }))).linked).toBe(true);
    await sms('Gdzie jest zamówienie 51051?', 2);
  });

  it('lists the customer\'s orders on the card and shows the order a message mentions, in the agent\'s language', async () => {
    await signIn(page, 'ann', { url: rt.url });
    await page.locator('.ticket-row').first().click();

    const orders = page.getByRole('list', { name: 'Zamówienia', exact: true });
    await expect.poll(() => orders.locator('li').count()).toBe(2);
    const newest = orders.locator('li').first();
    expect(await newest.getAttribute('data-order')).toBe('51051');
    const text = (await newest.textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain('Zamówienie 51051');
    expect(text).toContain('wysłane');
    expect(text).toContain('2 × Blue kettle, 1 × Descaler');
    expect(text).toMatch(/54,00\s€/);
    expect(await newest.getByRole('link', { name: /Śledź/ }).getAttribute('href')).toBe('https://track.example/PL51051');
    // The older order has no tracking link: no link at all.
    expect(await orders.locator('li').nth(1).getByRole('link').count()).toBe(0);
    expect(await orders.locator('li').nth(1).textContent()).toContain('dostarczone');

    const mentioned = page.getByRole('list', { name: 'Wspomniane zamówienia' });
    await expect.poll(() => mentioned.count()).toBe(1);
    expect(await mentioned.locator('li').getAttribute('data-order')).toBe('51051');
    expect(await mentioned.getByRole('link').getAttribute('href')).toBe('https://track.example/PL51051');
    await page.screenshot({ path: screenshotPath('inbox-orders.png') });
  });
});
