/**
 * E-mail that fails DMARC (issue 17 finding 5) through the process handler against DynamoDB
 * Local. Anyone can write any `From:`, so such mail is kept and shown — marked `unauthenticated`
 * on the timeline — but does not act as the customer: it answers no survey (a "1" would reopen the
 * ticket and alert the team lead), reopens no resolved ticket (by the reopen window or by
 * threading to our own mail), renames no one, and never downgrades the verified address to a
 * claim. Mail that passes DMARC keeps doing all of that.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { fixedClock } from '../../functions/domain/clock.js';
import { DEFAULT_SURVEY_SETTINGS, scheduleSurvey } from '../../functions/domain/survey.js';
import type { InboundMessage } from '../../functions/domain/inbound.js';
import { makeProcess } from '../../functions/handlers/process.js';
import type { Db } from '../../functions/store/db.js';
import { getCustomer, getIdentity, getTicket, listTimeline } from '../../functions/store/reads.js';
import type { MessageEntry } from '../../functions/store/records.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';
import { inbound } from '../helpers/identity.js';
import { testConfig } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const H = 3_600_000;

/** A mail from `address`; `dmarc` false: failed (or no) DMARC, the adapter's `email_verified: false`. */
function mail(address: string, text: string, o: { dmarc?: boolean; name?: string; inReplyTo?: string } = {}): InboundMessage {
  const msg = inbound('email', address, { text, email: address, emailVerified: o.dmarc ?? true, name: o.name ?? 'Zofia Nowak' });
  return { ...msg, subject: 'Re: Zwrot', ...(o.inReplyTo ? { thread: { in_reply_to: o.inReplyTo, references: [o.inReplyTo] } } : {}) };
}

describe('process handler: e-mail failing DMARC', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let proc: ReturnType<typeof makeProcess>;
  let seq = 0;
  const address = () => `customer${++seq}@shop.example`;

  beforeAll(async () => {
    ({ db } = await freshTable('unauthenticated'));
    proc = makeProcess({ db, clock, config: testConfig() });
  });

  const currentTicket = async (addr: string) => (await getCustomer(db, (await getIdentity(db, 'email', addr))!.customer_id))!.current_ticket_id!;
  const inboundOf = async (ticketId: string) => (await listTimeline(db, ticketId)).filter((e): e is MessageEntry => e.type === 'message' && e.direction === 'in');
  const events = async (ticketId: string) => (await listTimeline(db, ticketId)).filter((e) => e.type === 'event').map((e) => (e.type === 'event' ? e.event : ''));
  /** Resolved now; with `survey`, the CSAT question went out too. */
  const resolve = async (ticketId: string, survey: boolean) => {
    const now = clock.now();
    const values: Record<string, unknown> = { ':r': 'resolved', ':at': now, ':g': indexKeys.byStatus('resolved', 0, ticketId).gsi2pk };
    if (survey) values[':sv'] = { ...scheduleSurvey(null, now, DEFAULT_SURVEY_SETTINGS), state: 'sent', sent_at: now, expires_at: now + 72 * H };
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.ticket(ticketId), UpdateExpression: `SET #s = :r, resolved_at = :at, gsi2pk = :g${survey ? ', survey = :sv' : ''}`,
      ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: values,
    }));
  };

  it('joins the open ticket, marked unauthenticated (mail passing DMARC is not)', async () => {
    const a = address();
    await proc.handleMessage(mail(a, 'Chcę zwrócić czajnik.'));
    const t = await currentTicket(a);
    await proc.handleMessage(mail(a, 'Send the refund to IBAN XX00 0000', { dmarc: false, name: 'Mallory' }));
    expect((await inboundOf(t)).map((m) => [m.text, m.unauthenticated ?? false])).toEqual([['Chcę zwrócić czajnik.', false], ['Send the refund to IBAN XX00 0000', true]]);
  });

  it('never downgrades a verified address, nor renames the customer, when the same address arrives unverified', async () => {
    const a = address();
    await proc.handleMessage(mail(a, 'first'));
    await proc.handleMessage(mail(a, 'second', { dmarc: false, name: 'Mallory' }));
    expect(await getIdentity(db, 'email', a)).toMatchObject({ email: a, email_verified: true, display_name: 'Zofia Nowak' });
    // The verified-attribute index still names the customer (a later verified mail elsewhere links to it).
    const index = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.verifiedAttribute('email', a), ConsistentRead: true }));
    expect(index.Item?.customer_id).toBe((await getIdentity(db, 'email', a))!.customer_id);
  });

  it('does not answer the survey: a forged "1" leaves the ticket resolved, its survey waiting, no alert', async () => {
    const a = address();
    await proc.handleMessage(mail(a, 'Where is my order?'));
    const t = await currentTicket(a);
    clock.advance(H);
    await resolve(t, true);
    clock.advance(H);
    await proc.handleMessage(mail(a, '1', { dmarc: false }));
    expect(await getTicket(db, t)).toMatchObject({ status: 'resolved', priority: 'normal', survey: { state: 'sent', score: null } });
    expect(await events(t)).not.toContain('survey.answered');
    // It is kept, marked, on a new ticket of the customer (the resolved ticket's survey stays
    // answerable through its signed e-mail links).
    const fresh = await currentTicket(a);
    expect(fresh).not.toBe(t);
    expect((await inboundOf(fresh)).map((m) => [m.text, m.unauthenticated])).toEqual([['1', true]]);

    // The same "1" passing DMARC on another customer's survey is an answer (the rule is about the sender only).
    const b = address();
    await proc.handleMessage(mail(b, 'Where is my order?'));
    const tb = await currentTicket(b);
    await resolve(tb, true);
    clock.advance(H);
    await proc.handleMessage(mail(b, '1'));
    expect(await getTicket(db, tb)).toMatchObject({ status: 'open', survey: { state: 'answered', score: 1 } });
  });

  it('does not reopen a resolved ticket within the reopen window: it opens a new one, marked', async () => {
    const a = address();
    await proc.handleMessage(mail(a, 'My kettle leaks'));
    const t = await currentTicket(a);
    await resolve(t, false);
    clock.advance(H);
    await proc.handleMessage(mail(a, 'It leaks again, call me', { dmarc: false }));
    expect(await getTicket(db, t)).toMatchObject({ status: 'resolved' });
    expect(await events(t)).not.toContain('ticket.reopened');
    const fresh = (await getTicket(db, await currentTicket(a)))!;
    expect(fresh.id).not.toBe(t);
    expect(fresh).toMatchObject({ status: 'new', previous_ticket_id: t });
    // …while a verified one does reopen.
    await resolve(fresh.id, false);
    clock.advance(H);
    await proc.handleMessage(mail(a, 'Still leaking'));
    expect(await getTicket(db, fresh.id)).toMatchObject({ status: 'open' });
  });

  it('does not reopen an older resolved ticket by threading to our own mail either', async () => {
    const a = address();
    await proc.handleMessage(mail(a, 'Invoice please'));
    const first = await currentTicket(a);
    // Our reply's Message-ID (as the sender records it from SES) names the first ticket.
    const ours = '<0107019a-0000-0000-0000-000000000001-000000@eu-central-1.amazonses.com>';
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.messageRef('email', ours), ticket_id: first, entry_sk: 'TL#x', direction: 'out' } }));
    await resolve(first, false);
    clock.advance(8 * 24 * H); // past the reopen window: the next mail opens a second ticket
    await proc.handleMessage(mail(a, 'Another question'));
    const second = await currentTicket(a);
    expect(second).not.toBe(first);
    await resolve(second, false);
    await resolve(first, false); // staff answered a follow-up on the first one just now
    clock.advance(H);
    // A verified reply threaded to our mail reopens the first ticket and makes it current
    // (tests/e2e/channels-email.test.ts); a forged one does not.
    await proc.handleMessage(mail(a, 'Forged follow-up', { dmarc: false, inReplyTo: ours }));
    expect(await getTicket(db, first)).toMatchObject({ status: 'resolved' });
    expect((await inboundOf(first)).map((m) => m.text)).toEqual(['Invoice please']);
    expect(await events(first)).not.toContain('ticket.reopened');
    expect([first, second]).not.toContain(await currentTicket(a)); // kept on a new ticket, marked
  });
});
