/**
 * The ticket write of a customer's answer to an article offered before the ticket opened (README
 * "Knowledge base": deflection on messengers; functions/store/deflection.ts describes the held
 * conversation). A module of its own, below store/inbound.ts, which commits it with the message.
 */
import type { OfferOutcome } from '../domain/kb/deflection.js';
import type { SlaBlock } from './records.js';
import { indexKeys, keys } from './table.js';

/** The thread plan of an answer to an offer (functions/domain/kb/deflection.ts `answerToOffer`). */
export interface OfferThread {
  readonly action: 'offer';
  readonly ticketId: string;
  readonly outcome: OfferOutcome;
  /** The status read: the update is conditional on it. */
  readonly from: 'held' | 'deflected';
  /** `release`: the SLA block the opened ticket starts with (its clocks start now, not at the first question). */
  readonly sla?: SlaBlock;
}

/**
 * The ticket update of an answer: the message touch (`touchSet`/`touch` of commitInbound, which
 * hold `:c`, `:now`, `:one`) and
 * - `release`: status `new`, into the inbox (gsi1) and the `new` status partition, the SLA block;
 * - `deflect`: status `deflected`, `closed_at`, the `deflected` status partition (never an inbox);
 * - `keep`: the press joins the timeline, nothing else changes.
 */
export function offerAnswerUpdate(
  T: string, ticketId: string, plan: OfferThread, touchSet: string, touch: Record<string, unknown>,
  extra: { readonly names?: Record<string, string>; readonly condition?: string } = {},
) {
  const now = touch[':now'] as number;
  const names: Record<string, string> = { '#s': 'status', '#dfl': 'deflection', '#ans': 'answer', '#aat': 'answered_at', ...(extra.names ?? {}) };
  const values: Record<string, unknown> = { ...touch, ':from': plan.from };
  const sets = [touchSet];
  if (plan.outcome === 'release') {
    names['#sla'] = 'sla';
    const inbox = indexKeys.inbox(now, ticketId);
    Object.assign(values, { ':to': 'new', ':g1pk': inbox.gsi1pk, ':g2': indexKeys.byStatus('new', now, ticketId).gsi2pk, ':sla': plan.sla ?? null, ':answer': 'help' });
    sets.push('#s = :to', 'gsi1pk = :g1pk', 'gsi2pk = :g2', '#sla = :sla', '#dfl.#ans = :answer', '#dfl.#aat = :now');
  } else if (plan.outcome === 'deflect') {
    Object.assign(values, { ':to': 'deflected', ':g2': indexKeys.byStatus('deflected', now, ticketId).gsi2pk, ':answer': 'solved' });
    sets.push('#s = :to', 'gsi2pk = :g2', 'closed_at = :now', '#dfl.#ans = :answer', '#dfl.#aat = :now');
  }
  if (plan.outcome === 'keep') { delete names['#dfl']; delete names['#ans']; delete names['#aat']; }
  // A change of mind after "solved" opens the deflected conversation: it is no longer closed.
  const remove = plan.outcome === 'release' && plan.from === 'deflected' ? ' REMOVE closed_at' : '';
  return {
    TableName: T, Key: keys.ticket(ticketId), UpdateExpression: `SET ${sets.join(', ')}${remove}`,
    ConditionExpression: `customer_id = :c AND #s = :from${extra.condition ? ` AND ${extra.condition}` : ''}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
  };
}

