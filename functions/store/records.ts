/** Stored record shapes (snake_case, times in epoch ms). The API renders them (ISO times). */
import type { Attachment, Channel, Identity } from '../domain/inbound.js';
import type { Priority, TicketStatus } from '../domain/ticket.js';
import type { DeliveryState } from '../channels/channel.js';

export interface CustomerRecord {
  readonly id: string;
  readonly display_name?: string;
  readonly created_at: number;
  readonly current_ticket_id?: string;
  readonly merged_into?: string;
  readonly merged_at?: number;
  readonly erased_at?: number;
  /** GDPR erase progress: `erasing` from its first step, `erased` when every step is done. */
  readonly erase_state?: 'erasing' | 'erased';
  /** Customers an agent separated from this one: never merged with it automatically again. */
  readonly no_auto_merge?: ReadonlySet<string> | readonly string[];
  /** The customer's own tier and contract (functions/domain/tier.ts); absent = none. */
  readonly tier?: string;
  readonly contract?: string;
  /** The organisation last resolved from the customer's verified e-mail domains (a cache: functions/store/organisations.ts). */
  readonly organisation_id?: string;
}

export interface IdentityRecord extends Identity {
  readonly channel: Channel;
  readonly customer_id: string;
  /** Last known current ticket of the customer: a hint for the 2-round-trip fast path. */
  readonly ticket_hint?: string;
  readonly conversation_id?: string;
  readonly last_inbound_at?: number;
  /**
   * When the customer sent their latest message here, by the platform's clock (never later than
   * it was processed): the messaging window runs from it (`replyWindowAnchor`).
   */
  readonly last_sent_at?: number;
  readonly reachability?: 'reachable' | 'unreachable';
  /** When reachability last changed, and why (a platform code such as `blocked` or `131026`, or the inbound event). */
  readonly reachability_at?: number;
  readonly reachability_reason?: string;
  readonly created_at: number;
  /** Channel context needed to reply (e.g. WhatsApp phone_number_id, Twilio To). */
  readonly reply_context?: Record<string, unknown>;
  /** The customer this identity belonged to before a merge re-pointed it (unmerge moves it back). */
  readonly origin_customer_id?: string;
  /** The last inbound message on this identity (the card's cross-channel history). */
  readonly last_message?: { readonly id: string; readonly ticket_id: string; readonly at: number; readonly text: string };
}

export interface SlaBlock {
  readonly policy: string;
  readonly first_response_due: number | null;
  readonly next_response_due: number | null;
  readonly resolution_due: number | null;
  readonly breached: string[];
  readonly escalation_level: number;
}

export interface TicketRecord {
  readonly id: string;
  readonly number: string;
  readonly status: TicketStatus;
  readonly priority: Priority;
  readonly category: string | null;
  readonly tags: string[];
  readonly customer_id: string;
  readonly channel: Channel;
  readonly conversation_id: string;
  readonly assignee: string | null;
  readonly team: string | null;
  readonly sla: SlaBlock | null;
  readonly survey: Record<string, unknown> | null;
  readonly merged_into: string | null;
  readonly previous_ticket_id: string | null;
  readonly created_at: number;
  readonly updated_at: number;
  readonly last_inbound_at: number | null;
  readonly last_outbound_at: number | null;
  readonly first_response_at: number | null;
  readonly resolved_at: number | null;
  readonly closed_at: number | null;
  readonly message_count: number;
  readonly subject?: string;
  /** Tickets merged into this one (flattened); their entries show in this timeline. */
  readonly merged_tickets?: string[];
  /** Extra partitions this timeline reads (merged tickets, split sources): a superset. */
  readonly timeline_sources?: string[];
  /** The ticket this one was split from. */
  readonly split_from?: string;
  /** A split in progress: its intended result, recorded before the entries are marked. */
  readonly pending_split?: { readonly ticket_id: string; readonly entries: Array<{ readonly ticket_id: string; readonly sk: string; readonly owner: string }> };
  readonly origin_customer_id?: string;
  /** Messages on this ticket that could not be delivered (ids; `GET /tickets?delivery=failed`). A DynamoDB string set. */
  readonly undelivered?: ReadonlySet<string> | readonly string[];
  /** The list row's last message (functions/domain/message-preview.ts): customer content, erased with the messages. */
  readonly last_message_preview?: string;
  readonly last_message_channel?: Channel;
  readonly last_message_direction?: 'in' | 'out';
  /**
   * The article offered before this ticket opened (README "Knowledge base": deflection on
   * messengers; status `held` until answered): the customer's answer and when.
   */
  readonly deflection?: { readonly article_id: string; readonly language: string; readonly offered_at: number; readonly answer?: 'solved' | 'help'; readonly answered_at?: number };
  /** The customer's effective tier and contract, copied when the ticket opens and when the customer's tier changes. */
  readonly tier?: string;
  readonly contract?: string;
}

export interface MessageEntry {
  readonly type: 'message';
  readonly id: string;
  readonly ticket_id: string;
  readonly at: number;
  readonly channel: Channel;
  readonly direction: 'in' | 'out';
  readonly external_message_id: string | null;
  readonly conversation_id: string;
  readonly text: string;
  readonly attachments: Attachment[];
  readonly interaction: { payload: string } | null;
  readonly edited: boolean;
  readonly edited_at?: number;
  readonly history?: Array<{ text: string; at: number }>;
  readonly sent_at: number;
  readonly in_reply_to?: string;
  /** Outbound only. */
  readonly delivery?: DeliveryState;
  readonly delivery_status?: string;
  readonly delivery_error?: string | number;
  /** Failed: the code in words (functions/domain/delivery.ts), and when. */
  readonly delivery_reason?: string;
  readonly failed_at?: number;
  /** A failed message sent again (`POST …/retry`): the new message; on the new one, the failed one. */
  readonly retried_by?: string;
  readonly retry_of?: string;
  readonly outbound_kind?: 'reply' | 'acknowledgement' | 'survey' | 'reminder' | 'deflection';
  /** Outbound sent in several platform requests: how many leading parts were accepted (send.ts). */
  readonly parts_sent?: number;
  readonly author?: string;
  readonly extras?: Record<string, unknown>;
  /** Inbound: the platform dedupe key (GDPR erase finds the marker through it). */
  readonly dedup_key?: string;
  /** Set by a split: the ticket whose timeline shows this entry (default: the ticket it is stored under). */
  readonly shown_in?: string;
  readonly anonymised?: boolean;
  /**
   * Inbound only: the platform does not vouch for the sender (an e-mail that failed DMARC; domain
   * identity.ts `senderAuthenticated`). Shown to agents; such a message answered no survey and
   * reopened no ticket.
   */
  readonly unauthenticated?: boolean;
}

export interface NoteEntry {
  readonly type: 'note';
  readonly id: string;
  readonly ticket_id: string;
  readonly at: number;
  readonly author: string;
  readonly text: string;
}

export interface EventEntry {
  readonly type: 'event';
  readonly id: string;
  readonly ticket_id: string;
  readonly at: number;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

export type TimelineEntry = MessageEntry | NoteEntry | EventEntry;

/** A change-feed event (GET /events, and the stream that drives workflows). No personal data. */
export interface FeedEvent {
  readonly id: string;
  readonly type: string;
  readonly at: number;
  readonly ticket_id?: string;
  readonly customer_id?: string;
  readonly data: Record<string, unknown>;
}

/** A verified attribute → the customer owning it (table.ts `verifiedAttribute`). */
export interface VerifiedIndexRecord {
  readonly kind: 'phone' | 'email';
  readonly customer_id: string;
  /** Channel of the identity that brought it (the merge log names channels, never values). */
  readonly channel: Channel;
  readonly at: number;
}

/** A claim on the customer card (table.ts `suggestion`). */
export interface SuggestionRecord {
  readonly kind: 'phone' | 'email';
  readonly value: string;
  readonly source: Channel;
  readonly reason: string;
  readonly at: number;
}

/** One entry of a customer's merge log. No personal values: attribute kinds and channels only. */
export interface CustomerLogEntry {
  readonly id: string;
  readonly at: number;
  readonly event: 'identity_linked' | 'customer_merged' | 'merged_into' | 'customer_unmerged' | 'unmerged_from' | 'customer_erased';
  /** The other customer (merged from / into / unmerged). */
  readonly customer_id: string | null;
  readonly reason: 'verified_phone' | 'verified_email' | 'manual' | 'gdpr_erase';
  readonly attribute: 'phone' | 'email' | null;
  /** Channels on both sides (e.g. the channel that first brought the attribute, and the new one). */
  readonly sources: string[];
  readonly actor: string;
}

/** A customer merge (table.ts `customerMerge`): the intended final state first, then progress. */
export interface CustomerMergeRecord {
  readonly id: string;
  readonly winner: string;
  readonly loser: string;
  readonly at: number;
  readonly reason: 'verified_phone' | 'verified_email' | 'manual';
  readonly attribute: 'phone' | 'email' | null;
  readonly sources: string[];
  readonly actor: string;
  /** merging → merged → (unmerging →) unmerged. */
  readonly state: 'merging' | 'merged' | 'unmerging' | 'unmerged';
  readonly winner_ticket_before: string | null;
  readonly loser_ticket_before: string | null;
  readonly current_after: string | null;
  readonly ticket_merge: { readonly winner: string; readonly loser: string; readonly loser_status: TicketStatus; readonly loser_message_count: number } | null;
  readonly unmerged_at?: number;
  readonly unmerged_by?: string;
}
