/**
 * Reading a write-sharded key as one ordered list (functions/store/table.ts: the change feed, the
 * inbox index gsi1 and the status index gsi2 are spread over several partitions so that no
 * partition takes every write).
 *
 * `ShardMerge` is a lazy k-way merge: it keeps one small buffer per partition, refills a buffer
 * (one Query of `pageSize` items) only when the merge needs its next item, and hands items out in
 * sort-key order across all partitions. A page of `limit` items therefore reads about `limit`
 * items plus one short query per partition — not `limit` items from every partition. Sort keys
 * are unique across partitions (they end in the item's id), so the order is total and a position
 * is just a sort key: a cursor that names no partition stays valid whatever the shard count.
 *
 * `queryShards` reads every item of every partition (export, counts) — in parallel, since the
 * partitions are independent.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';

export interface ShardSpec {
  /** The index to read (absent: the table). */
  readonly index?: string;
  readonly pkName: string;
  readonly skName: string;
  readonly partitions: readonly string[];
  /** Newest (largest sort key) first. */
  readonly descending: boolean;
  /** Exclusive bound: items strictly after this sort key in the reading direction. */
  readonly after?: string;
  /** Items per refill query of one partition. */
  readonly pageSize: number;
  readonly consistent?: boolean;
}

interface Stream { readonly pk: string; buf: Array<Record<string, unknown>>; start: Record<string, unknown> | undefined; done: boolean }

export class ShardMerge {
  private readonly streams: Stream[];
  /** Items fetched from DynamoDB so far (what a scan budget counts). */
  read = 0;

  constructor(private readonly db: Db, private readonly spec: ShardSpec) {
    this.streams = spec.partitions.map((pk) => ({ pk, buf: [], start: undefined, done: false }));
  }

  /** The next item in order across all partitions, or undefined when every partition is exhausted. */
  async next(): Promise<Record<string, unknown> | undefined> {
    await Promise.all(this.streams.filter((s) => s.buf.length === 0 && !s.done).map((s) => this.fill(s)));
    const sk = this.spec.skName;
    let best: Stream | undefined;
    for (const s of this.streams) {
      const head = s.buf[0];
      if (!head) continue;
      if (!best || (this.spec.descending ? String(head[sk]) > String(best.buf[0]![sk]) : String(head[sk]) < String(best.buf[0]![sk]))) best = s;
    }
    return best?.buf.shift();
  }

  /** Items fetched but not yet handed out (e.g. to look up their customers in one batch). */
  buffered(): Array<Record<string, unknown>> {
    return this.streams.flatMap((s) => s.buf);
  }

  private async fill(s: Stream): Promise<void> {
    const { index, pkName, skName, after, descending, pageSize, consistent } = this.spec;
    const res = await this.db.doc.send(new QueryCommand({
      TableName: this.db.tableName, ...(index ? { IndexName: index } : {}),
      KeyConditionExpression: after !== undefined ? `#pk = :p AND #sk ${descending ? '<' : '>'} :a` : '#pk = :p',
      ExpressionAttributeNames: { '#pk': pkName, ...(after !== undefined ? { '#sk': skName } : {}) },
      ExpressionAttributeValues: { ':p': s.pk, ...(after !== undefined ? { ':a': after } : {}) },
      ScanIndexForward: !descending, Limit: pageSize, ExclusiveStartKey: s.start, ...(consistent ? { ConsistentRead: true } : {}),
    }));
    const items = res.Items ?? [];
    this.read += items.length;
    s.buf.push(...items);
    s.start = res.LastEvaluatedKey;
    s.done = s.start === undefined;
  }
}

/** Every item of every partition (all pages), in parallel; `input` adds conditions, filters, projections. */
export async function queryShards(
  db: Db, partitions: readonly string[],
  input: (pk: string) => Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
): Promise<Array<Record<string, unknown>>> {
  const pages = await Promise.all(partitions.map(async (pk) => {
    const out: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, ...input(pk), ExclusiveStartKey: start }));
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }));
  return pages.flat();
}

/**
 * Several sharded lists handed out one after the other — the default inbox reads the priority-tier
 * partitions, then the others (functions/store/table.ts) — each list in its own sort-key order. A
 * position is the list's index and a sort key within it, so a cursor still names no partition.
 */
export class ChainedMerge {
  private part: number;
  private merge: ShardMerge;
  private readBefore = 0;

  constructor(private readonly db: Db, private readonly parts: ReadonlyArray<Omit<ShardSpec, 'after'>>, start?: { readonly part: number; readonly after: string }) {
    if (parts.length === 0) throw new RangeError('ChainedMerge needs at least one list');
    this.part = start ? Math.min(Math.max(0, start.part), parts.length - 1) : 0;
    this.merge = new ShardMerge(db, { ...parts[this.part]!, ...(start ? { after: start.after } : {}) });
  }

  /** Items fetched from DynamoDB so far, over every list. */
  get read(): number { return this.readBefore + this.merge.read; }

  /** The list the last item handed out came from (index into `parts`). */
  get current(): number { return this.part; }

  async next(): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      const item = await this.merge.next();
      if (item || this.part === this.parts.length - 1) return item;
      this.readBefore += this.merge.read;
      this.part += 1;
      this.merge = new ShardMerge(this.db, this.parts[this.part]!);
    }
  }

  buffered(): Array<Record<string, unknown>> { return this.merge.buffered(); }
}
