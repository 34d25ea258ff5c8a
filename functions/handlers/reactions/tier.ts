/**
 * Reaction to `ticket.opened`: the new ticket gets its customer's effective tier and contract —
 * the customer's own, else its organisation's by verified e-mail domain (functions/store/organisations.ts)
 * — and, for a priority tier, its place in the priority part of the inbox. It runs before the SLA
 * reaction of the same event (deploymentReactions order), so the SLA policy the ticket starts with
 * already matches on the tier and contract. Idempotent: a redelivered event finds the tier written.
 */
import { logger as defaultLogger } from '../../runtime/logger.js';
import type { Db } from '../../store/db.js';
import { resolveCustomerTier, writeTicketTier } from '../../store/organisations.js';
import { getTicket } from '../../store/reads.js';
import type { FeedEvent } from '../../store/records.js';
import type { Reaction } from './reaction.js';

export function tierReaction(deps: { readonly db: Db; readonly logger?: Pick<typeof defaultLogger, 'info'> }): Reaction {
  const log = deps.logger ?? defaultLogger;
  return async function tier(event: FeedEvent) {
    if (!event.ticket_id) return;
    const ticket = await getTicket(deps.db, event.ticket_id);
    if (!ticket || ticket.status === 'merged') return;
    const resolved = await resolveCustomerTier(deps.db, ticket.customer_id);
    if (!resolved) return;
    const { effective } = resolved;
    if (await writeTicketTier(deps.db, ticket, effective)) {
      log.info('ticket tier set', { ticket_id: ticket.id, tier: effective.tier, contract: effective.contract, tier_source: effective.tier_source });
    }
  };
}
