/**
 * Outbound attachments end to end through the Agent API (issue 14): upload form → presigned POST →
 * reply naming the upload → the send function's native platform requests in the outbox. Covers
 * the checks the reply makes on the stored object (its own upload for this ticket, magic-byte
 * type, the channel's limits → 422) and VK's multi-step upload-server flow.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWrites, type WritingChannel } from '../helpers/customer-writes.js';
import { testRuntime, type DevOutboxItem } from '../helpers/runtime.js';

type Rt = Awaited<ReturnType<typeof testRuntime>>;

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e221bc330000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('outbound attachments through the Agent API', () => {
  let rt: Rt;
  let ann: string;
  let bob: string;
  const tickets = new Map<string, string>();

  beforeAll(async () => {
    rt = await testRuntime({ CONFLUO_AUTO_ACK: 'off' });
    [ann, bob] = await Promise.all([rt.api.token('ann'), rt.api.token('bob')]);
    const from: Record<WritingChannel, string> = { telegram: '58140011', vk: '300400511', whatsapp: '4915112340011', messenger: '', instagram: '', viber: '', twilio: '' };
    for (const channel of ['telegram', 'vk', 'whatsapp'] as const) {
      expect((await rt.api.webhook(channel, customerWrites(channel, from[channel], 'Photo please', rt.clock.now(), 'Test'))).status).toBe(200);
    }
    await rt.settle();
    for (const t of (await rt.api.get('/api/v1/tickets', ann)).body.items as Array<{ id: string; channel: string }>) tickets.set(t.channel, t.id);
  });
  afterAll(async () => { await rt?.stop(); });

  /** Ask for a form and post the bytes as a browser would. */
  async function upload(ticket: string, token: string, file: { name: string; type: string; bytes: Buffer }): Promise<string> {
    const form = await rt.api.post(`/api/v1/tickets/${ticket}/attachments`, { file_name: file.name, content_type: file.type, size: file.bytes.length }, token);
    expect(form.status, JSON.stringify(form.body)).toBe(201);
    const body = new FormData();
    for (const [k, v] of Object.entries(form.body.fields as Record<string, string>)) body.append(k, v);
    body.append('file', new Blob([file.bytes], { type: file.type }), file.name);
    const res = await fetch(form.body.url, { method: 'POST', body });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return form.body.upload_id;
  }
  const outbox = async (ticket: string) => ((await rt.api.get('/dev/outbox')).body.items as DevOutboxItem[]).filter((o) => o.ticket_id === ticket);

  it('Telegram: a photo by URL (serving the uploaded bytes) and a PDF uploaded as a document', async () => {
    const ticket = tickets.get('telegram')!;
    const photo = await upload(ticket, ann, { name: 'box.png', type: 'image/png', bytes: PNG });
    const pdf = await upload(ticket, ann, { name: 'label.pdf', type: 'application/pdf', bytes: PDF });
    const r = await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { text: 'Photo and label', attachments: [{ upload_id: photo, file_name: 'box.png' }, { upload_id: pdf, file_name: 'label.pdf' }] }, ann);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ parts: 3, attachments: [{ file_name: 'box.png', content_type: 'image/png', as: 'image' }, { file_name: 'label.pdf', content_type: 'application/pdf', as: 'document' }] });
    await rt.settle();
    const sent = (await outbox(ticket)).filter((o) => o.kind === 'reply');
    expect(sent.map((o) => o.request.url.split('/').pop())).toEqual(['sendMessage', 'sendPhoto', 'sendDocument']);
    const link = JSON.parse(sent[1]!.request.body!).photo as string;
    expect(sha(Buffer.from(await (await fetch(link)).arrayBuffer()))).toBe(sha(PNG));
    const doc = (sent[2]!.request as { form?: Array<{ name: string; data_b64?: string }> }).form!.find((f) => f.name === 'document')!;
    expect(sha(Buffer.from(doc.data_b64!, 'base64'))).toBe(sha(PDF));
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticket}/timeline`, ann)).body.items as Array<{ direction?: string; delivery?: string; attachments?: Array<{ file_name: string; sha256?: string }> }>;
    const out = timeline.find((e) => e.direction === 'out')!;
    expect(out.delivery).toBe('sent');
    expect(out.attachments?.map((a) => a.file_name)).toEqual(['box.png', 'label.pdf']);
  });

  it('VK: the upload-server flow, then messages.send with the saved photo as its attachment', async () => {
    const ticket = tickets.get('vk')!;
    const photo = await upload(ticket, ann, { name: 'box.png', type: 'image/png', bytes: PNG });
    expect((await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { attachments: [{ upload_id: photo, file_name: 'box.png' }] }, ann)).status).toBe(202);
    await rt.settle();
    const steps = await outbox(ticket);
    expect(steps.map((o) => [o.kind, o.request.url.replace(/c\d+/, 'cN')])).toEqual([
      ['media-upload', 'https://api.vk.com/method/photos.getMessagesUploadServer'],
      ['media-upload', 'https://pu.vk.com/cN/upload.php?act=do_add'],
      ['media-upload', 'https://api.vk.com/method/photos.saveMessagesPhoto'],
      ['reply', 'https://api.vk.com/method/messages.send'],
    ]);
    const uploaded = (steps[1]!.request as { form?: Array<{ name: string; data_b64?: string }> }).form!.find((f) => f.name === 'photo')!;
    expect(sha(Buffer.from(uploaded.data_b64!, 'base64'))).toBe(sha(PNG));
    expect(new URLSearchParams(steps[3]!.request.body!).get('attachment')).toMatch(/^photo-1_\d+_k\d+$/);
  });

  it('the type comes from the bytes, not the name or the claim; another agent\'s upload or a missing one is refused', async () => {
    const ticket = tickets.get('whatsapp')!;
    // Declared a PDF, really a PNG: sent as an image.
    const disguised = await upload(ticket, ann, { name: 'photo.pdf', type: 'application/pdf', bytes: PNG });
    const r = await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { attachments: [{ upload_id: disguised, file_name: 'photo.pdf' }] }, ann);
    expect(r.status).toBe(202);
    expect(r.body.attachments).toEqual([{ file_name: 'photo.pdf', content_type: 'image/png', size: PNG.length, as: 'image' }]);
    // Bob cannot send Ann's upload (the key is built from the caller), nor an id never uploaded.
    const mine = await upload(ticket, ann, { name: 'label.pdf', type: 'application/pdf', bytes: PDF });
    const theirs = await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { text: 'x', attachments: [{ upload_id: mine, file_name: 'label.pdf' }] }, bob);
    expect([theirs.status, theirs.body.error.code]).toEqual([422, 'upload_missing']);
    const none = await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { text: 'x', attachments: [{ upload_id: '01JABCDEFGHJKMNPQRSTVWXYZ0.pdf', file_name: 'a.pdf' }] }, ann);
    expect([none.status, none.body.error.code]).toEqual([422, 'upload_missing']);
  });

  it('answers 422 naming the platform limit before anything is uploaded or stored', async () => {
    const ticket = tickets.get('whatsapp')!;
    const big = await rt.api.post(`/api/v1/tickets/${ticket}/attachments`, { file_name: 'scan.png', content_type: 'image/png', size: 5_000_001 }, ann);
    expect([big.status, big.body.error.code]).toEqual([422, 'attachment_too_large']);
    expect(big.body.error.message).toContain('5 MB whatsapp takes');
    const webp = await rt.api.post(`/api/v1/tickets/${ticket}/attachments`, { file_name: 'a.webp', content_type: 'image/webp', size: 1000 }, ann);
    expect([webp.status, webp.body.error.code]).toEqual([422, 'attachment_type_not_allowed']);
    // Checked again on the stored bytes at reply: declared a PDF, really a WebP — WhatsApp takes no WebP image.
    const webpBytes = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x1a, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(14)]);
    const id = await upload(ticket, ann, { name: 'doc.pdf', type: 'application/pdf', bytes: webpBytes });
    // Earlier tests' sends on this ticket drain first, so `before` counts only what already went out.
    await rt.settle();
    const before = (await outbox(ticket)).length;
    const refused = await rt.api.post(`/api/v1/tickets/${ticket}/replies`, { text: 'see attached', attachments: [{ upload_id: id, file_name: 'doc.pdf' }] }, ann);
    expect([refused.status, refused.body.error.code]).toEqual([422, 'attachment_type_not_allowed']);
    expect(refused.body.error.message).toContain('image/webp');
    await rt.settle();
    expect((await outbox(ticket)).length).toBe(before);
  });
});
