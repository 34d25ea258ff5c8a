/**
 * A client middleware for the benches: asks DynamoDB for `ReturnConsumedCapacity: INDEXES` on
 * every call and adds up the capacity units it reports (table and each GSI; DynamoDB Local applies
 * the documented rules — transactional writes count double, a GSI key change is a delete and a put,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling),
 * and counts, for every successful write, the writes each partition key takes — the table key and,
 * for each GSI, the index key the item has before and after the write (an item in an index costs
 * the index a write whenever it is written; a changed index key costs a delete under the old key
 * and a put under the new one). ConditionChecks consume write units on their partition too.
 *
 * The index keys of items are followed from the writes themselves (Puts name them, Updates set or
 * remove them), so the bench must start from an empty table and write only through this client.
 */
import type { Db } from '../functions/store/db.js';
import { unmarshall as fromAv } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Av = Record<string, AttributeValue>;
const AV_TYPES = new Set(['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL']);
/** The middleware may see the document client's plain input or the marshalled one: read both. */
function unmarshall(v: Av | Record<string, unknown>): Record<string, unknown> {
  const marshalled = Object.values(v).every((x) => typeof x === 'object' && x !== null && Object.keys(x).length === 1 && AV_TYPES.has(Object.keys(x)[0]!));
  return marshalled ? fromAv(v as Av) : v;
}
const INDEXES = ['gsi1', 'gsi2', 'gsi3'] as const;
type IndexKeys = Partial<Record<`${(typeof INDEXES)[number]}${'pk' | 'sk'}`, string>>;

/** The DynamoDB operation of a command name, from the low-level client (`PutItemCommand`) or lib-dynamodb (`PutCommand`). */
export function operation(commandName: string): string {
  const n = commandName.replace(/Command$/, '');
  return ({ Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Get: 'GetItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems', BatchWrite: 'BatchWriteItem', BatchGet: 'BatchGetItem' } as Record<string, string>)[n] ?? n;
}

function sizeOf(input: Record<string, unknown>): number {
  if (Array.isArray(input.TransactItems)) return input.TransactItems.length;
  if (input.RequestItems) return Object.values(input.RequestItems as Record<string, unknown[] | { Keys: unknown[] }>).reduce((s: number, r) => s + (Array.isArray(r) ? r.length : r.Keys.length), 0);
  return 1;
}

export interface CapacityTotals { read: number; write: number; byTarget: Map<string, { read: number; write: number }> }

export class CapacityMeter {
  /** Capacity units reported by DynamoDB, per target ("table", "gsi1", …). */
  readonly capacity: CapacityTotals = { read: 0, write: 0, byTarget: new Map() };
  /** Writes per partition key, per target. */
  readonly writes = new Map<string, Map<string, number>>();
  /** Items written (Put/Update/Delete; not ConditionChecks) and condition checks, total. */
  items = 0;
  /** When set, every call's operation and item count (TransactItems, BatchGet keys) is appended. */
  calls: Array<{ op: string; n: number }> | null = null;
  /** Read units per queried partition (`<index|table> <partition key>`; queries that name their key `:p`). */
  readonly readsByKey = new Map<string, number>();
  checks = 0;
  private readonly state = new Map<string, IndexKeys>();

  attach(db: Db): this {
    db.doc.middlewareStack.add((next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'INDEXES';
      return next(args);
    }, { step: 'initialize', name: 'benchReturnConsumedCapacity', priority: 'high' });
    db.doc.middlewareStack.add((next, context) => async (args) => {
      const out = await next(args);
      const output = out.output as { ConsumedCapacity?: unknown };
      const command = operation(String((context as { commandName?: string }).commandName ?? ''));
      this.addCapacity(output.ConsumedCapacity, /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)$/.test(command));
      if (this.calls) this.calls.push({ op: command, n: sizeOf(args.input as Record<string, unknown>) });
      try { this.record(command, args.input as Record<string, unknown>); } catch (e) { console.error('bench meter: could not count a write', e); }
      if (command === 'Query') {
        const input = args.input as { IndexName?: string; ExpressionAttributeValues?: Av };
        const cc = output.ConsumedCapacity as { CapacityUnits?: number } | undefined;
        const key = `${input.IndexName ?? 'table'} ${String(unmarshall(input.ExpressionAttributeValues ?? {})[':p'])}`;
        this.readsByKey.set(key, (this.readsByKey.get(key) ?? 0) + (cc?.CapacityUnits ?? 0));
      }
      return out;
    }, { step: 'serialize', name: 'benchWriteCounter', priority: 'high' });
    return this;
  }

  private addCapacity(cc: unknown, isWrite: boolean) {
    for (const c of (Array.isArray(cc) ? cc : cc ? [cc] : []) as Array<{ Table?: { CapacityUnits?: number }; GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>; CapacityUnits?: number }>) {
      const add = (target: string, units: number | undefined) => {
        if (!units) return;
        const t = this.capacity.byTarget.get(target) ?? { read: 0, write: 0 };
        if (isWrite) t.write += units; else t.read += units;
        this.capacity.byTarget.set(target, t);
        if (isWrite) this.capacity.write += units; else this.capacity.read += units;
      };
      add('table', c.Table?.CapacityUnits ?? (c.GlobalSecondaryIndexes ? 0 : c.CapacityUnits));
      for (const [name, v] of Object.entries(c.GlobalSecondaryIndexes ?? {})) add(name, v.CapacityUnits);
    }
  }

  private bump(target: string, key: string) {
    const m = this.writes.get(target) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    this.writes.set(target, m);
  }

  private record(command: string, input: Record<string, unknown>) {
    if (command === 'PutItem') this.put(input.Item as Av);
    else if (command === 'UpdateItem') this.update(input as never);
    else if (command === 'DeleteItem') this.delete(input.Key as Av);
    else if (command === 'TransactWriteItems') {
      for (const t of input.TransactItems as Array<Record<string, Record<string, unknown>>>) {
        if (t.Put) this.put(t.Put.Item as Av);
        else if (t.Update) this.update(t.Update as never);
        else if (t.Delete) this.delete(t.Delete.Key as Av);
        else if (t.ConditionCheck) { this.checks += 1; this.bump('table', String(unmarshall(t.ConditionCheck.Key as Av).pk)); }
      }
    } else if (command === 'BatchWriteItem') {
      for (const reqs of Object.values(input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Av }; DeleteRequest?: { Key: Av } }>>)) {
        for (const r of reqs) { if (r.PutRequest) this.put(r.PutRequest.Item); else if (r.DeleteRequest) this.delete(r.DeleteRequest.Key); }
      }
    }
  }

  private write(key: { pk: unknown; sk: unknown }, next: IndexKeys | undefined) {
    this.items += 1;
    this.bump('table', String(key.pk));
    const id = `${String(key.pk)}\u0000${String(key.sk)}`;
    const prev = this.state.get(id) ?? {};
    for (const ix of INDEXES) {
      const [p0, s0] = [prev[`${ix}pk`], prev[`${ix}sk`]];
      const [p1, s1] = next ? [next[`${ix}pk`], next[`${ix}sk`]] : [undefined, undefined];
      const before = p0 !== undefined && s0 !== undefined;
      const after = p1 !== undefined && s1 !== undefined;
      if (before && after && p0 === p1 && s0 === s1) this.bump(ix, p1!);
      else {
        if (before) this.bump(ix, p0!);
        if (after) this.bump(ix, p1!);
      }
    }
    if (next) this.state.set(id, next); else this.state.delete(id);
  }

  private put(item: Av) {
    const i = unmarshall(item);
    const next: IndexKeys = {};
    for (const ix of INDEXES) for (const k of ['pk', 'sk'] as const) if (typeof i[`${ix}${k}`] === 'string') next[`${ix}${k}`] = String(i[`${ix}${k}`]);
    this.write(i as { pk: unknown; sk: unknown }, next);
  }

  private update(u: { Key: Av; UpdateExpression?: string; ExpressionAttributeValues?: Av; ExpressionAttributeNames?: Record<string, string> }) {
    const key = unmarshall(u.Key);
    const id = `${String(key.pk)}\u0000${String(key.sk)}`;
    const next: IndexKeys = { ...(this.state.get(id) ?? {}) };
    const values = u.ExpressionAttributeValues ? unmarshall(u.ExpressionAttributeValues) : {};
    const expr = u.UpdateExpression ?? '';
    for (const m of expr.matchAll(/\b(gsi[123](?:pk|sk))\s*=\s*(:\w+)/g)) next[m[1] as keyof IndexKeys] = String(values[m[2]!]);
    const remove = /\bREMOVE\b(.*?)(?:\b(?:SET|ADD|DELETE)\b|$)/s.exec(expr)?.[1] ?? '';
    for (const m of remove.matchAll(/\b(gsi[123](?:pk|sk))\b/g)) delete next[m[1] as keyof IndexKeys];
    this.write(key as { pk: unknown; sk: unknown }, next);
  }

  private delete(k: Av) {
    this.write(unmarshall(k) as { pk: unknown; sk: unknown }, undefined);
  }

  /** A key's family, for reading: `FEED#2026-12-07#13` → `FEED#…`, `TICKET#01…` → `TICKET#…`. */
  static family(key: string): string {
    return `${key.split('#')[0]}#…`;
  }
}
