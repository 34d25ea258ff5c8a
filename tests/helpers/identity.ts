/**
 * Synthetic normalised events for identity tests (the domain is channel-agnostic): a WhatsApp- or
 * Twilio-like message carrying a platform-verified phone, a Telegram contact shared by its owner,
 * a web-chat message with a verified or claimed e-mail. `syntheticChannels` lets the real process
 * handler (SQS record → envelope → adapter parse → commit) run them: for channels whose adapter
 * is not in the registry yet, `parse` returns the event carried in the envelope body.
 */
import type { SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { ChannelAdapter, Envelope } from '../../functions/channels/channel.js';
import { channelByName } from '../../functions/channels/registry.js';
import type { Channel, InboundMessage } from '../../functions/domain/inbound.js';
import { sqsRecord } from './pipeline.js';

let seq = 0;

export interface MsgOpts {
  readonly text?: string;
  readonly dedup?: string;
  readonly sentAt?: number;
  readonly phone?: string;
  readonly phoneVerified?: boolean;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly contact?: { phone: string; owner_is_sender: boolean };
  readonly phoneInText?: string;
  readonly name?: string;
}

/** A normalised inbound message of `channel` from identity `externalId`. */
export function inbound(channel: Channel, externalId: string, o: MsgOpts = {}): InboundMessage {
  seq += 1;
  const id = o.dedup ?? `${channel}-${externalId}-${seq}-${randomUUID().slice(0, 8)}`;
  return {
    kind: 'message', channel, dedup_key: id, external_message_id: id, conversation_id: externalId,
    sent_at: o.sentAt ?? 1790000000, edit: false, text: o.text ?? `message ${seq}`, attachments: [], interaction: null,
    customer_identity: {
      external_id: externalId,
      ...(o.name ? { display_name: o.name } : {}),
      ...(o.phone ? { phone: o.phone, phone_verified: o.phoneVerified ?? true } : {}),
      ...(o.email ? { email: o.email, email_verified: o.emailVerified ?? true } : {}),
    },
    ...(o.contact ? { contact: o.contact } : {}),
    ...(o.phoneInText ? { phone_in_text: { value: o.phoneInText, verified: false as const } } : {}),
  };
}

/** WhatsApp: `wa_id` digits, phone verified by the platform. */
export const whatsapp = (phone: string, o: MsgOpts = {}) => inbound('whatsapp', phone.replace(/^\+/, ''), { phone, ...o });
/** Twilio SMS: From in E.164, verified. */
export const sms = (phone: string, o: MsgOpts = {}) => inbound('twilio', phone, { phone, ...o });
/** Twilio WhatsApp: `whatsapp:+…`, verified. */
export const twilioWhatsapp = (phone: string, o: MsgOpts = {}) => inbound('twilio', `whatsapp:${phone}`, { phone, ...o });
/** Telegram contact card shared by its owner: phone verified on the sender's identity. */
export const telegramOwnContact = (userId: string, phone: string, o: MsgOpts = {}) =>
  inbound('telegram', userId, { phone, text: '', contact: { phone, owner_is_sender: true }, ...o });
/** Telegram plain text (no phone). */
export const telegram = (userId: string, o: MsgOpts = {}) => inbound('telegram', userId, o);

/** An SQS record whose envelope carries the event itself (for `syntheticChannels`). */
export function syntheticRecord(ev: InboundMessage): SQSRecord {
  const envelope: Envelope = {
    v: 1, channel: ev.channel, request_id: randomUUID(), received_at: Date.now(),
    body_b64: Buffer.from(JSON.stringify(ev)).toString('base64'), headers: {}, query: {}, auth: null,
  } as Envelope;
  return sqsRecord(JSON.stringify(envelope), `${ev.channel}:${ev.conversation_id}`);
}

/** Adapter lookup for the process handler: parse = the event in the body (any channel). */
export function syntheticChannels(name: string): ChannelAdapter | undefined {
  const real = channelByName(name);
  const parse = (envelope: Envelope) => [JSON.parse(Buffer.from(envelope.body_b64, 'base64').toString('utf8'))];
  return { ...(real ?? { name, capabilities: { maxBodyBytes: 1 << 20, replyWindowSeconds: null, buttons: false } }), parse } as unknown as ChannelAdapter;
}

/** Run `tasks` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, run: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; await run(items[i]!, i); }
  }));
}
