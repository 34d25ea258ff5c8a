/** A small Agent API client: bearer token, JSON, errors as {status, code, message}. */

export interface ApiError { status: number; code: string; message: string }

export class Api {
  constructor(readonly base: string, public token: string | null, private readonly onUnauthorized: () => void) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthorized();
      const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw { status: res.status, code: e?.code ?? 'http_error', message: e?.message ?? `HTTP ${res.status}` } satisfies ApiError;
    }
    return json as T;
  }
  get<T>(path: string) { return this.call<T>('GET', path); }
  post<T>(path: string, body: unknown) { return this.call<T>('POST', path, body); }
  patch<T>(path: string, body: unknown) { return this.call<T>('PATCH', path, body); }
}

export const isApiError = (e: unknown): e is ApiError => typeof e === 'object' && e !== null && 'status' in e && 'code' in e;
export const errorText = (e: unknown) => (isApiError(e) ? `${e.message} (${e.code})` : 'The request failed — check the connection.');

// Shapes (DESIGN.md §3), only the fields the inbox reads.
export interface Sla { first_response_due: string | null; next_response_due: string | null; resolution_due: string | null; breached: string[]; escalation_level: number }
export interface Ticket {
  id: string; number: string; status: string; priority: string; category: string | null; tags: string[]; customer_id: string; channel: string;
  assignee: string | null; team: string | null; sla: Sla | null; created_at: string; updated_at: string; last_inbound_at: string | null;
  last_outbound_at: string | null; message_count: number; customer?: { id: string; display_name: string | null };
  /** Replies of this ticket that could not be delivered. */
  undelivered?: number;
  /** The list row (issue 15): the customer's name, the last message's first line, its channel and direction; the tier (absent: none). */
  customer_name?: string | null; last_message_preview?: string | null; last_message_channel?: string | null; last_message_direction?: 'in' | 'out' | null;
  tier?: string | null;
}
export interface Attachment {
  type: string; url?: string | null; file_name?: string | null; mime_type?: string | null; size?: number | null;
  /** What became of the bytes (issue 14): stored (size and type measured), or why not. */
  media?: { status: 'pending' | 'stored' | 'too_large' | 'gone' | 'failed'; size?: number; content_type?: string; sha256?: string; reason?: string };
}
/** `GET /tickets/{id}/messages/{message_id}/attachments/{n}`: a short-lived signed URL. */
export interface AttachmentLink { url: string; expires_at: string; content_type: string; file_name: string; size: number; disposition: 'inline' | 'attachment' }
export interface TimelineEntry {
  id: string; type: 'message' | 'note' | 'event'; at: string;
  channel?: string; direction?: 'in' | 'out'; text?: string; attachments?: Attachment[]; edited?: boolean; delivery?: string;
  author?: string; outbound_kind?: string; event?: string; data?: Record<string, unknown>; interaction?: { payload: string } | null;
  /** Orders of the ticket's customer that the message mentions. */
  orders?: OrderMention[];
  /** Inbound: the sender is not verified (an e-mail that failed DMARC) — it may be forged. */
  unauthenticated?: boolean;
  /** Phone calls (channel `voice`): the call's facts, durations in seconds. */
  call?: {
    contact_id: string; direction: 'in' | 'out'; outcome: string; queue: string | null; agent: string | null;
    wait_seconds: number | null; talk_seconds: number; disconnect_reason: string | null; recording: string | null;
  };
  /** Failed messages: the platform's code, what it means, and whether it was sent again. */
  delivery_error?: string | number; delivery_reason?: string; failed_at?: string; retried_by?: string; retry_of?: string;
}
export interface Identity {
  channel: string; external_id: string; display_name?: string; username?: string; phone?: string; phone_verified?: boolean; email?: string; email_verified?: boolean;
  reachability?: string; reachability_reason?: string; reachability_at?: string;
  /** Channels with a messaging window: when it closes (null: no message yet); absent: no window. */
  reply_window_closes_at?: string | null;
}
export interface CustomerCard {
  id: string; display_name: string | null; identities: Identity[];
  suggestions: Array<{ kind: string; value: string; source: string; reason: string; customer_id: string | null }>;
  tickets: Array<{ id: string; number: string; status: string; channel: string; created_at: string }>;
  /** The shop's ten newest orders of the customer (and of customers merged into them). */
  orders?: CardOrder[];
}
export interface CardOrder {
  id: string; number: string; status: string; items: Array<{ name: string; quantity: number }>;
  totals: { currency: string; total: number }; placed_at: string; shipped_at: string | null; tracking_url: string | null;
}
/** An order a customer's message mentions ("order 51050"), on the timeline. */
export interface OrderMention { id: string; number: string; status: string; tracking_url: string | null }
export interface Template { id: string; name: string; bodies: Record<string, string> }
export interface WhatsAppTemplate { name: string; language: string; category: string; body: string; parameters: string[] }
export interface FeedEvent { id: string; type: string; at: string; ticket_id: string | null; customer_id: string | null; data: Record<string, unknown> }
