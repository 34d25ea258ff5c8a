/**
 * Process λ: inbound FIFO queue → channel adapter parse → dedupe, identify, thread → one
 * conditional transaction per message. Partial batch failures; a failure in one conversation
 * group skips the rest of that group only (FIFO order is kept), other groups go on.
 *
 * load → decide → commit, retried on a lost race (a failed condition other than the dedupe
 * marker means someone else changed the customer or ticket: reload and decide again).
 */
import type { SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { ChannelAdapter, Envelope } from '../channels/channel.js';
import { channelByName } from '../channels/registry.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { awsConfig, awsDb, lazyHandler, readS3Object, sqsDeadLetter } from '../runtime/aws.js';
import type { IgnoredEvent, InboundMessage, VerificationEvent } from '../domain/inbound.js';
import { CHANNELS } from '../domain/inbound.js';
import { mergeIdentity, displayNameOf } from '../domain/identity.js';
import { decideThread } from '../domain/threading.js';
import { formatTicketNumber } from '../domain/ticket.js';
import { initialSla } from '../domain/sla/policy.js';
import type { Config } from '../runtime/config.js';
import { logger as defaultLogger, errorFacts } from '../runtime/logger.js';
import { redactString } from '../domain/redact.js';
import type { Db } from '../store/db.js';
import { commitEdit, commitInbound, nextCounter, type ThreadPlan } from '../store/inbound.js';
import { advanceDelivery } from '../store/outbound.js';
import { getCustomer, getIdentity, getMessageRef, getTicket, getTimelineEntry } from '../store/reads.js';
import type { EventEntry, FeedEvent, IdentityRecord, MessageEntry, TicketRecord } from '../store/records.js';
import { keys } from '../store/table.js';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export interface ProcessDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly channel?: (name: string) => ChannelAdapter | undefined;
  /** Performs an SNS subscription confirmation (AWS: HTTPS GET; local: outbox entry). */
  readonly confirmSubscription?: (channel: string, url: string) => Promise<void>;
  /** Reads raw objects for adapters (SES S3 action). */
  readonly readObject?: (bucket: string, key: string) => Promise<Buffer>;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error' | 'debug'>;
  /**
   * Moves a record that failed on its last allowed receive to the dead-letter queue, with its
   * reason. Without this, SQS would redrive it — but in a FIFO batch the records behind it in its
   * group are returned with it, so they would be dead-lettered too. Doing it here lets the rest
   * of the conversation go on (channels.md §0 / DESIGN.md §7: a poison message never blocks its
   * conversation for ever).
   */
  readonly deadLetter?: (record: SQSRecord, reason: string) => Promise<void>;
  /** maxReceiveCount of the inbound queue's redrive policy (default 5). */
  readonly maxReceiveCount?: number;
}

export class ProcessError extends Error {
  override readonly name = 'ProcessError';
}

const EnvelopeSchema = z.object({
  v: z.literal(1), channel: z.enum(CHANNELS), request_id: z.string(), received_at: z.number(),
  body_b64: z.string(), headers: z.record(z.string(), z.string()), query: z.record(z.string(), z.string()),
  auth: z.record(z.string(), z.unknown()).nullable(),
});

const MAX_ATTEMPTS = 12;
const DAY_MS = 86_400_000;

export type Outcome = 'committed' | 'duplicate' | 'ignored' | 'status' | 'verified';

export function makeProcess(deps: ProcessDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;
  const ulid = monotonicFactory();
  const dedupTtlSeconds = Number(deps.config.CONFLUO_DEDUP_TTL_DAYS) * 86_400;
  const reopenWindowMs = Number(deps.config.CONFLUO_REOPEN_WINDOW_DAYS) * DAY_MS;
  const { db } = deps;
  const maxReceiveCount = deps.maxReceiveCount ?? 5;

  async function handleMessage(msg: InboundMessage): Promise<Outcome> {
    if (msg.edit) {
      const ref = await getMessageRef(db, msg.channel, msg.external_message_id);
      if (ref) return applyEdit(msg, ref);
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = await tryCommit(msg, attempt);
      if (result !== 'conflict') return result;
      await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** attempt) * Math.random()));
    }
    throw new ProcessError('gave up after repeated write conflicts', { cause: { channel: msg.channel, stage: 'commit', attempts: MAX_ATTEMPTS } });
  }

  async function tryCommit(msg: InboundMessage, attempt: number): Promise<'committed' | 'duplicate' | 'conflict'> {
    const now = deps.clock.now();
    const identity = await getIdentity(db, msg.channel, msg.customer_identity.external_id);
    const entryId = ulid(now);
    const events: FeedEvent[] = [];
    const timelineEvents: EventEntry[] = [];

    let customerId: string;
    let thread: ThreadPlan;
    let customerIsNew = false;

    if (identity && identity.ticket_hint && attempt === 1) {
      // Fast path (2 round trips): the hinted ticket is still the customer's active ticket.
      customerId = identity.customer_id;
      thread = { action: 'append', ticketId: identity.ticket_hint, fromStatus: 'any-active' };
    } else if (identity) {
      customerId = identity.customer_id;
      const customer = await getCustomer(db, customerId);
      if (!customer) throw new ProcessError('identity points to a missing customer', { cause: { customer_id: customerId, stage: 'load' } });
      const current = customer.current_ticket_id ? await getTicket(db, customer.current_ticket_id) : undefined;
      const decision = decideThread(current ? { id: current.id, status: current.status, ...(current.resolved_at ? { resolved_at: current.resolved_at } : {}) } : null, now, reopenWindowMs);
      if (decision.action === 'append') {
        thread = { action: 'append', ticketId: decision.ticketId, fromStatus: current?.status === 'pending_customer' ? 'pending_customer' : 'any-active' };
      } else if (decision.action === 'reopen') {
        thread = { action: 'reopen', ticketId: decision.ticketId };
      } else {
        thread = { action: 'open', ticket: await newTicket(msg, customerId, now, decision.previousTicketId), expectedCurrent: customer.current_ticket_id ?? null };
      }
    } else {
      customerId = ulid(now);
      customerIsNew = true;
      thread = { action: 'open', ticket: await newTicket(msg, customerId, now, null), expectedCurrent: null };
    }

    const ticketId = thread.action === 'open' ? thread.ticket.id : thread.ticketId;
    if (thread.action === 'open') {
      events.push({ id: ulid(now), type: 'ticket.opened', at: now, ticket_id: ticketId, customer_id: customerId, data: { number: thread.ticket.number, channel: msg.channel, previous_ticket_id: thread.ticket.previous_ticket_id } });
      timelineEvents.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'ticket.opened', data: { channel: msg.channel, ...(thread.ticket.previous_ticket_id ? { previous_ticket_id: thread.ticket.previous_ticket_id } : {}) } });
    } else if (thread.action === 'reopen') {
      events.push({ id: ulid(now), type: 'ticket.reopened', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, reason: 'customer_message' } });
      timelineEvents.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'ticket.reopened', data: { reason: 'customer_message' } });
    }
    const entry = messageEntry(msg, ticketId, entryId, now);
    events.push({ id: ulid(now), type: 'message.received', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, message_id: entryId, interaction: msg.interaction !== null } });

    const merged = mergeIdentity(identity, msg.customer_identity);
    const result = await commitInbound(db, {
      msg, nowMs: now, dedupTtlSeconds, entry,
      identity: stripIdentity(merged),
      identityIsNew: !identity,
      customer: { id: customerId, isNew: customerIsNew, ...(displayNameOf(merged) ? { displayName: displayNameOf(merged)! } : {}) },
      ...(replyContextOf(msg) ? { replyContext: replyContextOf(msg)! } : {}),
      thread, events, timelineEvents,
    });
    if (result === 'committed') {
      log.info('inbound committed', { channel: msg.channel, ticket_id: ticketId, customer_id: customerId, action: thread.action, attempt });
    }
    return result;
  }

  async function newTicket(msg: InboundMessage, customerId: string, now: number, previous: string | null): Promise<TicketRecord> {
    const n = await nextCounter(db, 'ticket');
    const priority = 'normal' as const;
    return {
      id: ulid(now), number: formatTicketNumber(deps.config.CONFLUO_TICKET_PREFIX, n), status: 'new', priority,
      category: null, tags: [], customer_id: customerId, channel: msg.channel, conversation_id: msg.conversation_id,
      assignee: null, team: null, sla: initialSla(priority, now), survey: null, merged_into: null, previous_ticket_id: previous,
      created_at: now, updated_at: now, last_inbound_at: now, last_outbound_at: null, first_response_at: null,
      resolved_at: null, closed_at: null, message_count: 1,
      ...(typeof msg.subject === 'string' ? { subject: msg.subject } : {}),
    };
  }

  async function applyEdit(msg: InboundMessage, ref: { ticket_id: string; entry_sk: string }): Promise<Outcome> {
    const now = deps.clock.now();
    const entry = await getTimelineEntry(db, ref.ticket_id, ref.entry_sk);
    const previousText = entry && entry.type === 'message' ? entry.text : '';
    const result = await commitEdit(db, {
      channel: msg.channel, dedupKey: msg.dedup_key, nowMs: now, dedupTtlSeconds, ticketId: ref.ticket_id, entrySk: ref.entry_sk,
      previousText, text: msg.text, attachments: msg.attachments.length ? msg.attachments : null,
      editedAtMs: (msg.edited_at ?? Math.floor(now / 1000)) * 1000,
      feed: { id: ulid(now), type: 'message.edited', at: now, ticket_id: ref.ticket_id, data: { channel: msg.channel } },
    });
    return result === 'conflict' ? Promise.reject(new ProcessError('edit target vanished', { cause: { stage: 'edit' } })) : result;
  }

  async function handleIgnored(ev: IgnoredEvent): Promise<Outcome> {
    const adapter = lookup(ev.channel);
    for (const u of ev.status_updates ?? []) {
      const ref = await getMessageRef(db, ev.channel, u.external_message_id);
      if (!ref || ref.direction !== 'out') continue; // receipts for messages we don't know are ignored
      const state = adapter?.deliveryFor?.(u);
      if (state) await advanceDelivery(db, { ticketId: ref.ticket_id, entrySk: ref.entry_sk }, state, { status: u.status, ...(u.error_code !== undefined ? { error: u.error_code } : {}) });
    }
    if (ev.reachability && ev.customer_identity) {
      try {
        await db.doc.send(new UpdateCommand({
          TableName: db.tableName, Key: keys.identity(ev.channel, ev.customer_identity.external_id),
          UpdateExpression: 'SET reachability = :r', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':r': ev.reachability },
        }));
      } catch (e) {
        if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
      }
    }
    return ev.status_updates?.length ? 'status' : 'ignored';
  }

  async function handleVerification(ev: VerificationEvent): Promise<Outcome> {
    const key = keys.dedupe(ev.channel, ev.dedup_key);
    const seen = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }));
    if (seen.Item) return 'duplicate';
    if (!deps.confirmSubscription) throw new ProcessError('no subscription confirmer configured', { cause: { channel: ev.channel, stage: 'verify' } });
    await deps.confirmSubscription(ev.channel, ev.confirm.url); // confirming twice is harmless
    const now = deps.clock.now();
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...key, at: now, ttl: Math.floor(now / 1000) + dedupTtlSeconds } }));
    return 'verified';
  }

  async function recordHandler(record: SQSRecord): Promise<Outcome[]> {
    const parsed = EnvelopeSchema.safeParse(JSON.parse(record.body));
    if (!parsed.success) throw new ProcessError('queue message is not an envelope', { cause: { stage: 'envelope', message_id: record.messageId } });
    const envelope = parsed.data as Envelope;
    const adapter = lookup(envelope.channel);
    if (!adapter) throw new ProcessError('unknown channel in envelope', { cause: { channel: envelope.channel, stage: 'route' } });
    const events = await adapter.parse(envelope, deps.readObject ? { readObject: deps.readObject } : {});
    const outcomes: Outcome[] = [];
    for (const ev of events) {
      if (ev.kind === 'message') outcomes.push(await handleMessage(ev));
      else if (ev.kind === 'ignored') outcomes.push(await handleIgnored(ev));
      else outcomes.push(await handleVerification(ev));
    }
    log.info('record processed', { channel: envelope.channel, request_id: envelope.request_id, outcomes });
    return outcomes;
  }

  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, async (record: SQSRecord) => {
      try {
        return await recordHandler(record);
      } catch (e) {
        log.error('record failed', { message_id: record.messageId, ...errorFacts(e) });
        const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
        if (deps.deadLetter && receives >= maxReceiveCount) {
          await deps.deadLetter(record, failureReason(e));
          log.warn('record dead-lettered', { message_id: record.messageId, receives });
          return ['dead-lettered'];
        }
        throw e;
      }
    }, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false });
  };
  return Object.assign(handler, { recordHandler, handleMessage });
}

/** A short, non-personal reason: error name, our own message, the stage from `cause`. */
export function failureReason(e: unknown): string {
  if (!(e instanceof Error)) return 'unknown failure';
  const stage = (e.cause as { stage?: string } | undefined)?.stage;
  // Messages of foreign errors (JSON.parse, libraries) may quote the input: keep only ours.
  const ours = ['ProcessError', 'ChannelRequestError', 'StoreError'].includes(e.name);
  return redactString(`${e.name}${stage ? ` at ${stage}` : ''}${ours ? `: ${e.message}` : ''}`).slice(0, 300);
}

function messageEntry(msg: InboundMessage, ticketId: string, id: string, now: number): MessageEntry {
  const { kind: _k, channel, dedup_key: _d, external_message_id, conversation_id, sent_at, sent_at_ms, edit, edited_at, text, attachments, interaction, in_reply_to, customer_identity: _ci, contact, phone_in_text, ...extras } = msg;
  return {
    type: 'message', id, ticket_id: ticketId, at: now, channel, direction: 'in', external_message_id, conversation_id,
    text, attachments, interaction, edited: edit, ...(edit && edited_at ? { edited_at: edited_at * 1000 } : {}),
    sent_at: sent_at_ms ?? sent_at * 1000, ...(in_reply_to ? { in_reply_to } : {}),
    ...(contact || phone_in_text || Object.keys(extras).length ? { extras: { ...extras, ...(contact ? { contact } : {}), ...(phone_in_text ? { phone_in_text } : {}) } } : {}),
  };
}

/**
 * Channel extras the sender needs to reply (channels.md: WhatsApp `business_account`, Twilio
 * `business_address`/`sub_channel`, e-mail `rfc_message_id`/`subject`/`thread`, Meta `page`):
 * kept on the identity as `reply_context` and handed to `render` as `OutboundMessage.context`.
 */
export const REPLY_CONTEXT_KEYS = ['business_account', 'business_address', 'sub_channel', 'rfc_message_id', 'subject', 'thread', 'page', 'references'] as const;

function replyContextOf(msg: InboundMessage): Record<string, unknown> | undefined {
  const ctx: Record<string, unknown> = {};
  for (const k of REPLY_CONTEXT_KEYS) if (msg[k] !== undefined) ctx[k] = msg[k];
  return Object.keys(ctx).length ? ctx : undefined;
}

function stripIdentity(i: Partial<IdentityRecord>): IdentityRecord {
  const { channel: _c, customer_id: _cu, ticket_hint: _t, conversation_id: _cv, last_inbound_at: _l, reachability: _r, created_at: _ca, reply_context: _rc, ...rest } = i as IdentityRecord;
  return rest as IdentityRecord;
}

export const handler = lazyHandler(async () => {
  const config = await awsConfig();
  return makeProcess({
    db: awsDb(config), clock: systemClock, config, confirmSubscription: httpsConfirm, readObject: readS3Object,
    ...(config.CONFLUO_INBOUND_DLQ_URL ? { deadLetter: sqsDeadLetter(config.CONFLUO_INBOUND_DLQ_URL) } : {}),
  });
});

/** SNS subscription confirmation: a GET of the (already validated) SubscribeURL. */
async function httpsConfirm(_channel: string, url: string): Promise<void> {
  const res = await fetch(url, { method: 'GET' });
  if (!res.ok) throw new ProcessError('subscription confirmation refused', { cause: { stage: 'verify', status: res.status } });
}
