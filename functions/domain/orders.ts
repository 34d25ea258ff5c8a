/**
 * The shop's orders (README "Orders"), pure: the webhook's JSON shape, its signature, and order
 * numbers mentioned in customers' messages.
 *
 * The shop pushes each order as it is placed or changes (`POST /webhooks/orders`), signed with
 * HMAC-SHA256 over the raw body with CONFLUO_ORDERS_WEBHOOK_SECRET, hex in
 * `X-Confluo-Signature: sha256=<hex>` (the scheme Shopify and GitHub webhooks use, so a shop's
 * existing signing code fits). The signature is checked before the body is parsed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';

export const ORDER_STATUSES = ['pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded', 'returned'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const iso = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date-time'));
const money = z.number().check(z.gte(0));

/** An order's facts as Confluo keeps them, whichever way they came (pushed or pulled); times in epoch ms. */
export interface OrderFacts {
  readonly id: string;
  readonly number: string;
  readonly status: OrderStatus;
  readonly items: ReadonlyArray<{ sku?: string; name: string; quantity: number; price?: number }>;
  readonly totals: { currency: string; total: number; subtotal?: number; shipping?: number; tax?: number };
  readonly placed_at: number;
  readonly shipped_at: number | null;
  readonly tracking_url: string | null;
  readonly updated_at: number;
}

/** The documented body of `POST /webhooks/orders`. */
export const OrderWebhookBody = z.strictObject({
  /** The shop's own id of the order (stable; a later push with the same id updates it). */
  id: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/)),
  /** The number the customer sees ("51050", "#51050" is stored as "51050"). */
  number: z.string().check(z.regex(/^#?[0-9A-Za-z-]{1,40}$/)),
  status: z.enum(ORDER_STATUSES),
  items: z.array(z.strictObject({
    sku: z.optional(z.string().check(z.maxLength(100))),
    name: z.string().check(z.minLength(1), z.maxLength(300)),
    quantity: z.int().check(z.positive()),
    price: z.optional(money),
  })).check(z.maxLength(200)),
  totals: z.strictObject({
    currency: z.string().check(z.regex(/^[A-Z]{3}$/)),
    total: money,
    subtotal: z.optional(money),
    shipping: z.optional(money),
    tax: z.optional(money),
  }),
  placed_at: iso,
  shipped_at: z.optional(z.nullable(iso)),
  tracking_url: z.optional(z.nullable(z.url({ protocol: /^https$/ }))),
  customer: z.strictObject({
    email: z.optional(z.email()),
    phone: z.optional(z.string().check(z.maxLength(40))),
  }),
  /** When the shop last changed the order: an older push than the stored one is ignored. Default: placed_at. */
  updated_at: z.optional(iso),
});
export type OrderWebhookBody = z.infer<typeof OrderWebhookBody>;

/** True when `header` is `sha256=<hex>` of the body under `secret` (constant-time compare). */
export function verifyOrderSignature(raw: Buffer, header: string | undefined, secret: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

/** The header value a shop sends for `raw` (documentation and tests). */
export function signOrderBody(raw: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

export const orderNumberOf = (n: string) => n.replace(/^#/, '');

/**
 * Order numbers a message mentions: a word for "order" (en, ru, pl; any inflection) followed by
 * a number of 3+ digits ("order 51050", "order #51050", "order no. 51050", "заказ № 51050",
 * "zamówienie nr 51050"). Bare numbers are not taken (phones, prices, dates), and only numbers
 * of the ticket's own customer's orders are linked (functions/store/orders.ts).
 */
export function orderNumbersIn(text: string): string[] {
  const out = new Set<string>();
  // `\b` is ASCII-only in JavaScript even with /u: letter boundaries are spelled out.
  const re = /(?<![\p{L}\p{N}])(?:orders?|заказ\p{L}*|zamówieni\p{L}*|zamowieni\p{L}*)[\s:.#№-]*(?:(?:no|nr|number|номер)\.?\s*)?[#№]?\s*(\d{3,20})(?!\p{N})/giu;
  for (const m of text.matchAll(re)) out.add(m[1]!);
  return [...out];
}
