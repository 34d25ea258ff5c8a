/** The queue envelope of an accepted webhook request (channels.md §0.4) and its FIFO keys. */
import { createHash } from 'node:crypto';
import type { Channel } from '../domain/inbound.js';
import type { Admission, Envelope, RawRequest } from './channel.js';

export function buildEnvelope(channel: Channel, req: RawRequest, admission: Extract<Admission, { kind: 'accepted' }>, receivedAtMs: number, requestId: string): Envelope {
  return {
    v: 1,
    channel,
    request_id: requestId,
    received_at: receivedAtMs,
    body_b64: req.body.toString('base64'),
    headers: admission.headers ?? {},
    query: {},
    auth: admission.auth ?? null,
  };
}

/** FIFO MessageGroupId: one group per conversation, so a conversation is processed in order. */
export function messageGroupId(channel: Channel, conversationKey: string | null): string {
  // SQS allows 128 characters from a limited alphabet; hash anything longer or unusual.
  const raw = conversationKey ? `${channel}:${conversationKey}` : channel;
  return /^[\w:.#@+\-]{1,128}$/.test(raw) ? raw : `${channel}:${createHash('sha256').update(raw).digest('hex').slice(0, 40)}`;
}

/** FIFO MessageDeduplicationId: SHA-256 of channel + raw body (a 5-minute optimisation, not the dedupe). */
export function messageDeduplicationId(channel: Channel, body: Buffer): string {
  return createHash('sha256').update(channel).update('\n').update(body).digest('hex');
}

export function envelopeBody(envelope: Envelope): Buffer {
  return Buffer.from(envelope.body_b64, 'base64');
}
