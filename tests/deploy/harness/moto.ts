/**
 * moto's server mode (`moto_server`, Python): one process emulating the AWS APIs the functions
 * call besides DynamoDB — SQS, SSM, SES, S3, Step Functions, SNS — on a free loopback port, for the
 * AWS SDK through `AWS_ENDPOINT_URL_<SERVICE>`. One server per run (started by global-setup.ts,
 * stopped by its pid in the teardown); each deployment empties it first (`reset`).
 *
 * No orphan server, however the test process ends: like local/dynamodb-local.ts, moto runs under
 * a tiny shell that holds our stdin pipe and kills moto by its pid when the pipe closes — which
 * the kernel does when we die.
 *
 * Its account is moto's default (123456789012); `GET /moto-api/data.json` shows its whole state
 * (sent e-mail included), `POST /moto-api/reset` empties it.
 */
import { spawn } from 'node:child_process';
import { freePort } from '../../../local/dynamodb-local.js';

/** The account moto answers as (its default; ARNs of created resources carry it). */
export const MOTO_ACCOUNT = '123456789012';

/** A running moto_server, by its endpoint. */
export class Moto {
  constructor(readonly endpoint: string) {}

  /** `GET /moto-api/data.json`: every emulated service's state (e.g. `ses.RawMessage`). */
  async data(): Promise<Record<string, Record<string, unknown>>> {
    const res = await fetch(`${this.endpoint}/moto-api/data.json`);
    return (await res.json()) as Record<string, Record<string, unknown>>;
  }

  /** `POST /moto-api/reset`: every service emptied, as on a fresh start. */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new MotoError(`moto: reset answered ${res.status}`);
  }
}

export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export class MotoError extends Error {
  override readonly name = 'MotoError';
}

/**
 * `env`: moto's own settings on top of ours, e.g. `INITIAL_NO_AUTH_ACTION_COUNT` (after that many
 * requests moto checks every request's SigV4 signature and IAM policy, as AWS does:
 * https://docs.getmoto.org/en/latest/docs/iam.html).
 */
export async function startMoto(opts: { startTimeoutMs?: number; env?: Readonly<Record<string, string>> } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const guard = '"$@" & pid=$!; trap \'kill $pid 2>/dev/null; exit 0\' TERM INT; cat >/dev/null; kill $pid 2>/dev/null; wait $pid';
  const child = spawn('sh', ['-c', guard, 'moto', 'moto_server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['pipe', 'ignore', 'pipe'], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const killChild = () => { if (!exited) child.stdin?.end(); };
  process.once('exit', killChild);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new MotoError('moto_server exited during start', { cause: { stderr } });
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { killChild(); throw new MotoError('moto_server did not answer in time', { cause: { stderr } }); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    pid: child.pid,
    async stop() {
      process.removeListener('exit', killChild);
      if (exited) return;
      child.stdin?.end();
      const timer = setTimeout(() => { if (!exited) child.kill('SIGTERM'); }, 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
