/**
 * The local media store and its presigned URLs, served by the local server as S3 would serve
 * them: bytes back with the signed Content-Type and Content-Disposition; forged, altered or
 * expired URLs refused with 403; uploads held to their policy (size, content type, key, expiry).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/runtime/config.js';
import { VirtualClock } from '../../local/clock.js';
import { LocalMediaSigner, localMediaStore } from '../../local/media-store.js';
import { Outbox } from '../../local/outbox.js';
import { LocalS3 } from '../../local/s3.js';
import { createLocalServer } from '../../local/server.js';
import type { MediaStore } from '../../functions/runtime/ports.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
let server: Server;
let base = '';
let clock: VirtualClock;
let s3: LocalS3;
let media: MediaStore;

beforeAll(async () => {
  clock = new VirtualClock();
  s3 = new LocalS3();
  const signer = new LocalMediaSigner(clock, () => base);
  const unused = () => Promise.reject(new Error('not used here'));
  server = createLocalServer({
    gateway: { route: unused }, invoke: unused, config: loadConfig({}), clock, outbox: new Outbox(),
    settle: unused, queues: () => [], s3, mediaSigner: signer,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  media = localMediaStore('confluo-media', s3, signer);
});
afterAll(async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); });

describe('local media store', () => {
  it('puts, gets and deletes objects (a missing one is NoSuchKey; deleting it again is no error)', async () => {
    await media.put('tickets/T1/messages/M1/0', PDF, { contentType: 'application/pdf' });
    expect(await media.get('tickets/T1/messages/M1/0')).toEqual(PDF);
    await media.delete(['tickets/T1/messages/M1/0', 'tickets/T1/messages/M1/9']);
    await expect(media.get('tickets/T1/messages/M1/0')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('serves a presigned GET with the signed content type and disposition, nosniff', async () => {
    await media.put('tickets/T1/messages/M1/1', PDF, { contentType: 'application/pdf' });
    const url = await media.presignGet('tickets/T1/messages/M1/1', { fileName: 'Счёт "март".pdf', contentType: 'application/pdf', expiresSeconds: 300 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="____ ______.pdf"; filename*=UTF-8''${encodeURIComponent('Счёт "март".pdf')}`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PDF);
  });

  it('refuses a forged or altered GET URL with 403', async () => {
    const url = new URL(await media.presignGet('tickets/T1/messages/M1/1', { fileName: 'a.pdf', contentType: 'application/pdf', expiresSeconds: 300 }));
    const altered = new URL(url); altered.searchParams.set('response-content-type', 'text/html');
    expect((await fetch(altered)).status).toBe(403);
    const otherKey = new URL(url); otherKey.pathname = otherKey.pathname.replace(/1$/, '0');
    expect((await fetch(otherKey)).status).toBe(403);
    const forged = new URL(url); forged.searchParams.set('sig', 'A'.repeat(43));
    expect((await fetch(forged)).status).toBe(403);
  });

  it('refuses an expired GET URL with 403 once the (virtual) clock passed its expiry', async () => {
    const url = await media.presignGet('tickets/T1/messages/M1/1', { fileName: 'a.pdf', contentType: 'application/pdf', expiresSeconds: 60 });
    expect((await fetch(url)).status).toBe(200);
    clock.advance(61_000);
    expect((await fetch(url)).status).toBe(403);
  });

  /** Posts the form as a browser would: the policy's fields, then the file last. */
  async function upload(post: { url: string; fields: Readonly<Record<string, string>> }, bytes: Buffer, type: string, override: Record<string, string> = {}) {
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...post.fields, 'Content-Type': type, ...override })) form.append(k, v);
    form.append('file', new Blob([bytes], { type }), 'x');
    const res = await fetch(post.url, { method: 'POST', body: form });
    return { status: res.status, body: res.status === 204 ? null : (await res.json()) as { error: { code: string } } };
  }

  it('accepts an upload within the policy and stores exactly those bytes under the signed key', async () => {
    const post = await media.presignPost('uploads/agents/a1/U1', { maxBytes: 1024, contentTypes: ['application/pdf'], expiresSeconds: 300 });
    expect(post.fields.key).toBe('uploads/agents/a1/U1');
    expect((await upload(post, PDF, 'application/pdf')).status).toBe(204);
    expect(await media.get('uploads/agents/a1/U1')).toEqual(PDF);
  });

  it('refuses an upload over the size limit (400 EntityTooLarge), of another content type or key, or forged (403)', async () => {
    const post = await media.presignPost('uploads/agents/a1/U2', { maxBytes: 16, contentTypes: ['image/'], expiresSeconds: 300 });
    expect(await upload(post, Buffer.alloc(17), 'image/png')).toMatchObject({ status: 400, body: { error: { code: 'EntityTooLarge' } } });
    expect((await upload(post, Buffer.alloc(8), 'text/html')).status).toBe(403);
    expect((await upload(post, Buffer.alloc(8), 'image/png', { key: 'uploads/agents/someone-else/U2' })).status).toBe(403);
    expect((await upload(post, Buffer.alloc(8), 'image/png', { 'x-confluo-signature': 'forged' })).status).toBe(403);
    expect(s3.has('confluo-media', 'uploads/agents/a1/U2')).toBe(false);
    expect((await upload(post, Buffer.alloc(8), 'image/png')).status).toBe(204);
  });

  it('refuses an expired upload policy with 403', async () => {
    const post = await media.presignPost('uploads/webchat/s1/U3', { maxBytes: 1024, contentTypes: ['image/png'], expiresSeconds: 60 });
    clock.advance(61_000);
    expect((await upload(post, Buffer.alloc(8), 'image/png')).status).toBe(403);
  });

  it('refuses to sign a policy with several content types (S3 policies have no list condition)', async () => {
    await expect(media.presignPost('uploads/agents/a1/U4', { maxBytes: 1, contentTypes: ['image/png', 'application/pdf'], expiresSeconds: 60 })).rejects.toMatchObject({ name: 'MediaStoreError' });
  });
});
