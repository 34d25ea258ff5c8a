/**
 * What one inbound message writes (functions/store/inbound.ts, functions/store/table.ts "Exactly
 * once" and "Last inbound per identity on the ticket"), through the real process handler against
 * DynamoDB Local: a known customer's message writes 4 items and only checks its identity; the
 * message reference is the exactly-once marker where the platform id names one event (a
 * redelivered Telegram update is applied once, an edit still finds its message, erasure strips
 * the reference to key and TTL); the messaging-window anchor lives on the ticket and never moves
 * back; identities and tickets written before the change keep working.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { makeProcess } from '../../functions/handlers/process.js';
import { fixedClock } from '../../functions/domain/clock.js';
import { replyPermission, windowAnchor } from '../../functions/domain/reply-window.js';
import { loadFamily } from '../../functions/store/customers.js';
import { customerCardOf } from '../../functions/handlers/agent-api/customer-routes.js';
import { runErasure } from '../../functions/store/erasure.js';
import { lastInboundOn } from '../../functions/store/last-inbound.js';
import { getIdentity, getMessageRef, getTicket, listTimeline } from '../../functions/store/reads.js';
import { keys } from '../../functions/store/table.js';
import type { Db } from '../../functions/store/db.js';
import type { IdentityRecord } from '../../functions/store/records.js';
import { freshTable } from '../helpers/ddb.js';
import { envelopeOf, sample, sqsRecord, telegramText, testConfig } from '../helpers/pipeline.js';
import { inbound, whatsapp } from '../helpers/identity.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const H = 3_600_000;
const ulid = monotonicFactory();

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

describe('inbound commit: items written, exactly once, the window anchor', () => {
  let db: Db;
  const clock = fixedClock(T0);
  let proc: ReturnType<typeof makeProcess>;
  /** The TransactItems of every TransactWriteItems sent while recording. */
  let transactions: TxItem[][] | null = null;

  beforeAll(async () => {
    ({ db } = await freshTable('inbound'));
    const send = db.doc.send.bind(db.doc) as (c: unknown) => Promise<unknown>;
    (db.doc as unknown as { send: (c: unknown) => Promise<unknown> }).send = (command: unknown) => {
      const input = (command as { input?: { TransactItems?: TxItem[] } }).input;
      if (transactions && input?.TransactItems) transactions.push(input.TransactItems);
      return send(command);
    };
    proc = makeProcess({ db, clock, config: testConfig() });
  });

  const telegramRecord = async (o: { updateId: number; fromId: number; text: string; messageId?: number; date?: number }) => {
    const { envelope, groupId } = await envelopeOf(sample('telegram', '01-text'), clock.now(), telegramText(o));
    return sqsRecord(JSON.stringify(envelope), groupId);
  };
  const written = (tx: TxItem[]) => tx.flatMap((i) => (i.Put ? [`Put ${String(i.Put.Item!.pk).split('#')[0]}`] : i.Update ? [`Update ${String(i.Update.Key!.pk).split('#')[0]}`] : i.Delete ? ['Delete'] : []));
  const checked = (tx: TxItem[]) => tx.flatMap((i) => (i.ConditionCheck ? [String(i.ConditionCheck.Key!.pk).split('#')[0]] : []));
  const count = async (prefix: string) => ((await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? []).filter((i) => String(i.pk).startsWith(prefix)).length;

  it("writes 4 items for a known customer's Telegram message — reference (the marker), ticket, message, feed event — and only checks the identity and the customer", async () => {
    await proc({ Records: [await telegramRecord({ updateId: 5_000_001, fromId: 61_000_001, messageId: 11, text: 'Hello' })] });
    const before = await getIdentity(db, 'telegram', '61000001');
    transactions = [];
    clock.advance(60_000);
    const res = await proc({ Records: [await telegramRecord({ updateId: 5_000_002, fromId: 61_000_001, messageId: 12, text: 'Hello again' })] });
    const [tx] = transactions;
    transactions = null;
    expect(res.batchItemFailures).toEqual([]);
    expect(written(tx!)).toEqual(['Put MREF', 'Update TICKET', 'Put TICKET', 'Put FEED']);
    expect(checked(tx!)).toEqual(['IDENT', 'CUST']);
    // The identity item is as it was: nothing of it changed.
    expect(await getIdentity(db, 'telegram', '61000001')).toEqual(before);
    // The window anchor, last inbound time and last message are the ticket's now.
    const ticket = await getTicket(db, before!.ticket_hint!);
    expect(lastInboundOn(ticket as unknown as Record<string, unknown>, 'telegram', '61000001')).toMatchObject({ at: clock.now(), sent_at: 1790000000 * 1000 });
    const fam = (await loadFamily(db, before!.customer_id))!;
    expect(fam.identities[0]).toMatchObject({ last_inbound_at: clock.now(), last_message: { ticket_id: ticket!.id } });
    // The card's cross-channel history still shows the message, read from the timeline.
    const message = (await listTimeline(db, ticket!.id)).filter((e) => e.type === 'message').at(-1)!;
    expect((await customerCardOf(db, before!.customer_id))!.history).toEqual([
      { channel: 'telegram', external_id: '61000001', at: new Date(clock.now()).toISOString(), ticket_id: ticket!.id, message_id: message.id, text: 'Hello again' },
    ]);
  });

  it('applies a redelivered Telegram update once: its message reference is the marker, no dedupe marker is written', async () => {
    const record = await telegramRecord({ updateId: 5_000_101, fromId: 61_000_002, messageId: 21, text: 'Once only' });
    expect(await proc.recordHandler(record)).toEqual(['committed']);
    expect(await proc.recordHandler(record)).toEqual(['duplicate']);
    const identity = (await getIdentity(db, 'telegram', '61000002'))!;
    expect((await listTimeline(db, identity.ticket_hint!)).filter((e) => e.type === 'message')).toHaveLength(1);
    expect((await getTicket(db, identity.ticket_hint!))!.message_count).toBe(1);
    const ref = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.messageRef('telegram', '61000002:21'), ConsistentRead: true }))).Item!;
    expect(ref).toMatchObject({ once: true, direction: 'in', ticket_id: identity.ticket_hint });
    expect(ref.ttl).toBeUndefined(); // a reference lives as long as its message
    expect(await count('DEDUP#telegram#update_id:5000101')).toBe(0);
  });

  it('still finds the message of an edit by its platform id, and applies a redelivered edit once (edits keep their own marker)', async () => {
    const fromId = 61_000_003;
    await proc({ Records: [await telegramRecord({ updateId: 5_000_201, fromId, messageId: 31, text: 'My order is 1234' })] });
    const edit = JSON.stringify({ update_id: 5_000_202, edited_message: { message_id: 31, date: 1790000000, edit_date: 1790000100, text: 'My order is 1243', from: { id: fromId, is_bot: false, first_name: 'Test' }, chat: { id: fromId, type: 'private', first_name: 'Test' } } });
    const { envelope, groupId } = await envelopeOf(sample('telegram', '09-edited-message'), clock.now(), edit);
    const record = sqsRecord(JSON.stringify(envelope), groupId);
    expect(await proc.recordHandler(record)).toEqual(['committed']);
    expect(await proc.recordHandler(record)).toEqual(['duplicate']);
    const ref = (await getMessageRef(db, 'telegram', `${fromId}:31`))!;
    const messages = (await listTimeline(db, ref.ticket_id)).filter((e) => e.type === 'message');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: 'My order is 1243', edited: true, history: [{ text: 'My order is 1234' }] });
    expect(await count('DEDUP#telegram#update_id:5000202')).toBe(1);
  });

  it('keeps a dedupe marker per session for web chat, whose message ids the widget chooses: two sessions sending the same id both get through', async () => {
    const a = inbound('webchat', 'visitor-a', { dedup: 'sub-a:m-1', text: 'from a' });
    const b = inbound('webchat', 'visitor-b', { dedup: 'sub-b:m-1', text: 'from b' });
    expect(await proc.handleMessage({ ...a, external_message_id: 'm-1' })).toBe('committed');
    expect(await proc.handleMessage({ ...b, external_message_id: 'm-1' })).toBe('committed');
    expect(await proc.handleMessage({ ...b, external_message_id: 'm-1' })).toBe('duplicate');
    expect(await count('DEDUP#webchat#sub-')).toBe(2);
  });

  it('keeps the WhatsApp window on the ticket: a delivery 30 h late neither rewrites the identity nor moves the anchor back, and a reply after 24 h is refused', async () => {
    const phone = '+34600555001';
    const sent = T0 - H;
    await proc.handleMessage(whatsapp(phone, { dedup: 'wamid.win-1', sentAt: Math.floor(sent / 1000) }));
    await proc.handleMessage(whatsapp(phone, { dedup: 'wamid.win-2', sentAt: Math.floor(sent / 1000) }));
    const identity = (await getIdentity(db, 'whatsapp', phone.slice(1)))!;
    expect(identity.last_sent_at).toBeUndefined(); // not on the identity any more
    // Late: sent 30 h ago, processed now — the fast path's condition refuses moving the anchor back; the reload keeps it.
    expect(await proc.handleMessage(whatsapp(phone, { dedup: 'wamid.win-late', sentAt: Math.floor((T0 - 30 * H) / 1000) }))).toBe('committed');
    expect(await getIdentity(db, 'whatsapp', phone.slice(1))).toEqual(identity);
    const ticket = await getTicket(db, identity.ticket_hint!);
    expect(ticket!.message_count).toBe(3);
    const fam = (await loadFamily(db, identity.customer_id))!;
    const anchor = windowAnchor(fam.identities.find((i) => i.channel === 'whatsapp'));
    expect(anchor).toBe(Math.floor(sent / 1000) * 1000);
    expect(replyPermission({ windowSeconds: 86_400, anchor, now: T0 })).toMatchObject({ kind: 'open' });
    expect(replyPermission({ windowSeconds: 86_400, anchor, now: anchor! + 25 * H })).toMatchObject({ kind: 'closed' });

    // A customer whose only message was sent 30 h ago: closed (only a template may go).
    const other = '+34600555002';
    await proc.handleMessage(whatsapp(other, { dedup: 'wamid.win-old', sentAt: Math.floor((T0 - 30 * H) / 1000) }));
    const fam2 = (await loadFamily(db, (await getIdentity(db, 'whatsapp', other.slice(1)))!.customer_id))!;
    expect(replyPermission({ windowSeconds: 86_400, anchor: windowAnchor(fam2.identities[0]), now: T0 })).toMatchObject({ kind: 'closed' });
  });

  it('reads identities and tickets written before the change: the identity\'s own anchor counts until a later one is on a ticket, and a ticket without one takes the fast path', async () => {
    const fromId = 61_000_004;
    await proc({ Records: [await telegramRecord({ updateId: 5_000_301, fromId, messageId: 41, text: 'Before' })] });
    const identity = (await getIdentity(db, 'telegram', String(fromId)))!;
    // As the old layout left them: the anchor and last message on the identity, none on the ticket.
    const oldAnchor = T0 + 5 * H;
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.identity('telegram', String(fromId)), ...(await rawItem(keys.identity('telegram', String(fromId)))), last_inbound_at: oldAnchor, last_sent_at: oldAnchor, last_message: { id: 'x', ticket_id: identity.ticket_hint, at: oldAnchor, text: 'old layout' } } }));
    const ticketKey = keys.ticket(identity.ticket_hint!);
    const raw = (await rawItem(ticketKey))!;
    delete raw[keys.inboundAttribute('telegram', String(fromId))];
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: raw }));
    let fam = (await loadFamily(db, identity.customer_id))!;
    expect(fam.identities[0]).toMatchObject({ last_sent_at: oldAnchor, last_message: { text: 'old layout' } });

    const trips = db.roundTrips();
    await proc({ Records: [await telegramRecord({ updateId: 5_000_302, fromId, messageId: 42, text: 'After' })] });
    expect(db.roundTrips() - trips).toBe(2);
    fam = (await loadFamily(db, identity.customer_id))!;
    // The identity's own anchor is later than the message's platform time: it still wins (never moves back).
    expect((fam.identities[0] as IdentityRecord).last_sent_at).toBe(oldAnchor);
    expect(lastInboundOn(await rawItem(ticketKey), 'telegram', String(fromId))).toMatchObject({ sent_at: oldAnchor, at: clock.now() });
  });

  it("erases the folded reference's personal data: key, TTL and `erased` stay; the ticket loses its identities' last inbound messages", async () => {
    const fromId = 61_000_005;
    await proc({ Records: [await telegramRecord({ updateId: 5_000_401, fromId, messageId: 51, text: 'Please forget me' })] });
    const identity = (await getIdentity(db, 'telegram', String(fromId)))!;
    const res = await runErasure(db, { id: identity.customer_id, actor: 'admin-1', now: clock.now(), newId: () => ulid(clock.now()) });
    expect(res.status).toBe('erased');
    const ref = (await rawItem(keys.messageRef('telegram', `${fromId}:51`)))!;
    expect(Object.keys(ref).sort()).toEqual(['at', 'erased', 'once', 'pk', 'sk', 'ttl']);
    expect(ref.ttl).toBe(Math.floor(clock.now() / 1000) + 8 * 86_400);
    expect(await getMessageRef(db, 'telegram', `${fromId}:51`)).toBeUndefined();
    const ticket = (await rawItem(keys.ticket(identity.ticket_hint!)))!;
    expect(Object.keys(ticket).filter(keys.isInboundAttribute)).toEqual([]);
    // A platform retry of the erased message is still a duplicate.
    expect(await proc.recordHandler(await telegramRecord({ updateId: 5_000_401, fromId, messageId: 51, text: 'Please forget me' }))).toEqual(['duplicate']);
  });

  async function rawItem(key: { pk: string; sk: string }) {
    return (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }))).Item;
  }
});
