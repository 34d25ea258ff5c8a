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
 * platform (local/platform.ts). The public entry points (ingest, webchat-api, survey-link) run on
 * ./aws-edge.ts instead: the same settings, table and queue with none of the other clients, so
 * their bundles stay small (README "Entry points").
 */
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sesRegion } from '../channels/email/ses.js';
import { systemClock } from '../domain/clock.js';
import type { Config } from './config.js';
import { dbPerTable, mediaPerBucket } from './aws-cache.js';
import { awsSettings } from './aws-settings.js';
import { sqsEnqueue } from './aws-queue.js';
import { powertoolsIngestMetrics, powertoolsProcessMetrics, powertoolsVoiceMetrics } from './metrics.js';
import { fetchTransport, makePerform, type Transport } from './perform.js';
import { setDefaultPlatform, type Platform } from './platform.js';
import type { ChangeVisibility, Enqueue, Perform } from './ports.js';
import { s3ExportWriter } from './s3-export-writer.js';
import { s3MediaStore } from './s3-media-store.js';
import { fetchDownload } from './download.js';
import { fetchSnsCertificate } from './sns-certificate.js';

export { awsSettings };

export function awsPlatform(): Platform {
  let sqs: SQSClient | undefined;
  let s3: S3Client | undefined;
  let sfn: SFNClient | undefined;
  const ses = new Map<string, SESClient>();
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
  return {
    name: 'aws',
    clock: systemClock,
    settings: () => awsSettings(),
    db: dbPerTable(),
    queue: (queueUrl): Enqueue => sqsEnqueue(() => (sqs ??= new SQSClient({})), queueUrl),
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
    media: mediaPerBucket((bucket) => s3MediaStore(bucket, (s3 ??= new S3Client({})))),
    fetchCertificate: fetchSnsCertificate,
    ingestMetrics: powertoolsIngestMetrics(),
    voiceMetrics: powertoolsVoiceMetrics(),
    processMetrics: powertoolsProcessMetrics(),
  };
}

let platform: Platform | undefined;
setDefaultPlatform(() => (platform ??= awsPlatform()));

/** Entry points import `lambdaHandler` from here, which makes AWS their platform outside the local runtime. */
export { lambdaHandler } from './platform.js';
