/** Ticket numbers from leased blocks (functions/store/ticket-numbers.ts) on DynamoDB Local. */
import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../../functions/store/db.js';
import { BLOCK, createNumberAllocator } from '../../functions/store/ticket-numbers.js';
import { keys } from '../../functions/store/table.js';
import { freshTable } from '../helpers/ddb.js';

describe('ticket numbers from leased blocks', () => {
  let db: Db;
  beforeAll(async () => { ({ db } = await freshTable('tnum')); });

  it('hands out unique numbers under 100-way concurrency across several instances, leasing one block per instance', async () => {
    const instances = Array.from({ length: 4 }, () => createNumberAllocator());
    const before = db.roundTrips();
    const numbers = await Promise.all(Array.from({ length: 100 }, (_, i) => instances[i % 4]!(db, 'ticket-concurrency')));
    expect(new Set(numbers).size).toBe(100);
    expect(numbers.every((n) => Number.isInteger(n) && n >= 1 && n <= 4 * BLOCK)).toBe(true);
    expect(db.roundTrips() - before).toBe(4); // one lease each, not one write per ticket
    const counter = (await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.counter('ticket-concurrency'), ConsistentRead: true }))).Item!;
    expect(counter.n).toBe(4 * BLOCK);
  });

  it('numbers one instance\'s tickets consecutively from 1 and leases the next block when one runs out', async () => {
    const next = createNumberAllocator(3);
    const got: number[] = [];
    for (let i = 0; i < 7; i++) got.push(await next(db, 'ticket-seq'));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const other = createNumberAllocator(3);
    expect(await other(db, 'ticket-seq')).toBe(10); // a new instance starts after the last leased block: a gap, never a repeat
  });

  it('hands a number no commit used out again first, so a lost race leaves no gap', async () => {
    const next = createNumberAllocator();
    const [a, b] = [await next(db, 'ticket-back'), await next(db, 'ticket-back')];
    next.giveBack(db, 'ticket-back', a);
    expect([await next(db, 'ticket-back'), await next(db, 'ticket-back')]).toEqual([a, b + 1]);
  });
});
