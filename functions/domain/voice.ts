/**
 * The phone channel through Amazon Connect (issue 16), pure: the two inputs Connect gives us —
 * the contact flow's "Invoke AWS Lambda function" event and the contact events EventBridge
 * delivers — read with zod, and what Confluo makes of them (the flow's attributes, the facts of a
 * call, whether it was missed). No I/O, no clock.
 *
 * Voice is not a webhook channel: nothing is signed, Connect invokes the lookup function itself
 * (its resource policy names the instance) and EventBridge delivers the instance's own events.
 *
 * Caller number: the number the network presents (`CustomerEndpoint.Address`) is a claim — caller
 * ID is set by the originating carrier and can be spoofed. It files the call with the customer
 * that holds that number as a *verified* attribute (the screen pop every call centre does) but it
 * never merges customers and never becomes a verified attribute itself, unless the contact flow
 * verified the caller (PIN, one-time code …) and says so (`caller_verified = "true"`).
 *
 * Shapes: https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html
 * (invocation event, flat string answer) and
 * https://docs.aws.amazon.com/connect/latest/adminguide/contact-events.html (contact events).
 */
// zod/mini: the lookup answers Connect's flow while a caller waits (Connect allows a flow's Lambda 8 s;
// the full zod build was ~460 KB of the voice-lookup bundle: README "Entry points").
import * as z from 'zod/mini';
import { PRIORITIES, type Priority } from './ticket.js';

// ---------------------------------------------------------------------------------------------
// The flow's Lambda invocation

const Endpoint = z.nullish(z.looseObject({ Address: z.optional(z.string()), Type: z.optional(z.string()) }));

export const ConnectLookupEvent = z.looseObject({
  Name: z.optional(z.string()),
  Details: z.looseObject({
    ContactData: z.looseObject({
      ContactId: z.string().check(z.minLength(1)),
      InitialContactId: z.optional(z.string()),
      Channel: z.optional(z.string()),
      InitiationMethod: z.optional(z.string()),
      InstanceARN: z.optional(z.string()),
      CustomerEndpoint: Endpoint,
      SystemEndpoint: Endpoint,
      Attributes: z.optional(z.record(z.string(), z.string())),
    }),
    /** The block's own parameters (key/value pairs set in the flow). */
    Parameters: z.optional(z.record(z.string(), z.string())),
  }),
});
export type ConnectLookupEvent = z.infer<typeof ConnectLookupEvent>;

/**
 * The attributes the lookup answers: flat, every value a string — Connect refuses nested objects
 * and non-string values and the answer must stay under 32 KB
 * (https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html).
 */
export const LOOKUP_ATTRIBUTES = [
  'customer_id', 'name', 'tier', 'language', 'open_ticket_number', 'open_ticket_priority', 'last_channel', 'verified', 'sla_breached',
] as const;
export type LookupAttributes = Record<(typeof LOOKUP_ATTRIBUTES)[number], string>;

/** What an unknown (or unreadable) number answers: every attribute present, empty. */
export const EMPTY_LOOKUP: Readonly<LookupAttributes> = Object.freeze(Object.fromEntries(LOOKUP_ATTRIBUTES.map((k) => [k, ''])) as LookupAttributes);

/** Names shown to the agent are cut: a screen pop needs no more, and the answer stays small. */
const NAME_MAX = 100;

export interface LookupFacts {
  readonly customerId: string;
  readonly name?: string | undefined;
  readonly tier?: string | undefined;
  readonly language?: string | undefined;
  /** Whether the number is a verified attribute of this customer (WhatsApp, SMS …). */
  readonly verified: boolean;
  readonly openTicket?: { readonly number: string; readonly priority: string; readonly channel: string; readonly breached: readonly string[] } | undefined;
  readonly lastChannel?: string | undefined;
}

export function lookupAttributes(f: LookupFacts | undefined): LookupAttributes {
  if (!f) return { ...EMPTY_LOOKUP };
  return {
    customer_id: f.customerId,
    name: (f.name ?? '').slice(0, NAME_MAX),
    tier: f.tier ?? '',
    language: f.language ?? '',
    open_ticket_number: f.openTicket?.number ?? '',
    open_ticket_priority: f.openTicket?.priority ?? '',
    last_channel: f.lastChannel ?? f.openTicket?.channel ?? '',
    verified: f.verified ? 'true' : 'false',
    sla_breached: f.openTicket ? (f.openTicket.breached.length > 0 ? 'true' : 'false') : '',
  };
}

/** A flow parameter that says yes (`true`, `yes`, `1`). */
export const flowFlag = (v: string | undefined): boolean => v !== undefined && ['true', 'yes', '1'].includes(v.trim().toLowerCase());

// ---------------------------------------------------------------------------------------------
// Tiers → call-back priority

/**
 * The call-back priority of a customer's tier (the `tier` attribute of the customer item, issue
 * 15); a tier not named here (or none) keeps the ticket's priority. A ticket's priority is only
 * ever raised by it.
 */
export const TIER_CALLBACK_PRIORITY: Readonly<Record<string, Priority>> = { vip: 'high' };

export function callbackPriority(current: Priority, tier: string | undefined): Priority {
  const wanted = tier ? TIER_CALLBACK_PRIORITY[tier] : undefined;
  if (!wanted) return current;
  return PRIORITIES.indexOf(wanted) > PRIORITIES.indexOf(current) ? wanted : current;
}

// ---------------------------------------------------------------------------------------------
// Contact events (EventBridge)

const isoTime = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 time'));

/**
 * The `detail` of an "Amazon Connect Contact Event". Connect adds fields over time and documents
 * that consumers must ignore what they do not know: loose objects throughout. The field spelling
 * follows the documented examples (camelCase, `agentInfo` also seen as `AgentInfo`).
 */
export const ContactEventDetail = z.looseObject({
  eventType: z.string().check(z.minLength(1)),
  contactId: z.string().check(z.minLength(1)),
  initialContactId: z.optional(z.string()),
  previousContactId: z.optional(z.string()),
  channel: z.string(),
  instanceArn: z.optional(z.string()),
  initiationMethod: z.optional(z.string()),
  initiationTimestamp: z.optional(isoTime),
  connectedToSystemTimestamp: z.optional(isoTime),
  disconnectTimestamp: z.optional(isoTime),
  disconnectReason: z.optional(z.string()),
  queueInfo: z.optional(z.looseObject({ queueArn: z.optional(z.string()), queueType: z.optional(z.string()), enqueueTimestamp: z.optional(isoTime) })),
  agentInfo: z.optional(z.looseObject({ agentArn: z.optional(z.string()), connectedToAgentTimestamp: z.optional(isoTime) })),
  AgentInfo: z.optional(z.looseObject({ AgentArn: z.optional(z.string()), agentArn: z.optional(z.string()), connectedToAgentTimestamp: z.optional(isoTime) })),
  customerEndpoint: z.optional(z.looseObject({ address: z.optional(z.string()) })),
});
export type ContactEventDetail = z.infer<typeof ContactEventDetail>;

export const ContactEvent = z.looseObject({
  id: z.optional(z.string()),
  'detail-type': z.literal('Amazon Connect Contact Event'),
  source: z.literal('aws.connect'),
  time: z.optional(z.string()),
  detail: ContactEventDetail,
});
export type ContactEvent = z.infer<typeof ContactEvent>;

/** Who started the contact: the customer (in) or the centre (out: an agent's dial, a queued call-back, a campaign). */
const OUTBOUND_METHODS = new Set(['OUTBOUND', 'CALLBACK', 'API', 'CAMPAIGN']);
/** Disconnect reasons of an outbound call nobody picked up (contact records data model, DisconnectReason). */
const OUTBOUND_FAILURES = /^OUTBOUND_|^EXPIRED$|^CALL_FAILED$/;

export type CallOutcome = 'answered' | 'abandoned' | 'missed' | 'ivr' | 'no_answer';

/** One call as the timeline, the export and the KPIs see it. Times in epoch ms, durations in seconds. */
export interface CallFacts {
  readonly contact_id: string;
  readonly direction: 'in' | 'out';
  readonly initiation: string;
  readonly outcome: CallOutcome;
  readonly started_at: number;
  readonly ended_at: number;
  /** Queue id (the last segment of the queue ARN), when the call was queued. */
  readonly queue: string | null;
  /** Agent id (the last segment of the agent ARN), when an agent took it. */
  readonly agent: string | null;
  /** Seconds in queue (until an agent took it, else until the caller hung up); null if never queued. */
  readonly wait_seconds: number | null;
  /** Seconds with the agent (inbound) or with the customer (outbound); 0 when nobody talked. */
  readonly talk_seconds: number;
  readonly disconnect_reason: string | null;
  /** Where the recording is found (the instance's contact search by contact id), when the instance keeps recordings. */
  readonly recording: string | null;
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));
const seconds = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? null : Math.max(0, Math.round((to - from) / 1000)));
const lastSegment = (arn: string | undefined) => (arn ? arn.slice(arn.lastIndexOf('/') + 1) || null : null);

export interface CallContextFacts {
  /** The flow said the call came outside opening hours (or asked for a call-back). */
  readonly afterHours?: boolean;
}

/** Whether a call's customer endpoint direction is inbound (the caller phoned us). */
export const isInbound = (d: Pick<ContactEventDetail, 'initiationMethod'>) => !OUTBOUND_METHODS.has((d.initiationMethod ?? 'INBOUND').toUpperCase());

/**
 * The facts of a finished call (a DISCONNECTED event carries every timestamp of the contact).
 * Inbound: `answered` once an agent was connected; `abandoned` when the caller hung up in queue;
 * `missed` after hours (the flow said so) — both want a call-back; `ivr` when the call ended in
 * the flow without ever queueing (self-service), which wants none. Outbound: `answered` when media
 * was established (a person — or a voicemail, Connect cannot tell without answering-machine
 * detection) and no outbound failure was reported, else `no_answer`.
 */
export function callFacts(d: ContactEventDetail, opts: { recordings: boolean; instanceId?: string | undefined } & CallContextFacts): CallFacts {
  const inbound = isInbound(d);
  const started = ms(d.initiationTimestamp) ?? ms(d.connectedToSystemTimestamp) ?? ms(d.disconnectTimestamp) ?? 0;
  const ended = ms(d.disconnectTimestamp) ?? started;
  const agentInfo = d.agentInfo ?? d.AgentInfo;
  const agentArn = d.agentInfo?.agentArn ?? d.AgentInfo?.AgentArn ?? d.AgentInfo?.agentArn;
  const connectedToAgent = ms(agentInfo?.connectedToAgentTimestamp);
  const enqueued = ms(d.queueInfo?.enqueueTimestamp);
  const reason = d.disconnectReason ?? null;
  let outcome: CallOutcome;
  let talkFrom: number | undefined;
  if (inbound) {
    talkFrom = connectedToAgent;
    outcome = connectedToAgent !== undefined ? 'answered' : opts.afterHours ? 'missed' : enqueued !== undefined ? 'abandoned' : 'ivr';
  } else {
    const reached = ms(d.connectedToSystemTimestamp) !== undefined && !(reason && OUTBOUND_FAILURES.test(reason));
    talkFrom = reached ? ms(d.connectedToSystemTimestamp) : undefined;
    outcome = reached ? 'answered' : 'no_answer';
  }
  const recorded = opts.recordings && outcome === 'answered';
  return {
    contact_id: d.contactId,
    direction: inbound ? 'in' : 'out',
    initiation: (d.initiationMethod ?? 'INBOUND').toUpperCase(),
    outcome,
    started_at: started,
    ended_at: ended,
    queue: lastSegment(d.queueInfo?.queueArn),
    agent: lastSegment(agentArn),
    wait_seconds: enqueued === undefined ? null : seconds(enqueued, connectedToAgent ?? ended),
    talk_seconds: seconds(talkFrom, ended) ?? 0,
    disconnect_reason: reason,
    recording: recorded ? `connect:${opts.instanceId ?? 'instance'}/contact/${d.contactId}` : null,
  };
}

/**
 * A call's facts as change-feed event data (`call.completed`; the export's `events` dataset):
 * codes, ids and durations only — no number, no audio, no transcript. Queue and agent are Connect
 * ids (`queue_id`, `agent_id`), kept by the redaction of the export like every `*_id`.
 */
export function callEventData(c: CallFacts): Record<string, string | number | null> {
  return {
    channel: 'voice', contact_id: c.contact_id, direction: c.direction, initiation: c.initiation, outcome: c.outcome,
    queue_id: c.queue, agent_id: c.agent, wait_seconds: c.wait_seconds, talk_seconds: c.talk_seconds, disconnect_reason: c.disconnect_reason,
    started_at: c.started_at, ended_at: c.ended_at,
  };
}

/** Whether a call asks for a call-back (an inbound call nobody answered and the caller wanted someone). */
export const wantsCallback = (c: Pick<CallFacts, 'direction' | 'outcome'>) => c.direction === 'in' && (c.outcome === 'abandoned' || c.outcome === 'missed');

/** Whether a call answers the customer: an inbound call an agent took, or a call-back the customer picked up. */
export const answersCustomer = (c: Pick<CallFacts, 'outcome'>) => c.outcome === 'answered';

/** `1 min 5 s`, `42 s` — durations in the timeline's summary line. */
export function spokenDuration(totalSeconds: number): string {
  const m = Math.floor(totalSeconds / 60);
  const s = totalSeconds % 60;
  return m > 0 ? `${m} min${s ? ` ${s} s` : ''}` : `${s} s`;
}

/** The one-line summary a call's timeline entry carries as its text (no personal data). */
export function callSummary(c: CallFacts): string {
  const wait = c.wait_seconds !== null ? `, waited ${spokenDuration(c.wait_seconds)}` : '';
  switch (c.outcome) {
    case 'answered': return c.direction === 'in' ? `Phone call answered, talked ${spokenDuration(c.talk_seconds)}${wait}` : `Called the customer back, talked ${spokenDuration(c.talk_seconds)}`;
    case 'abandoned': return `Missed call: the caller hung up in the queue${wait}`;
    case 'missed': return 'Missed call outside opening hours';
    case 'ivr': return 'Phone call ended in the phone menu';
    case 'no_answer': return 'Call-back not answered';
  }
}

/** The instance id of an instance ARN (`…:instance/<id>`). */
export const instanceIdOf = (arn: string | undefined) => (arn ? arn.slice(arn.lastIndexOf('/') + 1) : undefined);
