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
import type { ChannelAdapter, Envelope, Secrets } from '../channels/channel.js';
import { channelByName } from '../channels/registry.js';
import type { Clock } from '../domain/clock.js';
import { lambdaHandler } from '../runtime/aws.js';
import type { Enqueue, ProcessMetrics } from '../runtime/ports.js';
import type { Attachment, IgnoredEvent, InboundMessage, StatusUpdate, VerificationEvent, WatermarkUpdate } from '../domain/inbound.js';
import { CHANNELS, ignoredReasonCode, isMalformedReason } from '../domain/inbound.js';
import { displayNameOf, senderAuthenticated } from '../domain/identity.js';
import { makeIdentify } from './identify.js';
import { decideThread } from '../domain/threading.js';
import { formatTicketNumber, isActive } from '../domain/ticket.js';
import { initialSla, raisePriority } from '../domain/sla/policy.js';
import { classifyReply, surveyOf, surveySettingsFrom, type SurveyReply } from '../domain/survey.js';
import type { Config } from '../runtime/config.js';
import { logger as defaultLogger, errorFacts } from '../runtime/logger.js';
import { redactString } from '../domain/redact.js';
import type { Db } from '../store/db.js';
import { commitEdit, commitInbound, type ThreadPlan } from '../store/inbound.js';
import { nextTicketNumber, returnTicketNumber } from '../store/ticket-numbers.js';
import { advanceDelivery, failDelivery } from '../store/outbound.js';
import { setReachability } from '../store/reachability.js';
import { deliveryFailureReason } from '../domain/delivery.js';
import { getCustomer, getIdentity, getMessageRef, getTicket, getTimelineEntry, listTimeline } from '../store/reads.js';
import type { EventEntry, FeedEvent, IdentityRecord, MessageEntry, TicketRecord } from '../store/records.js';
import { keys } from '../store/table.js';
import { lastInboundOn } from '../store/last-inbound.js';
import { mediaKeys } from '../domain/media.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeOfferStep, type KbIndexSource } from './process-offer.js';

export interface ProcessDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly channel?: (name: string) => ChannelAdapter | undefined;
  /** Performs an SNS subscription confirmation (AWS: HTTPS GET; local: outbox entry). */
  readonly confirmSubscription?: (channel: string, url: string) => Promise<void>;
  /** Reads raw objects for adapters (SES S3 action). */
  readonly readObject?: (bucket: string, key: string) => Promise<Buffer>;
  /**
   * Keeps the raw MIME of an e-mail with attachments in the media bucket under
   * `mediaKeys.inboundMail(dedup_key)` before the queue message (its only copy) is deleted; the
   * media function cuts the attachments out of it. Without it e-mail attachments stay metadata.
   */
  readonly keepMail?: (dedupKey: string, raw: Buffer) => Promise<void>;
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
  /** Counters of dropped events (AWS: CloudWatch via Powertools; locally absent). */
  readonly metrics?: ProcessMetrics;
  /** The published articles' search index (default: built per warm instance, functions/store/kb.ts `makeKbIndexCache`). */
  readonly kbIndex?: KbIndexSource;
}

export class ProcessError extends Error {
  override readonly name = 'ProcessError';
}

/**
 * A record that can never be processed: not an envelope, an unknown channel, a body the adapter
 * cannot parse, an S3-action mail that is not there or not ours to read. Retrying would only
 * hold its conversation back (five receives × the visibility timeout ≈ 15 minutes), so it is
 * dead-lettered with its reason on the receive that found it.
 */
export class UnprocessableRecordError extends Error {
  override readonly name = 'UnprocessableRecordError';
}

/** S3 answers that retrying cannot change (S3 reads are strongly consistent: a missing object stays missing). */
const FINAL_S3_ERRORS = new Set(['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'InvalidBucketName', 'InvalidObjectState']);

/** An object read that failed in a way a retry may cure (throttling, 5xx, network). */
class TransientReadError extends Error {
  override readonly name = 'TransientReadError';
}

const EnvelopeSchema = z.object({
  v: z.literal(1), channel: z.enum(CHANNELS), request_id: z.string(), received_at: z.number(),
  body_b64: z.string(), headers: z.record(z.string(), z.string()), query: z.record(z.string(), z.string()),
  auth: z.record(z.string(), z.unknown()).nullable(),
});

const MAX_ATTEMPTS = 12;
const DAY_MS = 86_400_000;

export type Outcome = 'committed' | 'duplicate' | 'ignored' | 'status' | 'verified';

/** The counter value of a number formatted by `formatTicketNumber` (`<prefix>-<digits>`). */
const ticketNumberOf = (formatted: string) => Number(formatted.slice(formatted.lastIndexOf('-') + 1));

export function makeProcess(deps: ProcessDeps) {
  const log = deps.logger ?? defaultLogger;
  const lookup = deps.channel ?? channelByName;
  const ulid = monotonicFactory();
  const dedupTtlSeconds = Number(deps.config.CONFLUO_DEDUP_TTL_DAYS) * 86_400;
  const reopenWindowMs = Number(deps.config.CONFLUO_REOPEN_WINDOW_DAYS) * DAY_MS;
  const { db } = deps;
  const maxReceiveCount = deps.maxReceiveCount ?? 5;
  const identify = makeIdentify({ db, newId: (now) => ulid(now), log });
  const surveySettings = surveySettingsFrom(deps.config);
  // Articles offered before a ticket opens (README "Knowledge base": deflection on messengers).
  const offers = makeOfferStep({ db, config: deps.config, newId: (now) => ulid(now), ...(deps.kbIndex ? { kbIndex: deps.kbIndex } : {}), log });

  async function handleMessage(msg: InboundMessage): Promise<Outcome> {
    if (msg.edit) {
      const ref = await getMessageRef(db, msg.channel, msg.external_message_id);
      if (ref) return applyEdit(msg, ref);
    }
    let fastAllowed = true;
    let merges = 0;
    const merged = new Map<string, string>();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = await tryCommit(msg, attempt, fastAllowed, merged);
      if (result === 'merged') {
        // Two customers were one: merged (its own transaction). Decide again, right away; the fast
        // path is fine again (the moved identities carry the surviving customer's ticket hint).
        if (++merges > 4) throw new ProcessError('too many customer merges for one message', { cause: { channel: msg.channel, stage: 'identify', merges } });
        fastAllowed = true;
        attempt -= 1;
        continue;
      }
      if (result !== 'conflict') return result;
      fastAllowed = false;
      await new Promise((r) => setTimeout(r, Math.min(250, 5 * 2 ** attempt) * Math.random()));
    }
    throw new ProcessError('gave up after repeated write conflicts', { cause: { channel: msg.channel, stage: 'commit', attempts: MAX_ATTEMPTS } });
  }

  async function tryCommit(msg: InboundMessage, attempt: number, fastAllowed: boolean, merged: Map<string, string>): Promise<'committed' | 'duplicate' | 'conflict' | 'merged'> {
    const now = deps.clock.now();
    // Identity resolution (DESIGN.md §2): verified attributes link and merge customers, claims become suggestions.
    const who = await identify(msg, { now, fastAllowed, merged });
    if (who.kind === 'merged') { merged.set(who.loser, who.winner); return 'merged'; }
    const identity = who.stored;
    const entryId = ulid(now);
    const events: FeedEvent[] = [...who.events];
    const timelineEvents: EventEntry[] = [];

    let customerId: string = who.customerId;
    let thread: ThreadPlan;
    // Mail failing DMARC (anyone can write any From:) is kept and shown, marked, but does not act
    // as the customer: no survey answer, no reopen (functions/domain/identity.ts `senderAuthenticated`).
    const authenticated = senderAuthenticated(msg);
    let surveyReply: Exclude<SurveyReply, { kind: 'message' }> | undefined;
    const customerIsNew = who.customerIsNew;
    // An article offered instead of opening the ticket, or the held conversation this message answers.
    let offer: Awaited<ReturnType<typeof offers.find>>;
    let answered: TicketRecord | undefined;

    // E-mail threading (channels.md §8 "Ticket resolution"): the ticket of the mail answered, or
    // named in the subject — only one of this sender's customer's own tickets.
    const threaded = identity && !customerIsNew ? await threadedTicket(msg, customerId) : undefined;
    // The ticket the message joins, where the slow path loaded it: its window anchor for this identity is the floor.
    let loaded: TicketRecord | undefined;

    if (identity && identity.ticket_hint && who.fast && (!threaded || threaded.id === identity.ticket_hint)) {
      // Fast path (2 round trips): the hinted ticket is still the customer's active ticket.
      customerId = identity.customer_id;
      thread = { action: 'append', ticketId: identity.ticket_hint, fromStatus: 'any-active' };
    } else if (!customerIsNew) {
      // The customer's record as identification loaded it (slow path), or once more after the fast path was refused.
      const customer = who.customer ?? await getCustomer(db, customerId);
      if (!customer) throw new ProcessError('identity points to a missing customer', { cause: { customer_id: customerId, stage: 'load' } });
      const current = customer.current_ticket_id ? await getTicket(db, customer.current_ticket_id) : undefined;
      loaded = current;
      const reopenThreaded = threaded && authenticated ? threadedReopen(threaded, current, now) : undefined;
      // A reply to the survey of the current (resolved) ticket: an answer, its comment — not a new ticket, not a reopen.
      const reply = current && !reopenThreaded && (!threaded || threaded.id === current.id)
        ? classifyReply(current, { text: msg.text, interaction: msg.interaction, attachments: msg.attachments, authenticated }, now, surveySettings) : undefined;
      const decision = reopenThreaded ? { action: 'reopen' as const, ticketId: reopenThreaded.id } : decideThread(current ? { id: current.id, status: current.status, ...(current.resolved_at ? { resolved_at: current.resolved_at } : {}) } : null, now, reopenWindowMs, { mayReopen: authenticated });
      const offerThread = current && !reopenThreaded ? offers.answer(current, msg, now) : undefined;
      if (offerThread) {
        thread = offerThread;
        answered = current;
      } else if (current && reply && reply.kind !== 'message') {
        surveyReply = reply;
        thread = surveyThread(current, reply, entryId, now);
      } else if (decision.action === 'append') {
        thread = { action: 'append', ticketId: decision.ticketId, fromStatus: current?.status === 'pending_customer' ? 'pending_customer' : 'any-active' };
      } else if (decision.action === 'reopen') {
        // A threaded reopen of an older ticket also moves the customer's current-ticket pointer.
        const reopened = reopenThreaded ?? current;
        const pending = surveyOf(reopened?.survey);
        thread = {
          action: 'reopen', ticketId: decision.ticketId, ...(reopenThreaded && reopenThreaded.id !== current?.id ? { moveFrom: current?.id ?? null } : {}),
          ...(pending && (pending.state === 'scheduled' || pending.state === 'sent') ? { cancelSurveyRound: pending.round } : {}),
        };
      } else {
        offer = await offers.find(msg, { authenticated, customer });
        thread = { action: 'open', ticket: await newTicket(msg, customerId, now, decision.previousTicketId, offer), expectedCurrent: customer.current_ticket_id ?? null };
      }
    } else {
      offer = await offers.find(msg, { authenticated, customer: undefined });
      thread = { action: 'open', ticket: await newTicket(msg, customerId, now, null, offer), expectedCurrent: null };
    }

    const ticketId = thread.action === 'open' ? thread.ticket.id : thread.ticketId;
    if (threaded?.id === ticketId) loaded = threaded;
    if (loaded?.id !== ticketId) loaded = undefined;
    const extraItems = [];
    if (thread.action === 'open' && offer) {
      extraItems.push(...offers.held({ msg, ticket: thread.ticket, offer, entryId, now, events, timelineEvents }));
    } else if (thread.action === 'offer') {
      offers.answered({ msg, thread, ticket: answered!, entryId, now, events, timelineEvents });
    } else if (thread.action === 'open') {
      events.push({ id: ulid(now), type: 'ticket.opened', at: now, ticket_id: ticketId, customer_id: customerId, data: { number: thread.ticket.number, channel: msg.channel, previous_ticket_id: thread.ticket.previous_ticket_id } });
      timelineEvents.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'ticket.opened', data: { channel: msg.channel, ...(thread.ticket.previous_ticket_id ? { previous_ticket_id: thread.ticket.previous_ticket_id } : {}) } });
    } else if (thread.action === 'reopen') {
      events.push({ id: ulid(now), type: 'ticket.reopened', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, reason: 'customer_message' } });
      timelineEvents.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'ticket.reopened', data: { reason: 'customer_message' } });
    } else if (thread.action === 'survey') {
      surveyEvents(thread, surveyReply!, msg, ticketId, customerId, entryId, now, events, timelineEvents);
    }
    const fetchable = pendingMedia(msg);
    const entry = {
      ...messageEntry(msg, ticketId, entryId, now), ...(authenticated ? {} : { unauthenticated: true }),
      ...(fetchable ? { attachments: fetchable } : {}),
    };
    // Attachments to keep: a job of their own (dispatch → media queue → media λ), so fetching them
    // never delays this message or its conversation.
    if (fetchable) {
      events.push({ id: ulid(now), type: 'media.pending', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, message_id: entryId, entry_sk: keys.timelineEntry(ticketId, entry.at, entryId).sk, count: fetchable.filter((a) => a.media).length } });
    }
    // A press the platform wants answered (Telegram answerCallbackQuery, VK sendMessageEventAnswer):
    // committed with the message, so it is answered once — and never for a duplicate, which
    // commits nothing (dispatch.ts → send.ts). The ref itself stays in the entry's extras.
    if (msg.interaction_ref) {
      events.push({ id: ulid(now), type: 'interaction.received', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, message_id: entryId, entry_sk: keys.timelineEntry(ticketId, entry.at, entryId).sk } });
    }
    // A survey reply that leaves the ticket resolved, or a conversation held or deflected by an
    // offered article, is no customer waiting for an agent (no SLA clock starts).
    if ((thread.action !== 'survey' || thread.reopen) && !(thread.action === 'open' && offer) && !(thread.action === 'offer' && thread.outcome !== 'release')) {
      events.push({ id: ulid(now), type: 'message.received', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, message_id: entryId, interaction: msg.interaction !== null } });
    }

    const upserted = who.identity;
    // The reply window runs from when the customer sent their latest message, by the platform's
    // clock — not from when we processed it: platforms retry a webhook for days, and a late
    // delivery must not reopen a window the platform has already closed. Never later than now (a
    // sender's clock may run ahead), never earlier than a message already seen: the identity's own
    // anchor (kept there before functions/store/last-inbound.ts) or the ticket's, when loaded —
    // on the fast path the commit's condition refuses moving it back, and the retry loads it.
    const floor = Math.max(identity?.last_sent_at ?? 0, loaded ? lastInboundOn(loaded as unknown as Record<string, unknown>, msg.channel, upserted.external_id)?.sent_at ?? 0 : 0);
    const result = await commitInbound(db, {
      msg, nowMs: now, dedupTtlSeconds, entry,
      identity: stripIdentity(upserted),
      ...(identity ? { storedIdentity: identity } : {}),
      onceByMessageId: oncePerMessageId(msg),
      sentAt: Math.max(floor, Math.min(now, msg.sent_at_ms ?? msg.sent_at * 1000)),
      identityIsNew: who.identityIsNew,
      customer: { id: customerId, isNew: customerIsNew, ...(displayNameOf(upserted) ? { displayName: displayNameOf(upserted)! } : {}) },
      ...(replyContextOf(msg) ? { replyContext: replyContextOf(msg)! } : {}),
      thread, events, timelineEvents,
      identityItems: who.items,
      ...(extraItems.length ? { extraItems } : {}),
      ...(who.identityFromCustomer ? { identityFromCustomer: who.identityFromCustomer } : {}),
      ...(who.identityReplacesCustomer ? { identityReplacesCustomer: who.identityReplacesCustomer } : {}),
      identityExtras: {
        ...who.identityExtras,
        // A customer who writes can be written to again (an unblocked bot, a new WhatsApp app) —
        // except on SMS, where a STOP holds until an explicit START (Twilio 21610). Only a marked
        // identity changes (no mark is reachable), so a message rewrites no identity for it.
        ...(msg.channel !== 'twilio' && !who.identityIsNew && identity?.reachability !== undefined ? { reachability: 'reachable' } : {}),
      },
    });
    // A ticket number drawn for a commit that did not happen goes back (no gap from a lost race).
    if (result !== 'committed' && thread.action === 'open') returnTicketNumber(db, ticketNumberOf(thread.ticket.number));
    if (result === 'committed') {
      log.info('inbound committed', { channel: msg.channel, ticket_id: ticketId, customer_id: customerId, action: thread.action, attempt });
    }
    return result;
  }

  /** The thread plan of a survey reply (functions/domain/survey.ts `classifyReply`). */
  function surveyThread(ticket: TicketRecord, reply: Exclude<SurveyReply, { kind: 'message' }>, entryId: string, now: number): ThreadPlan {
    const s = surveyOf(ticket.survey)!;
    const base = { action: 'survey' as const, ticketId: ticket.id, round: s.round, expectState: s.state };
    if (reply.kind === 'answer') {
      return {
        ...base,
        surveySet: { state: 'answered', score: reply.score, answered_at: now, comment: reply.comment, low: reply.low, reopened: reply.reopen, followup: 'pending', answer_message_id: entryId, ...(reply.reopen ? { raised_from: ticket.priority } : {}) },
        ...(reply.reopen ? { reopen: { priority: raisePriority(ticket.priority, 1), from: ticket.priority } } : {}),
      };
    }
    if (reply.kind === 'comment') return { ...base, surveySet: { comment: reply.comment, commented_at: now }, requireNoComment: true };
    return { ...base, surveySet: {} };
  }

  function surveyEvents(
    thread: Extract<ThreadPlan, { action: 'survey' }>, reply: Exclude<SurveyReply, { kind: 'message' }>, msg: InboundMessage,
    ticketId: string, customerId: string, entryId: string, now: number, events: FeedEvent[], timeline: EventEntry[],
  ): void {
    if (reply.kind === 'answer') {
      const data = { round: thread.round, scale: reply.scale, score: reply.score, low: reply.low, reopened: reply.reopen, comment: reply.comment !== null };
      events.push({ id: ulid(now), type: 'survey.answered', at: now, ticket_id: ticketId, customer_id: customerId, data: { ...data, channel: msg.channel, message_id: entryId } });
      timeline.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'survey.answered', data });
      if (thread.reopen) {
        events.push({ id: ulid(now), type: 'ticket.reopened', at: now, ticket_id: ticketId, customer_id: customerId, data: { channel: msg.channel, reason: 'survey_low_score' } });
        timeline.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'ticket.reopened', data: { reason: 'survey_low_score', score: reply.score } });
        events.push({ id: ulid(now), type: 'ticket.priority_changed', at: now, ticket_id: ticketId, customer_id: customerId, data: { from: thread.reopen.from, to: thread.reopen.priority, reason: 'survey_low_score' } });
      }
    } else if (reply.kind === 'comment') {
      events.push({ id: ulid(now), type: 'survey.commented', at: now, ticket_id: ticketId, customer_id: customerId, data: { round: thread.round, message_id: entryId } });
      timeline.push({ type: 'event', id: ulid(now), ticket_id: ticketId, at: now, event: 'survey.commented', data: { round: thread.round } });
    }
  }

  /**
   * channels.md §8 "Ticket resolution" (1) and (2): In-Reply-To, then References (newest first),
   * equal to the Message-ID of one of our outbound mails (its message reference, direction `out`,
   * written by the sender from SES's answer); then the `[C-000123]` ticket tag of the subject.
   * Counts only for a ticket of the sender's own customer: a forwarded thread never writes into a
   * stranger's ticket. Our Message-IDs are always SES's (`…@<region>.amazonses.com`), so other
   * ids cost no read.
   */
  async function threadedTicket(msg: InboundMessage, customerId: string): Promise<TicketRecord | undefined> {
    const t = msg.thread as { in_reply_to?: unknown; references?: unknown; ticket_tag?: unknown } | undefined;
    if (typeof t !== 'object' || t === null) return undefined;
    const refs = Array.isArray(t.references) ? [...t.references].reverse() : [];
    const ids = [...new Set([t.in_reply_to, ...refs].filter((x): x is string => typeof x === 'string' && /@(?:[a-z0-9-]+\.)?amazonses\.com>$/i.test(x)))].slice(0, 10);
    const owned = async (ticketId: string | undefined) => {
      const ticket = ticketId ? await getTicket(db, ticketId) : undefined;
      return ticket && ticket.customer_id === customerId ? ticket : undefined;
    };
    for (const id of ids) {
      const ref = await getMessageRef(db, msg.channel, id);
      const ticket = ref?.direction === 'out' ? await owned(ref.ticket_id) : undefined;
      if (ticket) return ticket;
    }
    if (typeof t.ticket_tag === 'string' && t.ticket_tag !== '') {
      const num = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticketNumber(t.ticket_tag), ConsistentRead: true }));
      return owned(typeof num.Item?.ticket_id === 'string' ? num.Item.ticket_id : undefined);
    }
    return undefined;
  }

  /**
   * A threaded ticket that is not the customer's current one is reopened (and becomes current)
   * when it was resolved within the reopen window and the current ticket is not active; one
   * active ticket per customer wins over the thread, so otherwise the normal rule applies.
   * (Threaded to the current ticket, the normal rule already picks it.)
   */
  function threadedReopen(threaded: TicketRecord, current: TicketRecord | undefined, now: number): TicketRecord | undefined {
    if (threaded.id === current?.id || (current && isActive(current.status))) return undefined;
    const within = threaded.status === 'resolved' && typeof threaded.resolved_at === 'number' && now - threaded.resolved_at <= reopenWindowMs;
    return within ? threaded : undefined;
  }

  /** `offer`: the conversation is held for an offered article — no SLA until it opens (functions/store/deflection.ts). */
  async function newTicket(msg: InboundMessage, customerId: string, now: number, previous: string | null, offer?: { readonly article_id: string; readonly language: string }): Promise<TicketRecord> {
    const n = await nextTicketNumber(db);
    const priority = 'normal' as const;
    return {
      id: ulid(now), number: formatTicketNumber(deps.config.CONFLUO_TICKET_PREFIX, n), status: offer ? 'held' : 'new', priority,
      category: null, tags: [], customer_id: customerId, channel: msg.channel, conversation_id: msg.conversation_id,
      assignee: null, team: null, sla: offer ? null : initialSla(priority, now), survey: null, merged_into: null, previous_ticket_id: previous,
      created_at: now, updated_at: now, last_inbound_at: now, last_outbound_at: null, first_response_at: null,
      resolved_at: null, closed_at: null, message_count: 1,
      ...(typeof msg.subject === 'string' ? { subject: msg.subject } : {}),
      ...(offer ? { deflection: { article_id: offer.article_id, language: offer.language, offered_at: now } } : {}),
    };
  }

  /**
   * Whether the message reference is this message's exactly-once marker (functions/store/table.ts
   * "Exactly once"): a new message whose platform id names one event — the dedupe key is that id,
   * or the channel says so (`capabilities.messageIdOnce`).
   */
  function oncePerMessageId(msg: InboundMessage): boolean {
    return !msg.edit && (msg.dedup_key === msg.external_message_id || lookup(msg.channel)?.capabilities.messageIdOnce === true);
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

  /**
   * An authenticated event dropped on purpose is never quiet: its reason code in the log (a
   * warning when the adapter called it malformed) and a metric per channel and reason.
   */
  function reportIgnored(ev: IgnoredEvent, requestId: string | undefined): void {
    const reason = ignoredReasonCode(ev.reason);
    const malformed = isMalformedReason(reason);
    (malformed ? log.warn : log.info).call(log, 'inbound event ignored', { channel: ev.channel, request_id: requestId, reason, malformed });
    deps.metrics?.ignored(ev.channel, reason, malformed);
  }

  async function handleIgnored(ev: IgnoredEvent): Promise<Outcome> {
    const adapter = lookup(ev.channel);
    for (const u of ev.status_updates ?? []) {
      const ref = await getMessageRef(db, ev.channel, u.external_message_id);
      if (!ref || ref.direction !== 'out') continue; // receipts for messages we don't know are ignored
      const state = adapter?.deliveryFor?.(u);
      if (state === 'failed') await failedReceipt(ev.channel, ref, u);
      else if (state) await advanceDelivery(db, { ticketId: ref.ticket_id, entrySk: ref.entry_sk }, state, { status: u.status, ...(u.error_code !== undefined ? { error: u.error_code } : {}) });
    }
    for (const w of ev.watermarks ?? []) await applyWatermark(ev.channel, adapter, w);
    if (ev.reachability && ev.customer_identity) {
      await setReachability(db, { channel: ev.channel, externalId: ev.customer_identity.external_id, reachability: ev.reachability, at: deps.clock.now(), reason: ev.reason });
    }
    return ev.status_updates?.length || ev.watermarks?.length ? 'status' : 'ignored';
  }

  /**
   * A `failed` receipt (WhatsApp `failed` with 131047, Twilio `undelivered` with 30003, Viber
   * `failed`): the message becomes `failed` with the code and its meaning, and the agents hear of
   * it (`message.failed`) like of a refusal on send.
   */
  async function failedReceipt(channel: IgnoredEvent['channel'], ref: { ticket_id: string; entry_sk: string }, u: StatusUpdate): Promise<void> {
    const entry = await getTimelineEntry(db, ref.ticket_id, ref.entry_sk);
    if (!entry || entry.type !== 'message') return;
    const ticket = await getTicket(db, ref.ticket_id);
    const now = deps.clock.now();
    const code = u.error_code ?? u.status;
    const reason = deliveryFailureReason(channel, String(code));
    await failDelivery(db, { ticketId: ref.ticket_id, entrySk: ref.entry_sk, messageId: entry.id }, {
      code, reason, at: now, status: u.status,
      feed: { id: ulid(now), type: 'message.failed', at: now, ticket_id: ref.ticket_id, ...(ticket ? { customer_id: ticket.customer_id } : {}), data: { channel, message_id: entry.id, entry_sk: ref.entry_sk, kind: entry.outbound_kind ?? 'reply', code, reason, source: 'receipt' } },
    });
  }

  /**
   * A receipt naming a time instead of messages (Messenger `read.watermark`, channels.md §3): our
   * messages on that conversation of the customer's current ticket, already handed to the
   * platform and queued at or before the watermark, move forward. One timeline read per receipt.
   */
  async function applyWatermark(channel: IgnoredEvent['channel'], adapter: ChannelAdapter | undefined, w: WatermarkUpdate): Promise<void> {
    const state = adapter?.deliveryFor?.({ external_message_id: w.conversation_id, status: w.status });
    if (!state) return;
    const identity = await getIdentity(db, channel, w.conversation_id);
    if (!identity?.ticket_hint) return; // a receipt for a conversation we do not know
    for (const e of await listTimeline(db, identity.ticket_hint)) {
      if (e.type !== 'message' || e.direction !== 'out' || e.channel !== channel || e.conversation_id !== w.conversation_id) continue;
      if (e.at > w.at_ms || (e.delivery !== 'sent' && e.delivery !== 'delivered')) continue;
      await advanceDelivery(db, { ticketId: identity.ticket_hint, entrySk: keys.timelineEntry(identity.ticket_hint, e.at, e.id).sk }, state, { status: w.status });
    }
  }

  /**
   * The message's attachments with `media: {status: 'pending'}` on each one its channel can fetch
   * (`ChannelAdapter.mediaFetch`; e-mail only when its MIME is kept); undefined when none can.
   */
  function pendingMedia(msg: InboundMessage): Attachment[] | undefined {
    const adapter = lookup(msg.channel);
    if (!adapter?.mediaFetch || msg.attachments.length === 0) return undefined;
    if (msg.channel === 'email' && !deps.keepMail) return undefined;
    let any = false;
    const marked = msg.attachments.map((a, i) => {
      if (adapter.mediaFetch!(a, i, { secrets: {} }) === null) return a;
      any = true;
      return { ...a, media: { status: 'pending' as const } };
    });
    return any ? marked : undefined;
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

  /**
   * The adapter's reading of a record. Parsing is deterministic: whatever it throws fails again
   * on every retry, so it is unprocessable — except a failed object read that may succeed later.
   */
  async function parseRecord(adapter: ChannelAdapter, envelope: Envelope, keepRaw?: (raw: Buffer) => void): Promise<Awaited<ReturnType<ChannelAdapter['parse']>>> {
    const read = deps.readObject;
    const readObject = read && (async (bucket: string, key: string) => {
      try {
        return await read(bucket, key);
      } catch (e) {
        const name = (e as { name?: string })?.name ?? 'Error';
        if (FINAL_S3_ERRORS.has(name)) throw new UnprocessableRecordError('S3-action mail cannot be read', { cause: { channel: envelope.channel, stage: 'read-object', code: name } });
        throw new TransientReadError('S3-action mail read failed', { cause: { channel: envelope.channel, stage: 'read-object', code: name } });
      }
    });
    try {
      return await adapter.parse(envelope, { ...(readObject ? { readObject } : {}), ...(keepRaw ? { keepRaw } : {}), settings: deps.config as unknown as Secrets });
    } catch (e) {
      if (e instanceof TransientReadError || e instanceof UnprocessableRecordError) throw e;
      throw new UnprocessableRecordError('the channel adapter cannot parse the record', { cause: { channel: envelope.channel, stage: 'parse', error: (e as Error)?.name ?? 'Error' } });
    }
  }

  async function recordHandler(record: SQSRecord): Promise<Outcome[]> {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = EnvelopeSchema.safeParse(body);
    if (!parsed.success) throw new UnprocessableRecordError('queue message is not an envelope', { cause: { stage: 'envelope', message_id: record.messageId } });
    const envelope = parsed.data as Envelope;
    const adapter = lookup(envelope.channel);
    if (!adapter) throw new UnprocessableRecordError('unknown channel in envelope', { cause: { channel: envelope.channel, stage: 'route' } });
    let raw: Buffer | undefined;
    const events = await parseRecord(adapter, envelope, deps.keepMail ? (r) => { raw = r; } : undefined);
    const outcomes: Outcome[] = [];
    for (const ev of events) {
      // Kept before the commit, so the media job finds it; a replay puts the same bytes again.
      if (ev.kind === 'message' && raw && deps.keepMail && !ev.edit && ev.attachments.length > 0) await deps.keepMail(ev.dedup_key, raw);
      if (ev.kind === 'message') outcomes.push(await handleMessage(ev));
      else if (ev.kind === 'ignored') {
        const outcome = await handleIgnored(ev);
        if (outcome === 'ignored') reportIgnored(ev, envelope.request_id);
        outcomes.push(outcome);
      } else outcomes.push(await handleVerification(ev));
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
        if (deps.deadLetter && (e instanceof UnprocessableRecordError || receives >= maxReceiveCount)) {
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
  const ours = ['ProcessError', 'UnprocessableRecordError', 'ChannelRequestError', 'StoreError'].includes(e.name);
  return redactString(`${e.name}${stage ? ` at ${stage}` : ''}${ours ? `: ${e.message}` : ''}`).slice(0, 300);
}

function messageEntry(msg: InboundMessage, ticketId: string, id: string, now: number): MessageEntry {
  const { kind: _k, channel, dedup_key, external_message_id, conversation_id, sent_at, sent_at_ms, edit, edited_at, text, attachments, interaction, in_reply_to, customer_identity: _ci, contact, phone_in_text, ...extras } = msg;
  return {
    type: 'message', id, ticket_id: ticketId, at: now, channel, direction: 'in', external_message_id, conversation_id, dedup_key,
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
  const {
    channel: _c, customer_id: _cu, ticket_hint: _t, conversation_id: _cv, last_inbound_at: _l, last_sent_at: _ls, reachability: _r, reachability_at: _ra, reachability_reason: _rr,
    created_at: _ca, reply_context: _rc, origin_customer_id: _o, last_message: _lm, ...rest
  } = i as IdentityRecord;
  return rest as IdentityRecord;
}

export const handler = lambdaHandler(async (platform) => {
  const config = await platform.settings();
  const perform = platform.perform(config);
  const dlqUrl = config.CONFLUO_INBOUND_DLQ_URL;
  const media = config.CONFLUO_MEDIA_BUCKET ? platform.media(config) : undefined;
  return makeProcess({
    db: platform.db(config), clock: platform.clock, config,
    readObject: (bucket, key) => platform.readObject(bucket, key),
    ...(media ? { keepMail: (dedupKey: string, raw: Buffer) => media.put(mediaKeys.inboundMail(dedupKey), raw, { contentType: 'message/rfc822' }) } : {}),
    // SNS subscription confirmation: a GET of the (already validated) SubscribeURL.
    confirmSubscription: async (channel, url) => {
      const res = await perform({ method: 'GET', url, headers: {}, body: null }, { channel, kind: 'sns-confirmation', ticket_id: null });
      if (res.status < 200 || res.status >= 300) throw new ProcessError('subscription confirmation refused', { cause: { stage: 'verify', status: res.status } });
    },
    ...(dlqUrl ? { deadLetter: queueDeadLetter(platform.queue(dlqUrl)) } : {}),
    ...(platform.processMetrics ? { metrics: platform.processMetrics } : {}),
  });
});

/** Dead-letter a record ourselves (FIFO DLQ): the original body, its group, the reason and receive count as message attributes. */
export function queueDeadLetter(enqueue: Enqueue): NonNullable<ProcessDeps['deadLetter']> {
  return async (record, reason) => {
    await enqueue({
      body: record.body, groupId: record.attributes.MessageGroupId ?? 'dead-letter', deduplicationId: record.messageId,
      attributes: { reason, source_queue: record.eventSourceARN, receive_count: record.attributes.ApproximateReceiveCount },
    });
  };
}
