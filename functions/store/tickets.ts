/**
 * Ticket merge, unmerge and split (representation: functions/domain/merge.ts). Timeline entries
 * never move: a merge is one transaction (loser `merged` + pointer, winner lists it), a split
 * records its intent on the source ticket, creates the new ticket, then marks each selected entry
 * `shown_in` with one idempotent conditional update, then clears the intent — a retry of the same
 * request resumes from the recorded intent.
 */
import { QueryCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { earliestSla, mergedLists, showsIn, timelinePartitions, unmergedLists, ticketMergeRefusal } from '../domain/merge.js';
import type { TicketStatus } from '../domain/ticket.js';
import { initialSla } from '../domain/sla/policy.js';
import { cancellationCodes, isConditionalCheckFailed, StoreError, type Db } from './db.js';
import { feedItem, ticketItem, timelineItem } from './inbound.js';
import { loadCustomers, loadTickets, stripKeys } from './identity.js';
import { indexKeys, keys } from './table.js';
import type { EventEntry, MessageEntry, TicketRecord, TimelineEntry } from './records.js';

export type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A transaction: committed, or the cancellation codes (index-aligned with the items). */
export async function transact(db: Db, items: TxItem[]): Promise<{ ok: true } | { ok: false; codes: string[] }> {
  if (items.length > 100) throw new StoreError('transaction too large', { cause: { stage: 'transact', items: items.length } });
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return { ok: true };
  } catch (e) {
    const codes = cancellationCodes(e);
    if (!codes) throw e;
    if (codes.some((c) => c !== 'None' && c !== 'ConditionalCheckFailed' && c !== 'TransactionConflict')) throw e;
    return { ok: false, codes };
  }
}

/** Update that may find its condition already false (an idempotent step done before): true when it applied. */
export async function updateIfStill(db: Db, input: Omit<NonNullable<TxItem['Update']>, 'TableName'>): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({ TableName: db.tableName, ...input } as never));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

const event = (ticketId: string, at: number, id: string, name: string, data: Record<string, unknown>): EventEntry => ({ type: 'event', id, ticket_id: ticketId, at, event: name, data });

export interface TicketMergeSpec {
  readonly winner: TicketRecord;
  readonly loser: TicketRecord;
  /** The (root) customer both tickets belong to afterwards. */
  readonly customerId: string;
  readonly reason: 'customer_merge' | 'manual';
  readonly actor: string;
  readonly now: number;
  readonly newId: () => string;
}

/**
 * The items of merging ticket `loser` into `winner`: the loser becomes `merged` (leaves the
 * inbox), the winner lists it, counts its messages and keeps the earliest SLA start. Conditions:
 * both tickets exactly as read (status, owner, the loser's message count, the winner's SLA
 * revision), so a message or SLA write racing the merge makes it reload.
 */
export function ticketMergeItems(db: Db, s: TicketMergeSpec): TxItem[] {
  const { winner: w, loser: l } = s;
  const T = db.tableName;
  const lists = mergedLists(w, l);

  const wNames: Record<string, string> = { '#s': 'status' };
  const wValues: Record<string, unknown> = { ':n': l.message_count ?? 0, ':zero': 0, ':mt': lists.merged_tickets, ':ts': lists.timeline_sources, ':ws': w.status, ':wc': w.customer_id };
  const wSet = ['message_count = if_not_exists(message_count, :zero) + :n', 'merged_tickets = :mt', 'timeline_sources = :ts'];
  let wCond = '#s = :ws AND customer_id = :wc';
  const sla = earliestSla(w.sla as never, l.sla as never, w.created_at, l.created_at);
  if (w.sla && l.sla && sla) {
    wNames['#sla'] = 'sla';
    wSet.push('#sla = :sla');
    wValues[':sla'] = sla;
    const rev = (w.sla as { rev?: number }).rev;
    if (typeof rev === 'number') { wCond += ' AND #sla.rev = :rev'; wValues[':rev'] = rev; } else wCond += ' AND attribute_not_exists(#sla.rev)';
  }
  if ((l.last_inbound_at ?? 0) > (w.last_inbound_at ?? 0)) {
    // Replies go to the channel of the customer's last inbound message, whichever ticket it was on.
    wSet.push('channel = :ch', 'conversation_id = :cv', 'last_inbound_at = :li');
    Object.assign(wValues, { ':ch': l.channel, ':cv': l.conversation_id, ':li': l.last_inbound_at });
  }
  if (w.customer_id !== s.customerId) {
    wSet.push('customer_id = :c', 'gsi3pk = :g3', 'origin_customer_id = if_not_exists(origin_customer_id, :wc)');
    Object.assign(wValues, { ':c': s.customerId, ':g3': indexKeys.customerItems(s.customerId) });
  }

  const lValues: Record<string, unknown> = { ':merged': 'merged', ':w': w.id, ':g2': indexKeys.byStatus('merged', 0, l.id).gsi2pk, ':ls': l.status, ':lc': l.customer_id, ':lcount': l.message_count ?? 0, ':lu': l.updated_at };
  const lSet = ['#s = :merged', 'merged_into = :w', 'gsi2pk = :g2'];
  if (l.customer_id !== s.customerId) {
    lSet.push('customer_id = :c', 'gsi3pk = :g3', 'origin_customer_id = if_not_exists(origin_customer_id, :lc)');
    Object.assign(lValues, { ':c': s.customerId, ':g3': indexKeys.customerItems(s.customerId) });
  }
  const data = { reason: s.reason, actor: s.actor };
  return [
    { Update: { TableName: T, Key: keys.ticket(w.id), UpdateExpression: `SET ${wSet.join(', ')}`, ConditionExpression: wCond, ExpressionAttributeNames: wNames, ExpressionAttributeValues: wValues } },
    { Update: {
      TableName: T, Key: keys.ticket(l.id), UpdateExpression: `SET ${lSet.join(', ')} REMOVE gsi1pk, gsi1sk`,
      // …and no activity since it was read (an agent's reply bumps `updated_at`): the merge is
      // then planned again, after that reply (store/outbound.ts `queueReply`).
      ConditionExpression: '#s = :ls AND customer_id = :lc AND message_count = :lcount AND updated_at = :lu',
      ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: lValues,
    } },
    timelineItem(db, event(w.id, s.now, s.newId(), 'ticket.merged', { from: l.id, from_number: l.number, ...data }) as never),
    timelineItem(db, event(l.id, s.now, s.newId(), 'ticket.merged_into', { into: w.id, into_number: w.number, ...data }) as never),
    // The SLA reaction keeps the earliest start on the winner; the loser's workflow ends by itself.
    feedItem(db, { id: s.newId(), type: 'ticket.merged', at: s.now, ticket_id: l.id, customer_id: s.customerId, data: { into: w.id, ...data } }),
  ];
}

export interface TicketUnmergeSpec {
  readonly winner: TicketRecord;
  readonly loser: TicketRecord;
  readonly loserStatus: TicketStatus;
  readonly loserMessageCount: number;
  /** Owners after the unmerge. */
  readonly winnerCustomer: string;
  readonly loserCustomer: string;
  readonly actor: string;
  readonly now: number;
  readonly newId: () => string;
}

/** Undo a ticket merge: the loser gets its status, inbox place and owner back; the winner drops it. */
export function ticketUnmergeItems(db: Db, s: TicketUnmergeSpec): TxItem[] {
  const { winner: w, loser: l } = s;
  const T = db.tableName;
  const lists = unmergedLists(w, l);
  const inbox = indexKeys.inbox(l.updated_at, l.id, l.tier);
  const lValues: Record<string, unknown> = { ':st': s.loserStatus, ':g2': indexKeys.byStatus(s.loserStatus, 0, l.id).gsi2pk, ':g1p': inbox.gsi1pk, ':g1s': inbox.gsi1sk, ':merged': 'merged', ':w': w.id };
  const lSet = ['#s = :st', 'gsi2pk = :g2', 'gsi1pk = :g1p', 'gsi1sk = :g1s'];
  if (l.customer_id !== s.loserCustomer) { lSet.push('customer_id = :c', 'gsi3pk = :g3'); Object.assign(lValues, { ':c': s.loserCustomer, ':g3': indexKeys.customerItems(s.loserCustomer) }); }
  const wValues: Record<string, unknown> = { ':mt': lists.merged_tickets, ':n': s.loserMessageCount };
  const wSet = ['merged_tickets = :mt', 'message_count = message_count - :n'];
  if (w.customer_id !== s.winnerCustomer) { wSet.push('customer_id = :c', 'gsi3pk = :g3'); Object.assign(wValues, { ':c': s.winnerCustomer, ':g3': indexKeys.customerItems(s.winnerCustomer) }); }
  const data = { reason: 'customer_unmerge', actor: s.actor };
  return [
    { Update: {
      TableName: T, Key: keys.ticket(l.id), UpdateExpression: `SET ${lSet.join(', ')} REMOVE merged_into`,
      ConditionExpression: '#s = :merged AND merged_into = :w', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: lValues,
    } },
    { Update: { TableName: T, Key: keys.ticket(w.id), UpdateExpression: `SET ${wSet.join(', ')}`, ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: wValues } },
    timelineItem(db, event(w.id, s.now, s.newId(), 'ticket.unmerged', { ticket: l.id, ...data }) as never),
    timelineItem(db, event(l.id, s.now, s.newId(), 'ticket.unmerged', { from: w.id, ...data }) as never),
    // The restored ticket's SLA workflow starts again (its status changed back from merged).
    feedItem(db, { id: s.newId(), type: 'ticket.updated', at: s.now, ticket_id: l.id, customer_id: s.loserCustomer, data: { changed: ['status'], status: s.loserStatus, unmerged_from: w.id } }),
  ];
}

/**
 * The timeline of a ticket: its own partition plus the partitions of tickets merged into it and
 * of split sources (1 query each, in parallel), keeping the entries it owns, in order.
 */
export async function ticketTimeline(db: Db, ticket: TicketRecord): Promise<TimelineEntry[]> {
  const parts = await Promise.all(timelinePartitions(ticket).map((p) => partitionEntries(db, p)));
  return parts.flat()
    .filter((e) => showsIn(ticket, e as { ticket_id: string; shown_in?: string }))
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Every timeline entry stored under a ticket (paged), with its sort key. */
export async function partitionEntries(db: Db, ticketId: string): Promise<Array<TimelineEntry & { sk: string }>> {
  const out: Array<TimelineEntry & { sk: string }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({
      TableName: db.tableName, KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': keys.ticket(ticketId).pk, ':s': 'TL#' }, ConsistentRead: true, ExclusiveStartKey: start,
    }));
    for (const i of res.Items ?? []) out.push({ ...stripKeys<TimelineEntry>(i), sk: String(i.sk) });
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export type TicketOpResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: 400 | 404 | 409; readonly reason: string };
const refuse = (status: 400 | 404 | 409, reason: string) => ({ ok: false as const, status, reason });

const MAX_ATTEMPTS = 8;
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(250, 10 * 2 ** attempt)));

/**
 * Manual ticket merge (`POST /tickets/{id}/merge {into}`): both tickets of one customer; the
 * customer's current-ticket pointer follows the winner. Retried on a lost race; idempotent (a
 * ticket already merged into `into` answers the same).
 */
export async function mergeTickets(db: Db, args: { loserId: string; intoId: string; actor: string; now: number; newId: () => string }): Promise<TicketOpResult<TicketRecord>> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const tickets = await loadTickets(db, [args.loserId, args.intoId]);
    const loser = tickets.get(args.loserId);
    const winner = tickets.get(args.intoId);
    if (!loser || !winner) return refuse(404, 'no such ticket');
    if (loser.status === 'merged' && loser.merged_into === winner.id) return { ok: true, value: winner };
    const why = ticketMergeRefusal(loser, winner);
    if (why) return refuse(409, why);
    const graph = await loadCustomers(db, [loser.customer_id, winner.customer_id]);
    const root = graph.root(winner.customer_id);
    if (graph.root(loser.customer_id) !== root) return refuse(409, 'the tickets belong to different customers: merge the customers first');
    const customer = graph.get(root);
    if (!customer || customer.erased_at !== undefined) return refuse(409, 'the customer is erased');
    // Stamped after the loser's last activity, so the timeline shows a reply that won the race before the merge.
    const now = Math.max(args.now, loser.updated_at + 1);
    const items = ticketMergeItems(db, { winner, loser, customerId: root, reason: 'manual', actor: args.actor, now, newId: args.newId });
    if (customer.current_ticket_id === loser.id) {
      items.push({ Update: {
        TableName: db.tableName, Key: keys.customer(root), UpdateExpression: 'SET current_ticket_id = :w',
        ConditionExpression: 'current_ticket_id = :l AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)',
        ExpressionAttributeValues: { ':w': winner.id, ':l': loser.id },
      } });
    }
    const res = await transact(db, items);
    if (res.ok) return { ok: true, value: (await loadTickets(db, [winner.id])).get(winner.id)! };
    await backoff(attempt);
  }
  throw new StoreError('ticket merge gave up after repeated write conflicts', { cause: { stage: 'ticket-merge', attempts: MAX_ATTEMPTS } });
}

/**
 * Split (`POST /tickets/{id}/split {messageIds}`): the selected messages (of this ticket's
 * timeline) go to a new ticket of the same customer. The new ticket is `open`, not the customer's
 * current one (new messages keep joining the current ticket); its SLA starts at its earliest
 * message. Steps: (1) one transaction — new ticket, its number, the intent on the source
 * (`pending_split`), message counts, events; (2) each entry `shown_in` = new ticket (idempotent);
 * (3) clear the intent. A retry of the same request after a crash resumes at (2).
 */
export async function splitTicket(db: Db, args: {
  ticketId: string; messageIds: readonly string[]; actor: string; now: number; newId: () => string; nextNumber: () => Promise<string>;
}): Promise<TicketOpResult<TicketRecord>> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const source = (await loadTickets(db, [args.ticketId])).get(args.ticketId);
    if (!source) return refuse(404, 'no such ticket');
    const wanted = new Set(args.messageIds);
    if (source.pending_split) {
      const sameRequest = source.pending_split.entries.length === wanted.size && source.pending_split.entries.every((e) => wanted.has(entryIdOf(e.sk)));
      if (!sameRequest) return refuse(409, 'another split of this ticket is in progress');
      return { ok: true, value: await finishSplit(db, source.id, source.pending_split) };
    }
    if (source.status === 'merged' || source.status === 'closed') return refuse(409, `ticket is ${source.status}`);
    const timeline = await ticketTimeline(db, source) as Array<TimelineEntry & { sk: string }>;
    const messages = timeline.filter((e): e is MessageEntry & { sk: string } => e.type === 'message');
    const selected = messages.filter((m) => wanted.has(m.id));
    if (selected.length !== wanted.size) return refuse(400, 'messageIds: every id must be a message of this ticket');
    if (selected.length === messages.length) return refuse(409, 'a split must leave at least one message on the ticket');

    const id = args.newId();
    const inbound = selected.filter((m) => m.direction === 'in');
    const lastIn = [...inbound].sort((a, b) => b.at - a.at)[0];
    const firstAt = Math.min(...selected.map((m) => m.at));
    const number = await args.nextNumber();
    const ticket: TicketRecord = {
      id, number, status: 'open', priority: source.priority, category: source.category ?? null, tags: [...(source.tags ?? [])],
      customer_id: source.customer_id, channel: lastIn?.channel ?? source.channel, conversation_id: lastIn?.conversation_id ?? source.conversation_id,
      assignee: source.assignee ?? null, team: source.team ?? null, sla: initialSla(source.priority, firstAt), survey: null, merged_into: null,
      previous_ticket_id: null, created_at: args.now, updated_at: args.now, last_inbound_at: lastIn?.at ?? null, last_outbound_at: null,
      first_response_at: null, resolved_at: null, closed_at: null, message_count: inbound.length,
      split_from: source.id, timeline_sources: [...new Set(selected.map((m) => m.ticket_id))],
    };
    const pending = { ticket_id: id, entries: selected.map((m) => ({ ticket_id: m.ticket_id, sk: m.sk, owner: m.shown_in ?? m.ticket_id })) };
    const data = { actor: args.actor, messages: selected.length };
    const res = await transact(db, [
      { Put: { TableName: db.tableName, Item: ticketItem(ticket), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: db.tableName, Item: { ...keys.ticketNumber(number), ticket_id: id }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: {
        TableName: db.tableName, Key: keys.ticket(source.id),
        UpdateExpression: 'SET pending_split = :ps, message_count = message_count - :k',
        ConditionExpression: '#s = :s AND attribute_not_exists(pending_split) AND message_count = :mc',
        ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':ps': pending, ':k': inbound.length, ':s': source.status, ':mc': source.message_count },
      } },
      timelineItem(db, event(source.id, args.now, args.newId(), 'ticket.split', { into: id, into_number: number, ...data }) as never),
      timelineItem(db, event(id, args.now, args.newId(), 'ticket.split_from', { from: source.id, from_number: source.number, ...data }) as never),
      feedItem(db, { id: args.newId(), type: 'ticket.split', at: args.now, ticket_id: source.id, customer_id: source.customer_id, data: { into: id, ...data } }),
      // The new ticket's SLA workflow starts from this event (no acknowledgement: not a customer-opened ticket).
      feedItem(db, { id: args.newId(), type: 'ticket.updated', at: args.now, ticket_id: id, customer_id: source.customer_id, data: { changed: ['split_from'], split_from: source.id } }),
    ]);
    if (res.ok) return { ok: true, value: await finishSplit(db, source.id, pending) };
    await backoff(attempt);
  }
  throw new StoreError('ticket split gave up after repeated write conflicts', { cause: { stage: 'ticket-split', attempts: MAX_ATTEMPTS } });
}

const entryIdOf = (sk: string) => sk.slice(sk.lastIndexOf('#') + 1);

async function finishSplit(db: Db, sourceId: string, pending: NonNullable<TicketRecord['pending_split']>): Promise<TicketRecord> {
  for (const e of pending.entries) {
    // Idempotent: done before (shown_in already the new ticket) or still owned as recorded.
    await updateIfStill(db, {
      Key: { pk: keys.ticket(e.ticket_id).pk, sk: e.sk }, UpdateExpression: 'SET shown_in = :n',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(shown_in) OR shown_in = :o OR shown_in = :n)',
      ExpressionAttributeValues: { ':n': pending.ticket_id, ':o': e.owner },
    });
  }
  await updateIfStill(db, {
    Key: keys.ticket(sourceId), UpdateExpression: 'REMOVE pending_split',
    ConditionExpression: 'pending_split.ticket_id = :n', ExpressionAttributeValues: { ':n': pending.ticket_id },
  });
  return (await loadTickets(db, [pending.ticket_id])).get(pending.ticket_id)!;
}

