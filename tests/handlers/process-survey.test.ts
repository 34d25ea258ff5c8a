/**
 * Survey answers in the process handler (DynamoDB Local): an answer on a resolved ticket costs
 * the same round trips as any message to a resolved ticket (the ticket item process reads anyway
 * carries the survey), an active ticket's messages keep the 2-round-trip fast path, and a
 * redelivered answer changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fixedClock } from '../../functions/domain/clock.js';
import { DEFAULT_SURVEY_SETTINGS, scheduleSurvey } from '../../functions/domain/survey.js';
import { makeProcess } from '../../functions/handlers/process.js';
import type { Db } from '../../functions/store/db.js';
import { getCustomer, getIdentity, getTicket, listTimeline } from '../../functions/store/reads.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, sample, sqsRecord, telegramText, testConfig } from '../helpers/pipeline.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
let update = 500_000;

describe('process handler: survey answers', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let process: ReturnType<typeof makeProcess>;
  const record = async (fromId: number, text: string) => {
    update += 1;
    const { envelope, groupId } = await envelopeOf(sample('telegram', '01-text'), clock.now(), telegramText({ updateId: update, fromId, text }));
    return sqsRecord(JSON.stringify(envelope), groupId);
  };
  const ticketOf = async (fromId: number) => {
    const identity = await getIdentity(db, 'telegram', String(fromId));
    return (await getCustomer(db, identity!.customer_id))!.current_ticket_id!;
  };
  /** Resolved at T0 + 1 h; the survey (when asked) went out at T0 + 2 h. */
  const resolve = async (ticketId: string, asked: boolean) => {
    const survey = { ...scheduleSurvey(null, T0 + H, DEFAULT_SURVEY_SETTINGS), ...(asked ? { state: 'sent', sent_at: T0 + 2 * H, expires_at: T0 + 74 * H } : {}) };
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.ticket(ticketId), UpdateExpression: 'SET #s = :r, resolved_at = :at, survey = :sv, gsi2pk = :g',
      ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':at': T0 + H, ':sv': survey, ':g': indexKeys.byStatus('resolved', 0, ticketId).gsi2pk },
    }));
  };

  beforeAll(async () => {
    ({ db } = await freshTable('process-survey'));
    process = makeProcess({ db, clock, config: testConfig() });
  });

  it('records an answer in as many round trips as a reopening message, and keeps the fast path for active tickets', async () => {
    clock.set(T0);
    for (const id of [6001, 6002]) await process.recordHandler(await record(id, 'Where is my order?'));
    let before = db.roundTrips();
    await process.recordHandler(await record(6001, 'Any news?'));
    expect(db.roundTrips() - before).toBe(2); // active ticket: the fast path, unchanged

    const answered = await ticketOf(6001);
    const reopened = await ticketOf(6002);
    await resolve(answered, true);
    await resolve(reopened, false);
    clock.set(T0 + 3 * H);

    before = db.roundTrips();
    await process.recordHandler(await record(6002, 'It broke again'));
    const reopenTrips = db.roundTrips() - before;
    before = db.roundTrips();
    const answer = await record(6001, '4');
    await process.recordHandler(answer);
    expect(db.roundTrips() - before).toBe(reopenTrips);

    expect(await getTicket(db, reopened)).toMatchObject({ status: 'open' });
    const t = (await getTicket(db, answered))!;
    expect(t).toMatchObject({ status: 'resolved', message_count: 3, survey: { state: 'answered', score: 4, low: false, followup: 'pending', answered_at: T0 + 3 * H } });
    expect(await ticketOf(6001)).toBe(answered);
    const events = (await listTimeline(db, answered)).filter((e) => e.type === 'event').map((e) => e.type === 'event' && e.event);
    expect(events).toEqual(['ticket.opened', 'survey.answered']);

    // the same update delivered again: nothing changes
    const scan = async () => ((await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? []).map((i) => `${i.pk}|${i.sk}`).sort();
    const snapshot = await scan();
    await process.recordHandler(answer);
    expect(await scan()).toEqual(snapshot);
  });

  it('a message before the survey is asked reopens the ticket and cancels the scheduled survey in the same write', async () => {
    clock.set(T0);
    await process.recordHandler(await record(6003, 'Refund please'));
    const id = await ticketOf(6003);
    await resolve(id, false);
    clock.set(T0 + H + 10 * 60_000);
    await process.recordHandler(await record(6003, '5'));
    expect(await getTicket(db, id)).toMatchObject({ status: 'open', survey: { state: 'cancelled', cancelled_reason: 'reopened' } });
  });
});
