/**
 * The Shopify orders pull (functions/handlers/orders-pull.ts) on DynamoDB Local against the
 * simulated shop (local/shopify-simulator.ts: answers hand-made from the documented GraphQL
 * Admin shapes, cursors and cost extension — not recorded traffic), performed through the
 * platform port as in Lambda.
 *
 * Pages across runs, resumes from its watermark, waits out throttling without losing its place,
 * stores a re-read order once and never an older state over a newer one, and links an order only
 * to the customer holding its e-mail VERIFIED (the webhook's rules: functions/store/orders.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { PlatformRequest, PlatformResponse } from '../../functions/channels/channel.js';
import { makeOrdersPull, OrdersPullError, type ShopifyCredentials } from '../../functions/handlers/orders-pull.js';
import type { PerformMeta } from '../../functions/runtime/ports.js';
import type { Db } from '../../functions/store/db.js';
import { customerOrders, getPullState } from '../../functions/store/orders.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { shopifyOrderNode, SimulatedShop, throttledBody } from '../../local/shopify-simulator.js';
import { freshTable } from '../helpers/ddb.js';

const SHOP = 'acme.myshopify.com';
const TOKEN = 'shpat_test-token';
const T0 = Date.parse('2026-12-07T09:00:00Z');
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const iso = (minutes: number) => new Date(Date.parse('2026-12-01T00:00:00Z') + minutes * 60_000).toISOString().replace('.000Z', 'Z');

describe('orders pull', () => {
  let db: Db;
  let shop: SimulatedShop;
  let now: number;
  /** Answers armed for the next requests (a throttled answer, a timeout; null: the shop's own), then the shop's own. */
  let armed: Array<PlatformResponse | 'timeout' | null>;
  const seen: Array<{ req: PlatformRequest; meta: PerformMeta }> = [];
  const perform = async (req: PlatformRequest, meta: PerformMeta): Promise<PlatformResponse> => {
    seen.push({ req, meta });
    const next = armed.shift();
    if (next === 'timeout') throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    return next ?? shop.answer(req);
  };
  const pull = (opts: { pagesPerRun?: number; credentials?: ShopifyCredentials; runBudgetMs?: number } = {}) => makeOrdersPull({
    db, clock: { now: () => now }, perform, shop: SHOP, credentials: opts.credentials ?? { kind: 'token', token: TOKEN },
    apiVersion: '2026-10', pagesPerRun: opts.pagesPerRun ?? 8, logger: quiet, ...(opts.runBudgetMs !== undefined ? { runBudgetMs: opts.runBudgetMs } : {}),
  });
  const stored = async () => ((await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? []).filter((i) => String(i.pk).startsWith('ORDER#'));
  const verifiedEmail = async (customerId: string, email: string) => {
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(customerId), id: customerId, display_name: 'Anna', created_at: 1 } }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.verifiedAttribute('email', email), ...indexKeys.customerAttribute(customerId, 'email', email), kind: 'email', customer_id: customerId, channel: 'email', at: 1 } }));
  };
  /** `n` orders updated a minute apart, from minute `from`. */
  const orders = (n: number, from = 0) => Array.from({ length: n }, (_, i) => shopifyOrderNode({ id: 1000 + from + i, name: `#${51000 + from + i}`, updatedAt: iso(from + i) }));

  beforeEach(async () => {
    ({ db } = await freshTable('orders-pull'));
    shop = new SimulatedShop({ shop: SHOP, token: TOKEN, client: { id: 'cid', secret: 'csecret' } });
    now = T0;
    armed = [];
    seen.length = 0;
  });

  it('reads every page of a first sweep, then asks only for orders updated since the newest it stored', async () => {
    shop.put(...orders(60));
    const run = await pull()();
    expect(run).toMatchObject({ status: 'caught_up', pages: 3, orders: 60, stored: 60 });
    expect(shop.requests.map((r) => r.variables?.after === null ? 'start' : 'cursor')).toEqual(['start', 'cursor', 'cursor']);
    expect(await stored()).toHaveLength(60);
    const state = await getPullState(db, SHOP);
    expect(state).toMatchObject({ since: iso(59), cursor: null, sweep_newest: null, pages: 3, orders: 60 });
    // The next run searches from the watermark: the order of that minute again (>=), and what changed since.
    shop.put(shopifyOrderNode({ id: 2000, name: '#52000', updatedAt: iso(90) }));
    now += 5 * 60_000;
    expect(await pull()()).toMatchObject({ status: 'caught_up', pages: 1, orders: 2 });
    expect(shop.requests.at(-1)!.variables).toMatchObject({ query: `updated_at:>='${iso(59)}'`, after: null });
    expect(await stored()).toHaveLength(61);
  });

  it('stops after its pages per run and resumes from the cursor it stored, never re-reading a page', async () => {
    shop.put(...orders(110));
    expect(await pull({ pagesPerRun: 2 })()).toMatchObject({ status: 'continues', pages: 2, orders: 50 });
    const mid = await getPullState(db, SHOP);
    expect(mid.cursor).not.toBeNull();
    expect(mid.since).toBeNull();
    expect(mid.sweep_newest).toBe(iso(49));
    // A new run (a new execution environment: a fresh handler) goes on from there.
    expect(await pull({ pagesPerRun: 2 })()).toMatchObject({ status: 'continues', pages: 2, orders: 50 });
    expect(shop.requests[2]!.variables!.after).toBe(mid.cursor);
    expect(await pull({ pagesPerRun: 2 })()).toMatchObject({ status: 'caught_up', pages: 1, orders: 10 });
    expect(await stored()).toHaveLength(110);
    expect(await getPullState(db, SHOP)).toMatchObject({ since: iso(109), cursor: null, orders: 110, pages: 5 });
  });

  it('starts no further page once its time is spent, and the next run goes on', async () => {
    shop.put(...orders(60));
    expect(await pull({ runBudgetMs: -1 })()).toMatchObject({ status: 'continues', pages: 1, orders: 25 });
    expect(await pull()()).toMatchObject({ status: 'caught_up', pages: 2, orders: 35 });
  });

  it('backs off when throttled and retries on a later run from the same cursor, losing nothing', async () => {
    shop.put(...orders(75));
    // The first page answers; the second is refused with the documented THROTTLED answer.
    armed = [null, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(throttledBody(802, 300)) }];
    const first = await pull()();
    expect(first).toMatchObject({ status: 'throttled', pages: 1, orders: 25, wait_until: T0 + 10_040 });
    const cursor = (await getPullState(db, SHOP)).cursor;
    expect(cursor).not.toBeNull();
    // A run inside the wait asks Shopify nothing.
    const before = seen.length;
    now = T0 + 5_000;
    expect(await pull()()).toMatchObject({ status: 'waiting', pages: 0 });
    expect(seen).toHaveLength(before);
    // After it: the same cursor again, to the end.
    now = T0 + 60_000;
    expect(await pull()()).toMatchObject({ status: 'caught_up', pages: 2, orders: 50 });
    expect(JSON.parse(seen[before]!.req.body!).variables.after).toBe(cursor);
    expect(await stored()).toHaveLength(75);
  });

  it('pauses before it is throttled when the bucket holds less than the next page costs', async () => {
    shop.put(...orders(60));
    shop.available = 100; // requested ≈ 777: (777 − 100) / 50 s
    expect(await pull()()).toMatchObject({ status: 'throttled', pages: 1, orders: 25, wait_until: T0 + 13_540 });
  });

  it('waits a minute after a timeout or a server error, and fails loudly on a refused token', async () => {
    shop.put(...orders(3));
    armed = ['timeout'];
    expect(await pull()()).toMatchObject({ status: 'retry_later', wait_until: T0 + 60_000 });
    now = T0 + 61_000;
    armed = [{ status: 502, headers: {}, body: 'Bad Gateway' }];
    expect(await pull()()).toMatchObject({ status: 'retry_later' });
    now = T0 + 200_000;
    await expect(pull({ credentials: { kind: 'token', token: 'shpat_wrong' } })()).rejects.toThrow(OrdersPullError);
    expect(await stored()).toHaveLength(0);
    expect((await getPullState(db, SHOP)).cursor).toBeNull();
  });

  it('stores a re-read order once, and an older state never over a newer one', async () => {
    shop.put(shopifyOrderNode({ id: 7, name: '#7007', updatedAt: iso(10), fulfillment: 'FULFILLED', fulfillments: [{ createdAt: iso(9), trackingUrl: 'https://track.example/7' }] }));
    await pull()();
    // Shopify answers the same order again (>= the watermark), and a stale copy of it elsewhere in time.
    now += 60_000;
    expect(await pull()()).toMatchObject({ orders: 1, stored: 1 });
    const orderItems = await stored();
    expect(orderItems).toHaveLength(1);
    expect(orderItems.find((i) => i.sk === 'ORDER')).toMatchObject({ status: 'shipped', tracking_url: 'https://track.example/7' });
    shop.reset();
    shop.put(shopifyOrderNode({ id: 7, name: '#7007', updatedAt: iso(5), financial: 'PENDING' }));
    await getPullState(db, SHOP);
    const fresh = makeOrdersPull({ db, clock: { now: () => now }, perform, shop: SHOP, credentials: { kind: 'token', token: TOKEN }, apiVersion: '2026-10', pagesPerRun: 1, logger: quiet });
    // Start a sweep from scratch against the older copy: it is read, and refused by the store.
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { pk: `SHOPIFY#${SHOP}`, sk: 'PULL', since: null, cursor: null, sweep_newest: null, wait_until: 0, last_run_at: 0, pages: 0, orders: 0, rev: 99 } }));
    expect(await fresh()).toMatchObject({ orders: 1, stale: 1, stored: 0 });
    expect((await stored()).find((i) => i.sk === 'ORDER')).toMatchObject({ status: 'shipped' });
  });

  it('links an order to the customer holding its e-mail verified — and an unverified match to no one', async () => {
    await verifiedEmail('cust-anna', 'anna@shop.example');
    shop.put(
      shopifyOrderNode({ id: 1, name: '#51050', email: 'Anna@Shop.example', updatedAt: iso(1) }),
      // Only typed somewhere, never verified: no VATTR item holds it.
      shopifyOrderNode({ id: 2, name: '#51051', email: 'maria@shop.example', updatedAt: iso(2) }),
    );
    expect(await pull()()).toMatchObject({ orders: 2, linked: 1 });
    expect((await customerOrders(db, ['cust-anna'])).map((o) => o.number)).toEqual(['51050']);
    const maria = (await stored()).find((i) => i.id === 'shopify:2');
    expect(maria).toMatchObject({ customer_id: null });
    expect(maria).not.toHaveProperty('gsi3pk');
    // The contact itself is never stored.
    expect(JSON.stringify(await stored())).not.toMatch(/shop\.example/i);
  });

  it('gets its token by the client credentials grant once, and reuses it until it nears expiry', async () => {
    shop.put(...orders(30));
    const run = pull({ pagesPerRun: 1, credentials: { kind: 'client', clientId: 'cid', clientSecret: 'csecret' } });
    await run();
    await run();
    expect(seen.map((s) => s.meta.kind)).toEqual(['token', 'orders-pull', 'orders-pull']);
    expect(await stored()).toHaveLength(30);
    await expect(pull({ credentials: { kind: 'client', clientId: 'cid', clientSecret: 'wrong' } })()).rejects.toThrow(/client credentials/);
  });

  it('does nothing without a shop or credentials', async () => {
    const run = makeOrdersPull({ db, clock: { now: () => now }, perform, shop: undefined, credentials: undefined, apiVersion: '2026-10', pagesPerRun: 8, logger: quiet });
    expect(await run()).toMatchObject({ status: 'not_configured' });
    expect(seen).toHaveLength(0);
  });
});
