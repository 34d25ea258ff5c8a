/**
 * The survey record on the ticket item (`ticket.survey`, functions/domain/survey.ts). Every write
 * is conditional on the round and state it was decided on, so a stale workflow wake-up, a
 * redelivered stream record or a customer answer racing a reminder never both win: the loser
 * reloads and decides again (or finds nothing left to do).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SurveyRecord, SurveyState, SurveyTemplates } from '../domain/survey.js';
import { commitOrConflict, putVersioned, type Db } from './db.js';
import { feedItem, surveyReplyUpdate, timelineItem, type ThreadPlan } from './inbound.js';
import { DELIVERY_RANK } from './outbound.js';
import type { EventEntry, FeedEvent, MessageEntry } from './records.js';
import { indexKeys, keys } from './table.js';

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
  return commitOrConflict(db, items);
}

/**
 * A score link's answer or comment (functions/handlers/survey-link.ts): the survey fields, events
 * and a low score's reopen written by the SAME ticket update a typed or pressed score gets
 * (store/inbound.ts `surveyReplyUpdate`, conditional on the round and state), minus what belongs
 * to an inbound message (no message entry, no dedupe marker, `last_inbound_at` untouched — a
 * click is no message, so it opens no messaging window). A reopen also checks that the ticket is
 * still its customer's current one (one active ticket per customer), as the inbound path does.
 */
export async function commitSurveyLinkAnswer(db: Db, w: {
  readonly ticket: { readonly id: string; readonly customer_id: string };
  readonly plan: Extract<ThreadPlan, { action: 'survey' }>;
  readonly now: number;
  readonly timeline: readonly EventEntry[];
  readonly feed: readonly FeedEvent[];
}): Promise<'committed' | 'conflict'> {
  // (DynamoDB refuses unused expression values: `:one` only for the reopen count.)
  const touch = { ':now': w.now, ':c': w.ticket.customer_id, ':g1': indexKeys.inbox(w.now, w.ticket.id).gsi1sk, ...(w.plan.reopen ? { ':one': 1 } : {}) };
  const items: TxItem[] = [{ Update: surveyReplyUpdate(db.tableName, w.ticket.id, w.plan, 'updated_at = :now, gsi1sk = :g1, gsi2sk = :g1', touch) }];
  if (w.plan.reopen) {
    items.push({ ConditionCheck: {
      TableName: db.tableName, Key: keys.customer(w.ticket.customer_id),
      ConditionExpression: 'current_ticket_id = :t AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)',
      ExpressionAttributeValues: { ':t': w.ticket.id },
    } });
  }
  for (const e of w.timeline) items.push(timelineItem(db, e as unknown as EventEntry & Record<string, unknown>));
  for (const e of w.feed) items.push(feedItem(db, e));
  return commitOrConflict(db, items);
}

// ---------------------------------------------------------------------------------------------
// Survey texts (`GET/PUT /api/v1/survey/templates`)
//
// | item             | pk                          | sk       | attributes                                  |
// |------------------|-----------------------------|----------|---------------------------------------------|
// | survey templates | SETTINGS#survey-templates   | SETTINGS | templates {lang: SurveyTemplate}, version, updated_at/by |

export const surveyTemplatesKey = () => ({ pk: 'SETTINGS#survey-templates', sk: 'SETTINGS' });

export interface StoredSurveyTemplates {
  readonly templates: SurveyTemplates;
  readonly version: number;
  readonly updated_at: number;
  readonly updated_by: string;
}

/** The stored survey texts, or undefined while the built-in ones are in force. 1 round trip. */
export async function getSurveyTemplates(db: Db): Promise<StoredSurveyTemplates | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: surveyTemplatesKey(), ConsistentRead: true }));
  if (!res.Item) return undefined;
  const { pk: _p, sk: _s, ...rest } = res.Item;
  return rest as StoredSurveyTemplates;
}

/** Replace the survey texts, conditional on the version read (0: none stored). False on a lost race. */
export async function putSurveyTemplates(db: Db, args: { readonly templates: SurveyTemplates; readonly expectedVersion: number; readonly by: string; readonly now: number }): Promise<boolean> {
  return putVersioned(db, { ...surveyTemplatesKey(), templates: args.templates, updated_at: args.now, updated_by: args.by }, args.expectedVersion);
}
