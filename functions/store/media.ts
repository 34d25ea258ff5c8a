/**
 * What became of an inbound attachment's bytes, recorded on its message (issue 14;
 * `Attachment.media`, functions/domain/inbound.ts). Every write is conditional on the attachment
 * still being `pending` and the message not erased, so a redelivered media job, or two running at
 * once, record each attachment once; an attachment that is not kept also gets a timeline event
 * (`attachment.not_kept`, with the reason) in the same transaction.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredMedia } from '../domain/inbound.js';
import type { Db } from './db.js';
import { timelineItem } from './inbound.js';
import type { EventEntry } from './records.js';
import { transact } from './tickets.js';

export type MediaRecordResult = 'recorded' | 'already' | 'erased';

/**
 * Sets `attachments[index].media` of the message at (`ticketId`, `entrySk`) to `media` when it is
 * still pending; `event`: the timeline event that goes with it (not-kept reasons).
 */
export async function recordMedia(db: Db, args: {
  readonly ticketId: string; readonly entrySk: string; readonly index: number; readonly media: StoredMedia; readonly event?: EventEntry;
}): Promise<MediaRecordResult> {
  const { ticketId, entrySk, index, media } = args;
  if (!Number.isInteger(index) || index < 0 || index > 99) throw new RangeError(`recordMedia: attachment index ${index} out of range`);
  const update = {
    Update: {
      TableName: db.tableName,
      Key: { pk: `TICKET#${ticketId}`, sk: entrySk },
      // A list index cannot be a placeholder; it is an integer checked above.
      UpdateExpression: `SET attachments[${index}].media = :m`,
      ConditionExpression: `attachments[${index}].media.#st = :pending AND attribute_not_exists(anonymised)`,
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':m': media, ':pending': 'pending' },
    },
  };
  const result = await transact(db, [update, ...(args.event ? [timelineItem(db, args.event as unknown as EventEntry & Record<string, unknown>)] : [])]);
  if (result.ok) return 'recorded';
  return (await isErased(db, ticketId, entrySk)) ? 'erased' : 'already';
}

async function isErased(db: Db, ticketId: string, entrySk: string): Promise<boolean> {
  const got = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: `TICKET#${ticketId}`, sk: entrySk }, ConsistentRead: true, ProjectionExpression: 'anonymised' }));
  return got.Item === undefined || got.Item.anonymised === true;
}
