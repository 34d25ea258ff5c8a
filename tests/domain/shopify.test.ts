/**
 * The Shopify connector's descriptions and readings (functions/domain/shopify.ts), pure. The
 * answers are hand-made from the documented shapes (Order, Fulfillment, FulfillmentTrackingInfo,
 * MoneyBag; the throttled answer of https://shopify.dev/docs/api/usage/limits), via the
 * simulated shop's node builder — not recorded traffic.
 */
import { describe, expect, it } from 'vitest';
import type { PlatformResponse } from '../../functions/channels/channel.js';
import { orderFromShopify, ordersPageRequest, readOrdersPage, readToken, refillWaitMs, statusOf, tokenRequest, SHOP_DOMAIN } from '../../functions/domain/shopify.js';
import { shopifyOrderNode, throttledBody } from '../../local/shopify-simulator.js';

const ok = (body: unknown, status = 200, headers: Record<string, string> = {}): PlatformResponse => ({ status, headers, body: JSON.stringify(body) });
const page = (nodes: unknown[], more = false, cost = { requestedQueryCost: 777, actualQueryCost: 60, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 940, restoreRate: 50 } }) =>
  ok({ data: { orders: { pageInfo: { hasNextPage: more, endCursor: more ? 'eyJsYXN0In0' : null }, nodes } }, extensions: { cost } });

describe('Shopify connector', () => {
  it('describes a page of orders as a GraphQL Admin POST with the access token, sorted by update and searched from the watermark', () => {
    const req = ordersPageRequest({ shop: 'acme.myshopify.com', apiVersion: '2026-10', token: 'shpat_x', since: '2026-12-01T10:00:00Z', after: 'c1' });
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://acme.myshopify.com/admin/api/2026-10/graphql.json');
    expect(req.headers['x-shopify-access-token']).toBe('shpat_x');
    const body = JSON.parse(req.body!);
    expect(body.variables).toEqual({ first: 25, after: 'c1', query: "updated_at:>='2026-12-01T10:00:00Z'" });
    expect(body.query).toMatch(/orders\(first: \$first, after: \$after, query: \$query, sortKey: UPDATED_AT\)/);
    expect(body.query).toMatch(/pageInfo \{ hasNextPage endCursor \}/);
    // The first sweep reads everything (no search).
    expect(JSON.parse(ordersPageRequest({ shop: 'acme.myshopify.com', apiVersion: '2026-10', token: 't', since: null, after: null }).body!).variables).toEqual({ first: 25, after: null, query: null });
  });

  it('describes the client credentials grant and reads its 24 h token', () => {
    const req = tokenRequest({ shop: 'acme.myshopify.com', clientId: 'cid', clientSecret: 'sec' });
    expect(req.url).toBe('https://acme.myshopify.com/admin/oauth/access_token');
    expect(Object.fromEntries(new URLSearchParams(req.body!))).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'sec' });
    expect(readToken(ok({ access_token: 'shpat_1', scope: 'read_orders', expires_in: 86399 }))).toEqual({ ok: true, token: 'shpat_1', expiresInS: 86399 });
    expect(readToken(ok({ error: 'invalid_client' }, 400))).toEqual({ ok: false, status: 400 });
  });

  it('maps an order: number without #, items, totals, placed and shipped dates, the first https tracking link, the contact for linking', () => {
    const node = shopifyOrderNode({
      id: 5001, name: '#51050', email: 'Anna@Shop.example', phone: '+48600100200', createdAt: '2026-12-01T10:00:00Z', updatedAt: '2026-12-02T09:30:00Z',
      financial: 'PAID', fulfillment: 'FULFILLED', total: '54.90',
      items: [{ name: 'Blue kettle', quantity: 1, sku: 'KET-BLUE', price: '49.90' }, { name: 'Gift wrap', quantity: 2, price: '2.50' }],
      fulfillments: [{ createdAt: '2026-12-02T09:00:00Z', trackingUrl: 'http://insecure.example/1' }, { createdAt: '2026-12-03T09:00:00Z', trackingUrl: 'https://track.example/AB123' }],
    });
    expect(orderFromShopify(node)).toEqual({
      id: 'shopify:5001', number: '51050', status: 'shipped',
      items: [{ sku: 'KET-BLUE', name: 'Blue kettle', quantity: 1, price: 49.9 }, { name: 'Gift wrap', quantity: 2, price: 2.5 }],
      totals: { currency: 'EUR', total: 54.9, subtotal: 54.9, shipping: 0, tax: 0 },
      placed_at: Date.parse('2026-12-01T10:00:00Z'), shipped_at: Date.parse('2026-12-02T09:00:00Z'), tracking_url: 'https://track.example/AB123',
      updated_at: Date.parse('2026-12-02T09:30:00Z'), contact: { email: 'Anna@Shop.example', phone: '+48600100200' },
    });
  });

  it('says one status for payment, fulfilment and returns, the later stage winning', () => {
    const s = (o: Record<string, unknown>, f: Array<Record<string, unknown>> = []) => statusOf({ cancelledAt: null, returnStatus: 'NO_RETURN', displayFinancialStatus: 'PAID', displayFulfillmentStatus: 'UNFULFILLED', ...o }, f as never);
    expect(s({ displayFinancialStatus: 'PENDING' })).toBe('pending');
    expect(s({})).toBe('paid');
    expect(s({ displayFulfillmentStatus: 'IN_PROGRESS' })).toBe('processing');
    expect(s({ displayFulfillmentStatus: 'PARTIALLY_FULFILLED' })).toBe('shipped');
    expect(s({ displayFulfillmentStatus: 'FULFILLED' }, [{ displayStatus: 'IN_TRANSIT' }])).toBe('shipped');
    expect(s({ displayFulfillmentStatus: 'FULFILLED' }, [{ displayStatus: 'DELIVERED' }])).toBe('delivered');
    expect(s({ displayFinancialStatus: 'REFUNDED', displayFulfillmentStatus: 'FULFILLED' })).toBe('refunded');
    expect(s({ returnStatus: 'RETURNED', displayFinancialStatus: 'REFUNDED' })).toBe('returned');
    expect(s({ cancelledAt: '2026-12-01T11:00:00Z', displayFinancialStatus: 'REFUNDED' })).toBe('cancelled');
  });

  it('reads a page: orders, cursor, the newest update, the bucket; an unreadable order is skipped and counted', () => {
    const a = shopifyOrderNode({ id: 1, updatedAt: '2026-12-02T09:00:00Z' });
    const b = shopifyOrderNode({ id: 2, updatedAt: '2026-12-02T10:00:00Z' });
    const broken = { ...shopifyOrderNode({ id: 3, updatedAt: '2026-12-02T11:00:00Z' }), name: 'no spaces allowed here!' };
    const read = readOrdersPage(page([a, b, broken], true));
    expect(read).toMatchObject({ kind: 'page', skipped: 1, hasNextPage: true, endCursor: 'eyJsYXN0In0', newestUpdatedAt: '2026-12-02T11:00:00Z', budget: { requested: 777, available: 940, restoreRate: 50 } });
    expect(read.kind === 'page' && read.orders.map((o) => o.id)).toEqual(['shopify:1', 'shopify:2']);
  });

  it('reads THROTTLED (HTTP 200 or 429) as a wait until the bucket holds the query again', () => {
    // (802 − 300) / 50 points per second = 10.04 s.
    expect(readOrdersPage(ok(throttledBody(802, 300)))).toEqual({ kind: 'throttled', retryAfterMs: 10_040 });
    expect(readOrdersPage(ok(throttledBody(802, 300), 429))).toEqual({ kind: 'throttled', retryAfterMs: 10_040 });
    expect(readOrdersPage(ok({ errors: 'Exceeded 2 calls per second for api client.' }, 429, { 'retry-after': '2.0' }))).toEqual({ kind: 'throttled', retryAfterMs: 2_000 });
    expect(refillWaitMs({ requested: 777, available: 940, restoreRate: 50 })).toBeNull();
    expect(refillWaitMs({ requested: 777, available: 100, restoreRate: 50 })).toBe(13_540);
  });

  it('tells errors to retry (5xx) from errors to fix (token, scope)', () => {
    expect(readOrdersPage(ok({ errors: '[API] Invalid API key or access token' }, 401))).toEqual({ kind: 'error', status: 401, code: 'unauthorized', retryable: false });
    expect(readOrdersPage(ok({ errors: [{ message: 'Access denied for orders field.', extensions: { code: 'ACCESS_DENIED' } }] }))).toEqual({ kind: 'error', status: 200, code: 'access_denied', retryable: false });
    expect(readOrdersPage(ok({ errors: 'oops' }, 503))).toMatchObject({ kind: 'error', retryable: true });
    expect(readOrdersPage({ status: 200, headers: {}, body: '<html>' })).toMatchObject({ kind: 'error', code: 'unexpected_answer' });
  });

  it('accepts only a permanent myshopify.com domain as the shop', () => {
    expect(SHOP_DOMAIN.test('acme-store.myshopify.com')).toBe(true);
    for (const bad of ['https://acme.myshopify.com', 'acme.myshopify.com/admin', 'shop.acme.com', 'ACME.myshopify.com', 'acme.myshopify.com.evil.example']) expect(SHOP_DOMAIN.test(bad), bad).toBe(false);
  });
});
