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
  readonly erased_at?: number;
}

export interface IdentityRecord extends Identity {
  readonly channel: Channel;
  readonly customer_id: string;
  /** Last known current ticket of the customer: a hint for the 2-round-trip fast path. */
  readonly ticket_hint?: string;
  readonly conversation_id?: string;
  readonly last_inbound_at?: number;
  readonly reachability?: 'reachable' | 'unreachable';
  readonly created_at: number;
  /** Channel context needed to reply (e.g. WhatsApp phone_number_id, Twilio To). */
  readonly reply_context?: Record<string, unknown>;
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
  readonly outbound_kind?: 'reply' | 'acknowledgement' | 'survey' | 'reminder';
  readonly author?: string;
  readonly extras?: Record<string, unknown>;
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
