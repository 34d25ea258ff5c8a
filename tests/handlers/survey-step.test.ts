/**
 * survey-step handler and survey reactions against DynamoDB Local: stale rounds and finished
 * surveys write nothing, concurrent wake-ups send one reminder, an answer racing the reminder wins
 * cleanly, a redelivered resolution schedules once, the follow-up alerts once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { putWhatsAppTemplates } from '../../functions/store/whatsapp-templates.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { initialSla } from '../../functions/domain/sla/policy.js';
import type { RawEmailRequest } from '../../functions/domain/sla/notify.js';
import { DEFAULT_SURVEY_SETTINGS, scheduleSurvey, type SurveyRecord } from '../../functions/domain/survey.js';
import { verifySurveyToken } from '../../functions/domain/survey-token.js';
import { makeSurveyStep } from '../../functions/handlers/survey-step.js';
import { surveyReactions, type SurveyExecutionInput } from '../../functions/handlers/survey-reactions.js';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { getTicket, listTimeline } from '../../functions/store/reads.js';
import type { FeedEvent, TicketRecord } from '../../functions/store/records.js';
import { keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';

const H = 3_600_000;
const T0 = Date.parse('2026-06-08T10:00:00Z');
const S = DEFAULT_SURVEY_SETTINGS;
let seq = 0;

function resolvedTicket(survey: SurveyRecord | null, over: Partial<TicketRecord> = {}): TicketRecord {
  seq += 1;
  const id = `01J1000000000000000000${String(seq).padStart(4, '0')}`;
  return {
    id, number: `C-${String(seq).padStart(6, '0')}`, status: 'resolved', priority: 'normal', category: null, tags: [], customer_id: `CUST${seq}`,
    channel: 'telegram', conversation_id: '4242', assignee: null, team: null, sla: initialSla('normal', T0 - 2 * H),
    survey: survey as unknown as Record<string, unknown> | null, merged_into: null, previous_ticket_id: null, created_at: T0 - 2 * H, updated_at: T0, last_inbound_at: T0 - 2 * H, last_outbound_at: T0 - H,
    first_response_at: T0 - H, resolved_at: T0, closed_at: null, message_count: 2, ...over,
  };
}
const sentSurvey = (over: Partial<SurveyRecord> = {}): SurveyRecord => ({ ...scheduleSurvey(null, T0, S), state: 'sent', sent_at: T0 + H, expires_at: T0 + 73 * H, ...over });

describe('survey-step handler', () => {
  let db: Db;
  const clock = fixedClock(T0);
  const emails: RawEmailRequest[] = [];
  const step = () => makeSurveyStep({
    db, clock, settings: S, escalationEmail: 'lead@example.com', emailFrom: 'support@example.com',
    sendEmail: async (request) => { emails.push(request); }, logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const put = async (t: TicketRecord) => { await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) })); return t; };
  const outbound = async (id: string) => (await listTimeline(db, id)).filter((e) => e.type === 'message' && e.direction === 'out');

  beforeAll(async () => {
    ({ db } = await freshTable('survey-step'));
  });

  it('asks when due: the question is queued and the survey marked sent in one write; a repeat waits', async () => {
    const t = await put(resolvedTicket(scheduleSurvey(null, T0, S)));
    clock.set(T0 + 10 * 60_000);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'wait-until', wait_until: '2026-06-08T11:00:00Z', did: 'waited' });
    expect(await outbound(t.id)).toEqual([]);
    clock.set(T0 + H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'wait-until', wait_until: '2026-06-09T11:00:00Z', did: 'asked' });
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'wait-until', did: 'waited' });
    const out = await outbound(t.id);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ outbound_kind: 'survey', channel: 'telegram', conversation_id: '4242', extras: { survey_round: 1, buttons: expect.arrayContaining([{ label: '5 ★', payload: 'csat:5' }]) } });
    expect((await getTicket(db, t.id))!.survey).toMatchObject({ state: 'sent', sent_at: T0 + H, expires_at: T0 + 73 * H });
  });

  it('answers done and writes nothing for a stale round', async () => {
    const t = await put(resolvedTicket(sentSurvey({ round: 2 })));
    clock.set(T0 + 30 * H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'stale' });
    expect(await listTimeline(db, t.id)).toEqual([]);
  });

  it('sends exactly one reminder when two wake-ups race', async () => {
    const t = await put(resolvedTicket(sentSurvey()));
    clock.set(T0 + 26 * H);
    const results = await Promise.all([step()({ ticket_id: t.id, round: 1 }), step()({ ticket_id: t.id, round: 1 })]);
    expect(results.map((r) => r.did).sort()).toEqual(['reminded', 'waited']);
    expect((await outbound(t.id)).filter((m) => m.type === 'message' && m.outbound_kind === 'reminder')).toHaveLength(1);
  });

  it('does not remind an answered survey: an answer committed first makes the wake-up a no-op', async () => {
    const t = await put(resolvedTicket(sentSurvey()));
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.ticket(t.id), UpdateExpression: 'SET survey.#st = :a, survey.score = :s, survey.followup = :d',
      ExpressionAttributeNames: { '#st': 'state' }, ExpressionAttributeValues: { ':a': 'answered', ':s': 4, ':d': 'done' },
    }));
    clock.set(T0 + 26 * H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'finished' });
    expect(await outbound(t.id)).toEqual([]);
  });

  it('follows up a low score once: alert e-mail, thank-you, timeline event', async () => {
    const t = await put(resolvedTicket(sentSurvey({ state: 'answered', score: 1, answered_at: T0 + 2 * H, low: true, reopened: true, followup: 'pending' }), { status: 'open', priority: 'high' }));
    clock.set(T0 + 2 * H);
    emails.length = 0;
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'followed-up' });
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'finished' });
    expect(emails).toHaveLength(1);
    expect(emails[0]!.body).toContain(`[${t.number}] Low CSAT score: 1 of 5`);
    const out = await outbound(t.id);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ outbound_kind: 'survey', extras: { survey_message: 'thanks_low' } });
    expect((await listTimeline(db, t.id)).filter((e) => e.type === 'event').map((e) => e.type === 'event' && e.event)).toEqual(['survey.alerted']);
  });

  it('asks as the registered WhatsApp template marked for surveys when the window has closed, instead of skipping', async () => {
    expect(await putWhatsAppTemplates(db, { items: [{
      name: 'survey_after_ticket', language: 'en', category: 'UTILITY', body: 'How did we do on ticket {{1}}? Reply with a number from 1 to 5.',
      parameters: ['ticket.number'], use_for: ['survey'],
    }], expectedVersion: 0, by: 'sam', now: T0 })).toBe(true);
    try {
      const t = await put(resolvedTicket(scheduleSurvey(null, T0, S), { channel: 'whatsapp', conversation_id: '12065550888', last_inbound_at: T0 - 23.5 * H }));
      clock.set(T0 + H);
      expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ did: 'asked' });
      const [question] = await outbound(t.id);
      expect(question).toMatchObject({ text: `How did we do on ticket ${t.number}? Reply with a number from 1 to 5.`, outbound_kind: 'survey' });
      expect((question as { extras: Record<string, unknown> }).extras).toMatchObject({ wa_template: { name: 'survey_after_ticket', language: 'en', parameters: [t.number] } });
      expect((question as { extras: Record<string, unknown> }).extras).not.toHaveProperty('buttons');
      expect((await getTicket(db, t.id))!.survey).toMatchObject({ state: 'sent' });
    } finally {
      await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: { pk: 'SETTINGS#whatsapp-templates', sk: 'SETTINGS' } }));
    }
  });

  it('expires an unanswered survey after the window and cancels one whose ticket was reopened', async () => {
    const expiring = await put(resolvedTicket(sentSurvey({ reminded_at: T0 + 25 * H })));
    const reopened = await put(resolvedTicket(sentSurvey(), { status: 'open' }));
    clock.set(T0 + 73 * H);
    expect(await step()({ ticket_id: expiring.id, round: 1 })).toMatchObject({ kind: 'done', did: 'expired' });
    expect(await step()({ ticket_id: reopened.id, round: 1 })).toMatchObject({ kind: 'done', did: 'cancelled' });
    expect((await getTicket(db, expiring.id))!.survey).toMatchObject({ state: 'expired' });
    expect((await getTicket(db, reopened.id))!.survey).toMatchObject({ state: 'cancelled', cancelled_reason: 'reopened' });
  });

  it('skips the question when the WhatsApp window has closed: state skipped (window_closed), an event, nothing queued, no reminder', async () => {
    // the customer last wrote 23.5 h before the resolution; the question is due an hour after it
    const t = await put(resolvedTicket(scheduleSurvey(null, T0, S), { channel: 'whatsapp', conversation_id: '12065550143', last_inbound_at: T0 - 23.5 * H }));
    clock.set(T0 + H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'skipped' });
    expect(await outbound(t.id)).toEqual([]);
    expect((await getTicket(db, t.id))!.survey).toMatchObject({ state: 'skipped', skipped_reason: 'window_closed', sent_at: null });
    const events = (await listTimeline(db, t.id)).filter((e) => e.type === 'event');
    expect(events.map((e) => e.type === 'event' && [e.event, e.data])).toEqual([['survey.skipped', { round: 1, reason: 'window_closed', channel: 'whatsapp' }]]);
    clock.set(T0 + 30 * H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'done', did: 'finished' });
    expect(await outbound(t.id)).toEqual([]);
  });

  it('asks within the window, then skips the reminder that would fall outside it and waits for the expiry', async () => {
    const t = await put(resolvedTicket(scheduleSurvey(null, T0, S), { channel: 'whatsapp', conversation_id: '12065550144', last_inbound_at: T0 - H }));
    clock.set(T0 + H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ did: 'asked' });
    clock.set(T0 + 25 * H);
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'wait-until', wait_until: '2026-06-11T11:00:00Z', did: 'reminder-skipped' });
    expect(await step()({ ticket_id: t.id, round: 1 })).toMatchObject({ kind: 'wait-until', did: 'waited' });
    expect((await outbound(t.id)).map((m) => m.type === 'message' && m.outbound_kind)).toEqual(['survey']);
    expect((await getTicket(db, t.id))!.survey).toMatchObject({ state: 'sent', reminded_at: null, reminder_skipped: 'window_closed' });
  });

  it('lists one signed score link per score in an e-mail question, valid until the survey expires', async () => {
    const t = await put(resolvedTicket(scheduleSurvey(null, T0, S), { channel: 'email', conversation_id: 'ann@example.com' }));
    clock.set(T0 + H);
    const withLinks = makeSurveyStep({
      db, clock, settings: S, sendEmail: async () => {}, logger: { info: () => {}, warn: () => {}, error: () => {} },
      links: { secret: 'test-survey-link-secret-000000000000', baseUrl: () => 'https://hooks.acme.example/' },
    });
    expect(await withLinks({ ticket_id: t.id, round: 1 })).toMatchObject({ did: 'asked' });
    const [question] = await outbound(t.id);
    const urls = [...(question!.type === 'message' ? question!.text : '').matchAll(/https:\/\/hooks\.acme\.example\/survey\/(\S+)/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(5);
    for (const [i, token] of urls.entries()) {
      expect(verifySurveyToken(token, 'test-survey-link-secret-000000000000', T0 + H)).toEqual({
        ok: true, claims: { ticket_id: t.id, round: 1, scale: 'csat', score: i + 1, expires_at: T0 + 73 * H },
      });
    }
  });
});

describe('survey reactions', () => {
  let db: Db;
  const started: Array<[string, SurveyExecutionInput]> = [];
  const reactions = () => surveyReactions({ db, settings: S, startExecution: async (name, input) => { started.push([name, input]); }, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  const event = (ticket: TicketRecord, type: string, data: Record<string, unknown>): FeedEvent => ({ id: `ev-${type}-${ticket.id}`, type, at: T0, ticket_id: ticket.id, customer_id: ticket.customer_id, data });

  beforeAll(async () => {
    ({ db } = await freshTable('survey-reactions'));
  });

  it('schedules one survey per resolution, however often the event is delivered', async () => {
    const t = resolvedTicket(null);
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
    const ev = event(t, 'ticket.status_changed', { from: 'open', to: 'resolved' });
    for (let i = 0; i < 3; i++) for (const r of reactions()['ticket.status_changed']!) await r(ev);
    expect((await getTicket(db, t.id))!.survey).toMatchObject({ round: 1, state: 'scheduled', resolved_at: T0, ask_at: T0 + H });
    expect(started).toEqual(Array(3).fill([`${t.id}-survey-1`, { ticket_id: t.id, round: 1, wait_until: '2026-06-08T11:00:00Z' }]));
  });

  it('ignores other status changes and tickets no longer resolved', async () => {
    started.length = 0;
    const t = resolvedTicket(null, { status: 'open' });
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: ticketItem(t) }));
    for (const r of reactions()['ticket.status_changed']!) {
      await r(event(t, 'ticket.status_changed', { from: 'new', to: 'open' }));
      await r(event(t, 'ticket.status_changed', { from: 'open', to: 'resolved' }));
    }
    expect(started).toEqual([]);
    expect((await getTicket(db, t.id))!.survey ?? null).toBeNull();
  });
});
