/**
 * Where does a new inbound message go? (DESIGN.md §2 Threading, pure.)
 * The customer's current ticket is the one their open-ticket pointer names.
 */
import { isActive, type TicketStatus } from './ticket.js';

export interface CurrentTicket {
  readonly id: string;
  readonly status: TicketStatus;
  readonly resolved_at?: number; // ms
}

export type ThreadDecision =
  | { readonly action: 'append'; readonly ticketId: string }
  | { readonly action: 'reopen'; readonly ticketId: string }
  | { readonly action: 'open'; readonly previousTicketId: string | null };

/**
 * `mayReopen` false (a sender the platform does not vouch for, `senderAuthenticated`): a resolved
 * ticket stays resolved and the message opens a new one, as after the reopen window.
 */
export function decideThread(current: CurrentTicket | null, nowMs: number, reopenWindowMs: number, opts: { readonly mayReopen?: boolean } = {}): ThreadDecision {
  if (!current) return { action: 'open', previousTicketId: null };
  if (isActive(current.status)) return { action: 'append', ticketId: current.id };
  if (opts.mayReopen !== false && current.status === 'resolved' && current.resolved_at !== undefined && nowMs - current.resolved_at <= reopenWindowMs) {
    return { action: 'reopen', ticketId: current.id };
  }
  return { action: 'open', previousTicketId: current.id };
}
