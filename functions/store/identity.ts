/**
 * Identity resolution access patterns: the identity with the index items of the verified
 * attributes a message carries (one round trip), customers with their merge pointers resolved,
 * and the transaction items the inbound commit adds (index claims, suggestions, merge-log
 * entries). Every item here is conditional or an idempotent put.
 */
import { BatchGetCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AttributeOwner, CustomerFacts, Suggestion, VerifiedAttribute } from '../domain/identity.js';
import { attributeKey } from '../domain/identity.js';
import type { Channel } from '../domain/inbound.js';
import { resolveRoot } from '../domain/merge.js';
import { StoreError, type Db } from './db.js';
import { indexKeys, keys } from './table.js';
import type { CustomerLogEntry, CustomerRecord, IdentityRecord, TicketRecord, VerifiedIndexRecord } from './records.js';

type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Key = { pk: string; sk: string };

const STRIP = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'ttl']);
export const stripKeys = <T>(item: Record<string, unknown>): T => Object.fromEntries(Object.entries(item).filter(([k]) => !STRIP.has(k))) as T;

/**
 * Strongly consistent BatchGetItem of up to 100 keys; unprocessed keys are asked again (each
 * repetition is one more round trip — rare). Items come back keyed `pk|sk`.
 */
export async function batchGet(db: Db, keyList: readonly Key[]): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(keyList.map((k) => [`${k.pk}|${k.sk}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let pending: Key[] | undefined = unique.slice(i, i + 100);
    for (let round = 0; pending && pending.length > 0; round++) {
      if (round > 8) throw new StoreError('batch read kept returning unprocessed keys', { cause: { stage: 'batch-get', keys: pending.length } });
      const res = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.tableName]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of res.Responses?.[db.tableName] ?? []) out.set(`${item.pk}|${item.sk}`, item);
      pending = res.UnprocessedKeys?.[db.tableName]?.Keys as Key[] | undefined;
      if (pending?.length) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
    }
  }
  return out;
}

const k = (key: Key) => `${key.pk}|${key.sk}`;

/**
 * The identity and the index items of `attributes` (1 round trip; a plain GetItem when the
 * message carries no verified attribute).
 */
export async function loadIdentityAndIndex(db: Db, channel: string, externalId: string, attributes: readonly VerifiedAttribute[]): Promise<{
  identity: IdentityRecord | undefined; index: Map<string, VerifiedIndexRecord>;
}> {
  const idKey = keys.identity(channel, externalId);
  const attrKeys = attributes.map((a) => ({ a, key: keys.verifiedAttribute(a.kind, a.value) }));
  const items = await batchGet(db, [idKey, ...attrKeys.map((x) => x.key)]);
  const identityItem = items.get(k(idKey));
  const index = new Map<string, VerifiedIndexRecord>();
  for (const { a, key } of attrKeys) {
    const item = items.get(k(key));
    if (item) index.set(attributeKey(a), stripKeys<VerifiedIndexRecord>(item));
  }
  return { identity: identityItem ? stripKeys<IdentityRecord>(identityItem) : undefined, index };
}

/** Customers by id with every merge pointer followed (1 round trip per pointer level). */
export class CustomerGraph {
  constructor(readonly records: Map<string, CustomerRecord>) {}
  get(id: string): CustomerRecord | undefined { return this.records.get(id); }
  root(id: string): string { return resolveRoot(id, (c) => this.records.get(c)?.merged_into); }
  rootRecord(id: string): CustomerRecord | undefined { return this.records.get(this.root(id)); }
  facts(id: string): CustomerFacts | undefined {
    const c = this.records.get(id);
    if (!c) return undefined;
    return { id: c.id, createdAt: c.created_at, erased: c.erased_at !== undefined, noAutoMerge: noAutoMergeOf(c) };
  }
}

export const noAutoMergeOf = (c: CustomerRecord): string[] => (c.no_auto_merge ? [...c.no_auto_merge] : []);

export async function loadCustomers(db: Db, ids: readonly string[]): Promise<CustomerGraph> {
  const records = new Map<string, CustomerRecord>();
  let want = [...new Set(ids)];
  for (let depth = 0; want.length > 0 && depth < 16; depth++) {
    const items = await batchGet(db, want.map((id) => keys.customer(id)));
    for (const item of items.values()) {
      const c = stripKeys<CustomerRecord>(item);
      records.set(c.id, c);
    }
    want = [...new Set([...records.values()].map((c) => c.merged_into).filter((m): m is string => typeof m === 'string' && !records.has(m)))];
  }
  return new CustomerGraph(records);
}

/** Index owners of `attributes`, resolved through `graph`. */
export function ownersOf(index: ReadonlyMap<string, VerifiedIndexRecord>, attributes: readonly VerifiedAttribute[], graph: CustomerGraph): Map<string, AttributeOwner> {
  const out = new Map<string, AttributeOwner>();
  for (const a of attributes) {
    const rec = index.get(attributeKey(a));
    if (rec) out.set(attributeKey(a), { attribute: a, customerId: rec.customer_id, root: graph.root(rec.customer_id), channel: rec.channel });
  }
  return out;
}

/** Tickets by id (1 round trip). */
export async function loadTickets(db: Db, ids: readonly (string | undefined | null)[]): Promise<Map<string, TicketRecord>> {
  const want = [...new Set(ids.filter((x): x is string => typeof x === 'string'))];
  if (want.length === 0) return new Map();
  const items = await batchGet(db, want.map((id) => keys.ticket(id)));
  return new Map([...items.values()].map((i) => { const t = stripKeys<TicketRecord>(i); return [t.id, t]; }));
}

// ---------------------------------------------------------------------------------------------
// Transaction items of the inbound commit

/**
 * Claim a verified attribute for a customer. Conditional: nobody owns it yet — or it still names
 * `replaces` (an erased customer whose erase has not reached the index item yet). A lost race is a
 * conflict: the handler reloads and links to the winner instead.
 */
export function claimAttributeItem(db: Db, a: VerifiedAttribute, customerId: string, channel: Channel, nowMs: number, replaces?: string): TxItem {
  const item: VerifiedIndexRecord & Record<string, unknown> = {
    ...keys.verifiedAttribute(a.kind, a.value), ...indexKeys.customerAttribute(customerId, a.kind, a.value),
    kind: a.kind, customer_id: customerId, channel, at: nowMs,
  };
  return {
    Put: {
      TableName: db.tableName, Item: item,
      ConditionExpression: replaces ? 'attribute_not_exists(pk) OR customer_id = :old' : 'attribute_not_exists(pk)',
      ...(replaces ? { ExpressionAttributeValues: { ':old': replaces } } : {}),
    },
  };
}

/** A suggestion on the card: an idempotent put (one per kind and value; the latest source wins). */
export function suggestionItem(db: Db, customerId: string, s: Suggestion, nowMs: number): TxItem {
  return { Put: { TableName: db.tableName, Item: { ...keys.suggestion(customerId, s.kind, s.value), ...s, at: nowMs } } };
}

export function customerLogItem(db: Db, customerId: string, e: CustomerLogEntry): TxItem {
  return { Put: { TableName: db.tableName, Item: { ...keys.customerLog(customerId, e.at, e.id), ...e }, ConditionExpression: 'attribute_not_exists(pk)' } };
}
