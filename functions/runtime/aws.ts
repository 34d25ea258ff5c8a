/**
 * Wiring for Lambda: configuration (environment + secrets from SSM Parameter Store, validated once)
 * and SDK clients created once per execution environment. Local runtime never imports this.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { getParameters } from '@aws-lambda-powertools/parameters/ssm';
import { loadConfig, type Config } from './config.js';
import { createDb, type Db } from '../store/db.js';

let configPromise: Promise<Config> | undefined;

/** Environment merged with `CONFLUO_SECRETS_PATH` parameters (names = setting names, e.g. `/confluo/prod/TELEGRAM_SECRET_TOKEN`). */
export function awsConfig(): Promise<Config> {
  configPromise ??= (async () => {
    const path = process.env.CONFLUO_SECRETS_PATH;
    const secrets = path ? ((await getParameters(path, { decrypt: true, recursive: false })) ?? {}) as Record<string, string> : {};
    return loadConfig({ ...process.env, ...secrets });
  })();
  return configPromise;
}

let db: Db | undefined;
export const awsDb = (config: Config): Db => (db ??= createDb(config.CONFLUO_TABLE_NAME));

let sqs: SQSClient | undefined;
export const sqsClient = () => (sqs ??= new SQSClient({}));

/** SendMessage to a FIFO queue. */
export function sqsSender(queueUrl: string) {
  return async (msg: { body: string; groupId: string; deduplicationId: string }) => {
    await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: msg.body, MessageGroupId: msg.groupId, MessageDeduplicationId: msg.deduplicationId }));
  };
}

/** Build the real handler once, on first invocation (keeps imports side-effect free for tests). */
export function lazyHandler<E, R>(build: () => Promise<(event: E) => Promise<R>>): (event: E) => Promise<R> {
  let built: Promise<(event: E) => Promise<R>> | undefined;
  return async (event: E) => (await (built ??= build()))(event);
}

/** Dead-letter a record ourselves (FIFO DLQ): original body, reason as a message attribute. */
export function sqsDeadLetter(dlqUrl: string) {
  return async (record: SQSRecord, reason: string) => {
    await sqsClient().send(new SendMessageCommand({
      QueueUrl: dlqUrl, MessageBody: record.body,
      MessageGroupId: record.attributes.MessageGroupId ?? 'dead-letter',
      MessageDeduplicationId: record.messageId,
      MessageAttributes: { reason: { DataType: 'String', StringValue: reason }, receive_count: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount } },
    }));
  };
}

let s3: S3Client | undefined;
/** Raw bytes of an S3 object (SES S3-action e-mails). */
export async function readS3Object(bucket: string, key: string): Promise<Buffer> {
  s3 ??= new S3Client({});
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}
