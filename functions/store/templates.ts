/**
 * Canned answers and classification rules (DESIGN.md §3 `GET/PUT /templates`, `GET/PUT /rules`).
 *
 * | item          | pk              | sk           | attributes                                   |
 * |---------------|-----------------|--------------|----------------------------------------------|
 * | template      | TEMPLATES       | <id>         | id, name, bodies {lang: text}, version, updated_at/by |
 * | rules         | SETTINGS#rules  | SETTINGS     | items [rule], version, updated_at/by          |
 *
 * All templates sit in one partition (one Query lists them); every write is conditional on the
 * version read (two supervisors saving at once: the second gets a 409, never a silent overwrite).
 * (Kept here rather than in table.ts until the lead folds them into the key table.)
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Rule } from '../domain/rules.js';
import { putVersioned, type Db } from './db.js';

export const templateKeys = {
  template: (id: string) => ({ pk: 'TEMPLATES', sk: id }),
  partition: 'TEMPLATES',
  rules: () => ({ pk: 'SETTINGS#rules', sk: 'SETTINGS' }),
} as const;

export interface TemplateRecord {
  readonly id: string;
  readonly name: string;
  readonly bodies: Readonly<Record<string, string>>;
  readonly version: number;
  readonly updated_at: number;
  readonly updated_by: string;
}

const strip = <T>(i: Record<string, unknown>): T => { const { pk: _p, sk: _s, ...rest } = i; return rest as T; };

/** 1 round trip. */
export async function getTemplate(db: Db, id: string): Promise<TemplateRecord | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: templateKeys.template(id), ConsistentRead: true }));
  return res.Item ? strip<TemplateRecord>(res.Item) : undefined;
}

/** Every template, by id (1 round trip per 1 MB). */
export async function listTemplates(db: Db): Promise<TemplateRecord[]> {
  const out: TemplateRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': templateKeys.partition }, ConsistentRead: true, ExclusiveStartKey: start }));
    out.push(...(res.Items ?? []).map((i) => strip<TemplateRecord>(i)));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Create or replace a template, conditional on `expectedVersion` (0 = must not exist). False on a lost race. */
export async function putTemplate(db: Db, t: Omit<TemplateRecord, 'version'>, expectedVersion: number): Promise<boolean> {
  return putVersioned(db, { ...templateKeys.template(t.id), ...t }, expectedVersion);
}

export interface StoredRules { readonly items: Rule[]; readonly version: number; readonly updated_at?: number; readonly updated_by?: string }

/** 1 round trip. Version 0 = no rules stored. */
export async function getRules(db: Db): Promise<StoredRules> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: templateKeys.rules(), ConsistentRead: true }));
  return res.Item ? strip<StoredRules>(res.Item) : { items: [], version: 0 };
}

/** Replace the rule list, conditional on the version read. False on a lost race. */
export async function putRules(db: Db, args: { items: Rule[]; expectedVersion: number; by: string; now: number }): Promise<boolean> {
  return putVersioned(db, { ...templateKeys.rules(), items: args.items, updated_at: args.now, updated_by: args.by }, args.expectedVersion);
}
