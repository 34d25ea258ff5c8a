/**
 * The single table: its physical shape and every key. Each access pattern is named once here;
 * repositories use these builders and nothing else builds a key.
 *
 * | item              | pk                              | sk                         | gsi1 (inbox by activity) | gsi2 (by status)        | gsi3 (by customer)        |
 * |-------------------|---------------------------------|----------------------------|--------------------------|-------------------------|---------------------------|
 * | customer          | CUST#<id>                       | PROFILE                    |                          |                         |                           |
 * | identity          | IDENT#<channel>:<external_id>   | IDENT                      |                          |                         | CUST#<id> / IDENT#…       |
 * | ticket            | TICKET#<id>                     | TICKET                     | TICKETS#<ss> / <act>#<id>| STATUS#<s>#<ss> / <act>#| CUST#<id> / TICKET#<created>
 * | ticket number     | TNUM#<number>                   | TNUM                       |                          |                         |                           |
 * | timeline entry    | TICKET#<id>                     | TL#<at ms>#<entry id>      |                          |                         |                           |
 * | message reference | MREF#<channel>#<ext msg id>     | MREF   (ttl once erased)   |                          |                         |                           |
 * | dedupe marker     | DEDUP#<channel>#<dedup key>     | DEDUP  (ttl)               |                          |                         |                           |
 * | counter           | COUNTER#<name>                  | COUNTER                    |                          |                         |                           |
 * | change feed event | FEED#<yyyy-mm-dd>#<ss>          | <at ms>#<event id>         |                          |                         |                           |
 * | verified attribute| VATTR#<phone|email>#<value>     | VATTR                      |                          |                         | CUST#<id> / VATTR#…       |
 * | suggestion        | CUST#<id>                       | SUGG#<phone|email>#<value> |                          |                         |                           |
 * | customer log      | CUST#<id>                       | LOG#<at ms>#<entry id>     |                          |                         |                           |
 * | customer merge    | CUST#<winner id>                | MERGE#<loser id>           |                          |                         |                           |
 * | erasure job       | CUST#<root id>                  | ERASURE                    |                          |                         |                           |
 * | rate counter      | RATE#<scope>#<client>#<window>  | RATE   (ttl)               |                          |                         |                           |
 * | web-chat revoked  | WEBCHAT#<sid>                   | REVOKED  (ttl)             |                          |                         |                           |
 * | agent             | AGENT#<agent id>                | AGENT                      |                          |                         | AGENTS#<ss> / AGENT#<id>  |
 * | team              | TEAMS                           | TEAM#<code>                |                          |                         |                           |
 * | team queue entry  | QUEUE#<team>                    | <created ms>#<ticket id>   |                          |                         |                           |
 * | ticket hold       | TICKET#<id>                     | HOLD                       |                          |                         | HOLDS#<agent id> / TICKET#<id>
 * | team drain lease  | DRAIN#<team>                    | DRAIN                      |                          |                         |                           |
 * | call context      | CALL#<connect contact id>       | CALL  (ttl)                |                          |                         |                           |
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
 * Agent, team, team queue entry and ticket hold: automatic assignment (functions/store/agents.ts):
 * an agent's presence, capacity, skills and load (the number of its holds); a team's members and
 * settings (one partition for all teams: written by supervisors, read per assignment); a ticket
 * waiting for a free agent of its team (oldest first); who is draining a team's queue now; which agent a ticket counts against (one
 * item per ticket, so a load is moved exactly once however often a change is redelivered).
 * One query of `CUST#<id>` returns the profile, suggestions, log and merges of a customer.
 *
 * Exactly once, and what a message writes (README "Scale" → "Items written per message"):
 * - Message reference = exactly-once marker (`once: true`). A new (not edited) inbound message
 *   whose platform id names exactly one event — the channel's dedupe key is that id (WhatsApp
 *   wamid, Meta mid, Twilio sid, Viber token, e-mail Message-ID) or the adapter says
 *   `capabilities.messageIdOnce` (Telegram `<chat>:<message_id>` while its dedupe key is the
 *   update id; VK `<peer>:<conversation_message_id>` while its key is the event id): the
 *   reference is written with `attribute_not_exists(pk)` as the commit's first item and no dedupe
 *   marker is written — a redelivered update carries the same message, so it finds the
 *   reference and commits nothing. The reference lives as long as the message (edits and receipts
 *   find it by platform message id); erasure strips it to key, `erased` and a TTL (the marker it
 *   also is: a platform retry of an erased message is still a duplicate, until the TTL).
 *   Everything else keeps a separate dedupe marker (TTL, `CONFLUO_DEDUP_TTL_DAYS`): edits (their
 *   key is the update, `mid#editN`; the reference stays the original's), web chat (the message id
 *   is the widget's choice, so the key is per session), SNS confirmations, Connect contacts.
 *   References written before this layout (no `once`) still answer lookups; their markers expire.
 * - Last inbound per identity on the ticket (`inboundAttribute`): the message's ticket update
 *   sets `[at, sent_at]` of the identity that wrote it — the messaging-window anchor
 *   (functions/domain/reply-window.ts), the card's last message per channel, the voice lookup's
 *   latest channel. Readers load the customer's tickets with its identities anyway (gsi3) and take
 *   the latest over every ticket and the identity's own fields (written before this layout:
 *   functions/store/last-inbound.ts). So an identity is rewritten only when something of its own
 *   changed (attributes, conversation, reply context, ticket hint, reachability); otherwise the
 *   commit only checks it still belongs to the customer.
 *
 * Hot keys are write-sharded (`<ss>`: a two-digit shard, see `shardOf`). A DynamoDB partition
 * sustains about 1,000 write units/s and 3,000 read units/s, and a throttled GSI throttles writes to
 * the table (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-sharding.html),
 * so no key that every message or ticket writes may be a single partition:
 * - the change feed of a day is `FEED_SHARDS` partitions; an event's shard follows its ticket (else
 *   its customer, else the event), so one ticket's events share a partition and therefore one stream
 *   shard, in commit order. Readers (`GET /events`, export) query every shard of a day and merge by
 *   sort key; the sort key (and so the `GET /events` cursor) does not name the shard.
 * - the inbox index gsi1 is `INBOX_SHARDS` partitions and the status index gsi2 `INBOX_SHARDS`
 *   partitions per status, the shard following the ticket id (stable for the ticket's life, so a
 *   touch rewrites the index entry within its partition). Lists run a k-way merge over the shards
 *   (functions/store/inbox-merge.ts); counts sum them.
 * - tickets of a priority tier (`vip`, functions/domain/priority-tier.ts) live in their own inbox partitions
 *   `TICKETS#P#<ss>` (`PRIORITY_INBOX_SHARDS` of them, same sort key): the default inbox merges
 *   those shards first, then the `TICKETS#<ss>` shards, so VIP tickets sort first without a rank
 *   in the sort key (every touch keeps writing only `gsi1sk`) and without one hot VIP partition.
 *   Readers of every ticket (KPIs, export) read `allInboxShards()`.
 * - ticket numbers come from blocks leased off `COUNTER#ticket` (functions/store/ticket-numbers.ts):
 *   one counter write per block, not per ticket.
 *
 * Merged tickets drop their gsi1 keys (sparse index), so the default inbox never lists them.
 * The table has a stream (NEW_IMAGE): feed events drive workflows and acknowledgements.
 */
import { createHash } from 'node:crypto';
import type { Channel } from '../domain/inbound.js';
import { isPriorityTier } from '../domain/priority-tier.js';

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

/** Partitions of one day of the change feed. 64 × ~1,000 WCU/s: ≥ 10,000 messages/s with room for an uneven hash (README "Scale"). */
export const FEED_SHARDS = 64;
/** Partitions of the agent list (gsi3): every assignment rewrites its agent's entry (load). */
export const AGENT_SHARDS = 8;
/** Partitions of the inbox index (gsi1) and of each status in the status index (gsi2). */
export const INBOX_SHARDS = 64;
/** Partitions of the priority-tier part of the inbox index (a small share of the tickets; 8 × ~1,000 WCU/s). */
export const PRIORITY_INBOX_SHARDS = 8;

/** The shard of a key: a uniform hash (not a time or a counter) so every shard gets its share. */
export function shardOf(value: string, shards: number): string {
  return String(createHash('sha1').update(value).digest().readUInt32BE(0) % shards).padStart(2, '0');
}
const allShards = (n: number) => Array.from({ length: n }, (_, i) => String(i).padStart(2, '0'));
const dayOf = (atMs: number) => new Date(atMs).toISOString().slice(0, 10);

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
  /** `shardBy`: the ticket id of the event (else its customer id, else the event id) — see the header. */
  feedEvent: (atMs: number, eventId: string, shardBy: string = eventId) => ({ pk: `FEED#${dayOf(atMs)}#${shardOf(shardBy, FEED_SHARDS)}`, sk: `${sortableMs(atMs)}#${eventId}` }),
  /** The partition keys of one UTC day of the feed (every shard). */
  feedDay: (atMs: number) => allShards(FEED_SHARDS).map((s) => `FEED#${dayOf(atMs)}#${s}`),
  verifiedAttribute: (kind: string, value: string) => ({ pk: `VATTR#${kind}#${value}`, sk: 'VATTR' }),
  suggestion: (customerId: string, kind: string, value: string) => ({ pk: `CUST#${customerId}`, sk: `SUGG#${kind}#${value}` }),
  customerLog: (customerId: string, atMs: number, entryId: string) => ({ pk: `CUST#${customerId}`, sk: `LOG#${sortableMs(atMs)}#${entryId}` }),
  customerMerge: (winnerId: string, loserId: string) => ({ pk: `CUST#${winnerId}`, sk: `MERGE#${loserId}` }),
  erasureJob: (customerId: string) => ({ pk: `CUST#${customerId}`, sk: 'ERASURE' }),
  rateCounter: (scope: string, client: string, windowStartMs: number) => ({ pk: `RATE#${scope}#${client}#${sortableMs(windowStartMs)}`, sk: 'RATE' }),
  webchatRevoked: (sid: string) => ({ pk: `WEBCHAT#${sid}`, sk: 'REVOKED' }),
  agent: (id: string) => ({ pk: `AGENT#${id}`, sk: 'AGENT' }),
  team: (code: string) => ({ pk: 'TEAMS', sk: `TEAM#${code}` }),
  /** Every team: one partition (a handful of items, written only by supervisors). */
  teamsPartition: () => 'TEAMS',
  teamQueueEntry: (team: string, createdMs: number, ticketId: string) => ({ pk: `QUEUE#${team}`, sk: `${sortableMs(createdMs)}#${ticketId}` }),
  teamQueue: (team: string) => `QUEUE#${team}`,
  ticketHold: (ticketId: string) => ({ pk: `TICKET#${ticketId}`, sk: 'HOLD' }),
  teamDrainLease: (team: string) => ({ pk: `DRAIN#${team}`, sk: 'DRAIN' }),
  /** What the phone lookup learnt about an Amazon Connect contact (functions/store/voice.ts). */
  callContext: (contactId: string) => ({ pk: `CALL#${contactId}`, sk: 'CALL' }),
  /**
   * The ticket attribute holding the last inbound message of one identity (see the header):
   * `in_<hash>` = `[at, sent_at]`. A hash, so the ticket item names no phone number or address;
   * short, because every ticket write pays for the item's size in the table and each GSI (a ticket
   * past 1 KB costs twice).
   */
  inboundAttribute: (channel: Channel | string, externalId: string) => `in_${createHash('sha1').update(`${channel}:${externalId}`).digest('hex').slice(0, 10)}`,
  /** Whether a ticket attribute is an `inboundAttribute` (erasure removes them). */
  isInboundAttribute: (name: string) => /^in_[0-9a-f]{10}$/.test(name),
  /** Everything in a customer's partition: profile, suggestions, log, merges. */
  customerPartition: (customerId: string) => `CUST#${customerId}`,
} as const;

export const indexKeys = {
  /** `tier`: a priority tier puts the ticket in the priority part of the inbox (see the header). */
  inbox: (activityMs: number, ticketId: string, tier?: string | null) => ({
    gsi1pk: isPriorityTier(tier) ? `TICKETS#P#${shardOf(ticketId, PRIORITY_INBOX_SHARDS)}` : `TICKETS#${shardOf(ticketId, INBOX_SHARDS)}`,
    gsi1sk: `${sortableMs(activityMs)}#${ticketId}`,
  }),
  /** The gsi1 partition keys of the tickets without a priority tier (every shard). */
  inboxShards: () => allShards(INBOX_SHARDS).map((s) => `TICKETS#${s}`),
  /** The gsi1 partition keys of priority-tier tickets (every shard). */
  priorityInboxShards: () => allShards(PRIORITY_INBOX_SHARDS).map((s) => `TICKETS#P#${s}`),
  /** Every gsi1 partition key: what a reader of every ticket (KPIs, export) queries. */
  allInboxShards: () => [...allShards(PRIORITY_INBOX_SHARDS).map((s) => `TICKETS#P#${s}`), ...allShards(INBOX_SHARDS).map((s) => `TICKETS#${s}`)],
  byStatus: (status: string, activityMs: number, ticketId: string) => ({ gsi2pk: `STATUS#${status}#${shardOf(ticketId, INBOX_SHARDS)}`, gsi2sk: `${sortableMs(activityMs)}#${ticketId}` }),
  /** The gsi2 partition keys of one status (every shard). */
  statusShards: (status: string) => allShards(INBOX_SHARDS).map((s) => `STATUS#${status}#${s}`),
  customerTicket: (customerId: string, createdMs: number, ticketId: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `TICKET#${sortableMs(createdMs)}#${ticketId}` }),
  customerIdentity: (customerId: string, channel: string, externalId: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `IDENT#${channel}:${externalId}` }),
  customerAttribute: (customerId: string, kind: string, value: string) => ({ gsi3pk: `CUST#${customerId}`, gsi3sk: `VATTR#${kind}#${value}` }),
  /** The agent list (gsi3): AGENT_SHARDS partitions, so the load writes of a large floor never meet in one. */
  agentListing: (agentId: string) => ({ gsi3pk: `AGENTS#${shardOf(agentId, AGENT_SHARDS)}`, gsi3sk: `AGENT#${agentId}` }),
  agentShards: () => allShards(AGENT_SHARDS).map((s) => `AGENTS#${s}`),
  /** The tickets an agent's load counts (gsi3 of the ticket holds). */
  agentHold: (agentId: string, ticketId: string) => ({ gsi3pk: `HOLDS#${agentId}`, gsi3sk: `TICKET#${ticketId}` }),
  agentHolds: (agentId: string) => `HOLDS#${agentId}`,
  /** gsi3 partition of a customer (identities, tickets, verified attributes). */
  customerItems: (customerId: string) => `CUST#${customerId}`,
} as const;
