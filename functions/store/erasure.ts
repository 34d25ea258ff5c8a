/**
 * GDPR erasure as an asynchronous, resumable job (issue 17 finding 6).
 *
 * `DELETE /api/v1/customers/{id}` only records the intent ({@link requestErasure}: one
 * transaction) and answers 202; the work runs in chunks in the dispatch function, each chunk
 * started by a feed event written by the chunk before it (`customer.erasure_requested`, then
 * `customer.erasure_continued`) — the change feed is already the at-least-once, ordered,
 * retrying queue of this system, so no other service is needed. {@link eraseStep} does one chunk:
 *
 * - **resumable without repeating work**: the job record (`CUST#<root>` / `ERASURE`) holds the
 *   phase, a cursor and the number of the next chunk. A chunk's writes, the job's progress
 *   (conditional on the chunk number it read) and the next chunk's feed event commit in ONE
 *   transaction: a crash before it leaves nothing done (the stream retries the same event and the
 *   chunk runs again), a crash after it leaves the next event written (the retried old event finds
 *   the chunk number moved on and does nothing). Finished chunks are never redone.
 * - **bounded**: one query page and one transaction of ≤ 100 items per chunk (≈ 30 messages), far
 *   inside the dispatch function's 30 s — a history of any length reaches `erased`.
 *
 * What is erased (the person = the root customer and every customer merged into it):
 * 1. at once (request): each customer `erase_state: erasing`, `erased_at`, name removed — from
 *    then on no message joins or merges them (a message from one of their identities starts a
 *    fresh customer, DESIGN §2 Privacy);
 * 2. timeline of every ticket, chunk by chunk: messages (in and out) lose text, attachments
 *    (their bytes in the media bucket are deleted before the chunk commits, issue 14),
 *    edit history, channel extras, conversation and platform ids; their message references are
 *    deleted and dedupe markers stripped to key and TTL (the key stays so a platform retry of an
 *    erased message is still recognised as a duplicate) — a reference that is its message's
 *    exactly-once marker (`once`, functions/store/table.ts) is stripped the same way, with the TTL
 *    a marker would have had, or deleted once that has passed; notes keep the agents' words but lose
 *    the customer's identifiers (names, username, e-mail, phone, platform ids, and any e-mail or
 *    phone number pattern): agents' notes are the company's record of its work, while the person
 *    they quote must go; after a ticket's last entry its subject, conversation id, survey
 *    comment, last-message preview (the inbox list row) and its identities' last inbound
 *    messages (functions/store/last-inbound.ts) are removed;
 * 3. identities, verified-attribute index items and suggestions (conditional deletes: an identity
 *    a fresh customer has taken over since is left alone);
 * 4. the shop's orders linked to any of them (README "Orders"), chunk by chunk through each
 *    member's gsi3 partition: an order loses its link (customer id, gsi3 keys), its items and its
 *    tracking link and is marked `erased`; its number item no longer names the customer. Number,
 *    status, totals and dates stay — the shop's record, no longer anyone's (the e-mail and phone
 *    an order came with were never stored). After step 3 no verified attribute names the person
 *    any more, so no later push or pull links an order to them again;
 * 5. done: `erase_state: erased`, a merge-log entry, a `customer.erased` feed event (the export
 *    rewrites the partitions holding the customer's rows on its next run), the job `erased`.
 *
 * The identifiers notes are redacted of are captured with the request and kept on the job record
 * only while it runs (removed by the last chunk). Outside the table: the inbound and outbound
 * dead-letter queues may hold raw requests/replies of the customer for their 14-day retention
 * (SQS cannot delete a message by content without receiving every message; README "Retention").
 */
import { DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { verifiedAttributes, normaliseEmail, type VerifiedAttribute } from '../domain/identity.js';
import { REDACTED, redactString } from '../domain/redact.js';
import { isConditionalCheckFailed, StoreError, type Db } from './db.js';
import { customerItems, customerPartition, loadFamily } from './customers.js';
import { feedItem } from './inbound.js';
import { batchGet, customerLogItem, loadCustomers, stripKeys } from './identity.js';
import type { IdentityRecord, TicketRecord, TimelineEntry } from './records.js';
import { indexKeys, keys } from './table.js';
import { orderKeys } from './orders.js';
import { mediaKeys } from '../domain/media.js';
import { transact, updateIfStill, type TxItem } from './tickets.js';

export type ErasurePhase = 'timeline' | 'identities' | 'orders' | 'finish' | 'done';

export interface ErasureCounts {
  readonly customers: number;
  readonly tickets: number;
  readonly messages: number;
  readonly notes: number;
  readonly surveys: number;
  readonly identities: number;
  readonly attributes: number;
  readonly suggestions: number;
  /** Orders anonymised (absent on jobs started before orders were erased). */
  readonly orders?: number;
}

/** The job record (`CUST#<root>` / `ERASURE`): the status resource `GET /customers/{id}/erasure` shows. */
export interface ErasureJob {
  readonly customer_id: string;
  readonly state: 'running' | 'erased';
  readonly phase: ErasurePhase;
  /** Number of the next chunk; the feed event that starts it carries the same number. */
  readonly chunk: number;
  /** Timeline cursor: index into `tickets`, and the sort key of the last entry done in it. */
  readonly cursor: { readonly ticket: number; readonly after: string | null };
  /** Orders cursor: index into `members`, and the gsi3 key to read that member's orders after. */
  readonly order_cursor?: { readonly member: number; readonly after: Record<string, string> | null };
  readonly members: readonly string[];
  readonly tickets: readonly string[];
  readonly counts: ErasureCounts;
  readonly requested_at: number;
  readonly requested_by: string;
  readonly erased_at: number;
  readonly finished_at?: number;
  /** The customer's identifiers notes are redacted of; removed when the job finishes. */
  readonly redact_terms?: readonly string[];
}

export type ErasureRequest =
  | { readonly status: 'started' | 'running' | 'erased'; readonly job: ErasureJob }
  | { readonly status: 'refused'; readonly code: 404; readonly reason: string };

/**
 * How long a stripped exactly-once reference keeps its key after its message: the shortest dedupe
 * marker life (`CONFLUO_DEDUP_TTL_DAYS` ≥ 8; platforms retry for up to 7 days).
 */
const ONCE_MARKER_DAYS = 8;
/** Entries read per timeline chunk: each may take 3 transaction items (message, its ref, its marker). */
export const TIMELINE_CHUNK_ENTRIES = 30;
/** Identities, attributes and suggestions deleted per chunk (one conditional delete each). */
export const IDENTITY_CHUNK_ITEMS = 50;
/** Orders anonymised per chunk: two transaction items each (the order, its number item). */
export const ORDER_CHUNK_ITEMS = 40;
const TX_LIMIT = 100;
const ERASED = 'erased';
const REPLACEMENT = '[erased]';
const ZERO: ErasureCounts = { customers: 0, tickets: 0, messages: 0, notes: 0, surveys: 0, identities: 0, attributes: 0, suggestions: 0, orders: 0 };

export async function getErasureJob(db: Db, customerId: string): Promise<ErasureJob | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.erasureJob(customerId), ConsistentRead: true }));
  return res.Item ? stripKeys<ErasureJob>(res.Item) : undefined;
}

/** The job of the person `id` belongs to (its root customer's), if any. */
export async function erasureJobOf(db: Db, id: string): Promise<ErasureJob | undefined | null> {
  const graph = await loadCustomers(db, [id]);
  if (!graph.get(id)) return null;
  return getErasureJob(db, graph.root(id));
}

/**
 * Start erasing the person `id` belongs to: mark every customer of the family, create the job,
 * write the event that starts its first chunk. Idempotent: an existing job is returned as it is.
 */
export async function requestErasure(db: Db, a: { id: string; actor: string; now: number; newId: () => string }): Promise<ErasureRequest> {
  const fam = await loadFamily(db, a.id);
  if (!fam) return { status: 'refused', code: 404, reason: 'no such customer' };
  const existing = await getErasureJob(db, fam.root.id);
  if (existing) return { status: existing.state === 'erased' ? 'erased' : 'running', job: existing };
  const erasedAt = fam.root.erased_at ?? a.now;
  const job: ErasureJob = {
    customer_id: fam.root.id, state: 'running', phase: 'timeline', chunk: 0, cursor: { ticket: 0, after: null },
    members: fam.members.map((c) => c.id), tickets: fam.tickets.map((t) => t.id),
    counts: { ...ZERO, customers: fam.members.length, tickets: fam.tickets.length },
    requested_at: a.now, requested_by: a.actor, erased_at: erasedAt,
    redact_terms: redactTerms([...fam.members.map((c) => c.display_name), ...fam.identities.flatMap(identifiersOf)]),
  };
  const mark = (id: string): TxItem => ({ Update: {
    TableName: db.tableName, Key: keys.customer(id),
    UpdateExpression: 'SET erased_at = if_not_exists(erased_at, :now), erase_state = :erasing REMOVE display_name',
    ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(erase_state) OR erase_state = :erasing)',
    ExpressionAttributeValues: { ':now': erasedAt, ':erasing': 'erasing' },
  } });
  const start: TxItem[] = [
    { Put: { TableName: db.tableName, Item: { ...keys.erasureJob(job.customer_id), ...job }, ConditionExpression: 'attribute_not_exists(pk)' } },
    feedItem(db, { id: a.newId(), type: 'customer.erasure_requested', at: a.now, customer_id: job.customer_id, data: { chunk: 0, actor: a.actor } }),
  ];
  // A family larger than one transaction (rare: ~100 merged customers) is marked ahead of the job.
  const members = [...job.members];
  while (members.length + start.length > TX_LIMIT) {
    const res = await transact(db, members.splice(0, TX_LIMIT).map(mark));
    if (!res.ok) throw new StoreError('erasure could not mark the customers', { cause: { stage: 'erasure-request', customers: job.members.length } });
  }
  const res = await transact(db, [...members.map(mark), ...start]);
  if (!res.ok) {
    const raced = await getErasureJob(db, fam.root.id);
    if (raced) return { status: raced.state === 'erased' ? 'erased' : 'running', job: raced };
    throw new StoreError('erasure could not start', { cause: { stage: 'erasure-request', codes: res.codes } });
  }
  return { status: 'started', job };
}

export type StepResult = 'continued' | 'erased' | 'stale';

/**
 * Run chunk `chunk` of the job of `customerId` (the number its feed event carries). `stale`: the
 * chunk is done already (a redelivered event) or the job is finished — nothing written.
 */
export async function eraseStep(db: Db, a: { customerId: string; chunk: number; now: number; newId: () => string; media?: MediaObjects }): Promise<StepResult> {
  // Items found gone when the transaction ran (deleted by their TTL between read and write):
  // nothing left to erase there, so the chunk is planned again without them.
  const vanished = new Set<string>();
  for (let attempt = 0; attempt < 5; attempt++) {
    const job = await getErasureJob(db, a.customerId);
    if (!job || job.state === 'erased' || job.chunk !== a.chunk) return 'stale';
    const plan = job.phase === 'timeline' ? await timelineChunk(db, job)
      : job.phase === 'identities' ? await identitiesChunk(db, job)
        : job.phase === 'orders' ? await ordersChunk(db, job)
          : await finishChunk(db, job, a);
    const next = plan.job;
    // The bytes go first: once the chunk commits, the messages no longer name their objects. A
    // delete repeated by a retried chunk is harmless (a missing object is no error).
    // Without a media store (tools, tests of the table alone) only the table is erased.
    if (plan.objects?.length && a.media) await a.media.delete(plan.objects);
    const writes = plan.items.filter((i) => !vanished.has(itemKey(i)));
    const items: TxItem[] = [
      ...writes,
      { Put: { TableName: db.tableName, Item: { ...keys.erasureJob(job.customer_id), ...next, chunk: job.chunk + 1 }, ConditionExpression: 'chunk = :c', ExpressionAttributeValues: { ':c': job.chunk } } },
      ...(next.state === 'running' ? [feedItem(db, { id: a.newId(), type: 'customer.erasure_continued', at: a.now, customer_id: job.customer_id, data: { chunk: job.chunk + 1, phase: next.phase } })] : []),
    ];
    const res = await transact(db, items);
    if (res.ok) return next.state === 'erased' ? 'erased' : 'continued';
    // The job moved on under us (another delivery of this event won): nothing to do.
    if (res.codes[writes.length] === 'ConditionalCheckFailed') return 'stale';
    writes.forEach((w, i) => { if (res.codes[i] === 'ConditionalCheckFailed') vanished.add(itemKey(w)); });
  }
  throw new StoreError('erasure chunk kept conflicting', { cause: { stage: 'erasure-step', customer_id: a.customerId, chunk: a.chunk } });
}

/** Run the whole job of `id` here and now (tests, tools): request, then every chunk in order. */
export async function runErasure(db: Db, a: { id: string; actor: string; now: number; newId: () => string; media?: MediaObjects }): Promise<ErasureRequest> {
  const started = await requestErasure(db, a);
  if (started.status === 'refused') return started;
  let job = started.job;
  for (let guard = 0; job.state === 'running' && guard < 100_000; guard++) {
    await eraseStep(db, { customerId: job.customer_id, chunk: job.chunk, now: a.now, newId: a.newId, ...(a.media ? { media: a.media } : {}) });
    job = (await getErasureJob(db, job.customer_id))!;
  }
  return { status: 'erased', job };
}

// ---------------------------------------------------------------------------------------------
// Chunks

/** Media objects (functions/runtime/ports.ts `MediaStore`) a chunk deletes before it commits. */
export interface MediaObjects { delete(keys: readonly string[]): Promise<void> }

interface Plan { readonly items: TxItem[]; readonly job: ErasureJob; readonly objects?: readonly string[] }

async function timelineChunk(db: Db, job: ErasureJob): Promise<Plan> {
  const ticketId = job.tickets[job.cursor.ticket];
  if (ticketId === undefined) return { items: [], job: { ...job, phase: 'identities', cursor: { ticket: job.tickets.length, after: null } } };
  const pk = keys.ticket(ticketId).pk;
  const res = await db.doc.send(new QueryCommand({
    TableName: db.tableName, ConsistentRead: true, Limit: TIMELINE_CHUNK_ENTRIES,
    KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': pk, ':s': 'TL#' },
    ...(job.cursor.after ? { ExclusiveStartKey: { pk, sk: job.cursor.after } } : {}),
  }));
  const entries = (res.Items ?? []).map((i) => ({ ...stripKeys<TimelineEntry>(i), sk: String(i.sk) }));
  // Dedupe markers live 8 days (CONFLUO_DEDUP_TTL_DAYS): most are gone by the time a customer is
  // erased. One batch read finds those still there, so the chunk updates only what exists.
  // The same read finds which references are their message's exactly-once marker (`once`).
  const markerKeys = entries.flatMap((e) => {
    const m = e as typeof e & { anonymised?: boolean; dedup_key?: string; channel?: string; external_message_id?: string | null; direction?: string };
    if (e.type !== 'message' || m.anonymised) return [];
    return [...(m.dedup_key ? [keys.dedupe(m.channel!, m.dedup_key)] : []), ...(m.direction === 'in' && m.external_message_id ? [keys.messageRef(m.channel!, m.external_message_id)] : [])];
  });
  const markers = markerKeys.length ? await batchGet(db, markerKeys) : new Map<string, Record<string, unknown>>();
  const items: TxItem[] = [];
  const objects: string[] = [];
  let messages = 0;
  let notes = 0;
  for (const e of entries) {
    if (e.type === 'message') {
      const m = e as typeof e & { anonymised?: boolean; dedup_key?: string };
      if (m.anonymised) continue; // done by an earlier chunk (with its ref and marker, atomically)
      // Attachment bytes (issue 14): where the message says they are, where the media function
      // puts them (a job may be storing one right now; it deletes it again when it finds the
      // message erased), and the raw MIME an e-mail was kept as.
      for (const [n, att] of m.attachments.entries()) {
        if (att.media?.key) objects.push(att.media.key);
        objects.push(mediaKeys.inbound(ticketId, m.id, n));
      }
      if (m.direction === 'in' && m.channel === 'email' && m.dedup_key && m.attachments.length > 0) objects.push(mediaKeys.inboundMail(m.dedup_key));
      items.push({ Update: {
        TableName: db.tableName, Key: { pk: keys.ticket(ticketId).pk, sk: m.sk },
        UpdateExpression: 'SET #text = :empty, attachments = :none, anonymised = :true, conversation_id = :erased, external_message_id = :null REMOVE history, extras, in_reply_to, edited_at, dedup_key',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#text': 'text' },
        ExpressionAttributeValues: { ':empty': '', ':none': [], ':true': true, ':erased': ERASED, ':null': null },
      } });
      if (m.external_message_id) items.push(referenceErasure(db, keys.messageRef(m.channel, m.external_message_id), markers, m.at, job.erased_at));
      const marker = m.dedup_key ? keys.dedupe(m.channel, m.dedup_key) : undefined;
      if (marker && markers.has(`${marker.pk}|${marker.sk}`)) {
        items.push({ Update: {
          TableName: db.tableName, Key: marker, UpdateExpression: 'SET erased = :true REMOVE ticket_id',
          ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':true': true },
        } });
      }
      messages += 1;
    } else if (e.type === 'note') {
      const redacted = redactNote(e.text, job.redact_terms ?? []);
      if (redacted !== e.text) {
        items.push({ Update: {
          TableName: db.tableName, Key: { pk: keys.ticket(ticketId).pk, sk: e.sk }, UpdateExpression: 'SET #text = :t, redacted = :true',
          ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#text': 'text' }, ExpressionAttributeValues: { ':t': redacted, ':true': true },
        } });
        notes += 1;
      }
    }
  }
  const counts = { ...job.counts, messages: job.counts.messages + messages, notes: job.counts.notes + notes };
  if (res.LastEvaluatedKey && entries.length > 0) {
    return { items, objects: [...new Set(objects)], job: { ...job, counts, cursor: { ticket: job.cursor.ticket, after: entries.at(-1)!.sk } } };
  }
  // The ticket's last entries: the ticket itself loses its subject, conversation id, survey comment
  // and the list row's preview of the last message (the customer's words).
  const ticket = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(ticketId), ConsistentRead: true }))).Item as TicketRecord | undefined;
  let surveys = 0;
  if (ticket) {
    const commented = typeof (ticket.survey as { comment?: unknown } | null)?.comment === 'string';
    if (commented) surveys = 1;
    const inbound = Object.keys(ticket).filter(keys.isInboundAttribute);
    const names: Record<string, string> = { ...(commented ? { '#comment': 'comment' } : {}), ...Object.fromEntries(inbound.map((k, i) => [`#in${i}`, k])) };
    items.push({ Update: {
      TableName: db.tableName, Key: keys.ticket(ticketId), ConditionExpression: 'attribute_exists(pk)',
      UpdateExpression: `SET conversation_id = :erased${commented ? ', survey.#comment = :null' : ''} REMOVE subject, last_message_preview${inbound.map((_, i) => `, #in${i}`).join('')}`,
      ExpressionAttributeValues: { ':erased': ERASED, ...(commented ? { ':null': null } : {}) },
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    } });
  }
  return { items, objects: [...new Set(objects)], job: { ...job, counts: { ...counts, surveys: counts.surveys + surveys }, cursor: { ticket: job.cursor.ticket + 1, after: null } } };
}

async function identitiesChunk(db: Db, job: ErasureJob): Promise<Plan> {
  const inFamily = `customer_id IN (${job.members.map((_, i) => `:m${i}`).join(', ')})`;
  const familyValues = Object.fromEntries(job.members.map((m, i) => [`:m${i}`, m]));
  const identities: IdentityRecord[] = [];
  const attrs = new Map<string, VerifiedAttribute>();
  const suggestions: Array<{ member: string; kind: string; value: string }> = [];
  for (const m of job.members) {
    const items = await customerItems(db, m);
    identities.push(...items.identities);
    for (const v of items.attributes) attrs.set(`${v.kind}#${v.value}`, { kind: v.kind, value: v.value });
    for (const s of (await customerPartition(db, m)).suggestions) suggestions.push({ member: m, kind: s.kind, value: s.value });
  }
  for (const i of identities) for (const v of verifiedAttributes(i)) attrs.set(`${v.kind}#${v.value}`, v);
  const work = [
    ...identities.map((i) => ({ kind: 'identity' as const, key: keys.identity(i.channel, i.external_id), family: true })),
    ...[...attrs.values()].map((v) => ({ kind: 'attribute' as const, key: keys.verifiedAttribute(v.kind, v.value), family: true })),
    ...suggestions.map((s) => ({ kind: 'suggestion' as const, key: keys.suggestion(s.member, s.kind, s.value), family: false })),
  ].slice(0, IDENTITY_CHUNK_ITEMS);
  // Conditional deletes one by one (not in the transaction): an identity or attribute a fresh
  // customer has taken over since fails its condition and is left alone, without cancelling the rest.
  const deleted = { identity: 0, attribute: 0, suggestion: 0 };
  await Promise.all(work.map(async (w) => {
    try {
      await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: w.key, ...(w.family ? { ConditionExpression: inFamily, ExpressionAttributeValues: familyValues } : {}) }));
      deleted[w.kind] += 1;
    } catch (e) { if (!isConditionalCheckFailed(e)) throw e; }
  }));
  const counts = { ...job.counts, identities: job.counts.identities + deleted.identity, attributes: job.counts.attributes + deleted.attribute, suggestions: job.counts.suggestions + deleted.suggestion };
  // Another chunk while more may be left (what was deleted no longer shows up in the next read).
  return { items: [], job: { ...job, counts, ...(work.length < IDENTITY_CHUNK_ITEMS ? { phase: 'orders', order_cursor: { member: 0, after: null } } : { phase: 'identities' }) } };
}

async function ordersChunk(db: Db, job: ErasureJob): Promise<Plan> {
  const cursor = job.order_cursor ?? { member: 0, after: null };
  const member = job.members[cursor.member];
  if (member === undefined) return { items: [], job: { ...job, phase: 'finish' } };
  // The member's orders by their index entries (gsi3 projects every attribute). An entry read
  // stale after its order was anonymised fails the write's condition and is planned away.
  const res = await db.doc.send(new QueryCommand({
    TableName: db.tableName, IndexName: 'gsi3', Limit: ORDER_CHUNK_ITEMS,
    KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)', ExpressionAttributeValues: { ':p': indexKeys.customerItems(member), ':s': 'ORDER#' },
    ...(cursor.after ? { ExclusiveStartKey: cursor.after } : {}),
  }));
  const items: TxItem[] = [];
  let orders = 0;
  for (const o of res.Items ?? []) {
    if (typeof o.id !== 'string' || o.customer_id !== member) continue;
    orders += 1;
    items.push({ Update: {
      TableName: db.tableName, Key: orderKeys.order(o.id),
      UpdateExpression: 'SET #items = :none, tracking_url = :null, customer_id = :null, erased = :true REMOVE gsi3pk, gsi3sk',
      ConditionExpression: 'customer_id = :c', ExpressionAttributeNames: { '#items': 'items' },
      ExpressionAttributeValues: { ':none': [], ':null': null, ':true': true, ':c': member },
    } });
    if (typeof o.number === 'string') {
      items.push({ Update: {
        TableName: db.tableName, Key: orderKeys.number(o.number), UpdateExpression: 'SET customer_id = :null',
        ConditionExpression: 'order_id = :id', ExpressionAttributeValues: { ':null': null, ':id': o.id },
      } });
    }
  }
  const counts = { ...job.counts, orders: (job.counts.orders ?? 0) + orders };
  const next = res.LastEvaluatedKey
    ? { member: cursor.member, after: res.LastEvaluatedKey as Record<string, string> }
    : { member: cursor.member + 1, after: null };
  return { items, job: { ...job, counts, order_cursor: next } };
}

async function finishChunk(db: Db, job: ErasureJob, a: { now: number; newId: () => string }): Promise<Plan> {
  const { redact_terms: _terms, ...rest } = job;
  const done: ErasureJob = { ...rest, state: 'erased', phase: 'done', finished_at: a.now };
  const erased = (m: string): TxItem => ({ Update: {
    TableName: db.tableName, Key: keys.customer(m), UpdateExpression: 'SET erase_state = :erased',
    ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':erased': 'erased' },
  } });
  // Members beyond one transaction (a family of ~100 merged customers) first; idempotent.
  for (const m of job.members.slice(TX_LIMIT - 4)) await updateIfStill(db, erased(m).Update!);
  const items: TxItem[] = [
    ...job.members.slice(0, TX_LIMIT - 4).map(erased),
    customerLogItem(db, job.customer_id, { id: a.newId(), at: a.now, event: 'customer_erased', customer_id: null, reason: 'gdpr_erase', attribute: null, sources: [], actor: job.requested_by }),
    feedItem(db, { id: a.newId(), type: 'customer.erased', at: a.now, customer_id: job.customer_id, data: { customers: job.counts.customers, identities: job.counts.identities, messages: job.counts.messages, actor: job.requested_by } }),
  ];
  return { items, job: done };
}

/**
 * A message reference of an erased message: deleted — or, when it is the message's exactly-once
 * marker (`once`), stripped to its key with the TTL a dedupe marker would have had, so a platform
 * retry is still a duplicate until then (deleted when that time has passed already).
 */
function referenceErasure(db: Db, key: { pk: string; sk: string }, found: ReadonlyMap<string, Record<string, unknown>>, atMs: number, erasedAtMs: number): TxItem {
  const ttl = Math.floor(atMs / 1000) + ONCE_MARKER_DAYS * 86_400;
  if (found.get(`${key.pk}|${key.sk}`)?.once !== true || ttl * 1000 <= erasedAtMs) return { Delete: { TableName: db.tableName, Key: key } };
  return { Update: {
    TableName: db.tableName, Key: key, UpdateExpression: 'SET erased = :true, #ttl = :ttl REMOVE ticket_id, entry_sk, direction',
    ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#ttl': 'ttl' }, ExpressionAttributeValues: { ':true': true, ':ttl': ttl },
  } };
}

/** `pk|sk` of the item a transaction item writes. */
function itemKey(i: TxItem): string {
  const key = (i.Update?.Key ?? i.Delete?.Key ?? i.Put?.Item ?? i.ConditionCheck?.Key) as { pk: string; sk: string };
  return `${key.pk}|${key.sk}`;
}

// ---------------------------------------------------------------------------------------------
// Note redaction

function identifiersOf(i: IdentityRecord): Array<string | undefined> {
  return [i.external_id, i.display_name, i.username, i.email, i.phone, i.site_user_id, i.bsuid];
}

/** The customer's identifiers as note redaction looks for them: whole values and name parts of 3+ letters, longest first. */
export function redactTerms(values: ReadonlyArray<string | undefined>): string[] {
  const out = new Set<string>();
  for (const v of values) {
    const t = v?.trim();
    if (!t || t.length < 3) continue;
    out.add(t);
    if (t.includes('@')) out.add(normaliseEmail(t));
    // Parts of names (not of addresses, numbers or platform ids).
    if (!/[@\d_]/.test(t)) for (const part of t.split(/[\s,.;:()"'«»-]+/)) if (part.length >= 3 && /\p{L}/u.test(part)) out.add(part);
    const digits = t.replace(/\D/g, '');
    if (digits.length >= 6 && /^[+\d\s().-]+$/.test(t)) out.add(digits);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** A note with the customer's identifiers (and any e-mail or phone pattern) replaced by `[erased]`. */
export function redactNote(text: string, terms: readonly string[]): string {
  // Patterns first: an address must go whole before a name part inside it is replaced.
  let out = redactString(text).replaceAll(REDACTED, REPLACEMENT);
  for (const term of terms) {
    const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Whole words only for names (no "Anna" inside "Annabel's"); as-is for ids, addresses, numbers.
    const pattern = /^\p{L}+$/u.test(term) ? new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'giu') : new RegExp(escaped, 'giu');
    out = out.replace(pattern, REPLACEMENT);
  }
  return out;
}

