/**
 * A fixed-window request counter per client network in the single table (issue 17 finding 4):
 * the public web-chat routes (`POST /webchat/session`, `POST /webhooks/webchat`) take one count
 * each, and a client over its limit is answered 429 with Retry-After before anything is minted or
 * enqueued.
 *
 * Why DynamoDB and not WAF: a WAF rate-based rule cannot be attached to an HTTP API (only to
 * CloudFront, a REST API, an ALB, AppSync, …), and a CloudFront distribution in front of the
 * webhook API would move every platform's webhook behind it too. The table is already there, the
 * rule is testable offline (DynamoDB Local), and it costs one round trip.
 *
 * Why a fixed window and not a token bucket: one conditional `UpdateItem` (`ADD hits :1` if
 * `hits < :limit`) decides and counts at once — 1 round trip, 1 write unit per request. A token
 * bucket needs the last refill time to compute the refill, which an update expression cannot do:
 * read + conditional write, 2 round trips. The price of the fixed window: up to 2 × limit in the
 * two seconds around a window boundary, which is fine for flood control.
 *
 * The client is an HMAC (keyed with the web-chat secret, which every caller holds) of its network,
 * truncated: the table never holds an address, and 2^24 IPv4 networks cannot be tried offline
 * without the key. Items carry a TTL one window past their end (DynamoDB deletes expired items
 * within days; a stale counter only ever names a past window, so it is never read again).
 */
import { createHmac } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { clientNetwork, windowAt, type Rate } from '../domain/rate-limit.js';
import { isConditionalCheckFailed, type Db } from './db.js';
import { keys } from './table.js';

/** Rate-limit scopes of the widget's two public writes. */
export const WEBCHAT_SESSION_SCOPE = 'webchat-session';
export const WEBCHAT_MESSAGE_SCOPE = 'webchat-message';

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterS: number };

export interface RateLimiter {
  /** Count one request of `scope` from `sourceIp` at `now`; one UpdateItem. */
  take(scope: string, sourceIp: string | undefined, now: number): Promise<RateDecision>;
}

/** `rates`: per scope; a scope without a rate (or `off`) is never limited and costs nothing. */
export function makeRateLimiter(db: Db, opts: { readonly key: string; readonly rates: Readonly<Record<string, Rate | null>> }): RateLimiter {
  const client = (sourceIp: string | undefined) => createHmac('sha256', opts.key).update(clientNetwork(sourceIp)).digest('base64url').slice(0, 22);
  return {
    async take(scope, sourceIp, now) {
      const rate = opts.rates[scope];
      if (!rate) return { allowed: true };
      const w = windowAt(now, rate);
      try {
        await db.doc.send(new UpdateCommand({
          TableName: db.tableName, Key: keys.rateCounter(scope, client(sourceIp), w.start),
          UpdateExpression: 'ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)',
          ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':limit': rate.limit, ':ttl': Math.ceil((w.start + 2 * rate.windowMs) / 1000) },
        }));
        return { allowed: true };
      } catch (e) {
        if (isConditionalCheckFailed(e)) return { allowed: false, retryAfterS: w.retryAfterS };
        throw e;
      }
    },
  };
}
