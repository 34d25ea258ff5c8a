/**
 * Who sent this message? The identity step of the process handler (DESIGN.md §2 Identity):
 * load (identity + index items of the verified attributes the message carries, one round trip;
 * the customers involved with their merge pointers resolved, one more on the slow path) → decide
 * (functions/domain/identity.ts `decideLink`, pure) → either a customer merge (its own conditional
 * transaction; the caller then decides again) or what the inbound commit must add: verified
 * attribute claims, suggestions, a merge-log entry for a link — all inside the same transaction
 * as the message, so a crash or a duplicate never leaves half of it.
 */
import type { Identity, InboundMessage } from '../domain/inbound.js';
import {
  attributeKey, claimsOf, decideLink, linkReasonOf, mergeIdentity, newlyVerified, senderAuthenticated, verifiedAttributes, type CustomerFacts,
} from '../domain/identity.js';
import type { Db } from '../store/db.js';
import { finishMerge, getMergeRecord, mergeCustomers } from '../store/customers.js';
import { claimAttributeItem, customerLogItem, loadCustomers, loadIdentityAndIndex, ownersOf, suggestionItem } from '../store/identity.js';
import type { CustomerRecord, FeedEvent, IdentityRecord } from '../store/records.js';
import type { TxItem } from '../store/tickets.js';
import type { logger as defaultLogger } from '../runtime/logger.js';

export class IdentifyError extends Error {
  override readonly name = 'IdentifyError';
}

export type Identified =
  /** Two customers turned out to be one and were merged: decide again (fast path allowed). */
  | { readonly kind: 'merged'; readonly winner: string; readonly loser: string }
  | {
    readonly kind: 'resolved';
    /** The identity as stored before this message (undefined: new, or its erased customer's). */
    readonly stored: IdentityRecord | undefined;
    /** The identity to store (upserted attributes). */
    readonly identity: Identity;
    readonly identityIsNew: boolean;
    readonly identityFromCustomer?: string;
    readonly identityReplacesCustomer?: string;
    readonly identityExtras: Record<string, unknown>;
    readonly customerId: string;
    readonly customerIsNew: boolean;
    /** The (root) customer as loaded on the slow path; undefined on the fast path and for a new one. */
    readonly customer: CustomerRecord | undefined;
    /** The stored identity's ticket hint is usable (nothing to link, caller allowed it). */
    readonly fast: boolean;
    readonly items: TxItem[];
    readonly events: FeedEvent[];
  };

export interface IdentifyDeps {
  readonly db: Db;
  readonly newId: (now: number) => string;
  readonly log: Pick<typeof defaultLogger, 'info'>;
}

export function makeIdentify(deps: IdentifyDeps) {
  const { db } = deps;

  /**
   * `merged`: merges this message just performed (loser → winner): an index item naming such a
   * loser is its winner's, so the fast path stays open right after the merge.
   */
  return async function identify(msg: InboundMessage, opts: { readonly now: number; readonly fastAllowed: boolean; readonly merged?: ReadonlyMap<string, string> }): Promise<Identified> {
    const { now } = opts;
    const seen = msg.customer_identity;
    const seenAttrs = verifiedAttributes(seen);
    // An unauthenticated sender (e-mail failing DMARC) fills gaps only: it renames no one, downgrades nothing.
    const authenticated = senderAuthenticated(msg);
    const { identity: loaded, index } = await loadIdentityAndIndex(db, msg.channel, seen.external_id, seenAttrs);

    // Fast path: a known identity with a ticket hint and no verified attribute owned by anyone else.
    if (loaded && loaded.ticket_hint && opts.fastAllowed) {
      const merged = mergeIdentity(loaded, seen, { authenticated });
      const attrs = newlyVerified(loaded, merged);
      const ownerOk = (owner: string) => owner === loaded.customer_id || opts.merged?.get(owner) === loaded.customer_id;
      if (attrs.every((a) => { const o = index.get(attributeKey(a)); return !o || ownerOk(o.customer_id); })) {
        const claim = attrs.filter((a) => !index.has(attributeKey(a)));
        return {
          kind: 'resolved', stored: loaded, identity: merged, identityIsNew: false, identityExtras: {},
          customerId: loaded.customer_id, customerIsNew: false, customer: undefined, fast: true,
          items: [
            ...claim.map((a) => claimAttributeItem(db, a, loaded.customer_id, msg.channel, now)),
            ...claimsOf(msg, merged).map((s) => suggestionItem(db, loaded.customer_id, s, now)),
          ],
          events: [],
        };
      }
    }

    // Slow path: resolve merge pointers of the identity's customer and of the attributes' owners.
    const ownerIds = [...index.values()].map((r) => r.customer_id);
    const graph = await loadCustomers(db, [...(loaded ? [loaded.customer_id] : []), ...ownerIds]);
    let stored = loaded;
    let replaces: string | undefined;
    let storedRoot: string | null = null;
    if (loaded) {
      const root = graph.rootRecord(loaded.customer_id);
      if (!root) throw new IdentifyError('identity points to a missing customer', { cause: { customer_id: loaded.customer_id, stage: 'identify' } });
      if (root.erased_at !== undefined) {
        // Its customer is being erased: this message starts a fresh customer (DESIGN.md §2 Privacy).
        replaces = loaded.customer_id;
        stored = undefined;
      } else {
        storedRoot = root.id;
        const direct = graph.get(loaded.customer_id)?.merged_into;
        if (direct !== undefined) {
          // A merge pointer: finish the merge if it was interrupted; this commit re-points the identity.
          const rec = await getMergeRecord(db, direct, loaded.customer_id);
          if (rec?.state === 'merging') await finishMerge(db, rec);
        }
      }
    }
    const merged = mergeIdentity(stored, seen, { authenticated });
    const attrs = newlyVerified(stored, merged);
    const facts = new Map<string, CustomerFacts>();
    for (const id of graph.records.keys()) { const f = graph.facts(graph.root(id)); if (f) facts.set(f.id, f); }
    const owners = ownersOf(index, attrs, graph);
    const decision = decideLink({ channel: msg.channel, storedRoot, attributes: attrs, owners, customers: facts, claims: claimsOf(msg, merged) });

    if (decision.kind === 'merge') {
      const sources = [decision.via.channel, msg.channel];
      const result = await mergeCustomers(db, {
        winnerId: decision.winner, loserId: decision.loser, reason: linkReasonOf(decision.via.attribute.kind), attribute: decision.via.attribute.kind,
        sources, actor: 'system', now, newId: () => deps.newId(now), graph,
      });
      if (result.status === 'refused') throw new IdentifyError('automatic customer merge refused', { cause: { stage: 'identify-merge', reason: result.reason, winner: decision.winner, loser: decision.loser } });
      if (result.status === 'merged') deps.log.info('customers merged', { winner: decision.winner, loser: decision.loser, attribute: decision.via.attribute.kind, sources });
      return { kind: 'merged', winner: decision.winner, loser: decision.loser };
    }

    const customerIsNew = decision.kind === 'new';
    const customerId = decision.kind === 'new' ? deps.newId(now) : decision.customerId;
    const erasedOwner = (a: { kind: string; value: string }) => {
      const rec = index.get(`${a.kind}#${a.value}`);
      return rec && graph.rootRecord(rec.customer_id)?.erased_at !== undefined ? rec.customer_id : undefined;
    };
    const items: TxItem[] = [
      ...decision.claim.map((a) => claimAttributeItem(db, a, customerId, msg.channel, now, erasedOwner(a))),
      ...decision.suggestions.map((s) => suggestionItem(db, customerId, s, now)),
    ];
    const events: FeedEvent[] = [];
    const identityExtras: Record<string, unknown> = {};
    if (decision.kind === 'join') {
      const sources = [decision.via.channel, msg.channel];
      const reason = linkReasonOf(decision.via.attribute.kind);
      items.push(customerLogItem(db, customerId, { id: deps.newId(now), at: now, event: 'identity_linked', customer_id: null, reason, attribute: decision.via.attribute.kind, sources, actor: 'system' }));
      events.push({ id: deps.newId(now), type: 'identity.linked', at: now, customer_id: customerId, data: { channel: msg.channel, reason, attribute: decision.via.attribute.kind, sources } });
      // Linked because of that customer's attribute: an unmerge of that customer takes it along.
      identityExtras.origin_customer_id = decision.via.customerId;
    }
    return {
      kind: 'resolved', stored, identity: merged, identityIsNew: stored === undefined,
      ...(stored && stored.customer_id !== customerId ? { identityFromCustomer: stored.customer_id } : {}),
      ...(replaces ? { identityReplacesCustomer: replaces } : {}),
      identityExtras, customerId, customerIsNew,
      customer: customerIsNew ? undefined : graph.get(customerId),
      fast: false, items, events,
    };
  };
}
