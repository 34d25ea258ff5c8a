/**
 * Triage writes and inbox reads (DESIGN.md §3): `PATCH /tickets/{id}`, internal notes, the
 * filtered inbox, the saved-view counts and the change feed as a cursor list.
 *
 * A ticket change is ONE transaction: the ticket update (conditional on the ticket exactly as
 * read: status, `updated_at` and every changed field — a lost race re-reads and plans again),
 * one timeline `event` entry and one FEED item per planned event (transactional outbox: the SLA
 * reactions and notifications can never miss a change). GSI attributes move with the change:
 * `gsi2pk` follows the status, `gsi1sk`/`gsi2sk` the activity time. A priority change also bumps
 * `sla.rev`, so an SLA write racing it (an escalation raising the priority) reloads.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ACTIVE_STATUSES, isActive } from '../domain/ticket.js';
import { matchesInbox, planTicketChange, type InboxFilter, type TicketPatch, type TriageField } from '../domain/triage.js';
import { StoreError, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { loadCustomers, loadTickets, stripKeys } from './identity.js';
import { decodeCursor } from './reads.js';
import { ChainedMerge, ShardMerge, queryShards } from './sharded-query.js';
import { FEED_SHARDS, INBOX_SHARDS, indexKeys, keys, sortableMs } from './table.js';
import { transact, type TicketOpResult, type TxItem } from './tickets.js';
import type { CustomerRecord, FeedEvent, NoteEntry, TicketRecord } from './records.js';

const MAX_ATTEMPTS = 8;
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(250, 10 * 2 ** attempt)));

export type ChangeResult = TicketOpResult<{ ticket: TicketRecord; changed: readonly TriageField[]; events: readonly FeedEvent[] }>
  | { readonly ok: false; readonly status: 409; readonly reason: string; readonly code: 'illegal_transition' };

/**
 * Apply a triage change (agents through `PATCH /tickets/{id}`, classification rules through the
 * same function). Optimistic: load → plan (domain/triage.ts) → one conditional transaction; a
 * lost race re-reads and plans again (the change may have become illegal meanwhile: then it is
 * refused, never half-applied). After MAX_ATTEMPTS lost races: 409 conflict.
 */
export async function changeTicket(db: Db, args: { ticketId: string; patch: TicketPatch; actor: string; now: number; newId: (at: number) => string }): Promise<ChangeResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const ticket = (await loadTickets(db, [args.ticketId])).get(args.ticketId);
    if (!ticket) return { ok: false, status: 404, reason: 'no such ticket' };
    const plan = planTicketChange(ticket, args.patch, args.now);
    if (plan.kind === 'refused') return plan.code === 'illegal_transition' ? { ok: false, status: 409, reason: plan.message, code: 'illegal_transition' } : { ok: false, status: 409, reason: plan.message };
    if (plan.kind === 'unchanged') return { ok: true, value: { ticket, changed: [], events: [] } };

    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = { ':u0': ticket.updated_at, ':s0': ticket.status };
    const conds = ['attribute_exists(pk)', 'updated_at = :u0', '#s = :s0'];
    const sets: string[] = [];
    const removes: string[] = [];
    const g = indexKeys.inbox(plan.updated_at, ticket.id).gsi1sk;
    sets.push('updated_at = :u1', 'gsi1sk = :g', 'gsi2sk = :g');
    Object.assign(values, { ':u1': plan.updated_at, ':g': g });
    plan.changed.forEach((f, i) => {
      const n = `#f${i}`;
      names[n] = f;
      const v = plan.set[f];
      if (v === null) removes.push(n); else { sets.push(`${n} = :v${i}`); values[`:v${i}`] = v; }
      if (f === 'status') return; // conditioned above
      const old = plan.expected[f];
      if (old === null || (Array.isArray(old) && old.length === 0)) {
        conds.push(`(attribute_not_exists(${n}) OR ${n} = :o${i})`);
        values[`:o${i}`] = old;
      } else {
        conds.push(`${n} = :o${i}`);
        values[`:o${i}`] = old;
      }
    });
    if (plan.changed.includes('status')) { sets.push('gsi2pk = :g2'); values[':g2'] = indexKeys.byStatus(String(plan.set.status), 0, ticket.id).gsi2pk; }
    if (plan.stamps.resolved_at === null) removes.push('resolved_at');
    else if (plan.stamps.resolved_at !== undefined) { sets.push('resolved_at = :ra'); values[':ra'] = plan.stamps.resolved_at; }
    if (plan.stamps.closed_at !== undefined) { sets.push('closed_at = :ca'); values[':ca'] = plan.stamps.closed_at; }
    if (plan.stamps.reopen) { sets.push('reopen_count = if_not_exists(reopen_count, :zero) + :one'); Object.assign(values, { ':zero': 0, ':one': 1 }); }
    if (plan.changed.includes('priority') && ticket.sla) {
      // An SLA escalation that read the old priority must not raise over the agent's choice: its
      // write is conditional on the SLA revision, so bumping it makes the escalation reload.
      Object.assign(names, { '#sla': 'sla', '#rev': 'rev' });
      sets.push('#sla.#rev = if_not_exists(#sla.#rev, :zero) + :one');
      Object.assign(values, { ':zero': 0, ':one': 1 });
    }

    const items: TxItem[] = [{ Update: {
      TableName: db.tableName, Key: keys.ticket(ticket.id),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: conds.join(' AND '), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    } }];
    if (plan.stamps.reopen) {
      const guard = await reopenGuard(db, ticket);
      if (!guard.ok) return guard;
      items.push(...guard.items);
    }
    const feed: FeedEvent[] = [];
    for (const e of plan.events) {
      const data = { ...e.data, actor: args.actor };
      // stamped with the plan's time, strictly after the ticket's last change: the timeline (sorted
      // by time) keeps the commit order even when a retried change carries an older request time
      const at = plan.updated_at;
      items.push(timelineItem(db, { type: 'event', id: args.newId(at), ticket_id: ticket.id, at, event: e.type, data }));
      const f: FeedEvent = { id: args.newId(at), type: e.type, at, ticket_id: ticket.id, customer_id: ticket.customer_id, data };
      feed.push(f);
      items.push(feedItem(db, f));
    }
    const res = await transact(db, items);
    if (res.ok) return { ok: true, value: { ticket: (await loadTickets(db, [ticket.id])).get(ticket.id)!, changed: plan.changed, events: feed } };
    await backoff(attempt);
  }
  return { ok: false, status: 409, reason: 'the ticket kept changing while saving; reload and apply your change again' };
}

/**
 * One active ticket per customer (DESIGN.md §2): an agent's reopen keeps the customer's
 * current-ticket pointer on this ticket — unchanged when it already points here, moved here from
 * an inactive ticket, refused when the customer has another active ticket (merge instead).
 */
async function reopenGuard(db: Db, ticket: TicketRecord): Promise<{ ok: true; items: TxItem[] } | { ok: false; status: 409; reason: string }> {
  const graph = await loadCustomers(db, [ticket.customer_id]);
  const rootId = graph.root(ticket.customer_id);
  const customer: CustomerRecord | undefined = graph.get(rootId);
  if (!customer || customer.erased_at !== undefined) return { ok: false, status: 409, reason: 'the customer is erased' };
  if (rootId !== ticket.customer_id) return { ok: false, status: 409, reason: 'the ticket belongs to a customer merged into another one; it cannot be reopened' };
  const T = db.tableName;
  const notMergedOrErased = 'attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)';
  const current = customer.current_ticket_id;
  if (current === ticket.id) {
    return { ok: true, items: [{ ConditionCheck: { TableName: T, Key: keys.customer(rootId), ConditionExpression: `current_ticket_id = :t AND ${notMergedOrErased}`, ExpressionAttributeValues: { ':t': ticket.id } } }] };
  }
  if (current) {
    const other = (await loadTickets(db, [current])).get(current);
    if (other && isActive(other.status)) return { ok: false, status: 409, reason: `the customer has another active ticket (${other.number}); merge this one into it instead` };
    return { ok: true, items: [
      { Update: { TableName: T, Key: keys.customer(rootId), UpdateExpression: 'SET current_ticket_id = :t', ConditionExpression: `current_ticket_id = :old AND ${notMergedOrErased}`, ExpressionAttributeValues: { ':t': ticket.id, ':old': current } } },
      ...(other ? [{ ConditionCheck: { TableName: T, Key: keys.ticket(current), ConditionExpression: '#s IN (:r, :c, :m)', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':r': 'resolved', ':c': 'closed', ':m': 'merged' } } }] : []),
    ] };
  }
  return { ok: true, items: [{ Update: { TableName: T, Key: keys.customer(rootId), UpdateExpression: 'SET current_ticket_id = :t', ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(current_ticket_id) AND ${notMergedOrErased}`, ExpressionAttributeValues: { ':t': ticket.id } } }] };
}

/**
 * An internal note (never sent to the customer: no outbound entry, no `outbound.queued`). With
 * `handoffTeam` the ticket's team becomes that team and a `ticket.handoff` event starts the team's
 * OLA clock; `note.added` (data: note id, author, handoff_team — never the text) tells the SLA
 * engine that the team acted. One transaction.
 */
export async function addNote(db: Db, args: { ticketId: string; text: string; handoffTeam?: string; actor: string; now: number; newId: () => string }): Promise<TicketOpResult<{ note: NoteEntry & { handoff_team?: string }; ticket: TicketRecord }>> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const ticket = (await loadTickets(db, [args.ticketId])).get(args.ticketId);
    if (!ticket) return { ok: false, status: 404, reason: 'no such ticket' };
    if (ticket.status === 'merged') return { ok: false, status: 409, reason: 'the ticket was merged into another one; add the note there' };
    const note: NoteEntry & { handoff_team?: string } = {
      type: 'note', id: args.newId(), ticket_id: ticket.id, at: args.now, author: args.actor, text: args.text,
      ...(args.handoffTeam ? { handoff_team: args.handoffTeam } : {}),
    };
    const items: TxItem[] = [timelineItem(db, note as unknown as NoteEntry & Record<string, unknown>)];
    const feed: FeedEvent[] = [{ id: args.newId(), type: 'note.added', at: args.now, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { note_id: note.id, author: args.actor, ...(args.handoffTeam ? { handoff_team: args.handoffTeam } : {}) } }];
    if (args.handoffTeam) {
      items.push({ Update: {
        TableName: db.tableName, Key: keys.ticket(ticket.id), UpdateExpression: 'SET team = :team',
        ConditionExpression: '#s = :s0 AND updated_at = :u0', ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':team': args.handoffTeam, ':s0': ticket.status, ':u0': ticket.updated_at },
      } });
      const data = { team: args.handoffTeam, previous_team: ticket.team ?? null, note_id: note.id, actor: args.actor };
      items.push(timelineItem(db, { type: 'event', id: args.newId(), ticket_id: ticket.id, at: args.now, event: 'ticket.handoff', data }));
      feed.push({ id: args.newId(), type: 'ticket.handoff', at: args.now, ticket_id: ticket.id, customer_id: ticket.customer_id, data });
    } else {
      items.push({ ConditionCheck: { TableName: db.tableName, Key: keys.ticket(ticket.id), ConditionExpression: '#s <> :m', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':m': 'merged' } } });
    }
    for (const f of feed) items.push(feedItem(db, f));
    const res = await transact(db, items);
    if (res.ok) return { ok: true, value: { note, ticket: args.handoffTeam ? (await loadTickets(db, [ticket.id])).get(ticket.id)! : ticket } };
    await backoff(attempt);
  }
  throw new StoreError('note gave up after repeated write conflicts', { cause: { stage: 'note', attempts: MAX_ATTEMPTS } });
}

// ---------------------------------------------------------------------------------------------
// Inbox

export interface InboxPage { readonly items: TicketRecord[]; readonly next_cursor: string | null }

/** Items one request reads at most before it answers with what it found (and a cursor to go on). */
export const INBOX_SCAN_BUDGET = 1000;

/**
 * The filtered inbox, newest activity first — without a status, tickets of a priority tier
 * (`vip`) first, newest first among them (table.ts: their own gsi1 partitions). Index: with exactly one status, that status's gsi2
 * partitions; otherwise gsi1 (every ticket but merged ones). Both are sharded (table.ts): the list
 * is a k-way merge of their partitions (store/sharded-query.ts). Every other filter (assignee,
 * channel, priority, awaiting, SLA, `q`) is applied in memory to the items as they come (a Query,
 * never a Scan): a selective filter over a large backlog reads up to INBOX_SCAN_BUDGET items per
 * request and may answer a short page with a cursor to continue. `q` also reads the customers of
 * the candidate tickets (1 BatchGet per batch of fetched items).
 *
 * Several statuses read gsi1, which holds no merged tickets: list merged tickets with
 * `status=merged` alone.
 *
 * Cursor: the index sort key (`<activity>#<ticket id>`) of the last ticket returned and, on gsi1,
 * which part of the inbox it was in (priority tier or not) (opaque, base64url; it names no shard). Activity only moves forward, so a ticket touched while paging
 * moves above the cursor: pages never repeat a ticket; a ticket that moved up during paging shows
 * on the next refresh instead.
 */
export async function listInbox(db: Db, filter: InboxFilter, opts: { limit: number; cursor?: string }): Promise<InboxPage> {
  const statuses = filter.status ?? [];
  const byStatus = statuses.length === 1;
  const index = byStatus ? 'gsi2' : 'gsi1';
  const skName = `${index}sk`;
  const start = decodeCursor(opts.cursor);
  const after = start && typeof start[skName] === 'string' ? String(start[skName]) : undefined; // a cursor of another index: start over
  const pageSize = Math.min(100, Math.max(5, Math.ceil((opts.limit * 2) / INBOX_SHARDS)));
  const list = (partitions: readonly string[]) => ({ index, pkName: `${index}pk`, skName, descending: true, partitions, pageSize });
  // Without a status: priority-tier tickets first (their own partitions), then every other one.
  const parts = byStatus ? [list(indexKeys.statusShards(statuses[0]!))] : [list(indexKeys.priorityInboxShards()), list(indexKeys.inboxShards())];
  // A cursor without `part` (issued before tiers) continues the last list.
  const part = after === undefined ? 0 : typeof start?.part === 'string' ? Number(start.part) : parts.length - 1;
  const merge = new ChainedMerge(db, parts, after !== undefined ? { part: Number.isInteger(part) ? part : parts.length - 1, after } : undefined);
  const cursorAt = (sk: string) => encodeKey({ [skName]: sk, ...(byStatus ? {} : { part: String(merge.current) }) });
  const out: TicketRecord[] = [];
  const names = new Map<string, string>();
  const looked = new Set<string>();
  let lastSk: string | undefined;
  for (;;) {
    const item = await merge.next();
    if (!item) return { items: out, next_cursor: null };
    lastSk = String(item[skName]);
    const t = stripKeys<TicketRecord>(item);
    if (filter.q && !looked.has(t.customer_id)) {
      const ids = [t.customer_id, ...merge.buffered().map((i) => String(i.customer_id))].filter((id) => !looked.has(id));
      for (const id of ids) looked.add(id);
      for (const [id, name] of await customerNames(db, ids)) names.set(id, name);
    }
    if (matchesInbox(t, filter, filter.q ? names.get(t.customer_id) ?? null : null)) {
      out.push(t);
      if (out.length === opts.limit) return { items: out, next_cursor: cursorAt(lastSk) };
    }
    if (merge.read >= INBOX_SCAN_BUDGET) return { items: out, next_cursor: cursorAt(lastSk) };
  }
}

const encodeKey = (k: Record<string, unknown>) => Buffer.from(JSON.stringify(k)).toString('base64url');

/** Display names of customers (merge pointers followed), lower-cased for search. */
async function customerNames(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  const graph = await loadCustomers(db, ids);
  const out = new Map<string, string>();
  for (const id of new Set(ids)) {
    const c = graph.rootRecord(id);
    if (c?.display_name) out.set(id, c.display_name);
  }
  return out;
}

/**
 * Counts of the saved views over active tickets: mine, unassigned, awaiting a reply. Reads the
 * gsi2 partitions (every shard) of the active statuses, in parallel, only the attributes it needs:
 * cost follows the active backlog, not the table.
 */
export async function inboxCounts(db: Db, filters: Readonly<Record<string, InboxFilter>>): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(filters).map((k) => [k, 0]));
  const items = await queryShards(db, ACTIVE_STATUSES.flatMap((s) => indexKeys.statusShards(s)), (p) => ({
    IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :p', ExpressionAttributeValues: { ':p': p },
    ProjectionExpression: '#s, priority, channel, assignee, last_inbound_at, last_outbound_at, first_response_at, sla', ExpressionAttributeNames: { '#s': 'status' },
  }));
  for (const item of items) {
    const t = { assignee: null, last_inbound_at: null, last_outbound_at: null, first_response_at: null, sla: null, ...item } as unknown as TicketRecord;
    for (const [name, f] of Object.entries(filters)) if (matchesInbox(t, f)) counts[name]! += 1;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Change feed (GET /events)

export interface FeedPage { readonly items: FeedEvent[]; readonly next_cursor: string }

const DAY = 86_400_000;
/** Days one request walks forward at most (a long-idle cursor catches up over several calls). */
const MAX_DAYS_PER_CALL = 31;

/** Feed cursor: the sort key of the last event seen (`<ms>#<id>`), base64url. */
export const encodeFeedCursor = (sk: string) => Buffer.from(`f1:${sk}`).toString('base64url');
export function decodeFeedCursor(c: string): string | null {
  const s = Buffer.from(c, 'base64url').toString('utf8');
  return /^f1:\d{15}#[0-9A-Za-z-]*$/.test(s) ? s.slice(3) : null;
}

/** The cursor of "now": events committed from now on (the latest event so far is the last seen). One query per feed shard of today. */
export async function feedCursorNow(db: Db, now: number): Promise<string> {
  const heads = await Promise.all(keys.feedDay(now).map(async (p) => (await db.doc.send(new QueryCommand({
    TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': p },
    ScanIndexForward: false, Limit: 1, ConsistentRead: true, ProjectionExpression: 'sk',
  }))).Items?.[0]?.sk));
  const last = heads.filter((sk): sk is string => typeof sk === 'string').sort().at(-1);
  return encodeFeedCursor(last ?? `${sortableMs(now - (now % DAY))}#`);
}

/**
 * Events after `afterSk` in time order, day by day up to `now`: a merge of the day's feed shards
 * (store/sharded-query.ts; 1 query per shard per day visited, more for long pages). The feed is
 * ordered by event time: an event written later with an earlier timestamp than the cursor (rare:
 * e.g. an acknowledgement stamped 1 ms after its ticket opened) is not returned to a poller
 * already past it — the local SSE stream, fed by the table stream, does not have this gap.
 */
export async function listFeedAfter(db: Db, afterSk: string, now: number, limit: number): Promise<FeedPage> {
  const out: FeedEvent[] = [];
  let cursorSk = afterSk;
  let day = Number(afterSk.slice(0, 15));
  const lastDay = now - (now % DAY);
  for (let visited = 0; visited < MAX_DAYS_PER_CALL && day - (day % DAY) <= lastDay; visited++) {
    const merge = new ShardMerge(db, {
      pkName: 'pk', skName: 'sk', partitions: keys.feedDay(day), descending: false, after: cursorSk, consistent: true,
      pageSize: Math.min(limit, Math.max(8, Math.ceil((limit * 2) / FEED_SHARDS))),
    });
    for (let i = await merge.next(); i; i = out.length < limit ? await merge.next() : undefined) {
      out.push(stripKeys<FeedEvent>(i));
      cursorSk = String(i.sk);
    }
    if (out.length >= limit) return { items: out, next_cursor: encodeFeedCursor(cursorSk) };
    const nextDay = day - (day % DAY) + DAY;
    if (nextDay > lastDay) break;
    day = nextDay;
    cursorSk = `${sortableMs(nextDay)}#`;
  }
  return { items: out, next_cursor: encodeFeedCursor(cursorSk) };
}
