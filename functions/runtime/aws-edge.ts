/**
 * The AWS platform of the public entry points — ingest (`/webhooks/{channel}`), webchat-api and
 * survey-link — which answer the internet and so pay for every byte they import at a cold start
 * (README "Entry points"). They use settings (environment + SSM), the table, one queue, the clock,
 * the SNS certificate fetch and the webhook counters; nothing else. This platform has exactly
 * those, built like ./aws.ts builds them (./aws-settings.ts, ./aws-queue.ts, the same
 * `createDb`), and none of the other clients (S3, SES, Step Functions, DuckDB's writer): a handler
 * that asks it for one gets a PlatformError naming what it asked for, at once, instead of a
 * bundle that carries every client for every function.
 *
 * The SNS certificate fetch is imported when first needed: e-mail is one channel of nine and the
 * certificate is fetched about once per rotation per execution environment (sns-certificate.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../domain/clock.js';
import { dbPerTable, mediaPerBucket } from './aws-cache.js';
import { awsSettings } from './aws-settings.js';
import { sqsEnqueue } from './aws-queue.js';
import { powertoolsIngestMetrics, powertoolsVoiceMetrics } from './metrics.js';
import { PlatformError, setDefaultPlatform, type Platform } from './platform.js';
import type { Enqueue, MediaStore } from './ports.js';

export interface EdgeOptions {
  /**
   * The media bucket's store, for the one public entry point that signs upload forms and file
   * links (webchat-api, through ./aws-edge-media.ts); ingest and survey-link carry no S3 client.
   */
  readonly media?: (bucket: string) => MediaStore;
}

function unavailable(what: string): never {
  throw new PlatformError(`aws-edge: ${what} is not available to the public entry points (functions/runtime/aws.ts has it)`);
}

export function awsEdgePlatform(options: EdgeOptions = {}): Platform {
  let sqs: SQSClient | undefined;
  return {
    name: 'aws',
    clock: systemClock,
    settings: () => awsSettings(),
    db: dbPerTable(),
    queue: (queueUrl): Enqueue => sqsEnqueue(() => (sqs ??= new SQSClient({})), queueUrl),
    queueVisibility: () => unavailable('queueVisibility'),
    perform: () => unavailable('perform'),
    startExecution: async () => unavailable('startExecution'),
    readObject: async () => unavailable('readObject'),
    exportWriter: () => unavailable('exportWriter'),
    media: options.media ? mediaPerBucket(options.media) : () => unavailable('media'),
    download: async () => unavailable('download'),
    scratchDir: '/tmp',
    fetchCertificate: async (url) => (await import('./sns-certificate.js')).fetchSnsCertificate(url),
    ingestMetrics: powertoolsIngestMetrics(),
    voiceMetrics: powertoolsVoiceMetrics(),
  };
}

let platform: Platform | undefined;
setDefaultPlatform(() => (platform ??= awsEdgePlatform()));

/** The public entry points import `lambdaHandler` from here: AWS (edge) is their platform outside the local runtime. */
export { lambdaHandler } from './platform.js';
