/** Outbound messages: queued with the ticket touch in one transaction; delivery state is monotonic. */
import { TransactWriteCommand, UpdateCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryState } from '../channels/channel.js';
import { isConditionalCheckFailed, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { indexKeys, keys } from './table.js';
import type { FeedEvent, MessageEntry } from './records.js';

/** queued < sent < delivered < read; failed is terminal (channels.md §0.11). */
export const DELIVERY_RANK: Readonly<Record<DeliveryState, number>> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 9 };

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
      UpdateExpression: `SET updated_at = :now, last_outbound_at = :now, gsi1sk = :g, gsi2sk = :g${args.firstResponse ? ', first_response_at = if_not_exists(first_response_at, :now)' : ''}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':now': entry.at, ':g': g },
    } } : { ConditionCheck: { TableName: db.tableName, Key: keys.ticket(entry.ticket_id), ConditionExpression: 'attribute_exists(pk)' } },
    feedItem(db, args.feed),
  ] }));
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
