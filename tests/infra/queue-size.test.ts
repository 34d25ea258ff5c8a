import { describe, expect, it } from 'vitest';
import { channels } from '../../functions/channels/registry.js';
import { buildEnvelope } from '../../functions/channels/envelope.js';
import type { Channel } from '../../functions/domain/inbound.js';
import { resourceId, synthConfluo } from './helpers.js';

// GIVEN the whole stack's template
const { template } = synthConfluo();
const queues = template.findResources('AWS::SQS::Queue');
const maxSize = (prefix: string): number => queues[resourceId(template, 'AWS::SQS::Queue', prefix)]!.Properties.MaximumMessageSize;

/** SQS message size: the body plus every attribute's name, data type and value, in bytes. */
function sqsMessageBytes(body: string, attributes: Record<string, { DataType: string; StringValue: string }> = {}): number {
  return Buffer.byteLength(body, 'utf8') + Object.entries(attributes)
    .reduce((n, [name, a]) => n + Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue), 0);
}

/** The envelope ingest enqueues for a body of exactly `maxBodyBytes`, with the largest headers and claims any channel keeps. */
function maximalEnvelope(channel: Channel, maxBodyBytes: number): string {
  // Characters JSON escapes to six bytes each (\u0001), at the lengths the adapters allow.
  const worst = (n: number) => '\u0001'.repeat(n);
  const envelope = buildEnvelope(channel, { method: 'POST', path: `/webhooks/${channel}`, headers: {}, query: {}, body: Buffer.alloc(maxBodyBytes, 0xff) }, {
    kind: 'accepted',
    conversationKey: worst(128),
    headers: { 'i-twilio-idempotency-token': worst(200), 'x-retry-counter': '999999' },
    auth: { iss: 'site', sub: worst(128), sid: worst(128), exp: Number.MAX_SAFE_INTEGER, email: worst(254), email_verified: true, name: worst(200), ext_uid: worst(128), locale: worst(35) },
    reply: { status: 200 },
  }, Number.MAX_SAFE_INTEGER, worst(64));
  return JSON.stringify(envelope);
}

/** The attributes the process function adds when it dead-letters a record itself (runtime/aws.ts sqsDeadLetter): a reason of ≤ 300 characters. */
const deadLetterAttributes = {
  reason: { DataType: 'String', StringValue: '€'.repeat(300) },
  receive_count: { DataType: 'Number', StringValue: '999999' },
};

describe('queue message size', () => {
  it('is set explicitly on every queue, to the SQS maximum of 1 MiB', () => {
    for (const [id, q] of Object.entries(queues)) expect(q.Properties.MaximumMessageSize, id).toBe(1_048_576);
    expect(Object.keys(queues).length).toBeGreaterThanOrEqual(4);
  });

  it.each(Object.values(channels).map((a) => [a.name, a.capabilities.maxBodyBytes] as const))(
    'takes the envelope of a %s webhook of its largest accepted body (%i bytes) on the inbound queue and, dead-lettered, on its DLQ',
    (name, maxBodyBytes) => {
      const body = maximalEnvelope(name as Channel, maxBodyBytes);
      expect(sqsMessageBytes(body)).toBeLessThanOrEqual(maxSize('IngestInboundQueue'));
      expect(sqsMessageBytes(body, deadLetterAttributes)).toBeLessThanOrEqual(maxSize('IngestInboundDlq'));
    },
  );

  it('leaves the e-mail envelope, the largest, above the old 256 KiB cap and within 1 MiB with room to spare', () => {
    const bytes = sqsMessageBytes(maximalEnvelope('email', channels.email!.capabilities.maxBodyBytes), deadLetterAttributes);
    expect(bytes).toBeGreaterThan(262_144);
    expect(bytes).toBeLessThan(0.7 * 1_048_576);
  });

  it('lets each dead-letter queue take whatever its source queue holds', () => {
    expect(maxSize('IngestInboundDlq')).toBeGreaterThanOrEqual(maxSize('IngestInboundQueue'));
    expect(maxSize('OutboundOutboundDlq')).toBeGreaterThanOrEqual(maxSize('OutboundOutboundQueue'));
  });
});
