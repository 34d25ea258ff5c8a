/**
 * Customer tiers and organisations (functions/domain/tier.ts): the organisation records, their
 * e-mail domain claims, the customer's own tier, and the tier a customer's tickets carry.
 *
 * | item            | pk                  | sk        | attributes                                                  |
 * |-----------------|---------------------|-----------|-------------------------------------------------------------|
 * | organisation    | ORG#<id>            | ORG       | id, name, domains, tier?, contract?, version, updated_at/by |
 * | domain claim    | ORGDOMAIN#<domain>  | ORGDOMAIN | organisation_id, at                                         |
 *
 * (Kept here rather than in table.ts until the lead folds it into the key table.)
 *
 * A domain belongs to at most one organisation: the claims are written in the organisation's
 * transaction, each conditional on being free or already this organisation's.
 *
 * Membership is RESOLVED, not stored: a customer's organisation is the one claiming a domain of one
 * of the customer's verified e-mail addresses (the `VATTR#email#…` items of the customer and of
 * every customer merged into it — only platform-verified addresses have one, so a spoofed or merely
 * claimed address never grants a tier). It is resolved when it matters — when a ticket opens (the
 * tier is copied onto the ticket), when the customer's tier is set, and when the card is read — so
 * a verified e-mail linked by identify/process counts from the customer's next ticket on, and a
 * saved organisation from its members' next tickets on, with nothing to backfill and nothing that
 * can drift. `organisation_id` on the customer item is the last resolution (a cache for readers
 * such as the inbox list), rewritten whenever a resolution finds it changed.
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isActive } from '../domain/ticket.js';
import { effectiveTier, domainOf, organisationOf, type EffectiveTier, type Organisation, type OrganisationInput } from '../domain/tier.js';
import { isConditionalCheckFailed, StoreError, type Db } from './db.js';
import { feedItem, timelineItem } from './inbound.js';
import { batchGet, loadCustomers, stripKeys } from './identity.js';
import { indexKeys, keys } from './table.js';
import { transact, type TxItem } from './tickets.js';
import type { CustomerRecord, EventEntry, TicketRecord } from './records.js';

export const orgKeys = {
  organisation: (id: string) => ({ pk: `ORG#${id}`, sk: 'ORG' }),
  domain: (domain: string) => ({ pk: `ORGDOMAIN#${domain}`, sk: 'ORGDOMAIN' }),
} as const;

/** Merge levels followed when collecting the e-mails of a customer and everything merged into it. */
const MAX_MERGE_DEPTH = 16;

// ---------------------------------------------------------------------------------------------
// Organisations

/** 1 round trip. */
export async function getOrganisation(db: Db, id: string): Promise<Organisation | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: orgKeys.organisation(id), ConsistentRead: true }));
  return res.Item ? stripKeys<Organisation>(res.Item) : undefined;
}

export type PutOrganisationResult =
  | { readonly status: 'saved'; readonly organisation: Organisation; readonly created: boolean }
  | { readonly status: 'version_mismatch'; readonly current: number }
  | { readonly status: 'domain_taken'; readonly domains: string[] }
  | { readonly status: 'conflict' };

/**
 * Create or replace an organisation with its domain claims in one transaction (2 round trips
 * before it: the record and the claims). Conditional on the version read (`expectedVersion`, when
 * given, must match it), so two supervisors saving at once cannot overwrite each other.
 */
export async function putOrganisation(db: Db, a: { id: string; input: OrganisationInput; expectedVersion?: number; by: string; now: number }): Promise<PutOrganisationResult> {
  const current = await getOrganisation(db, a.id);
  const version = current?.version ?? 0;
  if (a.expectedVersion !== undefined && a.expectedVersion !== version) return { status: 'version_mismatch', current: version };
  const claims = await batchGet(db, a.input.domains.map((d) => orgKeys.domain(d)));
  const taken = [...claims.values()].filter((c) => c.organisation_id !== a.id).map((c) => String(c.pk).slice('ORGDOMAIN#'.length));
  if (taken.length) return { status: 'domain_taken', domains: taken.sort() };
  const org: Organisation = { id: a.id, ...a.input, version: version + 1, updated_at: a.now, updated_by: a.by };
  const dropped = (current?.domains ?? []).filter((d) => !a.input.domains.includes(d));
  const items: TxItem[] = [
    { Put: {
      TableName: db.tableName, Item: { ...orgKeys.organisation(a.id), ...org },
      ConditionExpression: current ? 'version = :v' : 'attribute_not_exists(pk)', ...(current ? { ExpressionAttributeValues: { ':v': version } } : {}),
    } },
    ...a.input.domains.map((d): TxItem => ({ Put: {
      TableName: db.tableName, Item: { ...orgKeys.domain(d), organisation_id: a.id, at: a.now },
      ConditionExpression: 'attribute_not_exists(pk) OR organisation_id = :id', ExpressionAttributeValues: { ':id': a.id },
    } })),
    ...dropped.map((d): TxItem => ({ Delete: {
      TableName: db.tableName, Key: orgKeys.domain(d), ConditionExpression: 'organisation_id = :id', ExpressionAttributeValues: { ':id': a.id },
    } })),
  ];
  const res = await transact(db, items);
  return res.ok ? { status: 'saved', organisation: org, created: current === undefined } : { status: 'conflict' };
}

/** Delete an organisation and its domain claims (1 transaction). False: no such organisation. */
export async function deleteOrganisation(db: Db, id: string): Promise<boolean> {
  const current = await getOrganisation(db, id);
  if (!current) return false;
  const res = await transact(db, [
    { Delete: { TableName: db.tableName, Key: orgKeys.organisation(id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } } },
    ...current.domains.map((d): TxItem => ({ Delete: {
      TableName: db.tableName, Key: orgKeys.domain(d), ConditionExpression: 'attribute_not_exists(pk) OR organisation_id = :id', ExpressionAttributeValues: { ':id': id },
    } })),
  ]);
  if (!res.ok) throw new StoreError('organisation changed while being deleted', { cause: { stage: 'organisation-delete', codes: res.codes } });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Membership and the effective tier

/** Verified e-mail addresses of a customer and everything merged into it (1 query per member, 1 per merge level). */
export async function verifiedEmailsOf(db: Db, rootId: string): Promise<string[]> {
  const members = new Set([rootId]);
  let level = [rootId];
  for (let depth = 0; level.length > 0 && depth < MAX_MERGE_DEPTH; depth++) {
    const found = await Promise.all(level.map((m) => queryAll(db, {
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)', ExpressionAttributeValues: { ':p': keys.customerPartition(m), ':s': 'MERGE#' }, ConsistentRead: true,
    })));
    level = found.flat().filter((r) => r.winner !== undefined && (r.state === 'merged' || r.state === 'merging') && !members.has(String(r.loser))).map((r) => String(r.loser));
    for (const m of level) members.add(m);
  }
  const attrs = await Promise.all([...members].map((m) => queryAll(db, {
    IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': indexKeys.customerItems(m), ':s': 'VATTR#email#' },
  })));
  return [...new Set(attrs.flat().map((i) => String(i.pk).slice('VATTR#email#'.length)))];
}

/** The organisation claiming a domain of one of `emails` (1 BatchGet + 1 Get). */
export async function organisationForEmails(db: Db, emails: readonly string[]): Promise<Organisation | undefined> {
  const domains = [...new Set(emails.map(domainOf).filter((d): d is string => d !== undefined))];
  if (domains.length === 0) return undefined;
  const claims = await batchGet(db, domains.map((d) => orgKeys.domain(d)));
  const byDomain = new Map([...claims.values()].map((c) => [String(c.pk).slice('ORGDOMAIN#'.length), String(c.organisation_id)]));
  const id = organisationOf(emails, byDomain);
  return id === undefined ? undefined : getOrganisation(db, id);
}

export interface CustomerTier {
  readonly customer: CustomerRecord;
  readonly organisation: Organisation | undefined;
  readonly effective: EffectiveTier;
}

/**
 * The tier of the customer `id` resolves to (merge pointers followed), from its own tier and its
 * organisation's. Rewrites the customer's `organisation_id` when the resolution changed it.
 * Undefined: no such customer.
 */
export async function resolveCustomerTier(db: Db, id: string): Promise<CustomerTier | undefined> {
  const graph = await loadCustomers(db, [id]);
  const customer = graph.rootRecord(id);
  if (!customer) return undefined;
  const organisation = customer.erased_at !== undefined ? undefined : await organisationForEmails(db, await verifiedEmailsOf(db, customer.id));
  if ((organisation?.id ?? undefined) !== customer.organisation_id) await cacheOrganisation(db, customer.id, organisation?.id);
  return { customer: { ...customer, ...(organisation ? { organisation_id: organisation.id } : {}) }, organisation, effective: effectiveTier(customer, organisation) };
}

async function cacheOrganisation(db: Db, customerId: string, organisationId: string | undefined): Promise<void> {
  try {
    await db.doc.send(new UpdateCommand({
      TableName: db.tableName, Key: keys.customer(customerId),
      UpdateExpression: organisationId ? 'SET organisation_id = :o' : 'REMOVE organisation_id',
      ConditionExpression: 'attribute_exists(pk)', ...(organisationId ? { ExpressionAttributeValues: { ':o': organisationId } } : {}),
    }));
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The customer's own tier, and the tier on tickets

/**
 * Set (string) or clear (null) the customer's own tier and — when given — contract (1 round trip).
 * Returns the id of the customer changed (merge pointers are followed to the surviving one), or
 * undefined when there is no such (live) customer.
 */
export async function setCustomerTier(db: Db, id: string, change: { tier: string | null; contract?: string | null }): Promise<string | undefined> {
  const graph = await loadCustomers(db, [id]);
  const customer = graph.rootRecord(id);
  if (!customer || customer.erased_at !== undefined) return undefined;
  const sets: string[] = [];
  const removes: string[] = [];
  const values: Record<string, unknown> = {};
  const field = (name: 'tier' | 'contract', v: string | null | undefined) => {
    if (v === undefined) return;
    if (v === null) removes.push(name);
    else { sets.push(`${name} = :${name}`); values[`:${name}`] = v; }
  };
  field('tier', change.tier);
  field('contract', change.contract);
  await db.doc.send(new UpdateCommand({
    TableName: db.tableName, Key: keys.customer(customer.id),
    UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
    ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(merged_into)',
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  }));
  return customer.id;
}

/**
 * Write a tier and contract on one ticket: the attributes, its place in the inbox (a priority tier
 * moves it to the priority partitions, table.ts), and — when `event` is given — a timeline entry
 * and a `ticket.tier_changed` feed event (the SLA reactions re-match the policy on it). Conditional
 * on the ticket not being merged (merged tickets have no inbox place). False when nothing changed
 * or the ticket is gone/merged.
 */
export async function writeTicketTier(db: Db, t: TicketRecord, eff: Pick<EffectiveTier, 'tier' | 'contract'>, event?: { actor: string; now: number; newId: () => string }): Promise<boolean> {
  if ((t.tier ?? null) === eff.tier && (t.contract ?? null) === eff.contract) return false;
  const sets = ['gsi1pk = :g1p'];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ':g1p': indexKeys.inbox(t.updated_at, t.id, eff.tier).gsi1pk, ':merged': 'merged' };
  for (const name of ['tier', 'contract'] as const) {
    if (eff[name] === null) removes.push(name);
    else { sets.push(`${name} = :${name}`); values[`:${name}`] = eff[name]; }
  }
  const update: TxItem = { Update: {
    TableName: db.tableName, Key: keys.ticket(t.id),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: 'attribute_exists(pk) AND #s <> :merged AND attribute_exists(gsi1pk)', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: values,
  } };
  const items: TxItem[] = [update];
  if (event) {
    const data = { tier: eff.tier, contract: eff.contract, previous_tier: t.tier ?? null, previous_contract: t.contract ?? null, actor: event.actor };
    const entry: EventEntry = { type: 'event', id: event.newId(), ticket_id: t.id, at: event.now, event: 'ticket.tier_changed', data };
    items.push(timelineItem(db, entry as EventEntry & Record<string, unknown>));
    items.push(feedItem(db, { id: event.newId(), type: 'ticket.tier_changed', at: event.now, ticket_id: t.id, customer_id: t.customer_id, data }));
  }
  const res = await transact(db, items);
  return res.ok;
}

/**
 * Bring the active tickets of a customer in line with its effective tier (after its tier changed):
 * one transaction per ticket whose tier differs. Returns how many changed.
 */
export async function applyTierToOpenTickets(db: Db, rootId: string, eff: EffectiveTier, event: { actor: string; now: number; newId: () => string }): Promise<number> {
  const tickets = (await queryAll(db, {
    IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :p AND begins_with(gsi3sk, :s)',
    ExpressionAttributeValues: { ':p': indexKeys.customerItems(rootId), ':s': 'TICKET#' },
  })).map((i) => stripKeys<TicketRecord>(i));
  let changed = 0;
  for (const t of tickets.filter((x) => isActive(x.status))) {
    // Read the ticket itself: the index copy may lag behind a touch (its updated_at).
    const fresh = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.ticket(t.id), ConsistentRead: true }));
    if (!fresh.Item) continue;
    if (await writeTicketTier(db, stripKeys<TicketRecord>(fresh.Item), eff, event)) changed += 1;
  }
  return changed;
}

async function queryAll(db: Db, input: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db.doc.send(new QueryCommand({ TableName: db.tableName, ...input, ExclusiveStartKey: start } as never));
    out.push(...((res.Items ?? []) as Array<Record<string, unknown>>));
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

