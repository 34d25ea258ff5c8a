/**
 * One Lambda execution environment per function: a child `node` process that imports the BUNDLED
 * asset (support/host/bootstrap.mjs) with the function's environment and nothing else of this
 * process, and runs invocations sent over IPC, one at a time, each bounded by the function's
 * Timeout. Like Lambda:
 * - the first invocation (or the first after a crash or timeout) is a cold start: the module is
 *   imported (INIT) before the event is handled; module state survives between invocations;
 * - a thrown error is returned as `{errorType, errorMessage, trace}` and the environment lives on;
 * - a timeout (`Task timed out after N seconds`) or a crash ends the environment: the next
 *   invocation starts a new one.
 * Unlike Lambda there is one environment per function, so concurrent invocations queue instead of
 * scaling out.
 *
 * Platform requests the function makes with `fetch` come back here (support/host/preload.mjs) and
 * are answered by `onFetch` — nothing leaves the machine. The environment's `Date` runs
 * `clockOffsetMs` ahead of real time (the deployment's virtual clock, harness/deployment.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP = fileURLToPath(new URL('./host/bootstrap.mjs', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./host/preload.mjs', import.meta.url));

export interface HostRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}
export interface HostResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
/** Answers a platform request of the function, or throws to make its fetch fail. */
export type FetchAnswer = (request: HostRequest, fn: string) => Promise<HostResponse>;

export interface LambdaHostOptions {
  /** Name shown in errors and logs (the handler file, e.g. `process`). */
  readonly name: string;
  readonly moduleFile: string;
  readonly exportName: string;
  /** The complete environment of the process (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly timeoutSeconds: number;
  readonly functionArn: string;
  readonly onFetch?: FetchAnswer;
  /** Keep this many log lines (stdout and stderr). Default 2,000. */
  readonly logLines?: number;
  /** How far the environment's clock is ahead of real time at each invocation (host/preload.mjs). Default 0. */
  readonly clockOffsetMs?: () => number;
}

export interface InitReport {
  readonly initMs: number;
  readonly handlerType: string;
  readonly node: string;
  readonly sourceMapsEnabled: boolean;
  readonly error: LambdaErrorShape | null;
}

export interface LambdaErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
  readonly cause?: unknown;
}

/** A failed invocation, as Lambda reports it to the caller (function error, timeout, crash). */
export class LambdaInvocationError extends Error {
  override readonly name = 'LambdaInvocationError';
  constructor(readonly fn: string, readonly error: LambdaErrorShape) {
    super(`${fn}: ${error.errorType}: ${error.errorMessage}`, { cause: error });
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout };

export class LambdaHost {
  /** Cold starts so far (INIT phases). */
  coldStarts = 0;
  invocations = 0;
  private child: ChildProcess | undefined;
  private ready: Promise<InitReport> | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lines: string[] = [];
  private stopped = false;

  constructor(readonly opts: LambdaHostOptions) {}

  /** Start the environment (INIT) now instead of on the first invocation. */
  start(): Promise<InitReport> {
    if (this.stopped) return Promise.reject(new Error(`lambda-host ${this.opts.name}: stopped`));
    this.ready ??= this.spawn();
    return this.ready;
  }

  /** Invoke the function with an event; resolves with its result, rejects with LambdaInvocationError. */
  invoke<T = unknown>(event: unknown, opts: { requestId?: string } = {}): Promise<T> {
    const run = this.queue.then(() => this.invokeNow(event, opts.requestId ?? randomUUID()));
    this.queue = run.catch(() => undefined);
    return run as Promise<T>;
  }

  /** Log lines of the environment(s) so far (stdout and stderr, like the function's log group). */
  logs(): readonly string[] {
    return this.lines;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.kill();
  }

  /** End the environment as Lambda does when it recycles one: the next invocation is a cold start. */
  async recycle(): Promise<void> {
    await this.queue;
    await this.kill();
  }

  private async invokeNow(event: unknown, requestId: string): Promise<unknown> {
    const init = await this.start();
    this.invocations += 1;
    if (init.error) throw new LambdaInvocationError(this.opts.name, init.error);
    const child = this.child!;
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // Lambda stops the environment at the timeout; the next invocation is a cold start.
        this.pending.delete(id);
        this.log(`${new Date().toISOString()} ${requestId} Task timed out after ${this.opts.timeoutSeconds.toFixed(2)} seconds`);
        void this.kill();
        reject(new LambdaInvocationError(this.opts.name, { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.opts.timeoutSeconds.toFixed(2)} seconds`, trace: [] }));
      }, this.opts.timeoutSeconds * 1000);
      this.pending.set(id, { resolve, reject, timer });
      child.send({
        type: 'invoke', id, requestId, functionArn: this.opts.functionArn, timeoutMs: this.opts.timeoutSeconds * 1000, event: JSON.stringify(event ?? null),
        clockOffsetMs: this.opts.clockOffsetMs?.() ?? 0,
      });
    });
  }

  private spawn(): Promise<InitReport> {
    this.coldStarts += 1;
    const child = fork(BOOTSTRAP, [this.opts.moduleFile, this.opts.exportName], {
      cwd: this.opts.cwd, env: { ...this.opts.env }, execArgv: ['--import', PRELOAD], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json',
    });
    this.child = child;
    const capture = (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) this.log(l); };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    return new Promise<InitReport>((resolve, reject) => {
      child.on('message', (m: { type: string; id: number } & Record<string, unknown>) => {
        if (m.type === 'ready') resolve(m as unknown as InitReport);
        else if (m.type === 'result') this.settle(m);
        else if (m.type === 'fetch') void this.answerFetch(child, m);
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) { this.child = undefined; this.ready = undefined; }
        const error = { errorType: 'Runtime.ExitError', errorMessage: `RequestId: exited before answering (code ${code}, signal ${signal})`, trace: [] };
        reject(new LambdaInvocationError(this.opts.name, error));
        for (const [id, p] of this.pending) { clearTimeout(p.timer); this.pending.delete(id); p.reject(new LambdaInvocationError(this.opts.name, error)); }
      });
    });
  }

  private settle(m: Record<string, unknown>): void {
    const p = this.pending.get(m.id as number);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(m.id as number);
    if (m.ok) p.resolve(m.payload === null ? null : JSON.parse(m.payload as string));
    else p.reject(new LambdaInvocationError(this.opts.name, m.error as LambdaErrorShape));
  }

  private async answerFetch(child: ChildProcess, m: Record<string, unknown>): Promise<void> {
    const request = m.request as HostRequest;
    try {
      if (!this.opts.onFetch) throw new Error(`no network in the deployment test (${new URL(request.url).host})`);
      const response = await this.opts.onFetch(request, this.opts.name);
      if (child.connected) child.send({ type: 'fetch-result', id: m.id, response });
    } catch (e) {
      if (child.connected) child.send({ type: 'fetch-result', id: m.id, error: (e as Error)?.message ?? String(e) });
    }
  }

  private log(line: string): void {
    this.lines.push(line);
    const max = this.opts.logLines ?? 2000;
    if (this.lines.length > max) this.lines.splice(0, this.lines.length - max);
  }

  private async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }
}
