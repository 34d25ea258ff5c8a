/** Agent API routes (DESIGN.md §3). Each route: load → decide → commit; errors as HttpError. */
import { webchatRoutes } from './webchat-routes.js';
import { monotonicFactory } from 'ulid';
import { replyWindowOf } from '../../channels/channel.js';
import { channelByName } from '../../channels/registry.js';
import type { Clock } from '../../domain/clock.js';
import type { Channel } from '../../domain/inbound.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import { queueOutbound } from '../../store/outbound.js';
import { getCustomer, getTicket } from '../../store/reads.js';
import type { IdentityRecord, MessageEntry, TicketRecord } from '../../store/records.js';
import { keys } from '../../store/table.js';
import { route, type RouteDef } from './router.js';
import { slaRoutes } from './sla-routes.js';
import { customerCardOf, customerRoutes, findCustomerCards } from './customer-routes.js';
import { loadFamily } from '../../store/customers.js';
import { ticketTimeline } from '../../store/tickets.js';
import { kpiRoutes } from './kpi-routes.js';
import { triageRoutes } from './triage-routes.js';
import { templateRoutes } from './template-routes.js';
import { surveyRoutes } from './survey-routes.js';
import { listInbox } from '../../store/triage.js';
import { getTemplate } from '../../store/templates.js';
import { firstNameOf, pickLanguage, renderTemplate } from '../../domain/template.js';
import type { InboxFilter } from '../../domain/triage.js';
import type { SlaSettings } from '../../domain/sla/policy.js';
import {
  CustomerCard, CustomerList, CustomerQuery, ErrorBody, IdParam, ReplyAccepted, ReplyBody, TicketList, TicketListQuery,
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
}

export function agentRoutes(deps: AgentApiDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();

  const mustTicket = async (id: string): Promise<TicketRecord> => {
    const t = await getTicket(db, id);
    if (!t) throw new HttpError(404, 'not_found', 'no such ticket');
    return t;
  };

  /** The card of the customer `id` resolves to (merge pointers followed). */
  const customerCard = (id: string) => customerCardOf(db, id);

  return [
    route({
      method: 'GET', path: '/tickets', summary: 'Inbox: tickets by newest activity (every status but merged unless `status` is given), filtered by assignee, status, channel, priority, awaiting, SLA and text', role: 'agent',
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
        };
        const page = await listInbox(db, filter, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) });
        return { status: 200, body: { items: page.items.map(ticketView), next_cursor: page.next_cursor } };
      },
    }),
    route({
      method: 'GET', path: '/tickets/{id}', summary: 'A ticket with its SLA block and customer summary', role: 'agent',
      params: IdParam, responses: { 200: TicketWithCustomer, 404: ErrorBody },
      handle: async ({ params }) => {
        const t = await mustTicket(params.id);
        const c = await getCustomer(db, t.customer_id);
        return { status: 200, body: { ...ticketView(t), customer: { id: t.customer_id, display_name: c?.display_name ?? null } } };
      },
    }),
    route({
      method: 'GET', path: '/tickets/{id}/timeline', summary: 'Messages (in/out, all channels), notes and events, in order', role: 'agent',
      params: IdParam, responses: { 200: Timeline, 404: ErrorBody },
      handle: async ({ params }) => {
        // Tickets merged into this one show in its timeline; split-off messages show in theirs.
        const ticket = await mustTicket(params.id);
        return { status: 200, body: { items: (await ticketTimeline(db, ticket)).map(timelineView) } };
      },
    }),
    route({
      method: 'POST', path: '/tickets/{id}/replies', summary: 'Reply to the customer (default: the channel of their last inbound message)', role: 'agent',
      params: IdParam, body: ReplyBody, responses: { 202: ReplyAccepted, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const ticket = await mustTicket(params.id);
        if (ticket.status === 'merged' || ticket.status === 'closed') throw new HttpError(409, 'conflict', `ticket is ${ticket.status}`);
        const channel: Channel = body.channel ?? ticket.channel;
        const target = await replyTarget(ticket, channel);
        const adapter = channelByName(channel);
        if (!adapter) throw new HttpError(400, 'invalid', `channel ${channel} is not available`);
        const now = deps.clock.now();
        // The window may depend on the conversation (Twilio: WhatsApp 24 h, SMS none).
        const window = replyWindowOf(adapter, { conversation_id: target.conversationId, ...(target.replyContext ? { context: target.replyContext } : {}) });
        if (window !== null && (target.lastInboundAt === undefined || now - target.lastInboundAt > window * 1000)) {
          throw new HttpError(409, 'messaging_window_closed', `the ${channel} messaging window closed ${window / 3600} h after the customer's last message; only templates can be sent`);
        }
        const text = body.text ?? await templateText(body.template ?? body.template_id!, body.language, target, ticket, caller);
        const id = ulid(now);
        const entry: MessageEntry = {
          type: 'message', id, ticket_id: ticket.id, at: now, channel, direction: 'out', external_message_id: null,
          conversation_id: target.conversationId, text, attachments: [], interaction: null, edited: false,
          sent_at: now, delivery: 'queued', outbound_kind: 'reply', author: caller.sub,
          extras: { identity_external_id: target.externalId, ...(body.text === undefined ? { template: body.template ?? body.template_id } : {}) },
        };
        await queueOutbound(db, {
          entry, firstResponse: true,
          feed: { id: ulid(now), type: 'outbound.queued', at: now, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { channel, message_id: id, entry_sk: keys.timelineEntry(ticket.id, now, id).sk, kind: 'reply', author: caller.sub } },
        });
        return { status: 202, body: { id, ticket_id: ticket.id, channel, delivery: 'queued', at: new Date(now).toISOString() } };
      },
    }),
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
    ...surveyRoutes(deps),
    ...customerRoutes(deps),
    ...slaRoutes(deps),
    ...kpiRoutes(deps),
    ...webchatRoutes(deps),
  ];

  /** Where a reply on `channel` goes: the ticket's conversation, or the customer's identity on that channel. */
  /** A canned answer rendered for this ticket, customer and agent (400 unknown template, 422 a value missing). */
  async function templateText(templateId: string, language: string | undefined, target: { language: string | undefined; customerName: string | null }, ticket: TicketRecord, caller: { sub: string; name?: string }): Promise<string> {
    const template = await getTemplate(db, templateId);
    if (!template) throw new HttpError(400, 'invalid', `template: no template ${templateId}`);
    const lang = pickLanguage(Object.keys(template.bodies), language ?? target.language);
    const r = renderTemplate(template.bodies[lang!]!, {
      'customer.first_name': firstNameOf(target.customerName), 'customer.name': target.customerName,
      'ticket.number': ticket.number, 'agent.name': caller.name ?? caller.sub,
    });
    if (!r.ok) throw new HttpError(422, 'template_value_missing', `template ${templateId} (${lang}) needs ${r.missing.map((v) => `{{${v}}}`).join(', ')}, which this ticket has no value for; add a fallback like {{${r.missing[0]} | there}} or write the reply`);
    return r.text;
  }

  async function replyTarget(ticket: TicketRecord, channel: Channel): Promise<{ conversationId: string; externalId: string | undefined; lastInboundAt: number | undefined; replyContext: Record<string, unknown> | undefined; language: string | undefined; customerName: string | null }> {
    // Every identity of the person: the ticket's customer and whatever was merged into it.
    const family = await loadFamily(db, ticket.customer_id);
    const identities = family?.identities ?? [];
    const onChannel = identities.filter((i) => i.channel === channel).sort((a, b) => (b.last_inbound_at ?? 0) - (a.last_inbound_at ?? 0));
    const identity: IdentityRecord | undefined = channel === ticket.channel
      ? onChannel.find((i) => i.conversation_id === ticket.conversation_id) ?? onChannel[0]
      : onChannel[0];
    if (!identity) throw new HttpError(409, 'conflict', `the customer has no ${channel} identity`);
    return {
      conversationId: channel === ticket.channel ? ticket.conversation_id : identity.conversation_id ?? identity.external_id,
      externalId: identity.external_id,
      lastInboundAt: identity.last_inbound_at,
      replyContext: identity.reply_context,
      language: identity.language,
      customerName: family?.root.display_name ?? identity.display_name ?? null,
    };
  }
}
