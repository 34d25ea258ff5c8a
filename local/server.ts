/**
 * The local HTTP front door. Webhooks and the Agent API go through the same handlers as in AWS,
 * as API Gateway HTTP API (payload v2) events with the raw body base64-encoded. This server also
 * plays the JWT authoriser (HS256 with AGENT_JWT_SECRET) and serves the /dev endpoints.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import type { Config } from '../functions/runtime/config.js';
import { mintAgentToken, verifyAgentToken } from './agent-auth.js';
import type { VirtualClock } from './clock.js';
import type { Outbox } from './outbox.js';
import type { LocalS3 } from './s3.js';
import type { FeedHub } from './feed-hub.js';
import { encodeFeedCursor } from '../functions/store/triage.js';
import { feedEventView } from '../functions/handlers/agent-api/triage-routes.js';
import { createWebRoutes } from './web.js';
import { NotSettledError } from './settle.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalServerDeps {
  readonly ingest: Handler;
  readonly agentApi: Handler;
  readonly config: Config;
  readonly clock: VirtualClock;
  readonly outbox: Outbox;
  /** Rejects with NotSettledError when not quiet within `timeoutMs` (default 30 s). */
  readonly settle: (timeoutMs?: number) => Promise<unknown>;
  readonly queues: () => unknown;
  readonly s3: LocalS3;
  /** Feed fan-out for `GET /api/v1/events/stream` (absent: the stream answers 404). */
  readonly feedHub?: FeedHub;
  /** The web-chat widget API (`/webchat/session`, `/webchat/messages`); absent: 404. */
  readonly webchatApi?: Handler;
  /** Survey e-mail score links (`GET|POST /survey/{token}`, functions/handlers/survey-link.ts); absent: 404. */
  readonly surveyLink?: Handler;
}

/** Comment line sent to idle event streams (keeps proxies from closing them). */
const SSE_HEARTBEAT_MS = 15_000;

/** Bodies above this are refused unread (every channel's limit is far below it). */
const HARD_BODY_CAP = 1024 * 1024;

const TokenRequest = z.strictObject({ agent: z.string().min(1).max(100), role: z.enum(['agent', 'supervisor', 'admin']).default('agent') });
const ClockRequest = z.strictObject({ advanceSeconds: z.number().nonnegative().max(10 * 365 * 86_400) });
const SettleRequest = z.strictObject({ timeoutSeconds: z.number().positive().max(300).optional() });

export function createLocalServer(deps: LocalServerDeps): Server {
  const agentSecret = deps.config.AGENT_JWT_SECRET!;
  // The web inbox at `/` and the web-chat widget (local/web.ts).
  const web = createWebRoutes({ webchatApi: deps.webchatApi ?? (async () => ({ statusCode: 404 })), toEvent, reply });

  return createServer(async (req, res) => {
    try {
      await route(req, res);
    } catch {
      send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    }
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();

    if (path === '/healthz' || path.startsWith('/webhooks/')) {
      const declared = Number(req.headers['content-length']);
      // Over the hard cap: hand ingest the headers only; it refuses on Content-Length (413).
      const body = Number.isFinite(declared) && declared > HARD_BODY_CAP ? Buffer.alloc(0) : await readBody(req, HARD_BODY_CAP);
      if (body === null) return send(res, 413, { error: { code: 'payload_too_large', message: 'body too large' } });
      return reply(res, await deps.ingest(toEvent(req, url, body)));
    }
    if (path.startsWith('/survey/') && deps.surveyLink) {
      // The same handler as the SurveyLink function behind the webhook API (a small HTML form).
      const body = await readBody(req, 64 * 1024);
      if (body === null) return send(res, 413, { error: { code: 'payload_too_large', message: 'body too large' } });
      return reply(res, await deps.surveyLink(toEvent(req, url, body)));
    }
    if (path === '/api/v1/events/stream' && method === 'GET' && deps.feedHub) return eventStream(req, res, url);
    if (path.startsWith('/api/v1/')) {
      const body = await readBody(req, HARD_BODY_CAP);
      if (body === null) return send(res, 413, { error: { code: 'payload_too_large', message: 'body too large' } });
      const event = toEvent(req, url, body);
      if (path !== '/api/v1/openapi.json') {
        const claims = await verifyAgentToken(agentSecret, req.headers.authorization);
        if (!claims) return send(res, 401, { error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
        (event.requestContext as unknown as { authorizer: unknown }).authorizer = { jwt: { claims, scopes: null } };
      }
      return reply(res, await deps.agentApi(event));
    }
    if (path.startsWith('/dev/')) return dev(req, res, method, path);
    if (await web(req, res, url)) return;
    send(res, 404, { error: { code: 'not_found', message: 'no such route' } });
  }

  /**
   * `GET /api/v1/events/stream` (local only): Server-Sent Events of the change feed, live from the
   * table stream. `Last-Event-ID` (or `?since=`) replays what was missed through `GET /events`
   * first; every event's `id` is a feed cursor, so a reconnect resumes where it stopped.
   */
  async function eventStream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const claims = await verifyAgentToken(agentSecret, req.headers.authorization ?? (url.searchParams.get('access_token') ? `Bearer ${url.searchParams.get('access_token')}` : undefined));
    if (!claims) return send(res, 401, { error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
    // A role claim (dev tokens) or Cognito groups (ID tokens), as the Agent API reads them.
    const roles = [claims.role, ...(Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] : [])].map(String);
    if (!roles.some((r) => ['agent', 'supervisor', 'admin'].includes(r))) return send(res, 403, { error: { code: 'forbidden', message: 'requires role agent' } });
    const since = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('since') ?? undefined;
    const seen = new Set<string>();
    const buffered: Array<Parameters<Parameters<FeedHub['subscribe']>[0]>[0]> = [];
    let live = false;
    const write = (e: { id: string; sk: string } & Parameters<typeof feedEventView>[0]) => {
      if (seen.has(e.id)) return;
      seen.add(e.id);
      if (seen.size > 10_000) seen.clear();
      res.write(`id: ${encodeFeedCursor(e.sk)}\nevent: ${e.type}\ndata: ${JSON.stringify(feedEventView(e))}\n\n`);
    };
    const unsubscribe = deps.feedHub!.subscribe((e) => { if (live) write(e); else buffered.push(e); });
    if (since) {
      // Replay through the API itself (same validation and shapes), then go live.
      const replayUrl = new URL(`/api/v1/events?since=${encodeURIComponent(since)}&limit=500`, url);
      const event = toEvent(req, replayUrl, Buffer.alloc(0));
      (event.requestContext as unknown as { authorizer: unknown }).authorizer = { jwt: { claims, scopes: null } };
      const r = await deps.agentApi(event);
      if (r.statusCode !== 200) { unsubscribe(); return reply(res, r); }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      const items = (JSON.parse(String(r.body)) as { items: Array<{ id: string; type: string; at: string; ticket_id: string | null; customer_id: string | null; data: Record<string, unknown> }> }).items;
      for (const i of items) {
        const at = Date.parse(i.at);
        write({ id: i.id, type: i.type, at, sk: `${String(at).padStart(15, '0')}#${i.id}`, data: i.data, ...(i.ticket_id ? { ticket_id: i.ticket_id } : {}), ...(i.customer_id ? { customer_id: i.customer_id } : {}) });
      }
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
    }
    live = true;
    for (const e of buffered.splice(0)) write(e);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    await new Promise<void>((resolve) => { res.on('close', resolve); req.on('close', resolve); });
    clearInterval(heartbeat);
    unsubscribe();
  }

  async function dev(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    const json = async () => {
      const b = await readBody(req, 64 * 1024);
      if (b === null) return undefined; // over the cap: invalid, not an empty body
      try { return b.length ? JSON.parse(b.toString('utf8')) : {}; } catch { return undefined; }
    };
    const bad = (message: string) => send(res, 400, { error: { code: 'invalid', message } });
    if (path === '/dev/token' && method === 'POST') {
      const r = TokenRequest.safeParse(await json());
      if (!r.success) return bad('expected {"agent": "<id>", "role": "agent|supervisor|admin"}');
      return send(res, 200, { token: await mintAgentToken(agentSecret, r.data.agent, r.data.role, deps.clock.now()) });
    }
    if (path === '/dev/outbox' && method === 'GET') return send(res, 200, { items: deps.outbox.list() });
    if (path === '/dev/outbox' && method === 'DELETE') { deps.outbox.clear(); return send(res, 204, null); }
    if (path === '/dev/clock' && method === 'GET') return send(res, 200, deps.clock.view());
    if (path === '/dev/clock' && method === 'POST') {
      const r = ClockRequest.safeParse(await json());
      if (!r.success) return bad('expected {"advanceSeconds": <non-negative number>}');
      deps.clock.advance(r.data.advanceSeconds * 1000);
      return send(res, 200, deps.clock.view());
    }
    if (path === '/dev/settle' && method === 'POST') {
      const r = SettleRequest.safeParse(await json());
      if (!r.success) return bad('expected no body, {} or {"timeoutSeconds": <seconds, more than 0, at most 300>}');
      try {
        return send(res, 200, await deps.settle(r.data.timeoutSeconds === undefined ? undefined : r.data.timeoutSeconds * 1000));
      } catch (e) {
        // "Not done yet" (retry, or look at what is pending) is not a crash (500).
        if (e instanceof NotSettledError) return send(res, 503, { error: { code: 'not_settled', message: e.message }, pending: e.pending });
        throw e;
      }
    }
    if (path === '/dev/queues' && method === 'GET') return send(res, 200, { items: deps.queues() });
    const s3 = /^\/dev\/s3\/([a-z0-9.-]{3,63})\/(.+)$/.exec(path);
    if (s3 && method === 'PUT') {
      const body = await readBody(req, 50 * 1024 * 1024);
      if (body === null) return send(res, 413, { error: { code: 'payload_too_large', message: 'object too large' } });
      try { deps.s3.put(s3[1]!, decodeURIComponent(s3[2]!), body); } catch { return bad('bad bucket or key'); }
      return send(res, 200, { bucket: s3[1], key: decodeURIComponent(s3[2]!), size: body.length });
    }
    send(res, 404, { error: { code: 'not_found', message: 'no such dev endpoint' } });
  }
}

function toEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const now = Date.now();
  const channel = /^\/webhooks\/([^/]+)\/?$/.exec(url.pathname)?.[1];
  return {
    version: '2.0', routeKey: '$default', rawPath: url.pathname, rawQueryString: url.search.slice(1), headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(channel ? { pathParameters: { channel } } : {}),
    requestContext: {
      accountId: 'local', apiId: 'local', domainName: headers.host ?? 'localhost', domainPrefix: 'local',
      http: { method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(), routeKey: '$default', stage: '$default', time: new Date(now).toISOString(), timeEpoch: now,
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/**
 * The body, or null as soon as it exceeds `cap` (the caller answers 413 at once).
 *
 * Over the cap the rest of the body is drained, not stored, and the connection stays usable for
 * the next keep-alive request. Not `for await … return`: leaving the loop destroys the request
 * stream, and the next request on that connection was never answered (reset seconds later). Not
 * `Connection: close` either: closing a socket while the client is still sending makes the kernel
 * answer with a TCP reset, which can discard the 413 before the client reads it (RFC 9112 §9.6).
 * Draining an endless body is bounded by the server's requestTimeout (Node's default: 300 s).
 */
function readBody(req: IncomingMessage, cap: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) { chunks.push(chunk); return; }
      // Still flowing with no 'data' listener: the rest is read and discarded.
      req.off('data', onData).off('end', onEnd).off('error', reject);
      chunks.length = 0;
      resolve(null);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}

function reply(res: ServerResponse, r: APIGatewayProxyStructuredResultV2): void {
  res.writeHead(r.statusCode ?? 200, r.headers as Record<string, string>);
  res.end(r.body === undefined ? undefined : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) { res.writeHead(status); res.end(); return; }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
