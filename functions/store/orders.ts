/**
 * The shop's orders (README "Orders").
 *
 * | item         | pk                 | sk      | gsi3 (by customer)                         | attributes |
 * |--------------|--------------------|---------|--------------------------------------------|------------|
 * | order        | ORDER#<shop id>    | ORDER   | CUST#<customer> / ORDER#<placed ms>#<id>   | id, number, status, items, totals, placed_at, shipped_at, tracking_url, updated_at, customer_id, erased? |
 * | order number | ORDERNO#<number>   | ORDERNO |                                            | order_id, customer_id |
 * | pull state   | SHOPIFY#<shop>     | PULL    |                                            | since, cursor, sweep_newest, wait_until, rev, last_run_at, pages, orders |
 *
 * An order is linked to the customer holding its e-mail or phone VERIFIED (the VATTR items
 * identities use: functions/store/customers.ts `lookupCustomers`); an unverified or ambiguous
 * match links nothing (`customer_id` null), so an order never lands on the card of someone who
 * merely typed that address. The customer's e-mail and phone are not stored with the order —
 * the link is what the card needs. A later push of the same order links it again (e.g. once the
 * customer has verified the address).
 *
 * Order and number item are written together, conditional on the stored `updated_at` not being
 * newer: webhooks arrive late and twice, and an older push never overwrites a newer state.
 * Orders pulled from Shopify (functions/handlers/orders-pull.ts) take the same path
 * ({@link storeShopOrder}); the pull's watermark is the `PULL` item of its shop, written
 * conditional on the revision it read, so two overlapping runs never both move it.
 *
 * Erasure (functions/store/erasure.ts) anonymises a customer's orders: the link (customer_id and
 * the gsi3 keys), the items and the tracking link go; number, status, totals and dates stay
 * with no person attached (`erased: true`).
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail, normalisePhone } from '../domain/identity.js';
import type { OrderFacts } from '../domain/orders.js';
import type { ShopOrderInput } from '../domain/shopify.js';
import { lookupCustomers } from './customers.js';
import { commitOrConflict, isConditionalCheckFailed, type Db } from './db.js';
import { indexKeys } from './table.js';

export const orderKeys = {
  order: (id: string) => ({ pk: `ORDER#${id}`, sk: 'ORDER' }),
  number: (n: string) => ({ pk: `ORDERNO#${n}`, sk: 'ORDERNO' }),
  customerOrder: (customerId: string, placedMs: number, id: string) => ({ gsi3pk: indexKeys.customerItems(customerId), gsi3sk: `ORDER#${String(placedMs).padStart(15, '0')}#${id}` }),
  pullState: (shop: string) => ({ pk: `SHOPIFY#${shop}`, sk: 'PULL' }),
} as const;

export interface OrderRecord extends OrderFacts {
  readonly received_at: number;
  readonly customer_id: string | null;
}

const strip = (i: Record<string, unknown>): OrderRecord => {
  const { pk: _p, sk: _s, gsi3pk: _g, gsi3sk: _gs, ...rest } = i;
  return rest as unknown as OrderRecord;
};

/** Store an order (newer or equal `updated_at` wins). `stale`: a newer state is already stored. */
export async function putOrder(db: Db, o: OrderRecord): Promise<'stored' | 'stale'> {
  const res = await commitOrConflict(db, [
    {
      Put: {
        TableName: db.tableName,
        Item: { ...orderKeys.order(o.id), ...o, ...(o.customer_id ? orderKeys.customerOrder(o.customer_id, o.placed_at, o.id) : {}) },
        ConditionExpression: 'attribute_not_exists(pk) OR updated_at <= :u',
        ExpressionAttributeValues: { ':u': o.updated_at },
      },
    },
    { Put: { TableName: db.tableName, Item: { ...orderKeys.number(o.number), order_id: o.id, customer_id: o.customer_id } } },
  ]);
  return res === 'committed' ? 'stored' : 'stale';
}

/**
 * Link an order to the customer holding its e-mail (lower-cased) or phone (E.164) VERIFIED and
 * store it — the webhook's and the Shopify pull's one path. Two different customers holding the
 * e-mail and the phone: linked to neither rather than guessed. The contact is not stored.
 */
export async function storeShopOrder(db: Db, o: Omit<ShopOrderInput, 'contact'> & { readonly contact: { readonly email?: string | undefined; readonly phone?: string | undefined } }, now: number): Promise<{ result: 'stored' | 'stale'; linked: boolean }> {
  const email = o.contact.email ? normaliseEmail(o.contact.email) : undefined;
  const phone = o.contact.phone ? normalisePhone(o.contact.phone) : undefined;
  const verified = [...(email ? [{ kind: 'email' as const, value: email }] : []), ...(phone ? [{ kind: 'phone' as const, value: phone }] : [])];
  const owners = verified.length ? await lookupCustomers(db, { identities: [], verified }) : [];
  const customerId = owners.length === 1 ? owners[0]! : null;
  const { contact: _contact, ...order } = o;
  const result = await putOrder(db, { ...order, received_at: now, customer_id: customerId });
  return { result, linked: customerId !== null };
}

/**
 * Where the Shopify pull of one shop stands. A sweep reads every order updated at or after
 * `since`, page after page (`cursor`: the last page's endCursor, null at a sweep's start); when
 * it reaches the last page the next sweep starts from `sweep_newest`.
 */
export interface PullState {
  readonly since: string | null;
  readonly cursor: string | null;
  /** The newest `updatedAt` the current sweep has read (ISO as Shopify wrote it). */
  readonly sweep_newest: string | null;
  /** Throttled or failing: no request before this (ms). */
  readonly wait_until: number;
  readonly last_run_at: number;
  /** Pages and orders read, all runs together (operators' figures). */
  readonly pages: number;
  readonly orders: number;
  /** Bumped by every write; a write expects the revision it read (0: none stored). */
  readonly rev: number;
}

export const NO_PULL_STATE: PullState = { since: null, cursor: null, sweep_newest: null, wait_until: 0, last_run_at: 0, pages: 0, orders: 0, rev: 0 };

export async function getPullState(db: Db, shop: string): Promise<PullState> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: orderKeys.pullState(shop), ConsistentRead: true }));
  if (!res.Item) return NO_PULL_STATE;
  const { pk: _p, sk: _s, ...rest } = res.Item;
  return { ...NO_PULL_STATE, ...rest } as PullState;
}

/** Write `next` as revision `prev.rev + 1` and answer it; null when another run moved the state meanwhile. */
export async function putPullState(db: Db, shop: string, prev: PullState, next: Omit<PullState, 'rev'>): Promise<PullState | null> {
  const written: PullState = { ...next, rev: prev.rev + 1 };
  try {
    await db.doc.send(new PutCommand({
      TableName: db.tableName, Item: { ...orderKeys.pullState(shop), ...written },
      ConditionExpression: prev.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :r',
      ...(prev.rev === 0 ? {} : { ExpressionAttributeValues: { ':r': prev.rev } }),
    }));
    return written;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return null;
    throw e;
  }
}

/** Orders of customers (newest first, at most `limit` per customer). */
export async function customerOrders(db: Db, customerIds: readonly string[], limit = 10): Promise<OrderRecord[]> {
  const pages = await Promise.all(customerIds.map((c) => db.doc.send(new QueryCommand({
    TableName: db.tableName, IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': indexKeys.customerItems(c), ':s': 'ORDER#' }, ScanIndexForward: false, Limit: limit,
  }))));
  return pages.flatMap((p) => (p.Items ?? []).map(strip)).sort((a, b) => b.placed_at - a.placed_at).slice(0, limit);
}

/** Orders by the numbers customers see, as far as they belong to one of `customerIds` (1–2 round trips). */
export async function ordersByNumber(db: Db, numbers: readonly string[], customerIds: ReadonlySet<string>): Promise<Map<string, OrderRecord>> {
  const out = new Map<string, OrderRecord>();
  if (numbers.length === 0) return out;
  const get = async (keyList: Array<{ pk: string; sk: string }>) => {
    const res = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.tableName]: { Keys: keyList.slice(0, 100) } } }));
    return res.Responses?.[db.tableName] ?? [];
  };
  const pointers = (await get([...new Set(numbers)].map((n) => orderKeys.number(n))))
    .filter((p) => typeof p.customer_id === 'string' && customerIds.has(p.customer_id));
  if (pointers.length === 0) return out;
  for (const o of (await get(pointers.map((p) => orderKeys.order(String(p.order_id))))).map(strip)) {
    if (o.customer_id && customerIds.has(o.customer_id)) out.set(o.number, o);
  }
  return out;
}
