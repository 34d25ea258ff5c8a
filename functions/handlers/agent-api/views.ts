/** Stored records → API shapes (ISO times, snake_case, no internal keys). */
import type { OrderRecord } from '../../store/orders.js';
import { replyWindowOf } from '../../channels/channel.js';
import { channelByName } from '../../channels/registry.js';
import { windowAnchor } from '../../domain/reply-window.js';
import { surveyView } from '../../domain/survey.js';
import { resolutionArticleOf } from '../../domain/kb/agent-use.js';
import type { EffectiveTier } from '../../domain/tier.js';
import type { CustomerLogEntry, CustomerRecord, IdentityRecord, SuggestionRecord, TicketRecord, TimelineEntry } from '../../store/records.js';

const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

/**
 * `customerName`: the customer's display name where the route read it (the inbox list joins it at
 * read, store/triage.ts `customerDisplayNames`: a renamed or merged customer shows under the current
 * name without any ticket rewritten).
 */
export function ticketView(t: TicketRecord, customerName: string | null = null) {
  return {
    id: t.id, number: t.number, status: t.status, priority: t.priority, category: t.category ?? null, tags: t.tags ?? [],
    customer_id: t.customer_id, channel: t.channel, assignee: t.assignee ?? null, team: t.team ?? null,
    tier: t.tier ?? null, contract: t.contract ?? null,
    sla: t.sla ? {
      policy: t.sla.policy, first_response_due: iso(t.sla.first_response_due), next_response_due: iso(t.sla.next_response_due),
      resolution_due: iso(t.sla.resolution_due), breached: t.sla.breached ?? [], escalation_level: t.sla.escalation_level ?? 0,
    } : null,
    survey: surveyView(t.survey), merged_into: t.merged_into ?? null, previous_ticket_id: t.previous_ticket_id ?? null,
    message_count: t.message_count ?? 0,
    undelivered: undeliveredCount(t),
    created_at: iso(t.created_at)!, updated_at: iso(t.updated_at)!, last_inbound_at: iso(t.last_inbound_at),
    last_outbound_at: iso(t.last_outbound_at), first_response_at: iso(t.first_response_at), resolved_at: iso(t.resolved_at), closed_at: iso(t.closed_at),
    customer_name: customerName,
    resolution_article_id: resolutionArticleOf(t),
    last_message_preview: t.last_message_preview ?? null, last_message_channel: t.last_message_channel ?? null, last_message_direction: t.last_message_direction ?? null,
    ...callbackView(t),
    ...(t.deflection ? { deflection: { article_id: t.deflection.article_id, offered_at: iso(t.deflection.offered_at)!, answer: t.deflection.answer ?? null, answered_at: iso(t.deflection.answered_at) } } : {}),
  };
}

/** A phone ticket's call-back task (issue 16; functions/store/voice.ts `CallbackTask`), when it has one. */
function callbackView(t: TicketRecord): { callback?: { state: string; contact_id: string; requested_at: string | null; done_at: string | null; done_by: string | null } } {
  const cb = (t as TicketRecord & { callback?: { state: string; contact_id: string; requested_at: number; done_at?: number; done_by?: string } }).callback;
  return cb ? { callback: { state: cb.state, contact_id: cb.contact_id, requested_at: iso(cb.requested_at), done_at: iso(cb.done_at), done_by: cb.done_by ?? null } } : {};
}

/** A call's facts as the timeline shows them (functions/domain/voice.ts `CallFacts`, ISO times). */
function callView(extras: Record<string, unknown> | undefined) {
  const c = extras?.call as (Record<string, unknown> & { started_at?: number; ended_at?: number }) | undefined;
  if (!c || typeof c !== 'object') return {};
  return { call: { ...c, started_at: iso(c.started_at), ended_at: iso(c.ended_at) } };
}

/** How many of a ticket's messages are undelivered (a stored string set, or a list). */
export function undeliveredCount(t: Pick<TicketRecord, 'undelivered'>): number {
  const u = t.undelivered;
  return u === undefined ? 0 : u instanceof Set ? u.size : (u as readonly string[]).length;
}

export function identityView(i: IdentityRecord) {
  const { customer_id: _c, ticket_hint: _t, conversation_id: _cv, last_inbound_at: _l, last_sent_at: _ls, created_at: _ca, reply_context: _rc, origin_customer_id: _o, last_message: _lm, reachability_at: ra, ...rest } = i;
  const window = replyWindowClosesAt(i);
  return { ...rest, ...(ra !== undefined ? { reachability_at: iso(ra) } : {}), ...(window !== undefined ? { reply_window_closes_at: window } : {}) };
}

/**
 * When the free-form window of this identity's conversation closes (ISO; null: closed for lack of
 * any message), or undefined when the channel has none — the reply box counts down to it.
 */
function replyWindowClosesAt(i: IdentityRecord): string | null | undefined {
  const adapter = channelByName(i.channel);
  if (!adapter) return undefined;
  const seconds = replyWindowOf(adapter, { conversation_id: i.conversation_id ?? i.external_id, ...(i.reply_context ? { context: i.reply_context } : {}) });
  if (seconds === null) return undefined;
  const anchor = windowAnchor(i);
  return anchor === undefined ? null : iso(anchor + seconds * 1000);
}

export interface CardInput {
  readonly root: CustomerRecord;
  readonly identities: readonly IdentityRecord[];
  readonly tickets: readonly TicketRecord[];
  readonly suggestions: readonly SuggestionRecord[];
  readonly log: readonly CustomerLogEntry[];
}

/**
 * The customer card (DESIGN.md §3): identities with verified flags, suggestions (with the other
 * customer holding the value verified, when there is one), the merge log, tickets, and the
 * cross-channel history (last inbound message per channel).
 */
export function customerCardView(card: CardInput, matches: ReadonlyMap<string, string> = new Map(), tier?: { readonly effective: EffectiveTier; readonly organisation_id: string | null }) {
  const c = card.root;
  const latest = new Map<string, IdentityRecord>();
  for (const i of card.identities) {
    if (!i.last_message) continue;
    const cur = latest.get(i.channel);
    if (!cur || (cur.last_message?.at ?? 0) < i.last_message.at) latest.set(i.channel, i);
  }
  const suggestions = new Map<string, SuggestionRecord>();
  for (const s of card.suggestions) {
    const key = `${s.kind}#${s.value}`;
    if ((suggestions.get(key)?.at ?? -1) < s.at) suggestions.set(key, s);
  }
  return {
    id: c.id,
    display_name: c.display_name ?? null,
    identities: card.identities.map(identityView),
    suggestions: [...suggestions.values()].sort((a, b) => a.at - b.at).map((s) => ({
      kind: s.kind, value: s.value, source: s.source, reason: s.reason, at: iso(s.at)!, customer_id: matches.get(`${s.kind}#${s.value}`) ?? null,
    })),
    merged_from: card.log.map((e) => ({
      id: e.id, at: iso(e.at)!, event: e.event, customer_id: e.customer_id ?? null, reason: e.reason, attribute: e.attribute ?? null, sources: e.sources ?? [], actor: e.actor,
    })),
    tickets: card.tickets.map((t) => ({
      id: t.id, number: t.number, status: t.status, priority: t.priority, channel: t.channel, customer_id: t.customer_id, merged_into: t.merged_into ?? null,
      created_at: iso(t.created_at)!, updated_at: iso(t.updated_at)!,
    })),
    history: [...latest.values()].sort((a, b) => b.last_message!.at - a.last_message!.at).map((i) => ({
      channel: i.channel, external_id: i.external_id, at: iso(i.last_message!.at)!, ticket_id: i.last_message!.ticket_id, message_id: i.last_message!.id, text: i.last_message!.text,
    })),
    created_at: iso(c.created_at)!,
    erased_at: iso(c.erased_at),
    tier: tier?.effective.tier ?? c.tier ?? null,
    contract: tier?.effective.contract ?? c.contract ?? null,
    tier_source: tier?.effective.tier_source ?? (c.tier ? 'customer' as const : null),
    organisation_id: tier ? tier.organisation_id : c.organisation_id ?? null,
  };
}

export function timelineView(stored: TimelineEntry) {
  const { sk: _sk, ...plain } = stored as TimelineEntry & { sk?: string };
  const e = plain as TimelineEntry;
  if (e.type === 'message') {
    const { ticket_id: _t, history: _h, extras: _x, dedup_key: _dk, shown_in: _si, ...m } = e as typeof e & { delivery_rank?: number };
    const { delivery_rank: _r, ...rest } = m as typeof m & { delivery_rank?: number };
    return {
      ...rest,
      // What became of each attachment's bytes, without the object key (the download route signs it).
      attachments: e.attachments.map(({ media, ...a }) => (media ? { ...a, media: { status: media.status, ...(media.size !== undefined ? { size: media.size } : {}), ...(media.content_type ? { content_type: media.content_type } : {}), ...(media.sha256 ? { sha256: media.sha256 } : {}), ...(media.reason ? { reason: media.reason } : {}) } } : a)),
      at: iso(e.at)!, sent_at: iso(e.sent_at), edited_at: iso(e.edited_at), ...(e.failed_at !== undefined ? { failed_at: iso(e.failed_at) } : {}),
      ...(e.direction === 'out' ? { delivery: e.delivery ?? 'queued' } : { unauthenticated: e.unauthenticated === true }),
      ...(e.channel === 'voice' ? callView(e.extras) : {}),
    };
  }
  const { ticket_id: _t, ...rest } = e;
  return { ...rest, at: iso(e.at)! };
}

/** An order as the card shows it (README "Orders"). */
export function orderView(o: OrderRecord) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: o.id, number: o.number, status: o.status, items: o.items.map((i) => ({ ...i })), totals: { ...o.totals },
    placed_at: iso(o.placed_at), shipped_at: o.shipped_at === null ? null : iso(o.shipped_at), tracking_url: o.tracking_url, updated_at: iso(o.updated_at),
  };
}
