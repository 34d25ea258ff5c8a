/**
 * What the web inbox shows of data a sender controls (issue 17 findings 7 and 5).
 *
 * Attachment links (finding 7): an attachment's URL comes from the
 * sender's platform payload, so a `javascript:` (or `data:`) URL must never become a link that runs
 * in the inbox's origin, where the agent's token lives. The inbox renders only `https:`, `blob:`
 * and same-origin links (web/inbox/safe-url.ts), and the page's Content-Security-Policy
 * (local/web.ts, as CloudFront sends it) blocks a `javascript:` URL even if one got through.
 *
 * A message whose sender the platform does not vouch for (finding 5: an e-mail failing DMARC,
 * `unauthenticated` in the Agent API) carries a visible warning.
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { keys } from '../../functions/store/table.js';
import { loadSamples } from '../helpers/samples.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const PWNED = 'window.__confluoPwned = (window.__confluoPwned || 0) + 1';

describe('web inbox: untrusted input', () => {
  let rt: Rt;
  let browser: Browser;

  browserSuite({}, {}, async (parts) => {
    ({ rt, browser } = parts);
  });

  it('serves the inbox and the demo page with a Content-Security-Policy that allows no inline or foreign script', async () => {
    for (const path of ['/', '/webchat/demo']) {
      const csp = (await fetch(`${rt.url}${path}`)).headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval)/);
    }
  });

  it('shows a javascript: or data: attachment as text, links https and same-origin ones, and nothing runs when the agent clicks', async () => {
    const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
    expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
    await rt.settle();
    const ticket = (await rt.api.get('/api/v1/tickets', await rt.api.token())).body.items[0] as { id: string };
    const at = rt.clock.now() + 1000;
    const id = ulid(at);
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: {
      ...keys.timelineEntry(ticket.id, at, id), type: 'message', id, ticket_id: ticket.id, at, channel: 'telegram', direction: 'in', external_message_id: `x-${id}`,
      conversation_id: '1', text: 'see attached', interaction: null, edited: false, sent_at: at, unauthenticated: true,
      attachments: [
        { type: 'document', url: `javascript:${PWNED}`, file_name: 'invoice.pdf' },
        { type: 'document', url: ` JaVaScRiPt:${PWNED}`, file_name: 'receipt.pdf' },
        { type: 'document', url: `data:text/html,<script>${PWNED}</script>`, file_name: 'data.html' },
        { type: 'image', url: 'https://files.example/photo.jpg', file_name: 'photo.jpg' },
        { type: 'document', url: '/media/manual.pdf', file_name: 'manual.pdf' },
      ],
    } }));

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await signIn(page, 'ann', { url: rt.url });
    await page.locator('.ticket-row').first().click();
    const attachments = page.getByRole('list', { name: 'Attachments' });
    await expect.poll(() => attachments.locator('li').count()).toBe(5);

    const links = await attachments.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    expect(links).toEqual([['photo.jpg', 'https://files.example/photo.jpg'], ['manual.pdf', `${rt.url}/media/manual.pdf`]]);
    expect(await attachments.innerHTML()).not.toMatch(/javascript:|data:text/i);
    for (const name of ['invoice.pdf', 'receipt.pdf', 'data.html']) await attachments.getByText(name).click();

    // Were such a link in the page anyway, the policy would not let it run.
    // (Strings: the root tsconfig has no DOM types.)
    await page.evaluate(`(() => {
      const a = document.createElement('a');
      a.href = ${JSON.stringify(`javascript:${PWNED}`)};
      a.textContent = 'injected';
      document.body.append(a);
      a.click();
    })()`);
    await page.waitForTimeout(300);
    expect(await page.evaluate('window.__confluoPwned')).toBeUndefined();
    expect(dialogs).toEqual([]);

    // The injected message is marked as from an unverified sender; the sample's own is not.
    const messages = page.getByRole('list', { name: 'Timeline' }).locator('[data-direction="in"]');
    await expect.poll(() => messages.count()).toBe(2);
    expect(await messages.nth(0).locator('.sender-unverified').count()).toBe(0);
    expect(await messages.nth(1).getByRole('note').textContent()).toMatch(/Sender not verified.*may be forged/);
    await page.close();
  });
});
