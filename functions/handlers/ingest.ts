/**
 * Ingest λ: `/webhooks/{channel}` (channels.md §0.1–§0.4). Does the minimum, in this order:
 * route (404/405) → size (413, before reading) → authenticity (401/403) → validity (400) →
 * handshake → enqueue the raw bytes (503 on failure) → 2xx. Never parses business content beyond
 * what the checks need, and a refused request leaves no trace but one log line (channel, status,
 * reason code, request id) and a metric. Its only DynamoDB use is the web-chat rate counter: an
 * admitted widget message counts against its client network's limit (functions/store/rate-limit.ts,
 * one UpdateItem; 429 with Retry-After beyond it) — platforms' webhooks are never counted.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ChannelRequestError, type AdmitPorts, type ChannelIngress, type Secrets } from '../channels/channel.js';
import { buildEnvelope, messageDeduplicationId, messageGroupId } from '../channels/envelope.js';
import { ingressByName } from '../channels/ingress.js';
import type { Clock } from '../domain/clock.js';
import { lambdaHandler } from '../runtime/aws-edge.js';
import type { Enqueue, IngestMetrics } from '../runtime/ports.js';
import { requireSetting, type Config } from '../runtime/config.js';
import { errorResponse, lowerCaseHeaders, rawBody } from '../runtime/http.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import { parseRate } from '../domain/rate-limit.js';
import { makeRateLimiter, WEBCHAT_MESSAGE_SCOPE, type RateLimiter } from '../store/rate-limit.js';

export type { Enqueue, IngestMetrics };

export interface IngestDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly enqueue: Enqueue;
  /** The verify side of a channel by name (default: functions/channels/ingress.ts). */
  readonly channel?: (name: string) => ChannelIngress | undefined;
  readonly ports?: AdmitPorts;
  readonly metrics?: IngestMetrics;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
  /** Counts admitted web-chat messages per client network (scope `webchat-message`). */
  readonly rateLimit?: RateLimiter;
}


const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;

/** A channel is enabled only when all its inbound settings are present (channels.md §0.13). */
export function isEnabled(adapter: Pick<ChannelIngress, 'inboundSecrets'>, config: Secrets): boolean {
  return adapter.inboundSecrets.every((k) => typeof config[k] === 'string' && config[k] !== '');
}

export function makeIngest(deps: IngestDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? ingressByName;
  const secrets = deps.config as unknown as Secrets;

  return async function ingest(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const requestId = event.requestContext.requestId || randomUUID();
    if (path === '/healthz') return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };

    const name = event.pathParameters?.channel ?? WEBHOOK_PATH.exec(path)?.[1];
    const adapter = name ? lookup(name) : undefined;
    const refuse = (status: number, code: Parameters<typeof errorResponse>[1], message: string, reason: string) => {
      log.warn('webhook refused', { channel: adapter?.name ?? 'unknown', status, reason, request_id: requestId });
      deps.metrics?.rejected(adapter?.name ?? 'unknown', reason);
      return errorResponse(status, code, message);
    };
    if (!adapter || !isEnabled(adapter, secrets)) return refuse(404, 'not_found', 'no such channel', 'not_found');
    if (method !== 'POST' && !(adapter.capabilities.extraMethods ?? []).includes(method as 'GET')) {
      return { ...refuse(405, 'method_not_allowed', 'method not allowed', 'method'), headers: { 'content-type': 'application/json', allow: ['POST', ...(adapter.capabilities.extraMethods ?? [])].join(', ') } };
    }

    // Size before anything else; a declared Content-Length over the limit is refused unread.
    const headers = lowerCaseHeaders(event.headers);
    const limit = adapter.capabilities.maxBodyBytes;
    const declared = Number(headers['content-length']);
    if ((Number.isFinite(declared) && declared > limit) || (event.body?.length ?? 0) > limit * 2) {
      deps.metrics?.tooLarge(adapter.name);
      return refuse(413, 'payload_too_large', `body exceeds ${limit} bytes`, 'too_large');
    }
    const body = rawBody(event);
    if (body.length > limit) {
      deps.metrics?.tooLarge(adapter.name);
      return refuse(413, 'payload_too_large', `body exceeds ${limit} bytes`, 'too_large');
    }

    const req = { method, path, headers, query: { ...(event.queryStringParameters ?? {}) } as Record<string, string>, body };
    const now = deps.clock.now();
    let admission;
    try {
      admission = await adapter.admit(req, secrets, now, deps.ports);
    } catch (e) {
      if (e instanceof ChannelRequestError) {
        const stage = (e.cause as { stage?: string } | undefined)?.stage ?? 'admit';
        return refuse(e.status, e.code, e.message, `${e.code}:${stage}`);
      }
      if ((e as { name?: string })?.name === 'CertificateUnavailableError') {
        return refuse(503, 'unavailable', 'certificate temporarily unavailable', 'certificate');
      }
      log.error('webhook admission crashed', { channel: adapter.name, request_id: requestId, ...errorFacts(e) });
      return errorResponse(500, 'internal', 'internal error');
    }
    if (admission.kind === 'handshake') return toResult(admission.reply);

    if (adapter.name === 'webchat' && deps.rateLimit) {
      let decision: Awaited<ReturnType<RateLimiter['take']>> = { allowed: true };
      try {
        decision = await deps.rateLimit.take(WEBCHAT_MESSAGE_SCOPE, event.requestContext.http.sourceIp, now);
      } catch (e) {
        // Fail open: a counter we cannot reach must not take the widget down with it.
        log.warn('rate counter unavailable', { channel: adapter.name, request_id: requestId, ...errorFacts(e) });
      }
      if (!decision.allowed) {
        const refused = refuse(429, 'rate_limited', 'too many messages from this network, try again later', 'rate_limited');
        const cors = Object.fromEntries(Object.entries(admission.reply.headers ?? {}).filter(([k]) => k === 'access-control-allow-origin' || k === 'vary'));
        return { ...refused, headers: { ...refused.headers, ...cors, 'retry-after': String(decision.retryAfterS), 'access-control-expose-headers': 'Retry-After' } };
      }
    }

    const envelope = buildEnvelope(adapter.name, req, admission, now, requestId);
    try {
      await deps.enqueue({
        body: JSON.stringify(envelope),
        groupId: messageGroupId(adapter.name, admission.conversationKey),
        deduplicationId: messageDeduplicationId(adapter.name, body),
      });
    } catch (e) {
      log.error('enqueue failed', { channel: adapter.name, request_id: requestId, ...errorFacts(e) });
      return errorResponse(503, 'unavailable', 'try again later');
    }
    deps.metrics?.accepted(adapter.name);
    return toResult(admission.reply);
  };
}

function toResult(reply: { status: number; headers?: Readonly<Record<string, string>>; body?: string }): APIGatewayProxyStructuredResultV2 {
  return { statusCode: reply.status, headers: { ...(reply.headers ?? {}) }, body: reply.body ?? '' };
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const messageRate = parseRate(config.CONFLUO_WEBCHAT_MESSAGE_RATE ?? 'off');
  return makeIngest({
    ...(config.WEBCHAT_SECRET && messageRate ? { rateLimit: makeRateLimiter(platform.db(config), { key: config.WEBCHAT_SECRET, rates: { [WEBCHAT_MESSAGE_SCOPE]: messageRate } }) } : {}),
    config, clock: platform.clock, enqueue: platform.queue(requireSetting(config, 'CONFLUO_INBOUND_QUEUE_URL', 'ingest')),
    ports: { fetchCertificate: platform.fetchCertificate },
    ...(platform.ingestMetrics ? { metrics: platform.ingestMetrics } : {}),
  });
});
