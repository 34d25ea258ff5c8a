/** Start the local runtime in-process for a test file (shared DynamoDB Local, own table, port 0). */
import { randomUUID } from 'node:crypto';
import { startRuntime, type Runtime } from '../../local/runtime.js';
import { ddbEndpoint } from './ddb.js';
import { TEST_SECRETS } from './samples.js';

/**
 * `announce` (default false): write `$CONFLUO_DATA_DIR/runtime.json` as `npm start` does — only with
 * a CONFLUO_DATA_DIR of the test's own, never into the repository's `.confluo/`.
 */
export async function testRuntime(env: Record<string, string> = {}, opts: { visibilityTimeoutMs?: number; announce?: boolean } = {}): Promise<Runtime & { api: ApiClient }> {
  if (opts.announce && !env.CONFLUO_DATA_DIR) throw new Error('testRuntime: announce needs a CONFLUO_DATA_DIR of the test\'s own');
  const rt = await startRuntime({
    env: { ...TEST_SECRETS, CONFLUO_LOG_LEVEL: 'SILENT', ...env },
    port: 0, inMemory: true, announce: opts.announce ?? false, ddbEndpoint: ddbEndpoint(), tableName: `e2e-${randomUUID().slice(0, 8)}`,
    visibilityTimeoutMs: opts.visibilityTimeoutMs ?? 200, log: () => {},
  });
  return Object.assign(rt, { api: apiClient(rt.url) });
}

export interface ApiClient {
  token(agent?: string, role?: string): Promise<string>;
  get(path: string, token?: string): Promise<{ status: number; body: any }>;
  post(path: string, body: unknown, token?: string): Promise<{ status: number; body: any }>;
  webhook(channel: string, req: { headers: Record<string, string>; body: string | Buffer; method?: string; query?: Record<string, string> }): Promise<{ status: number; body: string; headers: Headers }>;
}

export function apiClient(base: string): ApiClient {
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    token: async (agent = 'agent-1', role = 'agent') => (await call('POST', '/dev/token', { agent, role })).body.token,
    get: (path, token) => call('GET', path, undefined, token),
    post: (path, body, token) => call('POST', path, body, token),
    webhook: async (channel, req) => {
      const qs = req.query && Object.keys(req.query).length ? `?${new URLSearchParams(req.query)}` : '';
      const res = await fetch(`${base}/webhooks/${channel}${qs}`, { method: req.method ?? 'POST', headers: req.headers, ...(req.method === 'GET' ? {} : { body: req.body }) });
      return { status: res.status, body: await res.text(), headers: res.headers };
    },
  };
}

/** An outbox record as `GET /dev/outbox` lists it. */
export interface DevOutboxItem { channel: string; kind: string; ticket_id: string | null; request: { method: string; url: string; headers: Record<string, string>; body: string | null }; at: string }

/**
 * The `/dev` controls tests use around the virtual clock: settle, advance and read the outbox.
 * `POST /dev/settle` answers 200 once everything is quiet and 503 `not_settled` (with the counts
 * still pending in `pending`) when it is not within 30 s (`{"timeoutSeconds": N}` to change that),
 * so a failing `expectOk` here means "still busy", not a crash.
 */
export function devControls(api: ApiClient, expectOk: (status: number) => void) {
  const settle = async () => expectOk((await api.post('/dev/settle', {})).status);
  return {
    settle,
    /** Move the virtual clock forward and wait until everything due has happened. */
    advance: async (seconds: number) => { expectOk((await api.post('/dev/clock', { advanceSeconds: seconds })).status); await settle(); },
    /** The outbox records of one ticket, of one kind if given. */
    outbox: async (ticketId: string, kind?: string) => ((await api.get('/dev/outbox')).body.items as DevOutboxItem[])
      .filter((i) => i.ticket_id === ticketId && (kind === undefined || i.kind === kind)),
  };
}
