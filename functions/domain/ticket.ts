/** Ticket vocabulary and the status machine of DESIGN.md §2 (pure). */
/**
 * `held` and `deflected` (README "Knowledge base": deflection on messengers): a new conversation
 * offered an article waits `held` — on record, but in no inbox, with no SLA, assignment or
 * acknowledgement — until the customer answers; "That solved it" makes it `deflected` (final, never
 * in an inbox), "I still need help" or any further message makes it `new` as if it had just opened.
 * Only the process pipeline moves them (functions/domain/kb/deflection.ts); agents cannot.
 */
export const TICKET_STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed', 'merged', 'held', 'deflected'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Statuses in which a new customer message simply joins the ticket. */
export const ACTIVE_STATUSES = ['new', 'open', 'pending_customer', 'on_hold'] as const satisfies readonly TicketStatus[];

const TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  new: ['open', 'pending_customer', 'on_hold', 'resolved'],
  open: ['pending_customer', 'on_hold', 'resolved'],
  pending_customer: ['open', 'on_hold', 'resolved'],
  on_hold: ['open', 'pending_customer', 'resolved'],
  resolved: ['open', 'closed'],
  closed: [],
  merged: [],
  held: [],
  deflected: [],
};

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isActive(status: TicketStatus): boolean {
  return (ACTIVE_STATUSES as readonly TicketStatus[]).includes(status);
}

/** Human ticket number, e.g. `C-000123` (recognised in e-mail subjects as `[C-000123]`). */
export function formatTicketNumber(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(6, '0')}`;
}
