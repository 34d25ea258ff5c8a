/**
 * The analytics datasets (issue 9): their columns — one definition used by the export (DuckDB
 * table and Parquet schema), the Glue tables of the Export construct and the analysts' docs — and
 * the pure row builders from stored records. No I/O.
 *
 * Partitions (`dt=YYYY-MM-DD`, UTC) are chosen so a row never changes partition:
 * tickets and surveys by the day the ticket was opened, messages and events by their own time,
 * customers by the day they were first seen.
 *
 * Privacy (DESIGN.md §2): by default no personal data is exported. Message text and survey
 * comments only with `CONFLUO_EXPORT_MESSAGE_TEXT=on`; customer name/language/country only with
 * `CONFLUO_EXPORT_CUSTOMER_PROFILE=on`; neither ever for an erased customer. Attachments export
 * their type only (file names and URLs can be personal). Event data passes the logger's redaction.
 */
import { redactData } from './redact.js';
import type { TicketFacts } from './kpi.js';

export type ColumnType = 'varchar' | 'bigint' | 'integer' | 'double' | 'boolean' | 'timestamp' | 'varchar[]';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly doc: string;
}

export const DATASETS = ['tickets', 'messages', 'customers', 'events', 'surveys'] as const;
export type Dataset = (typeof DATASETS)[number];

const c = (name: string, type: ColumnType, doc: string): Column => ({ name, type, doc });

export const SCHEMAS: Readonly<Record<Dataset, { readonly key: string; readonly partitionedBy: string; readonly doc: string; readonly columns: readonly Column[] }>> = {
  tickets: {
    key: 'ticket_id', partitionedBy: 'day the ticket was opened (created_at, UTC)',
    doc: 'One row per ticket (merged tickets are folded into the ticket they were merged into), with the per-ticket KPI facts of functions/domain/kpi.ts.',
    columns: [
      c('ticket_id', 'varchar', 'ticket id (ULID)'),
      c('number', 'varchar', 'human ticket number, e.g. C-000123'),
      c('status', 'varchar', 'new, open, pending_customer, on_hold, resolved, closed; held, deflected: a messenger conversation an offered article holds or solved (README "Knowledge base")'),
      c('priority', 'varchar', 'low, normal, high, urgent'),
      c('category', 'varchar', 'category set by agents or rules (null: none)'),
      c('channel', 'varchar', 'channel of the last inbound message'),
      c('customer_id', 'varchar', 'pseudonymous customer id'),
      c('assignee', 'varchar', 'agent id (null: unassigned)'),
      c('team', 'varchar', 'team id'),
      c('tags', 'varchar[]', 'tags'),
      c('previous_ticket_id', 'varchar', 'the earlier ticket this one follows up'),
      c('created_at', 'timestamp', 'opened (UTC)'),
      c('updated_at', 'timestamp', 'last activity (UTC)'),
      c('first_response_at', 'timestamp', 'first agent reply'),
      c('resolved_at', 'timestamp', 'last resolution'),
      c('closed_at', 'timestamp', 'closed'),
      c('last_inbound_at', 'timestamp', 'last customer message'),
      c('last_outbound_at', 'timestamp', 'last message to the customer'),
      c('message_count', 'integer', 'messages on the ticket'),
      c('sla_policy', 'varchar', 'SLA policy id'),
      c('sla_breached', 'varchar[]', 'SLA clocks breached: first_response, next_response, resolution, ola'),
      c('sla_escalation_level', 'integer', 'highest escalation level reached'),
      c('first_response_ms', 'bigint', 'KPI fact: first response time, wall ms'),
      c('first_response_business_ms', 'bigint', 'KPI fact: first response time, business ms of the SLA calendar'),
      c('resolution_ms', 'bigint', 'KPI fact: resolution time (resolved/closed tickets), wall ms'),
      c('resolution_business_ms', 'bigint', 'KPI fact: resolution time, business ms'),
      c('handle_ms', 'bigint', 'KPI fact: handle time (resolved/closed tickets), ms'),
      c('agent_replies', 'integer', 'KPI fact: agent replies (automatic messages excluded)'),
      c('customer_messages', 'integer', 'KPI fact: customer messages'),
      c('reopens', 'integer', 'KPI fact: times reopened'),
      c('reopened_within_7d', 'boolean', 'KPI fact: reopened within 7 days of a resolution'),
      c('ever_resolved', 'boolean', 'KPI fact: resolved at least once'),
      c('fcr', 'boolean', 'KPI fact: first contact resolution (null unless resolved/closed)'),
      c('sla_met', 'boolean', 'KPI fact: no SLA clock breached (null: no SLA)'),
      c('backlog', 'boolean', 'KPI fact: still active at export time'),
      c('survey_scale', 'varchar', 'csat or nps (null: no answered survey)'),
      c('survey_score', 'integer', 'survey score'),
      // Added later: new columns go at the end (Glue table and older Parquet files read by name; a missing column reads null).
      c('tier', 'varchar', 'customer tier copied onto the ticket, e.g. vip (null: none)'),
      c('contract', 'varchar', 'contract copied with the tier (null: none)'),
      c('calls_answered', 'integer', 'KPI fact: inbound phone calls an agent answered'),
      c('calls_abandoned', 'integer', 'KPI fact: inbound phone calls nobody answered that want a call-back'),
      c('call_wait_ms', 'bigint', 'KPI fact: summed queue wait of the inbound calls that queued, ms'),
      c('calls_waited', 'integer', 'KPI fact: inbound calls that queued'),
    ],
  },
  messages: {
    key: 'message_id', partitionedBy: 'day of the message (at, UTC)',
    doc: 'One row per message in or out, metadata only (text only with CONFLUO_EXPORT_MESSAGE_TEXT=on).',
    columns: [
      c('message_id', 'varchar', 'message id (ULID)'),
      c('ticket_id', 'varchar', 'ticket'),
      c('customer_id', 'varchar', 'pseudonymous customer id'),
      c('channel', 'varchar', 'channel'),
      c('direction', 'varchar', 'in (customer) or out'),
      c('kind', 'varchar', 'customer, reply, acknowledgement, survey, reminder'),
      c('author', 'varchar', 'agent id of a reply'),
      c('at', 'timestamp', 'received or queued (UTC)'),
      c('sent_at', 'timestamp', 'time the platform gave'),
      c('edited', 'boolean', 'edited by the customer'),
      c('delivery', 'varchar', 'outbound: queued, sent, delivered, read, failed'),
      c('attachment_count', 'integer', 'attachments'),
      c('attachment_types', 'varchar[]', 'image, video, audio, document, sticker, location, other'),
      c('has_interaction', 'boolean', 'a button/quick-reply payload'),
      c('text_length', 'integer', 'characters of text'),
      c('text', 'varchar', 'text (null unless CONFLUO_EXPORT_MESSAGE_TEXT=on; never for erased customers)'),
    ],
  },
  customers: {
    key: 'customer_id', partitionedBy: 'day the customer was first seen (created_at, UTC)',
    doc: 'One row per customer: pseudonymous id and channels; profile fields only with CONFLUO_EXPORT_CUSTOMER_PROFILE=on.',
    columns: [
      c('customer_id', 'varchar', 'pseudonymous customer id (ULID)'),
      c('created_at', 'timestamp', 'first seen (UTC)'),
      c('merged_into', 'varchar', 'the customer this one was merged into'),
      c('erased', 'boolean', 'erased on request (GDPR)'),
      c('erased_at', 'timestamp', 'when erased'),
      c('channels', 'varchar[]', 'channels of the customer\'s identities'),
      c('display_name', 'varchar', 'name (null unless CONFLUO_EXPORT_CUSTOMER_PROFILE=on)'),
      c('language', 'varchar', 'language (null unless CONFLUO_EXPORT_CUSTOMER_PROFILE=on)'),
      c('country', 'varchar', 'country (null unless CONFLUO_EXPORT_CUSTOMER_PROFILE=on)'),
    ],
  },
  events: {
    key: 'event_id', partitionedBy: 'day of the event (at, UTC)',
    doc: 'The change feed: ticket opened/reopened, message received, outbound queued, SLA escalated/breached, survey …; phone calls as `call.completed` (direction, outcome, queue_id, agent_id, wait_seconds, talk_seconds, disconnect_reason — no number, audio or transcript), `call.answered`, `callback.requested`, `callback.completed`',
    columns: [
      c('event_id', 'varchar', 'event id (ULID)'),
      c('type', 'varchar', 'e.g. ticket.opened, sla.breached'),
      c('at', 'timestamp', 'when (UTC)'),
      c('ticket_id', 'varchar', 'ticket'),
      c('customer_id', 'varchar', 'pseudonymous customer id'),
      c('data', 'varchar', 'event details as JSON (ids and codes; free text redacted)'),
    ],
  },
  surveys: {
    key: 'ticket_id', partitionedBy: 'day the ticket was opened (created_at, UTC)',
    doc: 'The latest CSAT/NPS survey of each surveyed ticket.',
    columns: [
      c('ticket_id', 'varchar', 'ticket'),
      c('customer_id', 'varchar', 'pseudonymous customer id'),
      c('channel', 'varchar', 'channel of the ticket'),
      c('scale', 'varchar', 'csat (1-5) or nps (0-10)'),
      c('score', 'integer', 'score (null: not answered)'),
      c('sent_at', 'timestamp', 'asked'),
      c('reminded_at', 'timestamp', 'reminded'),
      c('answered_at', 'timestamp', 'answered'),
      c('comment', 'varchar', 'comment (null unless CONFLUO_EXPORT_MESSAGE_TEXT=on; never for erased customers)'),
    ],
  },
};

/** A row as the export hands it to the Parquet writer: timestamps as epoch ms. */
export type Row = Record<string, string | number | boolean | null | string[]>;

export interface PrivacyOptions {
  /** CONFLUO_EXPORT_MESSAGE_TEXT=on */
  readonly messageText: boolean;
  /** CONFLUO_EXPORT_CUSTOMER_PROFILE=on */
  readonly customerProfile: boolean;
}

/** UTC day of an epoch-ms instant: the `dt` partition value. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Epoch ms of a time stored as ms or as an ISO string; null otherwise. */
export function toMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') { const t = Date.parse(v); return Number.isNaN(t) ? null : t; }
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export interface ExportTicket {
  readonly id: string; readonly number: string; readonly status: string; readonly priority: string; readonly category: string | null;
  readonly channel: string; readonly customer_id: string; readonly assignee: string | null; readonly team: string | null;
  readonly tags?: readonly string[]; readonly previous_ticket_id?: string | null;
  readonly created_at: number; readonly updated_at: number; readonly first_response_at: number | null; readonly resolved_at: number | null;
  readonly closed_at: number | null; readonly last_inbound_at: number | null; readonly last_outbound_at: number | null; readonly message_count?: number;
  readonly sla: { readonly policy?: string; readonly breached?: readonly string[]; readonly escalation_level?: number } | null;
  readonly survey: Readonly<Record<string, unknown>> | null;
  readonly tier?: string | null; readonly contract?: string | null;
}

export function ticketRow(t: ExportTicket, f: TicketFacts): Row {
  return {
    ticket_id: t.id, number: t.number, status: t.status, priority: t.priority, category: t.category ?? null, channel: t.channel,
    customer_id: t.customer_id, assignee: t.assignee ?? null, team: t.team ?? null, tags: [...(t.tags ?? [])],
    previous_ticket_id: t.previous_ticket_id ?? null,
    created_at: t.created_at, updated_at: t.updated_at, first_response_at: t.first_response_at ?? null, resolved_at: t.resolved_at ?? null,
    closed_at: t.closed_at ?? null, last_inbound_at: t.last_inbound_at ?? null, last_outbound_at: t.last_outbound_at ?? null,
    message_count: t.message_count ?? 0,
    sla_policy: t.sla?.policy ?? null, sla_breached: t.sla ? [...(t.sla.breached ?? [])] : [], sla_escalation_level: t.sla?.escalation_level ?? null,
    first_response_ms: f.first_response_ms, first_response_business_ms: f.first_response_business_ms,
    resolution_ms: f.resolution_ms, resolution_business_ms: f.resolution_business_ms, handle_ms: f.handle_ms,
    agent_replies: f.agent_replies, customer_messages: f.customer_messages, reopens: f.reopens,
    reopened_within_7d: f.reopened_within_7d, ever_resolved: f.ever_resolved, fcr: f.fcr, sla_met: f.sla_met, backlog: f.backlog,
    survey_scale: f.survey_scale, survey_score: f.survey_score,
    tier: t.tier ?? null, contract: t.contract ?? null,
    calls_answered: f.calls_answered, calls_abandoned: f.calls_abandoned, call_wait_ms: f.call_wait_ms, calls_waited: f.calls_waited,
  };
}

export interface ExportMessage {
  readonly id: string; readonly ticket_id: string; readonly at: number; readonly channel: string; readonly direction: 'in' | 'out';
  readonly text?: string; readonly attachments?: ReadonlyArray<{ readonly type: string }>; readonly interaction?: unknown;
  readonly edited?: boolean; readonly sent_at?: number; readonly delivery?: string; readonly outbound_kind?: string; readonly author?: string;
}

export function messageRow(m: ExportMessage, customerId: string, opts: PrivacyOptions & { readonly erased: boolean }): Row {
  const text = typeof m.text === 'string' ? m.text : '';
  return {
    message_id: m.id, ticket_id: m.ticket_id, customer_id: customerId, channel: m.channel, direction: m.direction,
    kind: m.direction === 'in' ? 'customer' : (m.outbound_kind ?? 'reply'), author: m.direction === 'out' ? str(m.author) : null,
    at: m.at, sent_at: toMs(m.sent_at), edited: m.edited === true, delivery: m.direction === 'out' ? (m.delivery ?? 'queued') : null,
    attachment_count: m.attachments?.length ?? 0, attachment_types: (m.attachments ?? []).map((a) => a.type),
    has_interaction: m.interaction !== null && m.interaction !== undefined,
    text_length: [...text].length,
    text: opts.messageText && !opts.erased ? text : null,
  };
}

export interface ExportCustomer {
  readonly id: string; readonly created_at: number; readonly merged_into?: string; readonly erased_at?: number; readonly display_name?: string;
}
export interface ExportIdentity { readonly channel: string; readonly language?: string; readonly country?: string }

export function customerRow(cu: ExportCustomer, identities: readonly ExportIdentity[], opts: PrivacyOptions): Row {
  const erased = typeof cu.erased_at === 'number';
  const profile = opts.customerProfile && !erased;
  return {
    customer_id: cu.id, created_at: cu.created_at, merged_into: cu.merged_into ?? null, erased, erased_at: cu.erased_at ?? null,
    channels: [...new Set(identities.map((i) => i.channel))].sort(),
    display_name: profile ? str(cu.display_name) : null,
    language: profile ? identities.map((i) => str(i.language)).find((x) => x !== null) ?? null : null,
    country: profile ? identities.map((i) => str(i.country)).find((x) => x !== null) ?? null : null,
  };
}

export interface ExportFeedEvent {
  readonly id: string; readonly type: string; readonly at: number; readonly ticket_id?: string; readonly customer_id?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export function eventRow(e: ExportFeedEvent): Row {
  return {
    event_id: e.id, type: e.type, at: e.at, ticket_id: e.ticket_id ?? null, customer_id: e.customer_id ?? null,
    data: JSON.stringify(redactData(e.data ?? {})),
  };
}

/** The survey row of a ticket, or null when it was never surveyed. */
export function surveyRow(t: ExportTicket, opts: PrivacyOptions & { readonly erased: boolean }): Row | null {
  const s = t.survey;
  if (!s) return null;
  const sentAt = toMs(s.sent_at);
  const score = typeof s.score === 'number' && Number.isFinite(s.score) ? s.score : null;
  if (sentAt === null && score === null) return null;
  return {
    ticket_id: t.id, customer_id: t.customer_id, channel: t.channel,
    scale: typeof s.scale === 'string' && s.scale.toLowerCase() === 'nps' ? 'nps' : 'csat',
    score, sent_at: sentAt, reminded_at: toMs(s.reminded_at), answered_at: toMs(s.answered_at),
    comment: opts.messageText && !opts.erased ? str(s.comment) : null,
  };
}
