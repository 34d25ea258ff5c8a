/**
 * Reaction to `ticket.opened`: classification rules (functions/domain/rules.ts) set category,
 * priority and team of the new ticket from its first customer message, through the same store
 * function as `PATCH /tickets/{id}` (one conditional transaction with its timeline and feed
 * events, actor `rules`). Idempotent: a redelivered event plans no change. Rules never override an
 * agent: a field an agent already set (category, team) or changed (priority) is left alone.
 */
import { monotonicFactory } from 'ulid';
import type { Clock } from '../../domain/clock.js';
import { classify } from '../../domain/rules.js';
import type { TicketPatch } from '../../domain/triage.js';
import { logger as defaultLogger } from '../../runtime/logger.js';
import type { Db } from '../../store/db.js';
import { getTicket, listCustomerItems } from '../../store/reads.js';
import type { FeedEvent, MessageEntry } from '../../store/records.js';
import { partitionEntries } from '../../store/tickets.js';
import { getRules } from '../../store/templates.js';
import { changeTicket } from '../../store/triage.js';
import type { Reaction } from './reaction.js';

export class ClassificationError extends Error {
  override readonly name = 'ClassificationError';
}

export function classificationReaction(deps: { readonly db: Db; readonly clock: Clock; readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn'> }): Reaction {
  const ulid = monotonicFactory();
  const log = deps.logger ?? defaultLogger;
  return async function classification(event: FeedEvent) {
    if (!event.ticket_id) return;
    const rules = await getRules(deps.db);
    if (rules.items.length === 0) return;
    const ticket = await getTicket(deps.db, event.ticket_id);
    if (!ticket || ticket.status === 'merged') return;
    const entries = await partitionEntries(deps.db, ticket.id);
    const first = entries.filter((e): e is MessageEntry & { sk: string } => e.type === 'message' && e.direction === 'in').sort((a, b) => a.at - b.at)[0];
    const text = [ticket.subject ?? '', first?.text ?? ''].filter((s) => s !== '').join('\n');
    if (text === '') return;
    const { identities } = await listCustomerItems(deps.db, ticket.customer_id);
    const identity = identities.find((i) => i.channel === ticket.channel && i.conversation_id === ticket.conversation_id) ?? identities.find((i) => i.channel === ticket.channel);
    const c = classify(rules.items, text, identity?.language);
    // Ids only: a pattern is configuration, but the text it was tried on is the customer's.
    if (c.unusable) log.warn('classification rules skipped: pattern not valid for RE2; save the rules again', { ticket_id: ticket.id, reason: 'pattern_unusable', rules: c.unusable });
    const agentChangedPriority = entries.some((e) => e.type === 'event' && e.event === 'ticket.priority_changed' && (e.data as { actor?: string }).actor !== 'rules');
    const patch: TicketPatch = {
      ...(c.category !== undefined && ticket.category == null ? { category: c.category } : {}),
      ...(c.team !== undefined && ticket.team == null ? { team: c.team } : {}),
      ...(c.priority !== undefined && !agentChangedPriority ? { priority: c.priority } : {}),
    };
    if (Object.keys(patch).length === 0) return;
    const now = Math.max(deps.clock.now(), event.at);
    const r = await changeTicket(deps.db, { ticketId: ticket.id, patch, actor: 'rules', now, newId: (at) => ulid(at) });
    if (!r.ok) {
      // A ticket closed or merged meanwhile keeps what it has; anything else is retried by the stream.
      const now2 = await getTicket(deps.db, ticket.id);
      if (r.status === 404 || 'code' in r || !now2 || now2.status === 'merged') return;
      throw new ClassificationError('classification could not be applied', { cause: { ticket_id: ticket.id, stage: 'apply', status: r.status } });
    }
    if (r.value.changed.length) log.info('ticket classified', { ticket_id: ticket.id, rules: c.rules, changed: r.value.changed });
  };
}
