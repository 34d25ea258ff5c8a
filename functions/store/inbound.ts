/**
 * Committing one inbound message: a single TransactWriteItems whose first item is the
 * exactly-once marker — the message reference itself where the platform's message id names one
 * event, else a dedupe marker (functions/store/table.ts "Exactly once") — so a redelivered record
 * either finds it (duplicate → nothing changes) or commits everything. Conditions guard the
 * invariants (one current ticket per customer, ticket still active, identity still owned by the
 * customer, the window anchor never moving back); a failed condition other than the first item
 * means "reload and decide again".
 *
 * A known customer's message on its open ticket writes 4 items — the reference, the ticket (with
 * the identity's last inbound message), the timeline entry, the feed event — and checks the
 * identity and the customer (README "Scale").
 */
import { isDeepStrictEqual } from 'node:util';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { InboundMessage, Identity } from '../domain/inbound.js';
import { cancellationCodes, ttlAfter, type Db } from './db.js';
import { indexKeys, keys } from './table.js';
import { messagePreview } from '../domain/message-preview.js';
import type { EventEntry, FeedEvent, IdentityRecord, MessageEntry, TicketRecord } from './records.js';
import type { LastInbound } from './last-inbound.js';
import { offerAnswerUpdate, type OfferThread } from './offer-thread.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type ThreadPlan =
  | { readonly action: 'append'; readonly ticketId: string; readonly fromStatus: 'any-active' | 'pending_customer' }
  /** `moveFrom`: reopening a ticket that is not the customer's current one (e-mail threading): the pointer moves from that (inactive) ticket. */
  | { readonly action: 'reopen'; readonly ticketId: string; readonly moveFrom?: string | null; readonly cancelSurveyRound?: number }
  | { readonly action: 'open'; readonly ticket: TicketRecord; readonly expectedCurrent: string | null }
  /**
   * A reply to the ticket's survey (functions/domain/survey.ts `classifyReply`): the message joins
   * the resolved (or closed) ticket without reopening it, and the survey fields in `surveySet` are
   * written — conditional on the survey's round and state. `reopen`: a low score reopens the
   * ticket with the raised priority.
   */
  | {
      readonly action: 'survey'; readonly ticketId: string; readonly round: number; readonly expectState: string;
      readonly surveySet: Readonly<Record<string, unknown>>; readonly requireNoComment?: boolean;
      readonly reopen?: { readonly priority: string; readonly from?: string };
      /** Statuses the ticket may be in (default: resolved or closed; resolved only when reopening). */
      readonly statuses?: readonly string[];
    }
  /** An answer to an article offered before the ticket opened (store/offer-thread.ts). */
  | OfferThread;

export interface InboundPlan {
  readonly msg: InboundMessage;
  readonly nowMs: number;
  readonly dedupTtlSeconds: number;
  readonly entry: MessageEntry;
  readonly identity: Identity;
  readonly customer: { readonly id: string; readonly isNew: boolean; readonly displayName?: string };
  readonly identityIsNew: boolean;
  readonly replyContext?: Record<string, unknown>;
  readonly thread: ThreadPlan;
  readonly events: readonly FeedEvent[];
  readonly timelineEvents: readonly EventEntry[];
  /** Identity resolution (store/identity.ts): verified-attribute claims, suggestions, merge-log entries. */
  readonly identityItems?: readonly TxItem[];
  /** The identity still names this (merged-away) customer: it is re-pointed to `customer.id` in this commit. */
  readonly identityFromCustomer?: string;
  /** A new identity replacing the item of an erased customer's identity (erase still in progress). */
  readonly identityReplacesCustomer?: string;
  /** Further identity attributes (origin_customer_id of a new identity, reachability). */
  readonly identityExtras?: Readonly<Record<string, unknown>>;
  /** The identity as stored before this message: an identity nothing changes on is only checked, not rewritten. */
  readonly storedIdentity?: IdentityRecord;
  /**
   * The message reference is the exactly-once marker (no dedupe marker): a new message whose
   * platform id names one event (functions/store/table.ts "Exactly once"; process.ts decides).
   */
  readonly onceByMessageId?: boolean;
  /**
   * The window anchor this message sets (epoch ms, platform clock, functions/domain/reply-window.ts):
   * kept on the ticket as the identity's last inbound message; the ticket update is conditional on
   * not moving an anchor already there back (a late delivery loses the race: reload, and the
   * caller passes the anchor it found).
   */
  readonly sentAt: number;
  /** Writes of other capabilities committed with the message (an offered article's reply: store/deflection.ts `offerItems`). */
  readonly extraItems?: readonly TxItem[];
}

export type CommitResult = 'committed' | 'duplicate' | 'conflict';

const ACTIVE_NO_PENDING = ['new', 'open', 'on_hold'];

export function dedupeItem(db: Db, channel: string, dedupKey: string, nowMs: number, ttlSeconds: number, extra: Record<string, unknown> = {}): TxItem {
  return {
    Put: {
      TableName: db.tableName,
      Item: { ...keys.dedupe(channel, dedupKey), at: nowMs, ttl: Math.floor(nowMs / 1000) + ttlSeconds, ...extra },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** A change-feed event; with a feed retention (`CONFLUO_FEED_TTL_DAYS`) it expires that long after it happened. */
export function feedItem(db: Db, e: FeedEvent): TxItem {
  const ttl = db.retention?.feedTtlDays ? { ttl: ttlAfter(e.at, db.retention.feedTtlDays) } : {};
  return { Put: { TableName: db.tableName, Item: { ...keys.feedEvent(e.at, e.id, e.ticket_id ?? e.customer_id ?? e.id), ...e, ...ttl } } };
}

/** A timeline entry; a message expires with a message retention (`CONFLUO_MESSAGE_TTL_DAYS`), notes and events stay. */
export function timelineItem(db: Db, entry: { ticket_id: string; at: number; id: string } & Record<string, unknown>): TxItem {
  const ttl = entry.type === 'message' && db.retention?.messageTtlDays ? { ttl: ttlAfter(entry.at, db.retention.messageTtlDays) } : {};
  return { Put: { TableName: db.tableName, Item: { ...keys.timelineEntry(entry.ticket_id, entry.at, entry.id), ...entry, ...ttl }, ConditionExpression: 'attribute_not_exists(pk)' } };
}

/**
 * The ticket attributes of the inbox list row's "last message" (functions/domain/message-preview.ts):
 * written with the message itself — inbound here, replies in store/outbound.ts.
 */
export function lastMessageOf(entry: { readonly text?: string | null; readonly attachments?: ReadonlyArray<{ readonly file_name?: string | null; readonly type?: string }>; readonly channel: string; readonly direction: 'in' | 'out' }) {
  return { last_message_preview: messagePreview(entry.text, entry.attachments ?? []), last_message_channel: entry.channel, last_message_direction: entry.direction };
}

/** A ticket as stored. Null fields are left out so `if_not_exists` works on them later. */
export function ticketItem(t: TicketRecord): Record<string, unknown> {
  const present = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== null));
  return {
    ...keys.ticket(t.id), ...present,
    // Merged tickets, and conversations held for an offered article (store/deflection.ts), are in no inbox.
    ...(t.status === 'merged' || t.status === 'held' ? {} : indexKeys.inbox(t.updated_at, t.id, t.tier)),
    ...indexKeys.byStatus(t.status, t.updated_at, t.id),
    ...indexKeys.customerTicket(t.customer_id, t.created_at, t.id),
  };
}

/** The message reference of an inbound message; `once`: it is also the exactly-once marker (conditional put, first item). */
export function inboundRefItem(db: Db, channel: string, externalMessageId: string, ticketId: string, entrySk: string, nowMs: number, once: boolean): TxItem {
  return { Put: {
    TableName: db.tableName,
    Item: { ...keys.messageRef(channel, externalMessageId), ticket_id: ticketId, entry_sk: entrySk, direction: 'in', ...(once ? { once: true, at: nowMs } : {}) },
    ...(once ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
  } };
}

/** The identity attributes `next` would set that differ from `stored` (none: the identity is only checked). */
function identityChanges(stored: IdentityRecord | undefined, next: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!stored) return { ...next };
  const was = stored as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(next).filter(([k, v]) => v !== undefined && !isDeepStrictEqual(was[k], v)));
}

export async function commitInbound(db: Db, plan: InboundPlan): Promise<CommitResult> {
  const { msg, nowMs, entry } = plan;
  const T = db.tableName;
  const ticketId = plan.thread.action === 'open' ? plan.thread.ticket.id : plan.thread.ticketId;
  const entrySk = keys.timelineEntry(ticketId, entry.at, entry.id).sk;
  const once = plan.onceByMessageId === true && !msg.edit && Boolean(entry.external_message_id);
  const items: TxItem[] = [once
    ? inboundRefItem(db, msg.channel, entry.external_message_id!, ticketId, entrySk, nowMs, true)
    : dedupeItem(db, msg.channel, msg.dedup_key, nowMs, plan.dedupTtlSeconds, { ticket_id: ticketId })];

  // identity: the per-message facts (last inbound, window anchor) go on the ticket, so a known
  // identity is rewritten only when something of its own changed (functions/store/table.ts).
  const identityAttrs = { ...plan.identity, ...(plan.identityExtras ?? {}), channel: msg.channel, customer_id: plan.customer.id, ticket_hint: ticketId, conversation_id: msg.conversation_id, ...(plan.replyContext ? { reply_context: plan.replyContext } : {}) };
  if (plan.identityIsNew) {
    const replaces = plan.identityReplacesCustomer;
    items.push({ Put: {
      TableName: T, Item: { ...keys.identity(msg.channel, plan.identity.external_id), ...indexKeys.customerIdentity(plan.customer.id, msg.channel, plan.identity.external_id), ...identityAttrs, created_at: nowMs },
      ConditionExpression: replaces ? 'customer_id = :old' : 'attribute_not_exists(pk)', ...(replaces ? { ExpressionAttributeValues: { ':old': replaces } } : {}),
    } });
  } else if (plan.identityFromCustomer === undefined && Object.keys(identityChanges(plan.storedIdentity, identityAttrs)).length === 0) {
    items.push({ ConditionCheck: { TableName: T, Key: keys.identity(msg.channel, plan.identity.external_id), ConditionExpression: 'customer_id = :c', ExpressionAttributeValues: { ':c': plan.customer.id } } });
  } else {
    const from = plan.identityFromCustomer;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':c': from ?? plan.customer.id };
    const changed = from === undefined ? identityChanges(plan.storedIdentity, identityAttrs) : identityAttrs;
    const sets = Object.entries(changed).filter(([k, v]) => v !== undefined && (k !== 'customer_id' || from !== undefined)).map(([k, v], i) => {
      names[`#a${i}`] = k; values[`:a${i}`] = v; return `#a${i} = :a${i}`;
    });
    if (from !== undefined) {
      // Compaction of a merge pointer: the identity moves to the surviving customer, remembering its origin.
      sets.push('gsi3pk = :g3', 'origin_customer_id = if_not_exists(origin_customer_id, :c)');
      values[':g3'] = indexKeys.customerIdentity(plan.customer.id, msg.channel, plan.identity.external_id).gsi3pk;
    }
    items.push({ Update: { TableName: T, Key: keys.identity(msg.channel, plan.identity.external_id), UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: 'customer_id = :c', ExpressionAttributeNames: names, ExpressionAttributeValues: values } });
  }
  items.push(...(plan.identityItems ?? []));

  // customer: the current-ticket pointer is the invariant "one open ticket per customer"
  if (plan.customer.isNew) {
    items.push({ Put: { TableName: T, Item: { ...keys.customer(plan.customer.id), id: plan.customer.id, display_name: plan.customer.displayName, created_at: nowMs, current_ticket_id: ticketId }, ConditionExpression: 'attribute_not_exists(pk)' } });
  } else if (plan.thread.action === 'open') {
    items.push({ Update: {
      TableName: T, Key: keys.customer(plan.customer.id),
      UpdateExpression: 'SET current_ticket_id = :t',
      ConditionExpression: plan.thread.expectedCurrent === null
        ? 'attribute_exists(pk) AND attribute_not_exists(current_ticket_id) AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)'
        : 'current_ticket_id = :old AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)',
      ExpressionAttributeValues: plan.thread.expectedCurrent === null ? { ':t': ticketId } : { ':t': ticketId, ':old': plan.thread.expectedCurrent },
    } });
  } else if (plan.thread.action === 'reopen' && plan.thread.moveFrom !== undefined) {
    const from = plan.thread.moveFrom;
    items.push({ Update: {
      TableName: T, Key: keys.customer(plan.customer.id), UpdateExpression: 'SET current_ticket_id = :t',
      ConditionExpression: from === null ? 'attribute_exists(pk) AND attribute_not_exists(current_ticket_id) AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)' : 'current_ticket_id = :old AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)',
      ExpressionAttributeValues: from === null ? { ':t': ticketId } : { ':t': ticketId, ':old': from },
    } });
    // …and only while that ticket is still inactive (one active ticket per customer).
    if (from !== null) items.push({ ConditionCheck: { TableName: T, Key: keys.ticket(from), ConditionExpression: '#s IN (:r, :c, :m)', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':c': 'closed', ':m': 'merged' } } });
  } else {
    items.push({ ConditionCheck: { TableName: T, Key: keys.customer(plan.customer.id), ConditionExpression: 'current_ticket_id = :t AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)', ExpressionAttributeValues: { ':t': ticketId } } });
  }

  // ticket — with the list row's last-message preview and the identity's last inbound message
  // (the window anchor), in this same write (no extra round trip)
  const last = lastMessageOf(entry);
  const inbound: LastInbound = [nowMs, plan.sentAt];
  const inboundName = keys.inboundAttribute(msg.channel, plan.identity.external_id);
  const touch = {
    ':now': nowMs, ':ch': msg.channel, ':conv': msg.conversation_id, ':c': plan.customer.id, ':one': 1,
    ':g1': indexKeys.inbox(nowMs, ticketId).gsi1sk, ':lmp': last.last_message_preview, ':lmd': last.last_message_direction,
    ':in': inbound, ':insent': plan.sentAt,
  };
  const touchSet = 'updated_at = :now, last_inbound_at = :now, channel = :ch, conversation_id = :conv, gsi1sk = :g1, gsi2sk = :g1, message_count = message_count + :one, '
    + 'last_message_preview = :lmp, last_message_channel = :ch, last_message_direction = :lmd, #in = :in';
  const anchorKept = '(attribute_not_exists(#in) OR #in[1] <= :insent)';
  if (plan.thread.action === 'open') {
    items.push({ Put: { TableName: T, Item: { ...ticketItem(plan.thread.ticket), ...last, [inboundName]: inbound }, ConditionExpression: 'attribute_not_exists(pk)' } });
    items.push({ Put: { TableName: T, Item: { ...keys.ticketNumber(plan.thread.ticket.number), ticket_id: ticketId }, ConditionExpression: 'attribute_not_exists(pk)' } });
  } else if (plan.thread.action === 'append' && plan.thread.fromStatus === 'any-active') {
    items.push({ Update: {
      TableName: T, Key: keys.ticket(ticketId), UpdateExpression: `SET ${touchSet}`,
      ConditionExpression: `customer_id = :c AND #s IN (:s0, :s1, :s2) AND ${anchorKept}`,
      ExpressionAttributeNames: { '#s': 'status', '#in': inboundName },
      ExpressionAttributeValues: { ...touch, ':s0': ACTIVE_NO_PENDING[0], ':s1': ACTIVE_NO_PENDING[1], ':s2': ACTIVE_NO_PENDING[2] },
    } });
  } else if (plan.thread.action === 'survey') {
    items.push({ Update: surveyReplyUpdate(T, ticketId, plan.thread, touchSet, touch, { names: { '#in': inboundName }, condition: anchorKept }) });
  } else if (plan.thread.action === 'offer') {
    items.push({ Update: offerAnswerUpdate(T, ticketId, plan.thread, touchSet, touch, { names: { '#in': inboundName }, condition: anchorKept }) });
  } else {
    // reopen (resolved → open) or the customer answered (pending_customer → open)
    const from = plan.thread.action === 'reopen' ? 'resolved' : 'pending_customer';
    // A customer reopening the ticket cancels its pending survey (DESIGN.md §2), in the same write.
    const cancel = plan.thread.action === 'reopen' ? plan.thread.cancelSurveyRound : undefined;
    items.push({ Update: {
      TableName: T, Key: keys.ticket(ticketId),
      UpdateExpression: `SET ${touchSet}, #s = :open, gsi2pk = :g2${cancel !== undefined ? ', #sv.#st = :cancelled, #sv.cancelled_reason = :reopened' : ''}${plan.thread.action === 'reopen' ? ', reopen_count = if_not_exists(reopen_count, :zero) + :one REMOVE resolved_at' : ''}`,
      ConditionExpression: `customer_id = :c AND #s = :from AND ${anchorKept}${cancel !== undefined ? ' AND #sv.#r = :sr' : ''}`,
      ExpressionAttributeNames: { '#s': 'status', '#in': inboundName, ...(cancel !== undefined ? { '#sv': 'survey', '#st': 'state', '#r': 'round' } : {}) },
      ExpressionAttributeValues: {
        ...touch, ':open': 'open', ':from': from, ':g2': indexKeys.byStatus('open', nowMs, ticketId).gsi2pk, ...(plan.thread.action === 'reopen' ? { ':zero': 0 } : {}),
        ...(cancel !== undefined ? { ':cancelled': 'cancelled', ':reopened': 'reopened', ':sr': cancel } : {}),
      },
    } });
  }

  // message, its reference (edits and receipts find it; already the first item when it is the marker), timeline events, feed
  items.push(timelineItem(db, entry as unknown as MessageEntry & Record<string, unknown>));
  if (entry.external_message_id && !once) items.push(inboundRefItem(db, msg.channel, entry.external_message_id, ticketId, entrySk, nowMs, false));
  for (const e of plan.timelineEvents) items.push(timelineItem(db, e as unknown as EventEntry & Record<string, unknown>));
  for (const e of plan.events) items.push(feedItem(db, e));
  items.push(...(plan.extraItems ?? []));

  return runTransaction(db, items);
}

/**
 * The ticket update of a survey reply: the message touch, the survey fields, a low-score reopen.
 * Also the update of a score link's answer (store/survey.ts `commitSurveyLinkAnswer`), whose
 * touch moves only `updated_at` and the inbox order (no message came in). `touch` must hold `:c`
 * (the ticket's customer).
 */
export function surveyReplyUpdate(
  T: string, ticketId: string, sv: Extract<ThreadPlan, { action: 'survey' }>, touchSet: string, touch: Record<string, unknown>,
  extra: { readonly names?: Record<string, string>; readonly condition?: string } = {},
) {
  const names: Record<string, string> = { '#s': 'status', '#sv': 'survey', '#r': 'round', '#st': 'state', ...(extra.names ?? {}) };
  const statuses = sv.statuses ?? (sv.reopen ? ['resolved'] : ['resolved', 'closed']);
  const values: Record<string, unknown> = { ...touch, ':round': sv.round, ':expect': sv.expectState };
  statuses.forEach((st, i) => { values[`:st${i}`] = st; });
  const sets = [touchSet];
  Object.entries(sv.surveySet).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    sets.push(`#sv.#f${i} = :f${i}`);
  });
  const conditions = ['customer_id = :c', `#s IN (${statuses.map((_, i) => `:st${i}`).join(', ')})`, '#sv.#r = :round', '#sv.#st = :expect', ...(extra.condition ? [extra.condition] : [])];
  if (sv.requireNoComment) {
    names['#cm'] = 'comment';
    values[':nt'] = 'NULL';
    conditions.push('(attribute_not_exists(#sv.#cm) OR attribute_type(#sv.#cm, :nt))');
  }
  let remove = '';
  if (sv.reopen) {
    names['#p'] = 'priority';
    sets.push('#s = :open', 'gsi2pk = :g2', '#p = :prio', 'reopen_count = if_not_exists(reopen_count, :zero) + :one');
    Object.assign(values, { ':open': 'open', ':g2': indexKeys.byStatus('open', 0, ticketId).gsi2pk, ':prio': sv.reopen.priority, ':zero': 0 });
    remove = ' REMOVE resolved_at';
  }
  return {
    TableName: T, Key: keys.ticket(ticketId), UpdateExpression: `SET ${sets.join(', ')}${remove}`,
    ConditionExpression: conditions.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
  };
}

/** Run a transaction whose first item is the exactly-once marker (dedupe marker or message reference): its failure alone means "duplicate". */
export async function runTransaction(db: Db, items: TxItem[]): Promise<CommitResult> {
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'committed';
  } catch (e) {
    const codes = cancellationCodes(e);
    if (!codes) throw e;
    if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
    if (codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return 'conflict';
    throw e;
  }
}

/** An edit: the dedupe marker and the in-place update of the stored message, one transaction. */
export async function commitEdit(db: Db, args: {
  channel: string; dedupKey: string; nowMs: number; dedupTtlSeconds: number; ticketId: string; entrySk: string;
  previousText: string; text: string; attachments: unknown[] | null; editedAtMs: number; feed: FeedEvent;
}): Promise<CommitResult> {
  const values: Record<string, unknown> = { ':t': args.text, ':true': true, ':at': args.editedAtMs, ':h': [{ text: args.previousText, at: args.nowMs }], ':empty': [] };
  if (args.attachments) values[':att'] = args.attachments;
  return runTransaction(db, [
    dedupeItem(db, args.channel, args.dedupKey, args.nowMs, args.dedupTtlSeconds, { ticket_id: args.ticketId }),
    { Update: {
      TableName: db.tableName, Key: { pk: keys.ticket(args.ticketId).pk, sk: args.entrySk },
      UpdateExpression: `SET #text = :t, edited = :true, edited_at = :at, history = list_append(if_not_exists(history, :empty), :h)${args.attachments ? ', attachments = :att' : ''}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#text': 'text' }, ExpressionAttributeValues: values,
    } },
    feedItem(db, args.feed),
  ]);
}
