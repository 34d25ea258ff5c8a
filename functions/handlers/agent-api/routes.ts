/** Agent API routes (DESIGN.md §3). Each route: load → decide → commit; errors as HttpError. */
import { webchatRoutes } from './webchat-routes.js';
import { mediaRoutes } from './media-routes.js';
import type { MediaStore } from '../../runtime/ports.js';
import type { Clock } from '../../domain/clock.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { getCustomer, getTicket } from '../../store/reads.js';
import type { TicketRecord } from '../../store/records.js';
import { route, type RouteDef } from './router.js';
import { slaRoutes } from './sla-routes.js';
import { tierRoutes } from './tier-routes.js';
import { customerCardOf, customerRoutes, findCustomerCards } from './customer-routes.js';
import { ticketTimeline } from '../../store/tickets.js';
import { kpiRoutes } from './kpi-routes.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { triageRoutes } from './triage-routes.js';
import { templateRoutes } from './template-routes.js';
import { kbRoutes } from './kb-routes.js';
import { kbAgentRoutes } from './kb-agent-routes.js';
import { orderNumbersIn } from '../../domain/orders.js';
import { ordersByNumber } from '../../store/orders.js';
import { loadFamily } from '../../store/customers.js';
import { replyRoutes } from './reply-routes.js';
import { attachmentRoutes } from './attachment-routes.js';
import { surveyRoutes } from './survey-routes.js';
import { assignmentRoutes } from './assignment-routes.js';
import { customerDisplayNames, listInbox } from '../../store/triage.js';
import type { InboxFilter } from '../../domain/triage.js';
import type { SlaSettings } from '../../domain/sla/policy.js';
import {
  CustomerCard, CustomerList, CustomerQuery, ErrorBody, IdParam, TicketList, TicketListQuery,
  Timeline, TicketWithCustomer,
} from './schemas.js';
import { ticketView, timelineView } from './views.js';

export interface AgentApiDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** SLA calendars and policies in force while none are stored (CONFLUO_SLA_DEFAULTS). */
  readonly slaDefaults?: SlaSettings;
  /** CONFLUO_TICKET_PREFIX (tickets made by a split get a number). Default `C`. */
  readonly ticketPrefix?: string;
  /** META_HUMAN_AGENT_TAG=on: Messenger/Instagram replies beyond 24 h go out tagged HUMAN_AGENT (7 days). */
  readonly humanAgentTag?: boolean;
  /** The media bucket (attachments: downloads, agents' uploads; issue 14). */
  readonly media?: MediaStore;
  /** Lifetime of signed attachment URLs in seconds (CONFLUO_MEDIA_URL_SECONDS). */
  readonly mediaUrlSeconds?: number;
  /** CONFLUO_AGENT_DEFAULT_CAPACITY: capacity of agents no supervisor configured. */
  readonly defaultCapacity?: number;
}

export function agentRoutes(deps: AgentApiDeps): RouteDef[] {
  const { db } = deps;

  const mustTicket = async (id: string): Promise<TicketRecord> => {
    const t = await getTicket(db, id);
    if (!t) throw new HttpError(404, 'not_found', 'no such ticket');
    return t;
  };

  /** The card of the customer `id` resolves to (merge pointers followed). */
  const customerCard = (id: string) => customerCardOf(db, id);

  /**
   * Order numbers the messages mention ("order 51050") linked to the order — only orders of this
   * ticket's customer (or a customer merged into it): a number typed by someone else never shows
   * them another person's order (README "Orders").
   */
  const linkOrders = async <T extends { type: string }>(ticket: TicketRecord, items: T[]): Promise<T[]> => {
    const mentions = new Map<T, string[]>();
    for (const e of items) {
      const text = (e as { text?: unknown }).text;
      if (e.type === 'message' && typeof text === 'string') {
        const numbers = orderNumbersIn(text);
        if (numbers.length) mentions.set(e, numbers);
      }
    }
    if (mentions.size === 0) return items;
    const fam = await loadFamily(db, ticket.customer_id);
    const owners = new Set([ticket.customer_id, ...(fam ? [fam.root.id, ...fam.members.map((m) => m.id)] : [])]);
    const found = await ordersByNumber(db, [...mentions.values()].flat(), owners);
    return items.map((e) => {
      const linked = (mentions.get(e) ?? []).map((n) => found.get(n)).filter((o) => o !== undefined);
      return linked.length ? { ...e, orders: linked.map((o) => ({ id: o.id, number: o.number, status: o.status, tracking_url: o.tracking_url })) } : e;
    });
  };

  return [
    route({
      method: 'GET', path: '/tickets', summary: 'Inbox: tickets by newest activity (every status but merged unless `status` is given), filtered by assignee, status, channel, priority, awaiting, SLA, undelivered replies and text', role: 'agent',
      query: TicketListQuery, responses: { 200: TicketList },
      handle: async ({ query, caller }) => {
        const filter: InboxFilter = {
          ...(query.status ? { status: query.status } : {}),
          ...(query.assignee !== undefined ? { assignee: query.assignee === 'me' ? caller.sub : query.assignee === 'none' ? null : query.assignee } : {}),
          ...(query.channel ? { channel: query.channel } : {}),
          ...(query.priority ? { priority: query.priority } : {}),
          ...(query.awaiting ? { awaiting: query.awaiting } : {}),
          ...(query.sla ? { sla: query.sla } : {}),
          ...(query.q ? { q: query.q } : {}),
          ...(query.customer ? { customer: query.customer } : {}),
          ...(query.delivery ? { delivery: query.delivery } : {}),
        };
        const page = await listInbox(db, filter, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
        // The customers' names, joined at read (one BatchGet per page; tickets never hold a copy).
        const names = await customerDisplayNames(db, page.items.map((t) => t.customer_id));
        return { status: 200, body: { items: page.items.map((t) => ticketView(t, names.get(t.customer_id) ?? null)), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'GET', path: '/tickets/{id}', summary: 'A ticket with its SLA block and customer summary', role: 'agent',
      params: IdParam, responses: { 200: TicketWithCustomer, 404: ErrorBody },
      handle: async ({ params }) => {
        const t = await mustTicket(params.id);
        const c = await getCustomer(db, t.customer_id);
        return { status: 200, body: { ...ticketView(t, c?.display_name ?? null), customer: { id: t.customer_id, display_name: c?.display_name ?? null } } };
      },
    }),
    route({
      method: 'GET', path: '/tickets/{id}/timeline', summary: 'Messages (in/out, all channels), notes and events, in order', role: 'agent',
      params: IdParam, responses: { 200: Timeline, 404: ErrorBody },
      handle: async ({ params }) => {
        // Tickets merged into this one show in its timeline; split-off messages show in theirs.
        const ticket = await mustTicket(params.id);
        const items = (await ticketTimeline(db, ticket)).map(timelineView);
        return { status: 200, body: { items: await linkOrders(ticket, items) } };
      },
    }),
    ...replyRoutes(deps),
    ...attachmentRoutes(deps),
    ...mediaRoutes(deps),
    route({
      method: 'GET', path: '/customers', summary: 'Look customers up by identity `<channel>:<external_id>`, or by `q`: a phone (E.164 after normalising), an e-mail or an identity — verified attributes and identities', role: 'agent',
      query: CustomerQuery, responses: { 200: CustomerList },
      handle: async ({ query }) => {
        const items = await findCustomerCards(db, query);
        return { status: 200, body: { items, next_cursor: null } };
      },
    }),
    route({
      method: 'GET', path: '/customers/{id}', summary: 'Customer card: identities (verified flags), suggestions, merge log, tickets, cross-channel history (a merged customer answers with the surviving one)', role: 'agent',
      params: IdParam, responses: { 200: CustomerCard, 404: ErrorBody },
      handle: async ({ params }) => {
        const card = await customerCard(params.id);
        if (!card) throw new HttpError(404, 'not_found', 'no such customer');
        return { status: 200, body: card };
      },
    }),
    ...triageRoutes(deps),
    ...templateRoutes(deps),
    ...kbRoutes(deps),
    ...kbAgentRoutes(deps),
    ...surveyRoutes(deps),
    ...customerRoutes(deps),
    ...slaRoutes(deps),
    ...tierRoutes(deps),
    ...kpiRoutes(deps),
    ...dashboardRoutes(deps),
    ...webchatRoutes(deps),
    ...assignmentRoutes(deps),
  ];

}
