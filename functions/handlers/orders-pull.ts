/**
 * Orders pull λ: reads the shop's orders from Shopify's GraphQL Admin API on a schedule
 * (lib/orders-pull.ts: an EventBridge rule every few minutes, only when the stack is given the
 * shop; README "Orders" → "Shopify") and stores them through the webhook's path
 * (functions/store/orders.ts `storeShopOrder`): linked by VERIFIED e-mail or phone only, a
 * re-read order stored once, an older state never over a newer one.
 *
 * One run reads at most CONFLUO_SHOPIFY_PAGES_PER_RUN pages (and starts none after 40 s) and records where it stands after
 * every page (the `PULL` item of the shop: sweep start, cursor, newest update seen), so a run cut
 * short — timeout, crash, throttling — is resumed by the next one from the last page it stored.
 * Throttled (or about to be: the bucket holds less than the next page costs) it records until
 * when to wait and stops; runs before then do nothing. Requests are described by
 * functions/domain/shopify.ts and performed through the platform (the local runtime answers them
 * from its simulated shop, local/shopify-simulator.ts).
 *
 * A bad token or a missing `read_orders` scope fails the run (the function's error alarm); a
 * server error or a timeout waits a minute and is retried by a later run. Logs carry counts,
 * never an order's contents.
 */
import type { ScheduledEvent } from 'aws-lambda';
import type { Clock } from '../domain/clock.js';
import { ordersPageRequest, readOrdersPage, readToken, refillWaitMs, tokenRequest } from '../domain/shopify.js';
import { lambdaHandler } from '../runtime/aws.js';
import type { Config } from '../runtime/config.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { Perform, PerformMeta } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { getPullState, putPullState, storeShopOrder, type PullState } from '../store/orders.js';

export type ShopifyCredentials =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'client'; readonly clientId: string; readonly clientSecret: string };

export interface OrdersPullDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly perform: Perform;
  /** CONFLUO_SHOPIFY_SHOP; absent: the run does nothing. */
  readonly shop: string | undefined;
  readonly credentials: ShopifyCredentials | undefined;
  readonly apiVersion: string;
  readonly pagesPerRun: number;
  /**
   * Wall-clock time after which a run starts no further page (the function's timeout is 60 s,
   * lib/orders-pull.ts; Shopify can be slow). Default 40 s.
   */
  readonly runBudgetMs?: number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export interface PullRunResult {
  readonly status: 'not_configured' | 'waiting' | 'continues' | 'caught_up' | 'throttled' | 'retry_later' | 'overtaken';
  readonly pages: number;
  readonly orders: number;
  readonly stored: number;
  readonly stale: number;
  readonly linked: number;
  readonly skipped: number;
  /** Set while throttled or failing: no request before this (ms). */
  readonly wait_until?: number;
}

export class OrdersPullError extends Error {
  override readonly name = 'OrdersPullError';
}

const RUN_BUDGET_MS = 40_000;
/** A server error or timeout: try again after this. */
const RETRY_LATER_MS = 60_000;
/** A cached client-credentials token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

export function makeOrdersPull(deps: OrdersPullDeps) {
  const log = deps.logger ?? defaultLogger;
  let cachedToken: { token: string; expiresAt: number } | undefined;
  const meta = (kind: string): PerformMeta => ({ channel: 'shopify', kind, ticket_id: null });

  async function tokenFor(shop: string, credentials: ShopifyCredentials, now: number): Promise<string> {
    if (credentials.kind === 'token') return credentials.token;
    if (cachedToken && cachedToken.expiresAt - TOKEN_MARGIN_MS > now) return cachedToken.token;
    const answer = readToken(await deps.perform(tokenRequest({ shop, clientId: credentials.clientId, clientSecret: credentials.clientSecret }), meta('token')));
    if (!answer.ok) throw new OrdersPullError('orders-pull: Shopify refused the client credentials grant (app not installed on the shop, or wrong client id/secret)', { cause: { stage: 'token', status: answer.status } });
    cachedToken = { token: answer.token, expiresAt: now + answer.expiresInS * 1000 };
    return answer.token;
  }

  return async function ordersPull(_event?: ScheduledEvent | Record<string, unknown>): Promise<PullRunResult> {
    const counts = { pages: 0, orders: 0, stored: 0, stale: 0, linked: 0, skipped: 0 };
    const { shop, credentials } = deps;
    if (!shop || !credentials) {
      log.warn('orders pull: not configured (CONFLUO_SHOPIFY_SHOP and a token or client credentials)', { shop: shop !== undefined, credentials: credentials !== undefined });
      return { status: 'not_configured', ...counts };
    }
    const now = deps.clock.now();
    let state = await getPullState(deps.db, shop);
    if (state.wait_until > now) return { status: 'waiting', ...counts, wait_until: state.wait_until };
    const token = await tokenFor(shop, credentials, now);
    /** Records `next` after `state`; false when another run moved the state meanwhile. */
    const save = async (next: Omit<PullState, 'rev'>): Promise<boolean> => {
      const saved = await putPullState(deps.db, shop, state, { ...next, last_run_at: now });
      if (saved) state = saved;
      return saved !== null;
    };
    const finish = (status: PullRunResult['status']): PullRunResult => {
      const result = { status, ...counts, ...(state.wait_until > now ? { wait_until: state.wait_until } : {}) };
      log.info('orders pull: run finished', result);
      return result;
    };

    // Real time, not the (locally virtual) clock: this bounds the invocation itself.
    const started = Date.now();
    for (let n = 0; n < deps.pagesPerRun; n++) {
      if (n > 0 && Date.now() - started > (deps.runBudgetMs ?? RUN_BUDGET_MS)) break;
      let res;
      try {
        res = await deps.perform(ordersPageRequest({ shop, apiVersion: deps.apiVersion, token, since: state.since, after: state.cursor }), meta('orders-pull'));
      } catch (e) {
        log.warn('orders pull: Shopify did not answer; a later run retries', errorFacts(e));
        return finish((await save({ ...state, wait_until: now + RETRY_LATER_MS })) ? 'retry_later' : 'overtaken');
      }
      const page = readOrdersPage(res);
      if (page.kind === 'throttled') {
        log.warn('orders pull: throttled by Shopify', { wait_ms: page.retryAfterMs });
        return finish((await save({ ...state, wait_until: now + page.retryAfterMs })) ? 'throttled' : 'overtaken');
      }
      if (page.kind === 'error') {
        if (page.retryable) {
          log.warn('orders pull: Shopify answered an error; a later run retries', { status: page.status, code: page.code });
          return finish((await save({ ...state, wait_until: now + RETRY_LATER_MS })) ? 'retry_later' : 'overtaken');
        }
        throw new OrdersPullError('orders-pull: Shopify refused the orders query (token, read_orders scope or API version)', { cause: { stage: 'orders', status: page.status, code: page.code } });
      }
      // Stored one by one: an order's link and write are idempotent, and a page is 25 orders.
      for (const o of page.orders) {
        const r = await storeShopOrder(deps.db, o, now);
        counts[r.result] += 1;
        if (r.linked) counts.linked += 1;
      }
      counts.pages += 1;
      counts.orders += page.orders.length;
      counts.skipped += page.skipped;
      const newest = laterOf(state.sweep_newest, page.newestUpdatedAt);
      const more = page.hasNextPage && page.endCursor !== null;
      const next: Omit<PullState, 'rev'> = {
        ...state, pages: state.pages + 1, orders: state.orders + page.orders.length, wait_until: 0,
        ...(more ? { cursor: page.endCursor, sweep_newest: newest } : { since: newest ?? state.since, cursor: null, sweep_newest: null }),
      };
      const refill = page.budget ? refillWaitMs(page.budget) : null;
      if (!(await save(refill !== null && more ? { ...next, wait_until: now + refill } : next))) return finish('overtaken');
      if (!more) return finish('caught_up');
      if (refill !== null) return finish('throttled');
    }
    return finish('continues');
  };
}

function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** The credentials the settings give: a stored token, or a Dev Dashboard app's client id and secret. */
export function credentialsOf(config: Config): ShopifyCredentials | undefined {
  if (config.CONFLUO_SHOPIFY_ACCESS_TOKEN) return { kind: 'token', token: config.CONFLUO_SHOPIFY_ACCESS_TOKEN };
  if (config.CONFLUO_SHOPIFY_CLIENT_ID && config.CONFLUO_SHOPIFY_CLIENT_SECRET) return { kind: 'client', clientId: config.CONFLUO_SHOPIFY_CLIENT_ID, clientSecret: config.CONFLUO_SHOPIFY_CLIENT_SECRET };
  return undefined;
}

/** Lambda entry point: the EventBridge schedule of lib/orders-pull.ts invokes it. */
export const handler = lambdaHandler<ScheduledEvent | Record<string, unknown>, PullRunResult>(async (platform) => {
  const config = await platform.settings();
  return makeOrdersPull({
    db: platform.db(config), clock: platform.clock, perform: platform.perform(config),
    shop: config.CONFLUO_SHOPIFY_SHOP, credentials: credentialsOf(config),
    apiVersion: config.CONFLUO_SHOPIFY_API_VERSION!, pagesPerRun: Number(config.CONFLUO_SHOPIFY_PAGES_PER_RUN),
  });
});
