/**
 * Voice events λ (issue 16): Amazon Connect contact events, delivered by EventBridge, become calls
 * on the caller's ticket.
 *
 * Only `DISCONNECTED` is filed: it carries every timestamp of the contact (initiation, queue,
 * agent, disconnect), so one event makes one call entry; INITIATED, QUEUED, CONNECTED_TO_AGENT and
 * the rest are acknowledged and dropped. Idempotent per (contact id, event type): the entry's
 * commit holds the dedupe marker `voice:<contact id>:DISCONNECTED` and its consequences another,
 * so an event EventBridge delivers again (it retries asynchronous invocations, and a rule target
 * may see an event twice: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html)
 * never adds a second entry or task.
 *
 * - **Inbound** (the customer called): through the process function's own commit
 *   (`makeProcess().handleMessage`) as a message of channel `voice` — identity, threading (the
 *   customer's open ticket, a reopen, or a new ticket) and its events exactly as for a WhatsApp
 *   message. The caller's number is a claim (functions/domain/voice.ts): their `voice:` identity is
 *   filed with the customer holding that number as a verified attribute, and it is verified only
 *   when the flow verified the caller. Then, on the ticket: an answered call is the first response
 *   (`call.answered`); a call nobody answered (abandoned in queue, after hours) opens a call-back
 *   task with the tier's priority (`callback.requested`), whose deadline is the SLA of channel
 *   `voice`.
 * - **Outbound** (an agent called back): the call entry on the customer's active ticket; a call the
 *   customer picked up answers them and settles the call-back.
 *
 * A call whose number Confluo never learnt (no lookup in the flow, an anonymous caller) is
 * counted (`VoiceCallUnfiled`) and dropped.
 */
import { monotonicFactory } from 'ulid';
import { platformPhoneToE164 } from '../channels/phone.js';
import type { Clock } from '../domain/clock.js';
import type { InboundMessage } from '../domain/inbound.js';
import {
  answersCustomer, callbackPriority, callEventData, callFacts, callSummary, ContactEvent, instanceIdOf, isInbound, wantsCallback, type CallFacts,
} from '../domain/voice.js';
import { lambdaHandler } from '../runtime/aws.js';
import type { Config } from '../runtime/config.js';
import { errorFacts, logger as defaultLogger } from '../runtime/logger.js';
import type { VoiceMetrics } from '../runtime/ports.js';
import type { Db } from '../store/db.js';
import { getCustomer, getIdentity, getTicket } from '../store/reads.js';
import type { EventEntry, FeedEvent, MessageEntry, TicketRecord } from '../store/records.js';
import { commitCallOutcome, commitOutboundCall, fileVoiceIdentity, findCaller, getCallContext, ticketOfCommittedCall, type CallContext, type CustomerWithTier } from '../store/voice.js';
import { makeProcess } from './process.js';

export interface VoiceEventsDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error' | 'debug'>;
  readonly metrics?: VoiceMetrics;
}

export class VoiceEventsError extends Error {
  override readonly name = 'VoiceEventsError';
}

export type VoiceOutcome =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'filed' | 'duplicate'; readonly ticket_id: string; readonly call: CallFacts };

const FILED_EVENT = 'DISCONNECTED';

export function makeVoiceEvents(deps: VoiceEventsDeps) {
  const log = deps.logger ?? defaultLogger;
  const { db, config } = deps;
  const ulid = monotonicFactory();
  const process = makeProcess({ db, clock: deps.clock, config, logger: log });
  const dedupTtlSeconds = Number(config.CONFLUO_DEDUP_TTL_DAYS) * 86_400;
  const recordings = config.CONFLUO_VOICE_RECORDINGS === 'on';

  const ignored = (reason: string, facts: Record<string, unknown> = {}): VoiceOutcome => {
    log.info('voice event ignored', { reason, ...facts });
    return { outcome: 'ignored', reason };
  };

  async function handle(event: unknown): Promise<VoiceOutcome> {
    const parsed = ContactEvent.safeParse(event);
    if (!parsed.success) {
      log.warn('voice event: not an Amazon Connect contact event', { stage: 'parse', issues: parsed.error.issues.length });
      return { outcome: 'ignored', reason: 'malformed' };
    }
    const d = parsed.data.detail;
    if (d.channel.toUpperCase() !== 'VOICE') return ignored('not_voice', { contact_id: d.contactId });
    if (d.eventType !== FILED_EVENT) return ignored('not_filed', { contact_id: d.contactId, event_type: d.eventType });
    const context = await getCallContext(db, d.contactId) ?? (d.initialContactId && d.initialContactId !== d.contactId ? await getCallContext(db, d.initialContactId) : undefined);
    const phone = platformPhoneToE164(d.customerEndpoint?.address ?? context?.phone ?? '');
    if (!phone) {
      deps.metrics?.callUnfiled('no_caller_number');
      return ignored('no_caller_number', { contact_id: d.contactId });
    }
    const call = callFacts(d, { recordings, instanceId: instanceIdOf(d.instanceArn ?? config.CONFLUO_CONNECT_INSTANCE_ARN), afterHours: context?.after_hours === true });
    return isInbound(d) ? inbound(call, phone, context) : outbound(call, phone);
  }

  /** The customer called: the call as an inbound message of channel `voice`, then its consequences. */
  async function inbound(call: CallFacts, phone: string, context: CallContext | undefined): Promise<VoiceOutcome> {
    const now = deps.clock.now();
    const verified = context?.caller_verified === true;
    if (!verified && !(await getIdentity(db, 'voice', phone))) {
      // A claimed number files the call with the customer who holds it verified (never merges).
      const holder = await findCaller(db, phone);
      if (holder) await fileVoiceIdentity(db, phone, holder.customer.id, now);
    }
    const dedupKey = `${call.contact_id}:${FILED_EVENT}`;
    const msg = {
      kind: 'message', channel: 'voice', dedup_key: dedupKey, external_message_id: call.contact_id, conversation_id: phone,
      sent_at: Math.floor(call.started_at / 1000), sent_at_ms: call.started_at, edit: false, text: callSummary(call), attachments: [], interaction: null,
      customer_identity: { external_id: phone, phone, phone_verified: verified },
      call,
    } as InboundMessage;
    const result = await process.handleMessage(msg);
    const ticketId = await ticketOfCommittedCall(db, dedupKey);
    if (!ticketId) throw new VoiceEventsError('call committed without a ticket', { cause: { contact_id: call.contact_id, stage: 'commit', result } });
    const done = await consequences(call, ticketId);
    log.info('voice call filed', { contact_id: call.contact_id, ticket_id: ticketId, direction: 'in', outcome: call.outcome, result, consequences: done });
    return { outcome: result === 'duplicate' ? 'duplicate' : 'filed', ticket_id: ticketId, call };
  }

  /**
   * What an inbound call changes on its ticket (its own marker): the call's facts in the change feed
   * (`call.completed`), and the first response or a call-back task.
   */
  async function consequences(call: CallFacts, ticketId: string): Promise<string> {
    const answered = answersCustomer(call);
    const callback = wantsCallback(call);
    for (let attempt = 1; attempt <= 6; attempt++) {
      const ticket = await getTicket(db, ticketId);
      if (!ticket) throw new VoiceEventsError('ticket of a call vanished', { cause: { ticket_id: ticketId, stage: 'consequences' } });
      const now = deps.clock.now();
      const timeline: EventEntry[] = [];
      const base = { ticket_id: ticketId, customer_id: ticket.customer_id };
      const events: FeedEvent[] = [{ id: ulid(now), type: 'call.completed', at: now, ...base, data: callEventData(call) }];
      const pending = callbackOf(ticket)?.state === 'pending';
      let raised: TicketRecord['priority'] | null = null;
      if (answered) {
        events.push({ id: ulid(now), type: 'call.answered', at: now, ...base, data: { channel: 'voice', contact_id: call.contact_id, direction: 'in' } });
        if (pending) {
          timeline.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'callback.completed', data: { contact_id: call.contact_id, by: 'inbound_call' } });
          events.push({ id: ulid(now), type: 'callback.completed', at: now, ...base, data: { contact_id: call.contact_id } });
        }
      } else if (callback && !pending) {
        const customer = await getCustomer(db, ticket.customer_id) as CustomerWithTier | undefined;
        const priority = callbackPriority(ticket.priority, customer?.tier);
        raised = priority !== ticket.priority ? priority : null;
        timeline.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'callback.requested', data: { contact_id: call.contact_id, outcome: call.outcome, priority, ...(customer?.tier ? { tier: customer.tier } : {}) } });
        events.push({ id: ulid(now), type: 'callback.requested', at: now, ...base, data: { channel: 'voice', contact_id: call.contact_id, outcome: call.outcome, priority } });
        if (raised) events.push({ id: ulid(now), type: 'ticket.priority_changed', at: now, ...base, data: { from: ticket.priority, to: raised, reason: 'callback_tier' } });
      }
      const r = await commitCallOutcome(db, {
        marker: `${call.contact_id}:${FILED_EVENT}:outcome`, ticketId, customerId: ticket.customer_id, nowMs: now, dedupTtlSeconds,
        ...(answered ? { answered: { at: Math.max(ticket.created_at, Math.min(now, ticketTimeOfAnswer(call))), contactId: call.contact_id } } : {}),
        ...(answered && pending ? { settleCallback: call.contact_id } : {}),
        ...(callback && !pending ? { callback: { task: { state: 'pending', contact_id: call.contact_id, requested_at: now }, priority: raised } } : {}),
        timeline, events,
      });
      if (r !== 'conflict') return r;
    }
    throw new VoiceEventsError('gave up after repeated write conflicts', { cause: { ticket_id: ticketId, stage: 'consequences' } });
  }

  /** An agent called the customer: the call on their active ticket. */
  async function outbound(call: CallFacts, phone: string): Promise<VoiceOutcome> {
    for (let attempt = 1; attempt <= 6; attempt++) {
      const caller = await findCaller(db, phone);
      const ticket = caller?.openTicket;
      if (!ticket) {
        deps.metrics?.callUnfiled('no_open_ticket');
        return ignored('no_open_ticket', { contact_id: call.contact_id, direction: 'out' });
      }
      const now = deps.clock.now();
      const answered = answersCustomer(call);
      const settles = answered && callbackOf(ticket)?.state === 'pending';
      const base = { ticket_id: ticket.id, customer_id: ticket.customer_id };
      const entry: MessageEntry = {
        type: 'message', id: ulid(now), ticket_id: ticket.id, at: now, channel: 'voice', direction: 'out', external_message_id: call.contact_id,
        conversation_id: phone, text: callSummary(call), attachments: [], interaction: null, edited: false, sent_at: call.started_at,
        delivery: answered ? 'delivered' : 'failed', ...(call.agent ? { author: call.agent } : {}), extras: { call },
      };
      const timeline: EventEntry[] = settles ? [{ type: 'event', id: ulid(now), ticket_id: ticket.id, at: now, event: 'callback.completed', data: { contact_id: call.contact_id, by: 'call_back' } }] : [];
      const events: FeedEvent[] = [
        { id: ulid(now), type: 'call.completed', at: now, ...base, data: { ...callEventData(call), message_id: entry.id } },
        ...(answered ? [{ id: ulid(now), type: 'call.answered', at: now, ...base, data: { channel: 'voice', contact_id: call.contact_id, direction: 'out' } }] : []),
        ...(settles ? [{ id: ulid(now), type: 'callback.completed', at: now, ...base, data: { contact_id: call.contact_id } }] : []),
      ];
      const r = await commitOutboundCall(db, {
        marker: `${call.contact_id}:${FILED_EVENT}`, ticket, entry, nowMs: now, dedupTtlSeconds,
        answeredAt: answered ? Math.min(now, ticketTimeOfAnswer(call)) : null, settles, timeline, events,
      });
      if (r === 'conflict') continue;
      log.info('voice call filed', { contact_id: call.contact_id, ticket_id: ticket.id, direction: 'out', outcome: call.outcome, result: r });
      return { outcome: r === 'duplicate' ? 'duplicate' : 'filed', ticket_id: ticket.id, call };
    }
    throw new VoiceEventsError('gave up after repeated write conflicts', { cause: { contact_id: call.contact_id, stage: 'outbound' } });
  }

  return async (event: unknown): Promise<VoiceOutcome> => {
    try {
      return await handle(event);
    } catch (e) {
      // Thrown: EventBridge retries the invocation, then the rule's dead-letter queue keeps it.
      log.error('voice event failed', { stage: 'voice-events', ...errorFacts(e) });
      throw e;
    }
  };
}

/** When the customer was answered: the agent's pick-up is not in CallFacts, so the end of the wait (or the call's start). */
function ticketTimeOfAnswer(call: CallFacts): number {
  return call.ended_at - call.talk_seconds * 1000;
}

const callbackOf = (t: TicketRecord) => (t as TicketRecord & { callback?: { state?: string } }).callback;

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  return makeVoiceEvents({ db: platform.db(config), clock: platform.clock, config, ...(platform.voiceMetrics ? { metrics: platform.voiceMetrics } : {}) });
});
