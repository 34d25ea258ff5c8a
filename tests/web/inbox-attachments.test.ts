/**
 * Attachments in the web inbox, in a real browser (issue 14): a customer's Telegram photo shows
 * as an image (loaded through its signed URL, opening full size), a PDF as a download link with
 * its name and size that fetches the very bytes, and a file too large to keep says why.
 */
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { sampleMediaBytes } from '../../local/platform-simulator.js';
import { loadSamples, REPO_ROOT } from '../helpers/samples.js';
import { screenshotPath } from './browser.js';
import { browserSuite, signIn, type Rt } from './suite.js';

const TELEGRAM_HEADERS = { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'test-telegram-secret-000' };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('web inbox attachments', () => {
  let rt: Rt;
  let page: Page;

  browserSuite({ CONFLUO_MEDIA_MAX_MB: '1' }, { page: { viewport: { width: 1280, height: 1000 } } }, async (parts) => {
    ({ rt, page } = parts);
  });

  it('shows the Telegram photo as an image, the PDF as a download link, and why a file was not kept', async () => {
    // The photo sample, then a PDF and a too-large video from the same customer (one ticket).
    const photo = loadSamples('telegram').find((s) => s.name === '02-photo-caption')!;
    expect((await rt.api.webhook('telegram', { headers: photo.request.headers, body: photo.request.body })).status).toBe(200);
    const from = JSON.parse(photo.request.body).message.from;
    const update = (id: number, message: Record<string, unknown>) => JSON.stringify({ update_id: 731200900 + id, message: { message_id: 950 + id, from, chat: { id: from.id, type: 'private' }, date: 1790000200 + id, ...message } });
    expect((await rt.api.webhook('telegram', { headers: TELEGRAM_HEADERS, body: update(1, { caption: 'And the invoice', document: { file_id: 'BQACAgIAAxkBAAIDiGcDocument0042', file_unique_id: 'AgADinv', file_name: 'invoice-42.pdf', mime_type: 'application/pdf' } }) })).status).toBe(200);
    expect((await rt.api.webhook('telegram', { headers: TELEGRAM_HEADERS, body: update(2, { caption: 'Unboxing video', document: { file_id: 'BQACoversize0042', file_unique_id: 'AgADbig', file_name: 'unboxing.mp4', mime_type: 'video/mp4' } }) })).status).toBe(200);
    expect((await rt.settle()).dlq).toBe(0);

    await signIn(page, 'ann', { url: rt.url });
    const rows = page.locator('.ticket-row');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().click();
    const timeline = page.getByRole('list', { name: 'Timeline' });

    // The photo: an <img> that actually loaded the stored JPEG, inside a link that opens it full size.
    const img = timeline.locator('.attachment.kind-image img');
    await expect.poll(() => img.count()).toBe(1);
    await expect.poll(() => img.evaluate((i) => { const im = i as unknown as { complete: boolean; naturalWidth: number }; return im.complete && im.naturalWidth; }), { timeout: 10_000 }).toBe(16);
    const full = await timeline.locator('.attachment.kind-image a.thumb').getAttribute('href');
    const fullRes = await fetch(full!);
    expect(fullRes.headers.get('content-type')).toBe('image/jpeg');
    expect(fullRes.headers.get('content-disposition')).toMatch(/^inline; /);
    expect(sha256(Buffer.from(await fullRes.arrayBuffer()))).toBe(sha256(sampleMediaBytes('jpeg')));

    // The PDF: a download link with its name and size, not an image.
    const pdf = timeline.locator('.attachment.kind-application');
    await expect.poll(() => pdf.locator('a.download').textContent()).toBe('invoice-42.pdf');
    expect(await pdf.textContent()).toContain(`application/pdf · ${sampleMediaBytes('pdf').length} B`);
    expect(await pdf.locator('img').count()).toBe(0);
    const download = page.waitForEvent('download');
    await pdf.locator('a.download').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('invoice-42.pdf');
    expect(sha256(Buffer.from(await (await fetch(file.url())).arrayBuffer()))).toBe(sha256(sampleMediaBytes('pdf')));

    // The video over the 1 MB limit: named, with the reason.
    const big = timeline.locator('.attachment[data-status="too_large"]');
    await expect.poll(() => big.textContent()).toContain('not kept: larger than the 1.0 MB limit');
    expect(await big.textContent()).toContain('unboxing.mp4');

    await page.locator('.attachment.kind-image').scrollIntoViewIfNeeded();
    const shot = screenshotPath('inbox-attachments.png');
    await page.screenshot({ path: shot });
    // The README shows it (docs/inbox-attachments.png): refreshed when asked for.
    if (process.env.CONFLUO_UPDATE_DOCS === '1') copyFileSync(shot, join(REPO_ROOT, 'docs', 'inbox-attachments.png'));
    await page.close();
  });
});
