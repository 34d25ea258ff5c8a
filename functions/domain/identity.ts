/** Identity attributes (channels.md §0.7), pure. */
import type { Identity } from './inbound.js';

export const identityKey = (channel: string, externalId: string) => `${channel}:${externalId}`;

/**
 * Upsert: a later event lacking a field never erases a stored value, and a verified value is
 * never downgraded by a later unverified claim of the same attribute.
 */
export function mergeIdentity(stored: Partial<Identity> | undefined, seen: Identity): Identity {
  const out: Record<string, unknown> = { ...(stored ?? {}) };
  for (const [k, v] of Object.entries(seen)) {
    if (v === undefined) continue;
    out[k] = v;
  }
  for (const attr of ['phone', 'email'] as const) {
    const flag = `${attr}_verified` as const;
    if (stored?.[attr] !== undefined && stored[flag] === true && seen[flag] === false && seen[attr] !== stored[attr]) {
      out[attr] = stored[attr];
      out[flag] = true;
    }
  }
  return out as Identity;
}

export function displayNameOf(identity: Partial<Identity>): string | undefined {
  return identity.display_name ?? identity.username ?? undefined;
}
