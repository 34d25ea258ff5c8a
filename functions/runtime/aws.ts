/**
 * The AWS platform (functions/runtime/platform.ts): what the Lambda entry points run on.
 *
 * - Settings: the function's environment (set by the CDK constructs) merged with the
 *   SecureString parameters `CONFLUO_SECRET_NAMES` names under `CONFLUO_SECRETS_PATH` (one per
 *   setting, named like it), then validated. Read at the first invocation of an execution environment; a failed read (SSM
 *   throttles bursts of cold starts) is retried by the next invocation (`lambdaHandler`).
 * - Clients: created once per execution environment, on first use. Region and endpoints come
 *   from the environment as the SDK reads them (`AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`), which
 *   is how the deployment test points the same bundles at moto and DynamoDB Local. SES is the
 *   exception: it is created for the e-mail channel's one SES region (functions/channels/email/ses.ts),
 *   so the region that sends a reply is the one its stored Message-ID names.
 *
 * The local runtime never imports this module's clients into its own wiring; it supplies its own
 * platform (local/platform.ts).
 */
import { ChangeMessageVisibilityCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { sesRegion } from '../channels/email/ses.js';
import { systemClock } from '../domain/clock.js';
import { createDb, retentionOf, type Db } from '../store/db.js';
import { ConfigError, loadConfig, refuseTestSecrets, requireSetting, type Config } from './config.js';
import { powertoolsIngestMetrics, powertoolsProcessMetrics } from './metrics.js';
import { fetchTransport, makePerform, type Transport } from './perform.js';
import { setDefaultPlatform, type Platform } from './platform.js';
import type { ChangeVisibility, Enqueue, MediaStore, Perform } from './ports.js';
import { s3ExportWriter } from './s3-export-writer.js';
import { s3MediaStore } from './s3-media-store.js';
import { fetchDownload } from './download.js';
import { fetchSnsCertificate } from './sns-certificate.js';

/**
 * The environment merged with the SSM parameters `CONFLUO_SECRET_NAMES` names under
 * `CONFLUO_SECRETS_PATH` (parameter name = setting name, e.g. `/confluo/prod/TELEGRAM_SECRET_TOKEN`).
 *
 * Read by name, not by path: the function's role may read exactly these parameters
 * (lib/confluo-function.ts `bindSecrets`), so `GetParametersByPath` would be refused. Powertools'
 * `getParametersByName` asks `GetParameters` for up to 10 names per call
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html);
 * names SSM does not know come back as `InvalidParameters`, collected under `_errors` with
 * `throwOnError: false` — a channel whose parameters are not stored is simply not enabled.
 * Any other failure (throttling, access denied) rejects, and the next invocation retries.
 * This is the one place that knows it is not the local runtime, so the public test secrets are
 * refused here (config.ts `refuseTestSecrets`).
 */
export async function awsSettings(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Config> {
  const path = env.CONFLUO_SECRETS_PATH;
  const names = (env.CONFLUO_SECRET_NAMES ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (path && names.length === 0) throw new ConfigError('config: CONFLUO_SECRETS_PATH is set without CONFLUO_SECRET_NAMES (ConfluoFunction.bindSecrets sets both)', { cause: { keys: ['CONFLUO_SECRET_NAMES'] } });
  const secrets: Record<string, string> = {};
  if (path) {
    // A provider of its own: each (re)build reads SSM afresh (a build happens once per execution
    // environment). The shared default provider would serve values cached by an earlier build:
    // getParametersByName caches for 5 s even with maxAge 0 (SSMProvider.js caches with
    // `maxAge || DEFAULT_MAX_AGE_SECS`, @aws-lambda-powertools/parameters 2.35).
    const read = await new SSMProvider().getParametersByName(Object.fromEntries(names.map((n) => [`${path}${n}`, {}])), { decrypt: true, maxAge: 0, throwOnError: false });
    for (const n of names) {
      const value = read[`${path}${n}`];
      if (typeof value === 'string') secrets[n] = value;
    }
  }
  return refuseTestSecrets(loadConfig({ ...env, ...secrets }));
}

/** A message attribute map for SQS from plain strings. */
function messageAttributes(attributes: Readonly<Record<string, string>> | undefined) {
  if (!attributes) return undefined;
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: /^\d+$/.test(v) ? 'Number' : 'String', StringValue: v }]));
}

export function awsPlatform(): Platform {
  let sqs: SQSClient | undefined;
  let s3: S3Client | undefined;
  let sfn: SFNClient | undefined;
  const ses = new Map<string, SESClient>();
  const dbs = new Map<string, Db>();
  const transport: Transport = {
    http: fetchTransport,
    async sendRawEmail(raw, region) {
      const key = region ?? '';
      let client = ses.get(key);
      if (!client) ses.set(key, (client = new SESClient(region ? { region } : {})));
      return client.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from(raw, 'utf8') } }));
    },
  };
  const performers = new WeakMap<Config, Perform>();
  const media = new Map<string, MediaStore>();
  return {
    name: 'aws',
    clock: systemClock,
    settings: () => awsSettings(),
    db: (config) => {
      let db = dbs.get(config.CONFLUO_TABLE_NAME);
      if (!db) dbs.set(config.CONFLUO_TABLE_NAME, (db = createDb(config.CONFLUO_TABLE_NAME, {}, retentionOf(config))));
      return db;
    },
    queue: (queueUrl): Enqueue => async (msg) => {
      sqs ??= new SQSClient({});
      await sqs.send(new SendMessageCommand({
        QueueUrl: queueUrl, MessageBody: msg.body,
        ...(msg.groupId !== undefined ? { MessageGroupId: msg.groupId } : {}),
        ...(msg.deduplicationId !== undefined ? { MessageDeduplicationId: msg.deduplicationId } : {}),
        ...(msg.attributes ? { MessageAttributes: messageAttributes(msg.attributes) } : {}),
      }));
    },
    queueVisibility: (queueUrl): ChangeVisibility => async (receiptHandle, seconds) => {
      sqs ??= new SQSClient({});
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))) }));
    },
    perform: (config) => {
      let perform = performers.get(config);
      if (!perform) performers.set(config, (perform = makePerform(transport, { sesRegion: sesRegion(config) })));
      return perform;
    },
    startExecution: async (stateMachineArn, name, input) => {
      sfn ??= new SFNClient({});
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    },
    readObject: async (bucket, key) => {
      s3 ??= new S3Client({});
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
    exportWriter: (bucket) => s3ExportWriter(bucket, (s3 ??= new S3Client({}))),
    scratchDir: '/tmp',
    download: fetchDownload,
    media: (config) => {
      const bucket = requireSetting(config, 'CONFLUO_MEDIA_BUCKET', 'media');
      let store = media.get(bucket);
      if (!store) media.set(bucket, (store = s3MediaStore(bucket, (s3 ??= new S3Client({})))));
      return store;
    },
    fetchCertificate: fetchSnsCertificate,
    ingestMetrics: powertoolsIngestMetrics(),
    processMetrics: powertoolsProcessMetrics(),
  };
}

let platform: Platform | undefined;
setDefaultPlatform(() => (platform ??= awsPlatform()));

/** Entry points import `lambdaHandler` from here, which makes AWS their platform outside the local runtime. */
export { lambdaHandler } from './platform.js';
