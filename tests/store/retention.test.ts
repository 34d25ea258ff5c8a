/**
 * Retention by DynamoDB TTL (issue 17 finding 6): with `CONFLUO_MESSAGE_TTL_DAYS` and
 * `CONFLUO_FEED_TTL_DAYS` every message (in and out) and every change-feed event is written with
 * a `ttl` that far after it happened — notes, events and tickets stay; without them nothing
 * expires. The settings are validated, and the stack hands them to every function.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { fixedClock } from '../../functions/domain/clock.js';
import { makeProcess } from '../../functions/handlers/process.js';
import { createDb, retentionOf, type Db } from '../../functions/store/db.js';
import { loadConfig } from '../../functions/runtime/config.js';
import { freshTable, LOCAL_AWS } from '../helpers/ddb.js';
import { telegram } from '../helpers/identity.js';
import { testConfig } from '../helpers/pipeline.js';
import { lambdaEnvironments, synthConfluo } from '../infra/helpers.js';

const T0 = Date.UTC(2026, 9, 5, 10, 0, 0);
const DAY_S = 86_400;

describe('retention by TTL', () => {
  let kept: Db;
  let expiring: Db;
  beforeAll(async () => {
    const t = await freshTable('retention');
    kept = t.db;
    expiring = createDb(t.tableName, { endpoint: t.endpoint, ...LOCAL_AWS }, retentionOf(testConfig({ CONFLUO_MESSAGE_TTL_DAYS: '90', CONFLUO_FEED_TTL_DAYS: '14' })));
  });

  const scan = async (db: Db) => (await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? [];

  it('writes messages and feed events with a ttl when retention is set; notes, events, tickets and customers without', async () => {
    const clock = fixedClock(T0);
    await makeProcess({ db: expiring, clock, config: testConfig() }).handleMessage(telegram('7001', { text: 'expires' }));
    const items = await scan(expiring);
    const message = items.find((i) => i.type === 'message' && i.text === 'expires')!;
    expect(message.ttl).toBe(T0 / 1000 + 90 * DAY_S);
    const feed = items.filter((i) => String(i.pk).startsWith('FEED#'));
    expect(feed.length).toBeGreaterThan(0);
    for (const f of feed) expect(f.ttl).toBe(Math.floor(Number(f.at) / 1000) + 14 * DAY_S);
    for (const i of items.filter((x) => x.type === 'event' || x.sk === 'TICKET' || x.sk === 'PROFILE')) expect(i.ttl, `${i.pk}|${i.sk}`).toBeUndefined();
  });

  it('writes nothing that expires without the settings (the default)', async () => {
    const clock = fixedClock(T0 + DAY_S * 1000);
    await makeProcess({ db: kept, clock, config: testConfig() }).handleMessage(telegram('7002', { text: 'kept' }));
    const items = await scan(kept);
    expect(items.find((i) => i.type === 'message' && i.text === 'kept')!.ttl).toBeUndefined();
    expect(items.filter((i) => String(i.pk).startsWith('FEED#') && i.customer_id !== undefined && Number(i.at) === T0 + DAY_S * 1000).every((i) => i.ttl === undefined)).toBe(true);
  });

  it('validates the settings and hands the stack\'s retention to every function', () => {
    expect(() => loadConfig({ CONFLUO_MESSAGE_TTL_DAYS: '3' })).toThrow(/CONFLUO_MESSAGE_TTL_DAYS/);
    expect(() => loadConfig({ CONFLUO_FEED_TTL_DAYS: '1' })).toThrow(/CONFLUO_FEED_TTL_DAYS/);
    expect(() => loadConfig({ CONFLUO_FEED_TTL_DAYS: 'soon' })).toThrow(/CONFLUO_FEED_TTL_DAYS/);
    expect(retentionOf(loadConfig({}))).toEqual({});
    const { template } = synthConfluo({ retention: { messageDays: 365, feedDays: 30 } });
    for (const [id, env] of Object.entries(lambdaEnvironments(template))) {
      if (env.POWERTOOLS_SERVICE_NAME !== 'confluo') continue; // CDK's own helper functions
      expect(env, id).toMatchObject({ CONFLUO_MESSAGE_TTL_DAYS: '365', CONFLUO_FEED_TTL_DAYS: '30' });
    }
    expect(Object.values(lambdaEnvironments(synthConfluo().template)).some((e) => 'CONFLUO_MESSAGE_TTL_DAYS' in e)).toBe(false);
    expect(() => synthConfluo({ retention: { messageDays: 3 } })).toThrow(/messageDays/);
  });
});
