/** Build what the queue would deliver for a sample: admit → envelope → SQS record. */
import type { SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../../functions/channels/channel.js';
import { buildEnvelope, messageGroupId } from '../../functions/channels/envelope.js';
import { channelByName } from '../../functions/channels/registry.js';
import type { Channel } from '../../functions/domain/inbound.js';
import { loadConfig, type Config } from '../../functions/runtime/config.js';
import { TEST_SECRETS, deliveredAt, loadSamples, toRawRequest, type Sample } from './samples.js';

export const testConfig = (extra: Record<string, string> = {}): Config => loadConfig({ ...TEST_SECRETS, ...extra });

export async function envelopeOf(sample: Sample, receivedAt = Date.now(), body?: string): Promise<{ envelope: Envelope; groupId: string }> {
  const adapter = channelByName(sample.channel)!;
  // An e-mail sample is stamped at receivedAt (SNS messages older than an hour are refused).
  const req = toRawRequest(body === undefined ? deliveredAt(sample, receivedAt) : { request: { ...sample.request, body } });
  const admission = await adapter.admit(req, TEST_SECRETS, receivedAt);
  if (admission.kind !== 'accepted') throw new Error(`sample ${sample.file} is a handshake`);
  return { envelope: buildEnvelope(adapter.name as Channel, req, admission, receivedAt, randomUUID()), groupId: messageGroupId(adapter.name as Channel, admission.conversationKey) };
}

let seq = 0;
export function sqsRecord(body: string, groupId: string, messageId = randomUUID()): SQSRecord {
  seq += 1;
  return {
    messageId, receiptHandle: `rh-${seq}`, body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'local', ApproximateFirstReceiveTimestamp: String(Date.now()), MessageGroupId: groupId, MessageDeduplicationId: String(seq), SequenceNumber: String(seq).padStart(20, '0') },
    messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:local:000000000000:inbound.fifo', awsRegion: 'us-east-1',
  } as SQSRecord;
}

export async function recordOf(sample: Sample, receivedAt = Date.now()): Promise<SQSRecord> {
  const { envelope, groupId } = await envelopeOf(sample, receivedAt);
  return sqsRecord(JSON.stringify(envelope), groupId);
}

export function sample(channel: string, file: string): Sample {
  const s = loadSamples(channel).find((x) => x.file === file || x.name === file);
  if (!s) throw new Error(`no sample ${channel}/${file}`);
  return s;
}

/** A Telegram text update with a chosen update_id, text and sender (same secret as the samples). */
export function telegramText(opts: { updateId: number; fromId: number; text: string; messageId?: number; date?: number }): string {
  return JSON.stringify({
    update_id: opts.updateId,
    message: {
      message_id: opts.messageId ?? opts.updateId, date: opts.date ?? 1790000000, text: opts.text,
      from: { id: opts.fromId, is_bot: false, first_name: 'Test', language_code: 'en' },
      chat: { id: opts.fromId, type: 'private', first_name: 'Test' },
    },
  });
}
