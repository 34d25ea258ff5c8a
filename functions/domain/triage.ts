/**
 * Triage (DESIGN.md §2–§3 `PATCH /tickets/{id}`, notes, inbox filters), pure: what a change to a
 * ticket means — allowed or refused, which fields move, which timeline and change-feed events
 * describe it — and which tickets an inbox filter shows. The store commits the plan in one
 * conditional transaction; the SLA engine and the KPIs read the events it names:
 *
 * | change               | feed / timeline event      | data                                     |
 * |----------------------|----------------------------|------------------------------------------|
 * | status               | `ticket.status_changed`    | `{from, to}`                              |
 * | resolved → open      | also `ticket.reopened`     | `{reason: 'agent'}` (new resolution cycle) |
 * | priority             | `ticket.priority_changed`  | `{from, to}`                              |
 * | assignee / team      | `ticket.assigned`          | `{assignee, team}` (starts the team's OLA) |
 * | unassign only, category, tags | `ticket.updated`  | `{changed: [...]}`                        |
 *
 * Event data holds ids and codes only (agent ids, team ids, categories), never personal data.
 */
import { canTransition, isActive, type Priority, type TicketStatus } from './ticket.js';

/** The fields an agent (or a classification rule) may change. `null` clears assignee/team/category. */
export interface TicketPatch {
  readonly status?: TicketStatus;
  readonly priority?: Priority;
  readonly assignee?: string | null;
  readonly team?: string | null;
  readonly category?: string | null;
  readonly tags?: readonly string[];
}

/** The part of a ticket triage reads. */
export interface TriageTicket {
  readonly id: string;
  readonly status: TicketStatus;
  readonly priority: Priority;
  readonly assignee: string | null;
  readonly team: string | null;
  readonly category: string | null;
  readonly tags: readonly string[];
  readonly updated_at: number;
}

export type TriageField = 'status' | 'priority' | 'assignee' | 'team' | 'category' | 'tags';
const FIELDS: readonly TriageField[] = ['status', 'priority', 'assignee', 'team', 'category', 'tags'];

export interface PlannedEvent { readonly type: string; readonly data: Record<string, unknown> }

export type TriagePlan =
  | { readonly kind: 'refused'; readonly code: 'illegal_transition' | 'conflict'; readonly message: string }
  | { readonly kind: 'unchanged' }
  | {
    readonly kind: 'change';
    /** New values of the changed fields (null = remove the attribute). */
    readonly set: Readonly<Partial<Record<TriageField, unknown>>>;
    /** Values as read, for the optimistic condition (null = absent). */
    readonly expected: Readonly<Partial<Record<TriageField, unknown>>>;
    readonly changed: readonly TriageField[];
    /** The status change stamps: `resolved_at`/`closed_at` set, or `resolved_at` cleared by a reopen. */
    readonly stamps: { readonly resolved_at?: number | null; readonly closed_at?: number; readonly reopen?: boolean };
    /** Same list for the timeline (as `event` entries) and the change feed. */
    readonly events: readonly PlannedEvent[];
    /** When the change happens: `now`, or just after the ticket's last change when that is later. */
    readonly updated_at: number;
  };

const normTags = (tags: readonly string[]) => [...new Set(tags.map((t) => t.trim()).filter((t) => t !== ''))].sort();
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What `patch` does to `t` at `now` (pure). Fields equal to the stored value are no change. */
export function planTicketChange(t: TriageTicket, patch: TicketPatch, now: number): TriagePlan {
  if (t.status === 'merged') return { kind: 'refused', code: 'conflict', message: 'the ticket was merged into another one; change that ticket instead' };
  const wanted: Partial<Record<TriageField, unknown>> = {};
  for (const f of FIELDS) if (patch[f] !== undefined) wanted[f] = f === 'tags' ? normTags(patch.tags!) : patch[f];
  const current: Record<TriageField, unknown> = { status: t.status, priority: t.priority, assignee: t.assignee ?? null, team: t.team ?? null, category: t.category ?? null, tags: normTags(t.tags ?? []) };
  const changed = FIELDS.filter((f) => f in wanted && !same(wanted[f], f === 'tags' ? current.tags : current[f]));
  if (changed.length === 0) return { kind: 'unchanged' };

  const to = wanted.status as TicketStatus | undefined;
  if (changed.includes('status')) {
    if (to === 'merged') return { kind: 'refused', code: 'illegal_transition', message: `a ticket cannot be set to merged: use POST /tickets/${t.id}/merge` };
    if (!canTransition(t.status, to!)) return { kind: 'refused', code: 'illegal_transition', message: `status ${t.status} cannot change to ${to}${allowedHint(t.status)}` };
  }
  if (t.status === 'closed' && changed.some((f) => f !== 'category' && f !== 'tags')) {
    return { kind: 'refused', code: 'illegal_transition', message: 'a closed ticket only takes category and tag corrections' };
  }

  const set: Partial<Record<TriageField, unknown>> = {};
  const expected: Partial<Record<TriageField, unknown>> = {};
  for (const f of changed) { set[f] = wanted[f]; expected[f] = f === 'tags' ? (t.tags ?? []) : current[f]; }

  // Strictly after the ticket's last change: commits of racing changes get increasing times, so
  // the timeline (sorted by time) shows them in the order they were applied.
  const at = Math.max(now, t.updated_at + 1);
  const events: PlannedEvent[] = [];
  const stamps: { resolved_at?: number | null; closed_at?: number; reopen?: boolean } = {};
  if (changed.includes('status')) {
    events.push({ type: 'ticket.status_changed', data: { from: t.status, to } });
    if (to === 'resolved') stamps.resolved_at = at;
    if (to === 'closed') stamps.closed_at = at;
    if (t.status === 'resolved' && to === 'open') {
      // Like a customer's reopen (process.ts): resolved_at cleared, a new resolution cycle.
      stamps.resolved_at = null;
      stamps.reopen = true;
      events.push({ type: 'ticket.reopened', data: { reason: 'agent' } });
    }
  }
  if (changed.includes('priority')) events.push({ type: 'ticket.priority_changed', data: { from: t.priority, to: wanted.priority } });
  const assignee = (changed.includes('assignee') ? wanted.assignee : current.assignee) as string | null;
  const team = (changed.includes('team') ? wanted.team : current.team) as string | null;
  const assignment = (changed.includes('assignee') && assignee !== null) || (changed.includes('team') && team !== null);
  if (assignment) events.push({ type: 'ticket.assigned', data: { assignee, team, ...(changed.includes('assignee') ? { previous_assignee: current.assignee } : {}) } });
  const rest = changed.filter((f) => f === 'category' || f === 'tags' || (!assignment && (f === 'assignee' || f === 'team')));
  if (rest.length > 0) {
    events.push({ type: 'ticket.updated', data: { changed: rest, ...(rest.includes('category') ? { category: wanted.category } : {}), ...(rest.includes('assignee') ? { assignee: null } : {}), ...(rest.includes('team') ? { team: null } : {}) } });
  }
  return { kind: 'change', set, expected, changed, stamps, events, updated_at: at };
}

function allowedHint(from: TicketStatus): string {
  const all: TicketStatus[] = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed'];
  const ok = all.filter((s) => canTransition(from, s));
  return ok.length ? ` (allowed: ${ok.join(', ')})` : ` (${from} is final)`;
}

// ---------------------------------------------------------------------------------------------
// Inbox filters

/** What the inbox filter reads of a ticket (a stored ticket record fits). */
export interface InboxTicket {
  readonly status: TicketStatus;
  readonly priority: Priority;
  readonly channel: string;
  readonly customer_id?: string;
  readonly assignee: string | null;
  readonly last_inbound_at: number | null;
  readonly last_outbound_at: number | null;
  readonly first_response_at: number | null;
  readonly subject?: string;
  /** Ids of undelivered messages (a DynamoDB string set as stored). */
  readonly undelivered?: ReadonlySet<string> | readonly string[];
  readonly sla: {
    readonly breached?: readonly string[];
    readonly marks?: Readonly<Record<string, { readonly level: number; readonly breached: boolean }>>;
    readonly awaiting_since?: number | null;
    readonly cycle?: number;
    readonly ola_started_at?: number | null;
  } | null;
}

export interface InboxFilter {
  /** Statuses to show; empty/absent = every status but merged. */
  readonly status?: readonly TicketStatus[];
  /** An agent id, or null = unassigned. */
  readonly assignee?: string | null;
  readonly channel?: readonly string[];
  readonly priority?: readonly Priority[];
  readonly awaiting?: 'agent' | 'customer';
  readonly sla?: 'breached' | 'at_risk';
  /** Tickets of this customer id. */
  readonly customer?: string;
  /** Lower-cased search text, matched against the subject and the customer's display name. */
  readonly q?: string;
  /** `failed`: only tickets with an undelivered message. */
  readonly delivery?: 'failed';
}

/**
 * Whose turn it is on an active ticket: `agent` when the customer's last message is unanswered
 * (and the ticket is not waiting on them), `customer` when the ticket is pending_customer or the
 * last message was the agents'. Null for resolved/closed/merged tickets.
 */
export function awaiting(t: Pick<InboxTicket, 'status' | 'last_inbound_at' | 'last_outbound_at'>): 'agent' | 'customer' | null {
  if (!isActive(t.status)) return null;
  if (t.status === 'pending_customer') return 'customer';
  const lastIn = t.last_inbound_at ?? null;
  if (lastIn !== null && lastIn > (t.last_outbound_at ?? -1)) return 'agent';
  return 'customer';
}

/**
 * SLA state of a ticket for the inbox: `breached` when any clock breached; `at_risk` when a clock
 * still running has passed its first escalation step (default 80 % of its target: the SLA
 * workflow wakes there and records the step in `sla.marks`) but nothing breached; else `ok`.
 */
export function slaRisk(t: Pick<InboxTicket, 'status' | 'first_response_at' | 'sla'>): 'breached' | 'at_risk' | 'ok' {
  const s = t.sla;
  if (!s) return 'ok';
  if ((s.breached ?? []).length > 0) return 'breached';
  if (!isActive(t.status)) return 'ok';
  const marks = s.marks ?? {};
  const running: string[] = [];
  // Stored records leave null fields out: absent and null mean the same here.
  if (t.first_response_at === null || t.first_response_at === undefined) running.push('first_response');
  else if (s.awaiting_since !== undefined && s.awaiting_since !== null) running.push(`next_response@${s.awaiting_since}`);
  running.push(`resolution@${s.cycle ?? 0}`);
  if (s.ola_started_at !== undefined && s.ola_started_at !== null) running.push(`ola@${s.ola_started_at}`);
  return running.some((k) => (marks[k]?.level ?? 0) >= 1 && !marks[k]?.breached) ? 'at_risk' : 'ok';
}

/** Whether a ticket belongs in the filtered inbox. `customerName`: the customer's display name (for `q`). */
export function matchesInbox(t: InboxTicket, f: InboxFilter, customerName?: string | null): boolean {
  if (f.status && f.status.length > 0 ? !f.status.includes(t.status) : t.status === 'merged') return false;
  if (f.assignee !== undefined && (t.assignee ?? null) !== f.assignee) return false;
  if (f.channel && f.channel.length > 0 && !f.channel.includes(t.channel)) return false;
  if (f.customer !== undefined && t.customer_id !== f.customer) return false;
  if (f.priority && f.priority.length > 0 && !f.priority.includes(t.priority)) return false;
  if (f.awaiting && awaiting(t) !== f.awaiting) return false;
  if (f.sla && slaRisk(t) !== f.sla) return false;
  if (f.delivery === 'failed' && (t.undelivered === undefined || (t.undelivered instanceof Set ? t.undelivered.size : (t.undelivered as readonly string[]).length) === 0)) return false;
  if (f.q) {
    const hay = `${t.subject ?? ''}\n${customerName ?? ''}`.toLocaleLowerCase();
    if (!hay.includes(f.q.toLocaleLowerCase())) return false;
  }
  return true;
}

/** Saved views with counts (`GET /tickets/counts`): every one over active tickets only. */
export const SAVED_VIEWS = {
  mine: (me: string): InboxFilter => ({ status: ['new', 'open', 'pending_customer', 'on_hold'], assignee: me }),
  unassigned: (): InboxFilter => ({ status: ['new', 'open', 'pending_customer', 'on_hold'], assignee: null }),
  awaiting_reply: (): InboxFilter => ({ status: ['new', 'open', 'pending_customer', 'on_hold'], awaiting: 'agent' }),
} as const;
