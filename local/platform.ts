/**
 * The local platform (functions/runtime/platform.ts) the runtime invokes the Lambda `handler`
 * exports on: DynamoDB Local for the table, the in-process queues by the URL the template gave
 * the function, the outbox instead of the network and SES, the local Step Functions, the local S3
 * and export directory, and the virtual clock. Performing goes through the same `makePerform` as
 * in Lambda — only its last step (the transport) records instead of calling.
 */
import { tmpdir } from 'node:os';
import type { PlatformRequest, PlatformResponse } from '../functions/channels/channel.js';
import { sesRegion } from '../functions/channels/email/ses.js';
import { requireSetting, type Config } from '../functions/runtime/config.js';
import { makePerform, type Transport } from '../functions/runtime/perform.js';
import { PlatformError, type Platform } from '../functions/runtime/platform.js';
import type { Perform, PerformMeta, StartExecution } from '../functions/runtime/ports.js';
import { fetchSnsCertificate } from '../functions/runtime/sns-certificate.js';
import type { Db } from '../functions/store/db.js';
import type { VirtualClock } from './clock.js';
import { localExportWriter } from './export-writer.js';
import type { Outbox } from './outbox.js';
import { simulateDownload, simulateResponse, simulatedTimeout, type PlatformSimulator } from './platform-simulator.js';
import type { LocalQueue } from './queues.js';
import type { LocalS3 } from './s3.js';
import type { SimulatedShop } from './shopify-simulator.js';
import { localMediaStore, type LocalMediaSigner } from './media-store.js';

/** The runtime's shared stand-ins; every function's platform uses the same ones. */
export interface LocalServices {
  readonly clock: VirtualClock;
  readonly db: Db;
  /** Queues by the URL functions are given (the template's Ref of the queue, resolved locally). */
  readonly queues: ReadonlyMap<string, LocalQueue>;
  readonly outbox: Outbox;
  readonly s3: LocalS3;
  readonly startExecution: StartExecution;
  /** Export bucket name (as the template's Ref resolves locally) → directory of its partitions. */
  readonly exportDirs: ReadonlyMap<string, string>;
  /** Signs the media store's presigned URLs, served by the local server (local/media-store.ts). */
  readonly mediaSigner: LocalMediaSigner;
  /** The media bucket's name (as the template's Ref resolves locally). */
  readonly mediaBucket: string;
  /** Answers armed with `POST /dev/simulator` (rate limits, refusals, timeouts); absent: every request succeeds. */
  readonly simulator?: PlatformSimulator;
  /** The simulated Shopify shop the orders pull reads (local/shopify-simulator.ts). */
  readonly shopify?: SimulatedShop;
}

/**
 * Records every request in the outbox and answers as the platform would on success — or as
 * `simulator` was armed to answer (`POST /dev/simulator`): a platform error, or no answer at all.
 */
export function outboxTransport(outbox: Outbox, clock: VirtualClock, simulator?: PlatformSimulator, shopify?: SimulatedShop): Transport {
  const record = (request: PlatformRequest, meta: PerformMeta, simulated?: { status: number } | { timeout: true }) =>
    outbox.record({ channel: meta.channel, kind: meta.kind, request, ticket_id: meta.ticket_id, at: new Date(clock.now()).toISOString(), ...(simulated ? { simulated } : {}) });
  return {
    async http(request, meta) {
      const armed = simulator?.take(meta.channel);
      record(request, meta, armed ? (armed.kind === 'timeout' ? { timeout: true } : { status: armed.response.status }) : undefined);
      if (armed?.kind === 'timeout') throw simulatedTimeout();
      if (armed) return armed.response;
      // The orders pull reads the simulated shop (its requests are recorded like every other).
      if (meta.channel === 'shopify' && shopify?.serves(request)) return shopify.answer(request);
      return simulateResponse(meta.channel, request);
    },
    async sendRawEmail(raw, _region, meta) {
      const request: PlatformRequest = { method: 'POST', url: 'ses:SendRawEmail', headers: {}, body: raw };
      const armed = simulator?.take('email');
      record(request, meta, armed ? (armed.kind === 'timeout' ? { timeout: true } : { status: armed.response.status }) : undefined);
      if (armed?.kind === 'timeout') throw simulatedTimeout();
      if (armed && armed.response.status !== 200) throw sesServiceError(armed.response);
      return JSON.parse((armed?.response ?? simulateResponse('email', request)).body) as { MessageId?: string };
    },
  };
}

/** An armed SES refusal as the SDK throws it: `name` = the SES error code, `$metadata.httpStatusCode`, `$fault`. */
function sesServiceError(res: PlatformResponse): Error {
  let code = 'MessageRejected';
  try {
    const c = (JSON.parse(res.body) as { Error?: { Code?: unknown } }).Error?.Code;
    if (typeof c === 'string' && c !== '') code = c;
  } catch { /* not JSON: the default code */ }
  return Object.assign(new Error(`simulated SES ${code}`), { name: code, $fault: res.status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: res.status } });
}

/** The platform of one local function: its own settings, the runtime's shared services. */
export function localPlatform(services: LocalServices, settings: () => Config): Platform {
  const transport = outboxTransport(services.outbox, services.clock, services.simulator, services.shopify);
  const performers = new WeakMap<Config, Perform>();
  return {
    name: 'local',
    clock: services.clock,
    settings: async () => settings(),
    db: (config) => {
      if (config.CONFLUO_TABLE_NAME !== services.db.tableName) {
        throw new PlatformError('local platform: the function names another table than the runtime serves', { cause: { table: config.CONFLUO_TABLE_NAME } });
      }
      return services.db;
    },
    queue: (queueUrl) => {
      const queue = services.queues.get(queueUrl);
      if (!queue) throw new PlatformError('local platform: no local queue has this URL (a queue binding the template lacks?)', { cause: { queue_url: queueUrl } });
      return async (msg) => {
        queue.send({ body: msg.body, ...(msg.groupId !== undefined ? { groupId: msg.groupId } : {}), ...(msg.deduplicationId !== undefined ? { deduplicationId: msg.deduplicationId } : {}), ...(msg.attributes ? { attributes: msg.attributes } : {}) });
      };
    },
    queueVisibility: (queueUrl) => {
      const queue = services.queues.get(queueUrl);
      if (!queue) throw new PlatformError('local platform: no local queue has this URL (a queue binding the template lacks?)', { cause: { queue_url: queueUrl } });
      return async (receiptHandle, seconds) => { queue.changeVisibility(receiptHandle, Math.max(0, Math.min(43_200, seconds)) * 1000); };
    },
    perform: (config) => {
      let perform = performers.get(config);
      if (!perform) performers.set(config, (perform = makePerform(transport, { sesRegion: sesRegion(config) })));
      return perform;
    },
    startExecution: services.startExecution,
    readObject: (bucket, key) => services.s3.get(bucket, key),
    exportWriter: (bucket) => {
      const dir = services.exportDirs.get(bucket);
      if (!dir) throw new PlatformError('local platform: no local directory for this export bucket', { cause: { bucket } });
      return localExportWriter(dir);
    },
    scratchDir: tmpdir(),
    // Attachment downloads are answered by the simulated platforms (sample bytes), not recorded.
    download: async (request, { maxBytes }) => {
      const res = simulateDownload(request);
      if (res.bytes.length > maxBytes) return { kind: 'too_large', status: res.status, size: res.bytes.length };
      return { kind: 'bytes', status: res.status, headers: res.headers, bytes: res.bytes };
    },
    media: (config) => {
      const bucket = requireSetting(config, 'CONFLUO_MEDIA_BUCKET', 'media');
      if (bucket !== services.mediaBucket) throw new PlatformError('local platform: the function names another media bucket than the runtime serves', { cause: { bucket } });
      return localMediaStore(bucket, services.s3, services.mediaSigner);
    },
    fetchCertificate: fetchSnsCertificate,
  };
}
