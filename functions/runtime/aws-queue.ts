/** SendMessage to one SQS queue (the `queue` port of both AWS platforms, ./aws.ts and ./aws-edge.ts). */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Enqueue } from './ports.js';

/** A message attribute map for SQS from plain strings. */
function messageAttributes(attributes: Readonly<Record<string, string>> | undefined) {
  if (!attributes) return undefined;
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: /^\d+$/.test(v) ? 'Number' : 'String', StringValue: v }]));
}

/** `client` is called at the first send: the client is created once per execution environment, on first use. */
export function sqsEnqueue(client: () => SQSClient, queueUrl: string): Enqueue {
  return async (msg) => {
    await client().send(new SendMessageCommand({
      QueueUrl: queueUrl, MessageBody: msg.body,
      // A standard queue (the media jobs) takes neither (SQS refuses them there).
      ...(msg.groupId !== undefined ? { MessageGroupId: msg.groupId } : {}),
      ...(msg.deduplicationId !== undefined ? { MessageDeduplicationId: msg.deduplicationId } : {}),
      ...(msg.attributes ? { MessageAttributes: messageAttributes(msg.attributes) } : {}),
    }));
  };
}
