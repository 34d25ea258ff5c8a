/**
 * Files in the web-chat widget (issue 14), in a real browser: a visitor attaches a picture → it is
 * uploaded under the session's own prefix (presigned POST) and arrives as an attachment of an
 * inbound message, whose object holds the very bytes the visitor chose; an agent sends a PDF and a
 * picture → the widget shows the picture inline and the PDF as a link, both serving the same bytes.
 * The media step keeps the visitor's upload under the ticket (bytes checked, sha256 recorded), so
 * the agent's inbox shows the picture inline.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e221bc330000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const sha = (b: Buffer | ArrayBuffer) => createHash('sha256').update(Buffer.from(b as ArrayBuffer)).digest('hex');

describe('web-chat widget: files', () => {
  let rt: Rt;
  let browser: Browser;
  let page: Page;
  let token: string;

  browserSuite({ CONFLUO_AUTO_ACK: 'off' }, { page: { viewport: { width: 1280, height: 800 } }, actionTimeoutMs: 10_000 }, async (parts) => {
    ({ rt, browser, page } = parts);
    token = await rt.api.token('ann', 'agent');
  });

  it('a visitor sends a picture (preview, upload under the session prefix); the agent\'s PDF and picture show in the widget', async () => {
    await page.goto(`${rt.url}/webchat/demo`);
    await page.getByRole('button', { name: /Chat with us/ }).click();
    await page.getByLabel('Your message').fill('The kettle arrived broken, see the photo');
    await page.getByLabel('Your message').press('Enter');
    await page.getByLabel('Attach a file').setInputFiles({ name: 'broken-kettle.png', mimeType: 'image/png', buffer: PNG });
    const mine = page.locator('.msg[data-direction="visitor"]:has(img.thumb)');
    await expect.poll(() => mine.locator('img.thumb').getAttribute('alt'), { timeout: 10_000 }).toBe('broken-kettle.png');
    await expect.poll(() => mine.locator('.meta').textContent(), { timeout: 10_000 }).not.toMatch(/Sending|Not sent/);

    await rt.settle();
    const ticket = (await rt.api.get('/api/v1/tickets?channel=webchat', token)).body.items[0];
    expect(ticket).toBeDefined();
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticket.id}/timeline`, token)).body.items as Array<{ direction?: string; attachments?: Array<{ type: string; file_name?: string; mime_type?: string; platform_ref?: string; media?: { status: string; sha256?: string; content_type?: string } }> }>;
    const withFile = timeline.find((e) => e.direction === 'in' && (e.attachments ?? []).length > 0)!;
    expect(withFile.attachments![0]).toMatchObject({ type: 'image', file_name: 'broken-kettle.png', mime_type: 'image/png' });
    // Kept under the ticket by the media step: the visitor's very bytes, typed by their content.
    expect(withFile.attachments![0]!.media).toMatchObject({ status: 'stored', sha256: sha(PNG), content_type: 'image/png' });

    // The agent sees the picture inline in the inbox.
    const inbox = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(inbox, 'ann', { url: rt.url });
    await expect.poll(() => inbox.locator('.ticket-row').count()).toBe(1);
    await inbox.locator('.ticket-row').first().click();
    const agentImg = inbox.getByRole('list', { name: 'Timeline' }).locator('.attachment.kind-image img');
    await expect.poll(() => agentImg.count()).toBe(1);
    await expect.poll(() => agentImg.evaluate((i) => { const im = i as unknown as { complete: boolean; naturalWidth: number }; return im.complete && im.naturalWidth; }), { timeout: 10_000 }).toBe(1);
    await inbox.close();
    // The visitor's bytes are in the media bucket under the session's own prefix, served back to the widget.
    await expect.poll(async () => page.locator('.msg[data-direction="visitor"] img.thumb').first().getAttribute('src'), { timeout: 15_000 }).toMatch(/^https?:/);
    const served = await fetch((await page.locator('.msg[data-direction="visitor"] img.thumb').first().getAttribute('src'))!);
    expect(sha(await served.arrayBuffer())).toBe(sha(PNG));

    // The agent sends a PDF and a picture to the widget.
    const upload = async (name: string, type: string, bytes: Buffer) => {
      const form = await rt.api.post(`/api/v1/tickets/${ticket.id}/attachments`, { file_name: name, content_type: type, size: bytes.length }, token);
      expect(form.status, JSON.stringify(form.body)).toBe(201);
      const body = new FormData();
      for (const [k, v] of Object.entries(form.body.fields as Record<string, string>)) body.append(k, v);
      body.append('file', new Blob([bytes], { type }), name);
      expect((await fetch(form.body.url, { method: 'POST', body })).status).toBeLessThan(300);
      return form.body.upload_id as string;
    };
    const pdf = await upload('warranty.pdf', 'application/pdf', PDF);
    const png = await upload('label.png', 'image/png', PNG);
    const sent = await rt.api.post(`/api/v1/tickets/${ticket.id}/replies`, { text: 'Sorry! Here is the return label.', attachments: [{ upload_id: pdf, file_name: 'warranty.pdf' }, { upload_id: png, file_name: 'label.png' }] }, token);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    await rt.settle();
    const reply = page.locator('.msg[data-direction="agent"]', { hasText: 'return label' });
    await expect.poll(() => reply.locator('img.thumb').getAttribute('alt'), { timeout: 15_000 }).toBe('label.png');
    const link = reply.locator('a.file', { hasText: 'warranty.pdf' });
    const href = await link.getAttribute('href');
    expect(sha(await (await fetch(href!)).arrayBuffer())).toBe(sha(PDF));
    expect(sha(await (await fetch((await reply.locator('img.thumb').getAttribute('src'))!)).arrayBuffer())).toBe(sha(PNG));
    await page.screenshot({ path: screenshotPath('widget-files.png') });
  });
});
