/**
 * The key builders spread every hot key (functions/store/table.ts): over many ids, no shard of the
 * change feed, the inbox index or a status takes much more than its 1/N share of the writes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FEED_SHARDS, INBOX_SHARDS, indexKeys, keys, shardOf } from '../../functions/store/table.js';

/** Largest share of one key among the keys `ids` map to. */
function maxShare(ids: readonly string[], keyOf: (id: string) => string): number {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(keyOf(id), (counts.get(keyOf(id)) ?? 0) + 1);
  return Math.max(...counts.values()) / ids.length;
}

// 4,000 ids over 64 shards: 62.5 expected per shard, standard deviation ≈ 7.8; ε = 0.008 (32 ids,
// about 4 standard deviations) keeps a fair hash inside and catches any real skew.
const EPSILON = 0.008;
const ulidLike = fc.tuple(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{16}$/))
  .map(([ms, rand]) => `${ms.toString(32).toUpperCase().padStart(10, '0')}${rand}`);
const ids = fc.uniqueArray(ulidLike, { minLength: 4000, maxLength: 4000 });

describe('hot-key spread of the key builders', () => {
  it('spreads one day of change-feed events over every feed shard (max share ≤ 1/N + ε)', () => {
    fc.assert(fc.property(ids, fc.integer({ min: 0, max: 2_000_000_000_000 }), (ticketIds, at) => {
      expect(maxShare(ticketIds, (id) => keys.feedEvent(at, `E${id}`, id).pk)).toBeLessThanOrEqual(1 / FEED_SHARDS + EPSILON);
    }), { numRuns: 8 });
  });

  it('spreads the inbox index and each status of the status index over every shard (max share ≤ 1/N + ε)', () => {
    fc.assert(fc.property(ids, fc.constantFrom('new', 'open', 'pending_customer', 'on_hold', 'resolved'), (ticketIds, status) => {
      expect(maxShare(ticketIds, (id) => indexKeys.inbox(0, id).gsi1pk)).toBeLessThanOrEqual(1 / INBOX_SHARDS + EPSILON);
      expect(maxShare(ticketIds, (id) => indexKeys.byStatus(status, 0, id).gsi2pk)).toBeLessThanOrEqual(1 / INBOX_SHARDS + EPSILON);
    }), { numRuns: 8 });
  });

  it('keeps a ticket in one shard whatever its activity time, and lists every shard for readers', () => {
    fc.assert(fc.property(ulidLike, fc.nat(), fc.nat(), (id, a, b) => {
      expect(indexKeys.inbox(a, id).gsi1pk).toBe(indexKeys.inbox(b, id).gsi1pk);
      expect(indexKeys.inboxShards()).toContain(indexKeys.inbox(a, id).gsi1pk);
      expect(indexKeys.statusShards('open')).toContain(indexKeys.byStatus('open', a, id).gsi2pk);
      expect(keys.feedDay(a)).toContain(keys.feedEvent(a, 'E1', id).pk);
      expect(keys.feedEvent(a, 'E1', id).pk).toBe(keys.feedEvent(a, 'E2', id).pk); // one ticket's events: one partition, one stream shard
    }));
    expect(new Set(indexKeys.inboxShards()).size).toBe(INBOX_SHARDS);
    expect(new Set(keys.feedDay(0)).size).toBe(FEED_SHARDS);
    expect(shardOf('x', 32)).toMatch(/^\d{2}$/);
  });

  it('keeps the feed sort key (and so the GET /events cursor) free of the shard', () => {
    expect(keys.feedEvent(Date.UTC(2026, 11, 7), '01EVT', 'T1').sk).toBe(`${String(Date.UTC(2026, 11, 7)).padStart(15, '0')}#01EVT`);
  });
});
