/**
 * The single table: its physical shape and every key. Each access pattern is named once here;
 * repositories use these builders and nothing else builds a key.
 *
 * | item              | pk                              | sk                         | gsi1 (inbox by activity) | gsi2 (by status)        | gsi3 (by customer)        |
 * |-------------------|---------------------------------|----------------------------|--------------------------|-------------------------|---------------------------|
 * | customer          | CUST#<id>                       | PROFILE                    |                          |                         |                           |
 * | identity          | IDENT#<channel>:<external_id>   | IDENT                      |                          |                         | CUST#<id> / IDENT#…       |
 * | ticket            | TICKET#<id>                     | TICKET                     | TICKETS / <activity>#<id>| STATUS#<s> / <activity>#| CUST#<id> / TICKET#<created>
 * | ticket number     | TNUM#<number>                   | TNUM                       |                          |                         |                           |
 * | timeline entry    | TICKET#<id>                     | TL#<at ms>#<entry id>      |                          |                         |                           |
 * | message reference | MREF#<channel>#<ext msg id>     | MREF                       |                          |                         |                           |
 * | dedupe marker     | DEDUP#<channel>#<dedup key>     | DEDUP  (ttl)               |                          |                         |                           |
 * | counter           | COUNTER#<name>                  | COUNTER                    |                          |                         |                           |
 * | change feed event | FEED#<yyyy-mm-dd>               | <at ms>#<event id>         |                          |                         |                           |
 * | verified attribute| VATTR#<phone|email>#<value>     | VATTR                      |                          |                         | CUST#<id> / VATTR#…       |
 * | suggestion        | CUST#<id>                       | SUGG#<phone|email>#<value> |                          |                         |                           |
 * | customer log      | CUST#<id>                       | LOG#<at ms>#<entry id>     |                          |                         |                           |
 * | customer merge    | CUST#<winner id>                | MERGE#<loser id>           |                          |                         |                           |
 * | erasure job       | CUST#<root id>                  | ERASURE                    |                          |                         |                           |
 * | rate counter      | RATE#<scope>#<client>#<window>  | RATE   (ttl)               |                          |                         |                           |
 * | web-chat revoked  | WEBCHAT#<sid>                   | REVOKED  (ttl)             |                          |                         |                           |
 *
 * Verified attribute: a platform-verified phone (E.164) or e-mail (lower-cased) → the customer that
 * owns it (written in the same transaction as the identity that brought it; conditional, so two
 * customers can never both claim one). Suggestion: a claim on the card (idempotent put). Customer
 * log: the merge log of the card (links, merges, unmerges, erase; channels, never values).
 * Customer merge: one per (winner, loser) pair — the merge's intended final state and its progress
 * (`state`), so a retry completes it and an unmerge knows what to restore. Web-chat revoked: a
 * widget session an agent ended (no renewal, no reading); it expires once no token of the session
 * could be renewed any more. Rate counter: the requests of one client network in one fixed window
 * (functions/store/rate-limit.ts); the client is a keyed hash, never an address, and the item
 * expires with its window. Erasure job: a GDPR erasure's progress (functions/store/erasure.ts).
 * One query of `CUST#<id>` returns the profile, suggestions, log and merges of a customer.
 *
 * Merged tickets drop their gsi1 keys (sparse index), so the default inbox never lists them.
 * The table has a stream (NEW_IMAGE): feed events drive workflows and acknowledgements.
 */
import type { Channel } from '../domain/inbound.js';

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  indexes: [
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
} as const;

/** Zero-padded epoch ms so lexical order equals time order. */
export const sortableMs = (ms: number) => String(Math.max(0, Math.trunc(ms))).padStart(15, '0');

export const keys = {
  customer: (id: string) => ({ pk: `CUST#${id}`, sk: 'PROFILE' }),
  identity: (channel: Channel | string, externalId: string) => ({ pk: `IDENT#${channel}:${externalId}`, sk: 'IDENT' }),
  ticket: (id: string) => ({ pk: `TICKET#${id}`, sk: 'TICKET' }),
  ticketNumber: (number: string) => ({ pk: `TNUM#${number}`, sk: 'TNUM' }),
  timelineEntry: (ticketId: string, atMs: number, entryId: string) => ({ pk: `TICKET#${ticketId}`, sk: `TL#${sortableMs(atMs)}#${entryId}` }),
  timelinePrefix: (ticketId: string) => ({ pk: `TICKET#${ticketId}`, skPrefix: 'TL#' }),
  messageRef: (channel: Channel | string, externalMessageId: string) => ({ pk: `MREF#${channel}#${externalMessageId}`, sk: 'MREF' }),
  dedupe: (channel: Channel | string, dedupKey: string) => ({ pk: `DEDUP#${channel}#${dedupKey}`, sk: 'DEDUP' }),
  counter: (name: string) => ({ pk: `COUNTER#${name}`, sk: 'COUNTER' }),
  feedEvent: (atMs: number, eventId: string) => ({ pk: `FEED#${new Date(atMs).toISOString().slice(0, 10)}`, sk: `${sortableMs(atMs)}#${eventId}` }),
  feedDay: (atMs: number) => `FEED#${new Date(atMs).toISOString().slice(0, 10)}`,
  verifiedAttribute: (kind: string, value: string) => ({ pk: `VATTR#${kind}#${value}`, sk: 'VATTR' }),
  suggestion: (customerId: string, kind: string, value: string) => ({ pk: `CUST#${customerId}`, sk: `SUGG#${kind}#${value}` }),
  customerLog: (customerId: string, atMs: number, entryId: string) => ({ pk: `CUST#${customerId}`, sk: `LOG#${sortableMs(atMs)}#${entryId}` }),
  customerMerge: (winnerId: string, loserId: string) => ({ pk: `CUST#${winnerId}`, sk: `MERGE#${loserId}` }),
  erasureJob: (customerId: string) => ({ pk: `CUST#${customerId}`, sk: 'ERASURE' }),
  rateCounter: (scope: string, client: string, windowStartMs: number) => ({ pk: `RATE#${scope}#${client}#${sortableMs(windowStartMs)}`, sk: 'RATE' }),
  webchatRevoked: (sid: string) => ({ pk: `WEBCHAT#${sid}`, sk: 'REVOKED' }),
  /** Everything in a customer's partition: profile, suggestions, log, merges. */
  customerPartition: (customerId: string) => `CUST#${customerId}`,
} as const;

export const indexKeys = {
  inbox: (activityMs: number, ticketId: string) => ({ gsi1pk: 'TICKETS', gsi1sk: `${sortableMs(activityMs)}#${ticketId}` }),
  byStatus: (status: string, activityMs: number, ticketId: string) => ({ gsi2pk: `STATUS#${status}`, gsi2sk: `${sortableMs(activityMs)}#${ticketId}` }),
  customerTicket: (customerId: string, createdMs: number, ticketId: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `TICKET#${sortableMs(createdMs)}#${ticketId}` }),
  customerIdentity: (customerId: string, channel: string, externalId: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `IDENT#${channel}:${externalId}` }),
  customerAttribute: (customerId: string, kind: string, value: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `VATTR#${kind}#${value}` }),
  /** gsi3 partition of a customer (identities, tickets, verified attributes). */
  customerItems: (customerId: string) => `CUST#${customerId}`,
} as const;
