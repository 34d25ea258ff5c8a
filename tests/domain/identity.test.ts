import { describe, it, expect } from 'vitest';
import {
  attributeKey, claimsOf, decideLink, identityKey, linkReasonOf, lookupOf, mergeIdentity, newlyVerified, normalisePhone, olderFirst, senderAuthenticated, verifiedAttributes,
  type AttributeOwner, type CustomerFacts, type LinkInput, type VerifiedAttribute,
} from '../../functions/domain/identity.js';
import { chooseTickets, earliestSla, mergedLists, resolveRoot, showsIn, ticketMergeRefusal, unmergedLists } from '../../functions/domain/merge.js';
import { CHANNELS } from '../../functions/domain/inbound.js';

const P: VerifiedAttribute = { kind: 'phone', value: '+34600111222' };
const E: VerifiedAttribute = { kind: 'email', value: 'ann@example.com' };
const facts = (id: string, createdAt: number, noAutoMerge: string[] = [], erased = false): CustomerFacts => ({ id, createdAt, erased, noAutoMerge });
const owner = (a: VerifiedAttribute, root: string, channel: 'whatsapp' | 'twilio' | 'telegram' = 'whatsapp'): AttributeOwner => ({ attribute: a, customerId: root, root, channel });

function input(over: Partial<LinkInput>): LinkInput {
  return { channel: 'twilio', storedRoot: null, attributes: [], owners: new Map(), customers: new Map(), claims: [], ...over };
}

describe('verified attributes and claims', () => {
  it('counts only platform-verified phone and e-mail, normalised', () => {
    expect(verifiedAttributes({ external_id: 'x', phone: '+34600111222', phone_verified: true, email: 'Ann@Example.COM', email_verified: true }))
      .toEqual([P, { kind: 'email', value: 'ann@example.com' }]);
    expect(verifiedAttributes({ external_id: 'x', phone: '+34600111222', phone_verified: false, email: 'a@b.c', email_verified: false })).toEqual([]);
  });

  it('needs the index only for verified attributes the stored identity did not already hold', () => {
    const stored = { external_id: '34600111222', phone: '+34600111222', phone_verified: true };
    expect(newlyVerified(stored, mergeIdentity(stored, { external_id: '34600111222', phone: '+34600111222', phone_verified: true }))).toEqual([]);
    expect(newlyVerified(undefined, { external_id: 'v', email: 'ann@example.com', email_verified: true })).toEqual([E]);
    // a verified value is never downgraded by a later unverified claim
    expect(newlyVerified(stored, mergeIdentity(stored, { external_id: '34600111222', phone: '+34999', phone_verified: false }))).toEqual([]);
  });

  it('never downgrades a verified address to a claim when the same value arrives unverified (a spoofed e-mail), nor lets an unauthenticated sender overwrite', () => {
    const stored = { external_id: 'ann@example.com', email: 'ann@example.com', email_verified: true, display_name: 'Ann' };
    const spoofed = { external_id: 'ann@example.com', email: 'ann@example.com', email_verified: false, display_name: 'Mallory', language: 'en' };
    expect(mergeIdentity(stored, spoofed)).toMatchObject({ email: 'ann@example.com', email_verified: true });
    expect(verifiedAttributes(mergeIdentity(stored, spoofed))).toEqual([{ kind: 'email', value: 'ann@example.com' }]);
    // unauthenticated: only fills gaps
    expect(mergeIdentity(stored, spoofed, { authenticated: false })).toEqual({ ...stored, language: 'en' });
    // authenticated: later values win as before
    expect(mergeIdentity(stored, { ...spoofed, email_verified: true }).display_name).toBe('Mallory');
  });

  it('vouches for every platform\'s sender but e-mail, where only a DMARC pass (email_verified) proves the address', () => {
    const id = (v: boolean) => ({ external_id: 'a@b.example', email: 'a@b.example', email_verified: v });
    expect(senderAuthenticated({ channel: 'email', customer_identity: id(true) })).toBe(true);
    expect(senderAuthenticated({ channel: 'email', customer_identity: id(false) })).toBe(false);
    expect(senderAuthenticated({ channel: 'email', customer_identity: { external_id: 'a@b.example' } })).toBe(false);
    expect(senderAuthenticated({ channel: 'webchat', customer_identity: id(false) })).toBe(true);
    expect(senderAuthenticated({ channel: 'telegram', customer_identity: { external_id: '42' } })).toBe(true);
  });

  it('turns a foreign contact card, a phone in the text and unverified attributes into suggestions', () => {
    const s = claimsOf(
      { channel: 'telegram', contact: { phone: '+14155550199', owner_is_sender: false }, phone_in_text: { value: '+14155550177', verified: false } },
      { external_id: '1', email: 'Ann@Example.com', email_verified: false },
    );
    expect(s).toEqual([
      { kind: 'phone', value: '+14155550199', source: 'telegram', reason: 'contact_of_someone_else' },
      { kind: 'phone', value: '+14155550177', source: 'telegram', reason: 'phone_in_text' },
      { kind: 'email', value: 'ann@example.com', source: 'telegram', reason: 'unverified_email' },
    ]);
  });

  it('does not suggest the sender\'s own verified number or their own contact card', () => {
    const identity = { external_id: '1', phone: '+14155550199', phone_verified: true };
    expect(claimsOf({ channel: 'telegram', contact: { phone: '+14155550199', owner_is_sender: true }, phone_in_text: { value: '+14155550199', verified: false } }, identity)).toEqual([]);
  });

  it('normalises phones to E.164 and recognises lookups by phone, e-mail and identity', () => {
    expect(normalisePhone('+34 600 11 12 22')).toBe('+34600111222');
    expect(normalisePhone('34600111222')).toBe('+34600111222');
    expect(lookupOf('+34 600 111 222', CHANNELS)).toEqual({
      identities: [{ channel: 'whatsapp', externalId: '34600111222' }, { channel: 'twilio', externalId: '+34600111222' }, { channel: 'twilio', externalId: 'whatsapp:+34600111222' }],
      verified: [P],
    });
    expect(lookupOf(' Ann@Example.com', CHANNELS)).toEqual({ identities: [{ channel: 'email', externalId: 'ann@example.com' }], verified: [{ kind: 'email', value: 'ann@example.com' }] });
    expect(lookupOf('twilio:whatsapp:+34600111222', CHANNELS)).toEqual({ identities: [{ channel: 'twilio', externalId: 'whatsapp:+34600111222' }], verified: [] });
    expect(lookupOf('hello', CHANNELS)).toBeNull();
  });
});

describe('linking decision', () => {
  it('makes a new customer and claims the attribute when nobody owns it', () => {
    expect(decideLink(input({ attributes: [P] }))).toEqual({ kind: 'new', claim: [P], suggestions: [] });
  });

  it('joins a new identity to the customer owning its verified phone', () => {
    const d = decideLink(input({ attributes: [P], owners: new Map([[attributeKey(P), owner(P, 'A')]]), customers: new Map([['A', facts('A', 1)]]) }));
    expect(d).toMatchObject({ kind: 'join', customerId: 'A', claim: [] });
  });

  it('merges two existing customers sharing a verified attribute, the older one winning', () => {
    const customers = new Map([['A', facts('A', 100)], ['B', facts('B', 50)]]);
    const d = decideLink(input({ storedRoot: 'A', attributes: [P], owners: new Map([[attributeKey(P), owner(P, 'B')]]), customers }));
    expect(d).toMatchObject({ kind: 'merge', winner: 'B', loser: 'A', via: { attribute: P } });
  });

  it('only suggests the match when an agent separated those two customers before', () => {
    const customers = new Map([['A', facts('A', 100, ['B'])], ['B', facts('B', 50)]]);
    const d = decideLink(input({ storedRoot: 'A', attributes: [P], owners: new Map([[attributeKey(P), owner(P, 'B')]]), customers }));
    expect(d).toEqual({ kind: 'existing', customerId: 'A', claim: [], suggestions: [{ kind: 'phone', value: P.value, source: 'twilio', reason: 'verified_match_after_unmerge' }] });
  });

  it('merges the owners first when a new identity\'s phone and e-mail belong to different customers', () => {
    const customers = new Map([['A', facts('A', 10)], ['B', facts('B', 20)]]);
    const d = decideLink(input({ attributes: [E, P], owners: new Map([[attributeKey(P), owner(P, 'A')], [attributeKey(E), owner(E, 'B')]]), customers }));
    expect(d).toMatchObject({ kind: 'merge', winner: 'A', loser: 'B' });
  });

  it('treats an attribute of an erased customer as unowned', () => {
    const d = decideLink(input({ attributes: [P], owners: new Map([[attributeKey(P), owner(P, 'X')]]), customers: new Map([['X', facts('X', 1, [], true)]]) }));
    expect(d).toEqual({ kind: 'new', claim: [P], suggestions: [] });
  });

  it('keeps an identity on its customer when the attribute is its own', () => {
    expect(decideLink(input({ storedRoot: 'A', attributes: [P], owners: new Map([[attributeKey(P), owner(P, 'A')]]), customers: new Map([['A', facts('A', 1)]]) })))
      .toEqual({ kind: 'existing', customerId: 'A', claim: [], suggestions: [] });
  });

  it('orders customers by creation time, then id', () => {
    expect(olderFirst(facts('B', 1), facts('A', 1))[0].id).toBe('A');
    expect(olderFirst(facts('B', 1), facts('A', 2))[0].id).toBe('B');
  });
});

describe('identity attributes, case by case (channels.md §0.7)', () => {
  it('keys an identity by channel and the platform\'s id', () => {
    expect(identityKey('telegram', '42')).toBe('telegram:42');
  });

  it('never erases a stored field with an absent one, and takes a verified value that replaces another verified one', () => {
    expect(mergeIdentity({ external_id: 'x', display_name: 'Ann' }, { external_id: 'x', display_name: undefined })).toEqual({ external_id: 'x', display_name: 'Ann' });
    expect(mergeIdentity(undefined, { external_id: 'x', phone: '+34600111222', phone_verified: true })).toEqual({ external_id: 'x', phone: '+34600111222', phone_verified: true });
    // a platform re-verifying a new number (the customer changed it) moves the verified value
    expect(mergeIdentity({ external_id: 'x', phone: '+34600111222', phone_verified: true }, { external_id: 'x', phone: '+34600999888', phone_verified: true }))
      .toEqual({ external_id: 'x', phone: '+34600999888', phone_verified: true });
    // an unverified value replaces an unverified one
    expect(mergeIdentity({ external_id: 'x', email: 'a@example.com', email_verified: false }, { external_id: 'x', email: 'b@example.com', email_verified: false }))
      .toEqual({ external_id: 'x', email: 'b@example.com', email_verified: false });
    // a verified flag without a stored value restores nothing
    expect(mergeIdentity({ external_id: 'x', email_verified: true }, { external_id: 'x', email: 'b@example.com', email_verified: false }))
      .toEqual({ external_id: 'x', email: 'b@example.com', email_verified: false });
  });

  it('normalises a phone of 4 to 15 digits (E.164\'s limit) and nothing shorter or longer', () => {
    expect(normalisePhone('123')).toBeUndefined();
    expect(normalisePhone('1234')).toBe('+1234');
    expect(normalisePhone('+48 600-100-200')).toBe('+48600100200');
    expect(normalisePhone('+999 123 456 789 012')).toBe('+999123456789012');
    expect(normalisePhone('+999 123 456 789 0123')).toBeUndefined();
    expect(normalisePhone('no digits')).toBeUndefined();
  });

  it('counts a verified e-mail trimmed and lower-cased, and neither a blank one nor a phone that is no number', () => {
    expect(verifiedAttributes({ external_id: 'x', email: '  Ann@Example.COM ', email_verified: true })).toEqual([{ kind: 'email', value: 'ann@example.com' }]);
    expect(verifiedAttributes({ external_id: 'x', email: '   ', email_verified: true, phone: 'abc', phone_verified: true })).toEqual([]);
    expect(verifiedAttributes(undefined)).toEqual([]);
  });

  it('indexes only the attributes that are new: a new verified e-mail next to an old verified phone', () => {
    const stored = { external_id: 'x', phone: '+34600111222', phone_verified: true };
    expect(newlyVerified(stored, { ...stored, email: 'ann@example.com', email_verified: true })).toEqual([E]);
    expect(newlyVerified(stored, { ...stored, phone: '+34600999888' })).toEqual([{ kind: 'phone', value: '+34600999888' }]);
  });

  it('suggests another number than the verified one, e-mails lower-cased, each value once, and nothing for absent or unknown verification', () => {
    const verified = { external_id: 'x', phone: '+34600111222', phone_verified: true };
    expect(claimsOf({ channel: 'whatsapp', phone_in_text: { value: '+48 600 100 200' }, contact: undefined } as never, verified))
      .toEqual([{ kind: 'phone', value: '+48600100200', source: 'whatsapp', reason: 'phone_in_text' }]);
    expect(claimsOf({ channel: 'email', phone_in_text: undefined, contact: undefined } as never, { external_id: 'x', email: 'Ann@Example.com', email_verified: false }))
      .toEqual([{ kind: 'email', value: 'ann@example.com', source: 'email', reason: 'unverified_email' }]);
    // the same number as a foreign contact card and in the text: one suggestion, the first reason
    expect(claimsOf({ channel: 'telegram', phone_in_text: { value: '+48600100200' }, contact: { owner_is_sender: false, phone: '+48 600 100 200' } } as never, { external_id: 'x' }))
      .toEqual([{ kind: 'phone', value: '+48600100200', source: 'telegram', reason: 'contact_of_someone_else' }]);
    // a contact card without a number, nothing in the text, attributes whose verification is not known
    expect(claimsOf({ channel: 'telegram', phone_in_text: undefined, contact: { owner_is_sender: false } } as never, { external_id: 'x', phone: '+48600100200', email: 'a@example.com' })).toEqual([]);
    expect(claimsOf({ channel: 'telegram', phone_in_text: undefined, contact: undefined } as never, { external_id: 'x', phone_verified: false, email_verified: false })).toEqual([]);
  });

  it('logs a link by the kind of attribute that made it', () => {
    expect(linkReasonOf('phone')).toBe('verified_phone');
    expect(linkReasonOf('email')).toBe('verified_email');
  });

  it('orders customers of the same age by id, whichever comes first', () => {
    expect(olderFirst(facts('A', 1), facts('B', 1)).map((f) => f.id)).toEqual(['A', 'B']);
    expect(olderFirst(facts('B', 1), facts('A', 1)).map((f) => f.id)).toEqual(['A', 'B']);
    expect(olderFirst(facts('A', 2), facts('B', 1)).map((f) => f.id)).toEqual(['B', 'A']);
    expect(olderFirst(facts('B', 1), facts('A', 2)).map((f) => f.id)).toEqual(['B', 'A']);
  });

  it('joins a new identity whose phone and e-mail belong to the same customer, without merging it with itself', () => {
    const d = decideLink(input({ attributes: [P, E], owners: new Map([[attributeKey(P), owner(P, 'A')], [attributeKey(E), owner(E, 'A')]]), customers: new Map([['A', facts('A', 1)]]) }));
    expect(d).toEqual({ kind: 'join', customerId: 'A', via: owner(P, 'A'), claim: [], suggestions: [] });
  });

  it('lets the customer with the smaller id win among owners of the same age, in either order of attributes', () => {
    const customers = new Map([['A', facts('A', 1)], ['B', facts('B', 1)]]);
    for (const [pOwner, eOwner] of [['A', 'B'], ['B', 'A']] as const) {
      for (const attributes of [[P, E], [E, P]]) {
        const d = decideLink(input({ attributes, owners: new Map([[attributeKey(P), owner(P, pOwner)], [attributeKey(E), owner(E, eOwner)]]), customers }));
        expect(d, `${pOwner}/${eOwner}`).toMatchObject({ kind: 'merge', winner: 'A', loser: 'B' });
      }
    }
  });

  it('only suggests the match between two owners an agent separated, and joins the older', () => {
    const customers = new Map([['A', facts('A', 1, ['B'])], ['B', facts('B', 2)]]);
    const d = decideLink(input({ attributes: [P, E], owners: new Map([[attributeKey(P), owner(P, 'A')], [attributeKey(E), owner(E, 'B')]]), customers }));
    expect(d).toEqual({ kind: 'join', customerId: 'A', via: owner(P, 'A'), claim: [], suggestions: [{ kind: 'email', value: E.value, source: 'twilio', reason: 'verified_match_after_unmerge' }] });
  });
});

describe('merge representation', () => {
  const t = (id: string, status: 'new' | 'open' | 'resolved' | 'closed' | 'merged' | 'held' | 'deflected', created_at: number, extra: Record<string, unknown> = {}) => ({ id, status, created_at, updated_at: created_at, ...extra });

  it('merges two active tickets into the older one and keeps it current', () => {
    expect(chooseTickets(t('W', 'open', 20), t('L', 'new', 10))).toEqual({ current: 'L', merge: { winner: 'L', loser: 'W' } });
  });

  it('keeps the only active ticket, or the most recently resolved one, current', () => {
    expect(chooseTickets(t('W', 'resolved', 1, { resolved_at: 5 }), t('L', 'open', 2))).toEqual({ current: 'L', merge: null });
    expect(chooseTickets(t('W', 'resolved', 1, { resolved_at: 5 }), t('L', 'resolved', 2, { resolved_at: 9 }))).toEqual({ current: 'L', merge: null });
    expect(chooseTickets(undefined, undefined)).toEqual({ current: null, merge: null });
  });

  it('merges a conversation held for an offered article into the active ticket beside it, whichever is older, so its question reaches an agent', () => {
    expect(chooseTickets(t('W', 'held', 10), t('L', 'open', 20))).toEqual({ current: 'L', merge: { winner: 'L', loser: 'W' } });
    expect(chooseTickets(t('W', 'new', 30), t('L', 'held', 5))).toEqual({ current: 'W', merge: { winner: 'W', loser: 'L' } });
    // Two held: one conversation, the older; held beside a resolved or deflected one stays current and held.
    expect(chooseTickets(t('W', 'held', 30), t('L', 'held', 5))).toEqual({ current: 'L', merge: { winner: 'L', loser: 'W' } });
    expect(chooseTickets(t('W', 'resolved', 1, { resolved_at: 5 }), t('L', 'held', 9))).toEqual({ current: 'L', merge: null });
    expect(chooseTickets(t('W', 'deflected', 1), t('L', 'resolved', 2, { resolved_at: 3 }))).toEqual({ current: 'L', merge: null });
  });

  it('refuses to merge an active ticket into an inactive one, a ticket into itself, and final tickets', () => {
    expect(ticketMergeRefusal(t('A', 'open', 1), t('B', 'resolved', 2))).toMatch(/inactive/);
    expect(ticketMergeRefusal(t('A', 'open', 1), t('A', 'open', 1))).toMatch(/itself/);
    expect(ticketMergeRefusal(t('A', 'closed', 1), t('B', 'open', 2))).toMatch(/closed/);
    expect(ticketMergeRefusal(t('A', 'resolved', 1), t('B', 'open', 2))).toBeNull();
  });

  it('shows merged tickets\' entries in the winner and hides split-off entries until they are merged back', () => {
    const w = { id: 'W', ...mergedLists({ id: 'W' }, { id: 'L', merged_tickets: ['K'], timeline_sources: ['K'] }) };
    expect(w).toEqual({ id: 'W', merged_tickets: ['L', 'K'], timeline_sources: ['L', 'K'] });
    expect(showsIn(w, { ticket_id: 'K' })).toBe(true);
    expect(showsIn(w, { ticket_id: 'W', shown_in: 'S' })).toBe(false);
    const back = { id: 'W', ...mergedLists(w, { id: 'S', timeline_sources: ['W'] }) };
    expect(showsIn(back, { ticket_id: 'W', shown_in: 'S' })).toBe(true);
    expect(unmergedLists(w, { id: 'L', merged_tickets: ['K'] }).merged_tickets).toEqual([]);
  });

  it('keeps the earliest SLA start and due dates of both tickets', () => {
    const win = { first_response_due: 500, next_response_due: null, resolution_due: 900, breached: [], escalation_level: 0, rev: 3, started_at: 400 };
    const lose = { first_response_due: 200, next_response_due: 300, resolution_due: 1000, breached: ['first_response'], escalation_level: 1, started_at: 100 };
    expect(earliestSla(win, lose, 400, 100)).toMatchObject({ first_response_due: 200, next_response_due: 300, resolution_due: 900, breached: ['first_response'], escalation_level: 1, started_at: 100, rev: 4 });
  });

  it('follows merge pointers to the root and stops on cycles', () => {
    const ptr: Record<string, string> = { a: 'b', b: 'c', x: 'y', y: 'x' };
    expect(resolveRoot('a', (id) => ptr[id])).toBe('c');
    expect(['x', 'y']).toContain(resolveRoot('x', (id) => ptr[id]));
  });
});
