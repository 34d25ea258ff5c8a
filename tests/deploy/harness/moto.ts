/**
 * moto's server mode (`moto_server`, Python): one process emulating the AWS APIs the functions
 * call besides DynamoDB — SQS, SSM, SES, S3, Step Functions, SNS — on a free loopback port, for the
 * AWS SDK through `AWS_ENDPOINT_URL_<SERVICE>`. Stopped by its pid.
 *
 * Its account is moto's default (123456789012); `GET /moto-api/data.json` shows its whole state
 * (sent e-mail included), `POST /moto-api/reset` empties it.
 */
import { spawn } from 'node:child_process';
import { freePort } from '../../../local/dynamodb-local.js';

/** The account moto answers as (its default; ARNs of created resources carry it). */
export const MOTO_ACCOUNT = '123456789012';

export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number | undefined;
  /** `GET /moto-api/data.json`: every emulated service's state (e.g. `ses.sent_messages`). */
  data(): Promise<Record<string, Record<string, unknown>>>;
  stop(): Promise<void>;
}

export class MotoError extends Error {
  override readonly name = 'MotoError';
}

export async function startMoto(opts: { startTimeoutMs?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new MotoError('moto_server exited during start', { cause: { stderr } });
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { killOnExit(); throw new MotoError('moto_server did not answer in time', { cause: { stderr } }); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    pid: child.pid,
    async data() {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      return (await res.json()) as Record<string, Record<string, unknown>>;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
