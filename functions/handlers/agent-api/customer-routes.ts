/**
 * Agent API: customers and tickets across identities (issue 5, DESIGN.md §2–§3) — the customer
 * card, lookup, manual customer merge / unmerge, ticket merge / split, GDPR erase.
 *
 * Roles: ticket merge and split stay within one customer (nothing passes to another person, and
 * each undoes the other) → agent. Customer merge and unmerge move a person's history between
 * customer records (a wrong merge shows one customer's conversations to another) → supervisor.
 * Erase destroys data irreversibly → admin.
 */
import { monotonicFactory } from 'ulid';
import { CHANNELS } from '../../domain/inbound.js';
import { lookupOf } from '../../domain/identity.js';
import { formatTicketNumber } from '../../domain/ticket.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { loadFamily, lookupCustomers, mergeCustomers, unmergeCustomers } from '../../store/customers.js';
import { erasureJobOf, requestErasure, type ErasureJob } from '../../store/erasure.js';
import { batchGet, loadCustomers } from '../../store/identity.js';
import { nextTicketNumber } from '../../store/ticket-numbers.js';
import { keys } from '../../store/table.js';
import { organisationForEmails } from '../../store/organisations.js';
import { effectiveTier } from '../../domain/tier.js';
import { mergeTickets, splitTicket } from '../../store/tickets.js';
import { customerOrders } from '../../store/orders.js';
import { withLastMessageTexts } from '../../store/last-inbound.js';
import type { Clock } from '../../domain/clock.js';
import { route, type RouteDef } from './router.js';
import {
  CustomerCard, CustomerList, CustomerMergeBody, CustomerUnmergeBody, ErasureStatus, ErrorBody, IdParam, Ticket, TicketMergeBody, TicketSplitBody,
} from './schemas.js';
import { customerCardView, orderView, ticketView } from './views.js';

export interface CustomerRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** CONFLUO_TICKET_PREFIX (split tickets get a number). */
  readonly ticketPrefix?: string;
}

/** The card of the customer `id` resolves to (merge pointers followed); undefined: no such customer. */
export async function customerCardOf(db: Db, id: string) {
  const fam = await loadFamily(db, id);
  if (!fam) return undefined;
  // Suggestions whose value another customer holds verified name that customer (1 round trip).
  const attrs = fam.suggestions.map((s) => keys.verifiedAttribute(s.kind, s.value));
  const matches = new Map<string, string>();
  if (attrs.length) {
    const owners = await batchGet(db, attrs);
    const memberIds = new Set(fam.members.map((m) => m.id));
    const foreign = [...owners.values()].filter((o) => typeof o.customer_id === 'string' && !memberIds.has(o.customer_id as string));
    const graph = foreign.length ? await loadCustomers(db, foreign.map((o) => o.customer_id as string)) : undefined;
    for (const o of foreign) {
      const root = graph!.root(o.customer_id as string);
      if (root !== fam.root.id) matches.set(String(o.pk).slice('VATTR#'.length), root);
    }
  }
  // Tier: the customer's own, else the organisation of a verified e-mail domain (resolved now: functions/store/organisations.ts).
  const org = fam.root.erased_at !== undefined ? undefined : await organisationForEmails(db, fam.attributes.filter((x) => x.kind === 'email').map((x) => x.value));
  // The shop's orders of every member (a merged customer's orders show on the survivor's card).
  const orders = await customerOrders(db, [...new Set([fam.root.id, ...fam.members.map((m) => m.id)])]);
  // The card's last message per channel: its text from the timeline where the ticket keeps only its id (functions/store/last-inbound.ts).
  const identities = await withLastMessageTexts(db, fam.identities);
  return { ...customerCardView({ ...fam, identities }, matches, { effective: effectiveTier(fam.root, org), organisation_id: org?.id ?? null }), orders: orders.map(orderView) };
}

/** `GET /customers?q=` and `?identity=`: cards of every customer found (roots, no duplicates). */
export async function findCustomerCards(db: Db, query: { identity?: string | undefined; q?: string | undefined }) {
  const ids: string[] = [];
  if (query.identity) {
    const [channel, ...rest] = query.identity.split(':');
    ids.push(...await lookupCustomers(db, { identities: [{ channel: channel!, externalId: rest.join(':') }], verified: [] }));
  }
  if (query.q) {
    const lookup = lookupOf(query.q, CHANNELS);
    if (!lookup) throw new HttpError(400, 'invalid', 'query.q: expected a phone number, an e-mail address or <channel>:<external_id>');
    ids.push(...await lookupCustomers(db, lookup));
  }
  const cards = await Promise.all([...new Set(ids)].map((id) => customerCardOf(db, id)));
  return cards.filter((c): c is NonNullable<typeof c> => c !== undefined);
}

function erasureView(job: ErasureJob) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    customer_id: job.customer_id, state: job.state, phase: job.phase,
    requested_at: iso(job.requested_at)!, requested_by: job.requested_by, erased_at: iso(job.erased_at)!, finished_at: iso(job.finished_at),
    counts: job.counts, status_url: `/api/v1/customers/${job.customer_id}/erasure`,
  };
}

export function customerRoutes(deps: CustomerRouteDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();
  const prefix = deps.ticketPrefix ?? 'C';

  const mustCard = async (id: string) => {
    const card = await customerCardOf(db, id);
    if (!card) throw new HttpError(404, 'not_found', 'no such customer');
    return card;
  };

  return [
    route({
      method: 'POST', path: '/customers/{id}/merge', summary: 'Merge customer `from` into this one (this one survives; reversible with unmerge)', role: 'supervisor',
      params: IdParam, body: CustomerMergeBody, responses: { 200: CustomerCard, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const graph = await loadCustomers(db, [params.id, body.from]);
        if (!graph.get(params.id) || !graph.get(body.from)) throw new HttpError(404, 'not_found', 'no such customer');
        const winner = graph.root(params.id);
        const loser = graph.root(body.from);
        if (winner === loser) throw new HttpError(409, 'conflict', 'these are already one customer');
        const now = deps.clock.now();
        const res = await mergeCustomers(db, { winnerId: winner, loserId: loser, reason: 'manual', attribute: null, sources: [], actor: caller.sub, now, newId: () => ulid(now) });
        if (res.status === 'refused') throw new HttpError(409, 'conflict', res.reason);
        if (res.status === 'stale') throw new HttpError(409, 'conflict', 'one of the customers was merged meanwhile: try again');
        return { status: 200, body: await mustCard(winner) };
      },
    }),
    route({
      method: 'POST', path: '/customers/{id}/unmerge', summary: 'Undo the merge of `customer` into this one: both customers and their tickets come back', role: 'supervisor',
      params: IdParam, body: CustomerUnmergeBody, responses: { 200: CustomerList, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const graph = await loadCustomers(db, [params.id, body.customer]);
        const loser = graph.get(body.customer);
        if (!graph.get(params.id) || !loser) throw new HttpError(404, 'not_found', 'no such customer');
        // The merge to undo is the loser's own: into this customer, or into one merged into it since.
        const winner = loser.merged_into;
        if (!winner || graph.root(winner) !== graph.root(params.id)) throw new HttpError(409, 'conflict', 'that customer is not merged into this one');
        const now = deps.clock.now();
        const res = await unmergeCustomers(db, { winnerId: winner, loserId: loser.id, actor: caller.sub, now, newId: () => ulid(now) });
        if (res.status === 'refused') throw new HttpError(res.code, res.code === 404 ? 'not_found' : 'conflict', res.reason);
        return { status: 200, body: { items: [await mustCard(winner), await mustCard(loser.id)], next_cursor: null } };
      },
    }),
    route({
      method: 'DELETE', path: '/customers/{id}', summary: 'GDPR erase: start erasing the customer (and everything merged into it) — 202 and a status to follow; from now on their messages start a fresh customer', role: 'admin',
      params: IdParam, responses: { 202: ErasureStatus, 200: ErasureStatus, 404: ErrorBody },
      handle: async ({ params, caller }) => {
        const now = deps.clock.now();
        const res = await requestErasure(db, { id: params.id, actor: caller.sub, now, newId: () => ulid(now) });
        if (res.status === 'refused') throw new HttpError(404, 'not_found', res.reason);
        const body = erasureView(res.job);
        // Asynchronous (functions/store/erasure.ts): 202 while it runs, 200 once it has finished.
        return { status: res.status === 'erased' ? 200 : 202, body, headers: { location: body.status_url } };
      },
    }),
    route({
      method: 'GET', path: '/customers/{id}/erasure', summary: 'Progress of the customer\'s GDPR erasure', role: 'admin',
      params: IdParam, responses: { 200: ErasureStatus, 404: ErrorBody },
      handle: async ({ params }) => {
        const job = await erasureJobOf(db, params.id);
        if (job === null) throw new HttpError(404, 'not_found', 'no such customer');
        if (job === undefined) throw new HttpError(404, 'not_found', 'no erasure of this customer');
        return { status: 200, body: erasureView(job) };
      },
    }),
    route({
      method: 'POST', path: '/tickets/{id}/merge', summary: 'Merge this ticket into ticket `into` of the same customer (this one becomes `merged`)', role: 'agent',
      params: IdParam, body: TicketMergeBody, responses: { 200: Ticket, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const now = deps.clock.now();
        const res = await mergeTickets(db, { loserId: params.id, intoId: body.into, actor: caller.sub, now, newId: () => ulid(now) });
        if (!res.ok) throw new HttpError(res.status, res.status === 404 ? 'not_found' : res.status === 400 ? 'invalid' : 'conflict', res.reason);
        return { status: 200, body: ticketView(res.value) };
      },
    }),
    route({
      method: 'POST', path: '/tickets/{id}/split', summary: 'Move the selected messages of this ticket into a new ticket of the same customer', role: 'agent',
      params: IdParam, body: TicketSplitBody, responses: { 201: Ticket, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const now = deps.clock.now();
        const res = await splitTicket(db, {
          ticketId: params.id, messageIds: body.messageIds, actor: caller.sub, now, newId: () => ulid(now),
          nextNumber: async () => formatTicketNumber(prefix, await nextTicketNumber(db)),
        });
        if (!res.ok) throw new HttpError(res.status, res.status === 404 ? 'not_found' : res.status === 400 ? 'invalid' : 'conflict', res.reason);
        return { status: 201, body: ticketView(res.value) };
      },
    }),
  ];
}
