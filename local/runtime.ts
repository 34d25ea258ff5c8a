/**
 * The embedded local runtime (`npm start`): DynamoDB Local, in-process SQS-semantics queues, the
 * table stream, a virtual clock, the outbox and an HTTP server — wired to the SAME handler
 * factories (`make<Name>(deps)`) that run in Lambda. Nothing here is bundled into a Lambda.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../functions/runtime/config.js';
import { logger } from '../functions/runtime/logger.js';
import { createDb, type Db } from '../functions/store/db.js';
import { makeIngest } from '../functions/handlers/ingest.js';
import { makeProcess } from '../functions/handlers/process.js';
import { makeSend } from '../functions/handlers/send.js';
import { makeDispatch } from '../functions/handlers/dispatch.js';
import { makeSlaEvaluate, slaDefaultsFrom } from '../functions/handlers/sla-evaluate.js';
import { combineReactions, slaReactions } from '../functions/handlers/sla-reactions.js';
import { LocalWorkflows, SLA_MACHINE, slaStateMachine, SURVEY_MACHINE, surveyStateMachine } from './workflows.js';
import { makeSurveyStep } from '../functions/handlers/survey-step.js';
import { surveyReactions } from '../functions/handlers/survey-reactions.js';
import { surveySettingsFrom } from '../functions/domain/survey.js';
import { acknowledgementReaction } from '../functions/handlers/reactions/acknowledgement.js';
import { classificationReaction } from '../functions/handlers/reactions/classification.js';
import { FeedHub } from './feed-hub.js';
import { makeAgentApi } from '../functions/handlers/agent-api.js';
import { makeWebchatApi } from '../functions/handlers/webchat-api.js';
import { makeSurveyLink } from '../functions/handlers/survey-link.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { LocalQueue, QueuePoller } from './queues.js';
import { StreamPoller } from './stream-poller.js';
import { VirtualClock } from './clock.js';
import { Outbox } from './outbox.js';
import { ensureTable } from './table.js';
import { simulateResponse } from './platform-simulator.js';
import { createLocalServer } from './server.js';
import { LocalS3 } from './s3.js';
import { beforeDeadline, NotSettledError, type SettleWait } from './settle.js';
import { fetchSnsCertificate } from '../functions/runtime/sns-certificate.js';

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
  readonly queues: { readonly inbound: LocalQueue; readonly inboundDlq: LocalQueue; readonly outbound: LocalQueue; readonly outboundDlq: LocalQueue };
  readonly ddbEndpoint: string;
  /** The local Step Functions (SLA executions on the virtual clock). */
  readonly workflows: LocalWorkflows;
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
    const db = createDb(tableName, { endpoint: ddbEndpoint, ...LOCAL_AWS });
    cleanups.push(() => db.doc.destroy());

    const clock = new VirtualClock(file('clock.json'));
    const s3 = new LocalS3(dataDir ? join(dataDir, 's3') : undefined);
    const outbox = new Outbox(file('outbox.jsonl'));
    const visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 2000;
    const queue = (name: string, dlq?: LocalQueue) => new LocalQueue({
      name, fifo: true, visibilityTimeoutMs, maxReceiveCount: 5, ...(dlq ? { dlq } : {}),
      ...(dataDir ? { journalPath: join(dataDir, 'queues', `${name}.jsonl`) } : {}),
    });
    const inboundDlq = queue('inbound-dlq.fifo');
    const inbound = queue('inbound.fifo', inboundDlq);
    const outboundDlq = queue('outbound-dlq.fifo');
    const outbound = queue('outbound.fifo', outboundDlq);
    cleanups.push(() => { for (const q of [inbound, inboundDlq, outbound, outboundDlq]) q.close(); });

    const record = (channel: string, kind: string, request: import('../functions/channels/channel.js').PlatformRequest, ticketId: string | null) =>
      outbox.record({ channel, kind, request, ticket_id: ticketId, at: new Date(clock.now()).toISOString() });

    // SNS certificates not in SNS_CERT_DIR are fetched for real (a tunnelled SNS subscription works locally).
    const ingest = makeIngest({ config, clock, enqueue: async (m) => { inbound.send(m); }, ports: { fetchCertificate: fetchSnsCertificate } });
    const processHandler = makeProcess({
      db, clock, config,
      readObject: (bucket, key) => s3.get(bucket, key),
      deadLetter: async (record, reason) => {
        inboundDlq.send({ body: record.body, groupId: record.attributes.MessageGroupId ?? 'dead-letter', deduplicationId: record.messageId, attributes: { reason, source_queue: inbound.name, receive_count: record.attributes.ApproximateReceiveCount } });
      },
      confirmSubscription: async (channel, url) => record(channel, 'sns-confirmation', { method: 'GET', url, headers: {}, body: null }, null),
    });
    const send = makeSend({
      db, config,
      perform: async (request, meta) => { record(meta.channel, meta.kind, request, meta.ticket_id); return simulateResponse(meta.channel, request); },
    });
    // SLA: escalation e-mails land in the outbox (kind `escalation`); locally they always have a
    // recipient and a sender so a person sees them without configuring SES addresses.
    const slaDefaults = slaDefaultsFrom(config);
    const slaEvaluate = makeSlaEvaluate({
      db, clock, defaults: slaDefaults,
      escalationEmail: config.ESCALATION_EMAIL ?? 'escalations@confluo.localhost',
      emailFrom: config.EMAIL_FROM ?? 'confluo@confluo.localhost',
      sendEmail: async (request, meta) => record('email', 'escalation', request, meta.ticket_id),
    });
    // Surveys: the question, reminder and thank-you go through the outbound queue like replies;
    // a low score's alert e-mail lands in the outbox as kind `escalation`.
    const surveySettings = surveySettingsFrom(config);
    // Score links in survey e-mails point at CONFLUO_PUBLIC_URL, else at this runtime (known once it listens).
    let ownUrl = `http://127.0.0.1:${config.PORT}`;
    const surveyStep = makeSurveyStep({
      db, clock, settings: surveySettings,
      escalationEmail: config.ESCALATION_EMAIL ?? 'escalations@confluo.localhost',
      emailFrom: config.EMAIL_FROM ?? 'confluo@confluo.localhost',
      sendEmail: async (request, meta) => record('email', 'escalation', request, meta.ticket_id),
      ...(config.CONFLUO_SURVEY_LINK_SECRET ? { links: { secret: config.CONFLUO_SURVEY_LINK_SECRET, baseUrl: () => config.CONFLUO_PUBLIC_URL ?? ownUrl } } : {}),
    });
    const dispatch = makeDispatch({
      enqueueOutbound: async (m) => { outbound.send(m); },
      reactions: combineReactions(
        { 'ticket.opened': [classificationReaction({ db, clock }), acknowledgementReaction({ db, enabled: config.CONFLUO_AUTO_ACK === 'on' })] },
        slaReactions({ db, clock, defaults: slaDefaults, startExecution: async (name, input) => { await workflows.startExecution(SLA_MACHINE, name, input); } }),
        surveyReactions({ db, clock, settings: surveySettings, startExecution: async (name, input) => { await workflows.startExecution(SURVEY_MACHINE, name, input); } }),
      ),
    });
    // `GET /api/v1/events/stream` (Server-Sent Events): every feed item the stream delivers, pushed
    // after dispatch saw it (commit order — no gap for late-stamped events).
    const feedHub = new FeedHub();
    const agentApi = makeAgentApi({ db, clock, slaDefaults, ticketPrefix: config.CONFLUO_TICKET_PREFIX });

    const onError = (e: unknown) => log(`[confluo] background error: ${(e as Error)?.name ?? 'Error'}`);
    // The SLA state machine synthesised from the CDK stack, run on the virtual clock.
    const workflows = new LocalWorkflows({ clock, machines: [await slaStateMachine(slaEvaluate), await surveyStateMachine(surveyStep)], ...(file('workflows.json') ? { file: file('workflows.json')! } : {}), onError });
    cleanups.push(() => workflows.stop());
    const inboundPoller = new QueuePoller(inbound, processHandler, { batchSize: 10, concurrency: 2, onError });
    const outboundPoller = new QueuePoller(outbound, send, { batchSize: 10, concurrency: 1, onError });
    const streams = new DynamoDBStreamsClient({ endpoint: ddbEndpoint, ...LOCAL_AWS });
    cleanups.push(() => streams.destroy());
    const streamPoller = new StreamPoller({ client: streams, streamArn, handler: feedHub.tap(dispatch), ...(file('stream.json') ? { checkpointFile: file('stream.json')! } : {}), onError });
    inboundPoller.start();
    outboundPoller.start();
    streamPoller.start();
    cleanups.push(async () => { await Promise.all([inboundPoller.stop(), outboundPoller.stop(), streamPoller.stop()]); });

    /** Throws NotSettledError (local/settle.ts; `POST /dev/settle` answers it 503) when not quiet by the deadline. */
    async function settle(timeoutMs = 30_000): Promise<SettleResult> {
      const deadline = Date.now() + timeoutMs;
      const before = { processed: inboundPoller.processed + outboundPoller.processed, dlq: inboundDlq.stats().depth + outboundDlq.stats().depth, steps: workflows.steps };
      let waitingFor: SettleWait = 'a quiet pass';
      let dispatchedTotal = 0;
      const notSettled = () => {
        const w = workflows.stats();
        return new NotSettledError(`settle: the system did not become quiet within ${timeoutMs / 1000} s (waiting for: ${waitingFor})`, {
          waitingFor, queues: [inbound.stats(), outbound.stats()], stream: { dispatched: dispatchedTotal },
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
        const steps = workflows.steps;
        await wait('workflows', workflows.whenIdle());
        const again = await wait('table stream', streamPoller.drain());
        dispatchedTotal += again;
        if (dispatched === 0 && again === 0 && workflows.steps === steps && inboundPoller.idle() && outboundPoller.idle() && workflows.idle()) break;
      }
      return {
        processed: inboundPoller.processed + outboundPoller.processed - before.processed,
        dlq: inboundDlq.stats().depth + outboundDlq.stats().depth - before.dlq,
        workflows: workflows.steps - before.steps,
      };
    }

    const server = createLocalServer({
      ingest, agentApi, config, clock, outbox, settle, feedHub,
      webchatApi: makeWebchatApi({ db, clock, config }),
      surveyLink: makeSurveyLink({ db, clock, settings: surveySettings, secret: config.CONFLUO_SURVEY_LINK_SECRET }),
      queues: () => [inbound, outbound].map((q) => ({ ...q.stats(), dlqEntries: (q === inbound ? inboundDlq : outboundDlq).dlqEntries().map((d) => ({ messageId: d.messageId, reason: d.reason, receiveCount: d.receiveCount })) })),
      s3,
    });
    const port = opts.port ?? Number(config.PORT);
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, '127.0.0.1', () => res()); });
    const actualPort = (server.address() as AddressInfo).port;
    cleanups.push(() => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }));
    const url = `http://127.0.0.1:${actualPort}`;
    ownUrl = url;
    const runtimeFile = announceDir ? join(announceDir, 'runtime.json') : null;
    if (runtimeFile) {
      // Written whole then renamed, so the CLI never reads half a file.
      writeFileSync(`${runtimeFile}.${process.pid}.tmp`, JSON.stringify({ pid: process.pid, port: actualPort, url, ddb_endpoint: ddbEndpoint, table: tableName, in_memory: inMemory }));
      renameSync(`${runtimeFile}.${process.pid}.tmp`, runtimeFile);
      cleanups.push(() => rmSync(runtimeFile, { force: true }));
    }

    let stopping: Promise<void> | undefined;
    return {
      url, port: actualPort, config, dataDir, runtimeFile, db, clock, outbox, ddbEndpoint, workflows,
      queues: { inbound, inboundDlq, outbound, outboundDlq },
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
