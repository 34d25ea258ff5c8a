/**
 * Agent API: triage (issue 6, DESIGN.md §3) — `PATCH /tickets/{id}` (status, priority, assignee,
 * team, category, tags), internal notes, saved-view counts and the change feed.
 *
 * Roles: all agent routes — triage is the agents' daily work; who may see which ticket is not
 * restricted by role.
 */
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import type { Clock } from '../../domain/clock.js';
import { PRIORITIES, TICKET_STATUSES } from '../../domain/ticket.js';
import { SAVED_VIEWS } from '../../domain/triage.js';
import { HttpError } from '../../runtime/http.js';
import type { Db } from '../../store/db.js';
import type { FeedEvent } from '../../store/records.js';
import { addNote, changeTicket, decodeFeedCursor, feedCursorNow, inboxCounts, listFeedAfter } from '../../store/triage.js';
import { route, type RouteDef } from './router.js';
import { ErrorBody, IdParam, Ticket } from './schemas.js';
import { ticketView, timelineView } from './views.js';

export interface TriageRouteDeps {
  readonly db: Db;
  readonly clock: Clock;
}

const Code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'expected 1-64 letters, digits, _ . : -');
const AgentId = z.string().min(1).max(100);

export const TicketPatchBody = z.strictObject({
  status: z.enum(TICKET_STATUSES).optional(),
  priority: z.enum(PRIORITIES).optional(),
  /** An agent id, `me`, or null to unassign. */
  assignee: AgentId.nullable().optional(),
  team: Code.nullable().optional(),
  category: Code.nullable().optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(30).optional(),
}).refine((b) => Object.keys(b).length > 0, { message: 'give at least one of status, priority, assignee, team, category, tags' })
  .meta({ id: 'TicketPatch' });

export const NoteBody = z.strictObject({
  text: z.string().trim().min(1).max(10_000),
  /** Hand the ticket to this team (starts the team's OLA clock). */
  handoff_team: Code.optional(),
}).meta({ id: 'NoteRequest' });

const isoTime = z.string().meta({ format: 'date-time' });

export const NoteOut = z.object({
  id: z.string(), type: z.literal('note'), at: isoTime, author: z.string(), text: z.string(), handoff_team: z.string().optional(),
}).meta({ id: 'Note' });

export const TicketChange = z.object({
  ticket: Ticket,
  changed: z.array(z.enum(['status', 'priority', 'assignee', 'team', 'category', 'tags'])),
}).meta({ id: 'TicketChange' });

export const ViewCounts = z.object({
  mine: z.number().int(), unassigned: z.number().int(), awaiting_reply: z.number().int(),
}).meta({ id: 'ViewCounts' });

export const FeedEventOut = z.object({
  id: z.string(),
  type: z.string().meta({ description: 'e.g. ticket.opened, message.received, ticket.assigned, ticket.status_changed, sla.escalated, sla.breached' }),
  at: isoTime,
  ticket_id: z.string().nullable(),
  customer_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).meta({ description: 'ids and codes only, never personal data' }),
}).meta({ id: 'FeedEvent' });

export const FeedPageOut = z.object({ items: z.array(FeedEventOut), next_cursor: z.string() }).meta({ id: 'FeedPage' });

export const FeedQuery = z.strictObject({
  since: z.string().max(200).optional().meta({ description: "a previous response's next_cursor; omitted = from now" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A feed event as the API shows it: ids, codes and times only. */
export function feedEventView(e: FeedEvent) {
  return { id: e.id, type: e.type, at: new Date(e.at).toISOString(), ticket_id: e.ticket_id ?? null, customer_id: e.customer_id ?? null, data: e.data ?? {} };
}

export function triageRoutes(deps: TriageRouteDeps): RouteDef[] {
  const { db } = deps;
  const ulid = monotonicFactory();
  return [
    route({
      method: 'PATCH', path: '/tickets/{id}', summary: 'Triage: status (allowed transitions only), priority, assignee (`me`, an agent id or null), team, category, tags', role: 'agent',
      params: IdParam, body: TicketPatchBody, responses: { 200: TicketChange, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const now = deps.clock.now();
        const patch = { ...body, ...(body.assignee === 'me' ? { assignee: caller.sub } : {}) };
        const r = await changeTicket(db, { ticketId: params.id, patch, actor: caller.sub, now, newId: (at) => ulid(at) });
        if (!r.ok) throw new HttpError(r.status, 'code' in r ? r.code : r.status === 404 ? 'not_found' : 'conflict', r.reason, { cause: { ticket_id: params.id, stage: 'triage' } });
        return { status: 200, body: { ticket: ticketView(r.value.ticket), changed: r.value.changed } };
      },
    }),
    route({
      method: 'POST', path: '/tickets/{id}/notes', summary: 'Internal note (never sent to the customer); `handoff_team` hands the ticket to a team', role: 'agent',
      params: IdParam, body: NoteBody, responses: { 201: NoteOut, 404: ErrorBody, 409: ErrorBody },
      handle: async ({ params, body, caller }) => {
        const now = deps.clock.now();
        const r = await addNote(db, { ticketId: params.id, text: body.text, ...(body.handoff_team ? { handoffTeam: body.handoff_team } : {}), actor: caller.sub, now, newId: () => ulid(now) });
        if (!r.ok) throw new HttpError(r.status, r.status === 404 ? 'not_found' : 'conflict', r.reason, { cause: { ticket_id: params.id, stage: 'note' } });
        return { status: 201, body: timelineView(r.value.note) };
      },
    }),
    route({
      method: 'GET', path: '/tickets/counts', summary: 'Counts of the saved views over active tickets: mine, unassigned, awaiting_reply', role: 'agent',
      responses: { 200: ViewCounts },
      handle: async ({ caller }) => {
        const counts = await inboxCounts(db, { mine: SAVED_VIEWS.mine(caller.sub), unassigned: SAVED_VIEWS.unassigned(), awaiting_reply: SAVED_VIEWS.awaiting_reply() });
        return { status: 200, body: counts };
      },
    }),
    route({
      method: 'GET', path: '/events', summary: 'Change feed (ticket opened, message received, assigned, status changed, SLA escalated/breached …) after `since`; `next_cursor` is the next `since`', role: 'agent',
      query: FeedQuery, responses: { 200: FeedPageOut },
      handle: async ({ query }) => {
        const now = deps.clock.now();
        if (query.since === undefined) return { status: 200, body: { items: [], next_cursor: await feedCursorNow(db, now) } };
        const after = decodeFeedCursor(query.since);
        if (after === null) throw new HttpError(400, 'invalid', 'since: not a cursor this API issued');
        const page = await listFeedAfter(db, after, now, query.limit);
        return { status: 200, body: { items: page.items.map(feedEventView), next_cursor: page.next_cursor } };
      },
    }),
  ];
}
