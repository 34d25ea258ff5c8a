/**
 * The embedded local runtime (`npm start`): DynamoDB Local, in-process SQS-semantics queues, the
 * table stream, a virtual clock, the outbox and an HTTP server — driving the SAME `handler`
 * exports the Lambda bundles export, wired as the synthesised template wires them (local/lambdas.ts:
 * functions and their environments; event source batch sizes and redrive from the template; the
 * state machines from the template). Only clients and endpoints differ (local/platform.ts).
 * Nothing here is bundled into a Lambda.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, TEST_SECRETS, type Config } from '../functions/runtime/config.js';
import { logger } from '../functions/runtime/logger.js';
import { createDb, retentionOf, type Db } from '../functions/store/db.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { LocalLambdas, type LocalLambdasOptions } from './lambdas.js';
import type { LocalServices } from './platform.js';
import { LocalQueue, QueuePoller } from './queues.js';
import { StreamPoller } from './stream-poller.js';
import { VirtualClock } from './clock.js';
import { Outbox } from './outbox.js';
import { PlatformSimulator } from './platform-simulator.js';
import { SimulatedShop } from './shopify-simulator.js';
import { ensureTable } from './table.js';
import { createLocalServer } from './server.js';
import { LocalS3 } from './s3.js';
import { LocalMediaSigner } from './media-store.js';
import { FeedHub } from './feed-hub.js';
import { verifyAgentToken } from './agent-auth.js';
import { HttpApiGateway, loadHttpApis, type HttpApiDefinition } from './http-api.js';
import { beforeDeadline, NotSettledError, type SettleWait } from './settle.js';
import { eventSourceMappingsOf } from './stream-events.js';
import { functionsOf, LOCAL_ACCOUNT, LOCAL_REGION, LOCAL_SHOPIFY_SHOP, synthesizedStack, TemplateError, type ResourceValues, type Template } from './template.js';
import { ASSIGNMENT_MACHINE, LocalWorkflows, localStateMachineArn, SLA_MACHINE, SURVEY_MACHINE, templateStateMachine } from './workflows.js';

export interface RuntimeOptions {
  /** Environment to read settings from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** HTTP port; 0 picks a free one. Default: PORT setting. */
  readonly port?: number;
  /** Start from nothing and keep nothing (`--in-memory`). */
  readonly inMemory?: boolean;
  /**
   * Announce this runtime in `$CONFLUO_DATA_DIR/runtime.json` (default true, in every mode:
   * `npx confluo` finds a running runtime only through it; removed on stop). Tests that start many
   * runtimes in one process pass false so none writes into the repository or over another.
   */
  readonly announce?: boolean;
  /** Reuse a running DynamoDB Local (tests) instead of starting one. */
  readonly ddbEndpoint?: string;
  readonly tableName?: string;
  /** Visibility timeout of the local queues (redelivery delay after a failure). */
  readonly visibilityTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface SettleResult { readonly processed: number; readonly dlq: number; readonly workflows: number }

export interface Runtime {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly dataDir: string | null;
  /** Where this runtime announced itself (`$CONFLUO_DATA_DIR/runtime.json`), or null. */
  readonly runtimeFile: string | null;
  readonly db: Db;
  readonly clock: VirtualClock;
  readonly outbox: Outbox;
  readonly queues: { readonly inbound: LocalQueue; readonly inboundDlq: LocalQueue; readonly outbound: LocalQueue; readonly outboundDlq: LocalQueue; readonly media: LocalQueue; readonly mediaDlq: LocalQueue };
  /** The local S3 stand-in (export and media buckets' objects, SES S3-action mail). */
  readonly s3: LocalS3;
  /** The media bucket's local name. */
  readonly mediaBucket: string;
  readonly ddbEndpoint: string;
  /** The local Step Functions (SLA executions on the virtual clock). */
  readonly workflows: LocalWorkflows;
  /** Invocations and their summed wall time per function handler so far (the benches' Lambda time). */
  lambdaTimes(): ReadonlyMap<string, { readonly invocations: number; readonly ms: number }>;
  settle(timeoutMs?: number): Promise<SettleResult>;
  stop(): Promise<void>;
}

const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
}

export async function startRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const env = opts.env ?? process.env;
  const config = loadConfig(env);
  // One process, one logger: the runtime's configured level wins over the one read at import.
  if (env.CONFLUO_LOG_LEVEL) logger.setLogLevel(env.CONFLUO_LOG_LEVEL as 'INFO');
  const log = opts.log ?? ((l: string) => console.log(l));
  const inMemory = opts.inMemory ?? false;
  const dataDir = inMemory ? null : resolve(config.CONFLUO_DATA_DIR ?? '.confluo');
  const file = (name: string) => (dataDir ? join(dataDir, name) : undefined);
  // An in-memory runtime keeps nothing there but still announces itself there (DESIGN §4), so the
  // CLI never reads the persistent store while an in-memory runtime is what is running.
  const announceDir = opts.announce === false ? null : resolve(config.CONFLUO_DATA_DIR ?? '.confluo');
  if (dataDir) {
    mkdirSync(join(dataDir, 'queues'), { recursive: true });
    mkdirSync(join(dataDir, 's3'), { recursive: true });
    guardSingleInstance(dataDir);
  }
  if (announceDir && announceDir !== dataDir) {
    mkdirSync(announceDir, { recursive: true });
    guardSingleInstance(announceDir);
  }

  let ddb: DynamoDbLocal | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    if (!opts.ddbEndpoint) {
      ddb = await startDynamoDbLocal(dataDir ? { inMemory: false, dataDir: join(dataDir, 'dynamodb') } : { inMemory: true });
      cleanups.push(() => ddb!.stop());
    }
    const ddbEndpoint = opts.ddbEndpoint ?? ddb!.endpoint;
    const tableName = opts.tableName ?? config.CONFLUO_TABLE_NAME;
    const raw = new DynamoDBClient({ endpoint: ddbEndpoint, ...LOCAL_AWS });
    cleanups.push(() => raw.destroy());
    const { streamArn } = await ensureTable(raw, tableName);
    // One client for every function (they share the runtime's settings, retention included).
    const db = createDb(tableName, { endpoint: ddbEndpoint, ...LOCAL_AWS }, retentionOf(config));
    cleanups.push(() => db.doc.destroy());

    // The stack as `cdk deploy` ships it: functions, their environments, event sources, routes, state machines.
    const { template, roles } = await synthesizedStack();
    const clock = new VirtualClock(file('clock.json'));
    const s3 = new LocalS3(dataDir ? join(dataDir, 's3') : undefined);
    const outbox = new Outbox(file('outbox.jsonl'));
    // Platform failures on request (`POST /dev/simulator`); not persisted: a restart answers as on success.
    const simulator = new PlatformSimulator();
    // The Shopify shop the orders pull reads (local/shopify-simulator.ts), under the name the pull
    // is given (the template's, or CONFLUO_SHOPIFY_SHOP): it accepts the token the runtime's
    // settings give (the sample settings' test token by default).
    const shopify = new SimulatedShop({ shop: config.CONFLUO_SHOPIFY_SHOP ?? LOCAL_SHOPIFY_SHOP, token: config.CONFLUO_SHOPIFY_ACCESS_TOKEN ?? TEST_SECRETS.CONFLUO_SHOPIFY_ACCESS_TOKEN!, ...(config.CONFLUO_SHOPIFY_CLIENT_ID && config.CONFLUO_SHOPIFY_CLIENT_SECRET ? { client: { id: config.CONFLUO_SHOPIFY_CLIENT_ID, secret: config.CONFLUO_SHOPIFY_CLIENT_SECRET } } : {}) });
    const visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 2000;
    // Visibility is measured on the virtual clock, like every other time here: a backoff of 30 s
    // (ChangeMessageVisibility) is over once the clock has moved 30 s, by waiting or by POST /dev/clock.
    const queue = (name: string, logicalId: string, dlq?: LocalQueue) => new LocalQueue({
      name, fifo: template.Resources[logicalId]?.Properties?.FifoQueue === true, visibilityTimeoutMs, now: () => clock.now(),
      ...(dlq ? { dlq, maxReceiveCount: maxReceiveCountOf(template, logicalId) } : {}),
      ...(dataDir ? { journalPath: join(dataDir, 'queues', `${name}.jsonl`) } : {}),
    });
    const inboundDlq = queue('inbound-dlq.fifo', roles.inboundDlq);
    const inbound = queue('inbound.fifo', roles.inboundQueue, inboundDlq);
    const outboundDlq = queue('outbound-dlq.fifo', roles.outboundDlq);
    const outbound = queue('outbound.fifo', roles.outboundQueue, outboundDlq);
    // Attachment downloads (issue 14): a standard queue, as in the template.
    const mediaDlq = queue('media-dlq', roles.mediaDlq);
    const mediaQueue = queue('media', roles.mediaQueue, mediaDlq);
    cleanups.push(() => { for (const q of [inbound, inboundDlq, outbound, outboundDlq, mediaQueue, mediaDlq]) q.close(); });
    cleanups.push(clock.onAdvance(() => { for (const q of [inbound, outbound, mediaQueue]) q.recheck(); }));
    const queuesById = new Map<string, LocalQueue>([[roles.inboundQueue, inbound], [roles.inboundDlq, inboundDlq], [roles.outboundQueue, outbound], [roles.outboundDlq, outboundDlq], [roles.mediaQueue, mediaQueue], [roles.mediaDlq, mediaDlq]]);
    const exportBucket = roles.exportBucket.toLowerCase();
    const mediaBucket = roles.mediaBucket.toLowerCase();
    // Presigned media URLs name this runtime's URL, known once the server listens (below).
    let baseUrl = '';
    const mediaSigner = new LocalMediaSigner(clock, () => baseUrl);
    const exportDir = join(dataDir ?? resolve(config.CONFLUO_DATA_DIR ?? '.confluo'), 'export');

    const onError = (e: unknown) => log(`[confluo] background error: ${(e as Error)?.name ?? 'Error'}`);
    // Late-bound: the functions' environment names this runtime's own URL (the webhook API's),
    // known once the server listens; nothing is invoked before that.
    let lambdas: LocalLambdas | undefined;
    const workflows = new LocalWorkflows({
      clock,
      machines: [
        await templateStateMachine(template, roles.slaStateMachine, SLA_MACHINE, (id, payload) => lambdas!.invoke(id, payload)),
        await templateStateMachine(template, roles.surveyStateMachine, SURVEY_MACHINE, (id, payload) => lambdas!.invoke(id, payload)),
        await templateStateMachine(template, roles.assignmentStateMachine, ASSIGNMENT_MACHINE, (id, payload) => lambdas!.invoke(id, payload)),
      ],
      ...(file('workflows.json') ? { file: file('workflows.json')! } : {}),
      onError,
    });
    cleanups.push(() => workflows.stop());
    const services: LocalServices = {
      clock, db, outbox, s3,
      queues: new Map([...queuesById.values()].map((q) => [q.url, q])),
      startExecution: async (arn, name, input) => { await workflows.startExecutionByArn(arn, name, input); },
      exportDirs: new Map([[exportBucket, exportDir]]),
      mediaSigner, mediaBucket,
      simulator, shopify,
    };
    // `GET /api/v1/events/stream` (Server-Sent Events): every feed item the stream delivers, pushed
    // after dispatch saw it (commit order — no gap for late-stamped events).
    const feedHub = new FeedHub();
    // The event source mappings of the template: which function consumes each queue and the
    // table stream, with the mapping's batch size and filter.
    const mappings = eventSourceMappingsOf(template);
    const consumerOf = (queueId: string) => {
      const m = mappings.queues.find((q) => q.queueLogicalId === queueId);
      if (!m) throw new TemplateError(`local runtime: no event source mapping consumes queue ${queueId}`);
      return m;
    };
    const streamMapping = mappings.streams.find((m) => m.tableLogicalId === roles.table);
    if (!streamMapping) throw new TemplateError('local runtime: no event source mapping reads the table stream');
    const invokeFunction = (id: string) => async (event: unknown) => {
      if (!lambdas) throw new RuntimeError('runtime: not started yet');
      return lambdas.invoke(id, event);
    };
    const inboundMapping = consumerOf(roles.inboundQueue);
    const outboundMapping = consumerOf(roles.outboundQueue);
    const inboundPoller = new QueuePoller(inbound, invokeFunction(inboundMapping.functionLogicalId) as never, { batchSize: inboundMapping.batchSize, concurrency: 2, onError });
    const outboundPoller = new QueuePoller(outbound, invokeFunction(outboundMapping.functionLogicalId) as never, { batchSize: outboundMapping.batchSize, concurrency: 1, onError });
    const mediaMapping = consumerOf(roles.mediaQueue);
    const mediaPoller = new QueuePoller(mediaQueue, invokeFunction(mediaMapping.functionLogicalId) as never, { batchSize: mediaMapping.batchSize, concurrency: 1, onError });
    const streams = new DynamoDBStreamsClient({ endpoint: ddbEndpoint, ...LOCAL_AWS });
    cleanups.push(() => streams.destroy());
    const dispatch = invokeFunction(streamMapping.functionLogicalId) as (e: import('aws-lambda').DynamoDBStreamEvent) => Promise<import('aws-lambda').DynamoDBBatchResponse>;
    const streamPoller = new StreamPoller({
      client: streams, streamArn, handler: feedHub.tap(dispatch), filterPatterns: streamMapping.filterPatterns, awsRegion: LOCAL_REGION,
      ...(file('stream.json') ? { checkpointFile: file('stream.json')! } : {}), onError,
    });
    cleanups.push(async () => { await Promise.all([inboundPoller.stop(), outboundPoller.stop(), mediaPoller.stop(), streamPoller.stop()]); });

    /** Throws NotSettledError (local/settle.ts; `POST /dev/settle` answers it 503) when not quiet by the deadline. */
    async function settle(timeoutMs = 30_000): Promise<SettleResult> {
      const deadline = Date.now() + timeoutMs;
      const before = { processed: inboundPoller.processed + outboundPoller.processed + mediaPoller.processed, dlq: inboundDlq.stats().depth + outboundDlq.stats().depth + mediaDlq.stats().depth, steps: workflows.steps };
      let waitingFor: SettleWait = 'a quiet pass';
      let dispatchedTotal = 0;
      const notSettled = () => {
        const w = workflows.stats();
        return new NotSettledError(`settle: the system did not become quiet within ${timeoutMs / 1000} s (waiting for: ${waitingFor})`, {
          waitingFor, queues: [inbound.stats(), outbound.stats(), mediaQueue.stats()], stream: { dispatched: dispatchedTotal },
          workflows: { due: workflows.dueCount(), running: w.running, parked: w.waiting, steps: workflows.steps - before.steps },
        });
      };
      // Every wait races the time left: one wait can outlast any deadline (a message held in
      // flight until its visibility timeout, a batch that hangs), and a deadline checked only
      // between passes let a call answer after 54 s.
      const wait = <T>(what: SettleWait, p: Promise<T>): Promise<T> => { waitingFor = what; return beforeDeadline(p, deadline, notSettled); };
      // Quiet = one full pass in which no queue had work, the stream had nothing new and no
      // workflow step ran or is due (a Wait parked in the virtual future is not due).
      for (;;) {
        waitingFor = 'a quiet pass';
        if (Date.now() > deadline) throw notSettled();
        await wait('inbound queue', inboundPoller.whenIdle());
        const dispatched = await wait('table stream', streamPoller.drain());
        dispatchedTotal += dispatched;
        await wait('outbound queue', outboundPoller.whenIdle());
        await wait('media queue', mediaPoller.whenIdle());
        const steps = workflows.steps;
        await wait('workflows', workflows.whenIdle());
        const again = await wait('table stream', streamPoller.drain());
        dispatchedTotal += again;
        if (dispatched === 0 && again === 0 && workflows.steps === steps && inboundPoller.idle() && outboundPoller.idle() && mediaPoller.idle() && workflows.idle()) break;
      }
      return {
        processed: inboundPoller.processed + outboundPoller.processed + mediaPoller.processed - before.processed,
        dlq: inboundDlq.stats().depth + outboundDlq.stats().depth + mediaDlq.stats().depth - before.dlq,
        workflows: workflows.steps - before.steps,
      };
    }

    // The template's HTTP APIs, served on this one origin; built once the origin is known.
    let gateway: HttpApiGateway | undefined;
    const server = createLocalServer({
      gateway: { route: (request) => (gateway ? gateway.route(request) : Promise.reject(new RuntimeError('runtime: not started yet'))) },
      invoke: (id, event) => (lambdas ? lambdas.invoke(id, event) : Promise.reject(new RuntimeError('runtime: not started yet'))),
      config, clock, outbox, settle, feedHub, simulator,
      queues: () => ([[inbound, inboundDlq], [outbound, outboundDlq], [mediaQueue, mediaDlq]] as const).map(([q, dlq]) => ({ ...q.stats(), dlqEntries: dlq.dlqEntries().map((d) => ({ messageId: d.messageId, reason: d.reason, receiveCount: d.receiveCount })) })),
      s3, mediaSigner,
      ...(hasHandler(template, 'orders-pull') ? {
        shopify: {
          shop: shopify,
          // What the EventBridge schedule sends (a Scheduled Event), on demand.
          pull: () => (lambdas ? lambdas.invoke(lambdas.idOf('orders-pull'), scheduledEvent(clock.now())) : Promise.reject(new RuntimeError('runtime: not started yet'))),
        },
      } : {}),
      // The phone channel's functions, when the template has them (local/template.ts synthesises a placeholder Connect instance).
      ...(hasHandler(template, 'voice-lookup') ? {
        connect: {
          lookup: (event: unknown) => (lambdas ? lambdas.invoke(lambdas.idOf('voice-lookup'), event) : Promise.reject(new RuntimeError('runtime: not started yet'))),
          events: (event: unknown) => (lambdas ? lambdas.invoke(lambdas.idOf('voice-events'), event) : Promise.reject(new RuntimeError('runtime: not started yet'))),
        },
      } : {}),
    });
    const port = opts.port ?? Number(config.PORT);
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, '127.0.0.1', () => res()); });
    const actualPort = (server.address() as AddressInfo).port;
    cleanups.push(() => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }));
    const url = `http://127.0.0.1:${actualPort}`;
    baseUrl = url;
    lambdas = new LocalLambdas({
      template, env, services,
      values: localValues({ tableName, streamArn, queues: queuesById, buckets: [exportBucket, mediaBucket], apiUrl: `${url}/` }),
      defaults: LOCAL_DEFAULTS,
    } satisfies LocalLambdasOptions);
    await lambdas.warm();
    gateway = new HttpApiGateway(localOrigins(loadHttpApis(template), url), {
      now: () => clock.now(),
      // Locally the agents' tokens are the HS256 dev tokens of POST /dev/token (AGENT_JWT_SECRET),
      // whatever issuer and audience the template's Cognito authorizer names.
      verifyJwt: (token) => verifyAgentToken(config.AGENT_JWT_SECRET!, `Bearer ${token}`),
    });
    inboundPoller.start();
    outboundPoller.start();
    mediaPoller.start();
    streamPoller.start();
    const runtimeFile = announceDir ? join(announceDir, 'runtime.json') : null;
    if (runtimeFile) {
      // Written whole then renamed, so the CLI never reads half a file.
      writeFileSync(`${runtimeFile}.${process.pid}.tmp`, JSON.stringify({ pid: process.pid, port: actualPort, url, ddb_endpoint: ddbEndpoint, table: tableName, in_memory: inMemory }));
      renameSync(`${runtimeFile}.${process.pid}.tmp`, runtimeFile);
      cleanups.push(() => rmSync(runtimeFile, { force: true }));
    }

    let stopping: Promise<void> | undefined;
    return {
      url, port: actualPort, config, dataDir, runtimeFile, db, clock, outbox, ddbEndpoint, workflows, s3, mediaBucket,
      lambdaTimes: () => lambdas!.times,
      queues: { inbound, inboundDlq, outbound, outboundDlq, media: mediaQueue, mediaDlq },
      settle,
      stop: () => (stopping ??= runCleanups(cleanups)),
    };
  } catch (e) {
    await runCleanups(cleanups);
    throw e;
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const c of [...cleanups].reverse()) {
    try { await c(); } catch { /* keep stopping the rest */ }
  }
}

/**
 * Two runtimes on one data directory would corrupt it, and two announcing in one directory would
 * leave the CLI guessing: refuse while another one is alive.
 */
function guardSingleInstance(dataDir: string): void {
  const f = join(dataDir, 'runtime.json');
  if (!existsSync(f)) return;
  try {
    const { pid } = JSON.parse(readFileSync(f, 'utf8')) as { pid: number };
    if (pid && pid !== process.pid) {
      process.kill(pid, 0); // throws when no such process
      throw new RuntimeError(`another Confluo runtime (pid ${pid}) is using ${dataDir}`);
    }
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    // stale runtime.json from a crashed run: take over
  }
}

/** Settings a local function gets when neither the template nor the environment sets them: alerts land in the outbox with a sender and a recipient. */
const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  ESCALATION_EMAIL: 'escalations@confluo.localhost',
  EMAIL_FROM: 'confluo@confluo.localhost',
};

/**
 * How the template's references read in the local runtime: the table it serves, its queues'
 * URLs and ARNs, local state machine ARNs, the export and media buckets, and — for any HTTP API — this
 * runtime's own URL (every route of every API is served by the one local server).
 */
function localValues(local: { tableName: string; streamArn: string; queues: ReadonlyMap<string, LocalQueue>; buckets: readonly string[]; apiUrl: string }): ResourceValues {
  const unknown = (what: string, id: string) => new TemplateError(`local runtime: no local stand-in for ${what} of ${id}`, { cause: { resource: id } });
  const API = '\u0000api\u0000';
  return {
    ref(id, r) {
      switch (r.Type) {
        case 'AWS::DynamoDB::Table': return local.tableName;
        case 'AWS::SQS::Queue': { const q = local.queues.get(id); if (!q) throw unknown('the queue', id); return q.url; }
        case 'AWS::StepFunctions::StateMachine': return localStateMachineArn(id);
        case 'AWS::S3::Bucket': if (!local.buckets.includes(id.toLowerCase())) throw unknown('the bucket', id); return id.toLowerCase();
        case 'AWS::Lambda::Function': return id;
        case 'AWS::ApiGatewayV2::Api': return API;
        default: throw unknown(r.Type, id);
      }
    },
    getAtt(id, attr, r) {
      if (r.Type === 'AWS::SQS::Queue' && attr === 'Arn') { const q = local.queues.get(id); if (!q) throw unknown('the queue', id); return q.arn; }
      if (r.Type === 'AWS::DynamoDB::Table' && attr === 'StreamArn') return local.streamArn;
      throw unknown(`${attr} of ${r.Type}`, id);
    },
    // An HTTP API's stage URL, https://<api id>.execute-api.<region>.<suffix>/, is this server.
    finish: (value) => value.replace(/https:\/\/\u0000api\u0000\.execute-api\.[^/]+\//g, local.apiUrl),
  };
}

/**
 * CORS origins of the template that name the deployed web inbox (its CloudFront domain, a
 * reference the local resolver cannot turn into a host) are this runtime's own origin, where the
 * local inbox is served; literal origins stay as the template has them.
 */
function localOrigins(apis: HttpApiDefinition[], url: string): HttpApiDefinition[] {
  const isOrigin = (o: string) => /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(o);
  return apis.map((api) => (api.cors
    ? { ...api, cors: { ...api.cors, allowOrigins: [...new Set(api.cors.allowOrigins.map((o) => (o === '*' || isOrigin(o) ? o : url)))] } }
    : api));
}

/** maxReceiveCount of a queue's redrive policy in the template. */
function maxReceiveCountOf(template: Template, queueId: string): number {
  const policy = template.Resources[queueId]?.Properties?.RedrivePolicy as { maxReceiveCount?: number } | undefined;
  if (typeof policy?.maxReceiveCount !== 'number') throw new TemplateError(`local runtime: queue ${queueId} has no redrive policy in the template`);
  return policy.maxReceiveCount;
}


/** The event an EventBridge schedule rule delivers (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html). */
function scheduledEvent(now: number) {
  return {
    version: '0', id: globalThis.crypto.randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: LOCAL_ACCOUNT,
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'), region: LOCAL_REGION, resources: [], detail: {},
  };
}

/** Whether a function of the template runs `handler`. */
function hasHandler(template: Template, handler: string): boolean {
  return [...functionsOf(template).values()].includes(handler);
}
