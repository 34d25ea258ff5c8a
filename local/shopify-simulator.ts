/**
 * A simulated Shopify shop for the local runtime and tests: it answers the orders pull's requests
 * (functions/domain/shopify.ts) the way the GraphQL Admin API documents them — the access token
 * checked, `orders(first, after, query: "updated_at:>='…'", sortKey: UPDATED_AT)` with opaque
 * cursors and `pageInfo`, `extensions.cost.throttleStatus` on every answer, the client
 * credentials grant. The orders it holds are `Order` nodes in the query's shape, put with
 * `POST /dev/shopify/orders` (or {@link SimulatedShop.put} in tests).
 *
 * Hand-made from the documented shapes (https://shopify.dev/docs/api/admin-graphql/latest/queries/orders,
 * https://shopify.dev/docs/api/usage/limits), not recorded traffic. Throttling is armed like any
 * platform failure (`POST /dev/simulator` with channel `shopify` and {@link throttledBody}).
 */
import type { PlatformRequest, PlatformResponse } from '../functions/channels/channel.js';
import type { ShopifyOrderNode } from '../functions/domain/shopify.js';

export interface SimulatedShopOptions {
  readonly shop: string;
  /** The Admin API access token it accepts. */
  readonly token?: string;
  /** A Dev Dashboard app's credentials it grants 24 h tokens for. */
  readonly client?: { readonly id: string; readonly secret: string };
}

const MAX_AVAILABLE = 1000;
const RESTORE_RATE = 50;

const json = (status: number, body: unknown): PlatformResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The documented answer to a query the bucket cannot pay for: no data, code THROTTLED. */
export function throttledBody(requested = 802, available = 300): Record<string, unknown> {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: { maximumAvailable: MAX_AVAILABLE, currentlyAvailable: available, restoreRate: RESTORE_RATE } } },
  };
}

export class SimulatedShop {
  private readonly orders = new Map<string, ShopifyOrderNode>();
  private readonly granted = new Set<string>();
  /** Points the bucket holds after the next answer (tests set it low to see the pull pause before being throttled). */
  available = MAX_AVAILABLE;
  /** Every request answered, in order (tests look at cursors and search strings). */
  readonly requests: Array<{ readonly url: string; readonly variables?: Record<string, unknown> }> = [];

  constructor(readonly options: SimulatedShopOptions) {}

  get shop(): string { return this.options.shop; }

  /** Add or replace orders (by id). */
  put(...nodes: ShopifyOrderNode[]): void { for (const n of nodes) this.orders.set(n.id, n); }

  list(): ShopifyOrderNode[] { return [...this.orders.values()]; }

  reset(): void { this.orders.clear(); this.requests.length = 0; this.available = MAX_AVAILABLE; }

  /** Whether a request is for this shop (the local transport asks before answering). */
  serves(req: PlatformRequest): boolean {
    try { return new URL(req.url).hostname === this.shop; } catch { return false; }
  }

  answer(req: PlatformRequest): PlatformResponse {
    const url = new URL(req.url);
    if (req.method === 'POST' && url.pathname === '/admin/oauth/access_token') return this.grant(req);
    const graphql = /^\/admin\/api\/20\d\d-\d\d\/graphql\.json$/.test(url.pathname);
    if (req.method !== 'POST' || !graphql) return json(404, { errors: 'Not Found' });
    const token = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'x-shopify-access-token')?.[1];
    if (!token || (token !== this.options.token && !this.granted.has(token))) {
      return json(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    let body: { query?: unknown; variables?: Record<string, unknown> };
    try { body = JSON.parse(req.body ?? '') as typeof body; } catch { return json(400, { errors: 'Bad Request' }); }
    this.requests.push({ url: req.url, ...(body.variables ? { variables: body.variables } : {}) });
    if (typeof body.query !== 'string' || !/\borders\s*\(/.test(body.query)) return json(200, { errors: [{ message: 'this simulated shop answers the orders query only' }] });
    return this.ordersPage(body.variables ?? {});
  }

  private ordersPage(v: Record<string, unknown>): PlatformResponse {
    const first = typeof v.first === 'number' ? Math.min(250, Math.max(1, v.first)) : 50;
    const since = typeof v.query === 'string' ? /^updated_at:>='([^']+)'$/.exec(v.query)?.[1] : undefined;
    const sinceMs = since ? Date.parse(since) : -Infinity;
    const sorted = this.list().filter((o) => Date.parse(o.updatedAt) >= sinceMs)
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt) || a.id.localeCompare(b.id));
    let start = 0;
    if (typeof v.after === 'string') {
      const pos = decodeCursor(v.after);
      if (!pos) return json(200, { errors: [{ message: 'Invalid cursor for current pagination', extensions: { code: 'BAD_REQUEST' } }] });
      start = sorted.findIndex((o) => Date.parse(o.updatedAt) > pos.u || (Date.parse(o.updatedAt) === pos.u && o.id.localeCompare(pos.id) > 0));
      if (start === -1) start = sorted.length;
    }
    const nodes = sorted.slice(start, start + first);
    const last = nodes.at(-1);
    const requested = 2 + first * 31;
    const actual = 2 + nodes.length * 31;
    const answer = {
      data: { orders: { pageInfo: { hasNextPage: start + nodes.length < sorted.length, endCursor: last ? encodeCursor(Date.parse(last.updatedAt), last.id) : null }, nodes } },
      extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: { maximumAvailable: MAX_AVAILABLE, currentlyAvailable: this.available, restoreRate: RESTORE_RATE } } },
    };
    return json(200, answer);
  }

  private grant(req: PlatformRequest): PlatformResponse {
    const f = new URLSearchParams(req.body ?? '');
    const c = this.options.client;
    if (f.get('grant_type') !== 'client_credentials' || !c || f.get('client_id') !== c.id || f.get('client_secret') !== c.secret) {
      return json(400, { error: 'invalid_client', error_description: 'Client credentials are invalid' });
    }
    const token = `shpat_sim${(this.granted.size + 1).toString(16).padStart(28, '0')}`;
    this.granted.add(token);
    return json(200, { access_token: token, scope: 'read_orders', expires_in: 86_399 });
  }
}

// Opaque to the client, as Shopify's are; here the position in the UPDATED_AT order.
const encodeCursor = (u: number, id: string) => Buffer.from(JSON.stringify({ u, id })).toString('base64url');
function decodeCursor(c: string): { u: number; id: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { u?: unknown; id?: unknown };
    return typeof v.u === 'number' && typeof v.id === 'string' ? { u: v.u, id: v.id } : undefined;
  } catch { return undefined; }
}

/** An `Order` node as the pull's query selects it, for tests and `POST /dev/shopify/orders` examples. */
export function shopifyOrderNode(o: {
  readonly id: number; readonly name?: string; readonly email?: string | null; readonly phone?: string | null;
  readonly createdAt?: string; readonly updatedAt: string; readonly financial?: string; readonly fulfillment?: string;
  readonly cancelledAt?: string | null; readonly total?: string; readonly currency?: string;
  readonly items?: ReadonlyArray<{ readonly name: string; readonly quantity: number; readonly sku?: string | null; readonly price?: string }>;
  readonly fulfillments?: ReadonlyArray<{ readonly createdAt: string; readonly status?: string; readonly displayStatus?: string; readonly trackingUrl?: string | null; readonly trackingNumber?: string | null }>;
}): ShopifyOrderNode {
  const currency = o.currency ?? 'EUR';
  const m = (amount: string) => ({ shopMoney: { amount, currencyCode: currency } });
  return {
    id: `gid://shopify/Order/${o.id}`, name: o.name ?? `#${o.id}`, email: o.email ?? null, phone: o.phone ?? null,
    createdAt: o.createdAt ?? o.updatedAt, processedAt: o.createdAt ?? o.updatedAt, updatedAt: o.updatedAt, cancelledAt: o.cancelledAt ?? null,
    displayFinancialStatus: o.financial ?? 'PAID', displayFulfillmentStatus: o.fulfillment ?? 'UNFULFILLED', returnStatus: 'NO_RETURN',
    totalPriceSet: m(o.total ?? '54.90'), subtotalPriceSet: m(o.total ?? '54.90'), totalShippingPriceSet: m('0.00'), totalTaxSet: m('0.00'),
    lineItems: { nodes: (o.items ?? [{ name: 'Blue kettle', quantity: 1, sku: 'KET-BLUE', price: '54.90' }]).map((i) => ({ sku: i.sku ?? null, name: i.name, quantity: i.quantity, originalUnitPriceSet: m(i.price ?? '0.00') })) },
    fulfillments: (o.fulfillments ?? []).map((f) => ({
      createdAt: f.createdAt, deliveredAt: null, status: f.status ?? 'SUCCESS', displayStatus: f.displayStatus ?? 'IN_TRANSIT',
      trackingInfo: f.trackingUrl || f.trackingNumber ? [{ company: 'DHL Express', number: f.trackingNumber ?? null, url: f.trackingUrl ?? null }] : [],
    })),
  };
}
