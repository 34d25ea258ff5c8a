/**
 * Messenger deflection in the process handler (DynamoDB Local; README "Knowledge base"): what it
 * costs and where. Only a message about to open a ticket on a deflecting channel pays for the
 * knowledge base — one GetItem of its version, the index built once per instance and again only
 * after an article changed; messages joining a ticket keep their round trips. A held
 * conversation's commit carries its offer and no `ticket.opened`, and a redelivery commits nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fixedClock } from '../../functions/domain/clock.js';
import { makeProcess } from '../../functions/handlers/process.js';
import type { Db } from '../../functions/store/db.js';
import { putArticle } from '../../functions/store/kb.js';
import { getCustomer, getIdentity, getTicket, listTimeline } from '../../functions/store/reads.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, sample, sqsRecord, telegramText, testConfig } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
let update = 900_000;

describe('process handler: articles offered before a ticket opens', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let plain: ReturnType<typeof makeProcess>;
  let deflecting: ReturnType<typeof makeProcess>;
  const record = async (fromId: number, text: string) => {
    update += 1;
    const { envelope, groupId } = await envelopeOf(sample('telegram', '01-text'), clock.now(), telegramText({ updateId: update, fromId, text }));
    return sqsRecord(JSON.stringify(envelope), groupId);
  };
  const trips = async (p: ReturnType<typeof makeProcess>, rec: Awaited<ReturnType<typeof record>>) => {
    const before = db.roundTrips();
    const outcomes = await p.recordHandler(rec);
    return { trips: db.roundTrips() - before, outcomes };
  };
  const ticketOf = async (fromId: number) => {
    const identity = await getIdentity(db, 'telegram', String(fromId));
    return getTicket(db, (await getCustomer(db, identity!.customer_id))!.current_ticket_id!);
  };

  beforeAll(async () => {
    ({ db } = await freshTable('process-deflection'));
    plain = makeProcess({ db, clock, config: testConfig() });
    deflecting = makeProcess({ db, clock, config: testConfig({ CONFLUO_KB_DEFLECTION: 'telegram' }) });
    await putArticle(db, { id: 'en-returns', title: 'Returning an order', body: 'You can return orders within 30 days.', category: 'Returns', tags: ['returns'], language: 'en', status: 'published', updated_at: T0, updated_by: 'sue' }, 0);
    // Each instance builds its index on its first candidate message.
    await deflecting.recordHandler(await record(7000, 'Good morning'));
  });

  it('costs a first message on a deflecting channel one GetItem more, and a message joining a ticket nothing', async () => {
    const a = await trips(plain, await record(7001, 'Good morning'));
    const b = await trips(deflecting, await record(7002, 'Good morning'));
    expect((await ticketOf(7002))!.status).toBe('new'); // no article matches
    expect(b.trips - a.trips).toBe(1);

    const joinA = await trips(plain, await record(7001, 'How do I return my order?'));
    const joinB = await trips(deflecting, await record(7002, 'How do I return my order?'));
    expect(joinA.trips).toBe(2); // the fast path
    expect(joinB.trips).toBe(2);
  });

  it('holds a matching first message in one commit with its offer, for the same GetItem more', async () => {
    const a = await trips(plain, await record(7003, 'How do I return my order?'));
    const rec = await record(7004, 'How do I return my order?');
    const b = await trips(deflecting, rec);
    expect(b.outcomes).toEqual(['committed']);
    expect(b.trips - a.trips).toBe(1);
    const held = (await ticketOf(7004))!;
    expect(held).toMatchObject({ status: 'held', deflection: { article_id: 'en-returns', language: 'en' } });
    const item = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(held.id) }))).Item!;
    expect(item.sla).toBeUndefined(); // no SLA clock
    expect(item.gsi1pk).toBeUndefined(); // in no inbox
    expect(item.gsi2pk).toMatch(/^STATUS#held#/);
    const timeline = await listTimeline(db, held.id);
    expect(timeline.map((e) => (e.type === 'message' ? `${e.direction}:${e.outbound_kind ?? ''}` : e.type === 'event' ? e.event : e.type))).toEqual(['in:', 'kb.offered', 'out:deflection']);
    const offer = timeline.find((e) => e.type === 'message' && e.direction === 'out');
    expect(offer).toMatchObject({ delivery: 'queued', extras: { buttons: [{ payload: `kb:solved:${held.id}` }, { payload: `kb:help:${held.id}` }] } });

    // Redelivered: the dedupe marker, nothing more.
    expect((await deflecting.recordHandler(rec))).toEqual(['duplicate']);
    expect(await listTimeline(db, held.id)).toHaveLength(3);
  });

  it('applies one answer at a time when two presses race: one ticket, both presses on it once', async () => {
    await deflecting.recordHandler(await record(7020, 'How do I return my order?'));
    const held = (await ticketOf(7020))!;
    const pressRecord = async (data: string) => {
      update += 1;
      const body = JSON.stringify({ update_id: update, callback_query: {
        id: `cb${update}`, from: { id: 7020, is_bot: false, first_name: 'Test' }, chat_instance: '-1', data,
        message: { message_id: 1, date: 1790000000, chat: { id: 7020, type: 'private' }, text: 'offer', reply_markup: { inline_keyboard: [[{ text: 'That solved it', callback_data: `kb:solved:${held.id}` }, { text: 'I still need help', callback_data: `kb:help:${held.id}` }]] } },
      } });
      const { envelope, groupId } = await envelopeOf(sample('telegram', '10-callback-query'), clock.now(), body);
      return sqsRecord(JSON.stringify(envelope), groupId);
    };
    const other = makeProcess({ db, clock, config: testConfig({ CONFLUO_KB_DEFLECTION: 'telegram' }) });
    const [solved, help] = await Promise.all([pressRecord(`kb:solved:${held.id}`), pressRecord(`kb:help:${held.id}`)]);
    expect(await Promise.all([deflecting.recordHandler(solved), other.recordHandler(help)])).toEqual([['committed'], ['committed']]);
    // Whichever committed first, "help" leaves the conversation open (after "solved": a change of mind).
    const after = (await ticketOf(7020))!;
    expect(after).toMatchObject({ id: held.id, status: 'new' });
    const presses = (await listTimeline(db, held.id)).filter((e) => e.type === 'message' && e.direction === 'in' && e.interaction);
    expect(presses.map((e) => (e as { text: string }).text).sort()).toEqual(['I still need help', 'That solved it']);
  });

  it('never offers on a reopened ticket: a matching message within the reopen window reopens it', async () => {
    await deflecting.recordHandler(await record(7030, 'Good morning'));
    const first = (await ticketOf(7030))!;
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.ticket(first.id), UpdateExpression: 'SET #s = :r, resolved_at = :at, gsi2pk = :g',
      ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':at': clock.now(), ':g': indexKeys.byStatus('resolved', 0, first.id).gsi2pk },
    }));
    clock.set(T0 + 3_600_000);
    await deflecting.recordHandler(await record(7030, 'How do I return my order?'));
    expect(await ticketOf(7030)).toMatchObject({ id: first.id, status: 'open' });
    expect((await listTimeline(db, first.id)).filter((e) => e.type === 'message' && e.direction === 'out')).toEqual([]);
    clock.set(T0);
  });

  it('opens the ticket as without an offer when the knowledge base cannot be searched', async () => {
    const warnings: string[] = [];
    const broken = makeProcess({
      db, clock, config: testConfig({ CONFLUO_KB_DEFLECTION: 'telegram' }),
      kbIndex: async () => { throw new Error('index unavailable'); },
      logger: { info: () => {}, debug: () => {}, error: () => {}, warn: (m: string) => { warnings.push(m); } },
    });
    expect(await broken.recordHandler(await record(7010, 'How do I return my order?'))).toEqual(['committed']);
    expect((await ticketOf(7010))!.status).toBe('new');
    expect(warnings).toContain('article offer skipped');
  });

  it('rebuilds the index only after an article changed', async () => {
    const warm = await trips(deflecting, await record(7005, 'Hello'));
    await putArticle(db, { id: 'en-delivery', title: 'Delivery times', body: 'Parcels arrive in 3 days.', category: null, tags: [], language: 'en', status: 'published', updated_at: T0, updated_by: 'sue' }, 0);
    const rebuilt = await trips(deflecting, await record(7006, 'Hello'));
    expect(rebuilt.trips - warm.trips).toBe(1); // one Query of the articles
    const again = await trips(deflecting, await record(7007, 'Hello'));
    expect(again.trips).toBe(warm.trips);
    await deflecting.recordHandler(await record(7008, 'When will my parcel arrive, delivery times?'));
    expect((await ticketOf(7008))!.deflection?.article_id).toBe('en-delivery');
  });
});
