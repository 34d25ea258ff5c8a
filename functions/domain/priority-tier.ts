/**
 * Which customer tiers sort first in the default inbox (issue 15; the index layout is in
 * functions/store/table.ts). Kept apart from functions/domain/tier.ts, which validates tiers with
 * zod: the table's key builders are imported by the public functions (ingest, webchat-api), whose
 * bundles carry zod/mini only (tests/infra/bundle-budgets.test.ts).
 */

/** Tiers whose tickets sort first in the default inbox. */
export const PRIORITY_TIERS: readonly string[] = ['vip'];

export const isPriorityTier = (tier: string | null | undefined): boolean => typeof tier === 'string' && PRIORITY_TIERS.includes(tier);
