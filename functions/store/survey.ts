/**
 * The survey record on the ticket item (`ticket.survey`, functions/domain/survey.ts). Every write
 * is conditional on the round and state it was decided on, so a stale workflow wake-up, a
 * redelivered stream record or a customer answer racing a reminder never both win: the loser
 * reloads and decides again (or finds nothing left to do).
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SurveyRecord, SurveyState } from '../domain/survey.js';
import { cancellationCodes, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { DELIVERY_RANK } from './outbound.js';
import type { EventEntry, FeedEvent, MessageEntry } from './records.js';
import { keys } from './table.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface SurveyWrite {
  readonly ticketId: string;
  /** A new survey record (scheduling a round) … */
  readonly survey?: SurveyRecord;
  /** … or fields of the current one (never the whole map: a concurrent comment must survive). */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Further fields of the current record that must still hold these values. */
  readonly expectFields?: Readonly<Record<string, unknown>>;
  /** The record the decision was made on: none yet (`null`), or its round and state. */
  readonly expected: { readonly round: number; readonly state: SurveyState } | { readonly none: true; readonly previousRound: number | null };
  /** The ticket must be in one of these statuses. */
  readonly statuses?: readonly string[];
  /** A message to the customer queued in the same transaction (question, reminder, thank-you). */
  readonly outbound?: { readonly entry: MessageEntry; readonly feed: FeedEvent };
  readonly timeline?: readonly EventEntry[];
  readonly feed?: readonly FeedEvent[];
}

/** Replace the survey record (and queue a message, add events) if it is still as expected. */
export async function commitSurvey(db: Db, w: SurveyWrite): Promise<'committed' | 'conflict'> {
  const names: Record<string, string> = { '#sv': 'survey' };
  const values: Record<string, unknown> = {};
  const conditions = ['attribute_exists(pk)'];
  const sets: string[] = [];
  if (w.survey) {
    sets.push('#sv = :sv');
    values[':sv'] = w.survey;
  }
  Object.entries(w.set ?? {}).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    sets.push(`#sv.#f${i} = :f${i}`);
  });
  Object.entries(w.expectFields ?? {}).forEach(([k, v], i) => {
    names[`#e${i}`] = k;
    if (v === null) {
      values[`:e${i}`] = 'NULL';
      conditions.push(`(attribute_not_exists(#sv.#e${i}) OR attribute_type(#sv.#e${i}, :e${i}))`);
    } else {
      values[`:e${i}`] = v;
      conditions.push(`#sv.#e${i} = :e${i}`);
    }
  });
  if ('none' in w.expected) {
    if (w.expected.previousRound === null) {
      conditions.push('(attribute_not_exists(#sv) OR attribute_type(#sv, :nul))');
      values[':nul'] = 'NULL';
    } else {
      names['#r'] = 'round';
      conditions.push('#sv.#r = :pr');
      values[':pr'] = w.expected.previousRound;
    }
  } else {
    names['#r'] = 'round';
    names['#st'] = 'state';
    conditions.push('#sv.#r = :er', '#sv.#st = :es');
    values[':er'] = w.expected.round;
    values[':es'] = w.expected.state;
  }
  if (w.statuses?.length) {
    names['#s'] = 'status';
    conditions.push(`#s IN (${w.statuses.map((_, i) => `:s${i}`).join(', ')})`);
    w.statuses.forEach((s, i) => { values[`:s${i}`] = s; });
  }
  const items: TxItem[] = [{ Update: {
    TableName: db.tableName, Key: keys.ticket(w.ticketId), UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: conditions.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
  } }];
  if (w.outbound) {
    items.push(timelineItem(db, { ...(w.outbound.entry as unknown as Record<string, unknown> & MessageEntry), delivery_rank: DELIVERY_RANK.queued }));
    items.push(feedItem(db, w.outbound.feed));
  }
  for (const e of w.timeline ?? []) items.push(timelineItem(db, e as unknown as EventEntry & Record<string, unknown>));
  for (const e of w.feed ?? []) items.push(feedItem(db, e));
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'committed';
  } catch (e) {
    const codes = cancellationCodes(e);
    if (codes && codes.some((c) => c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return 'conflict';
    throw e;
  }
}
