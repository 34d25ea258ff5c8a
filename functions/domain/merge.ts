/**
 * Customer and ticket merges, unmerges and splits: the pure rules (DESIGN.md §2 Identity,
 * Threading).
 *
 * Representation (chosen so that nothing is ever copied and every step is a single conditional
 * update):
 * - **Customers**: a merged customer keeps its record with `merged_into` → winner (a pointer, set
 *   conditionally, resolved on read). Identities and tickets are re-pointed to the winner (their
 *   `customer_id`, with `origin_customer_id` remembering where they came from), so an unmerge
 *   knows exactly what to move back: everything whose origin resolves to the loser once the
 *   loser's pointer is removed.
 * - **Tickets**: timeline entries never move. A ticket merged into another gets status `merged`
 *   and `merged_into`; the winner lists it in `merged_tickets` (flattened: the loser's own merged
 *   tickets too) and reads its partition (`timeline_sources`). A split sets `shown_in` on the
 *   selected entries (one idempotent update each) and the new ticket reads their partitions. The
 *   timeline of ticket X = entries of X's partition and its sources whose owner
 *   (`shown_in ?? ticket_id`) is X or a ticket merged into X. So merge = one transaction,
 *   unmerge = remove from the list, split = mark entries, split-then-merge round-trips; edits and
 *   delivery receipts keep finding their entry where it always was.
 */
import { isActive, type TicketStatus } from './ticket.js';

/** Follow merge pointers to the surviving customer (or ticket). Cycles and long chains are cut. */
export function resolveRoot(id: string, mergedInto: (id: string) => string | undefined, maxDepth = 16): string {
  let cur = id;
  const seen = new Set<string>([cur]);
  for (let i = 0; i < maxDepth; i++) {
    const next = mergedInto(cur);
    if (next === undefined || seen.has(next)) return cur;
    seen.add(next);
    cur = next;
  }
  return cur;
}

export interface TicketFacts {
  readonly id: string;
  readonly status: TicketStatus;
  readonly created_at: number;
  readonly updated_at: number;
  readonly resolved_at?: number | null;
}

export interface TicketChoice {
  /** The customer's current ticket after the merge (null: neither had one). */
  readonly current: string | null;
  /** Both customers had an active ticket: the newer one merges into the older one. */
  readonly merge: { readonly winner: string; readonly loser: string } | null;
}

const olderTicket = (a: TicketFacts, b: TicketFacts) => (a.created_at !== b.created_at ? a.created_at < b.created_at : a.id <= b.id);

/**
 * The current tickets of two customers being merged: both active → merge into the older one; one
 * active → that one (a held one beside it merges into it); both held → into the older one;
 * neither → the most recently resolved or touched one, so the reopen window keeps working after
 * the merge.
 */
export function chooseTickets(winner: TicketFacts | undefined, loser: TicketFacts | undefined): TicketChoice {
  if (!winner && !loser) return { current: null, merge: null };
  if (!winner || !loser) return { current: (winner ?? loser)!.id, merge: null };
  // A conversation held for an offered article (README "Knowledge base") beside an active ticket:
  // its question joins the active ticket, which agents see — held, it would wait for a customer
  // message that now goes to the active ticket, and the question would never reach an agent.
  if (winner.status === 'held' && isActive(loser.status)) return { current: loser.id, merge: { winner: loser.id, loser: winner.id } };
  if (loser.status === 'held' && isActive(winner.status)) return { current: winner.id, merge: { winner: winner.id, loser: loser.id } };
  if (winner.status === 'held' && loser.status === 'held') {
    const [w, l] = olderTicket(winner, loser) ? [winner, loser] : [loser, winner];
    return { current: w.id, merge: { winner: w.id, loser: l.id } };
  }
  const wa = isActive(winner.status);
  const la = isActive(loser.status);
  if (wa && la) {
    const [w, l] = olderTicket(winner, loser) ? [winner, loser] : [loser, winner];
    return { current: w.id, merge: { winner: w.id, loser: l.id } };
  }
  if (wa) return { current: winner.id, merge: null };
  if (la) return { current: loser.id, merge: null };
  const recency = (t: TicketFacts) => t.resolved_at ?? t.updated_at;
  return { current: recency(loser) > recency(winner) ? loser.id : winner.id, merge: null };
}

/** Why a ticket merge into `into` is refused (manual merge); null when allowed. */
export function ticketMergeRefusal(loser: TicketFacts & { readonly merged_into?: string | null }, into: TicketFacts): string | null {
  if (loser.id === into.id) return 'a ticket cannot be merged into itself';
  if (loser.status === 'merged' || loser.status === 'closed') return `ticket is ${loser.status}`;
  if (into.status === 'merged' || into.status === 'closed') return `target ticket is ${into.status}`;
  if (isActive(loser.status) && !isActive(into.status)) return 'an active ticket cannot be merged into an inactive one: reopen the target first';
  return null;
}

/** Ticket lists after merging `loser` into `winner` (flattened, no duplicates, never self). */
export function mergedLists(winner: TicketLists & { readonly id: string }, loser: TicketLists & { readonly id: string }): Required<TicketLists> {
  const uniq = (xs: string[]) => [...new Set(xs)].filter((x) => x !== winner.id);
  return {
    merged_tickets: uniq([...(winner.merged_tickets ?? []), loser.id, ...(loser.merged_tickets ?? [])]),
    timeline_sources: uniq([...(winner.timeline_sources ?? []), loser.id, ...(loser.timeline_sources ?? [])]),
  };
}

/**
 * Ticket lists after taking `loser` back out of `winner`. Sources only grow (a superset costs one
 * extra query and is harmless: the owner filter decides what shows).
 */
export function unmergedLists(winner: TicketLists, loser: TicketLists & { readonly id: string }): Required<TicketLists> {
  const out = new Set([loser.id, ...(loser.merged_tickets ?? [])]);
  return {
    merged_tickets: (winner.merged_tickets ?? []).filter((t) => !out.has(t)),
    timeline_sources: [...(winner.timeline_sources ?? [])],
  };
}

export interface TicketLists {
  readonly merged_tickets?: readonly string[];
  readonly timeline_sources?: readonly string[];
}

/** The ticket a timeline entry belongs to. */
export const entryOwner = (e: { readonly ticket_id: string; readonly shown_in?: string }): string => e.shown_in ?? e.ticket_id;

/** Partitions to read for the timeline of `t`. */
export const timelinePartitions = (t: TicketLists & { readonly id: string }): string[] => [...new Set([t.id, ...(t.timeline_sources ?? [])])];

/** Does the entry show in the timeline of `t`? */
export function showsIn(t: TicketLists & { readonly id: string }, e: { readonly ticket_id: string; readonly shown_in?: string }): boolean {
  const owner = entryOwner(e);
  return owner === t.id || (t.merged_tickets ?? []).includes(owner);
}

/** The SLA-relevant part of a ticket's `sla` block (other fields are kept from the winner). */
export interface SlaLike {
  readonly first_response_due: number | null;
  readonly next_response_due: number | null;
  readonly resolution_due: number | null;
  readonly breached: string[];
  readonly escalation_level: number;
  readonly rev?: number;
  readonly started_at?: number;
  readonly resolution_since?: number;
  readonly awaiting_since?: number | null;
  readonly [k: string]: unknown;
}

/**
 * The surviving ticket's SLA keeps the earliest start of both (DESIGN.md §2): earlier due dates,
 * earlier clock starts, breaches of either, the higher escalation level. The revision moves on so
 * a concurrent SLA write conditional on the old one reloads. The SLA reaction to `ticket.merged`
 * re-targets the workflow from here.
 */
export function earliestSla<T extends SlaLike>(winner: T | null, loser: SlaLike | null, winnerCreatedAt: number, loserCreatedAt: number): T | null {
  if (!winner) return null;
  if (!loser) return winner;
  const min = (a: number | null | undefined, b: number | null | undefined): number | null => {
    const xs = [a, b].filter((x): x is number => typeof x === 'number');
    return xs.length ? Math.min(...xs) : null;
  };
  const started = min(winner.started_at ?? winnerCreatedAt, loser.started_at ?? loserCreatedAt)!;
  const out: Record<string, unknown> = {
    ...winner,
    first_response_due: min(winner.first_response_due, loser.first_response_due),
    next_response_due: min(winner.next_response_due, loser.next_response_due),
    resolution_due: min(winner.resolution_due, loser.resolution_due),
    breached: [...new Set([...(winner.breached ?? []), ...(loser.breached ?? [])])],
    escalation_level: Math.max(winner.escalation_level ?? 0, loser.escalation_level ?? 0),
    started_at: started,
    rev: (winner.rev ?? 0) + 1,
  };
  const rs = min(winner.resolution_since, loser.resolution_since);
  if (rs !== null) out.resolution_since = rs;
  if ('awaiting_since' in winner || 'awaiting_since' in loser) out.awaiting_since = min(winner.awaiting_since, loser.awaiting_since);
  return out as T;
}
