/**
 * Which tiers sort first in the default inbox (functions/domain/tier.ts has the rest of tiers).
 * A module of its own, without zod: functions/store/table.ts reads it to build index keys, and
 * every function — the public entry points too — imports table.ts, so tier.ts's full-zod schemas
 * would otherwise ride into every bundle (README "Entry points").
 */

/** Tiers whose tickets sort first in the default inbox. */
export const PRIORITY_TIERS: readonly string[] = ['vip'];

export const isPriorityTier = (tier: string | null | undefined): boolean => typeof tier === 'string' && PRIORITY_TIERS.includes(tier);
