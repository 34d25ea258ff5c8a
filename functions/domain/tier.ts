/**
 * Customer tiers, contracts and organisations (issue 15, seed 002), pure.
 *
 * - A tier is a lowercase code (`vip`, `standard`, …) on a customer or an organisation; absent =
 *   no tier. Tiers in `PRIORITY_TIERS` sort first in the default inbox (functions/store/table.ts).
 * - A contract is a code naming an agreement; it has no record of its own: SLA policies match it
 *   (`match.contract`, like `match.tier`, priority and channel — first match wins), and the
 *   matched policy brings its own business calendar and targets (functions/domain/sla/policy.ts).
 * - An organisation has e-mail domains; a customer is a member when one of their VERIFIED e-mail
 *   addresses (a `VATTR#email#…` item: DMARC pass or a platform that vouches for it) is in one of
 *   those domains. Claimed, unverified addresses (suggestions, a spoofed `From:`) never count.
 *
 * Precedence, field by field: the customer's own tier wins over the organisation's, and the
 * customer's own contract over the organisation's (`effectiveTier`).
 */
import { z } from 'zod';

/** Tiers whose tickets sort first in the default inbox. */
export const PRIORITY_TIERS: readonly string[] = ['vip'];

export const isPriorityTier = (tier: string | null | undefined): boolean => typeof tier === 'string' && PRIORITY_TIERS.includes(tier);

export const TierCode = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'tier must be a lowercase code of 1-32 letters, digits, _ or - (e.g. vip, standard)');
export const ContractCode = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'contract must be 1-64 letters, digits, _ . -');

/** A domain as found after the `@` of a lower-cased e-mail address. */
export const EmailDomain = z.string().trim().toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'organisation domains must be host names such as example.com (no @, no wildcard)');

export const OrganisationInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  // ≤ 40: a save claims its domains and frees dropped ones in one transaction (≤ 100 items).
  domains: z.array(EmailDomain).max(40).default([]).transform((d) => [...new Set(d)]),
  tier: TierCode.nullable().default(null),
  contract: ContractCode.nullable().default(null),
});
export type OrganisationInput = z.output<typeof OrganisationInput>;

export interface Organisation extends OrganisationInput {
  readonly id: string;
  readonly version: number;
  readonly updated_at: number;
  readonly updated_by: string;
}

/** What a customer carries of its own. */
export interface OwnTier { readonly tier?: string | null | undefined; readonly contract?: string | null | undefined }

export interface EffectiveTier {
  readonly tier: string | null;
  readonly contract: string | null;
  /** Where each came from. */
  readonly tier_source: 'customer' | 'organisation' | null;
  readonly contract_source: 'customer' | 'organisation' | null;
}

/** The customer's own tier/contract win over the organisation's, each on its own. */
export function effectiveTier(customer: OwnTier, organisation: OwnTier | undefined): EffectiveTier {
  const pick = (own: string | null | undefined, org: string | null | undefined) =>
    own ? { v: own, s: 'customer' as const } : org ? { v: org, s: 'organisation' as const } : { v: null, s: null };
  const t = pick(customer.tier, organisation?.tier);
  const c = pick(customer.contract, organisation?.contract);
  return { tier: t.v, contract: c.v, tier_source: t.s, contract_source: c.s };
}

/** The domain of a (lower-cased) e-mail address; undefined when there is none. */
export function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1) return undefined;
  return email.slice(at + 1).trim().toLowerCase();
}

/**
 * The organisation of a customer from the domains of their verified e-mails and the domain claims
 * (domain → organisation id). Several organisations: the smallest id (stable, deterministic).
 */
export function organisationOf(verifiedEmails: readonly string[], claims: ReadonlyMap<string, string>): string | undefined {
  const ids = verifiedEmails.map(domainOf).filter((d): d is string => d !== undefined).map((d) => claims.get(d)).filter((x): x is string => x !== undefined);
  return ids.sort()[0];
}
