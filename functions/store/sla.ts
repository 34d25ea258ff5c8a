/**
 * SLA persistence: the configured calendars and policies (one settings item), and the ticket's
 * `sla` block. Every write of the `sla` block is conditional on its revision (`sla.rev`), so the
 * workflow's evaluate step and the dispatch reactions never lose each other's changes: the loser
 * of a race reloads and decides again.
 *
 * | item          | pk           | sk       | attributes                                       |
 * |---------------|--------------|----------|--------------------------------------------------|
 * | SLA settings  | SETTINGS#sla | SETTINGS | calendars?, policies?, version, updated_at/by    |
 *
 * (Kept here rather than in table.ts until the lead folds it into the key table.)
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Priority } from '../domain/ticket.js';
import type { Calendar } from '../domain/sla/calendar.js';
import { parseSlaSettings, type FullSla, type Policy, type SlaSettings } from '../domain/sla/policy.js';
import { commitOrConflict, isConditionalCheckFailed, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { indexKeys, keys } from './table.js';
import type { EventEntry, FeedEvent } from './records.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const slaKeys = {
  settings: () => ({ pk: 'SETTINGS#sla', sk: 'SETTINGS' }),
} as const;

export interface StoredSlaSettings {
  readonly calendars?: Calendar[];
  readonly policies?: Policy[];
  readonly version: number;
  readonly updated_at?: number;
  readonly updated_by?: string;
}

/** 1 round trip. Version 0 = nothing stored yet. */
export async function getStoredSlaSettings(db: Db): Promise<StoredSlaSettings> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: slaKeys.settings(), ConsistentRead: true }));
  if (!res.Item) return { version: 0 };
  const { pk: _p, sk: _s, ...rest } = res.Item;
  return rest as StoredSlaSettings;
}

/** Stored parts over the deployment's defaults (stack props / CONFLUO_SLA_DEFAULTS), validated. */
export function effectiveSlaSettings(stored: StoredSlaSettings, defaults: SlaSettings): SlaSettings {
  return parseSlaSettings({ calendars: stored.calendars ?? defaults.calendars, policies: stored.policies ?? defaults.policies });
}

/** 1 round trip: the settings in force. */
export async function loadSlaSettings(db: Db, defaults: SlaSettings): Promise<SlaSettings> {
  return effectiveSlaSettings(await getStoredSlaSettings(db), defaults);
}

/**
 * Replace the calendars or the policies (1 round trip), conditional on the version read, so two
 * supervisors saving at once cannot silently overwrite each other. Returns false on a lost race.
 */
export async function putSlaSettingsPart(db: Db, args: {
  part: 'calendars' | 'policies'; value: Calendar[] | Policy[]; expectedVersion: number; by: string; now: number;
}): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: slaKeys.settings(),
      UpdateExpression: 'SET #part = :v, version = :next, updated_at = :now, updated_by = :by',
      ConditionExpression: args.expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
      ExpressionAttributeNames: { '#part': args.part },
      ExpressionAttributeValues: {
        ':v': args.value, ':next': args.expectedVersion + 1, ':now': args.now, ':by': args.by,
        ...(args.expectedVersion === 0 ? {} : { ':expected': args.expectedVersion }),
      },
    }));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

/** Seed whole settings (tests, local seed). Overwrites. */
export async function putSlaSettings(db: Db, settings: SlaSettings, now = Date.now()): Promise<void> {
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...slaKeys.settings(), ...settings, version: 1, updated_at: now, updated_by: 'seed' } }));
}

export interface SlaWrite {
  readonly ticketId: string;
  /** `sla.rev` as loaded; null when the stored block had none (an older record). */
  readonly expectedRev: number | null;
  /** The whole new block (its `rev` must be the next revision). */
  readonly sla: FullSla;
  /** Raise the ticket's priority. */
  readonly priority?: Priority;
  /** Count this as ticket activity (inbox order) at this time. */
  readonly touchAt?: number;
}

function slaUpdate(db: Db, w: SlaWrite): NonNullable<TxItem['Update']> {
  const names: Record<string, string> = { '#sla': 'sla' };
  const values: Record<string, unknown> = { ':sla': w.sla };
  const sets = ['#sla = :sla'];
  if (w.priority) { sets.push('priority = :p'); values[':p'] = w.priority; }
  if (w.touchAt !== undefined) {
    const g = indexKeys.inbox(w.touchAt, w.ticketId).gsi1sk;
    sets.push('updated_at = :now', 'gsi1sk = :g', 'gsi2sk = :g');
    values[':now'] = w.touchAt; values[':g'] = g;
  }
  let condition = 'attribute_exists(pk)';
  if (w.expectedRev === null) condition += ' AND attribute_not_exists(#sla.rev)';
  else { condition += ' AND #sla.rev = :rev'; values[':rev'] = w.expectedRev; }
  return {
    TableName: db.tableName, Key: keys.ticket(w.ticketId),
    UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: condition,
    ExpressionAttributeNames: names, ExpressionAttributeValues: values,
  };
}

/** Replace the ticket's SLA block (1 round trip). False when someone changed it since it was read. */
export async function writeSla(db: Db, w: SlaWrite): Promise<boolean> {
  try {
    await db.doc.send(new UpdateCommand(slaUpdate(db, w)));
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

/**
 * An escalation in one transaction (1 round trip): the SLA block (marks, breached, escalation
 * level, pending e-mails), the raised priority, timeline events and change-feed events. The
 * revision condition makes a repeated evaluation a no-op: it either finds the marks already
 * there (and decides nothing new) or loses the race and reloads.
 */
export async function commitEscalation(db: Db, w: SlaWrite & { timeline: readonly EventEntry[]; feed: readonly FeedEvent[] }): Promise<'committed' | 'conflict'> {
  const items: TxItem[] = [
    { Update: slaUpdate(db, w) },
    ...w.timeline.map((e) => timelineItem(db, e as unknown as EventEntry & Record<string, unknown>)),
    ...w.feed.map((e) => feedItem(db, e)),
  ];
  return commitOrConflict(db, items);
}

/** The e-mail went out: forget it (1 round trip). Bumps the revision so no stale writer brings it back. */
export async function removePendingEmail(db: Db, ticketId: string, emailId: string): Promise<void> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.ticket(ticketId),
      UpdateExpression: 'SET #sla.rev = #sla.rev + :one REMOVE #sla.email_pending.#id',
      ConditionExpression: 'attribute_exists(#sla.email_pending.#id)',
      ExpressionAttributeNames: { '#sla': 'sla', '#id': emailId },
      ExpressionAttributeValues: { ':one': 1 },
    }));
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}
