/**
 * Per-client rate limits of the anonymous web-chat writes (issue 17 finding 4), against DynamoDB
 * Local: within a window, the N+1-th session (`POST /webchat/session`) and the N+1-th widget
 * message (`POST /webhooks/webchat`) from one client network are answered 429 with Retry-After —
 * nothing minted, nothing enqueued — while another network, the next window and the platforms'
 * webhooks go on. Each counted request costs exactly one DynamoDB round trip; the table never
 * holds the client's address. Last, the local runtime wires the settings as deployed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { makeIngest } from '../../functions/handlers/ingest.js';
import { makeWebchatApi } from '../../functions/handlers/webchat-api.js';
import { clientNetwork, parseRate, windowAt } from '../../functions/domain/rate-limit.js';
import type { Db } from '../../functions/store/db.js';
import { makeRateLimiter, WEBCHAT_MESSAGE_SCOPE, WEBCHAT_SESSION_SCOPE } from '../../functions/store/rate-limit.js';
import type { Enqueue } from '../../functions/runtime/ports.js';
import { freshTable } from '../helpers/ddb.js';
import { sample, testConfig } from '../helpers/pipeline.js';
import { testRuntime } from '../helpers/runtime.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const KEY = TEST_SECRETS.WEBCHAT_SECRET!;
const T0 = Date.UTC(2026, 9, 5, 10, 0, 7); // 7 s into a 10-minute window
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function event(method: string, path: string, sourceIp: string, req: { headers?: Record<string, string>; body?: string } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: `${method} ${path}`, rawPath: path, rawQueryString: '', headers: req.headers ?? {}, body: req.body ?? '', isBase64Encoded: false,
    requestContext: { requestId: `r-${Math.random()}`, http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent: 'test' } },
  } as unknown as APIGatewayProxyEventV2;
}

describe('rate limits of the web-chat writes (DynamoDB Local)', () => {
  let db: Db;
  let now = T0;
  const clock = { now: () => now };
  beforeAll(async () => { ({ db } = await freshTable('rate-limit')); });

  it('reads rates and client networks', () => {
    expect(parseRate('20/10m')).toEqual({ limit: 20, windowMs: 600_000 });
    expect(parseRate('30/1m')).toEqual({ limit: 30, windowMs: 60_000 });
    expect(parseRate('5/30s')).toEqual({ limit: 5, windowMs: 30_000 });
    for (const bad of ['off', '0/1m', '20/0m', '20/25h', '20', '20/10', 'x/1m']) expect(parseRate(bad), bad).toBeNull();
    expect(clientNetwork('203.0.113.77')).toBe('203.0.113.0/24');
    expect(clientNetwork('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(clientNetwork('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(clientNetwork('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(clientNetwork(undefined)).toBe('unknown');
    expect(windowAt(T0, { limit: 1, windowMs: 600_000 })).toEqual({ start: T0 - 7000, retryAfterS: 593 });
    expect(() => testConfig({ CONFLUO_WEBCHAT_SESSION_RATE: 'lots' })).toThrow(/CONFLUO_WEBCHAT_SESSION_RATE/);
    expect(testConfig({ CONFLUO_WEBCHAT_MESSAGE_RATE: 'off' }).CONFLUO_WEBCHAT_MESSAGE_RATE).toBe('off');
  });

  it('answers the N+1-th session from one network within the window 429 with Retry-After, minting nothing; other networks and the next window go on', async () => {
    now = T0;
    const rateLimit = makeRateLimiter(db, { key: KEY, rates: { [WEBCHAT_SESSION_SCOPE]: { limit: 3, windowMs: 600_000 } } });
    const api = makeWebchatApi({ db, clock, config: { WEBCHAT_SECRET: KEY }, logger: quiet, rateLimit });
    const session = async (ip: string) => (await api(event('POST', '/webchat/session', ip, { headers: { origin: 'https://shop.acme.example' } }))) as APIGatewayProxyStructuredResultV2;

    for (const ip of ['203.0.113.7', '203.0.113.8', '203.0.113.250']) {
      const before = db.roundTrips();
      expect((await session(ip)).statusCode).toBe(200);
      expect(db.roundTrips() - before, 'one round trip per session').toBe(1);
    }
    now = T0 + 60_000;
    const refused = await session('203.0.113.9');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'retry-after': String(600 - 7 - 60), 'access-control-allow-origin': 'https://shop.acme.example', 'access-control-expose-headers': 'Retry-After' });
    expect(JSON.parse(refused.body as string)).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(JSON.parse(refused.body as string).token).toBeUndefined();

    expect((await session('198.51.100.1')).statusCode).toBe(200); // another network
    now = T0 - 7000 + 600_000; // the next window
    expect((await session('203.0.113.9')).statusCode).toBe(200);
  });

  it('answers the N+1-th widget message 429 with Retry-After and enqueues nothing; the platforms\' webhooks are never counted', async () => {
    now = Date.UTC(2026, 9, 5, 11, 0, 30);
    const queued: string[] = [];
    const enqueue: Enqueue = async (m) => { queued.push(m.body); };
    const rateLimit = makeRateLimiter(db, { key: KEY, rates: { [WEBCHAT_MESSAGE_SCOPE]: { limit: 2, windowMs: 60_000 } } });
    const ingest = makeIngest({ config: testConfig(), clock, enqueue, logger: quiet, rateLimit });
    const webchat = sample('webchat', '01-anonymous-message').request;
    const post = async (ip: string) => (await ingest(event('POST', '/webhooks/webchat', ip, { headers: webchat.headers, body: webchat.body }))) as APIGatewayProxyStructuredResultV2;

    for (let i = 0; i < 2; i++) {
      const before = db.roundTrips();
      expect((await post('192.0.2.10')).statusCode).toBe(202);
      expect(db.roundTrips() - before, 'one round trip per message').toBe(1);
    }
    const refused = await post('192.0.2.11');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'retry-after': '30', 'access-control-allow-origin': 'https://shop.acme.example' });
    expect(queued).toHaveLength(2);
    expect((await post('192.0.2.200')).statusCode).toBe(429);
    expect((await post('198.51.100.20')).statusCode).toBe(202);

    // Telegram from the same network, many times: never counted, never refused, no round trip.
    const telegram = sample('telegram', '01-text').request;
    const before = db.roundTrips();
    for (let i = 0; i < 5; i++) {
      expect((await ingest(event('POST', '/webhooks/telegram', '192.0.2.10', { headers: telegram.headers, body: telegram.body }))).statusCode).toBe(200);
    }
    expect(db.roundTrips()).toBe(before);
  });

  it('keeps no address in the table: counters are keyed by a keyed hash of the network, and expire', async () => {
    const items = (await db.doc.send(new ScanCommand({ TableName: db.tableName, ConsistentRead: true }))).Items ?? [];
    const counters = items.filter((i) => String(i.pk).startsWith('RATE#'));
    expect(counters.length).toBeGreaterThan(3);
    const text = JSON.stringify(items);
    for (const fragment of ['203.0.113', '198.51.100', '192.0.2']) expect(text).not.toContain(fragment);
    for (const c of counters) expect(c.ttl).toBeGreaterThan(Math.floor(T0 / 1000));
  });
});

describe('rate limits in the local runtime (the template\'s wiring)', () => {
  let rt: Awaited<ReturnType<typeof testRuntime>>;
  beforeAll(async () => { rt = await testRuntime({ CONFLUO_WEBCHAT_SESSION_RATE: '2/10m', CONFLUO_WEBCHAT_MESSAGE_RATE: '1/1m' }); });
  afterAll(async () => { await rt?.stop(); });

  it('limits sessions and widget messages over HTTP as deployed', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${rt.url}/webchat/session`, { method: 'POST' });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    const webchat = sample('webchat', '01-anonymous-message').request;
    const posts = [];
    for (let i = 0; i < 2; i++) posts.push((await rt.api.webhook('webchat', { headers: webchat.headers, body: webchat.body })).status);
    expect(posts).toEqual([202, 429]);
  });
});
