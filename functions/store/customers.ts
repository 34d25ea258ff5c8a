/**
 * Customer merge, unmerge and the customer card's reads (representation:
 * functions/domain/merge.ts). GDPR erasure: functions/store/erasure.ts.
 *
 * Merge (automatic or manual) = one transaction when it fits (≤ 100 items): the merge record with
 * its intended final state, `loser.merged_into = winner` and the winner's current ticket (both
 * conditional on the customers being exactly as read), the ticket merge when both had an active
 * ticket, every identity and ticket of the loser re-pointed (conditional on still naming the
 * loser), merge-log entries and feed events. A loser with more items than fit records
 * `state: merging` in that transaction and moves the rest with one idempotent conditional update
 * each, then `merged`; whoever meets a `merging` record later (a retry, the process handler, the
 * API) finishes it. Reads resolve `merged_into` pointers, so a straggler (an item the GSI had not
 * shown yet) still lands on the winner — and is re-pointed by the next message through it.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chooseTickets, resolveRoot } from '../domain/merge.js';
import type { VerifiedAttribute } from '../domain/identity.js';
import { StoreError, type Db } from './db.js';
import { feedItem } from './inbound.js';
import { batchGet, customerLogItem, loadCustomers, loadTickets, stripKeys, type CustomerGraph } from './identity.js';
import { indexKeys, keys } from './table.js';
import { withLastInbound } from './last-inbound.js';
import { ticketMergeItems, ticketUnmergeItems, transact, updateIfStill, type TxItem } from './tickets.js';
import type {
  CustomerLogEntry, CustomerMergeRecord, CustomerRecord, IdentityRecord, SuggestionRecord, TicketRecord, VerifiedIndexRecord,
} from './records.js';

const MAX_ATTEMPTS = 8;
const TX_LIMIT = 100;
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(250, 10 * 2 ** attempt)));
const LIVE = 'attribute_exists(pk) AND attribute_not_exists(merged_into) AND attribute_not_exists(erased_at)';

// ---------------------------------------------------------------------------------------------
// Reads

export interface CustomerItems {
  readonly identities: IdentityRecord[];
  readonly tickets: TicketRecord[];
  readonly attributes: Array<VerifiedIndexRecord & { readonly value: string }>;
}

/** A customer's identities, tickets and verified attributes (gsi3, one paged query). */
export async function customerItems(db: Db, customerId: string): Promise<CustomerItems> {
  const out: CustomerItems = { identities: [], tickets: [], attributes: [] };
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({
      TableName: db.tableName, IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p',
      ExpressionAttributeValues: { ':p': indexKeys.customerItems(customerId) }, ExclusiveStartKey: start,
    }));
    for (const i of res.Items ?? []) {
      const sk = String(i.gsi3sk);
      if (sk.startsWith('IDENT#')) out.identities.push(stripKeys<IdentityRecord>(i));
      else if (sk.startsWith('TICKET#')) out.tickets.push(stripKeys<TicketRecord>(i));
      else if (sk.startsWith('VATTR#')) out.attributes.push({ ...stripKeys<VerifiedIndexRecord>(i), value: String(i.pk).slice(`VATTR#${String(i.kind)}#`.length) });
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export interface CustomerPartition {
  readonly profile: CustomerRecord | undefined;
  readonly suggestions: SuggestionRecord[];
  readonly log: CustomerLogEntry[];
  readonly merges: CustomerMergeRecord[];
}

/** Profile, suggestions, merge log and merge records of one customer (one paged query). */
export async function customerPartition(db: Db, customerId: string): Promise<CustomerPartition> {
  const out = { profile: undefined as CustomerRecord | undefined, suggestions: [] as SuggestionRecord[], log: [] as CustomerLogEntry[], merges: [] as CustomerMergeRecord[] };
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({
      TableName: db.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.customerPartition(customerId) },
      ConsistentRead: true, ExclusiveStartKey: start,
    }));
    for (const i of res.Items ?? []) {
      const sk = String(i.sk);
      if (sk === 'PROFILE') out.profile = stripKeys<CustomerRecord>(i);
      else if (sk.startsWith('SUGG#')) out.suggestions.push(stripKeys<SuggestionRecord>(i));
      else if (sk.startsWith('LOG#')) out.log.push(stripKeys<CustomerLogEntry>(i));
      else if (sk.startsWith('MERGE#')) out.merges.push(stripKeys<CustomerMergeRecord>(i));
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function getMergeRecord(db: Db, winnerId: string, loserId: string): Promise<CustomerMergeRecord | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.customerMerge(winnerId, loserId), ConsistentRead: true }));
  return res.Item ? stripKeys<CustomerMergeRecord>(res.Item) : undefined;
}

/** A customer with everything merged into it: what the card, reply routing and erase work on. */
export interface CustomerFamily {
  readonly root: CustomerRecord;
  /** Root first, then every customer merged into it (transitively). */
  readonly members: CustomerRecord[];
  readonly merges: CustomerMergeRecord[];
  readonly suggestions: SuggestionRecord[];
  readonly log: CustomerLogEntry[];
  readonly identities: IdentityRecord[];
  readonly tickets: TicketRecord[];
  readonly attributes: Array<VerifiedIndexRecord & { readonly value: string }>;
}

/** The family of the customer `id` resolves to (undefined: no such customer). */
export async function loadFamily(db: Db, id: string): Promise<CustomerFamily | undefined> {
  const graph = await loadCustomers(db, [id]);
  if (!graph.get(id)) return undefined;
  const rootId = graph.root(id);
  const parts = new Map<string, CustomerPartition>();
  let level = [rootId];
  for (let depth = 0; level.length > 0 && depth < 16; depth++) {
    const got = await Promise.all(level.map(async (m) => [m, await customerPartition(db, m)] as const));
    const next: string[] = [];
    for (const [m, p] of got) {
      parts.set(m, p);
      for (const r of p.merges) if (r.winner === m && (r.state === 'merged' || r.state === 'merging') && !parts.has(r.loser)) next.push(r.loser);
    }
    level = [...new Set(next)];
  }
  const memberIds = [...parts.keys()];
  const root = parts.get(rootId)?.profile;
  if (!root) return undefined;
  const items = await Promise.all(memberIds.map((m) => customerItems(db, m)));
  const seen = new Set<string>();
  const identities = items.flatMap((i) => i.identities).filter((i) => { const key = `${i.channel}:${i.external_id}`; if (seen.has(key)) return false; seen.add(key); return true; });
  const all = [...parts.values()];
  return {
    root,
    members: memberIds.map((m) => parts.get(m)!.profile).filter((c): c is CustomerRecord => c !== undefined),
    merges: all.flatMap((p) => p.merges),
    suggestions: all.flatMap((p) => p.suggestions),
    // A member's own "merged into" entries repeat the root's "merged" entries.
    log: all.flatMap((p, i) => (i === 0 ? p.log : p.log.filter((e) => e.event !== 'merged_into'))).sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)),
    // With their last inbound message as the tickets keep it (functions/store/last-inbound.ts).
    identities: withLastInbound(identities, items.flatMap((i) => i.tickets)),
    tickets: items.flatMap((i) => i.tickets).sort((a, b) => b.created_at - a.created_at),
    attributes: items.flatMap((i) => i.attributes),
  };
}

/** Root customer ids found by identities and verified attributes (`GET /customers?q=`; 2 round trips). */
export async function lookupCustomers(db: Db, lookup: { identities: ReadonlyArray<{ channel: string; externalId: string }>; verified: readonly VerifiedAttribute[] }): Promise<string[]> {
  const items = await batchGet(db, [
    ...lookup.identities.map((i) => keys.identity(i.channel, i.externalId)),
    ...lookup.verified.map((a) => keys.verifiedAttribute(a.kind, a.value)),
  ]);
  const ids = [...items.values()].map((i) => i.customer_id).filter((c): c is string => typeof c === 'string');
  if (ids.length === 0) return [];
  const graph = await loadCustomers(db, ids);
  return [...new Set(ids.map((c) => graph.root(c)))].filter((c) => graph.get(c) !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Merge

export interface CustomerMergeArgs {
  readonly winnerId: string;
  readonly loserId: string;
  readonly reason: CustomerMergeRecord['reason'];
  readonly attribute: 'phone' | 'email' | null;
  /** Channels on both sides (never values). */
  readonly sources: string[];
  readonly actor: string;
  readonly now: number;
  readonly newId: () => string;
  /** Customers as already loaded by the caller (saves the first read). */
  readonly graph?: CustomerGraph;
}

export type CustomerMergeResult =
  | { readonly status: 'merged' | 'already'; readonly record: CustomerMergeRecord }
  /** One of the two is no longer a root (merged meanwhile): the caller decides again. */
  | { readonly status: 'stale' }
  | { readonly status: 'refused'; readonly reason: string };

function repointItem(db: Db, key: { pk: string; sk: string }, from: string, to: string, extra: Record<string, unknown> = {}): TxItem {
  const values: Record<string, unknown> = { ':from': from, ':to': to, ':g3': indexKeys.customerItems(to) };
  const sets = ['customer_id = :to', 'gsi3pk = :g3', 'origin_customer_id = if_not_exists(origin_customer_id, :from)'];
  for (const [k, v] of Object.entries(extra)) { sets.push(`${k} = :x_${k}`); values[`:x_${k}`] = v; }
  return { Update: { TableName: db.tableName, Key: key, UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: 'customer_id = :from', ExpressionAttributeValues: values } };
}

/** Merge `loser` into `winner` (both roots). Retried on a lost race; idempotent. */
export async function mergeCustomers(db: Db, a: CustomerMergeArgs): Promise<CustomerMergeResult> {
  if (a.winnerId === a.loserId) return { status: 'refused', reason: 'a customer cannot be merged into itself' };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const graph = attempt === 1 && a.graph ? a.graph : await loadCustomers(db, [a.winnerId, a.loserId]);
    const W = graph.get(a.winnerId);
    const L = graph.get(a.loserId);
    if (!W || !L) return { status: 'refused', reason: 'no such customer' };
    if (L.merged_into === W.id) {
      const rec = await getMergeRecord(db, W.id, L.id);
      if (rec && rec.state !== 'unmerged') {
        if (rec.state === 'merging') await finishMerge(db, rec);
        return { status: 'already', record: rec };
      }
    }
    if (W.merged_into !== undefined || L.merged_into !== undefined) return { status: 'stale' };
    if (W.erased_at !== undefined || L.erased_at !== undefined) return { status: 'refused', reason: 'the customer is erased' };

    const [tickets, loserItems] = await Promise.all([loadTickets(db, [W.current_ticket_id, L.current_ticket_id]), customerItems(db, L.id)]);
    const wt = W.current_ticket_id ? tickets.get(W.current_ticket_id) : undefined;
    const lt = L.current_ticket_id ? tickets.get(L.current_ticket_id) : undefined;
    const choice = chooseTickets(wt, lt);
    const record: CustomerMergeRecord = {
      id: a.newId(), winner: W.id, loser: L.id, at: a.now, reason: a.reason, attribute: a.attribute, sources: a.sources, actor: a.actor,
      state: 'merged', winner_ticket_before: wt?.id ?? null, loser_ticket_before: lt?.id ?? null, current_after: choice.current,
      ticket_merge: null,
    };
    const fixed: TxItem[] = [];
    if (choice.merge) {
      const tw = choice.merge.winner === wt!.id ? wt! : lt!;
      const tl = choice.merge.loser === wt!.id ? wt! : lt!;
      (record as { ticket_merge: CustomerMergeRecord['ticket_merge'] }).ticket_merge = { winner: tw.id, loser: tl.id, loser_status: tl.status, loser_message_count: tl.message_count ?? 0 };
      fixed.push(...ticketMergeItems(db, { winner: tw, loser: tl, customerId: W.id, reason: 'customer_merge', actor: a.actor, now: a.now, newId: a.newId }));
    }
    const curCond = (c: CustomerRecord, p: string) => (c.current_ticket_id ? `current_ticket_id = ${p}` : 'attribute_not_exists(current_ticket_id)');
    fixed.push({ Update: {
      TableName: db.tableName, Key: keys.customer(L.id), UpdateExpression: 'SET merged_into = :w, merged_at = :now',
      ConditionExpression: `${LIVE} AND ${curCond(L, ':lc')}`,
      ExpressionAttributeValues: { ':w': W.id, ':now': a.now, ...(L.current_ticket_id ? { ':lc': L.current_ticket_id } : {}) },
    } });
    const wCond = `${LIVE} AND ${curCond(W, ':wc')}`;
    const wValues = W.current_ticket_id ? { ':wc': W.current_ticket_id } : {};
    fixed.push(choice.current !== null && choice.current !== (W.current_ticket_id ?? null)
      ? { Update: { TableName: db.tableName, Key: keys.customer(W.id), UpdateExpression: 'SET current_ticket_id = :cur', ConditionExpression: wCond, ExpressionAttributeValues: { ...wValues, ':cur': choice.current } } }
      : { ConditionCheck: { TableName: db.tableName, Key: keys.customer(W.id), ConditionExpression: wCond, ...(W.current_ticket_id ? { ExpressionAttributeValues: wValues } : {}) } });
    const log = (customer: string, other: string, ev: CustomerLogEntry['event']) => customerLogItem(db, customer, {
      id: a.newId(), at: a.now, event: ev, customer_id: other, reason: a.reason, attribute: a.attribute, sources: a.sources, actor: a.actor,
    });
    fixed.push(log(W.id, L.id, 'customer_merged'), log(L.id, W.id, 'merged_into'));
    fixed.push(feedItem(db, { id: a.newId(), type: 'customer.merged', at: a.now, customer_id: W.id, data: { loser: L.id, reason: a.reason, attribute: a.attribute, sources: a.sources, tickets_merged: choice.merge !== null } }));

    // Moves: every identity and ticket of the loser (its current ticket even if the index lags).
    const inTicketMerge = new Set(choice.merge ? [choice.merge.winner, choice.merge.loser] : []);
    const loserTickets = new Map(loserItems.tickets.map((t) => [t.id, t]));
    if (lt) loserTickets.set(lt.id, lt);
    const moves: TxItem[] = [
      ...loserItems.identities.filter((i) => i.customer_id === L.id).map((i) => repointItem(db, keys.identity(i.channel, i.external_id), L.id, W.id, choice.current ? { ticket_hint: choice.current } : {})),
      ...[...loserTickets.values()].filter((t) => t.customer_id === L.id && !inTicketMerge.has(t.id)).map((t) => repointItem(db, keys.ticket(t.id), L.id, W.id)),
    ];
    const oneStep = fixed.length + 1 + moves.length <= TX_LIMIT;
    const finalRecord: CustomerMergeRecord = oneStep ? record : { ...record, state: 'merging' };
    const recordItem: TxItem = { Put: {
      TableName: db.tableName, Item: { ...keys.customerMerge(W.id, L.id), ...finalRecord },
      ConditionExpression: 'attribute_not_exists(pk) OR #state = :unmerged', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':unmerged': 'unmerged' },
    } };
    const res = await transact(db, [recordItem, ...fixed, ...(oneStep ? moves : [])]);
    if (res.ok) {
      if (!oneStep) await finishMerge(db, finalRecord);
      return { status: 'merged', record: { ...finalRecord, state: 'merged' } };
    }
    if (res.codes[0] === 'ConditionalCheckFailed') {
      const rec = await getMergeRecord(db, W.id, L.id);
      if (rec && (rec.state === 'merging' || rec.state === 'merged')) {
        if (rec.state === 'merging') await finishMerge(db, rec);
        return { status: 'already', record: rec };
      }
    }
    await backoff(attempt);
  }
  throw new StoreError('customer merge gave up after repeated write conflicts', { cause: { stage: 'customer-merge', attempts: MAX_ATTEMPTS } });
}

/** Complete a `merging` merge: move what still names the loser (idempotent steps), then `merged`. */
export async function finishMerge(db: Db, rec: CustomerMergeRecord): Promise<void> {
  const items = await customerItems(db, rec.loser);
  for (const i of items.identities) {
    if (i.customer_id !== rec.loser) continue;
    await updateIfStill(db, repointItem(db, keys.identity(i.channel, i.external_id), rec.loser, rec.winner, rec.current_after ? { ticket_hint: rec.current_after } : {}).Update!);
  }
  for (const t of items.tickets) {
    if (t.customer_id !== rec.loser || (rec.ticket_merge && (t.id === rec.ticket_merge.winner || t.id === rec.ticket_merge.loser))) continue;
    await updateIfStill(db, repointItem(db, keys.ticket(t.id), rec.loser, rec.winner).Update!);
  }
  await updateIfStill(db, {
    Key: keys.customerMerge(rec.winner, rec.loser), UpdateExpression: 'SET #state = :done',
    ConditionExpression: '#state = :merging', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':done': 'merged', ':merging': 'merging' },
  });
}

// ---------------------------------------------------------------------------------------------
// Unmerge

export type UnmergeResult =
  | { readonly status: 'unmerged' | 'already' }
  | { readonly status: 'refused'; readonly code: 404 | 409; readonly reason: string };

/**
 * What goes back to the loser: identities and tickets now on the winner whose origin resolves to
 * the loser once the loser's own pointer is gone (so what was merged into the loser before comes
 * back with it; what arrived on the winner stays).
 */
async function unmergeMoves(db: Db, rec: CustomerMergeRecord): Promise<{ identities: IdentityRecord[]; tickets: TicketRecord[] }> {
  const items = await customerItems(db, rec.winner);
  const originOf = (x: { customer_id: string; origin_customer_id?: string }) => x.origin_customer_id ?? x.customer_id;
  const graph = await loadCustomers(db, [rec.winner, rec.loser, ...items.identities.map(originOf), ...items.tickets.map(originOf)]);
  const rootWithout = (id: string) => resolveRoot(id, (c) => (c === rec.loser ? undefined : graph.get(c)?.merged_into));
  const back = (x: { customer_id: string; origin_customer_id?: string }) => x.customer_id === rec.winner && rootWithout(originOf(x)) === rec.loser;
  return { identities: items.identities.filter(back), tickets: items.tickets.filter(back) };
}

function moveBackItems(db: Db, rec: CustomerMergeRecord, moves: { identities: IdentityRecord[]; tickets: TicketRecord[] }, skipTickets: ReadonlySet<string>): TxItem[] {
  const g3 = indexKeys.customerItems(rec.loser);
  const item = (key: { pk: string; sk: string }, hint: boolean): TxItem => ({ Update: {
    TableName: db.tableName, Key: key,
    UpdateExpression: `SET customer_id = :l, gsi3pk = :g3${hint && rec.loser_ticket_before ? ', ticket_hint = :h' : ''}`,
    ConditionExpression: 'customer_id = :w',
    ExpressionAttributeValues: { ':l': rec.loser, ':w': rec.winner, ':g3': g3, ...(hint && rec.loser_ticket_before ? { ':h': rec.loser_ticket_before } : {}) },
  } });
  return [
    ...moves.identities.map((i) => item(keys.identity(i.channel, i.external_id), true)),
    ...moves.tickets.filter((t) => !skipTickets.has(t.id)).map((t) => item(keys.ticket(t.id), false)),
  ];
}

/**
 * Undo the merge of `loserId` into `winnerId`: both customers, their current tickets and (when
 * the merge merged their tickets) both tickets come back as they were; the pair is remembered so
 * the shared verified attribute never merges them automatically again (it becomes a suggestion).
 * Messages that arrived after the merge stay where they were written.
 */
export async function unmergeCustomers(db: Db, a: { winnerId: string; loserId: string; actor: string; now: number; newId: () => string }): Promise<UnmergeResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const rec = await getMergeRecord(db, a.winnerId, a.loserId);
    if (!rec) return { status: 'refused', code: 404, reason: 'these customers were not merged into one another' };
    if (rec.state === 'unmerged') return { status: 'already' };
    if (rec.state === 'merging') { await finishMerge(db, rec); continue; }
    if (rec.state === 'unmerging') { await finishUnmerge(db, rec); return { status: 'unmerged' }; }
    const graph = await loadCustomers(db, [rec.winner, rec.loser]);
    const W = graph.get(rec.winner)!;
    const L = graph.get(rec.loser)!;
    if (W.merged_into !== undefined) return { status: 'refused', code: 409, reason: 'the surviving customer was itself merged into another one since: unmerge that first' };
    if (L.merged_into !== W.id) return { status: 'refused', code: 409, reason: 'the customers are not merged' };
    if (W.erased_at !== undefined || L.erased_at !== undefined) return { status: 'refused', code: 409, reason: 'the customer is erased' };

    const moves = await unmergeMoves(db, rec);
    const fixed: TxItem[] = [];
    const ticketUndone = new Set<string>();
    if (rec.ticket_merge) {
      const tm = rec.ticket_merge;
      const ts = await loadTickets(db, [tm.winner, tm.loser]);
      const tw = ts.get(tm.winner);
      const tl = ts.get(tm.loser);
      if (tw && tl && tl.status === 'merged' && tl.merged_into === tw.id) {
        const movedBack = new Set(moves.tickets.map((t) => t.id));
        const ownerAfter = (t: TicketRecord) => (movedBack.has(t.id) ? rec.loser : t.customer_id);
        fixed.push(...ticketUnmergeItems(db, {
          winner: tw, loser: tl, loserStatus: tm.loser_status, loserMessageCount: tm.loser_message_count,
          winnerCustomer: ownerAfter(tw), loserCustomer: ownerAfter(tl), actor: a.actor, now: a.now, newId: a.newId,
        }));
        ticketUndone.add(tw.id).add(tl.id);
      }
    }
    const lb = rec.loser_ticket_before;
    fixed.push({ Update: {
      TableName: db.tableName, Key: keys.customer(L.id),
      UpdateExpression: `${lb ? 'SET current_ticket_id = :lb ' : ''}REMOVE merged_into, merged_at${lb ? '' : ', current_ticket_id'} ADD no_auto_merge :sw`,
      ConditionExpression: 'merged_into = :w AND attribute_not_exists(erased_at)',
      ExpressionAttributeValues: { ':w': W.id, ':sw': new Set([W.id]), ...(lb ? { ':lb': lb } : {}) },
    } });
    const restoreW = W.current_ticket_id !== undefined && W.current_ticket_id === rec.current_after && rec.current_after !== rec.winner_ticket_before;
    const wb = rec.winner_ticket_before;
    fixed.push({ Update: {
      TableName: db.tableName, Key: keys.customer(W.id),
      UpdateExpression: `${restoreW && wb ? 'SET current_ticket_id = :wb ' : ''}${restoreW && !wb ? 'REMOVE current_ticket_id ' : ''}ADD no_auto_merge :sl`,
      ConditionExpression: `${LIVE} AND ${W.current_ticket_id ? 'current_ticket_id = :wc' : 'attribute_not_exists(current_ticket_id)'}`,
      ExpressionAttributeValues: { ':sl': new Set([L.id]), ...(W.current_ticket_id ? { ':wc': W.current_ticket_id } : {}), ...(restoreW && wb ? { ':wb': wb } : {}) },
    } });
    const log = (customer: string, other: string, ev: CustomerLogEntry['event']) => customerLogItem(db, customer, {
      id: a.newId(), at: a.now, event: ev, customer_id: other, reason: 'manual', attribute: rec.attribute, sources: rec.sources, actor: a.actor,
    });
    fixed.push(log(W.id, L.id, 'customer_unmerged'), log(L.id, W.id, 'unmerged_from'));
    fixed.push(feedItem(db, { id: a.newId(), type: 'customer.unmerged', at: a.now, customer_id: W.id, data: { customer: L.id, actor: a.actor } }));
    const back = moveBackItems(db, rec, moves, ticketUndone);
    const oneStep = fixed.length + 1 + back.length <= TX_LIMIT;
    const recordItem: TxItem = { Update: {
      TableName: db.tableName, Key: keys.customerMerge(W.id, L.id),
      UpdateExpression: 'SET #state = :next, unmerged_at = :now, unmerged_by = :by', ConditionExpression: '#state = :merged',
      ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':next': oneStep ? 'unmerged' : 'unmerging', ':now': a.now, ':by': a.actor, ':merged': 'merged' },
    } };
    const res = await transact(db, [recordItem, ...fixed, ...(oneStep ? back : [])]);
    if (res.ok) {
      if (!oneStep) await finishUnmerge(db, { ...rec, state: 'unmerging' });
      return { status: 'unmerged' };
    }
    await backoff(attempt);
  }
  throw new StoreError('customer unmerge gave up after repeated write conflicts', { cause: { stage: 'customer-unmerge', attempts: MAX_ATTEMPTS } });
}

async function finishUnmerge(db: Db, rec: CustomerMergeRecord): Promise<void> {
  const moves = await unmergeMoves(db, rec);
  for (const item of moveBackItems(db, rec, moves, new Set())) await updateIfStill(db, item.Update!);
  await updateIfStill(db, {
    Key: keys.customerMerge(rec.winner, rec.loser), UpdateExpression: 'SET #state = :done',
    ConditionExpression: '#state = :u', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':done': 'unmerged', ':u': 'unmerging' },
  });
}

