/**
 * The local HTTP front door. Every route of the template's HTTP APIs — webhooks, the Agent API,
 * the widget's endpoints, survey links — goes through the local API Gateway (local/http-api.ts):
 * the synthesised route table, its JWT authorizer (locally the HS256 dev tokens of
 * AGENT_JWT_SECRET), its CORS configuration and payload-format-2.0 events, invoking the functions'
 * `handler` exports. A path the template does not route answers 404 here as it would deployed.
 *
 * Local only, never deployed: the /dev endpoints, the web inbox and widget pages (CloudFront in
 * AWS), and `GET /api/v1/events/stream` (Server-Sent Events; the deployed inbox polls `/events`).
 *
 * It listens on 127.0.0.1 only, and answers only requests whose `Host` names it — 127.0.0.1,
 * localhost or [::1] on the port the request came in on, or a host listed in
 * CONFLUO_LOCAL_ALLOWED_HOSTS — so a web page cannot reach it through DNS rebinding (a name of the
 * attacker's that resolves to 127.0.0.1 after the page loaded: the browser then sends that name as
 * `Host`, and would otherwise read /dev/outbox or mint /dev/token tokens from the visitor's
 * machine; https://en.wikipedia.org/wiki/DNS_rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { z } from 'zod';
import type { Config } from '../functions/runtime/config.js';
import { mintAgentToken, verifyAgentToken } from './agent-auth.js';
import type { VirtualClock } from './clock.js';
import type { HttpApiGateway, HttpApiRequest, HttpApiResponse } from './http-api.js';
import type { Outbox } from './outbox.js';
import type { LocalS3 } from './s3.js';
import { LOCAL_MEDIA_PATH, type LocalMediaSigner } from './media-store.js';
import type { FeedHub } from './feed-hub.js';
import { encodeFeedCursor } from '../functions/store/triage.js';
import { feedEventView } from '../functions/handlers/agent-api/triage-routes.js';
import { roleOfGroups } from '../functions/handlers/agent-api/router.js';
import { createWebRoutes } from './web.js';
import { NotSettledError } from './settle.js';
import { SimulatorRule, type PlatformSimulator } from './platform-simulator.js';
import { connectSample, SampleRequest } from './connect-samples.js';
import type { SimulatedShop } from './shopify-simulator.js';
import { ShopifyOrderNode } from '../functions/domain/shopify.js';

export interface LocalServerDeps {
  /** The template's HTTP APIs. */
  readonly gateway: Pick<HttpApiGateway, 'route'>;
  /** Invokes a function of the template by logical id (the local Lambda service). */
  readonly invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>;
  readonly config: Config;
  readonly clock: VirtualClock;
  readonly outbox: Outbox;
  /** Rejects with NotSettledError when not quiet within `timeoutMs` (default 30 s). */
  readonly settle: (timeoutMs?: number) => Promise<unknown>;
  readonly queues: () => unknown;
  readonly s3: LocalS3;
  /** Checks the media store's presigned URLs (`/dev/media/…`, the local stand-in for S3's). */
  readonly mediaSigner?: LocalMediaSigner;
  /** Feed fan-out for `GET /api/v1/events/stream` (absent: the stream answers 404). */
  readonly feedHub?: FeedHub;
  /** Platform answers armed with `POST /dev/simulator` (absent: the endpoint answers 404). */
  readonly simulator?: PlatformSimulator;
  /**
   * The simulated Shopify shop and a run of the orders pull function (absent without the pull in
   * the template: `/dev/shopify/*` answers 404).
   */
  readonly shopify?: { readonly shop: SimulatedShop; readonly pull: () => Promise<unknown> };
  /** The phone channel's functions (absent without a Connect instance in the template: the endpoints answer 404). */
  readonly connect?: { readonly lookup: (event: unknown) => Promise<unknown>; readonly events: (event: unknown) => Promise<unknown> };
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
  // The web inbox at `/` and the web-chat widget's script and demo page (local/web.ts).
  const web = createWebRoutes();

  const extraHosts = (deps.config.CONFLUO_LOCAL_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');

  return createServer(async (req, res) => {
    try {
      if (!hostAllowed(req.headers.host, req.socket.localPort, extraHosts)) {
        return send(res, 403, { error: { code: 'host_not_allowed', message: 'this server answers only 127.0.0.1, localhost, [::1] (and CONFLUO_LOCAL_ALLOWED_HOSTS) as Host' } });
      }
      await route(req, res);
    } catch {
      send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    }
  });

  /**
   * The presigned media URLs (local/media-store.ts): `GET /dev/media/{bucket}/{key}?…&sig=` answers
   * the bytes with the signed headers; `POST /dev/media/{bucket}` takes an upload form. Errors
   * are S3's codes, as XML is not needed here: `{error: {code}}`.
   */
  async function media(req: IncomingMessage, res: ServerResponse, method: string, rest: string, query: URLSearchParams, signer: LocalMediaSigner): Promise<void> {
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const refuse = (status: number, code: string) => send(res, status, { error: { code, message: 'refused as S3 would refuse it' } });
    if (method === 'GET' && slash !== -1) {
      let key: string;
      try { key = rest.slice(slash + 1).split('/').map(decodeURIComponent).join('/'); } catch { return refuse(400, 'InvalidURI'); }
      const ok = signer.checkGet(bucket, key, query);
      if (!ok.ok) return refuse(ok.status, ok.code);
      let bytes: Buffer;
      try { bytes = await deps.s3.get(bucket, key); } catch { return refuse(404, 'NoSuchKey'); }
      res.writeHead(200, { 'content-type': ok.value.contentType, 'content-disposition': ok.value.disposition, 'content-length': bytes.length, 'x-content-type-options': 'nosniff', 'cache-control': 'private, max-age=60' });
      res.end(bytes);
      return;
    }
    if (method === 'POST' && slash === -1) {
      const body = await readBody(req, 120 * 1024 * 1024);
      if (body === null) return refuse(400, 'EntityTooLarge');
      let form: FormData;
      try { form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData(); } catch { return refuse(400, 'MalformedPOSTRequest'); }
      let ok;
      try { ok = await signer.checkPost(bucket, form); } catch { return refuse(403, 'AccessDenied: Invalid Policy'); }
      if (!ok.ok) return refuse(ok.status, ok.code);
      try { deps.s3.put(bucket, ok.value.key, ok.value.bytes, ok.value.contentType); } catch { return refuse(400, 'InvalidArgument'); }
      // S3's default success_action_status.
      return send(res, 204, null);
    }
    return refuse(405, 'MethodNotAllowed');
  }


  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();

    if (path === '/api/v1/events/stream' && method === 'GET' && deps.feedHub) return eventStream(req, res, url);
    if (path.startsWith(LOCAL_MEDIA_PATH) && deps.mediaSigner) return media(req, res, method, path.slice(LOCAL_MEDIA_PATH.length), url.searchParams, deps.mediaSigner);
    if (path.startsWith('/dev/')) return dev(req, res, method, path);
    if (await web(req, res, url)) return;
    const declared = Number(req.headers['content-length']);
    // Over the hard cap: a webhook gets the headers only, and ingest refuses it on its declared
    // Content-Length with the channel's own 413; anything else is refused here.
    let body: Buffer | null;
    if (Number.isFinite(declared) && declared > HARD_BODY_CAP) {
      if (!path.startsWith('/webhooks/')) return send(res, 413, { error: { code: 'payload_too_large', message: 'body too large' } });
      body = Buffer.alloc(0);
    } else {
      body = await readBody(req, HARD_BODY_CAP);
      if (body === null) return send(res, 413, { error: { code: 'payload_too_large', message: 'body too large' } });
    }
    return writeResponse(res, await throughGateway(gatewayRequest(req, url, body)));
  }

  /** A request through the local API Gateway: its own answer, or the routed function's result as it maps it. */
  async function throughGateway(request: HttpApiRequest): Promise<HttpApiResponse> {
    const outcome = await deps.gateway.route(request);
    if (outcome.kind === 'respond') return outcome.response;
    try {
      return outcome.respond(await deps.invoke(outcome.functionLogicalId, outcome.event));
    } catch (e) {
      return outcome.fail(e);
    }
  }

  /**
   * `GET /api/v1/events/stream` (local only): Server-Sent Events of the change feed, live from the
   * table stream. `Last-Event-ID` (or `?since=`) replays what was missed through `GET /events`
   * first; every event's `id` is a feed cursor, so a reconnect resumes where it stopped.
   */
  async function eventStream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const bearer = req.headers.authorization ?? (url.searchParams.get('access_token') ? `Bearer ${url.searchParams.get('access_token')}` : undefined);
    const token = /^Bearer\s+(\S+)$/i.exec(bearer ?? '')?.[1] ?? '';
    const claims = await verifyAgentToken(agentSecret, bearer);
    if (!claims) return send(res, 401, { error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
    // Cognito groups, as the Agent API reads them (router.ts callerOf).
    if (roleOfGroups(claims['cognito:groups']) === null) return send(res, 403, { error: { code: 'forbidden', message: 'requires role agent' } });
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
      const query = `since=${encodeURIComponent(since)}&limit=500`;
      const r = await throughGateway({
        method: 'GET', rawPath: '/api/v1/events', rawQueryString: query, body: Buffer.alloc(0), sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        headers: { host: req.headers.host, authorization: `Bearer ${token}` },
      });
      if (r.statusCode !== 200) { unsubscribe(); return writeResponse(res, r); }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      const items = (JSON.parse(r.body.toString('utf8')) as { items: Array<{ id: string; type: string; at: string; ticket_id: string | null; customer_id: string | null; data: Record<string, unknown> }> }).items;
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
    if (path === '/dev/simulator' && deps.simulator) {
      if (method === 'GET') return send(res, 200, { rules: deps.simulator.list() });
      if (method === 'DELETE') { deps.simulator.reset(); return send(res, 204, null); }
      if (method === 'POST') {
        const r = SimulatorRule.safeParse(await json());
        if (!r.success) return bad('expected {"channel": "<channel>", "status": <200-599>, "body": {…} | "…", "headers": {…}, "times": N} or {"channel": "<channel>", "timeout": true, "times": N}');
        deps.simulator.arm(r.data);
        return send(res, 200, { rules: deps.simulator.list() });
      }
    }
    // The Shopify orders pull (issue 19): the simulated shop's orders, and one scheduled run now.
    if (path === '/dev/shopify/orders' && deps.shopify) {
      if (method === 'GET') return send(res, 200, { shop: deps.shopify.shop.shop, orders: deps.shopify.shop.list() });
      if (method === 'DELETE') { deps.shopify.shop.reset(); return send(res, 204, null); }
      if (method === 'POST') {
        const body = (await json()) as { orders?: unknown } | undefined;
        const nodes = Array.isArray(body?.orders) ? body.orders.map((o) => ShopifyOrderNode.safeParse(o)) : [];
        if (nodes.length === 0 || nodes.length > 250 || nodes.some((n) => !n.success)) return bad('expected {"orders": [<Order nodes as the pull\'s query selects them: id gid://shopify/Order/<n>, name, updatedAt, …>]} (1–250)');
        deps.shopify.shop.put(...nodes.map((n) => n.data!));
        return send(res, 200, { orders: deps.shopify.shop.list().length });
      }
    }
    if (path === '/dev/shopify/pull' && method === 'POST' && deps.shopify) return send(res, 200, await deps.shopify.pull());
    // Amazon Connect (issue 16): a flow's lookup and contact events, through the same handler exports.
    if ((path === '/dev/connect/lookup' || path === '/dev/connect/events') && method === 'POST' && deps.connect) {
      const body = await json();
      if (body === undefined || typeof body !== 'object' || body === null) return bad('expected a Connect event (or a list of contact events), or {"sample": "<name>", "contactId", "phone", "at"}');
      const sample = SampleRequest.safeParse(body);
      let event: unknown = body;
      if ('sample' in body) {
        if (!sample.success) return bad('expected {"sample": "<name>", "contactId"?: "…", "phone"?: "+…", "at"?: "<ISO time>", "parameters"?: {…}}');
        try { event = connectSample(sample.data, deps.clock.now()); } catch (e) { return bad((e as Error).message); }
      }
      if (path === '/dev/connect/lookup') return send(res, 200, await deps.connect.lookup(event));
      const events = Array.isArray(event) ? event : [event];
      const results: unknown[] = [];
      for (const e of events) results.push(await deps.connect.events(e));
      return send(res, 200, { results });
    }
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

/**
 * Whether a `Host` header names this server: a loopback name on the port the connection came in
 * on, or a configured host (`name` for any port, `name:port` for that port).
 */
export function hostAllowed(host: string | undefined, port: number | undefined, extra: readonly string[]): boolean {
  if (!host) return false;
  const h = host.trim().toLowerCase();
  if (port !== undefined && ['127.0.0.1', 'localhost', '[::1]'].some((name) => h === `${name}:${port}`)) return true;
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]!;
  return extra.includes(h) || extra.includes(name);
}

/** The request as the local API Gateway takes it: path and query as received, headers as Node keeps them. */
function gatewayRequest(req: IncomingMessage, url: URL, body: Buffer): HttpApiRequest {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    rawPath: (q === -1 ? raw : raw.slice(0, q)) || url.pathname,
    rawQueryString: q === -1 ? '' : raw.slice(q + 1),
    headers: req.headersDistinct as Record<string, string[]>,
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  };
}

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

function writeResponse(res: ServerResponse, r: HttpApiResponse): void {
  res.writeHead(r.statusCode, { ...r.headers, ...(r.cookies.length ? { 'set-cookie': r.cookies } : {}) });
  res.end(r.body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) { res.writeHead(status); res.end(); return; }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
