/**
 * Agents, teams and automatic assignment (issue 15): presence, capacity and skills of agents,
 * team settings, each team's queue, and the conditional writes that assign (table.ts documents
 * the keys).
 *
 * Load: an agent's `load` is the number of ticket holds naming it. A hold (`TICKET#<id>/HOLD`, one
 * per ticket) says which agent an active assigned ticket counts against; it moves in the same
 * transaction as the load counters it changes, conditional on the agent it named as read, so a
 * redelivered change-feed event moves nothing twice.
 *
 * Assignment is ONE transaction (`assignTicket`): the ticket still unassigned in its team and
 * unchanged since read, the agent still `available` with exactly the load it was chosen at (and
 * below capacity), the hold new, the queue entry gone, the `ticket.assigned` timeline and feed
 * events. Two assigners racing for one ticket: one commits, the other's ticket condition fails.
 * Two tickets racing for one agent's last slot: one commits, the other's load condition fails.
 * Conditioning on the exact load (not only `load < capacity`) also keeps loads balanced: the
 * chosen agent is still among the least loaded when the write lands, so spreads stay within one.
 *
 * Queue: a ticket of a team with automatic assignment that finds nobody free waits in
 * `QUEUE#<team>` (sort key: the ticket's creation time, so oldest first). Everything that can free
 * an agent (presence back to `available`, a hold released, a capacity raised) drains the queues of
 * that agent's teams. One partition per team: its writes follow the team's ticket rate, which a
 * team of people can answer — far below a partition's ~1,000 writes/s.
 */
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { chooseAgent, DEFAULT_CAPACITY, offlineReturnPlan, type AgentState, type Presence, type TeamSettings, type TicketNeeds } from '../domain/assignment.js';
import { ACTIVE_STATUSES, isActive } from '../domain/ticket.js';
import { isConditionalCheckFailed, StoreError, type Db } from './db.js';
import { batchGet, loadTickets, stripKeys } from './identity.js';
import { feedItem, timelineItem } from './inbound.js';
import { listCustomerItems } from './reads.js';
import { queryShards } from './sharded-query.js';
import { indexKeys, keys } from './table.js';
import { transact, updateIfStill, type TxItem } from './tickets.js';
import { listInbox } from './triage.js';
import type { FeedEvent, TicketRecord } from './records.js';

export interface AgentRecord extends AgentState {
  readonly name?: string;
  /** The agent has set a presence themselves (until then `offline` is only the default). */
  readonly presence_set?: boolean;
  readonly presence_at: number;
  readonly updated_at: number;
}

export interface TeamRecord extends TeamSettings {
  readonly updated_at: number;
}

/** Who performs a write (an agent id, `auto` for assignment, `offline-return`). */
export interface Writer { readonly now: number; readonly newId: (at: number) => string }

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));

const agentOf = (item: Record<string, unknown>): AgentRecord => {
  const a = stripKeys<AgentRecord & { load?: number; capacity?: number }>(item);
  return { ...a, load: Number(a.load ?? 0), capacity: Number(a.capacity ?? DEFAULT_CAPACITY), presence: a.presence ?? 'offline', presence_at: Number(a.presence_at ?? 0) };
};
const teamOf = (item: Record<string, unknown>): TeamRecord => {
  const t = stripKeys<TeamRecord>(item);
  return { code: t.code, members: [...(t.members ?? [])], auto_assign: t.auto_assign === true, offline_return_minutes: t.offline_return_minutes ?? null, updated_at: t.updated_at };
};

// ---------------------------------------------------------------------------------------------
// Reads

export async function getAgent(db: Db, id: string): Promise<AgentRecord | null> {
  const r = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.agent(id), ConsistentRead: true }));
  return r.Item ? agentOf(r.Item) : null;
}

/** Agents by id (consistent; one round trip per 100). Ids without an item are absent. */
export async function loadAgents(db: Db, ids: readonly string[]): Promise<Map<string, AgentRecord>> {
  if (ids.length === 0) return new Map();
  const items = await batchGet(db, ids.map((id) => keys.agent(id)));
  return new Map([...items.values()].map((i) => { const a = agentOf(i); return [a.id, a]; }));
}

/** Every agent who ever set a presence or was configured (one query per agent-list shard). */
export async function listAgents(db: Db): Promise<AgentRecord[]> {
  const items = await queryShards(db, indexKeys.agentShards(), (p) => ({ IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p', ExpressionAttributeValues: { ':p': p } }));
  return items.map(agentOf).sort((a, b) => (a.id < b.id ? -1 : 1));
}

export async function getTeam(db: Db, code: string): Promise<TeamRecord | null> {
  const r = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.team(code), ConsistentRead: true }));
  return r.Item ? teamOf(r.Item) : null;
}

export async function listTeams(db: Db): Promise<TeamRecord[]> {
  const out: TeamRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.teamsPartition() }, ConsistentRead: true, ExclusiveStartKey: start }));
    out.push(...(r.Items ?? []).map(teamOf));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Tickets waiting in a team's queue (oldest first). */
export async function queuedTickets(db: Db, team: string, limit = 100): Promise<Array<{ ticket_id: string; sk: string }>> {
  const r = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.teamQueue(team) }, ConsistentRead: true, Limit: limit }));
  return (r.Items ?? []).map((i) => ({ ticket_id: String(i.ticket_id), sk: String(i.sk) }));
}

export async function queueDepth(db: Db, team: string): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const r = await db.doc.send(new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.teamQueue(team) }, Select: 'COUNT', ExclusiveStartKey: start }));
    n += r.Count ?? 0;
    start = r.LastEvaluatedKey;
  } while (start);
  return n;
}

/** The tickets an agent's load counts. */
export async function heldTickets(db: Db, agentId: string): Promise<string[]> {
  const items = await queryShards(db, [indexKeys.agentHolds(agentId)], (p) => ({ IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p', ExpressionAttributeValues: { ':p': p }, ProjectionExpression: 'ticket_id' }));
  return items.map((i) => String(i.ticket_id));
}

// ---------------------------------------------------------------------------------------------
// Agent and team settings

const AGENT_NAMES = { '#id': 'id', '#load': 'load', '#cap': 'capacity', '#pres': 'presence', '#pat': 'presence_at', '#upd': 'updated_at' } as const;

/** Fields every agent write keeps present: the listing keys, and defaults the conditions read. */
function agentBase(id: string, defaultCapacity: number) {
  return {
    set: ['#id = :id', 'gsi3pk = :g3pk', 'gsi3sk = :g3sk', '#load = if_not_exists(#load, :zero)', '#cap = if_not_exists(#cap, :defcap)'],
    // Every attribute by alias: `capacity`, `name`, `load`… are DynamoDB reserved words.
    names: AGENT_NAMES,
    values: { ':id': id, ':g3pk': indexKeys.agentListing(id).gsi3pk, ':g3sk': indexKeys.agentListing(id).gsi3sk, ':zero': 0, ':defcap': defaultCapacity },
  };
}

/**
 * Set an agent's presence (`PUT /agents/me/presence`), with an `agent.presence_changed` feed event
 * in the same transaction: the dispatch function drains the agent's queues when it becomes
 * available and starts the offline-return timer when it goes offline. Unchanged presence: no event.
 */
export async function setPresence(db: Db, args: { agentId: string; presence: Presence; name?: string; defaultCapacity: number } & Writer): Promise<AgentRecord> {
  for (let attempt = 1; attempt <= 8; attempt++) {
    const before = await getAgent(db, args.agentId);
    const from = before?.presence ?? 'offline';
    // An agent first known through a hand assignment or a supervisor's settings is `offline` by
    // default, not by their own word: their first presence is a change (it starts the offline timer).
    const changed = from !== args.presence || !before?.presence_set;
    const base = agentBase(args.agentId, args.defaultCapacity);
    const sets = [...base.set, '#pres = :p', '#upd = :now', ...(args.name ? ['#name = :name'] : []), ...(changed ? ['#pat = :now'] : []), 'presence_set = :t'];
    const names: Record<string, string> = { ...base.names, ...(args.name ? { '#name': 'name' } : {}) };
    const values: Record<string, unknown> = { ...base.values, ':p': args.presence, ':now': args.now, ':t': true, ...(args.name ? { ':name': args.name } : {}) };
    let cond = 'attribute_not_exists(pk)';
    if (before) { cond = '#pres = :from AND #upd = :u0'; values[':from'] = from; values[':u0'] = before.updated_at; }
    const items: TxItem[] = [{ Update: { TableName: db.tableName, Key: keys.agent(args.agentId), UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values } }];
    if (changed) {
      const id = args.newId(args.now);
      items.push(feedItem(db, { id, type: 'agent.presence_changed', at: args.now, data: { agent_id: args.agentId, from, to: args.presence } }));
    }
    if ((await transact(db, items)).ok) return (await getAgent(db, args.agentId))!;
    await backoff(attempt);
  }
  throw new StoreError('presence gave up after repeated write conflicts', { cause: { stage: 'presence' } });
}

/**
 * A supervisor's settings of an agent (`PUT /agents/{id}`): capacity, languages, channels (given
 * fields only; an empty list clears a skill). Raising a capacity frees slots: the caller drains.
 */
export async function configureAgent(db: Db, args: { agentId: string; capacity?: number; languages?: readonly string[]; channels?: readonly string[]; defaultCapacity: number; now: number }): Promise<AgentRecord> {
  const base = agentBase(args.agentId, args.defaultCapacity);
  const sets = [...base.set.filter((s) => !(args.capacity !== undefined && s.startsWith('#cap'))), '#upd = :now', '#pres = if_not_exists(#pres, :off)', '#pat = if_not_exists(#pat, :now)'];
  const values: Record<string, unknown> = { ...base.values, ':now': args.now, ':off': 'offline' };
  if (args.capacity !== undefined) { sets.push('#cap = :cap'); values[':cap'] = args.capacity; delete values[':defcap']; }
  const names: Record<string, string> = { ...base.names };
  if (args.languages !== undefined) { sets.push('#langs = :langs'); names['#langs'] = 'languages'; values[':langs'] = args.languages.map((l) => l.toLowerCase()); }
  if (args.channels !== undefined) { sets.push('#chans = :chans'); names['#chans'] = 'channels'; values[':chans'] = [...args.channels]; }
  await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.agent(args.agentId), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values }));
  return (await getAgent(db, args.agentId))!;
}

/**
 * Create or change a team (`PUT /teams/{code}`): given fields replace, others keep (new team: no
 * members, automatic assignment off). Switching automatic assignment on queues the team's backlog
 * (`queueWaitingTickets`); draining the queue is the caller's (it holds the writer).
 */
export async function putTeam(db: Db, args: { code: string; members?: readonly string[]; auto_assign?: boolean; offline_return_minutes?: number | null; now: number }): Promise<TeamRecord> {
  const before = await getTeam(db, args.code);
  const team: TeamRecord = {
    code: args.code,
    members: [...new Set(args.members ?? before?.members ?? [])],
    auto_assign: args.auto_assign ?? before?.auto_assign ?? false,
    offline_return_minutes: args.offline_return_minutes !== undefined ? args.offline_return_minutes : before?.offline_return_minutes ?? null,
    updated_at: args.now,
  };
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.team(args.code), ...team } }));
  if (team.auto_assign && !before?.auto_assign) await queueWaitingTickets(db, team);
  return team;
}

/** The teams `agentId` belongs to. */
export async function teamsOf(db: Db, agentId: string): Promise<TeamRecord[]> {
  return (await listTeams(db)).filter((t) => t.members.includes(agentId));
}

// ---------------------------------------------------------------------------------------------
// Holds: which agent a ticket's load counts against

const agentLoadItem = (db: Db, agentId: string, delta: 1 | -1, defaultCapacity: number): TxItem => {
  const base = agentBase(agentId, defaultCapacity);
  // A manual assignment to someone without an item yet creates it (offline, default capacity).
  return { Update: {
    TableName: db.tableName, Key: keys.agent(agentId),
    UpdateExpression: `SET #id = :id, gsi3pk = :g3pk, gsi3sk = :g3sk, #cap = if_not_exists(#cap, :defcap), #pres = if_not_exists(#pres, :off), #pat = if_not_exists(#pat, :zero), #upd = if_not_exists(#upd, :zero), #load = if_not_exists(#load, :zero) + :d`,
    ExpressionAttributeNames: base.names, ExpressionAttributeValues: { ...base.values, ':off': 'offline', ':d': delta },
  } };
};

const holdItem = (ticketId: string, agentId: string) => ({ ...keys.ticketHold(ticketId), ...indexKeys.agentHold(agentId, ticketId), ticket_id: ticketId, held_by: agentId });

async function getHold(db: Db, ticketId: string): Promise<string | null> {
  const r = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticketHold(ticketId), ConsistentRead: true }));
  return r.Item ? String(r.Item.held_by) : null;
}

/** The agent an active assigned ticket must count against (null: none). */
const holderOf = (t: TicketRecord | undefined): string | null => (t && isActive(t.status) && t.assignee ? t.assignee : null);

/**
 * Make the ticket's hold match the ticket as it is now (assigned by hand, reassigned, resolved,
 * closed, merged, reopened): one transaction moving the hold and both loads, conditional on the
 * hold and the ticket as read. Idempotent. Answers the agent whose slot was freed, if any.
 */
export async function reconcileHold(db: Db, ticketId: string, defaultCapacity: number): Promise<string | null> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const [ticket, current] = await Promise.all([loadTickets(db, [ticketId]).then((m) => m.get(ticketId)), getHold(db, ticketId)]);
    const desired = holderOf(ticket);
    if (desired === current) return null;
    const T = db.tableName;
    const items: TxItem[] = [];
    if (desired) {
      items.push({ Put: { TableName: T, Item: holdItem(ticketId, desired), ConditionExpression: current ? 'held_by = :cur' : 'attribute_not_exists(pk)', ...(current ? { ExpressionAttributeValues: { ':cur': current } } : {}) } });
      items.push(agentLoadItem(db, desired, 1, defaultCapacity));
    } else {
      items.push({ Delete: { TableName: T, Key: keys.ticketHold(ticketId), ConditionExpression: 'held_by = :cur', ExpressionAttributeValues: { ':cur': current } } });
    }
    if (current) items.push(agentLoadItem(db, current, -1, defaultCapacity));
    if (ticket) items.push({ ConditionCheck: { TableName: T, Key: keys.ticket(ticketId), ConditionExpression: 'updated_at = :u', ExpressionAttributeValues: { ':u': ticket.updated_at } } });
    if ((await transact(db, items)).ok) return current;
    await backoff(attempt);
  }
  throw new StoreError('hold gave up after repeated write conflicts', { cause: { stage: 'hold', ticket_id: ticketId } });
}

// ---------------------------------------------------------------------------------------------
// Queue and assignment

/** Whether `t` waits for automatic assignment in `team`. */
const waits = (t: TicketRecord | undefined, team: TeamRecord): t is TicketRecord => !!t && isActive(t.status) && !t.assignee && t.team === team.code && team.auto_assign;

/**
 * Put a ticket in its team's queue when it waits for automatic assignment (active, unassigned,
 * its team has automatic assignment on). Idempotent (a fixed key). Answers the team, or null.
 */
export async function enqueueTicket(db: Db, ticketId: string): Promise<TeamRecord | null> {
  const t = (await loadTickets(db, [ticketId])).get(ticketId);
  if (!t?.team) return null;
  const team = await getTeam(db, t.team);
  if (!team || !waits(t, team)) return null;
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.teamQueueEntry(team.code, t.created_at, t.id), ticket_id: t.id, queued_at: t.created_at } }));
  return team;
}

/**
 * Queue the tickets that already wait in `team` (active, unassigned, of the team) — for when a
 * supervisor turns automatic assignment on: without it, the backlog of the moment would stay
 * unassigned while only new tickets are assigned. Reads the unassigned active inbox (every shard,
 * page by page, the team filtered in memory) and writes the queue entries in batches of 25;
 * idempotent (fixed keys). Answers how many it queued.
 */
async function queueWaitingTickets(db: Db, team: TeamRecord): Promise<number> {
  if (!team.auto_assign) return 0;
  let queued = 0;
  let cursor: string | undefined;
  do {
    const page = await listInbox(db, { status: ACTIVE_STATUSES, assignee: null }, { limit: 100, ...(cursor ? { cursor } : {}) });
    const entries = page.items.filter((t) => waits(t, team)).map((t) => ({ PutRequest: { Item: { ...keys.teamQueueEntry(team.code, t.created_at, t.id), ticket_id: t.id, queued_at: t.created_at } } }));
    for (let i = 0; i < entries.length; i += 25) await batchWriteAll(db, entries.slice(i, i + 25));
    queued += entries.length;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return queued;
}

/** BatchWriteItem until DynamoDB has taken every request (it may hand some back unprocessed). */
async function batchWriteAll(db: Db, requests: ReadonlyArray<{ PutRequest: { Item: Record<string, unknown> } }>): Promise<void> {
  let pending = requests;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > MAX_PASSES) throw new StoreError('queueing the waiting tickets gave up: DynamoDB kept handing writes back', { cause: { stage: 'queue-waiting', unprocessed: pending.length } });
    const r = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: [...pending] } }));
    pending = (r.UnprocessedItems?.[db.tableName] ?? []) as typeof pending;
    if (pending.length > 0) await backoff(attempt);
  }
}

export type AssignOutcome = 'assigned' | 'ticket_changed' | 'agent_changed';

/** One assignment: the conditional transaction of the header. */
export async function assignTicket(db: Db, args: { ticket: TicketRecord; agent: AgentRecord; team: TeamRecord; queueSk?: string } & Writer): Promise<AssignOutcome> {
  const { ticket: t, agent: a } = args;
  const T = db.tableName;
  const at = Math.max(args.now, t.updated_at + 1);
  const g = indexKeys.inbox(at, t.id).gsi1sk;
  const data = { assignee: a.id, team: args.team.code, previous_assignee: null, actor: 'auto' };
  const feed: FeedEvent = { id: args.newId(at), type: 'ticket.assigned', at, ticket_id: t.id, customer_id: t.customer_id, data };
  const statuses = Object.fromEntries(ACTIVE_STATUSES.map((s, i) => [`:s${i}`, s]));
  const items: TxItem[] = [
    { Update: {
      TableName: T, Key: keys.ticket(t.id),
      UpdateExpression: 'SET assignee = :a, updated_at = :u1, gsi1sk = :g, gsi2sk = :g',
      ConditionExpression: `attribute_not_exists(assignee) AND #team = :team AND updated_at = :u0 AND #s IN (${Object.keys(statuses).join(', ')})`,
      ExpressionAttributeNames: { '#s': 'status', '#team': 'team' }, ExpressionAttributeValues: { ':a': a.id, ':u1': at, ':g': g, ':team': args.team.code, ':u0': t.updated_at, ...statuses },
    } },
    { Update: {
      TableName: T, Key: keys.agent(a.id),
      UpdateExpression: 'SET #load = #load + :one, #last = :at',
      ConditionExpression: '#pres = :avail AND #load = :l AND #load < #cap',
      ExpressionAttributeNames: { '#load': 'load', '#pres': 'presence', '#cap': 'capacity', '#last': 'last_assigned_at' }, ExpressionAttributeValues: { ':one': 1, ':at': at, ':avail': 'available', ':l': a.load },
    } },
    { Put: { TableName: T, Item: holdItem(t.id, a.id), ConditionExpression: 'attribute_not_exists(pk)' } },
    timelineItem(db, { type: 'event', id: args.newId(at), ticket_id: t.id, at, event: 'ticket.assigned', data }),
    feedItem(db, feed),
  ];
  if (args.queueSk) items.push({ Delete: { TableName: T, Key: { pk: keys.teamQueue(args.team.code), sk: args.queueSk } } });
  const r = await transact(db, items);
  if (r.ok) return 'assigned';
  return r.codes[0] !== 'ConditionalCheckFailed' && r.codes[2] !== 'ConditionalCheckFailed' ? 'agent_changed' : 'ticket_changed';
}

/** The language of the customer on the ticket's channel (only read when some candidate lists languages). */
async function needsOf(db: Db, t: TicketRecord, agents: readonly AgentState[]): Promise<TicketNeeds> {
  if (!agents.some((a) => (a.languages ?? []).length > 0)) return { channel: t.channel };
  const { identities } = await listCustomerItems(db, t.customer_id);
  const identity = identities.find((i) => i.channel === t.channel && i.conversation_id === t.conversation_id) ?? identities.find((i) => i.channel === t.channel);
  return { channel: t.channel, language: identity?.language ?? null };
}

/** Passes over a queue at most per drain; every lost race is another assigner's progress. */
const MAX_PASSES = 60;

/** How long a drainer holds a team's queue before another may take over (real time: it guards a running process, not business time). */
const LEASE_MS = 30_000;

/**
 * Assign the tickets waiting in `teamCode`'s queue, oldest first, while its members can take them.
 * Answers how many tickets this call assigned.
 *
 * One drainer per team at a time, through a lease (`DRAIN#<team>`): sixty tickets arriving at once
 * would otherwise start sixty drains racing for the same queue head and the same five agents, each
 * lost race costing a re-read — quadratic work. A call that finds the lease taken flags it
 * (`again`) and returns; the holder drains once more before it lets go (its release is conditional
 * on no flag). Correctness never rests on the lease — every assignment stays conditional — so a
 * holder that died only delays its team's queue until the lease expires and the next trigger.
 */
export async function drainQueue(db: Db, teamCode: string, w: Writer & { defaultCapacity: number }): Promise<number> {
  const T = db.tableName;
  const key = keys.teamDrainLease(teamCode);
  const owner = w.newId(w.now);
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await db.doc.send(new PutCommand({ TableName: T, Item: { ...key, owner, expires: Date.now() + LEASE_MS, again: false }, ConditionExpression: 'attribute_not_exists(pk) OR expires < :now', ExpressionAttributeValues: { ':now': Date.now() } }));
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      // Taken: ask the holder for one more pass; if it let go meanwhile, try to take it again.
      if (await updateIfStill(db, { Key: key, UpdateExpression: 'SET again = :t', ConditionExpression: 'attribute_exists(pk) AND expires >= :now', ExpressionAttributeValues: { ':t': true, ':now': Date.now() } })) return 0;
      continue;
    }
    let assigned = 0;
    for (;;) {
      await db.doc.send(new UpdateCommand({ TableName: T, Key: key, UpdateExpression: 'SET again = :f, expires = :exp', ConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':f': false, ':o': owner, ':exp': Date.now() + LEASE_MS } }));
      assigned += await drainPasses(db, teamCode, w);
      try {
        await db.doc.send(new DeleteCommand({ TableName: T, Key: key, ConditionExpression: '#o = :o AND again = :f', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':o': owner, ':f': false } }));
        return assigned;
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw e;
        // Flagged while draining: once more.
      }
    }
  }
  throw new StoreError('drain could neither take nor flag the team\'s lease', { cause: { stage: 'drain', team: teamCode } });
}

async function drainPasses(db: Db, teamCode: string, w: Writer & { defaultCapacity: number }): Promise<number> {
  let assigned = 0;
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    const team = await getTeam(db, teamCode);
    if (!team?.auto_assign) return assigned;
    const queued = await queuedTickets(db, teamCode);
    if (queued.length === 0) return assigned;
    const [tickets, agentMap] = await Promise.all([loadTickets(db, queued.map((q) => q.ticket_id)), loadAgents(db, team.members)]);
    const agents = new Map(agentMap);
    let raced = false;
    for (const q of queued) {
      const t = tickets.get(q.ticket_id);
      if (!waits(t, team)) {
        // Assigned by hand, resolved, moved to another team meanwhile: it waits no more.
        await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: { pk: keys.teamQueue(teamCode), sk: q.sk } }));
        continue;
      }
      const needs = await needsOf(db, t, [...agents.values()]);
      const agent = chooseAgent([...agents.values()], needs) as AgentRecord | null;
      if (!agent) continue; // nobody free with these skills: a later ticket may need others
      const outcome = await assignTicket(db, { ticket: t, agent, team, queueSk: q.sk, now: w.now, newId: w.newId });
      if (outcome === 'assigned') {
        assigned += 1;
        agents.set(agent.id, { ...agent, load: agent.load + 1, last_assigned_at: Math.max(w.now, t.updated_at + 1) });
      } else {
        // A stale hold (its release not yet reconciled) would fail every attempt: settle it first.
        if (outcome === 'ticket_changed') await reconcileHold(db, t.id, w.defaultCapacity);
        raced = true;
        break;
      }
    }
    if (!raced) return assigned;
    await backoff(pass);
  }
  return assigned;
}

/** Drain the queues of every team `agentId` is a member of (it became available or freed a slot). */
export async function drainTeamsOf(db: Db, agentId: string, w: Writer & { defaultCapacity: number }): Promise<number> {
  let n = 0;
  for (const t of await teamsOf(db, agentId)) if (t.auto_assign) n += await drainQueue(db, t.code, w);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Offline return

/**
 * An agent offline since `since`: in every team whose offline return is due, its still-unanswered
 * `new` tickets go back to the queue (one transaction each: unassigned, hold and load released,
 * queued, `ticket.updated` events with actor `offline-return`). Nothing when the agent came back or
 * went offline again later (a newer timer owns that). Answers the teams returned to and when to
 * look again (null: never).
 */
export async function returnOfflineTickets(db: Db, args: { agentId: string; since: number; defaultCapacity: number } & Writer): Promise<{ returned: number; teams: string[]; next: number | null }> {
  const agent = await getAgent(db, args.agentId);
  if (!agent || agent.presence !== 'offline' || agent.presence_at !== args.since) return { returned: 0, teams: [], next: null };
  const teams = await teamsOf(db, args.agentId);
  const plan = offlineReturnPlan(teams, args.agentId, args.since, args.now);
  if (plan.due.length === 0) return { returned: 0, teams: [], next: plan.next };
  const tickets = await loadTickets(db, await heldTickets(db, args.agentId));
  let returned = 0;
  for (const t of tickets.values()) {
    const answered = t.first_response_at !== null && t.first_response_at !== undefined;
    if (t.status !== 'new' || t.assignee !== args.agentId || answered || !t.team || !plan.due.includes(t.team)) continue;
    const at = Math.max(args.now, t.updated_at + 1);
    const data = { changed: ['assignee'], assignee: null, previous_assignee: args.agentId, actor: 'offline-return' };
    const T = db.tableName;
    const r = await transact(db, [
      { Update: {
        TableName: T, Key: keys.ticket(t.id), UpdateExpression: 'REMOVE assignee SET updated_at = :u1, gsi1sk = :g, gsi2sk = :g',
        ConditionExpression: 'assignee = :a AND #s = :new AND updated_at = :u0 AND (attribute_not_exists(first_response_at) OR first_response_at = :null)',
        ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':a': args.agentId, ':new': 'new', ':u0': t.updated_at, ':null': null, ':u1': at, ':g': indexKeys.inbox(at, t.id).gsi1sk },
      } },
      { Delete: { TableName: T, Key: keys.ticketHold(t.id), ConditionExpression: 'held_by = :a', ExpressionAttributeValues: { ':a': args.agentId } } },
      agentLoadItem(db, args.agentId, -1, args.defaultCapacity),
      { Put: { TableName: T, Item: { ...keys.teamQueueEntry(t.team, t.created_at, t.id), ticket_id: t.id, queued_at: t.created_at } } },
      timelineItem(db, { type: 'event', id: args.newId(at), ticket_id: t.id, at, event: 'ticket.updated', data }),
      feedItem(db, { id: args.newId(at), type: 'ticket.updated', at, ticket_id: t.id, customer_id: t.customer_id, data }),
    ]);
    // A lost race (the agent answered, someone reassigned): the ticket is no longer unanswered and theirs.
    if (r.ok) returned += 1;
  }
  for (const code of plan.due) await drainQueue(db, code, args);
  return { returned, teams: plan.due, next: plan.next };
}
