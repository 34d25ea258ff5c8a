/**
 * Inbound attachments end to end (issue 14) through the local runtime: a Telegram photo, a
 * WhatsApp image, a Twilio MMS and an e-mail with a PDF are each fetched with their channel's
 * own method (the platform simulator serves local/sample-media), stored once in the media bucket
 * with the detected type and the sha256 of the bytes served, and downloadable through the Agent
 * API's signed URL. Replays and redelivered jobs store nothing twice; an oversize file is marked
 * on the timeline with its reason while its message stays, with nothing dead-lettered; erasing the
 * customer deletes the objects.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { sampleMediaBytes, OVERSIZE_BYTES } from '../../local/platform-simulator.js';
import { loadSamples, CHANNELS_DIR } from '../helpers/samples.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';
import { join } from 'node:path';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';

interface Att { type: string; file_name?: string; media?: { status: string; size?: number; content_type?: string; sha256?: string; reason?: string } }
interface Msg { type: 'message'; id: string; channel: string; direction: string; text: string; attachments: Att[] }

describe('inbound attachments end to end', () => {
  let rt: Runtime & { api: ApiClient };
  let token: string;
  const post = async (channel: string, name: string) => {
    const s = loadSamples(channel, { at: rt.clock.now() }).find((x) => x.name === name)!;
    const res = await rt.api.webhook(channel, { headers: s.request.headers, body: s.request.body, query: s.request.query });
    expect(res.status, `${channel}/${name}`).toBeLessThan(300);
  };
  const settle = async () => { const r = await rt.settle(); expect(r.dlq).toBe(0); return r; };
  /** The message of `channel` whose text contains `text`, with its ticket. */
  const messageOf = async (channel: string, text: string): Promise<{ ticketId: string; msg: Msg }> => {
    const tickets = (await rt.api.get('/api/v1/tickets?limit=100', token)).body.items as Array<{ id: string; channel: string }>;
    for (const t of tickets.filter((x) => x.channel === channel)) {
      const items = (await rt.api.get(`/api/v1/tickets/${t.id}/timeline`, token)).body.items as Array<Msg | { type: string }>;
      const msg = items.find((e): e is Msg => e.type === 'message' && (e as Msg).direction === 'in' && (e as Msg).text.includes(text));
      if (msg) return { ticketId: t.id, msg };
    }
    throw new Error(`no ${channel} message with that text`);
  };
  const mediaKeys = () => rt.s3.keys(rt.mediaBucket, 'tickets/');
  /** Downloads attachment n through the Agent API's signed URL. */
  const download = async (ticketId: string, messageId: string, n: number) => {
    const link = await rt.api.get(`/api/v1/tickets/${ticketId}/messages/${messageId}/attachments/${n}`, token);
    expect(link.status).toBe(200);
    const res = await fetch(link.body.url);
    expect(res.status).toBe(200);
    return { link: link.body as { url: string; content_type: string; file_name: string; size: number; sha256: string; expires_at: string }, res, bytes: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    rt = await testRuntime({ TWILIO_ACCOUNT_SID: TWILIO_SID, CONFLUO_MEDIA_MAX_MB: '1' }, { visibilityTimeoutMs: 5000 });
    token = await rt.api.token('ann', 'agent');
    await post('telegram', '02-photo-caption');
    await post('whatsapp', '03-image');
    await post('twilio', '02-mms-image-video');
    await post('email', '03-attachments-dmarc-fail');
    await settle();
  });
  afterAll(async () => { await rt?.stop(); });

  it('stores a Telegram photo (getFile, then the file) once, as the JPEG the platform served', async () => {
    const { ticketId, msg } = await messageOf('telegram', 'Paczka');
    const served = sampleMediaBytes('jpeg');
    expect(msg.attachments[0]!.media).toEqual({ status: 'stored', size: served.length, content_type: 'image/jpeg', sha256: sha256(served) });
    const { link, res, bytes } = await download(ticketId, msg.id, 0);
    expect(sha256(bytes)).toBe(sha256(served));
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="attachment-1\.jpg"/);
    expect(link).toMatchObject({ content_type: 'image/jpeg', file_name: 'attachment-1.jpg', size: served.length });
    // Signed for CONFLUO_MEDIA_URL_SECONDS (300 s) from when it was asked for.
    expect(Date.parse(link.expires_at) - rt.clock.now()).toBeLessThanOrEqual(300_000);
    expect(Date.parse(link.expires_at) - rt.clock.now()).toBeGreaterThan(240_000);
  });

  it('stores a WhatsApp image (media id → URL → download with the bearer token)', async () => {
    const { ticketId, msg } = await messageOf('whatsapp', '');
    const att = msg.attachments.find((a) => a.type === 'image')!;
    expect(att.media).toMatchObject({ status: 'stored', content_type: 'image/jpeg', sha256: sha256(sampleMediaBytes('jpeg')) });
    expect(sha256((await download(ticketId, msg.id, msg.attachments.indexOf(att))).bytes)).toBe(sha256(sampleMediaBytes('jpeg')));
  });

  it('stores both media of a Twilio MMS (MediaUrlN with Basic auth), typed by their bytes', async () => {
    const { ticketId, msg } = await messageOf('twilio', 'The box arrived');
    expect(msg.attachments.map((a) => a.media?.status)).toEqual(['stored', 'stored']);
    // The simulator serves the photo for both URLs: the stored type is what the bytes are, not the claimed video/mp4.
    expect(msg.attachments[1]!.media!.content_type).toBe('image/jpeg');
    expect(sha256((await download(ticketId, msg.id, 0)).bytes)).toBe(sha256(sampleMediaBytes('jpeg')));
  });

  it('stores an e-mail\'s PDF cut from the MIME the process step kept, named as the mail names it', async () => {
    const { ticketId, msg } = await messageOf('email', 'Bonjour');
    const eml = readFileSync(join(CHANNELS_DIR, 'email', 'samples', '03-attachments.eml'), 'latin1');
    const pdf = Buffer.from(/Content-Type: application\/pdf[\s\S]*?\r?\n\r?\n([A-Za-z0-9+/=]+)/.exec(eml)![1]!, 'base64');
    expect(msg.attachments.map((a) => a.media?.content_type)).toEqual(['image/png', 'application/pdf']);
    expect(msg.attachments[1]!.media).toMatchObject({ status: 'stored', size: pdf.length, sha256: sha256(pdf) });
    const { res, bytes, link } = await download(ticketId, msg.id, 1);
    expect(bytes.equals(pdf)).toBe(true);
    expect(link.file_name).toBe('facture-n°42.pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="facture-n_42.pdf"; filename*=UTF-8''facture-n%C2%B042.pdf`);
  });

  it('keeps one object per attachment: a replayed webhook and a redelivered job store nothing twice', async () => {
    const keys = mediaKeys();
    expect(keys).toHaveLength(1 + 1 + 2 + 2);
    const before = await messageOf('telegram', 'Paczka');
    await post('telegram', '02-photo-caption');
    await post('twilio', '02-mms-image-video');
    // The same job again, as a redelivered stream record would enqueue it.
    const entrySk = (await rt.db.doc.send(new (await import('@aws-sdk/lib-dynamodb')).QueryCommand({
      TableName: rt.db.tableName, KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': `TICKET#${before.ticketId}`, ':s': 'TL#' },
    }))).Items!.find((i) => i.id === before.msg.id)!.sk as string;
    rt.queues.media.send({ body: JSON.stringify({ ticket_id: before.ticketId, entry_sk: entrySk, message_id: before.msg.id, channel: 'telegram' }) });
    await settle();
    expect(mediaKeys()).toEqual(keys);
    const after = await messageOf('telegram', 'Paczka');
    expect(after.msg).toEqual(before.msg);
  });

  it('answers 404 for an attachment that is not stored, or not there', async () => {
    const { ticketId, msg } = await messageOf('telegram', 'Paczka');
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/messages/${msg.id}/attachments/5`, token)).status).toBe(404);
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/messages/NOPE/attachments/0`, token)).status).toBe(404);
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/messages/${msg.id}/attachments/0`)).status).toBe(401);
  });

  it('marks an oversize file too_large on the timeline with the reason; the message is stored, nothing dead-lettered', async () => {
    const update = { update_id: 731299001, message: { message_id: 990, from: { id: 48120099, is_bot: false, first_name: 'Big' }, chat: { id: 48120099, type: 'private' }, date: 1790000100, caption: 'the whole video', document: { file_id: 'BQACoversize0001', file_unique_id: 'AgADbig', file_name: 'unboxing.mp4', mime_type: 'video/mp4' } } };
    const res = await rt.api.webhook('telegram', { headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'test-telegram-secret-000' }, body: JSON.stringify(update) });
    expect(res.status).toBe(200);
    await settle();
    const { ticketId, msg } = await messageOf('telegram', 'the whole video');
    expect(msg.attachments[0]!.media).toEqual({ status: 'too_large', reason: `larger than the 1.0 MB limit (${(OVERSIZE_BYTES / 1024 / 1024).toFixed(1)} MB)` });
    const timeline = (await rt.api.get(`/api/v1/tickets/${ticketId}/timeline`, token)).body.items as Array<{ type: string; event?: string; data?: Record<string, unknown> }>;
    expect(timeline.filter((e) => e.event === 'attachment.not_kept')).toEqual([expect.objectContaining({ data: expect.objectContaining({ message_id: msg.id, index: 0, status: 'too_large', reason: expect.stringContaining('1.0 MB limit') }) })]);
    expect(rt.queues.mediaDlq.stats().depth + rt.queues.inboundDlq.stats().depth).toBe(0);
    expect(mediaKeys().some((k) => k.includes(msg.id))).toBe(false);
    expect((await rt.api.get(`/api/v1/tickets/${ticketId}/messages/${msg.id}/attachments/0`, token)).status).toBe(404);
  });

  it('erasing the customer deletes their media objects (and the kept e-mail)', async () => {
    const { ticketId, msg } = await messageOf('email', 'Bonjour');
    const customerId = (await rt.api.get(`/api/v1/tickets/${ticketId}`, token)).body.customer_id as string;
    expect(mediaKeys().filter((k) => k.includes(msg.id))).toHaveLength(2);
    expect(rt.s3.keys(rt.mediaBucket, 'inbound-mail/')).toHaveLength(1);
    const admin = await rt.api.token('root', 'admin');
    const del = await fetch(`${rt.url}/api/v1/customers/${customerId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(del.status).toBe(202);
    await settle();
    expect((await rt.api.get(`/api/v1/customers/${customerId}/erasure`, admin)).body.state).toBe('erased');
    expect(mediaKeys().filter((k) => k.includes(msg.id))).toEqual([]);
    expect(rt.s3.keys(rt.mediaBucket, 'inbound-mail/')).toEqual([]);
    // Everyone else's attachments stay.
    expect(mediaKeys()).toHaveLength(4);
  });
});
