/**
 * The Shopify orders connector, pure (README "Orders" → "Shopify"): it DESCRIBES the requests of
 * a pull — an access token by the client credentials grant, one page of orders from the GraphQL
 * Admin API — and reads Shopify's answers into the order shape the webhook stores
 * (functions/store/orders.ts). functions/handlers/orders-pull.ts performs them and keeps the
 * watermark; nothing here does I/O.
 *
 * Orders are read `sortKey: UPDATED_AT` with a search `updated_at:>=<since>` and cursor
 * pagination (https://shopify.dev/docs/api/usage/pagination-graphql): within one sweep `since`
 * stays fixed so the cursor stays valid; the next sweep starts from the newest `updatedAt` seen.
 * `>=` re-reads the orders of that very instant — storing them again is harmless (the store keeps
 * the newest `updated_at`), missing one is not.
 *
 * Rate limits are by calculated query cost, a leaky bucket per app and shop
 * (https://shopify.dev/docs/api/usage/limits): every answer carries
 * `extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}`; a query
 * the bucket cannot pay for is refused with `errors[].extensions.code = "THROTTLED"` (HTTP 200 or
 * 429) and no data. The pull then waits for the bucket to refill — `(requested − available) /
 * restoreRate` seconds — and the next run resumes from the same cursor.
 *
 * Shapes were hand-made from the documented objects (Order, LineItem, Fulfillment,
 * FulfillmentTrackingInfo, MoneyBag) and the documented throttled answer; no recorded traffic.
 */
import * as z from 'zod/mini';
import type { PlatformRequest, PlatformResponse } from '../channels/channel.js';
import { ORDER_STATUSES, type OrderFacts, type OrderStatus } from './orders.js';

export { API_VERSION, SHOP_DOMAIN } from './shopify-names.js';

/**
 * Orders per page, line items and fulfillments per order: the query's requested cost is about
 * `first × (1 + lineItems + fulfillments × trackingInfo)` = 25 × (1 + 20 + 5 × 2) ≈ 800 points,
 * under the 1,000-point cap of a single query on every plan, and refilled in ~16 s at the
 * Standard plan's 50 points/s.
 */
export const ORDERS_PAGE_SIZE = 25;
const LINE_ITEMS = 20;
const FULFILLMENTS = 5;

export const ORDERS_QUERY = `query ConfluoOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email phone createdAt processedAt updatedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus returnStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      subtotalPriceSet { shopMoney { amount currencyCode } }
      totalShippingPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      lineItems(first: ${LINE_ITEMS}) { nodes { sku name quantity originalUnitPriceSet { shopMoney { amount currencyCode } } } }
      fulfillments(first: ${FULFILLMENTS}) { createdAt deliveredAt status displayStatus trackingInfo(first: 2) { company number url } }
    }
  }
}`;

export interface ShopifyTarget {
  readonly shop: string;
  readonly apiVersion: string;
}

/**
 * `POST https://{shop}/admin/api/{version}/graphql.json` for one page of orders. Date values in a
 * search must be quoted (https://shopify.dev/docs/api/usage/search-syntax).
 */
export function ordersPageRequest(t: ShopifyTarget & { readonly token: string; readonly since: string | null; readonly after: string | null; readonly first?: number }): PlatformRequest {
  return {
    method: 'POST',
    url: `https://${t.shop}/admin/api/${t.apiVersion}/graphql.json`,
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-shopify-access-token': t.token },
    body: JSON.stringify({
      query: ORDERS_QUERY,
      variables: { first: t.first ?? ORDERS_PAGE_SIZE, after: t.after, query: t.since ? `updated_at:>='${t.since}'` : null },
    }),
  };
}

/**
 * The client credentials grant of an app made in the Dev Dashboard (since 2026 the way to a token
 * for one's own store: https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials-grant).
 * The token it answers lives 24 hours.
 */
export function tokenRequest(t: { readonly shop: string; readonly clientId: string; readonly clientSecret: string }): PlatformRequest {
  return {
    method: 'POST',
    url: `https://${t.shop}/admin/oauth/access_token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.clientId, client_secret: t.clientSecret }).toString(),
  };
}

export type TokenAnswer = { readonly ok: true; readonly token: string; readonly expiresInS: number } | { readonly ok: false; readonly status: number };

export function readToken(res: PlatformResponse): TokenAnswer {
  if (res.status !== 200) return { ok: false, status: res.status };
  const parsed = TokenBody.safeParse(parseJson(res.body));
  if (!parsed.success) return { ok: false, status: res.status };
  return { ok: true, token: parsed.data.access_token, expiresInS: parsed.data.expires_in ?? 86_399 };
}

const TokenBody = z.object({ access_token: z.string().check(z.minLength(1)), expires_in: z.optional(z.number()) });

// ---------------------------------------------------------------------------------------------
// Answers

const Money = z.nullish(z.object({ shopMoney: z.object({ amount: z.string(), currencyCode: z.string() }) }));
/** One `Order` node as the query above selects it (only what the mapping reads is required). */
export const ShopifyOrderNode = z.object({
  id: z.string(),
  name: z.string(),
  email: z.nullish(z.string()),
  phone: z.nullish(z.string()),
  createdAt: z.string(),
  processedAt: z.nullish(z.string()),
  updatedAt: z.string(),
  cancelledAt: z.nullish(z.string()),
  displayFinancialStatus: z.nullish(z.string()),
  displayFulfillmentStatus: z.nullish(z.string()),
  returnStatus: z.nullish(z.string()),
  totalPriceSet: Money,
  subtotalPriceSet: Money,
  totalShippingPriceSet: Money,
  totalTaxSet: Money,
  lineItems: z.nullish(z.object({ nodes: z.array(z.object({ sku: z.nullish(z.string()), name: z.string(), quantity: z.number(), originalUnitPriceSet: Money })) })),
  fulfillments: z.nullish(z.array(z.object({
    createdAt: z.nullish(z.string()), deliveredAt: z.nullish(z.string()), status: z.nullish(z.string()), displayStatus: z.nullish(z.string()),
    trackingInfo: z.nullish(z.array(z.object({ company: z.nullish(z.string()), number: z.nullish(z.string()), url: z.nullish(z.string()) }))),
  }))),
});
export type ShopifyOrderNode = z.infer<typeof ShopifyOrderNode>;
type ShopifyOrder = ShopifyOrderNode;

const Cost = z.object({
  requestedQueryCost: z.nullish(z.number()),
  actualQueryCost: z.nullish(z.number()),
  throttleStatus: z.nullish(z.object({ maximumAvailable: z.number(), currentlyAvailable: z.number(), restoreRate: z.number() })),
});
const GraphqlAnswer = z.object({
  data: z.nullish(z.object({ orders: z.nullish(z.object({ pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.nullish(z.string()) }), nodes: z.array(z.unknown()) })) })),
  errors: z.optional(z.array(z.object({ message: z.optional(z.string()), extensions: z.optional(z.object({ code: z.optional(z.string()) })) }))),
  extensions: z.optional(z.object({ cost: z.optional(Cost) })),
});

/** An order as the store takes it (functions/store/orders.ts `storeShopOrder`). */
export interface ShopOrderInput extends OrderFacts {
  /** Used to find the customer, never stored. */
  readonly contact: { readonly email?: string; readonly phone?: string };
}

export interface Budget {
  /** What the last query cost to ask (the next page asks about as much). */
  readonly requested: number;
  readonly available: number;
  readonly restoreRate: number;
}

export type OrdersPage =
  | {
    readonly kind: 'page';
    readonly orders: ShopOrderInput[];
    /** Orders that could not be read into the order shape (counted, never logged: they hold personal data). */
    readonly skipped: number;
    readonly hasNextPage: boolean;
    readonly endCursor: string | null;
    /** The newest `updatedAt` on the page (ISO, as Shopify wrote it), or null for an empty page. */
    readonly newestUpdatedAt: string | null;
    readonly budget: Budget | null;
  }
  /** The bucket cannot pay for the query: ask again after `retryAfterMs`. Nothing was read. */
  | { readonly kind: 'throttled'; readonly retryAfterMs: number }
  /** Anything else: `retryable` (a 5xx, a timeout-like answer) or not (a bad token, a missing scope). */
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly retryable: boolean };

const MIN_WAIT_MS = 1_000;
/** When Shopify names no figures: one Standard-plan refill of a full page (~800 points at 50/s). */
const DEFAULT_WAIT_MS = 16_000;

/** Reads the answer to {@link ordersPageRequest}. */
export function readOrdersPage(res: PlatformResponse): OrdersPage {
  const json = parseJson(res.body);
  const parsed = GraphqlAnswer.safeParse(json);
  const cost = parsed.success ? parsed.data.extensions?.cost : undefined;
  const throttledCode = parsed.success && (parsed.data.errors ?? []).some((e) => e.extensions?.code === 'THROTTLED');
  if (res.status === 429 || throttledCode) return { kind: 'throttled', retryAfterMs: waitFor(cost, res.headers['retry-after']) };
  if (res.status === 401 || res.status === 403) return { kind: 'error', status: res.status, code: res.status === 401 ? 'unauthorized' : 'forbidden', retryable: false };
  if (res.status >= 500) return { kind: 'error', status: res.status, code: 'server_error', retryable: true };
  if (res.status !== 200 || !parsed.success) return { kind: 'error', status: res.status, code: 'unexpected_answer', retryable: false };
  const errors = parsed.data.errors ?? [];
  const orders = parsed.data.data?.orders;
  if (errors.length > 0 || !orders) {
    // ACCESS_DENIED (the app lacks read_orders), a query the API version no longer knows …
    const code = errors.map((e) => e.extensions?.code).find((c): c is string => typeof c === 'string' && /^[A-Z_]{1,60}$/.test(c)) ?? 'graphql_error';
    return { kind: 'error', status: res.status, code: code.toLowerCase(), retryable: code === 'INTERNAL_SERVER_ERROR' };
  }
  const read: ShopOrderInput[] = [];
  let skipped = 0;
  let newest: string | null = null;
  for (const node of orders.nodes) {
    const o = ShopifyOrderNode.safeParse(node);
    const updated = o.success ? o.data.updatedAt : (node as { updatedAt?: unknown } | null)?.updatedAt;
    if (typeof updated === 'string' && !Number.isNaN(Date.parse(updated)) && (newest === null || Date.parse(updated) > Date.parse(newest))) newest = updated;
    const mapped = o.success ? orderFromShopify(o.data) : null;
    if (mapped) read.push(mapped); else skipped += 1;
  }
  const t = cost?.throttleStatus;
  return {
    kind: 'page', orders: read, skipped, hasNextPage: orders.pageInfo.hasNextPage, endCursor: orders.pageInfo.endCursor ?? null, newestUpdatedAt: newest,
    budget: t && typeof cost?.requestedQueryCost === 'number' ? { requested: cost.requestedQueryCost, available: t.currentlyAvailable, restoreRate: t.restoreRate } : null,
  };
}

/** How long until the bucket holds `requested` again (ms), or null when it holds it now. */
export function refillWaitMs(b: Budget): number | null {
  if (b.available >= b.requested) return null;
  return b.restoreRate > 0 ? Math.max(MIN_WAIT_MS, Math.ceil(((b.requested - b.available) / b.restoreRate) * 1000)) : DEFAULT_WAIT_MS;
}

function waitFor(cost: z.infer<typeof Cost> | undefined, retryAfter: string | undefined): number {
  const t = cost?.throttleStatus;
  if (t && typeof cost?.requestedQueryCost === 'number') {
    const w = refillWaitMs({ requested: cost.requestedQueryCost, available: t.currentlyAvailable, restoreRate: t.restoreRate });
    return w ?? MIN_WAIT_MS;
  }
  const s = Number(retryAfter);
  if (Number.isFinite(s) && s > 0) return Math.min(3_600_000, Math.max(MIN_WAIT_MS, Math.ceil(s * 1000)));
  return DEFAULT_WAIT_MS;
}

// ---------------------------------------------------------------------------------------------
// Mapping

const ORDER_NUMBER = /^#?[0-9A-Za-z-]{1,40}$/;
const money = (m: z.infer<typeof Money>): number | undefined => {
  const n = m ? Number(m.shopMoney.amount) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};
const ms = (s: string | null | undefined): number | null => {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? null : t;
};

/**
 * One Shopify order in the webhook's order shape, or null when it cannot be (no readable number,
 * date or currency). `id` is `shopify:<numeric id>` (the GID's tail), so pulled orders never meet
 * ids a shop pushes itself; `number` is `name` without `#` — what the customer sees and types.
 */
export function orderFromShopify(o: ShopifyOrder): ShopOrderInput | null {
  const gid = /^gid:\/\/shopify\/Order\/(\d{1,20})$/.exec(o.id);
  const name = o.name.trim();
  const placed = ms(o.processedAt) ?? ms(o.createdAt);
  const updated = ms(o.updatedAt);
  const currency = o.totalPriceSet?.shopMoney.currencyCode ?? '';
  const total = money(o.totalPriceSet);
  if (!gid || !ORDER_NUMBER.test(name) || placed === null || updated === null || !/^[A-Z]{3}$/.test(currency) || total === undefined) return null;
  const fulfillments = (o.fulfillments ?? []).filter((f) => f.status !== 'CANCELLED' && f.status !== 'ERROR' && f.status !== 'FAILURE');
  const shipped = fulfillments.map((f) => ms(f.createdAt)).filter((t): t is number => t !== null).sort((a, b) => a - b)[0] ?? null;
  const tracking = fulfillments.flatMap((f) => f.trackingInfo ?? []).map((t) => t.url ?? '').find(isHttpsUrl) ?? null;
  const items = (o.lineItems?.nodes ?? []).filter((i) => Number.isInteger(i.quantity) && i.quantity > 0 && i.name.trim() !== '').slice(0, 200).map((i) => {
    const price = money(i.originalUnitPriceSet);
    return { ...(i.sku ? { sku: i.sku.slice(0, 100) } : {}), name: i.name.slice(0, 300), quantity: i.quantity, ...(price !== undefined ? { price } : {}) };
  });
  const subtotal = money(o.subtotalPriceSet);
  const shipping = money(o.totalShippingPriceSet);
  const tax = money(o.totalTaxSet);
  const email = o.email?.trim();
  const phone = o.phone?.trim();
  return {
    id: `shopify:${gid[1]}`, number: name.replace(/^#/, ''), status: statusOf(o, fulfillments), items,
    totals: { currency, total, ...(subtotal !== undefined ? { subtotal } : {}), ...(shipping !== undefined ? { shipping } : {}), ...(tax !== undefined ? { tax } : {}) },
    placed_at: placed, shipped_at: shipped, tracking_url: tracking, updated_at: updated,
    contact: { ...(email ? { email } : {}), ...(phone ? { phone } : {}) },
  };
}

/**
 * Shopify keeps payment and fulfilment apart (OrderDisplayFinancialStatus,
 * OrderDisplayFulfillmentStatus, OrderReturnStatus); the card shows one word. The later stage wins:
 * cancelled, returned, refunded, delivered, shipped (fulfilled, also in part), processing
 * (with a fulfilment service), paid, pending.
 */
export function statusOf(o: Pick<ShopifyOrder, 'cancelledAt' | 'returnStatus' | 'displayFinancialStatus' | 'displayFulfillmentStatus'>, fulfillments: NonNullable<ShopifyOrder['fulfillments']> = []): OrderStatus {
  const financial = o.displayFinancialStatus ?? '';
  const fulfilment = o.displayFulfillmentStatus ?? '';
  let s: OrderStatus;
  if (o.cancelledAt || financial === 'VOIDED') s = 'cancelled';
  else if (o.returnStatus === 'RETURNED' || o.returnStatus === 'INSPECTION_COMPLETE') s = 'returned';
  else if (financial === 'REFUNDED') s = 'refunded';
  else if (fulfilment === 'FULFILLED' && fulfillments.length > 0 && fulfillments.every((f) => f.displayStatus === 'DELIVERED' || f.displayStatus === 'PICKED_UP' || !!f.deliveredAt)) s = 'delivered';
  else if (fulfilment === 'FULFILLED' || fulfilment === 'PARTIALLY_FULFILLED') s = 'shipped';
  else if (fulfilment === 'IN_PROGRESS' || fulfilment === 'PENDING_FULFILLMENT') s = 'processing';
  else if (['PAID', 'PARTIALLY_PAID', 'PARTIALLY_REFUNDED'].includes(financial)) s = 'paid';
  else s = 'pending';
  return ORDER_STATUSES.includes(s) ? s : 'pending';
}

function isHttpsUrl(s: string): boolean {
  if (s.length > 2000) return false;
  try { return new URL(s).protocol === 'https:'; } catch { return false; }
}

function parseJson(body: string): unknown {
  try { return JSON.parse(body); } catch { return undefined; }
}
