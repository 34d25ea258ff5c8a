/** Tiers, contracts and organisations, pure (functions/domain/tier.ts) and how SLA policies match them. */
import { describe, expect, it } from 'vitest';
import { domainOf, effectiveTier, isPriorityTier, OrganisationInput, organisationOf } from '../../functions/domain/tier.js';
import { matchPolicy, parseSlaSettings, policySubject } from '../../functions/domain/sla/policy.js';

describe('effective tier precedence', () => {
  it("takes the customer's own tier over the organisation's, and its own contract over the organisation's, field by field", () => {
    expect(effectiveTier({ tier: 'standard' }, { tier: 'vip', contract: 'gold' })).toEqual({ tier: 'standard', contract: 'gold', tier_source: 'customer', contract_source: 'organisation' });
    expect(effectiveTier({ contract: 'silver' }, { tier: 'vip', contract: 'gold' })).toEqual({ tier: 'vip', contract: 'silver', tier_source: 'organisation', contract_source: 'customer' });
    expect(effectiveTier({ tier: 'vip', contract: 'own' }, undefined)).toEqual({ tier: 'vip', contract: 'own', tier_source: 'customer', contract_source: 'customer' });
    expect(effectiveTier({}, { tier: null, contract: null })).toEqual({ tier: null, contract: null, tier_source: null, contract_source: null });
  });

  it('knows only vip as a priority tier', () => {
    expect([isPriorityTier('vip'), isPriorityTier('standard'), isPriorityTier(null), isPriorityTier(undefined)]).toEqual([true, false, false, false]);
  });
});

describe('organisation by e-mail domain', () => {
  it('finds the domain after the last @', () => {
    expect(domainOf('a@b@Shop.Example')).toBe('shop.example');
    expect(domainOf('nobody')).toBeUndefined();
    expect(domainOf('trailing@')).toBeUndefined();
  });

  it('picks the organisation claiming a domain of the addresses, the smallest id when several do', () => {
    const claims = new Map([['acme.example', 'acme'], ['beta.example', 'beta']]);
    expect(organisationOf(['x@gmail.example', 'y@beta.example', 'z@acme.example'], claims)).toBe('acme');
    expect(organisationOf(['x@gmail.example'], claims)).toBeUndefined();
  });

  it('lower-cases and de-duplicates domains, refuses addresses and wildcards', () => {
    expect(OrganisationInput.parse({ name: 'Acme', domains: ['Acme.Example', 'acme.example'] })).toEqual({ name: 'Acme', domains: ['acme.example'], tier: null, contract: null });
    expect(OrganisationInput.safeParse({ name: 'Acme', domains: ['a@acme.example'] }).success).toBe(false);
    expect(OrganisationInput.safeParse({ name: 'Acme', domains: ['*.acme.example'] }).success).toBe(false);
    expect(OrganisationInput.safeParse({ name: 'Acme', tier: 'VIP' }).success).toBe(false);
  });
});

describe('SLA policies matching tier and contract', () => {
  const settings = parseSlaSettings({
    calendars: [{ id: 'gold-hours', time_zone: 'Europe/Warsaw', week: { mon: ['08:00-20:00'] } }],
    policies: [
      { id: 'gold', match: { contract: ['gold'] }, calendar: 'gold-hours', targets: { first_response_minutes: 15, next_response_minutes: 60, resolution_minutes: 480 } },
      { id: 'vip-urgent', match: { tier: ['vip'], priority: ['urgent'] }, targets: { first_response_minutes: 5, next_response_minutes: 30, resolution_minutes: 120 } },
      { id: 'vip', match: { tier: ['vip'] }, targets: { first_response_minutes: 30, next_response_minutes: 120, resolution_minutes: 960 } },
      { id: 'rest', targets: { first_response_minutes: 240, next_response_minutes: 480, resolution_minutes: 2880 } },
    ],
  });
  const t = (o: { tier?: string | null; contract?: string | null; priority?: 'normal' | 'urgent' }) =>
    matchPolicy(settings.policies, policySubject({ priority: o.priority ?? 'normal', channel: 'email', category: null, tier: o.tier ?? null, contract: o.contract ?? null })).id;

  it('takes the first policy whose tier and contract lists accept the ticket', () => {
    expect(t({ tier: 'vip', contract: 'gold' })).toBe('gold');
    expect(t({ contract: 'gold' })).toBe('gold');
    expect(t({ tier: 'vip', priority: 'urgent' })).toBe('vip-urgent');
    expect(t({ tier: 'vip' })).toBe('vip');
    expect(t({ tier: 'standard' })).toBe('rest');
    expect(t({})).toBe('rest');
  });

  it('refuses tier codes that are not lowercase codes', () => {
    expect(() => parseSlaSettings({ policies: [{ id: 'x', match: { tier: ['VIP'] }, targets: { first_response_minutes: 1, next_response_minutes: 1, resolution_minutes: 1 } }] })).toThrow(/tier must be a lowercase code/);
  });
});
