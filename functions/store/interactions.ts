/**
 * Answers to button presses (Telegram answerCallbackQuery, VK sendMessageEventAnswer): the state
 * lives on the inbound message's timeline entry, in its extras next to the adapter's
 * `interaction_ref` (so a GDPR erase removes both). At most one attempt per press: the sender
 * claims the answer before performing it, so stream or queue redelivery never answers twice.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, type Db } from './db.js';
import { keys } from './table.js';

export type InteractionAnswerState = 'answering' | 'answered' | 'failed' | 'none';

interface EntryRef { readonly ticketId: string; readonly entrySk: string }

/** Claim the one answer of this press; false when it was claimed before (or there is no ref to answer). */
export async function claimInteractionAnswer(db: Db, ref: EntryRef): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: { pk: keys.ticket(ref.ticketId).pk, sk: ref.entrySk },
      UpdateExpression: 'SET extras.interaction_answer = :s',
      ConditionExpression: 'attribute_exists(extras.interaction_ref) AND attribute_not_exists(extras.interaction_answer)',
      ExpressionAttributeValues: { ':s': 'answering' satisfies InteractionAnswerState },
    }));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

/** Record how the claimed answer went (`failed` with the platform's code, never its text). */
export async function settleInteractionAnswer(db: Db, ref: EntryRef, state: Exclude<InteractionAnswerState, 'answering'>, errorCode?: string): Promise<void> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: { pk: keys.ticket(ref.ticketId).pk, sk: ref.entrySk },
      UpdateExpression: `SET extras.interaction_answer = :s${errorCode ? ', extras.interaction_answer_error = :e' : ''}`,
      ConditionExpression: 'extras.interaction_answer = :answering',
      ExpressionAttributeValues: { ':s': state, ':answering': 'answering', ...(errorCode ? { ':e': errorCode } : {}) },
    }));
  } catch (e) {
    // Erased meanwhile (extras removed): nothing to record.
    if (!isConditionalCheckFailed(e)) throw e;
  }
}
