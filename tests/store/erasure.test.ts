/**
 * The GDPR erasure job (functions/store/erasure.ts, issue 17 finding 6) against DynamoDB Local,
 * driven the way the dispatch function drives it: each chunk is run by the reaction to the feed
 * event the previous chunk wrote (read back from the table, not invented by the test).
 *
 * - A crash inside a chunk (its transaction never commits) is retried by the stream: the same
 *   event runs the same chunk again; a redelivered event of a finished chunk writes nothing. Every
 *   message is anonymised by exactly one committed write — finished chunks are never redone.
 * - The chunks are bounded (≤ 100 items per transaction, a handful of round trips per ~30
 *   messages), so a long history finishes.
 * - Complete: message texts, notes quoting the customer, survey comments, identities, verified
 *   attributes, suggestions, message references are gone (a table scan finds none of it);
 *   dedupe markers keep only their key; another customer's data is untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { fixedClock } from '../../functions/domain/clock.js';
import { makeProcess } from '../../functions/handlers/process.js';
import { erasureReactions } from '../../functions/handlers/reactions/erasure.js';
import { createDb, type Db } from '../../functions/store/db.js';
import { getErasureJob, redactNote, redactTerms, requestErasure, TIMELINE_CHUNK_ENTRIES } from '../../functions/store/erasure.js';
import { getCustomer, getIdentity, getTicket } from '../../functions/store/reads.js';
import type { FeedEvent } from '../../functions/store/records.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { queryShards } from '../../functions/store/sharded-query.js';
import { addNote } from '../../functions/store/triage.js';
import { freshTable, LOCAL_AWS } from '../helpers/ddb.js';
import { whatsapp } from '../helpers/identity.js';
import { testConfig } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const PHONE = '+34600111222';
const NAME = 'Anna Kowalska';
const EMAIL = 'anna.kowalska@shop.example';
const MESSAGES = 500;

/** Message n's text: distinctive, so a scan can look for every one of them. */
const textOf = (n: number) => `secret-${String(n).padStart(4, '0')} my address is ${n} Main St`;

interface Recorder { transactions: number; failNext: boolean; writes: Map<string, number> }

/** A second client on the same table that records each committed transaction's items, and can fail one before it is sent. */
function recordingDb(tableName: string, endpoint: string, rec: Recorder): Db {
  const db = createDb(tableName, { endpoint, ...LOCAL_AWS });
  db.doc.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
    if (rec.failNext) {
      rec.failNext = false;
      throw Object.assign(new Error('simulated crash before the chunk commits'), { name: 'SimulatedCrash' });
    }
    const out = await next(args);
    rec.transactions += 1;
    const items = (args.input as { TransactItems: Array<Record<string, { Key?: Record<string, { S: string }> }>> }).TransactItems;
    for (const item of items) {
      const op = item.Update ?? item.Delete;
      if (op?.Key) { const k = `${op.Key.pk!.S}|${op.Key.sk!.S}`; rec.writes.set(k, (rec.writes.get(k) ?? 0) + 1); }
    }
    return out;
  }, { step: 'serialize', name: 'recordTransactions' });
  return db;
}

describe('GDPR erasure job (DynamoDB Local)', () => {
  let db: Db;
  let recorded: Db;
  const rec: Recorder = { transactions: 0, failNext: false, writes: new Map() };
  const clock = fixedClock(T0);
  const ulid = monotonicFactory();
  let customerId: string;
  let tickets: string[];
  let control: { customerId: string; text: string };

  /** The erasure feed events of the customer, oldest first, as the stream delivers them. */
  const erasureEvents = async (): Promise<FeedEvent[]> => {
    const items = await queryShards(db, keys.feedDay(clock.now()), (p) => ({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': p }, ConsistentRead: true }));
    return items.sort((a, b) => String(a.sk).localeCompare(String(b.sk))).filter((i) => String(i.type).startsWith('customer.erasure_') && i.customer_id === customerId) as unknown as FeedEvent[];
  };

  beforeAll(async () => {
    const t = await freshTable('erasure');
    db = t.db;
    recorded = recordingDb(t.tableName, t.endpoint, rec);
    const proc = makeProcess({ db, clock, config: testConfig() });
    // The customer: WhatsApp (verified phone, name).
    await proc.handleMessage(whatsapp(PHONE, { text: textOf(0), name: NAME, dedup: 'wamid.0' }));
    customerId = (await getIdentity(db, 'whatsapp', PHONE.slice(1)))!.customer_id;
    // Someone else, who must keep everything.
    await proc.handleMessage(whatsapp('+34600777666', { text: 'control: please keep me', name: 'Bob Keeper' }));
    control = { customerId: (await getIdentity(db, 'whatsapp', '34600777666'))!.customer_id, text: 'control: please keep me' };

    // Three tickets (each after the reopen window of the one before).
    const first = (await getCustomer(db, customerId))!.current_ticket_id!;
    tickets = [first];
    for (let k = 0; k < 2; k++) {
      await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(tickets.at(-1)!), UpdateExpression: 'SET #s = :r, resolved_at = :at, gsi2pk = :g', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':at': clock.now(), ':g': indexKeys.byStatus('resolved', 0, tickets.at(-1)!).gsi2pk } }));
      clock.advance(8 * 86_400_000);
      await proc.handleMessage(whatsapp(PHONE, { text: textOf(1 + k), name: NAME, dedup: `wamid.${1 + k}` }));
      tickets.push((await getCustomer(db, customerId))!.current_ticket_id!);
    }
    // Each ticket's list row shows her latest message there (the erasure must remove it).
    expect(await getTicket(db, tickets[2]!)).toMatchObject({ last_message_preview: textOf(2), last_message_direction: 'in' });
    // The rest of the 500 messages, spread over the three tickets, with refs and (some) dedupe markers, as process writes them.
    const rows: Array<Record<string, unknown>> = [];
    for (let n = 3; n < MESSAGES; n++) {
      const ticketId = tickets[n % 3]!;
      const at = T0 + n * 1000;
      const id = ulid(at);
      const ext = `wamid.${n}`;
      rows.push({ ...keys.timelineEntry(ticketId, at, id), type: 'message', id, ticket_id: ticketId, at, channel: 'whatsapp', direction: n % 5 === 0 ? 'out' : 'in', external_message_id: ext, conversation_id: PHONE.slice(1), dedup_key: ext, text: textOf(n), attachments: [{ type: 'document', file_name: `passport-${n}.pdf` }], interaction: null, edited: false, sent_at: at, extras: { contact: { phone: PHONE } } });
      rows.push({ ...keys.messageRef('whatsapp', ext), ticket_id: ticketId, entry_sk: keys.timelineEntry(ticketId, at, id).sk, direction: 'in' });
      if (n % 2 === 0) rows.push({ ...keys.dedupe('whatsapp', ext), at, ttl: Math.floor(at / 1000) + 8 * 86_400, ticket_id: ticketId });
    }
    for (let i = 0; i < rows.length; i += 25) {
      await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    // Notes that quote her, and a survey comment.
    await addNote(db, { ticketId: tickets[0]!, text: `Called ${NAME} back on 600 111 222; she wants the refund to ${EMAIL}. Annabel from billing agrees.`, actor: 'agent-1', now: clock.now(), newId: () => ulid(clock.now()) });
    await addNote(db, { ticketId: tickets[1]!, text: 'Checked the warehouse: the parcel left on Monday.', actor: 'agent-2', now: clock.now(), newId: () => ulid(clock.now()) });
    await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(tickets[0]!), UpdateExpression: 'SET survey = :s', ExpressionAttributeValues: { ':s': { round: 1, state: 'answered', scale: 'csat', score: 2, comment: 'Anna here: the courier was rude to me', answered_at: T0 } } }));
  });

  it('redacts a note of the customer\'s names, addresses and numbers, and of any e-mail or phone number, keeping the agent\'s words', () => {
    const terms = redactTerms([NAME, EMAIL, PHONE, 'anna_k']);
    expect(redactNote(`Called ${NAME} on +34 600 111 222 / 600111222, mail ${EMAIL.toUpperCase()}; Annabel agrees, Anna's order ok (other: x@y.example, 611 222 333).`, terms))
      .toBe('Called [erased] on [erased] / [erased], mail [erased]; Annabel agrees, [erased]\'s order ok (other: [erased], [erased]).');
  });

  it('erases 500 messages through the feed in bounded chunks; a crash mid-way resumes without redoing a finished chunk', async () => {
    const react = erasureReactions({ db: recorded, clock });
    const started = await requestErasure(db, { id: customerId, actor: 'admin-1', now: clock.now(), newId: () => ulid(clock.now()) });
    expect(started).toMatchObject({ status: 'started', job: { state: 'running', phase: 'timeline', tickets: expect.arrayContaining(tickets) } });
    // From now on her messages start a fresh customer; her name is already gone.
    expect((await getCustomer(db, customerId))).toMatchObject({ erase_state: 'erasing' });
    expect((await getCustomer(db, customerId))!.display_name).toBeUndefined();

    const handled = new Set<string>();
    let crashed = false;
    let redelivered = false;
    const before = recorded.roundTrips();
    for (let guard = 0; guard < 200; guard++) {
      const next = (await erasureEvents()).find((e) => !handled.has(e.id));
      if (!next) break;
      if (next.data.chunk === 3 && !crashed) {
        // The function dies inside chunk 3: its transaction never commits. The stream delivers the event again.
        crashed = true;
        rec.failNext = true;
        await expect(react['customer.erasure_continued']![0]!(next)).rejects.toThrow('simulated crash');
        expect((await getErasureJob(db, customerId))!.chunk).toBe(3);
      }
      await react[next.type]![0]!(next);
      handled.add(next.id);
      if (next.data.chunk === 5 && !redelivered) {
        // A redelivery of chunk 4's event after chunk 5 is done: nothing happens.
        redelivered = true;
        const old = (await erasureEvents()).find((e) => e.data.chunk === 4)!;
        const transactions = rec.transactions;
        await react[old.type]![0]!(old);
        expect(rec.transactions).toBe(transactions);
      }
    }
    expect(crashed && redelivered).toBe(true);
    const job = (await getErasureJob(db, customerId))!;
    expect(job).toMatchObject({ state: 'erased', phase: 'done', counts: { customers: 1, tickets: 3, messages: MESSAGES, notes: 1, surveys: 1, identities: 1, attributes: 1 } });
    expect(job.redact_terms).toBeUndefined();

    // Bounded: about one transaction per 30 entries, a few round trips each.
    const chunks = job.chunk;
    expect(chunks).toBeLessThanOrEqual(Math.ceil((MESSAGES + 10) / TIMELINE_CHUNK_ENTRIES) + 3 + 3);
    expect(rec.transactions).toBe(chunks);
    expect((recorded.roundTrips() - before) / MESSAGES).toBeLessThan(0.35);
    // No finished work redone: every message, ref and marker written by exactly one committed chunk.
    const twice = [...rec.writes.entries()].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    const messageWrites = [...rec.writes.keys()].filter((k) => k.startsWith('TICKET#') && k.includes('|TL#'));
    expect(messageWrites.length).toBe(MESSAGES + 1); // every message (in and out) of hers, and the one note quoting her
  });

  it('leaves none of it in the table, keeps dedupe keys, and leaves the other customer alone', async () => {
    const items = (await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? [];
    const all = JSON.stringify(items);
    for (let n = 0; n < MESSAGES; n++) expect(all.includes(`secret-${String(n).padStart(4, '0')}`), `message ${n}`).toBe(false);
    for (const pii of [NAME, 'Kowalska', PHONE, '34600111222', '600 111 222', 'passport-', 'courier was rude']) {
      expect(items.filter((i) => JSON.stringify(i).includes(pii)), pii).toEqual([]);
    }
    // Her verified identity, index item, suggestion, references: gone. Markers: key and TTL only —
    // the dedupe markers, and the references that were their message's exactly-once marker (the
    // three process wrote: a wamid is its own dedupe key, functions/store/table.ts) while a
    // platform may still retry it: wamid.2, 0 days old; wamid.0 and .1 are 16 and 8 days old, past
    // any marker's life, so deleted.
    expect(await getIdentity(db, 'whatsapp', PHONE.slice(1))).toBeUndefined();
    expect(items.filter((i) => String(i.pk).startsWith(`VATTR#phone#${PHONE}`))).toEqual([]);
    const refs = items.filter((i) => String(i.pk).startsWith('MREF#whatsapp#wamid.'));
    expect(refs.map((r) => r.pk)).toEqual(['MREF#whatsapp#wamid.2']);
    for (const r of refs) expect(Object.keys(r).sort()).toEqual(['at', 'erased', 'once', 'pk', 'sk', 'ttl']);
    const markers = items.filter((i) => String(i.pk).startsWith('DEDUP#whatsapp#wamid.'));
    expect(markers.length).toBe(248); // half the bulk messages
    for (const m of markers) expect(Object.keys(m).sort()).toEqual(['at', 'erased', 'pk', 'sk', 'ttl']);
    // The note keeps the agent's words; the one not quoting her is untouched.
    const notes = items.filter((i) => i.type === 'note').map((i) => String(i.text));
    expect(notes).toEqual(expect.arrayContaining([
      'Called [erased] back on [erased]; she wants the refund to [erased]. Annabel from billing agrees.',
      'Checked the warehouse: the parcel left on Monday.',
    ]));
    // The inbox list rows' previews of her last messages (written by process with the message): gone; the other customer's stays.
    const ticketItems = items.filter((i) => i.sk === 'TICKET');
    for (const id of tickets) expect(ticketItems.find((i) => i.id === id)).not.toHaveProperty('last_message_preview');
    expect(ticketItems.find((i) => i.customer_id === control.customerId)).toMatchObject({ last_message_preview: control.text, last_message_direction: 'in', last_message_channel: 'whatsapp' });
    // Exactly one customer.erased event; the other customer is untouched.
    expect(items.filter((i) => i.type === 'customer.erased' && i.customer_id === customerId)).toHaveLength(1);
    expect(all).toContain(control.text);
    expect(await getCustomer(db, control.customerId)).toMatchObject({ display_name: 'Bob Keeper' });
    expect((await getCustomer(db, control.customerId))!.erase_state).toBeUndefined();
  });
});
