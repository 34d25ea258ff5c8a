import { describe, it, expect, beforeAll } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { makeProcess } from '../../functions/handlers/process.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { getIdentity, getTicket, listTimeline, getCustomer, listTickets } from '../../functions/store/reads.js';
import type { Db } from '../../functions/store/db.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, recordOf, sample, sqsRecord, telegramText, testConfig } from '../helpers/pipeline.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { indexKeys, keys } from '../../functions/store/table.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);

async function scanAll(db: Db) {
  const res = await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }));
  return (res.Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort();
}

async function telegramRecord(body: string) {
  const s = sample('telegram', '01-text');
  const { envelope, groupId } = await envelopeOf(s, T0, body);
  return sqsRecord(JSON.stringify(envelope), groupId);
}

describe('process handler', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let process: ReturnType<typeof makeProcess>;

  beforeAll(async () => {
    ({ db } = await freshTable('process'));
    process = makeProcess({ db, clock, config: testConfig() });
  });

  it('turns a first Telegram message into a customer, an identity and a new ticket holding the message', async () => {
    const res = await process({ Records: [await recordOf(sample('telegram', '01-text'), T0)] });
    expect(res.batchItemFailures).toEqual([]);
    const identity = await getIdentity(db, 'telegram', '48120077');
    expect(identity?.customer_id).toBeTruthy();
    const customer = await getCustomer(db, identity!.customer_id);
    const ticket = await getTicket(db, customer!.current_ticket_id!);
    expect(ticket).toMatchObject({ status: 'new', channel: 'telegram', conversation_id: '48120077', message_count: 1, number: 'C-000001' });
    const timeline = await listTimeline(db, ticket!.id);
    expect(timeline.filter((e) => e.type === 'message')).toHaveLength(1);
    expect(timeline.find((e) => e.type === 'message')).toMatchObject({ direction: 'in', external_message_id: '48120077:902' });
  });

  it('changes nothing when the same record is delivered again', async () => {
    const before = await scanAll(db);
    const res = await process({ Records: [await recordOf(sample('telegram', '01-text'), T0)] });
    expect(res.batchItemFailures).toEqual([]);
    expect(await scanAll(db)).toEqual(before);
  });

  it('appends a later message of the same customer to the open ticket in two DynamoDB round trips', async () => {
    const record = await recordOf(sample('telegram', '02-photo-caption'), T0);
    const calls = db.roundTrips();
    await process.recordHandler(record);
    expect(db.roundTrips() - calls).toBe(2);
    const identity = await getIdentity(db, 'telegram', '48120077');
    const ticket = await getTicket(db, identity!.ticket_hint!);
    expect(ticket?.message_count).toBe(2);
  });

  it('updates an edited message in place and keeps the previous text in its history', async () => {
    await process({ Records: [await recordOf(sample('telegram', '09-edited-message'), T0)] });
    const identity = await getIdentity(db, 'telegram', '48120077');
    const timeline = await listTimeline(db, identity!.ticket_hint!);
    const edited = timeline.find((e) => e.type === 'message' && e.external_message_id === '48120077:902');
    expect(edited).toMatchObject({ edited: true });
    expect(edited && 'history' in edited && edited.history?.length).toBe(1);
    expect(timeline.filter((e) => e.type === 'message')).toHaveLength(2);
  });

  it('creates nothing for an ignored event', async () => {
    const before = await scanAll(db);
    const res = await process({ Records: [await recordOf(sample('telegram', '12-group-message'), T0)] });
    expect(res.batchItemFailures).toEqual([]);
    expect(await scanAll(db)).toEqual(before);
  });

  it('reopens a resolved ticket within the reopen window and opens a linked ticket after it', async () => {
    const fromId = 700000001;
    await process.recordHandler(await telegramRecord(telegramText({ updateId: 9001, fromId, text: 'first' })));
    const identity = await getIdentity(db, 'telegram', String(fromId));
    const ticketId = identity!.ticket_hint!;
    const resolve = (at: number) => db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(ticketId), UpdateExpression: 'SET #s = :r, resolved_at = :at, gsi2pk = :g', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':at': at, ':g': indexKeys.byStatus('resolved', 0, ticketId).gsi2pk } }));
    await resolve(clock.now());
    clock.advance(2 * 86_400_000);
    await process.recordHandler(await telegramRecord(telegramText({ updateId: 9002, fromId, text: 'still broken' })));
    expect((await getTicket(db, ticketId))?.status).toBe('open');

    await resolve(clock.now());
    clock.advance(8 * 86_400_000);
    await process.recordHandler(await telegramRecord(telegramText({ updateId: 9003, fromId, text: 'new problem' })));
    const customer = await getCustomer(db, identity!.customer_id);
    expect(customer?.current_ticket_id).not.toBe(ticketId);
    const fresh = await getTicket(db, customer!.current_ticket_id!);
    expect(fresh).toMatchObject({ status: 'new', previous_ticket_id: ticketId });
  });

  it('keeps exactly one open ticket when many messages of one customer are processed at once', async () => {
    const fromId = 700000002;
    const records = await Promise.all(Array.from({ length: 30 }, (_, i) => telegramRecord(telegramText({ updateId: 10_000 + i, fromId, text: `burst ${i}` }))));
    // Different "workers" at once: each record in its own invocation.
    const results = await Promise.all(records.map((r) => process({ Records: [r] })));
    expect(results.flatMap((r) => r.batchItemFailures)).toEqual([]);
    const identity = await getIdentity(db, 'telegram', String(fromId));
    const customer = await getCustomer(db, identity!.customer_id);
    const all = await listTickets(db, { limit: 100 });
    const mine = all.items.filter((t) => t.customer_id === customer!.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.message_count).toBe(30);
    expect((await listTimeline(db, mine[0]!.id)).filter((e) => e.type === 'message')).toHaveLength(30);
  });

  it('reports a record that cannot be processed as a batch item failure without failing the others', async () => {
    const good = await telegramRecord(telegramText({ updateId: 20_001, fromId: 700000003, text: 'ok' }));
    const bad = sqsRecord('{"not":"an envelope"}', 'telegram:other');
    const res = await process({ Records: [bad, good] });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(await getIdentity(db, 'telegram', '700000003')).toBeDefined();
  });
});

describe('process handler: records that can never succeed', () => {
  let db: Db;
  const clock = fixedClock(T0);
  beforeAll(async () => { ({ db } = await freshTable('process-dead')); });

  /** A process λ whose dead-letter port records what it was handed, and whose S3 reads fail with `s3Error`. */
  const withDeadLetters = (s3Error?: { name: string }) => {
    const dead: Array<{ messageId: string; reason: string }> = [];
    const process = makeProcess({
      db, clock, config: testConfig(),
      deadLetter: async (record, reason) => { dead.push({ messageId: record.messageId, reason }); },
      readObject: async () => { throw Object.assign(new Error('s3 said no'), { name: s3Error?.name ?? 'NoSuchKey' }); },
    });
    return { process, dead };
  };

  it('dead-letters a body that is not an envelope on its first receive, with its reason', async () => {
    const { process, dead } = withDeadLetters();
    const bad = sqsRecord('{"not":"an envelope"}', 'telegram:other');
    const res = await process({ Records: [bad] });
    expect(res.batchItemFailures).toEqual([]);
    expect(dead).toEqual([{ messageId: bad.messageId, reason: 'UnprocessableRecordError at envelope: queue message is not an envelope' }]);
  });

  it('dead-letters a record the channel adapter cannot parse on its first receive', async () => {
    const { process, dead } = withDeadLetters();
    const s = sample('telegram', '01-text');
    const { envelope, groupId } = await envelopeOf(s, T0);
    const broken = sqsRecord(JSON.stringify({ ...envelope, body_b64: Buffer.from('{"update_id": "not a number", ').toString('base64') }), groupId);
    const res = await process({ Records: [broken] });
    expect(res.batchItemFailures).toEqual([]);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(/^UnprocessableRecordError at parse/);
  });

  for (const code of ['NoSuchKey', 'AccessDenied']) {
    it(`dead-letters an S3-action mail at once when S3 answers ${code}`, async () => {
      const { process, dead } = withDeadLetters({ name: code });
      const res = await process({ Records: [await recordOf(sample('email', '05-s3-action'), T0)] });
      expect(res.batchItemFailures).toEqual([]);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.reason).toBe('UnprocessableRecordError at read-object: S3-action mail cannot be read');
    });
  }

  it('retries an S3-action mail whose read failed for a passing reason (throttling), until its last receive', async () => {
    const { process, dead } = withDeadLetters({ name: 'SlowDown' });
    const record = await recordOf(sample('email', '05-s3-action'), T0);
    expect((await process({ Records: [record] })).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(dead).toEqual([]);
    const fifth = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '5' } };
    expect((await process({ Records: [fifth] })).batchItemFailures).toEqual([]);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(/^TransientReadError at read-object/);
  });
});
