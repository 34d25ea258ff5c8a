/**
 * Whether a customer can be written to on an identity (channels.md §0.11): set from inbound
 * events (Telegram `my_chat_member` kicked/member, VK `message_allow`/`deny`, Viber
 * `subscribed`/`unsubscribed`, Twilio STOP/START) and from the platforms' answers to our sends
 * (Telegram 403 "bot was blocked", WhatsApp 131026, Viber 5/6/11, VK 900–902, Twilio 21610). The
 * customer card shows it with the reason and when, and the reply box suggests other channels.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, type Db } from './db.js';
import { keys } from './table.js';

export interface ReachabilityChange {
  readonly channel: string;
  readonly externalId: string;
  readonly reachability: 'reachable' | 'unreachable';
  readonly at: number;
  /** Why: a platform code (`blocked`, `131026`) or the inbound event (`my_chat_member`, `opt_out`). */
  readonly reason?: string;
}

/** Record a reachability change on an existing identity (an unknown identity is left alone). True when applied. */
export async function setReachability(db: Db, c: ReachabilityChange): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.identity(c.channel, c.externalId),
      UpdateExpression: `SET reachability = :r, reachability_at = :at${c.reason ? ', reachability_reason = :why' : ' REMOVE reachability_reason'}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':r': c.reachability, ':at': c.at, ...(c.reason ? { ':why': c.reason } : {}) },
    }));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}
