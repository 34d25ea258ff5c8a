/**
 * Access patterns of the phone channel (issue 16; functions/domain/voice.ts):
 *
 * - the caller lookup a contact flow waits for: **two round trips** — (1) the number's verified
 *   index item and its `voice:` identity in one BatchGetItem; (2) the customer's profile and its
 *   gsi3 partition (identities and tickets, newest first) in parallel. A merge pointer or a
 *   current ticket older than the 25 newest items costs one more (rare).
 * - the call context the lookup leaves for the contact events (`CALL#<contact id>`, expiring after
 *   two days): Connect's contact events name the contact, not the caller, so the number, the
 *   flow's verdict on the caller and its after-hours flag travel through this item.
 * - a caller's `voice:` identity filed with the customer who holds the number as a verified
 *   attribute (a claim files, never merges: see the domain module).
 * - the outcome of a call on its ticket (first response, call-back task and its priority) and an
 *   outbound call (an agent's call-back) as one conditional transaction each, each holding its own
 *   dedupe marker — a redelivered event changes nothing.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isActive, type Priority } from '../domain/ticket.js';
import type { Db } from './db.js';
import { batchGet, stripKeys } from './identity.js';
import { dedupeItem, feedItem, runTransaction, timelineItem, type CommitResult } from './inbound.js';
import type { CustomerRecord, EventEntry, FeedEvent, IdentityRecord, MessageEntry, TicketRecord, VerifiedIndexRecord } from './records.js';
import { indexKeys, keys } from './table.js';
import { withLastInbound } from './last-inbound.js';
import type { TxItem } from './tickets.js';

/** How long a call's context is kept: a call and its events are minutes apart; redeliveries come within a day. */
export const CALL_CONTEXT_TTL_SECONDS = 2 * 86_400;
/** Newest gsi3 items read for a lookup (identities, tickets, verified attributes of the customer). */
const LOOKUP_ITEMS = 25;

/** The customer item as the lookup reads it: `tier` is issue 15's attribute (absent = no tier). */
export type CustomerWithTier = CustomerRecord & { readonly tier?: string; readonly language?: string };

export interface CallerRecord {
  readonly customer: CustomerWithTier;
  /** The number is a verified attribute of this customer. */
  readonly verified: boolean;
  readonly identities: readonly IdentityRecord[];
  /** The customer's current ticket, when it is active. */
  readonly openTicket: TicketRecord | undefined;
}

/** Who holds `phone` (E.164): the owner of the verified attribute, else the customer of its `voice:` identity. */
export async function findCaller(db: Db, phone: string): Promise<CallerRecord | undefined> {
  const attrKey = keys.verifiedAttribute('phone', phone);
  const identKey = keys.identity('voice', phone);
  const items = await batchGet(db, [attrKey, identKey]);
  const attr = items.get(`${attrKey.pk}|${attrKey.sk}`);
  const ident = items.get(`${identKey.pk}|${identKey.sk}`);
  let customerId: string | undefined = attr ? stripKeys<VerifiedIndexRecord>(attr).customer_id : ident ? stripKeys<IdentityRecord>(ident).customer_id : undefined;
  if (!customerId) return undefined;
  const verified = attr !== undefined || (ident !== undefined && stripKeys<IdentityRecord>(ident).phone_verified === true);
  for (let hop = 0; hop < 8 && customerId !== undefined; hop++) {
    const id: string = customerId;
    const [profile, partition] = await Promise.all([
      db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.customer(id) })),
      db.doc.send(new QueryCommand({
        TableName: db.tableName, IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p',
        ExpressionAttributeValues: { ':p': indexKeys.customerItems(id) }, ScanIndexForward: false, Limit: LOOKUP_ITEMS,
      })),
    ]);
    if (!profile.Item) return undefined;
    const customer: CustomerWithTier = stripKeys<CustomerWithTier>(profile.Item);
    if (customer.merged_into) { customerId = customer.merged_into; continue; }
    if (customer.erased_at !== undefined) return undefined;
    const rows = partition.Items ?? [];
    const identities = rows.filter((r) => String(r.gsi3sk).startsWith('IDENT#')).map((r) => stripKeys<IdentityRecord>(r));
    const tickets = rows.filter((r) => String(r.gsi3sk).startsWith('TICKET#')).map((r) => stripKeys<TicketRecord>(r));
    let current = customer.current_ticket_id ? tickets.find((t) => t.id === customer.current_ticket_id) : undefined;
    if (customer.current_ticket_id && !current) {
      const got = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(customer.current_ticket_id) }));
      current = got.Item ? stripKeys<TicketRecord>(got.Item) : undefined;
    }
    return { customer, verified, identities: withLastInbound(identities, tickets), openTicket: current && isActive(current.status) ? current : undefined };
  }
  return undefined;
}

/** What the lookup learnt about a contact, for its contact events. */
export interface CallContext {
  readonly contact_id: string;
  readonly phone: string;
  readonly customer_id: string | null;
  /** The contact flow verified the caller (PIN, one-time code …): the number may then act as a verified attribute. */
  readonly caller_verified: boolean;
  /** The flow reached its after-hours branch (or the caller asked for a call-back). */
  readonly after_hours: boolean;
  readonly at: number;
}

/** Records (or refreshes) a contact's context; a later invocation of the flow may set the flags, never clear them. */
export async function putCallContext(db: Db, ctx: CallContext): Promise<void> {
  await db.doc.send(new PutCommand({
    TableName: db.tableName,
    Item: { ...keys.callContext(ctx.contact_id), ...ctx, ttl: Math.floor(ctx.at / 1000) + CALL_CONTEXT_TTL_SECONDS },
  }));
}

/** 1 round trip. */
export async function getCallContext(db: Db, contactId: string): Promise<CallContext | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.callContext(contactId), ConsistentRead: true }));
  return res.Item ? stripKeys<CallContext>(res.Item) : undefined;
}

/**
 * Files a caller's `voice:` identity with `customerId` before their first call is committed, so the
 * inbound commit appends the call to that customer's ticket instead of opening a stranger's. The
 * identity keeps the number as a claim (`phone_verified: false`). Conditional: an identity that
 * exists already is left as it is.
 */
export async function fileVoiceIdentity(db: Db, phone: string, customerId: string, nowMs: number): Promise<void> {
  try {
    await db.doc.send(new PutCommand({
      TableName: db.tableName,
      Item: {
        ...keys.identity('voice', phone), ...indexKeys.customerIdentity(customerId, 'voice', phone),
        channel: 'voice', external_id: phone, phone, phone_verified: false, customer_id: customerId, conversation_id: phone, created_at: nowMs,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (e) {
    if ((e as { name?: string })?.name !== 'ConditionalCheckFailedException') throw e;
  }
}

/** The ticket an inbound call was committed to (its dedupe marker names it). 1 round trip. */
export async function ticketOfCommittedCall(db: Db, dedupKey: string): Promise<string | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.dedupe('voice', dedupKey), ConsistentRead: true }));
  return typeof res.Item?.ticket_id === 'string' ? res.Item.ticket_id : undefined;
}

/** The call-back task of a ticket (`callback` on the ticket item). */
export interface CallbackTask {
  readonly state: 'pending' | 'done';
  /** The missed call that asked for it. */
  readonly contact_id: string;
  readonly requested_at: number;
  readonly done_at?: number;
  /** The outbound (or inbound) call that settled it. */
  readonly done_by?: string;
}

/**
 * A call's consequences on the ticket it was committed to, in one transaction with its own marker:
 * - `answered`: the first response (`first_response_at` if unset); a pending call-back is settled;
 * - `callback`: a pending call-back task (unless one is pending already) and, for a tier that asks
 *   for it, the raised priority.
 */
export async function commitCallOutcome(db: Db, args: {
  readonly marker: string; readonly ticketId: string; readonly customerId: string; readonly nowMs: number; readonly dedupTtlSeconds: number;
  readonly answered?: { readonly at: number; readonly contactId: string };
  readonly callback?: { readonly task: CallbackTask; readonly priority: Priority | null };
  /** The contact that settles the ticket's pending call-back (an answered call). */
  readonly settleCallback?: string;
  readonly timeline: readonly EventEntry[]; readonly events: readonly FeedEvent[];
}): Promise<CommitResult> {
  const sets = ['updated_at = :now'];
  const values: Record<string, unknown> = { ':now': args.nowMs, ':c': args.customerId };
  const names: Record<string, string> = {};
  let condition = 'customer_id = :c';
  if (args.answered) {
    sets.push('first_response_at = if_not_exists(first_response_at, :fr)');
    values[':fr'] = args.answered.at;
  }
  if (args.callback) {
    names['#cb'] = 'callback';
    sets.push('#cb = :cb');
    values[':cb'] = args.callback.task;
    values[':pending'] = 'pending';
    names['#st'] = 'state';
    condition += ' AND (attribute_not_exists(#cb) OR #cb.#st <> :pending)';
    if (args.callback.priority) { names['#p'] = 'priority'; sets.push('#p = :p'); values[':p'] = args.callback.priority; }
  } else if (args.settleCallback) {
    Object.assign(names, { '#cb': 'callback', '#st': 'state' });
    sets.push('#cb.#st = :done', '#cb.done_at = :now', '#cb.done_by = :by');
    Object.assign(values, { ':done': 'done', ':by': args.settleCallback });
  }
  const items: TxItem[] = [
    dedupeItem(db, 'voice', args.marker, args.nowMs, args.dedupTtlSeconds, { ticket_id: args.ticketId }),
    { Update: {
      TableName: db.tableName, Key: keys.ticket(args.ticketId), UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: condition, ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}), ExpressionAttributeValues: values,
    } },
    ...args.timeline.map((e) => timelineItem(db, e as unknown as EventEntry & Record<string, unknown>)),
    ...args.events.map((e) => feedItem(db, e)),
  ];
  return runTransaction(db, items);
}

/**
 * An outbound call (an agent's call-back) on the customer's active ticket: the call entry, the
 * ticket's outbound touch (inbox order), the first response and the settled call-back when the
 * customer picked up — one transaction, conditional on the ticket still being active and theirs.
 */
export async function commitOutboundCall(db: Db, args: {
  readonly marker: string; readonly ticket: TicketRecord; readonly entry: MessageEntry; readonly nowMs: number; readonly dedupTtlSeconds: number;
  readonly answeredAt: number | null; readonly settles: boolean;
  readonly timeline: readonly EventEntry[]; readonly events: readonly FeedEvent[];
}): Promise<CommitResult> {
  const t = args.ticket;
  const g = indexKeys.inbox(args.nowMs, t.id).gsi1sk;
  const sets = ['updated_at = :now', 'last_outbound_at = :now', 'gsi1sk = :g', 'gsi2sk = :g'];
  const names: Record<string, string> = { '#s': 'status' };
  const values: Record<string, unknown> = { ':now': args.nowMs, ':g': g, ':c': t.customer_id, ':s0': 'new', ':s1': 'open', ':s2': 'pending_customer', ':s3': 'on_hold' };
  if (args.answeredAt !== null) { sets.push('first_response_at = if_not_exists(first_response_at, :fr)'); values[':fr'] = args.answeredAt; }
  if (args.settles) {
    Object.assign(names, { '#cb': 'callback', '#st': 'state' });
    sets.push('#cb.#st = :done', '#cb.done_at = :now', '#cb.done_by = :by');
    Object.assign(values, { ':done': 'done', ':by': args.entry.external_message_id });
  }
  return runTransaction(db, [
    dedupeItem(db, 'voice', args.marker, args.nowMs, args.dedupTtlSeconds, { ticket_id: t.id }),
    { Update: {
      TableName: db.tableName, Key: keys.ticket(t.id), UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'customer_id = :c AND #s IN (:s0, :s1, :s2, :s3)', ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    } },
    timelineItem(db, args.entry as unknown as MessageEntry & Record<string, unknown>),
    ...args.timeline.map((e) => timelineItem(db, e as unknown as EventEntry & Record<string, unknown>)),
    ...args.events.map((e) => feedItem(db, e)),
  ]);
}

export type { IdentityRecord };
