/**
 * A tiny HTTP proxy in front of moto for the SSM API, for fault injection: while armed it answers
 * the settings reads (`GetParameters`, `GetParameter`) the way SSM answers over its rate limit — HTTP 400
 * `{"__type":"ThrottlingException"}` (https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html) —
 * every time, so the SDK's own retries within one invocation are all refused; disarmed it passes
 * everything through. Functions reach SSM only through it (`AWS_ENDPOINT_URL_SSM`).
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { freePort } from '../../../local/dynamodb-local.js';

export interface SsmFaults {
  readonly endpoint: string;
  /** Throttle the settings reads until `disarm()`. */
  arm(): void;
  disarm(): void;
  /** Settings reads refused so far. */
  readonly throttled: number;
  /** Settings reads passed to moto so far. */
  readonly passed: number;
  /** Every settings read so far, throttled or passed: its `X-Amz-Target` and JSON body. */
  readonly reads: ReadonlyArray<{ readonly target: string; readonly body: unknown }>;
  stop(): Promise<void>;
}

/** The calls functions read their settings with (functions/runtime/aws.ts `awsSettings`). */
const READS = new Set(['AmazonSSM.GetParameters', 'AmazonSSM.GetParameter', 'AmazonSSM.GetParametersByPath']);

/**
 * `keepHost`: forward the caller's `Host` header unchanged (it is part of a SigV4 signature, so a
 * moto that checks signatures needs it; tests/deploy/harness/moto-ssm.ts).
 */
export async function startSsmFaults(target: string, opts: { readonly keepHost?: boolean } = {}): Promise<SsmFaults> {
  const port = await freePort();
  const upstream = new URL(target);
  let armed = false;
  let throttled = 0;
  let passed = 0;
  const reads: Array<{ target: string; body: unknown }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isRead = READS.has(String(req.headers['x-amz-target']));
      if (isRead) reads.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') });
      if (isRead && armed) {
        throttled += 1;
        const body = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `throttle-${throttled}`, 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (isRead) passed += 1;
      const fwd = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: opts.keepHost ? req.headers.host : upstream.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arm: () => { armed = true; },
    disarm: () => { armed = false; },
    get throttled() { return throttled; },
    get passed() { return passed; },
    reads,
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
