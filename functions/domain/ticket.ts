/** Ticket vocabulary and the status machine of DESIGN.md §2 (pure). */
export const TICKET_STATUSES = ['new', 'open', 'pending_customer', 'on_hold', 'resolved', 'closed', 'merged'] as const;
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
