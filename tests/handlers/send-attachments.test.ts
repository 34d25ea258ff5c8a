/**
 * The send λ with files (issue 14), against the local runtime's table: a file gone from the media
 * bucket fails the message `attachment_missing` without a platform call; a VK upload server whose
 * answer is unusable fails it `upload_failed` without sending the message; a rate-limited upload
 * step is retried later like a send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PlatformRequest, PlatformResponse } from '../../functions/channels/channel.js';
import { makeSend, SendRetryLater } from '../../functions/handlers/send.js';
import type { MediaStore } from '../../functions/runtime/ports.js';
import { keys } from '../../functions/store/table.js';
import type { Runtime } from '../../local/runtime.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TICKET = '01JFTICKETFILES00000000000';
const SHA = 'a'.repeat(64);

describe('send: files', () => {
  let rt: Runtime & { api: ApiClient };
  beforeAll(async () => { rt = await testRuntime({ VK_ACCESS_TOKEN: 'vk-token', TELEGRAM_BOT_TOKEN: 't' }, { visibilityTimeoutMs: 5000 }); });
  afterAll(async () => { await rt?.stop(); });

  /** A media store whose objects are `objects` (a missing key rejects as S3 does: NoSuchKey). */
  const store = (objects: Record<string, Buffer>): MediaStore => ({
    bucket: 'b',
    put: async () => {},
    get: async (key) => { const o = objects[key]; if (!o) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' }); return o; },
    delete: async () => {},
    presignGet: async (key) => `https://media.example/${key}?sig=1`,
    presignPost: async () => ({ url: 'https://media.example/', fields: {} }),
  });
  const put = async (channel: string, id: string, at: number, key: string) => {
    const k = keys.timelineEntry(TICKET, at, id);
    await rt.db.doc.send(new PutCommand({ TableName: rt.db.tableName, Item: {
      ...k, ticket_id: TICKET, type: 'message', channel, conversation_id: '2000000001', edited: false, sent_at: at, id, at, direction: 'out', external_message_id: null,
      text: '', interaction: null, delivery: 'queued', delivery_rank: 0, outbound_kind: 'reply', author: 'ann',
      attachments: [{ type: 'image', file_name: 'box.png', mime_type: 'image/png', size: 3, media: { status: 'stored', key, size: 3, content_type: 'image/png', sha256: SHA } }],
    } }));
    return k.sk;
  };
  const stored = async (sk: string) => (await rt.db.doc.send(new GetCommand({ TableName: rt.db.tableName, Key: { pk: keys.ticket(TICKET).pk, sk }, ConsistentRead: true }))).Item!;
  const sender = (media: MediaStore, answer: (r: PlatformRequest) => PlatformResponse) => {
    const calls: PlatformRequest[] = [];
    const quiet = () => {};
    return { calls, send: makeSend({ db: rt.db, config: rt.config, media, random: () => 0, perform: async (r) => { calls.push(r); return answer(r); }, logger: { info: quiet, warn: quiet, error: quiet } }) };
  };
  const ok = (body: unknown): PlatformResponse => ({ status: 200, headers: {}, body: JSON.stringify(body) });

  it('fails a reply whose file is no longer in the bucket with attachment_missing, calling no platform', async () => {
    const sk = await put('vk', 'out-missing-1', 1_000, 'uploads/agents/ann/T/gone.png');
    const { send, calls } = sender(store({}), () => ok({ response: 1 }));
    expect(await send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'out-missing-1' })).toBe('failed');
    expect(calls).toHaveLength(0);
    expect(await stored(sk)).toMatchObject({ delivery: 'failed', delivery_error: 'attachment_missing' });
  });

  it('fails a VK reply with upload_failed when the upload server gives no upload_url, sending no message', async () => {
    const key = 'uploads/agents/ann/T/box.png';
    const sk = await put('vk', 'out-upload-1', 2_000, key);
    const { send, calls } = sender(store({ [key]: Buffer.from([1, 2, 3]) }), () => ok({ response: { album_id: -3 } }));
    expect(await send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'out-upload-1' })).toBe('failed');
    expect(calls.map((c) => c.url)).toEqual(['https://api.vk.com/method/photos.getMessagesUploadServer']);
    expect(await stored(sk)).toMatchObject({ delivery: 'failed', delivery_error: 'upload_failed' });
  });

  it('retries later when VK rate-limits an upload step (error 6), the message still queued', async () => {
    const key = 'uploads/agents/ann/T/box2.png';
    const sk = await put('vk', 'out-upload-2', 3_000, key);
    const { send } = sender(store({ [key]: Buffer.from([1, 2, 3]) }), () => ok({ error: { error_code: 6, error_msg: 'Too many requests per second' } }));
    await expect(send.sendOne({ ticket_id: TICKET, entry_sk: sk, message_id: 'out-upload-2' })).rejects.toBeInstanceOf(SendRetryLater);
    expect(await stored(sk)).toMatchObject({ delivery: 'queued' });
  });
});
