/**
 * One customer across channels (issue 5) through the process handler against DynamoDB Local:
 * verified attributes link and merge, claims only suggest, manual merge/unmerge and split/merge
 * round-trip, GDPR erase, the reopen window through merges, and round trips of a merge.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { makeProcess } from '../../functions/handlers/process.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { customerCardOf } from '../../functions/handlers/agent-api/customer-routes.js';
import { mergeCustomers, unmergeCustomers } from '../../functions/store/customers.js';
import { runErasure } from '../../functions/store/erasure.js';
import { loadCustomers } from '../../functions/store/identity.js';
import { getCustomer, getIdentity, getTicket } from '../../functions/store/reads.js';
import { mergeTickets, splitTicket, ticketTimeline } from '../../functions/store/tickets.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import type { Db } from '../../functions/store/db.js';
import type { MessageEntry } from '../../functions/store/records.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, recordOf, sample, sqsRecord, telegramText, testConfig } from '../helpers/pipeline.js';
import { inbound, sms, telegram, telegramOwnContact, whatsapp } from '../helpers/identity.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const DAY = 86_400_000;

describe('identity across channels (process handler, DynamoDB Local)', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let proc: ReturnType<typeof makeProcess>;
  const ulid = monotonicFactory();
  let phoneSeq = 100_000;
  const newPhone = () => `+3460${String(phoneSeq++).padStart(7, '0')}`;

  beforeAll(async () => {
    ({ db } = await freshTable('identity'));
    proc = makeProcess({ db, clock, config: testConfig() });
  });

  const rootOf = async (channel: string, externalId: string) => {
    const i = await getIdentity(db, channel, externalId);
    if (!i) return undefined;
    return (await loadCustomers(db, [i.customer_id])).root(i.customer_id);
  };
  const card = async (id: string) => (await customerCardOf(db, id))!;
  const messagesOf = async (ticketId: string) => {
    const t = (await getTicket(db, ticketId))!;
    return (await ticketTimeline(db, t)).filter((e): e is MessageEntry => e.type === 'message');
  };
  const activeTickets = (c: Awaited<ReturnType<typeof card>>) => c.tickets.filter((t) => ['new', 'open', 'pending_customer', 'on_hold'].includes(t.status));

  it('links WhatsApp and then Twilio SMS from the same verified number into one customer with one open ticket and two channels', async () => {
    const phone = newPhone();
    expect(await proc.handleMessage(whatsapp(phone, { text: 'my order is late' }))).toBe('committed');
    expect(await proc.handleMessage(sms(phone, { text: 'any news?' }))).toBe('committed');
    const a = await rootOf('whatsapp', phone.slice(1));
    expect(await rootOf('twilio', phone)).toBe(a);
    const c = await card(a!);
    expect(c.identities.map((i) => i.channel).sort()).toEqual(['twilio', 'whatsapp']);
    expect(c.identities.every((i) => i.phone === phone && i.phone_verified === true)).toBe(true);
    expect(c.tickets).toHaveLength(1);
    expect((await messagesOf(c.tickets[0]!.id)).map((m) => m.channel)).toEqual(['whatsapp', 'twilio']);
    expect(c.merged_from).toEqual([expect.objectContaining({ event: 'identity_linked', reason: 'verified_phone', attribute: 'phone', sources: ['whatsapp', 'twilio'], actor: 'system' })]);
    expect(JSON.stringify(c.merged_from)).not.toContain(phone.slice(3));
    expect(c.history.map((h) => h.channel)).toEqual(['twilio', 'whatsapp']);
    expect(c.history[0]).toMatchObject({ text: 'any news?' });
  });

  it('turns someone else\'s Telegram contact card into a suggestion naming the customer who holds the number, and merges nobody', async () => {
    // The contact of sample 08 (+14155550199) belongs verified to a WhatsApp customer.
    await proc.handleMessage(whatsapp('+14155550199', { text: 'hi' }));
    const owner = await rootOf('whatsapp', '14155550199');
    await proc({ Records: [await recordOf(sample('telegram', '08-contact-other'), T0)] });
    const sender = await rootOf('telegram', '52300411');
    expect(sender).toBeDefined();
    expect(sender).not.toBe(owner);
    const c = await card(sender!);
    expect(c.suggestions).toEqual([expect.objectContaining({ kind: 'phone', value: '+14155550199', source: 'telegram', reason: 'contact_of_someone_else', customer_id: owner })]);
    expect(c.identities[0]!.phone).toBeUndefined();
    expect((await card(owner!)).identities).toHaveLength(1);
  });

  it('turns a phone typed in a message into a suggestion only', async () => {
    const s = sample('telegram', '01-text');
    const { envelope, groupId } = await envelopeOf(s, T0, telegramText({ updateId: 5_000_001, fromId: 61000001, text: 'call me at +1 415 555 0177 please' }));
    await proc({ Records: [sqsRecord(JSON.stringify(envelope), groupId)] });
    const c = await card((await rootOf('telegram', '61000001'))!);
    expect(c.suggestions).toEqual([expect.objectContaining({ kind: 'phone', value: '+14155550177', reason: 'phone_in_text', customer_id: null })]);
    expect(c.merged_from).toEqual([]);
  });

  it('keeps an unverified e-mail as a suggestion and never links it to the verified owner of that address', async () => {
    await proc.handleMessage(inbound('webchat', 'v_site_owner', { email: 'Lucia@Acme.example', emailVerified: true }));
    const owner = await rootOf('webchat', 'v_site_owner');
    await proc({ Records: [await recordOf(sample('webchat', '01-anonymous-message'), T0)] });
    const visitor = await rootOf('webchat', 'v_Zx81Lm0Qa7Rt4Ke9Wb2Hs5');
    expect(visitor).not.toBe(owner);
    const c = await card(visitor!);
    expect(c.identities[0]).toMatchObject({ email: 'lucia@acme.example', email_verified: false });
    expect(c.suggestions).toEqual([expect.objectContaining({ kind: 'email', value: 'lucia@acme.example', reason: 'unverified_email', source: 'webchat', customer_id: owner })]);
  });

  it('merges two existing customers automatically when one of them proves the other\'s verified phone, older wins, tickets merged with the earliest SLA', async () => {
    const phone = newPhone();
    const tg = '71000001';
    await proc.handleMessage(telegram(tg, { text: 'hello from telegram' }));
    const older = (await rootOf('telegram', tg))!;
    clock.advance(60_000);
    await proc.handleMessage(whatsapp(phone, { text: 'hello from whatsapp' }));
    const newer = (await rootOf('whatsapp', phone.slice(1)))!;
    expect(newer).not.toBe(older);
    const olderTicket = (await getCustomer(db, older))!.current_ticket_id!;
    const newerTicket = (await getCustomer(db, newer))!.current_ticket_id!;
    clock.advance(60_000);
    const before = db.roundTrips();
    await proc.handleMessage(telegramOwnContact(tg, phone));
    const trips = db.roundTrips() - before;
    expect(trips).toBeLessThanOrEqual(8);

    expect(await rootOf('whatsapp', phone.slice(1))).toBe(older);
    expect((await getCustomer(db, newer))!.merged_into).toBe(older);
    const c = await card(newer); // a merged customer answers with the surviving card
    expect(c.id).toBe(older);
    expect(c.identities.map((i) => i.channel).sort()).toEqual(['telegram', 'whatsapp']);
    expect(c.merged_from).toContainEqual(expect.objectContaining({ event: 'customer_merged', customer_id: newer, reason: 'verified_phone', attribute: 'phone', sources: ['whatsapp', 'telegram'] }));
    expect(JSON.stringify(c.merged_from)).not.toContain(phone.slice(3));
    expect(activeTickets(c)).toHaveLength(1);
    expect((await getCustomer(db, older))!.current_ticket_id).toBe(olderTicket);
    const loser = (await getTicket(db, newerTicket))!;
    expect(loser).toMatchObject({ status: 'merged', merged_into: olderTicket });
    const winner = (await getTicket(db, olderTicket))!;
    expect(winner.message_count).toBe(3);
    expect((await messagesOf(olderTicket)).map((m) => m.text)).toEqual(['hello from telegram', 'hello from whatsapp', '']);
    expect(winner.sla!.first_response_due).toBe(Math.min(winner.sla!.first_response_due!, loser.sla!.first_response_due!));
    // The next WhatsApp message (identity re-pointed, hint = surviving ticket) takes the fast path.
    const b = db.roundTrips();
    await proc.handleMessage(whatsapp(phone, { text: 'still here' }));
    expect(db.roundTrips() - b).toBe(2);
    expect((await getTicket(db, olderTicket))!.message_count).toBe(4);
  });

  it('restores both customers and their tickets on unmerge after a manual merge', async () => {
    const phoneA = newPhone();
    const phoneB = newPhone();
    await proc.handleMessage(whatsapp(phoneA, { text: 'A1' }));
    clock.advance(1000);
    await proc.handleMessage(sms(phoneB, { text: 'B1' }));
    const A = (await rootOf('whatsapp', phoneA.slice(1)))!;
    const B = (await rootOf('twilio', phoneB))!;
    const ta = (await getCustomer(db, A))!.current_ticket_id!;
    const tb = (await getCustomer(db, B))!.current_ticket_id!;
    const snapshot = async () => ({ a: await card(A), b: await card(B), ta: await getTicket(db, ta), tb: await getTicket(db, tb) });
    const before = await snapshot();

    const now = clock.now();
    expect((await mergeCustomers(db, { winnerId: A, loserId: B, reason: 'manual', attribute: null, sources: [], actor: 'sup-1', now, newId: () => ulid(now) })).status).toBe('merged');
    expect((await card(B)).id).toBe(A);
    expect(activeTickets(await card(A))).toHaveLength(1);
    expect((await getTicket(db, tb))).toMatchObject({ status: 'merged', merged_into: ta });
    // a message on B's SMS identity now lands on A's ticket
    await proc.handleMessage(sms(phoneB, { text: 'B2 after merge' }));
    expect((await messagesOf(ta)).map((m) => m.text)).toEqual(['A1', 'B1', 'B2 after merge']);

    expect((await unmergeCustomers(db, { winnerId: A, loserId: B, actor: 'sup-1', now: clock.now(), newId: () => ulid(clock.now()) })).status).toBe('unmerged');
    const after = await snapshot();
    expect(after.b.id).toBe(B);
    expect(after.a.identities.map((i) => i.external_id)).toEqual(before.a.identities.map((i) => i.external_id));
    expect(after.b.identities.map((i) => i.external_id)).toEqual(before.b.identities.map((i) => i.external_id));
    expect(after.a.tickets.map((t) => t.id)).toEqual([ta]);
    expect(after.b.tickets.map((t) => t.id)).toEqual([tb]);
    expect(after.tb).toMatchObject({ status: before.tb!.status, customer_id: B });
    expect(after.tb!.merged_into ?? null).toBeNull();
    expect((await getCustomer(db, B))!.current_ticket_id).toBe(tb);
    expect((await messagesOf(tb)).map((m) => m.text)).toEqual(['B1']);
    expect(after.a.merged_from.map((e) => e.event)).toEqual(['customer_merged', 'customer_unmerged']);
    // B's next message goes to B's own ticket again
    await proc.handleMessage(sms(phoneB, { text: 'B3' }));
    expect((await messagesOf(tb)).map((m) => m.text)).toEqual(['B1', 'B3']);
  });

  it('after an unmerge, a verified phone shared by the two customers is only a suggestion, never an automatic merge', async () => {
    const phone = newPhone();
    const tg = '73000001';
    await proc.handleMessage(telegram(tg, { text: 'hi' }));
    const A = (await rootOf('telegram', tg))!;
    clock.advance(1000);
    await proc.handleMessage(whatsapp(phone, { text: 'hi' }));
    const B = (await rootOf('whatsapp', phone.slice(1)))!;
    const now = clock.now();
    await mergeCustomers(db, { winnerId: A, loserId: B, reason: 'manual', attribute: null, sources: [], actor: 'sup-1', now, newId: () => ulid(now) });
    await unmergeCustomers(db, { winnerId: A, loserId: B, actor: 'sup-1', now, newId: () => ulid(now) });
    await proc.handleMessage(telegramOwnContact(tg, phone));
    expect(await rootOf('telegram', tg)).toBe(A);
    expect(await rootOf('whatsapp', phone.slice(1))).toBe(B);
    expect((await getCustomer(db, B))!.merged_into).toBeUndefined();
    expect((await card(A)).suggestions).toEqual([expect.objectContaining({ kind: 'phone', value: phone, reason: 'verified_match_after_unmerge', customer_id: B })]);
  });

  it('round-trips a split and a merge: the selected messages move to a new ticket and come back', async () => {
    const phone = newPhone();
    for (const text of ['one', 'two', 'three', 'four']) { await proc.handleMessage(whatsapp(phone, { text })); clock.advance(1000); }
    const A = (await rootOf('whatsapp', phone.slice(1)))!;
    const t = (await getCustomer(db, A))!.current_ticket_id!;
    const original = await messagesOf(t);
    const pick = original.filter((m) => m.text === 'two' || m.text === 'four').map((m) => m.id);
    const now = clock.now();
    let n = 900;
    const split = await splitTicket(db, { ticketId: t, messageIds: pick, actor: 'agent-1', now, newId: () => ulid(now), nextNumber: async () => `C-${++n}` });
    expect(split.ok).toBe(true);
    const s = split.ok ? split.value : undefined!;
    expect(s).toMatchObject({ status: 'open', customer_id: A, split_from: t, message_count: 2 });
    expect((await messagesOf(t)).map((m) => m.text)).toEqual(['one', 'three']);
    expect((await messagesOf(s.id)).map((m) => m.text)).toEqual(['two', 'four']);
    expect((await getTicket(db, t))!.message_count).toBe(2);
    // the customer's current ticket is unchanged: the next message joins it
    expect((await getCustomer(db, A))!.current_ticket_id).toBe(t);

    const merged = await mergeTickets(db, { loserId: s.id, intoId: t, actor: 'agent-1', now: clock.now(), newId: () => ulid(clock.now()) });
    expect(merged.ok).toBe(true);
    expect((await messagesOf(t)).map((m) => m.id)).toEqual(original.map((m) => m.id));
    expect((await getTicket(db, t))!.message_count).toBe(4);
    expect(await getTicket(db, s.id)).toMatchObject({ status: 'merged', merged_into: t });
  });

  it('keeps the reopen window working through a merge: the recently resolved ticket of the merged customer reopens', async () => {
    const phone = newPhone();
    const tg = '72000001';
    await proc.handleMessage(telegram(tg, { text: 'old problem' }));
    const A = (await rootOf('telegram', tg))!;
    const ta = (await getCustomer(db, A))!.current_ticket_id!;
    const resolve = (id: string, at: number) => db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(id), UpdateExpression: 'SET #s = :r, resolved_at = :at, gsi2pk = :g', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':at': at, ':g': indexKeys.byStatus('resolved', 0, id).gsi2pk } }));
    await resolve(ta, clock.now());
    clock.advance(10 * DAY);
    await proc.handleMessage(whatsapp(phone, { text: 'newer problem' }));
    const B = (await rootOf('whatsapp', phone.slice(1)))!;
    const tb = (await getCustomer(db, B))!.current_ticket_id!;
    await resolve(tb, clock.now());
    clock.advance(2 * DAY);
    // Telegram proves the WhatsApp number: A (older) wins; B's ticket (resolved 2 days ago) stays current.
    await proc.handleMessage(telegramOwnContact(tg, phone));
    expect((await getCustomer(db, A))!.current_ticket_id).toBe(tb);
    expect((await getTicket(db, tb))!.status).toBe('open');
    expect((await getTicket(db, ta))!.status).toBe('resolved');
  });

  it('erases a customer: identities and verified index gone, messages anonymised, dedupe markers stripped, an erase event, and the next message starts afresh', async () => {
    const phone = newPhone();
    const first = whatsapp(phone, { text: 'my address is 1 Main St' });
    await proc.handleMessage(first);
    await proc.handleMessage(sms(phone, { text: 'and my card ends 4242', phoneInText: '+14155550111' }));
    const A = (await rootOf('whatsapp', phone.slice(1)))!;
    const t = (await getCustomer(db, A))!.current_ticket_id!;
    const res = await runErasure(db, { id: A, actor: 'admin-1', now: clock.now(), newId: () => ulid(clock.now()) });
    expect(res).toMatchObject({ status: 'erased', job: { state: 'erased', counts: { customers: 1, identities: 2, messages: 2 } } });

    expect(await getIdentity(db, 'whatsapp', phone.slice(1))).toBeUndefined();
    expect(await getIdentity(db, 'twilio', phone)).toBeUndefined();
    expect((await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.verifiedAttribute('phone', phone) }))).Item).toBeUndefined();
    // A wamid is its own dedupe key: the message reference was the marker, stripped to key and TTL.
    const marker = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.messageRef('whatsapp', first.external_message_id) }))).Item!;
    expect(marker.ticket_id).toBeUndefined();
    expect(marker.erased).toBe(true);
    expect(marker.ttl).toBeGreaterThan(Math.floor(clock.now() / 1000));
    const msgs = await messagesOf(t);
    expect(msgs.every((m) => m.text === '' && m.anonymised === true && m.extras === undefined)).toBe(true);
    const c = await card(A);
    expect(c).toMatchObject({ display_name: null, identities: [], suggestions: [] });
    expect(c.erased_at).not.toBeNull();
    expect(c.merged_from).toContainEqual(expect.objectContaining({ event: 'customer_erased', reason: 'gdpr_erase', actor: 'admin-1' }));
    const scan = await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }));
    const text = JSON.stringify(scan.Items);
    expect(text).not.toContain('1 Main St');
    // the whole phrase: a bare '4242' can occur in a timestamp or an id
    expect(text).not.toContain('card ends 4242');
    expect(scan.Items!.filter((i) => i.type === 'customer.erased' && i.customer_id === A)).toHaveLength(1);

    // A platform retry of an erased message is still a duplicate; a new message starts a fresh customer.
    expect(await proc.handleMessage(first)).toBe('duplicate');
    await proc.handleMessage(whatsapp(phone, { text: 'hello again' }));
    const fresh = await rootOf('whatsapp', phone.slice(1));
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(A);
    expect((await card(fresh!)).merged_from).toEqual([]);
    // erasing again is a no-op
    expect((await runErasure(db, { id: A, actor: 'admin-1', now: clock.now(), newId: () => ulid(clock.now()) })).status).toBe('erased');
    const again = await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }));
    expect(again.Items!.filter((i) => i.type === 'customer.erased' && i.customer_id === A)).toHaveLength(1);
  });

  it('lets a message of an identity whose customer is mid-erase start a fresh customer', async () => {
    const phone = newPhone();
    await proc.handleMessage(whatsapp(phone, { text: 'x' }));
    const A = (await rootOf('whatsapp', phone.slice(1)))!;
    // Simulate a crash right after the erase's first step.
    await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.customer(A), UpdateExpression: 'SET erased_at = :n, erase_state = :e', ExpressionAttributeValues: { ':n': clock.now(), ':e': 'erasing' } }));
    await proc.handleMessage(whatsapp(phone, { text: 'y' }));
    const B = (await rootOf('whatsapp', phone.slice(1)))!;
    expect(B).not.toBe(A);
    expect((await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.verifiedAttribute('phone', phone) }))).Item?.customer_id).toBe(B);
    // finishing the erase leaves the fresh customer's identity and attribute alone
    await runErasure(db, { id: A, actor: 'admin-1', now: clock.now(), newId: () => ulid(clock.now()) });
    expect(await rootOf('whatsapp', phone.slice(1))).toBe(B);
    expect((await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.verifiedAttribute('phone', phone) }))).Item?.customer_id).toBe(B);
  });
});
