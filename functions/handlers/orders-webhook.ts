/**
 * Orders webhook λ: `POST /webhooks/orders` on the public webhook API (lib/orders-webhook.ts;
 * README "Orders"). The shop pushes an order when it is placed or changes.
 *
 * Trust boundary (SECURITY.md): the body is authenticated before it is parsed — HMAC-SHA256 of
 * the raw bytes with CONFLUO_ORDERS_WEBHOOK_SECRET, `X-Confluo-Signature: sha256=<hex>`,
 * compared in constant time. A missing or wrong signature → 401 and nothing is read or stored;
 * no secret configured → 404 (like a channel without its secret). A signed body that breaks the
 * documented shape → 422. The customer link follows the identity rules: only an e-mail or phone
 * some customer holds VERIFIED links the order (functions/store/orders.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Clock } from '../domain/clock.js';
import { OrderWebhookBody, orderNumberOf, verifyOrderSignature } from '../domain/orders.js';
import { lambdaHandler } from '../runtime/aws-edge.js';
import { jsonResponse, lowerCaseHeaders, rawBody } from '../runtime/http.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Db } from '../store/db.js';
import { storeShopOrder } from '../store/orders.js';

export interface OrdersWebhookDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** CONFLUO_ORDERS_WEBHOOK_SECRET; absent: 404. */
  readonly secret: string | undefined;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export function makeOrdersWebhook(deps: OrdersWebhookDeps) {
  const log = deps.logger ?? defaultLogger;
  const fail = (status: number, code: string, message: string) => jsonResponse(status, { error: { code, message } }, { 'cache-control': 'no-store' });
  return async function ordersWebhook(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    if (!deps.secret) return fail(404, 'not_found', 'no such route');
    if (event.requestContext.http.method.toUpperCase() !== 'POST') return fail(405, 'method_not_allowed', 'method not allowed');
    const raw = rawBody(event);
    if (!verifyOrderSignature(raw, lowerCaseHeaders(event.headers)['x-confluo-signature'], deps.secret)) {
      log.warn('orders webhook: signature refused', { bytes: raw.length });
      return fail(401, 'unauthorized', 'missing or invalid X-Confluo-Signature');
    }
    let json: unknown;
    try { json = JSON.parse(raw.toString('utf8')); } catch { return fail(400, 'malformed', 'body is not valid JSON'); }
    const parsed = OrderWebhookBody.safeParse(json);
    if (!parsed.success) {
      // Paths only: the values may be personal data.
      return fail(422, 'invalid', `body does not match the documented order shape at ${parsed.error.issues.slice(0, 5).map((i) => i.path.join('.') || '(root)').join(', ')}`);
    }
    const o = parsed.data;
    try {
      const { result, linked } = await storeShopOrder(deps.db, {
        id: o.id, number: orderNumberOf(o.number), status: o.status, items: o.items, totals: o.totals,
        placed_at: Date.parse(o.placed_at), shipped_at: o.shipped_at ? Date.parse(o.shipped_at) : null, tracking_url: o.tracking_url ?? null,
        updated_at: Date.parse(o.updated_at ?? o.placed_at), contact: { email: o.customer.email, phone: o.customer.phone },
      }, deps.clock.now());
      log.info('orders webhook: order received', { result, linked });
      return jsonResponse(200, { id: o.id, result, linked }, { 'cache-control': 'no-store' });
    } catch (e) {
      log.error('orders webhook failed', errorFacts(e));
      return fail(500, 'internal', 'internal error');
    }
  };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeOrdersWebhook({ db: platform.db(config), clock: platform.clock, secret: config.CONFLUO_ORDERS_WEBHOOK_SECRET });
});
