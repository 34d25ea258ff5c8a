/**
 * Tiers and organisations on DynamoDB Local (functions/store/organisations.ts): membership by a
 * VERIFIED e-mail domain only, precedence of the customer's own tier, exclusive domain claims,
 * the open tickets following a tier change, and VIP tickets first in the default inbox.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { initialSla } from '../../functions/domain/sla/policy.js';
import { OrganisationInput } from '../../functions/domain/tier.js';
import type { Db } from '../../functions/store/db.js';
import { claimAttributeItem, suggestionItem } from '../../functions/store/identity.js';
import { ticketItem } from '../../functions/store/inbound.js';
import {
  applyTierToOpenTickets, deleteOrganisation, putOrganisation, resolveCustomerTier, setCustomerTier,
} from '../../functions/store/organisations.js';
import { getCustomer, getTicket, listTickets, listTimeline } from '../../functions/store/reads.js';
import type { TicketRecord } from '../../functions/store/records.js';
import { keys } from '../../functions/store/table.js';
import { transact } from '../../functions/store/tickets.js';
import { listInbox } from '../../functions/store/triage.js';
import { freshTable } from '../helpers/ddb.js';
import { allPages } from '../helpers/pages.js';

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
let n = 0;
const ulid = (p: string) => `01${p}${String(++n).padStart(24 - p.length, '0')}`;

describe('customer tiers and organisations (DynamoDB Local)', () => {
  let db: Db;
  const org = (o: Partial<OrganisationInput> & { name: string }) => OrganisationInput.parse(o);

  async function customer(o: { verified?: string[]; claimed?: string[]; tier?: string; contract?: string } = {}): Promise<string> {
    const id = ulid('CST');
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(id), id, created_at: T0, ...(o.tier ? { tier: o.tier } : {}), ...(o.contract ? { contract: o.contract } : {}) } }));
    const items = [
      ...(o.verified ?? []).map((e) => claimAttributeItem(db, { kind: 'email', value: e }, id, 'email', T0)),
      ...(o.claimed ?? []).map((e) => suggestionItem(db, id, { kind: 'email', value: e, source: 'email', reason: 'unverified_sender' } as never, T0)),
    ];
    if (items.length) expect((await transact(db, items)).ok).toBe(true);
    return id;
  }

  const ticket = (customerId: string, i: number, o: Partial<TicketRecord> = {}): TicketRecord => ({
    id: ulid('TKT'), number: `C-${i}`, status: 'open', priority: 'normal', category: null, tags: [], customer_id: customerId, channel: 'email',
    conversation_id: `c${i}`, assignee: null, team: null, sla: initialSla('normal', T0), survey: null, merged_into: null, previous_ticket_id: null,
    created_at: T0, updated_at: T0 + i * 1000, last_inbound_at: T0, last_outbound_at: null, first_response_at: null, resolved_at: null, closed_at: null,
    message_count: 1, ...o,
  });
  const putTickets = async (ts: TicketRecord[]) => {
    for (let i = 0; i < ts.length; i += 25) await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: ts.slice(i, i + 25).map((t) => ({ PutRequest: { Item: ticketItem(t) } })) } }));
  };
  const event = { actor: 'sue', now: T0 + 60_000, newId: () => ulid('EVT') };

  beforeAll(async () => {
    ({ db } = await freshTable('tiers'));
    expect(await putOrganisation(db, { id: 'acme', input: org({ name: 'Acme', domains: ['acme.example'], tier: 'vip', contract: 'acme-gold' }), by: 'sue', now: T0 })).toMatchObject({ status: 'saved', created: true });
  });

  it('makes a customer with a verified e-mail in the domain a member, and caches the organisation on the customer', async () => {
    const id = await customer({ verified: ['olga@acme.example'] });
    expect(await resolveCustomerTier(db, id)).toMatchObject({ organisation: { id: 'acme' }, effective: { tier: 'vip', contract: 'acme-gold', tier_source: 'organisation' } });
    expect((await getCustomer(db, id))?.organisation_id).toBe('acme');
  });

  it('never grants a tier for a merely claimed (unverified) address in the domain', async () => {
    const id = await customer({ claimed: ['mallory@acme.example'], verified: ['mallory@elsewhere.example'] });
    expect(await resolveCustomerTier(db, id)).toMatchObject({ organisation: undefined, effective: { tier: null, contract: null } });
    expect((await getCustomer(db, id))?.organisation_id).toBeUndefined();
  });

  it("keeps the customer's own tier over the organisation's, the organisation's contract still applying", async () => {
    const id = await customer({ verified: ['boss@acme.example'], tier: 'standard' });
    expect((await resolveCustomerTier(db, id))?.effective).toEqual({ tier: 'standard', contract: 'acme-gold', tier_source: 'customer', contract_source: 'organisation' });
  });

  it('counts the verified e-mail of a customer merged into this one', async () => {
    const loser = await customer({ verified: ['merged@acme.example'] });
    const winner = await customer({ verified: ['winner@gmail.example'] });
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customer(loser), id: loser, created_at: T0, merged_into: winner } }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.customerMerge(winner, loser), winner, loser, state: 'merged' } }));
    expect((await resolveCustomerTier(db, loser))?.customer.id).toBe(winner);
    expect((await resolveCustomerTier(db, winner))?.organisation?.id).toBe('acme');
  });

  it('lets one organisation claim a domain; deleting frees it and its members lose the tier', async () => {
    expect(await putOrganisation(db, { id: 'rival', input: org({ name: 'Rival', domains: ['rival.example', 'acme.example'] }), by: 'sue', now: T0 })).toEqual({ status: 'domain_taken', domains: ['acme.example'] });
    expect(await putOrganisation(db, { id: 'beta', input: org({ name: 'Beta', domains: ['beta.example'], tier: 'gold' }), by: 'sue', now: T0 })).toMatchObject({ status: 'saved' });
    expect(await putOrganisation(db, { id: 'beta', input: org({ name: 'Beta', domains: ['beta2.example'] }), expectedVersion: 0, by: 'sue', now: T0 })).toEqual({ status: 'version_mismatch', current: 1 });
    // Dropping a domain frees it for another organisation.
    expect(await putOrganisation(db, { id: 'beta', input: org({ name: 'Beta', domains: ['beta2.example'], tier: 'gold' }), expectedVersion: 1, by: 'sue', now: T0 })).toMatchObject({ status: 'saved', organisation: { version: 2 } });
    expect(await putOrganisation(db, { id: 'gamma', input: org({ name: 'Gamma', domains: ['beta.example'] }), by: 'sue', now: T0 })).toMatchObject({ status: 'saved' });

    const member = await customer({ verified: ['x@beta2.example'] });
    expect((await resolveCustomerTier(db, member))?.effective.tier).toBe('gold');
    expect(await deleteOrganisation(db, 'beta')).toBe(true);
    expect(await deleteOrganisation(db, 'beta')).toBe(false);
    expect((await resolveCustomerTier(db, member))?.effective.tier).toBeNull();
    expect((await getCustomer(db, member))?.organisation_id).toBeUndefined();
  });

  it("moves a customer's active tickets to its new tier (timeline and feed event), leaving resolved ones as they were", async () => {
    const id = await customer();
    const open = ticket(id, 1);
    const done = ticket(id, 2, { status: 'resolved', resolved_at: T0 });
    await putTickets([open, done]);
    expect(await setCustomerTier(db, id, { tier: 'vip', contract: 'own-deal' })).toBe(id);
    const r = await resolveCustomerTier(db, id);
    expect(await applyTierToOpenTickets(db, id, r!.effective, event)).toBe(1);
    expect(await getTicket(db, open.id)).toMatchObject({ tier: 'vip', contract: 'own-deal' });
    expect((await getTicket(db, done.id))?.tier).toBeUndefined();
    expect((await listTimeline(db, open.id)).filter((e) => e.type === 'event').map((e) => (e as { event: string }).event)).toEqual(['ticket.tier_changed']);
    // A second run changes nothing; clearing the tier clears it on the ticket.
    expect(await applyTierToOpenTickets(db, id, r!.effective, event)).toBe(0);
    await setCustomerTier(db, id, { tier: null, contract: null });
    expect(await applyTierToOpenTickets(db, id, (await resolveCustomerTier(db, id))!.effective, event)).toBe(1);
    const cleared = await getTicket(db, open.id);
    expect([cleared?.tier, cleared?.contract]).toEqual([undefined, undefined]);
  });
});

describe('VIP tickets first in the default inbox (DynamoDB Local)', () => {
  let db: Db;
  const tickets: TicketRecord[] = Array.from({ length: 60 }, (_, i) => ({
    id: `01VIP${String(i).padStart(21, '0')}`, number: `C-${i}`, status: i % 9 === 0 ? 'resolved' : 'open', priority: 'normal', category: null, tags: [],
    customer_id: `01CST${String(i % 5).padStart(21, '0')}`, channel: 'telegram', conversation_id: `c${i}`, assignee: null, team: null,
    sla: initialSla('normal', T0), survey: null, merged_into: null, previous_ticket_id: null, created_at: T0, updated_at: T0 + ((i * 7919) % 600) * 1000,
    last_inbound_at: T0, last_outbound_at: null, first_response_at: null, resolved_at: null, closed_at: null, message_count: 1,
    ...(i % 4 === 0 ? { tier: 'vip' } : i % 4 === 1 ? { tier: 'standard' } : {}),
  }));
  const byActivityDesc = (a: TicketRecord, b: TicketRecord) => b.updated_at - a.updated_at || (a.id < b.id ? 1 : -1);
  const expected = [...tickets.filter((t) => t.tier === 'vip').sort(byActivityDesc), ...tickets.filter((t) => t.tier !== 'vip').sort(byActivityDesc)].map((t) => t.id);

  beforeAll(async () => {
    ({ db } = await freshTable('tiers-inbox'));
    for (let i = 0; i < tickets.length; i += 25) await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: tickets.slice(i, i + 25).map((t) => ({ PutRequest: { Item: ticketItem(t) } })) } }));
  });

  it('pages VIP tickets first (newest first), then the others, each ticket once', async () => {
    const seen = await allPages((cursor) => listInbox(db, {}, { limit: 7, ...(cursor ? { cursor } : {}) }));
    expect(seen).toEqual(expected);
  });

  it('does the same in the plain ticket list, and keeps a single status in activity order', async () => {
    const seen = await allPages((cursor) => listTickets(db, { limit: 9, ...(cursor ? { cursor } : {}) }));
    expect(seen).toEqual(expected);
    const open = (await listInbox(db, { status: ['open'] }, { limit: 100 })).items.map((t) => t.id);
    expect(open).toEqual(tickets.filter((t) => t.status === 'open').sort(byActivityDesc).map((t) => t.id));
  });
});
