/**
 * Ticket numbers without a hot counter. A single item incremented for every new ticket is one
 * partition taking every ticket's write (about 1,000 writes/s at most per partition:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
 * Instead each function instance leases a block of `BLOCK` numbers with one atomic `ADD` on
 * `COUNTER#<name>` (the returned value is the block's end; DynamoDB applies concurrent `ADD`s one
 * after another, so blocks never overlap) and hands the numbers out from memory.
 *
 * Consequences (README "Scale"): numbers are unique and short (the counter only grows by a block
 * per instance start or per `BLOCK` tickets), but NOT strictly consecutive across instances — two
 * instances number their tickets from different blocks at the same time, and the unused rest of a
 * block is lost when an instance ends (a gap). A number burnt by a failed commit also leaves a gap.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.js';
import { keys } from './table.js';

/** Numbers per lease: one counter write per 100 tickets (a partition's 1,000 writes/s ⇒ 100,000 tickets/s). */
export const BLOCK = 100;

interface Lease { next: number; readonly end: number }

/**
 * A number allocator with its own leases (one per process — i.e. per Lambda instance — in
 * production). Leases belong to a client (`Db`: one per table per process in AWS, one per local
 * runtime), not to a table name: two local runtimes may serve tables of the same name from
 * different DynamoDB Local instances.
 */
export function createNumberAllocator(block = BLOCK) {
  type State = { leases: Map<string, Lease>; pending: Map<string, Promise<void>>; returned: Map<string, number[]> };
  const byDb = new WeakMap<Db, State>();
  const stateOf = (db: Db): State => {
    let state = byDb.get(db);
    if (!state) byDb.set(db, (state = { leases: new Map(), pending: new Map(), returned: new Map() }));
    return state;
  };
  async function next(db: Db, name: string): Promise<number> {
    const { leases, pending, returned } = stateOf(db);
    const back = returned.get(name);
    if (back?.length) return back.shift()!;
    for (;;) {
      const l = leases.get(name);
      if (l && l.next <= l.end) return l.next++;
      // One lease at a time per counter: concurrent callers wait for it and share the block.
      let p = pending.get(name);
      if (!p) {
        p = leaseBlock(db, name, block).then((lease) => { leases.set(name, lease); }).finally(() => pending.delete(name));
        pending.set(name, p);
      }
      await p;
    }
  }
  /**
   * A number drawn for a ticket whose commit did not happen (a lost race, a duplicate): handed out
   * again first, so a retry does not leave a gap. Safe: the number's `TNUM#` item is written only by
   * a commit, on condition that it does not exist yet.
   */
  function giveBack(db: Db, name: string, n: number): void {
    const { returned } = stateOf(db);
    returned.set(name, [...(returned.get(name) ?? []), n].sort((a, b) => a - b));
  }
  return Object.assign(next, { giveBack });
}

async function leaseBlock(db: Db, name: string, block: number): Promise<Lease> {
  const res = await db.doc.send(new UpdateCommand({
    TableName: db.tableName, Key: keys.counter(name), UpdateExpression: 'ADD n :block', ExpressionAttributeValues: { ':block': block }, ReturnValues: 'UPDATED_NEW',
  }));
  const end = Number(res.Attributes?.n);
  return { next: end - block + 1, end };
}

const processAllocator = createNumberAllocator();

/** The next ticket number of this instance (1 round trip per `BLOCK` numbers, none otherwise). */
export const nextTicketNumber = (db: Db): Promise<number> => processAllocator(db, 'ticket');
/** A ticket number drawn by `nextTicketNumber` that no commit used. */
export const returnTicketNumber = (db: Db, n: number): void => processAllocator.giveBack(db, 'ticket', n);
