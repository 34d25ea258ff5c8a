/** Agent API shapes (DESIGN.md §3): one set of zod schemas validates requests and documents responses. */
import { z } from 'zod';
import { CHANNELS, IdentityFields } from '../../domain/inbound.js';
import { PRIORITIES, TICKET_STATUSES } from '../../domain/ticket.js';
import { WhatsAppTemplateListSchema, WhatsAppTemplateSchema } from '../../domain/whatsapp-template.js';

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).meta({ id: 'Error' });

const isoTime = z.string().meta({ format: 'date-time' });
const nullableIso = isoTime.nullable();

export const Sla = z.object({
  policy: z.string(),
  first_response_due: nullableIso,
  next_response_due: nullableIso,
  resolution_due: nullableIso,
  breached: z.array(z.enum(['first_response', 'next_response', 'resolution', 'ola'])),
  escalation_level: z.number().int(),
}).meta({ id: 'Sla' });

export const Ticket = z.object({
  id: z.string(),
  number: z.string(),
  status: z.enum(TICKET_STATUSES),
  priority: z.enum(PRIORITIES),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  customer_id: z.string(),
  channel: z.enum(CHANNELS),
  assignee: z.string().nullable(),
  team: z.string().nullable(),
  /** The customer's tier (or its organisation's) when the ticket opened or the tier last changed. */
  tier: z.string().nullable().meta({ description: "Customer tier (e.g. vip) copied from the customer or its organisation; null: none" }),
  contract: z.string().nullable().meta({ description: 'Contract copied with the tier (SLA policies match it); null: none' }),
  sla: Sla.nullable(),
  survey: z.record(z.string(), z.unknown()).nullable(),
  merged_into: z.string().nullable(),
  previous_ticket_id: z.string().nullable(),
  message_count: z.number().int(),
  /** Messages of this ticket that could not be delivered (failed, not sent again). */
  undelivered: z.number().int(),
  created_at: isoTime,
  updated_at: isoTime,
  last_inbound_at: nullableIso,
  last_outbound_at: nullableIso,
  first_response_at: nullableIso,
  resolved_at: nullableIso,
  closed_at: nullableIso,
  resolution_article_id: z.string().nullable().meta({ description: 'The knowledge-base article the current resolution is credited to (PUT /tickets/{id}/resolution-article); null: none, or reopened since' }),
  /** The customer's display name, read with the list (never copied onto tickets: a rename shows at once); null where not read (or none). */
  customer_name: z.string().nullable().meta({ description: "The customer's display name (joined at read: a rename needs no ticket rewritten); null when the customer has none or the route does not read it" }),
  /** The latest message's first line, plain text, at most 120 characters (grapheme clusters); customer content, erased with the messages. */
  last_message_preview: z.string().nullable().meta({ description: "The latest message's first line: plain text, at most 120 characters (grapheme clusters); a file's name after 📎 when it had no text. Removed by the GDPR erasure" }),
  last_message_channel: z.enum(CHANNELS).nullable(),
  last_message_direction: z.enum(['in', 'out']).nullable().meta({ description: '`in`: from the customer; `out`: a reply' }),
  /** Phone tickets (issue 16): the call-back a missed call asked for; `done` once a call reached the customer. */
  callback: z.object({
    state: z.enum(['pending', 'done']), contact_id: z.string(), requested_at: nullableIso, done_at: nullableIso, done_by: z.string().nullable(),
  }).optional(),
  /** README "Knowledge base": the article offered on a messenger before the ticket opened (status held until answered). */
  deflection: z.object({
    article_id: z.string(), offered_at: isoTime,
    answer: z.enum(['solved', 'help']).nullable().meta({ description: '`solved`: "That solved it" (status deflected); `help`: "I still need help" or a further message (the ticket opened); null: not answered yet (status held)' }),
    answered_at: nullableIso,
  }).optional().meta({ description: 'The knowledge-base article offered before this ticket opened (messenger deflection)' }),
}).meta({ id: 'Ticket' });

/** A phone call on the timeline (channel `voice`, issue 16): functions/domain/voice.ts `CallFacts`. */
export const CallOut = z.object({
  contact_id: z.string(),
  direction: z.enum(['in', 'out']),
  initiation: z.string(),
  outcome: z.enum(['answered', 'abandoned', 'missed', 'ivr', 'no_answer']),
  started_at: nullableIso,
  ended_at: nullableIso,
  queue: z.string().nullable(),
  agent: z.string().nullable(),
  wait_seconds: z.number().int().nullable(),
  talk_seconds: z.number().int(),
  disconnect_reason: z.string().nullable(),
  recording: z.string().nullable().meta({ description: 'Where the recording is (the contact in the Connect instance), with CONFLUO_VOICE_RECORDINGS on; never audio' }),
}).meta({ id: 'Call' });

export const TicketWithCustomer = Ticket.extend({
  customer: z.object({ id: z.string(), display_name: z.string().nullable() }),
}).meta({ id: 'TicketDetail' });

export const IdentityOut = IdentityFields.partial().extend({
  channel: z.enum(CHANNELS),
  external_id: z.string(),
  reachability: z.enum(['reachable', 'unreachable']).optional(),
  /** When reachability last changed, and why (e.g. `blocked`: the customer blocked the bot; `131026`: WhatsApp could not deliver). */
  reachability_at: isoTime.optional(),
  reachability_reason: z.string().optional(),
  /** Channels with a messaging window: when it closes for free-form replies (null: no message yet). */
  reply_window_closes_at: isoTime.nullable().optional(),
}).meta({ id: 'Identity' });

/** A claim shown as a merge suggestion (channels.md §0.7); `customer_id`: another customer holding it verified. */
export const SuggestionOut = z.object({
  kind: z.enum(['phone', 'email']),
  value: z.string(),
  source: z.enum(CHANNELS),
  reason: z.string(),
  at: isoTime,
  customer_id: z.string().nullable(),
}).meta({ id: 'Suggestion' });

/** One merge-log entry: why, when, which channels (never personal values), by whom. */
export const MergeLogEntry = z.object({
  id: z.string(),
  at: isoTime,
  event: z.enum(['identity_linked', 'customer_merged', 'merged_into', 'customer_unmerged', 'unmerged_from', 'customer_erased']),
  customer_id: z.string().nullable(),
  reason: z.enum(['verified_phone', 'verified_email', 'manual', 'gdpr_erase']),
  attribute: z.enum(['phone', 'email']).nullable(),
  sources: z.array(z.string()),
  actor: z.string(),
}).meta({ id: 'MergeLogEntry' });

/** An order of the shop (README "Orders"), as the card and the timeline show it. */
export const OrderOut = z.object({
  id: z.string(), number: z.string(), status: z.string(),
  items: z.array(z.object({ sku: z.string().optional(), name: z.string(), quantity: z.number().int(), price: z.number().optional() })),
  totals: z.object({ currency: z.string(), total: z.number(), subtotal: z.number().optional(), shipping: z.number().optional(), tax: z.number().optional() }),
  placed_at: isoTime, shipped_at: nullableIso, tracking_url: z.string().nullable(), updated_at: isoTime,
}).meta({ id: 'Order' });

export const CustomerCard = z.object({
  id: z.string(),
  display_name: z.string().nullable(),
  identities: z.array(IdentityOut),
  suggestions: z.array(SuggestionOut),
  /** The merge log of this customer (links, merges, unmerges, erase), oldest first. */
  merged_from: z.array(MergeLogEntry),
  tickets: z.array(Ticket.pick({ id: true, number: true, status: true, priority: true, channel: true, customer_id: true, merged_into: true, created_at: true, updated_at: true })),
  /** Cross-channel history: the last inbound message per channel. */
  history: z.array(z.object({ channel: z.enum(CHANNELS), external_id: z.string(), at: isoTime, ticket_id: z.string(), message_id: z.string(), text: z.string() })),
  /** The shop's recent orders linked to this customer (and customers merged into it), newest first, at most 10. */
  orders: z.array(OrderOut),
  created_at: isoTime,
  erased_at: nullableIso,
  tier: z.string().nullable().meta({ description: "Effective tier: the customer's own, else its organisation's" }),
  contract: z.string().nullable().meta({ description: "Effective contract: the customer's own, else its organisation's" }),
  tier_source: z.enum(['customer', 'organisation']).nullable(),
  organisation_id: z.string().nullable().meta({ description: "The organisation claiming a domain of one of the customer's verified e-mails" }),
}).meta({ id: 'CustomerCard' });

export const TimelineItem = z.object({
  id: z.string(),
  type: z.enum(['message', 'note', 'event']),
  at: isoTime,
  orders: z.array(z.object({ id: z.string(), number: z.string(), status: z.string(), tracking_url: z.string().nullable() })).optional().meta({ description: 'Messages: the customer\'s own orders the text mentions ("order 51050")' }),
  call: CallOut.optional().meta({ description: 'Messages on channel voice: the phone call (durations in seconds)' }),
  unauthenticated: z.boolean().optional().meta({ description: 'Inbound messages: true when the platform does not vouch for the sender (an e-mail that failed DMARC) — it may be forged; it answered no survey and reopened no ticket' }),
}).catchall(z.unknown()).meta({ id: 'TimelineEntry' });

export const page = <T extends z.ZodType>(item: T, id: string) => z.object({ items: z.array(item), next_cursor: z.string().nullable() }).meta({ id });

export const TicketList = page(Ticket, 'TicketList');
export const CustomerList = page(CustomerCard, 'CustomerList');
export const Timeline = z.object({ items: z.array(TimelineItem) }).meta({ id: 'Timeline' });

// requests
/** `a,b` (or a repeated parameter, which the gateway joins with commas) → a list of enum values. */
const csvOf = <T extends readonly [string, ...string[]]>(values: T) => z.string().max(500)
  .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
  .pipe(z.array(z.enum(values)).min(1))
  .meta({ description: `one or more of ${values.join(', ')}, comma-separated` });

export const TicketListQuery = z.strictObject({
  status: csvOf(TICKET_STATUSES).optional(),
  /** `me`, `none` (unassigned) or an agent id. */
  assignee: z.string().min(1).max(100).optional().meta({ description: '`me`, `none` (unassigned) or an agent id' }),
  channel: csvOf(CHANNELS).optional(),
  priority: csvOf(PRIORITIES).optional(),
  awaiting: z.enum(['agent', 'customer']).optional().meta({ description: 'whose turn it is: `agent` = the customer waits for a reply' }),
  sla: z.enum(['breached', 'at_risk']).optional().meta({ description: '`at_risk`: a running clock passed its first escalation step, nothing breached' }),
  customer: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a customer id (ULID)').optional().meta({ description: "the customer's tickets" }),
  q: z.string().trim().min(2).max(100).optional().meta({ description: 'text in the subject or the customer\'s name (case-insensitive)' }),
  delivery: z.enum(['failed']).optional().meta({ description: '`failed`: tickets with a reply that could not be delivered (and was not sent again)' }),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});
export const CustomerQuery = z.strictObject({
  identity: z.string().regex(/^[a-z]+:.+$/, 'expected <channel>:<external_id>').optional(),
  /** A phone (any international form), an e-mail, or `<channel>:<external_id>`. */
  q: z.string().min(3).max(320).optional(),
}).refine((q) => q.identity !== undefined || q.q !== undefined, { message: 'give identity=<channel>:<external_id> or q=<phone | e-mail | channel:id>' });

export const ReplyBody = z.strictObject({
  /** Split into several platform messages where the platform's limit is lower (422 beyond MAX_MESSAGE_PARTS of them). */
  text: z.string().min(1).max(20_000).optional(),
  /** A canned answer instead of `text` (`template_id` is accepted as a synonym). */
  template: z.string().min(1).max(64).optional(),
  template_id: z.string().min(1).max(64).optional(),
  /** Language of the template body (default: the customer's language on that channel, then English). */
  language: z.string().min(2).max(16).optional(),
  channel: z.enum(CHANNELS).optional(),
  /** WhatsApp outside (or inside) the 24-hour window: a registered template (`GET /whatsapp/templates`), its {{n}} filled from the ticket. */
  whatsapp_template: z.strictObject({ name: z.string().min(1).max(512), language: z.string().min(2).max(16) }).optional(),
  /** Files uploaded for this ticket (`POST /tickets/{id}/attachments`), sent natively after the text; checked against the channel's limits (422). */
  attachments: z.array(z.strictObject({
    upload_id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}\.[a-z0-9]{1,8}$/),
    /** The name the customer sees. */
    file_name: z.string().min(1).max(255),
  })).min(1).max(20).optional(),
}).refine((b) => [b.text, b.template, b.template_id, b.whatsapp_template].filter((x) => x !== undefined).length === (b.attachments && b.text === undefined && b.template === undefined && b.template_id === undefined && b.whatsapp_template === undefined ? 0 : 1), { message: 'give exactly one of text, template or whatsapp_template (or only attachments)' })
  .refine((b) => b.attachments === undefined || b.whatsapp_template === undefined, { message: 'a WhatsApp template carries no attachments' })
  .refine((b) => b.language === undefined || b.text === undefined, { message: 'language applies to templates only' })
  .meta({ id: 'ReplyRequest' });

export const IdParam = z.strictObject({ id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID') });

/** A message of a ticket: the ticket (ULID) and the message id (ULIDs for replies; system messages have their own). */
export const MessageParam = z.strictObject({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID'),
  /** Looked up among the ticket's messages (404 when it is none of them). */
  message_id: z.string().min(1).max(200),
});
/** Sending a failed message again: on its own channel unless another of the customer's channels is named. */
export const RetryBody = z.strictObject({ channel: z.enum(CHANNELS).optional() }).default({}).meta({ id: 'RetryRequest' });

export const UploadRequest = z.strictObject({
  file_name: z.string().min(1).max(255),
  /** As the browser says; the policy fixes it, and the bytes are checked by their magic bytes when the reply names the upload. */
  content_type: z.string().regex(/^[\w.+-]{1,100}\/[\w.+-]{1,100}$/),
  size: z.number().int().positive(),
  /** The channel the reply will go out on (default: the ticket's); its limits are checked now, and again at reply. */
  channel: z.enum(CHANNELS).optional(),
}).meta({ id: 'AttachmentUploadRequest' });

export const UploadForm = z.object({
  upload_id: z.string(),
  /** POST the file here as multipart/form-data: every `fields` entry, then `file` last. */
  url: z.string(),
  fields: z.record(z.string(), z.string()),
  max_bytes: z.number().int(),
  expires_at: isoTime,
}).meta({ id: 'AttachmentUploadForm' });

export const ReplyAccepted = z.object({
  id: z.string(), ticket_id: z.string(), channel: z.enum(CHANNELS), delivery: z.literal('queued'), at: isoTime,
  /** Platform messages the reply goes out as (a long text is split, never cut). */
  parts: z.number().int().positive(),
  /** SMS only: the segments it is billed as. */
  sms: z.object({ segments: z.number().int().nonnegative(), encoding: z.enum(['GSM-7', 'UCS-2']) }).optional(),
  /** A failed message sent again: its id. */
  retry_of: z.string().optional(),
  /** Sent as this registered WhatsApp template. */
  whatsapp_template: z.object({ name: z.string(), language: z.string() }).optional(),
  /** Messenger/Instagram beyond 24 h: sent tagged HUMAN_AGENT. */
  tag: z.literal('HUMAN_AGENT').optional(),
  /** The files sent, as their bytes were found (type from magic bytes). */
  attachments: z.array(z.object({ file_name: z.string(), content_type: z.string(), size: z.number().int(), as: z.enum(['image', 'document', 'audio', 'video']) })).optional(),
}).meta({ id: 'ReplyAccepted' });

export const WhatsAppTemplateOut = WhatsAppTemplateSchema.meta({ id: 'WhatsAppTemplate' });
export const WhatsAppTemplateList = z.object({ items: z.array(WhatsAppTemplateOut), version: z.number().int() }).meta({ id: 'WhatsAppTemplateList' });
export const PutWhatsAppTemplates = z.strictObject({
  items: WhatsAppTemplateListSchema,
  version: z.number().int().nonnegative().optional().meta({ description: 'Version read (0: none yet); a PUT with a stale version is a 409' }),
}).meta({ id: 'PutWhatsAppTemplates' });

// identity, customer and ticket merges (issue 5)
const Ulid = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID');
export const CustomerMergeBody = z.strictObject({ from: Ulid }).meta({ id: 'CustomerMergeRequest' });
export const CustomerUnmergeBody = z.strictObject({ customer: Ulid }).meta({ id: 'CustomerUnmergeRequest' });
export const TicketMergeBody = z.strictObject({ into: Ulid }).meta({ id: 'TicketMergeRequest' });
export const TicketSplitBody = z.strictObject({
  messageIds: z.array(z.string().min(1).max(64)).min(1).max(100).refine((ids) => new Set(ids).size === ids.length, 'ids must be distinct'),
}).meta({ id: 'TicketSplitRequest' });
const count = z.number().int().nonnegative();
/** A GDPR erasure job (`DELETE /customers/{id}` starts it; `GET /customers/{id}/erasure` follows it). */
export const ErasureStatus = z.object({
  customer_id: z.string().meta({ description: 'The person\'s root customer (every customer merged into it is erased with it)' }),
  state: z.enum(['running', 'erased']),
  phase: z.enum(['timeline', 'identities', 'orders', 'finish', 'done']),
  requested_at: isoTime, requested_by: z.string(), erased_at: isoTime, finished_at: nullableIso,
  counts: z.object({ customers: count, tickets: count, messages: count, notes: count, surveys: count, identities: count, attributes: count, suggestions: count, orders: count.optional().meta({ description: 'Orders anonymised (absent on jobs started before orders were erased)' }) }),
  status_url: z.string().meta({ description: 'Where to follow the job' }),
}).meta({ id: 'ErasureStatus' });
