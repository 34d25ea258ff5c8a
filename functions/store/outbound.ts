/** Outbound messages: queued with the ticket touch in one transaction; delivery state is monotonic. */
import { TransactWriteCommand, UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryState } from '../channels/channel.js';
import { cancellationCodes, isConditionalCheckFailed, type Db } from './db.js';
import type { TxItem } from './tickets.js';
import { feedItem, lastMessageOf, timelineItem } from './inbound.js';
import { indexKeys, keys } from './table.js';
import type { FeedEvent, MessageEntry } from './records.js';

/** queued < sent < delivered < read; failed is terminal (channels.md §0.11). */
export const DELIVERY_RANK: Readonly<Record<DeliveryState, number>> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 9 };

/** The list row's last message (store/inbound.ts `lastMessageOf`), set with the ticket touch. */
const LAST_MESSAGE_SET = 'last_message_preview = :lmp, last_message_channel = :lmc, last_message_direction = :lmd';
function lastMessageValues(entry: MessageEntry) {
  const l = lastMessageOf(entry);
  return { ':lmp': l.last_message_preview, ':lmc': l.last_message_channel, ':lmd': l.last_message_direction };
}

/** Queue an outbound message: timeline entry, ticket touch, feed event (which the dispatcher sends). */
export async function queueOutbound(db: Db, args: { entry: MessageEntry; feed: FeedEvent; firstResponse: boolean; touchTicket?: boolean }): Promise<void> {
  const { entry } = args;
  const g = indexKeys.inbox(entry.at, entry.ticket_id).gsi1sk;
  // System messages (acknowledgements) are not agent activity: they leave the ticket's clocks alone.
  const touch = args.touchTicket ?? true;
  await db.doc.send(new TransactWriteCommand({ TransactItems: [
    timelineItem(db, { ...(entry as unknown as Record<string, unknown> & MessageEntry), delivery_rank: DELIVERY_RANK.queued }),
    touch ? { Update: {
      TableName: db.tableName, Key: keys.ticket(entry.ticket_id),
      UpdateExpression: `SET updated_at = :now, last_outbound_at = :now, gsi1sk = :g, gsi2sk = :g, ${LAST_MESSAGE_SET}${args.firstResponse ? ', first_response_at = if_not_exists(first_response_at, :now)' : ''}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':now': entry.at, ':g': g, ...lastMessageValues(entry) },
    } } : { ConditionCheck: { TableName: db.tableName, Key: keys.ticket(entry.ticket_id), ConditionExpression: 'attribute_exists(pk)' } },
    feedItem(db, args.feed),
  ] }));
}

/**
 * Queue an agent's reply, conditional on the ticket being exactly as the reply was planned
 * against: the status read (a close or merge committed meanwhile makes it `changed`, and the
 * caller re-reads: 409 once the ticket is no longer answerable), and no activity at or after the
 * reply's own time (`updated_at < entry.at`; the caller stamps `max(now, updated_at + 1)`), so
 * `updated_at` only moves forward and the timeline keeps commit order: a close committing after
 * this reply is stamped after it (store/triage.ts conditions on `updated_at` and plans at
 * `updated_at + 1`), and a reply can never slip in after a close. One transaction: entry, ticket touch, feed event, and
 * for a reply that sends a failed message again (`retryOf`) the failed one's link to it and its
 * removal from the ticket's undelivered set (once: a second retry of it is `changed`).
 */
export async function queueReply(db: Db, args: {
  entry: MessageEntry; feed: FeedEvent;
  /** The ticket's status as the reply was planned against. */
  expect: { readonly status: string };
  retryOf?: { readonly ticketId: string; readonly entrySk: string; readonly messageId: string };
  /** Further writes that commit with the reply (the knowledge base's link counters, store/kb-agent.ts). */
  also?: readonly TxItem[];
}): Promise<'queued' | 'changed'> {
  const { entry } = args;
  const g = indexKeys.inbox(entry.at, entry.ticket_id).gsi1sk;
  const retry = args.retryOf;
  const sameTicket = retry?.ticketId === entry.ticket_id;
  const items: TxItem[] = [
    timelineItem(db, { ...(entry as unknown as Record<string, unknown> & MessageEntry), delivery_rank: DELIVERY_RANK.queued }),
    { Update: {
      TableName: db.tableName, Key: keys.ticket(entry.ticket_id),
      UpdateExpression: `SET updated_at = :now, last_outbound_at = :now, gsi1sk = :g, gsi2sk = :g, ${LAST_MESSAGE_SET}, first_response_at = if_not_exists(first_response_at, :now)${retry && sameTicket ? ' DELETE undelivered :old' : ''}`,
      ConditionExpression: '#s = :status AND updated_at < :now',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':now': entry.at, ':g': g, ':status': args.expect.status, ...lastMessageValues(entry), ...(retry && sameTicket ? { ':old': new Set([retry.messageId]) } : {}) },
    } },
    feedItem(db, args.feed),
    ...(args.also ?? []),
  ];
  if (retry) {
    items.push({ Update: {
      TableName: db.tableName, Key: { pk: keys.ticket(retry.ticketId).pk, sk: retry.entrySk },
      UpdateExpression: 'SET retried_by = :new', ConditionExpression: 'delivery = :failed AND attribute_not_exists(retried_by)',
      ExpressionAttributeValues: { ':new': entry.id, ':failed': 'failed' },
    } });
    // A failed message of a ticket merged into this one keeps its flag on its own ticket.
    if (!sameTicket) {
      items.push({ Update: {
        TableName: db.tableName, Key: keys.ticket(retry.ticketId), UpdateExpression: 'DELETE undelivered :old', ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':old': new Set([retry.messageId]) },
      } });
    }
  }
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'queued';
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes && codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return 'changed';
    throw e;
  }
}

/**
 * Move an outbound message's delivery forward; never backwards, never out of `failed`.
 * Returns false when the state was already at or past `state` (out-of-order receipt).
 */
export async function advanceDelivery(db: Db, ref: { ticketId: string; entrySk: string }, state: DeliveryState, facts: { status?: string; error?: string | number; externalId?: string; channel?: string } = {}): Promise<boolean> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':d': state, ':r': DELIVERY_RANK[state] };
  let set = 'delivery = :d, delivery_rank = :r';
  if (facts.status) { set += ', delivery_status = :st'; values[':st'] = facts.status; }
  if (facts.error !== undefined) { set += ', delivery_error = :err'; values[':err'] = facts.error; }
  if (facts.externalId) { set += ', external_message_id = :x'; values[':x'] = facts.externalId; }
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: { pk: keys.ticket(ref.ticketId).pk, sk: ref.entrySk },
      UpdateExpression: `SET ${set}`,
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(delivery_rank) OR delivery_rank < :r)',
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    }));
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
  if (facts.externalId && facts.channel) {
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.messageRef(facts.channel, facts.externalId), ticket_id: ref.ticketId, entry_sk: ref.entrySk, direction: 'out' } }));
  }
  return true;
}

/**
 * A message sent in several platform requests (Telegram texts over 4096 characters): how many
 * leading parts the platform has accepted, so a retried send resumes after them instead of
 * sending them twice. Only while the message is still `queued`.
 */
export async function recordPartsSent(db: Db, ref: { ticketId: string; entrySk: string }, partsSent: number): Promise<void> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: { pk: keys.ticket(ref.ticketId).pk, sk: ref.entrySk },
      UpdateExpression: 'SET parts_sent = :n',
      ConditionExpression: 'attribute_exists(pk) AND delivery = :queued AND (attribute_not_exists(parts_sent) OR parts_sent < :n)',
      ExpressionAttributeValues: { ':n': partsSent, ':queued': 'queued' },
    }));
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}

/** What a failed delivery records: the platform's (or Confluo's) code, its meaning, and the feed event that says so. */
export interface DeliveryFailure {
  /** As the platform gave it: receipts keep their numeric codes (Twilio 30003), send failures are strings. */
  readonly code: string | number;
  /** The code in words, for the agent (functions/domain/delivery.ts). */
  readonly reason: string;
  readonly at: number;
  /** The `message.failed` feed event (SSE, notification): no personal data. */
  readonly feed: FeedEvent;
  /** The platform's verbatim status word, when a receipt said it (Twilio `undelivered`). */
  readonly status?: string;
}

/**
 * A message that cannot be delivered — a permanent refusal, a `failed` receipt, or the last
 * attempt failing — becomes `failed`, in one transaction: the entry (code, reason, when), the
 * ticket's set of undelivered messages (`GET /tickets?delivery=failed`), and the
 * `message.failed` feed event. Never out of `failed`, never twice: false when the message was
 * already failed (a repeated receipt, a redelivered job).
 */
export async function failDelivery(db: Db, ref: { ticketId: string; entrySk: string; messageId: string }, f: DeliveryFailure): Promise<boolean> {
  const entry: TxItem = { Update: {
    TableName: db.tableName, Key: { pk: keys.ticket(ref.ticketId).pk, sk: ref.entrySk },
    UpdateExpression: `SET delivery = :d, delivery_rank = :r, delivery_error = :code, delivery_reason = :reason, failed_at = :at${f.status ? ', delivery_status = :st' : ''}`,
    ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(delivery_rank) OR delivery_rank < :r)',
    ExpressionAttributeValues: { ':d': 'failed', ':r': DELIVERY_RANK.failed, ':code': f.code, ':reason': f.reason, ':at': f.at, ...(f.status ? { ':st': f.status } : {}) },
  } };
  const ticket: TxItem = { Update: {
    TableName: db.tableName, Key: keys.ticket(ref.ticketId),
    UpdateExpression: 'ADD undelivered :m', ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeValues: { ':m': new Set([ref.messageId]) },
  } };
  for (const items of [[entry, ticket, feedItem(db, f.feed)], [entry, feedItem(db, f.feed)]]) {
    try {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (e) {
      const codes = cancellationCodes(e);
      if (!codes) throw e;
      if (codes[0] === 'ConditionalCheckFailed') return false; // already failed (or gone)
      // The entry is stored under a ticket that has no record (a split or erase in between):
      // fail the message without the ticket's flag.
      if (codes[1] === 'ConditionalCheckFailed' && items.length === 3) continue;
      throw e;
    }
  }
  return false;
}
