/**
 * Held conversations (README "Knowledge base": deflection on messengers): the ticket writes of a
 * customer's answer to an offered article, and the exactly-once counting of offers and answers.
 *
 * A held conversation is a ticket record with status `held` (written by commitInbound's `open`,
 * functions/store/inbound.ts): its first message is on its timeline, the customer's current-ticket
 * pointer names it, its number is drawn — but it has no inbox keys (gsi1, like a merged ticket),
 * no SLA block, and no `ticket.opened` event, so no inbox, assignment, acknowledgement, SLA or
 * ticket KPI sees it. The answer is committed like any inbound message (one transaction with the
 * dedupe marker: a redelivered press changes nothing), with the ticket update of
 * store/offer-thread.ts conditional on the status read, so two presses racing cannot both apply.
 * The offer itself is queued in the same transaction as the held conversation ({@link offerItems}).
 *
 * | item           | pk                 | sk      | attributes                                    |
 * |----------------|--------------------|---------|-----------------------------------------------|
 * | counted marker | KB#COUNTED#<event> | COUNTED | at, ttl (7 days): the feed event was counted   |
 * | channel stats  | KB#STATS           | CHANNEL#<channel>#<yyyy-mm-dd> | channel, day, offers, deflections, escalations |
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, ttlAfter, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { DELIVERY_RANK } from './outbound.js';
import type { FeedEvent, MessageEntry } from './records.js';
import { keys } from './table.js';

/**
 * The counters' items, as functions/store/kb.ts `kbKeys` names them — spelt here rather than
 * imported, because store/kb.ts carries the search engine and this module is bundled with every
 * function that commits inbound messages (tests/store/deflection.test.ts holds them equal).
 */
export const offerStatsKeys = {
  articleStats: (id: string) => ({ pk: 'KB#STATS', sk: `ARTICLE#${id}` }),
  dayStats: (day: string) => ({ pk: 'KB#STATS', sk: `DAY#${day}` }),
  channelStats: (channel: string, day: string) => ({ pk: 'KB#STATS', sk: `CHANNEL#${channel}#${day}` }),
  counted: (eventId: string) => ({ pk: `KB#COUNTED#${eventId}`, sk: 'COUNTED' }),
} as const;

export type CountedOutcome = 'offered' | 'solved' | 'not_solved';

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/**
 * Count one offer or answer of a messenger's offer, once per feed event (the stream delivers at
 * least once): a marker for the event, the article's and the day's counters (functions/store/kb.ts)
 * and the channel's day, in one transaction. False when the event was already counted.
 */
export async function countOfferOutcome(db: Db, args: { eventId: string; articleId: string; channel: string; outcome: CountedOutcome; at: number }): Promise<boolean> {
  const dayField = args.outcome === 'offered' ? 'offers' : args.outcome === 'solved' ? 'deflections' : 'escalations';
  const day = dayOf(args.at);
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: [
      { Put: { TableName: db.tableName, Item: { ...offerStatsKeys.counted(args.eventId), at: args.at, ttl: ttlAfter(args.at, 7) }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: db.tableName, Key: offerStatsKeys.articleStats(args.articleId), UpdateExpression: 'ADD #f :one SET article_id = :id', ExpressionAttributeNames: { '#f': args.outcome }, ExpressionAttributeValues: { ':one': 1, ':id': args.articleId } } },
      { Update: { TableName: db.tableName, Key: offerStatsKeys.dayStats(day), UpdateExpression: 'ADD #f :one', ExpressionAttributeNames: { '#f': dayField }, ExpressionAttributeValues: { ':one': 1 } } },
      { Update: { TableName: db.tableName, Key: offerStatsKeys.channelStats(args.channel, day), UpdateExpression: 'ADD #f :one SET channel = :ch, #d = :day', ExpressionAttributeNames: { '#f': dayField, '#d': 'day' }, ExpressionAttributeValues: { ':one': 1, ':ch': args.channel, ':day': day } } },
    ] }));
    return true;
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes && codes[0] === 'ConditionalCheckFailed') return false;
    throw e;
  }
}

/**
 * The offer's reply, queued with the held conversation in its commit (so it is sent exactly when
 * the conversation is held, once): its timeline entry and the `outbound.queued` event the
 * dispatcher sends (a system message: it touches no clock of the ticket, like an acknowledgement).
 */
export function offerItems(db: Db, entry: MessageEntry, customerId: string) {
  const feed: FeedEvent = {
    id: `${entry.id}-queued`, type: 'outbound.queued', at: entry.at, ticket_id: entry.ticket_id, customer_id: customerId,
    data: { channel: entry.channel, message_id: entry.id, entry_sk: keys.timelineEntry(entry.ticket_id, entry.at, entry.id).sk, kind: 'deflection' },
  };
  return [timelineItem(db, { ...(entry as unknown as Record<string, unknown> & MessageEntry), delivery_rank: DELIVERY_RANK.queued }), feedItem(db, feed)];
}
