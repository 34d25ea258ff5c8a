/**
 * sla-evaluate handler against DynamoDB Local: stale generations, waiting, escalating (breach,
 * priority, timeline, feed, e-mail), idempotent repeats, e-mail retries, answered tickets, the
 * pending-customer pause and a lost write race.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fixedClock, type Clock } from '../../functions/domain/clock.js';
import { initialSla, parseSlaSettings, type FullSla } from '../../functions/domain/sla/policy.js';
import type { RawEmailRequest } from '../../functions/domain/sla/notify.js';
import { makeSlaEvaluate, waitTimestamp } from '../../functions/handlers/sla-evaluate.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { getTicket, listTimeline } from '../../functions/store/reads.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { putSlaSettings } from '../../functions/store/sla.js';
import { keys } from '../../functions/store/table.js';
import { queryShards } from '../../functions/store/sharded-query.js';
import { freshTable } from '../helpers/ddb.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.parse('2026-06-08T10:00:00Z');
let seq = 0;

function newTicket(over: Partial<TicketRecord> = {}, sla: Partial<FullSla> = {}): TicketRecord {
  seq += 1;
  const id = `01J00000000000000000000${String(seq).padStart(3, '0')}`;
  return {
    id, number: `C-${String(seq).padStart(6, '0')}`, status: 'new', priority: 'normal', category: null, tags: [], customer_id: 'CUST1',
    channel: 'telegram', conversation_id: 'conv', assignee: null, team: null, sla: { ...initialSla('normal', T0), generation: 1, wake_at: T0 + 48 * M, ...sla },
    survey: null, merged_into: null, previous_ticket_id: null, created_at: T0, updated_at: T0, last_inbound_at: T0, last_outbound_at: null,
    first_response_at: null, resolved_at: null, closed_at: null, message_count: 1, ...over,
  };
}

describe('sla-evaluate handler', () => {
  let db: Db;
  const sent: Array<{ request: RawEmailRequest; ticket_id: string }> = [];
  const clock = fixedClock(T0);
  let failSends = 0;
  const evaluate = (c: Clock = clock) => makeSlaEvaluate({
    db, clock: c, escalationEmail: 'lead@example.com', emailFrom: 'support@example.com',
    sendEmail: async (request, meta) => {
      if (failSends > 0) { failSends -= 1; throw Object.assign(new Error('SES said no'), { name: 'MessageRejected' }); }
      sent.push({ request, ticket_id: meta.ticket_id });
    },
  });
  const put = async (t: TicketRecord) => { await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) })); return t; };
  const sla = async (id: string) => (await getTicket(db, id))!.sla as FullSla;
  const feed = async (type: string) => (await queryShards(db, keys.feedDay(T0), (p) => ({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': p } })))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk))).filter((i) => i.type === type) as Array<Record<string, unknown> & { data: Record<string, unknown> }>;

  beforeAll(async () => {
    ({ db } = await freshTable('sla-evaluate'));
  });

  it('answers done and writes nothing for a stale generation', async () => {
    const t = await put(newTicket({}, { generation: 3 }));
    clock.set(T0 + 2 * H);
    expect(await evaluate()({ ticket_id: t.id, generation: 2 })).toEqual({ ticket_id: t.id, generation: 2, kind: 'done', wait_until: null, reason: 'stale' });
    expect((await sla(t.id)).rev).toBe(0);
  });

  it('answers done for a ticket that does not exist', async () => {
    expect(await evaluate()({ ticket_id: '01J0000000000000000000NONE', generation: 1 })).toMatchObject({ kind: 'done', reason: 'missing' });
  });

  it('refuses input that is not {ticket_id, generation}', async () => {
    await expect(evaluate()({ ticket: 'x' })).rejects.toThrow('input is not {ticket_id, generation}');
  });

  it('waits until the next step and records when it wakes', async () => {
    const t = await put(newTicket());
    clock.set(T0 + 10 * M);
    expect(await evaluate()({ ticket_id: t.id, generation: 1 })).toEqual({ ticket_id: t.id, generation: 1, kind: 'wait-until', wait_until: waitTimestamp(T0 + 48 * M) });
    expect(await sla(t.id)).toMatchObject({ rev: 1, wake_at: T0 + 48 * M, first_response_due: T0 + H, policy: 'default-normal', calendar: '24x7' });
  });

  it('escalates a breached first response once: breach, level, priority, timeline, feed and one e-mail', async () => {
    const t = await put(newTicket());
    clock.set(T0 + 3700 * 1000);
    const out = await evaluate()({ ticket_id: t.id, generation: 1, execution: `${t.id}-1` });
    expect(out).toEqual({ ticket_id: t.id, generation: 1, kind: 'escalate', wait_until: waitTimestamp(T0 + 90 * M), level: 2, breached: ['first_response'] });

    const after = (await getTicket(db, t.id))!;
    expect(after.priority).toBe('high');
    expect(after.sla).toMatchObject({ breached: ['first_response'], escalation_level: 2, wake_at: T0 + 90 * M, email_pending: {} });
    const events = (await listTimeline(db, t.id)).filter((e) => e.type === 'event').map((e) => [(e as { event: string }).event, (e as { data: { level?: number } }).data.level]);
    expect(events).toEqual(expect.arrayContaining([['sla.escalated', 1], ['sla.escalated', 2], ['sla.breached', undefined]]));
    expect((await feed('sla.breached')).filter((f) => f.ticket_id === t.id)).toHaveLength(1);
    expect((await feed('sla.escalated')).filter((f) => f.ticket_id === t.id).map((f) => f.data.level)).toEqual([1, 2]);

    const mails = sent.filter((s) => s.ticket_id === t.id);
    expect(mails).toHaveLength(1); // the 80 % warning goes to the assignee's inbox, not by e-mail
    expect(mails[0]!.request).toMatchObject({ method: 'POST', url: 'ses:SendRawEmail', headers: {} });
    expect(mails[0]!.request.body).toContain('To: lead@example.com\r\n');
    expect(mails[0]!.request.body).toContain('From: support@example.com\r\n');
    expect(mails[0]!.request.body).toContain(`Subject: [${t.number}] SLA breached: first response (escalation level 2)`);

    // Step Functions retries a task whose answer got lost: nothing happens twice
    const again = await evaluate()({ ticket_id: t.id, generation: 1 });
    expect(again).toMatchObject({ kind: 'wait-until', wait_until: waitTimestamp(T0 + 90 * M) });
    expect(sent.filter((s) => s.ticket_id === t.id)).toHaveLength(1);
    expect((await getTicket(db, t.id))!.priority).toBe('high');
  });

  it('keeps an e-mail that failed to send and sends it on the retry', async () => {
    const t = await put(newTicket());
    clock.set(T0 + 61 * M);
    failSends = 1;
    await expect(evaluate()({ ticket_id: t.id, generation: 1 })).rejects.toThrow('SES said no');
    expect(Object.keys((await sla(t.id)).email_pending)).toHaveLength(1);
    expect(await evaluate()({ ticket_id: t.id, generation: 1 })).toMatchObject({ kind: 'wait-until' });
    expect(sent.filter((s) => s.ticket_id === t.id)).toHaveLength(1);
    expect((await sla(t.id)).email_pending).toEqual({});
  });

  it('does not escalate a ticket answered in time', async () => {
    const t = await put(newTicket({ first_response_at: T0 + 10 * M, last_outbound_at: T0 + 10 * M }, { awaiting_since: null }));
    clock.set(T0 + 3700 * 1000);
    expect(await evaluate()({ ticket_id: t.id, generation: 1 })).toMatchObject({ kind: 'wait-until', wait_until: waitTimestamp(T0 + (24 * H * 80) / 100) });
    expect((await getTicket(db, t.id))!).toMatchObject({ priority: 'normal', sla: { breached: [], escalation_level: 0 } });
  });

  it('is done while the customer has the ball (pending_customer pauses resolution)', async () => {
    const t = await put(newTicket({ status: 'pending_customer', first_response_at: T0 + 5 * M, last_outbound_at: T0 + 5 * M }, { awaiting_since: null }));
    clock.set(T0 + 30 * H);
    expect(await evaluate()({ ticket_id: t.id, generation: 1 })).toMatchObject({ kind: 'done', wait_until: null });
    expect(await sla(t.id)).toMatchObject({ paused_since: T0 + 30 * H, resolution_due: null, wake_at: null });
  });

  it('uses the stored calendar: after hours the deadline moves to the next business day', async () => {
    const { db: own } = await freshTable('sla-evaluate-cal');
    await putSlaSettings(own, parseSlaSettings({
      calendars: [{ id: 'office', time_zone: 'UTC', week: { mon: ['09:00-18:00'], tue: ['09:00-18:00'], wed: ['09:00-18:00'], thu: ['09:00-18:00'], fri: ['09:00-18:00'] } }],
      policies: [{ id: 'office', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }],
    }));
    const fri = Date.parse('2026-06-05T17:55:00Z');
    const t = newTicket({ created_at: fri, last_inbound_at: fri }, { ...initialSla('normal', fri), generation: 1 });
    await own.doc.send(new PutCommand({ TableName: own.tableName, Item: ticketItem(t) }));
    const out = await makeSlaEvaluate({ db: own, clock: fixedClock(fri + M), sendEmail: async () => {} })({ ticket_id: t.id, generation: 1 });
    expect(out).toMatchObject({ kind: 'wait-until', wait_until: '2026-06-08T09:43:00Z' }); // 80 % = 48 business minutes
    expect(new Date(((await getTicket(own, t.id))!.sla as FullSla).first_response_due!).toISOString()).toBe('2026-06-08T09:55:00.000Z');
  });

  it('decides again when a dispatch reaction changed the SLA block meanwhile', async () => {
    const t = await put(newTicket());
    let raced = false;
    // A reaction commits between our read and our write (new revision, same generation).
    const racingDb: Db = {
      ...db,
      doc: {
        send: async (cmd: unknown) => {
          if (!raced && (cmd instanceof TransactWriteCommand || cmd instanceof UpdateCommand)) {
            raced = true;
            await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(t.id), UpdateExpression: 'SET sla.rev = :r', ExpressionAttributeValues: { ':r': 7 } }));
          }
          return db.doc.send(cmd as never);
        },
      } as unknown as Db['doc'],
    };
    clock.set(T0 + 3700 * 1000);
    const out = await makeSlaEvaluate({ db: racingDb, clock, escalationEmail: 'lead@example.com', emailFrom: 'support@example.com', sendEmail: async (request, meta) => { sent.push({ request, ticket_id: meta.ticket_id }); } })({ ticket_id: t.id, generation: 1 });
    expect(raced).toBe(true);
    expect(out).toMatchObject({ kind: 'escalate', level: 2 });
    expect((await sla(t.id)).rev).toBeGreaterThanOrEqual(8);
    expect(sent.filter((s) => s.ticket_id === t.id)).toHaveLength(1);
  });
});
