/** Identity attributes (channels.md §0.7), pure. */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Channel, Identity, InboundMessage } from './inbound.js';

export const identityKey = (channel: string, externalId: string) => `${channel}:${externalId}`;

/**
 * Upsert: a later event lacking a field never erases a stored value, and a verified value is
 * never downgraded by a later unverified claim of the attribute — neither replaced by another
 * value nor, for the same value, marked unverified (a spoofed e-mail from a verified address
 * would otherwise turn the address into a mere claim). An event whose sender is not
 * authenticated (`senderAuthenticated` false) only fills fields the identity does not have yet:
 * it may not rename the customer either.
 */
export function mergeIdentity(stored: Partial<Identity> | undefined, seen: Identity, opts: { readonly authenticated?: boolean } = {}): Identity {
  const out: Record<string, unknown> = { ...(stored ?? {}) };
  for (const [k, v] of Object.entries(seen)) {
    if (v === undefined) continue;
    if (opts.authenticated === false && out[k] !== undefined) continue;
    out[k] = v;
  }
  for (const attr of ['phone', 'email'] as const) {
    const flag = `${attr}_verified` as const;
    if (stored?.[attr] !== undefined && stored[flag] === true && seen[flag] !== true) {
      out[attr] = stored[attr];
      out[flag] = true;
    }
  }
  return out as Identity;
}

/**
 * Whether the platform vouches for the sender of `msg`. Webhooks are signed by the platform that
 * knows its user, so a message is from who it says — except e-mail, where anyone can write any
 * `From:` and only a DMARC pass of SES's receipt proves the address (channels.md §8; the adapter
 * sets `email_verified` from it). Unauthenticated mail is marked on the timeline and may not act
 * as the customer: it answers no survey and reopens no ticket (functions/handlers/process.ts).
 */
export function senderAuthenticated(msg: Pick<InboundMessage, 'channel' | 'customer_identity'>): boolean {
  return msg.channel !== 'email' || msg.customer_identity.email_verified === true;
}

export function displayNameOf(identity: Partial<Identity>): string | undefined {
  return identity.display_name ?? identity.username ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// Verified attributes, claims and the linking decision (DESIGN.md §2 Identity, channels.md §0.7)

export type AttributeKind = 'phone' | 'email';
/** A platform-verified phone (E.164) or e-mail (lower-cased): the only thing that links customers automatically. */
export interface VerifiedAttribute { readonly kind: AttributeKind; readonly value: string }

export const normaliseEmail = (s: string): string => s.trim().toLowerCase();

/** E.164 of a phone given in any international form (`+48 600…`, `48600…`); undefined when not a number. */
export function normalisePhone(raw: string): string | undefined {
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 4 || digits.length > 15) return undefined;
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const e164 = parsed?.number ?? `+${digits}`;
  return /^\+\d{4,15}$/.test(e164) ? e164 : undefined;
}

export const attributeKey = (a: VerifiedAttribute): string => `${a.kind}#${a.value}`;
const sameAttribute = (a: VerifiedAttribute, b: VerifiedAttribute) => a.kind === b.kind && a.value === b.value;

/** The verified attributes an identity carries, normalised. */
export function verifiedAttributes(i: Partial<Identity> | undefined): VerifiedAttribute[] {
  const out: VerifiedAttribute[] = [];
  if (i?.phone !== undefined && i.phone_verified === true) {
    const v = normalisePhone(i.phone);
    if (v) out.push({ kind: 'phone', value: v });
  }
  if (i?.email !== undefined && i.email_verified === true && i.email.trim() !== '') out.push({ kind: 'email', value: normaliseEmail(i.email) });
  return out;
}

/**
 * Verified attributes of the identity after this event that the stored identity did not already
 * hold as verified: only these need the verified-attribute index (an attribute already held was
 * indexed for this customer when it first arrived).
 */
export function newlyVerified(stored: Partial<Identity> | undefined, merged: Partial<Identity>): VerifiedAttribute[] {
  const before = verifiedAttributes(stored);
  return verifiedAttributes(merged).filter((a) => !before.some((b) => sameAttribute(a, b)));
}

export const SUGGESTION_REASONS = [
  'phone_in_text', 'contact_of_someone_else', 'unverified_phone', 'unverified_email', 'verified_match_after_unmerge',
] as const;
export type SuggestionReason = (typeof SUGGESTION_REASONS)[number];

/** A claim shown on the customer card as a merge suggestion; never merges by itself. */
export interface Suggestion {
  readonly kind: AttributeKind;
  readonly value: string;
  /** Channel the claim came from. */
  readonly source: Channel;
  readonly reason: SuggestionReason;
}

/**
 * The claims an inbound message carries (channels.md §0.7 "Verified vs claimed"): a phone typed in
 * the text, somebody else's contact card, and unverified phone / e-mail on the identity. Values
 * equal to a verified attribute of the same identity are not suggested (they prove nothing new).
 */
export function claimsOf(msg: Pick<InboundMessage, 'channel' | 'phone_in_text' | 'contact'>, identity: Partial<Identity>): Suggestion[] {
  const verified = verifiedAttributes(identity);
  const out: Suggestion[] = [];
  const add = (kind: AttributeKind, raw: string | undefined, reason: SuggestionReason) => {
    if (raw === undefined) return;
    const value = kind === 'phone' ? normalisePhone(raw) : normaliseEmail(raw);
    if (!value || verified.some((v) => v.kind === kind && v.value === value)) return;
    if (out.some((s) => s.kind === kind && s.value === value)) return;
    out.push({ kind, value, source: msg.channel, reason });
  };
  if (msg.contact && !msg.contact.owner_is_sender) add('phone', msg.contact.phone, 'contact_of_someone_else');
  if (msg.phone_in_text) add('phone', msg.phone_in_text.value, 'phone_in_text');
  if (identity.phone !== undefined && identity.phone_verified === false) add('phone', identity.phone, 'unverified_phone');
  if (identity.email !== undefined && identity.email_verified === false) add('email', identity.email, 'unverified_email');
  return out;
}

/** What the linking decision needs to know about a customer (the root of its merge pointers). */
export interface CustomerFacts {
  readonly id: string;
  readonly createdAt: number;
  readonly erased: boolean;
  /** Customers an agent separated from this one (unmerge): never merged with it automatically again. */
  readonly noAutoMerge: readonly string[];
}

/** The customer a verified attribute is indexed to. */
export interface AttributeOwner {
  readonly attribute: VerifiedAttribute;
  /** Customer the index item names (may have been merged away since). */
  readonly customerId: string;
  /** That customer's root (after following merge pointers). */
  readonly root: string;
  /** Channel of the identity that first brought the attribute. */
  readonly channel: Channel;
}

/** Why customers were linked: the merge log's words. */
export type LinkReason = 'verified_phone' | 'verified_email';
export const linkReasonOf = (kind: AttributeKind): LinkReason => (kind === 'phone' ? 'verified_phone' : 'verified_email');

export type LinkDecision =
  /** A brand-new customer (no stored identity, no verified attribute owned by anyone). */
  | { readonly kind: 'new'; readonly claim: readonly VerifiedAttribute[]; readonly suggestions: readonly Suggestion[] }
  /** The stored identity's customer. */
  | { readonly kind: 'existing'; readonly customerId: string; readonly claim: readonly VerifiedAttribute[]; readonly suggestions: readonly Suggestion[] }
  /** A new identity joins the customer that owns one of its verified attributes. */
  | { readonly kind: 'join'; readonly customerId: string; readonly via: AttributeOwner; readonly claim: readonly VerifiedAttribute[]; readonly suggestions: readonly Suggestion[] }
  /** Two customers share a verified attribute: merge them first (older wins), then decide again. */
  | { readonly kind: 'merge'; readonly winner: string; readonly loser: string; readonly via: AttributeOwner };

export interface LinkInput {
  readonly channel: Channel;
  /** Root customer of the stored identity; null for a new identity (or one whose customer was erased). */
  readonly storedRoot: string | null;
  /** `newlyVerified(stored, merged)`. */
  readonly attributes: readonly VerifiedAttribute[];
  /** Index owners of those attributes, by `attributeKey`. */
  readonly owners: ReadonlyMap<string, AttributeOwner>;
  /** Facts of every root customer named above. */
  readonly customers: ReadonlyMap<string, CustomerFacts>;
  /** Claims of the message (claimsOf). */
  readonly claims: readonly Suggestion[];
}

/** Older customer first (created_at, then id): the older one survives a merge. */
export function olderFirst(a: CustomerFacts, b: CustomerFacts): [CustomerFacts, CustomerFacts] {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? [a, b] : [b, a];
  return a.id <= b.id ? [a, b] : [b, a];
}

function blocked(a: CustomerFacts | undefined, b: CustomerFacts | undefined): boolean {
  if (!a || !b) return false;
  return a.noAutoMerge.includes(b.id) || b.noAutoMerge.includes(a.id);
}

/**
 * Who is this? Verified attributes link automatically: a new identity joins the customer owning
 * one of them; an existing identity of another customer means the two customers are one person,
 * so they merge (older wins) — unless an agent separated exactly those two, in which case the
 * match is only a suggestion. Attributes nobody owns yet are claimed for the customer (index).
 * Erased customers own nothing.
 */
export function decideLink(input: LinkInput): LinkDecision {
  const suggestions: Suggestion[] = [...input.claims];
  const claim: VerifiedAttribute[] = [];
  const foreign: AttributeOwner[] = [];
  for (const a of input.attributes) {
    const owner = input.owners.get(attributeKey(a));
    const ownerFacts = owner ? input.customers.get(owner.root) : undefined;
    if (!owner || !ownerFacts || ownerFacts.erased) { claim.push(a); continue; }
    if (owner.root !== input.storedRoot) foreign.push(owner);
  }
  const facts = (id: string) => input.customers.get(id);
  const matchSuggestion = (o: AttributeOwner): Suggestion => ({ kind: o.attribute.kind, value: o.attribute.value, source: input.channel, reason: 'verified_match_after_unmerge' });

  if (input.storedRoot !== null) {
    const self = facts(input.storedRoot);
    for (const o of foreign) {
      const other = facts(o.root)!;
      if (!self || blocked(self, other)) { suggestions.push(matchSuggestion(o)); continue; }
      const [winner, loser] = olderFirst(self, other);
      return { kind: 'merge', winner: winner.id, loser: loser.id, via: o };
    }
    return { kind: 'existing', customerId: input.storedRoot, claim, suggestions };
  }

  if (foreign.length === 0) return { kind: 'new', claim, suggestions };
  // The oldest owner is the one the new identity joins; other owners are the same person too.
  const byAge = [...foreign].sort((x, y) => {
    const fx = facts(x.root)!;
    const fy = facts(y.root)!;
    return fx.createdAt - fy.createdAt || (fx.id < fy.id ? -1 : fx.id > fy.id ? 1 : 0);
  });
  const target = byAge[0]!;
  for (const o of byAge.slice(1)) {
    if (o.root === target.root) continue;
    if (blocked(facts(target.root), facts(o.root))) { suggestions.push(matchSuggestion(o)); continue; }
    return { kind: 'merge', winner: target.root, loser: o.root, via: o };
  }
  return { kind: 'join', customerId: target.root, via: target, claim, suggestions };
}

/**
 * What `GET /customers?q=` looks for: an identity `<channel>:<external_id>`, a verified e-mail
 * (and the e-mail identity of that address), or a phone in E.164 (verified index, and the
 * identities whose external id is the number: WhatsApp digits, Twilio SMS and WhatsApp).
 */
export interface CustomerLookup {
  readonly identities: ReadonlyArray<{ readonly channel: string; readonly externalId: string }>;
  readonly verified: readonly VerifiedAttribute[];
}

export function lookupOf(q: string, channels: readonly string[]): CustomerLookup | null {
  const s = q.trim();
  if (s === '') return null;
  const m = /^([a-z]+):(.+)$/.exec(s);
  if (m && channels.includes(m[1]!)) return { identities: [{ channel: m[1]!, externalId: m[2]! }], verified: [] };
  if (s.includes('@')) {
    const email = normaliseEmail(s);
    return { identities: [{ channel: 'email', externalId: email }], verified: [{ kind: 'email', value: email }] };
  }
  if (/^[+\d][\d\s().-]*$/.test(s)) {
    const phone = normalisePhone(s);
    if (!phone) return null;
    return {
      identities: [
        { channel: 'whatsapp', externalId: phone.slice(1) },
        { channel: 'twilio', externalId: phone },
        { channel: 'twilio', externalId: `whatsapp:${phone}` },
      ],
      verified: [{ kind: 'phone', value: phone }],
    };
  }
  return null;
}
