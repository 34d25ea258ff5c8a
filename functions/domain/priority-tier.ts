/**
 * Which customer tiers sort first in the default inbox (functions/domain/tier.ts has the rest of
 * tiers). A module of its own, without zod: functions/store/table.ts needs it for every ticket's
 * index keys, and the public entry points (ingest, webchat-api, survey-link) that import the table
 * keys must not carry zod's classic API (~450 KB bundled; their budgets in
 * tests/helpers/function-bundles.ts hold only zod/mini).
 */

/** Tiers whose tickets sort first in the default inbox. */
export const PRIORITY_TIERS: readonly string[] = ['vip'];

export const isPriorityTier = (tier: string | null | undefined): boolean => typeof tier === 'string' && PRIORITY_TIERS.includes(tier);
