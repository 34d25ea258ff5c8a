/** Stored records → API shapes (ISO times, snake_case, no internal keys). */
import type { CustomerRecord, IdentityRecord, TicketRecord, TimelineEntry } from '../../store/records.js';

const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function ticketView(t: TicketRecord) {
  return {
    id: t.id, number: t.number, status: t.status, priority: t.priority, category: t.category ?? null, tags: t.tags ?? [],
    customer_id: t.customer_id, channel: t.channel, assignee: t.assignee ?? null, team: t.team ?? null,
    sla: t.sla ? {
      policy: t.sla.policy, first_response_due: iso(t.sla.first_response_due), next_response_due: iso(t.sla.next_response_due),
      resolution_due: iso(t.sla.resolution_due), breached: t.sla.breached ?? [], escalation_level: t.sla.escalation_level ?? 0,
    } : null,
    survey: t.survey ?? null, merged_into: t.merged_into ?? null, previous_ticket_id: t.previous_ticket_id ?? null,
    message_count: t.message_count ?? 0,
    created_at: iso(t.created_at)!, updated_at: iso(t.updated_at)!, last_inbound_at: iso(t.last_inbound_at),
    last_outbound_at: iso(t.last_outbound_at), first_response_at: iso(t.first_response_at), resolved_at: iso(t.resolved_at), closed_at: iso(t.closed_at),
  };
}

export function identityView(i: IdentityRecord) {
  const { customer_id: _c, ticket_hint: _t, conversation_id: _cv, last_inbound_at: _l, created_at: _ca, reply_context: _rc, ...rest } = i;
  return rest;
}

export function customerCardView(c: CustomerRecord, identities: IdentityRecord[], tickets: TicketRecord[]) {
  return {
    id: c.id,
    display_name: c.display_name ?? null,
    identities: identities.map(identityView),
    suggestions: [],
    merged_from: [],
    tickets: tickets.map((t) => ({ id: t.id, number: t.number, status: t.status, priority: t.priority, channel: t.channel, created_at: iso(t.created_at)!, updated_at: iso(t.updated_at)! })),
    created_at: iso(c.created_at)!,
  };
}

export function timelineView(e: TimelineEntry) {
  if (e.type === 'message') {
    const { ticket_id: _t, history: _h, extras: _x, ...m } = e as typeof e & { delivery_rank?: number };
    const { delivery_rank: _r, ...rest } = m as typeof m & { delivery_rank?: number };
    return {
      ...rest,
      at: iso(e.at)!, sent_at: iso(e.sent_at), edited_at: iso(e.edited_at),
      ...(e.direction === 'out' ? { delivery: e.delivery ?? 'queued' } : {}),
    };
  }
  const { ticket_id: _t, ...rest } = e;
  return { ...rest, at: iso(e.at)! };
}
