/**
 * The inbox list rows that tell the story, the keyboard, the phone layout and the agents' language
 * (issue 15), in Chromium against the local runtime:
 * - rows show the customer's name, the last message's first line with its channel and direction,
 *   how long the customer has waited, the SLA countdown or the breach, the assignee's initials;
 * - `j`/`k` move in the list, `r` goes to the reply box, `e` resolves, `/` searches — and none of
 *   them fires while the agent types in a field;
 * - at 390 px the top bar and the open ticket's timeline do not overlap;
 * - switched to Russian (kept after a reload), the inbox shows no English string of its catalogue.
 * The browser's clock is fixed at the runtime's virtual time plus ten minutes, so the countdowns
 * are exact.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { en, ru } from '../../web/inbox/messages.js';
import { en as widgetEn, pl as widgetPl } from '../../web/widget/messages.js';
import { REPO_ROOT } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, type Rt } from './suite.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };

const telegram = (updateId: number, fromId: number, name: string, text: string, date: number) => JSON.stringify({
  update_id: updateId,
  message: { message_id: updateId, date, text, from: { id: fromId, is_bot: false, first_name: name, language_code: 'ru' }, chat: { id: fromId, type: 'private', first_name: name } },
});

describe('inbox list rows, keyboard, phone width and language (issue 15)', () => {
  let rt: Rt;
  let browser: Browser;
  let agent: string;
  let breachedId: string;
  let waitingId: string;
  let browserNow: number;

  const ticketOf = async (fromId: number) => (await rt.api.get(`/api/v1/customers?identity=telegram:${fromId}`, agent)).body.items[0].tickets[0].id as string;

  browserSuite({}, {}, async (parts) => {
    ({ rt, browser } = parts);
    agent = await rt.api.token('anna.bell', 'agent');
    const at = async () => (await rt.api.get('/dev/clock')).body.epoch_ms as number;
    // Olga writes first; her ticket's 1 h first-response target passes (virtual clock) → breached.
    expect((await rt.api.webhook('telegram', { headers: TG, body: telegram(9_100_001, 9_100_001, 'Ольга', 'Где мой заказ?\nНомер 4411, оплачен вчера', Math.floor((await at()) / 1000)) })).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    breachedId = await ticketOf(9_100_001);
    expect((await rt.api.post('/dev/clock', { advanceSeconds: 3700 })).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    // Anna answers her and takes it: the row's last message is our reply.
    expect((await rt.api.post(`/api/v1/tickets/${breachedId}/replies`, { text: 'Проверяем ваш заказ, ответим сегодня.' }, agent)).status).toBe(202);
    const patched = await fetch(`${rt.url}/api/v1/tickets/${breachedId}`, { method: 'PATCH', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body: JSON.stringify({ assignee: 'me' }) });
    expect(patched.status).toBe(200);
    // A supervisor makes her a VIP: her open ticket follows (the tiers helper's PUT /customers/{id}/tier).
    const olgaId = (await rt.api.get(`/api/v1/tickets/${breachedId}`, agent)).body.customer_id as string;
    const tiered = await fetch(`${rt.url}/api/v1/customers/${olgaId}/tier`, { method: 'PUT', headers: { authorization: `Bearer ${await rt.api.token('lead', 'supervisor')}`, 'content-type': 'application/json' }, body: JSON.stringify({ tier: 'vip' }) });
    expect(tiered.status).toBe(200);
    // Zofia writes now: her ticket waits, its SLA counts down.
    const long = `Dzień dobry, ${'bardzo '.repeat(30)}długa wiadomość`;
    expect((await rt.api.webhook('telegram', { headers: TG, body: telegram(9_100_002, 9_100_002, 'Zofia', `${long}\nDruga linia`, Math.floor((await at()) / 1000)) })).status).toBe(200);
    await rt.api.post('/dev/settle', {});
    waitingId = await ticketOf(9_100_002);
    const zofia = (await rt.api.get(`/api/v1/tickets/${waitingId}`, agent)).body;
    browserNow = Date.parse(zofia.last_inbound_at) + 10 * 60_000;
  });

  async function signedIn(width: number, locale = 'en-US'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 800 }, locale });
    await page.clock.setFixedTime(browserNow);
    await page.goto(rt.url);
    await page.locator('#agent').fill('anna.bell');
    await page.locator('.signin button[type=submit]').click();
    await expect.poll(() => page.locator('.ticket-row').count()).toBe(2);
    return page;
  }

  it('rows show the customer, the last message (first line, channel, direction), waiting time, SLA countdown or breach, initials', async () => {
    const page = await signedIn(1280);
    const zofia = page.locator(`.ticket-row[data-ticket="${waitingId}"]`);
    const olga = page.locator(`.ticket-row[data-ticket="${breachedId}"]`);
    await expect.poll(() => zofia.locator('.name').textContent()).toBe('Zofia');
    const preview = (await zofia.locator('.preview').textContent())!;
    expect([...new Intl.Segmenter().segment(preview)].length).toBeLessThanOrEqual(120);
    expect(preview).toMatch(/^Dzień dobry, bardzo bardzo .*…$/);
    expect(preview).not.toContain('Druga linia');
    expect(await zofia.locator('.dir').getAttribute('data-direction')).toBe('in');
    expect(await zofia.locator('.ch-icon').getAttribute('data-channel')).toBe('telegram');
    expect(await zofia.locator('.waiting').textContent()).toBe('waiting 10 min');
    expect(await zofia.locator('[data-sla="due"]').textContent()).toBe('SLA 50 min');
    expect(await zofia.locator('.avatar').getAttribute('aria-label')).toBe('unassigned');

    expect(await olga.locator('.name').textContent()).toBe('Ольга');
    expect(await olga.locator('.preview').textContent()).toBe('Проверяем ваш заказ, ответим сегодня.');
    expect(await olga.locator('.dir').getAttribute('data-direction')).toBe('out');
    expect(await olga.locator('[data-sla="breached"]').textContent()).toBe('SLA breached');
    expect(await olga.locator('.avatar').textContent()).toBe('AB');
    expect(await olga.locator('.tier').textContent()).toBe('VIP');
    expect(await zofia.locator('.tier').count()).toBe(0);
    expect(await olga.locator('.waiting').count()).toBe(0);

    // The README's picture of the list (docs/inbox-list.png): the list pane down to its last row.
    const shot = screenshotPath('inbox-list.png');
    const list = (await page.locator('.list').boundingBox())!;
    const last = (await page.locator('.tickets').boundingBox())!;
    await page.screenshot({ path: shot, clip: { x: list.x, y: 0, width: list.width, height: last.y + last.height + 8 } });
    if (process.env.CONFLUO_UPDATE_DOCS === '1') copyFileSync(shot, join(REPO_ROOT, 'docs', 'inbox-list.png'));
    await page.close();
  });

  it('at 390 px the top bar does not overlap the open ticket\'s timeline', async () => {
    const page = await signedIn(390);
    await page.locator(`.ticket-row[data-ticket="${breachedId}"]`).click();
    const timeline = page.locator('ol.timeline');
    await expect.poll(() => timeline.locator('[data-direction="out"]').count()).toBeGreaterThan(0);
    const bar = (await page.locator('.topbar').boundingBox())!;
    const tl = (await timeline.boundingBox())!;
    const overlap = bar.x < tl.x + tl.width && tl.x < bar.x + bar.width && bar.y < tl.y + tl.height && tl.y < bar.y + bar.height;
    expect({ bar, tl, overlap }).toMatchObject({ overlap: false });
    // Nothing wider than the phone: no sideways scrolling.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('inbox-phone.png') });
    await page.close();
  });

  it('switched to Russian (and still after a reload), the inbox shows no English string of its catalogue', async () => {
    const page = await signedIn(1280);
    await page.locator('.topbar select.lang').selectOption('ru');
    await expect.poll(() => page.evaluate<string>('document.documentElement.lang')).toBe('ru');
    await page.reload();
    await expect.poll(() => page.locator('.ticket-row').count()).toBe(2);
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('ru');
    await page.locator(`.ticket-row[data-ticket="${breachedId}"]`).click();
    await expect.poll(() => page.locator('ol.timeline [data-direction="out"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.customer .identities').count()).toBe(1);
    expect(await page.locator(`.ticket-row[data-ticket="${waitingId}"] .waiting`).textContent()).toBe('ждёт 10 мин');

    // Every visible text node and the attributes people read (placeholder, title, aria-label, alt).
    const texts = await page.evaluate<string[]>(`(() => {
      const out = [];
      const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.parentElement && visible(n.parentElement) && n.textContent.trim()) out.push(n.textContent.trim());
      for (const el of document.body.querySelectorAll('*')) {
        for (const a of ['placeholder', 'title', 'aria-label', 'alt']) { const v = el.getAttribute(a); if (v?.trim()) out.push(v.trim()); }
        if (el instanceof HTMLOptionElement && !el.lang) out.push(el.text.trim());
      }
      return out;
    })()`);
    expect(texts.length).toBeGreaterThan(50);
    // The English catalogue's words, where Russian says something else (brand and channel names are
    // the same in both), cut at the placeholders: no text shown is one of them or contains one of
    // several words.
    const fragments = new Set<string>();
    for (const k of Object.keys(en) as Array<keyof typeof en>) {
      if (en[k] === ru[k]) continue;
      for (const f of en[k].split(/\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}/)) {
        const frag = f.replace(/^[\s·:(),.—←⚠●○-]+|[\s·:(),.—-]+$/g, '');
        if (/[A-Za-z]{2,}/.test(frag)) fragments.add(frag);
      }
    }
    const english = texts.filter((s) => [...fragments].some((f) => s === f || (f.includes(' ') && s.includes(f))));
    expect(english).toEqual([]);
    // …and it does find them in English.
    expect(fragments.has('Send reply')).toBe(true);
    await page.close();
  });
  it('the widget speaks the visitor\'s browser language (Polish here), with none of its English words', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, locale: 'pl-PL' });
    await page.goto(`${rt.url}/webchat/demo`);
    await page.locator('#confluo-webchat .launcher').click();
    const input = page.locator('#confluo-webchat textarea');
    await expect.poll(() => input.getAttribute('placeholder')).toBe(widgetPl['input.placeholder']);
    expect(await page.locator('#confluo-webchat form button[type=submit]').textContent()).toBe('Wyślij');
    expect(await page.locator('#confluo-webchat .empty').textContent()).toBe(widgetPl.empty);
    const shown = await page.evaluate<string[]>(`(() => {
      const root = document.querySelector('#confluo-webchat').shadowRoot;
      const out = [...root.querySelectorAll('*')].flatMap((el) => ['placeholder', 'title', 'aria-label'].map((a) => el.getAttribute(a) ?? ''));
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.parentElement?.tagName !== 'STYLE') out.push(n.textContent ?? '');
      return out.map((s) => s.trim()).filter(Boolean);
    })()`);
    // The title is the shop's own (data-title on the demo page), shown as given.
    const english = Object.entries(widgetEn).filter(([k, v]) => k !== 'title.default' && v !== (widgetPl as Record<string, string>)[k]).map(([, v]) => v.split('{')[0]!.trim()).filter((v) => v.length > 3);
    expect(shown.filter((s) => english.some((e) => s === e || (e.includes(' ') && s.includes(e))))).toEqual([]);
    await page.close();
  });

  // Last: it resolves a ticket.
  it('keys: j/k move in the list, r the reply box, e resolves, / the search — never while typing in a field', async () => {
    const page = await signedIn(1280);
    const rows = page.locator('.ticket-row');
    const current = () => page.locator('.ticket-row[aria-current="true"]').getAttribute('data-ticket');
    const first = await rows.nth(0).getAttribute('data-ticket');
    const second = await rows.nth(1).getAttribute('data-ticket');
    await page.locator('body').press('j');
    await expect.poll(current).toBe(first);
    await page.keyboard.press('j');
    await expect.poll(current).toBe(second);
    await page.keyboard.press('k');
    await expect.poll(current).toBe(first);
    await expect.poll(() => page.locator('#ticket-title').textContent()).toContain(first === waitingId ? 'Zofia' : 'Ольга');

    await page.keyboard.press('r');
    // In one full run the focus ended on the heading instead (5 s passed): the heading's focus
    // ran as a passive effect, a frame after the title showed, and could take the focus back from
    // the reply box — now a layout effect (web/inbox/main.ts). Not reproduced on demand, so the
    // poll keeps its 5 s.
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id'), { timeout: 5000 }).toBe('composer-text');
    await page.keyboard.type('jk e/');
    expect(await page.locator('#composer-text').inputValue()).toBe('jk e/');
    expect(await current()).toBe(first);
    expect(await page.locator('.ticket-head [data-status]').getAttribute('data-status')).not.toBe('resolved');

    await page.locator('#ticket-title').focus();
    await page.keyboard.press('/');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('filter-q');
    await page.keyboard.type('e');
    expect(await page.locator('#filter-q').inputValue()).toBe('e');

    await page.locator('#ticket-title').focus();
    await page.keyboard.press('e');
    await expect.poll(() => page.locator('.ticket-head [data-status]').getAttribute('data-status')).toBe('resolved');
    expect((await rt.api.get(`/api/v1/tickets/${first}`, agent)).body.status).toBe('resolved');
    await page.close();
  });
});
