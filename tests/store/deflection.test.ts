/** Counting a messenger's offers and answers once per feed event (functions/store/deflection.ts) on DynamoDB Local. */
import { beforeAll, describe, expect, it } from 'vitest';
import { kbKpis } from '../../functions/domain/kb/article.js';
import type { Db } from '../../functions/store/db.js';
import { countOfferOutcome, offerStatsKeys } from '../../functions/store/deflection.js';
import { kbKeys, readKbStats } from '../../functions/store/kb.js';
import { offerAnswerUpdate } from '../../functions/store/offer-thread.js';
import { keys } from '../../functions/store/table.js';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { freshTable } from '../helpers/ddb.js';

const AT = Date.parse('2026-12-07T09:00:00Z');

describe('counting offers on messengers', () => {
  let db: Db;
  beforeAll(async () => { ({ db } = await freshTable('deflect')); });

  it('spells the counters exactly as the knowledge base reads them', () => {
    expect(offerStatsKeys.articleStats('a-1')).toEqual(kbKeys.articleStats('a-1'));
    expect(offerStatsKeys.dayStats('2026-12-07')).toEqual(kbKeys.dayStats('2026-12-07'));
    expect(offerStatsKeys.channelStats('telegram', '2026-12-07').pk).toBe(kbKeys.stats);
  });

  it('counts each event once, however often the stream delivers it, per article, day and channel', async () => {
    const count = (eventId: string, outcome: 'offered' | 'solved' | 'not_solved', channel = 'telegram') =>
      countOfferOutcome(db, { eventId, articleId: 'en-returns', channel, outcome, at: AT });
    expect(await count('e1', 'offered')).toBe(true);
    expect(await count('e1', 'offered')).toBe(false);
    expect(await count('e2', 'solved')).toBe(true);
    expect(await count('e2', 'solved')).toBe(false);
    expect(await count('e3', 'offered', 'viber')).toBe(true);
    expect(await count('e4', 'not_solved', 'viber')).toBe(true);

    const k = kbKpis(await readKbStats(db), { from: '2026-12-01', to: '2026-12-07' });
    expect(k).toMatchObject({ offers: 2, deflections: 1, escalations: 1, deflection_rate: 0.5 });
    expect(k.articles).toEqual([{ article_id: 'en-returns', offered: 2, solved: 1, not_solved: 1, usefulness: 0.5 }]);
    expect(k.channels).toEqual([
      { channel: 'telegram', offers: 1, deflections: 1, escalations: 0, deflection_rate: 1 },
      { channel: 'viber', offers: 1, deflections: 0, escalations: 1, deflection_rate: 0 },
    ]);
    expect(kbKpis(await readKbStats(db), { from: '2026-12-08', to: '2026-12-09' }).channels).toEqual([]);
  });

  it('answers an offer only from the status read: a stale plan (held, but already deflected) changes nothing', async () => {
    const id = '01JDEFLECTSTALE00000000000';
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.ticket(id), id, customer_id: 'c1', status: 'deflected', message_count: 2, deflection: { article_id: 'a', answer: 'solved' } } }));
    const touchSet = 'updated_at = :now, message_count = message_count + :one';
    const touch = { ':now': AT, ':one': 1, ':c': 'c1' };
    const stale = offerAnswerUpdate(db.tableName, id, { action: 'offer', ticketId: id, outcome: 'release', from: 'held' }, touchSet, touch);
    await expect(db.doc.send(new UpdateCommand(stale))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const fresh = offerAnswerUpdate(db.tableName, id, { action: 'offer', ticketId: id, outcome: 'release', from: 'deflected' }, touchSet, touch);
    await db.doc.send(new UpdateCommand(fresh));
    const item = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(id) }))).Item!;
    expect(item).toMatchObject({ status: 'new', message_count: 3, deflection: { answer: 'help', answered_at: AT } });
    expect(item.gsi1pk).toMatch(/^TICKETS#/);
  });
});
