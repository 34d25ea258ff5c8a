/**
 * The media λ's failure paths against DynamoDB Local (the platform's answers scripted: the
 * download port is the one mock): transient answers retry with exponential backoff and end as
 * `failed` with their reason on the last receive — never thrown into the DLQ; a 404 is `gone`;
 * a stored attachment is never fetched again; bytes of a message erased meanwhile are deleted.
 */
import { createHash } from 'node:crypto';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../functions/domain/clock.js';
import { makeMedia } from '../../functions/handlers/media.js';
import { makeProcess } from '../../functions/handlers/process.js';
import type { Downloaded, DownloadBytes, MediaStore } from '../../functions/runtime/ports.js';
import type { Db } from '../../functions/store/db.js';
import { listTimeline } from '../../functions/store/reads.js';
import type { EventEntry, MessageEntry } from '../../functions/store/records.js';
import { LocalMediaSigner, localMediaStore } from '../../local/media-store.js';
import { sampleMediaBytes } from '../../local/platform-simulator.js';
import { LocalS3 } from '../../local/s3.js';
import { freshTable } from '../helpers/ddb.js';
import { keys } from '../../functions/store/table.js';
import { recordOf, sample, sqsRecord, testConfig } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const clock = fixedClock(T0);
const JPEG = sampleMediaBytes('jpeg');
const getFileOk: Downloaded = { kind: 'bytes', status: 200, headers: {}, bytes: Buffer.from(JSON.stringify({ ok: true, result: { file_path: 'photos/file_1.jpg', file_size: JPEG.length } })) };

/** A Telegram photo message committed by the process λ, and the media job its feed event names. */
async function photoMessage(db: Db): Promise<{ job: { ticket_id: string; entry_sk: string; message_id: string; channel: string }; ticketId: string }> {
  const process = makeProcess({ db, clock, config: testConfig() });
  expect((await process({ Records: [await recordOf(sample('telegram', '02-photo-caption'), T0)] })).batchItemFailures).toEqual([]);
  // The day's feed is sharded (functions/store/table.ts keys.feedDay): read every shard.
  const feed = (await Promise.all(keys.feedDay(T0).map(async (pk) => (await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk } }))).Items ?? []))).flat();
  const pending = feed.find((e) => e.type === 'media.pending')!;
  expect(pending).toBeDefined();
  return { job: { ticket_id: pending.ticket_id, entry_sk: pending.data.entry_sk, message_id: pending.data.message_id, channel: 'telegram' }, ticketId: pending.ticket_id };
}

const record = (job: object, receiveCount: number): SQSRecord => {
  const r = sqsRecord(JSON.stringify(job), 'g');
  return { ...r, attributes: { ...r.attributes, ApproximateReceiveCount: String(receiveCount) } };
};

describe('media handler', () => {
  let db: Db;
  let s3: LocalS3;
  let media: MediaStore;
  let backoffs: number[];
  let answers: Array<Downloaded | Error>;
  let calls: string[];
  const download: DownloadBytes = async (request) => {
    calls.push(request.url);
    const next = answers.shift();
    if (!next) throw new Error('test: no scripted answer left');
    if (next instanceof Error) throw next;
    return next;
  };
  const handler = () => makeMedia({ db, clock, config: testConfig(), media, download, backoff: async (_rh, seconds) => { backoffs.push(seconds); } });
  const message = async (ticketId: string) => (await listTimeline(db, ticketId)).find((e): e is MessageEntry => e.type === 'message')!;

  beforeEach(async () => {
    ({ db } = await freshTable('media'));
    s3 = new LocalS3();
    media = localMediaStore('media-test', s3, new LocalMediaSigner(clock, () => 'http://127.0.0.1'));
    backoffs = []; answers = []; calls = [];
  });

  it('stores the photo once (getFile, then the file) and never fetches it again', async () => {
    const { job, ticketId } = await photoMessage(db);
    answers = [getFileOk, { kind: 'bytes', status: 200, headers: {}, bytes: JPEG }];
    expect((await handler()({ Records: [record(job, 1)] })).batchItemFailures).toEqual([]);
    expect(calls.map((u) => new URL(u).pathname.replace(/bot[^/]+/, 'bot<token>'))).toEqual(['/bot<token>/getFile', '/file/bot<token>/photos/file_1.jpg']);
    expect((await message(ticketId)).attachments[0]!.media).toMatchObject({ status: 'stored', content_type: 'image/jpeg', size: JPEG.length });
    expect(await media.get(`tickets/${job.ticket_id}/messages/${job.message_id}/0`)).toEqual(JPEG);
    // Redelivered: nothing pending, nothing fetched.
    expect((await handler()({ Records: [record(job, 2)] })).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('keeps a web-chat visitor\'s upload from the bucket under the ticket, typed by its bytes, and marks an upload that never finished gone', async () => {
    // 03-attachments names two uploads under the session's prefix: a PNG (here in the bucket) and a PDF (never uploaded).
    const process = makeProcess({ db, clock, config: testConfig() });
    expect((await process({ Records: [await recordOf(sample('webchat', '03-attachments'), T0)] })).batchItemFailures).toEqual([]);
    const feed = (await Promise.all(keys.feedDay(T0).map(async (pk) => (await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk } }))).Items ?? []))).flat();
    const pending = feed.find((e) => e.type === 'media.pending')!;
    expect(pending.data.count).toBe(2);
    const job = { ticket_id: pending.ticket_id, entry_sk: pending.data.entry_sk, message_id: pending.data.message_id, channel: 'webchat' };
    const uploaded = (await message(job.ticket_id)).attachments.map((a) => a.platform_ref!);
    expect(uploaded.every((k) => k.startsWith('uploads/webchat/c_Q4n7Rk2Wm9Xp3Ts8Vb6Yd1/'))).toBe(true);
    const PNG = sampleMediaBytes('png');
    await media.put(uploaded[0]!, PNG, { contentType: 'application/octet-stream' }); // the claimed type is not trusted

    expect((await handler()({ Records: [record(job, 1)] })).batchItemFailures).toEqual([]);
    expect(calls).toEqual([]); // read from the bucket, never downloaded
    const [png, pdf] = (await message(job.ticket_id)).attachments;
    expect(png!.media).toMatchObject({ status: 'stored', content_type: 'image/png', size: PNG.length, sha256: createHash('sha256').update(PNG).digest('hex') });
    expect(await media.get(`tickets/${job.ticket_id}/messages/${job.message_id}/0`)).toEqual(PNG);
    expect(pdf!.media).toMatchObject({ status: 'gone', reason: 'the upload is not in the media bucket (never finished, or expired)' });
  });

  it('retries a platform 503 with exponential backoff, then records failed with the reason on the last receive instead of dead-lettering', async () => {
    const { job, ticketId } = await photoMessage(db);
    const h = handler();
    for (let receive = 1; receive <= 4; receive++) {
      answers = [{ kind: 'bytes', status: 503, headers: {}, bytes: Buffer.from('busy') }];
      expect((await h({ Records: [record(job, receive)] })).batchItemFailures).toHaveLength(1);
      expect((await message(ticketId)).attachments[0]!.media?.status).toBe('pending');
    }
    expect(backoffs).toEqual([30, 60, 120, 240]);
    answers = [{ kind: 'bytes', status: 503, headers: {}, bytes: Buffer.from('busy') }];
    expect((await h({ Records: [record(job, 5)] })).batchItemFailures).toEqual([]);
    expect((await message(ticketId)).attachments[0]!.media).toMatchObject({ status: 'failed', reason: 'the platform answered 503; gave up after 5 attempts' });
    const events = (await listTimeline(db, ticketId)).filter((e): e is EventEntry => e.type === 'event' && e.event === 'attachment.not_kept');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ message_id: job.message_id, index: 0, status: 'failed' });
  });

  it('treats a network failure like a 503 (retried), and a 404 as gone', async () => {
    const { job, ticketId } = await photoMessage(db);
    answers = [new TypeError('fetch failed')];
    expect((await handler()({ Records: [record(job, 1)] })).batchItemFailures).toHaveLength(1);
    answers = [getFileOk, { kind: 'bytes', status: 404, headers: {}, bytes: Buffer.alloc(0) }];
    expect((await handler()({ Records: [record(job, 2)] })).batchItemFailures).toEqual([]);
    expect((await message(ticketId)).attachments[0]!.media).toMatchObject({ status: 'gone', reason: 'the platform no longer has the file (404)' });
    expect(s3.keys('media-test')).toEqual([]);
  });

  it('says the token is missing instead of calling the platform with a placeholder', async () => {
    const { job, ticketId } = await photoMessage(db);
    const h = makeMedia({ db, clock, config: testConfig({ TELEGRAM_BOT_TOKEN: '' }), media, download });
    expect((await h({ Records: [record(job, 1)] })).batchItemFailures).toEqual([]);
    expect(calls).toEqual([]);
    expect((await message(ticketId)).attachments[0]!.media).toMatchObject({ status: 'failed', reason: 'the telegram token for downloads is not configured' });
  });

  it('keeps no bytes of a message erased while its attachment was being fetched', async () => {
    const { job, ticketId } = await photoMessage(db);
    answers = [getFileOk, { kind: 'bytes', status: 200, headers: {}, bytes: JPEG }];
    const erasing: DownloadBytes = async (req, opts, meta) => {
      const res = await download(req, opts, meta);
      if (calls.length === 2) {
        await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: { pk: `TICKET#${job.ticket_id}`, sk: job.entry_sk }, UpdateExpression: 'SET attachments = :none, anonymised = :t', ExpressionAttributeValues: { ':none': [], ':t': true } }));
      }
      return res;
    };
    const h = makeMedia({ db, clock, config: testConfig(), media, download: erasing });
    expect((await h({ Records: [record(job, 1)] })).batchItemFailures).toEqual([]);
    expect(s3.keys('media-test')).toEqual([]);
    expect((await message(ticketId)).attachments).toEqual([]);
  });
});
