/**
 * The platform a handler runs on: where its settings come from and which clients its ports use.
 *
 * Every Lambda entry point is `export const handler = lambdaHandler(async (platform) => make…(…))`.
 * In Lambda the platform is AWS (functions/runtime/aws.ts: settings from the environment and SSM,
 * SDK clients whose endpoints the SDK takes from the environment). The local runtime invokes the
 * very same `handler` exports inside `runOn(localPlatform, …)`: DynamoDB Local, in-process queues,
 * the virtual clock, the outbox. Only clients and endpoints differ; the handler code, its
 * wiring and the events it receives are the ones `cdk deploy` ships.
 *
 * Setup runs once per platform (per execution environment in Lambda), on the first invocation —
 * imports stay free of I/O — and a setup that failed (SSM throttled at a burst of cold starts, a
 * timeout) is not kept: the next invocation tries again instead of failing until the instance is
 * recycled.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';
import type { Config } from './config.js';
import type { ChangeVisibility, DownloadBytes, Enqueue, ExportWriter, IngestMetrics, MediaStore, Perform, ProcessMetrics, StartExecution, VoiceMetrics } from './ports.js';

export interface Platform {
  /** `aws` or `local` (logs and errors only; handlers never branch on it). */
  readonly name: string;
  readonly clock: Clock;
  /** The function's settings: its environment, plus the secrets stored under CONFLUO_SECRETS_PATH. */
  settings(): Promise<Config>;
  /** The single table. */
  db(config: Config): Db;
  /** SendMessage to the queue with this URL (as the template gave it to the function). */
  queue(queueUrl: string): Enqueue;
  /** ChangeMessageVisibility on the queue with this URL (a consumer's backoff). */
  queueVisibility(queueUrl: string): ChangeVisibility;
  /** Performs described platform requests (functions/runtime/perform.ts) with these settings. */
  perform(config: Config): Perform;
  /** StartExecution on a state machine by ARN. */
  startExecution: StartExecution;
  /** The bytes of an object (SES S3-action mail). */
  readObject(bucket: string, key: string): Promise<Buffer>;
  /** The analytics export's partition store in `bucket`, and a scratch directory for DuckDB. */
  exportWriter(bucket: string): ExportWriter;
  readonly scratchDir: string;
  /** The media bucket `CONFLUO_MEDIA_BUCKET` names (attachments; ports.ts `MediaStore`). */
  media(config: Config): MediaStore;
  /** Downloads attachment bytes from a platform (a described GET; ports.ts `DownloadBytes`). */
  readonly download: DownloadBytes;
  /** GET an SNS signing certificate (channels.md §8). */
  fetchCertificate(url: string): Promise<string>;
  /** Webhook counters, where the platform has a metrics sink. */
  readonly ingestMetrics?: IngestMetrics;
  /** Counters of dropped inbound events, where the platform has a metrics sink (locally none). */
  readonly processMetrics?: ProcessMetrics;
  /** Counters of the phone channel, where the platform has a metrics sink (locally none). */
  readonly voiceMetrics?: VoiceMetrics;
}

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
}

const scope = new AsyncLocalStorage<Platform>();
let fallback: (() => Platform) | undefined;

/** The platform used outside `runOn` (in Lambda: AWS). Registered by functions/runtime/aws.ts. */
export function setDefaultPlatform(make: () => Platform): void {
  fallback = make;
}

/** Run `fn` (an invocation of a handler export) on `platform`. */
export function runOn<T>(platform: Platform, fn: () => T): T {
  return scope.run(platform, fn);
}

/** The platform of the current invocation. */
export function currentPlatform(): Platform {
  const p = scope.getStore() ?? fallback?.();
  if (!p) throw new PlatformError('platform: no platform to run on (import functions/runtime/aws.js, or invoke through runOn)');
  return p;
}

/**
 * A Lambda entry point: `build` wires the handler for a platform once; later invocations on
 * that platform reuse it. A failed build is forgotten, so the next invocation retries it.
 */
export function lambdaHandler<E, R>(build: (platform: Platform) => Promise<(event: E) => Promise<R>>): (event: E) => Promise<R> {
  const built = new WeakMap<Platform, Promise<(event: E) => Promise<R>>>();
  return async (event: E): Promise<R> => {
    const platform = currentPlatform();
    let handler = built.get(platform);
    if (!handler) {
      const attempt = build(platform);
      handler = attempt;
      built.set(platform, attempt);
      attempt.catch(() => { if (built.get(platform) === attempt) built.delete(platform); });
    }
    return (await handler)(event);
  };
}
