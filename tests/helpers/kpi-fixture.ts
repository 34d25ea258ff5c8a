/**
 * A seeded KPI scenario with hand-computed answers (the arithmetic is in the comments), shared by
 * the domain test, the API test and the export/DuckDB parity test.
 *
 * Business calendar `office`: Mon–Fri 09:00–17:00 UTC. 2026-03-02 is a Monday. Cohort
 * [2026-03-01, 2026-03-08): T1 T2 T3 T4 T7 T8 (T5 is merged, T6 opened before the range).
 */
import { expect } from 'vitest';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../../functions/store/db.js';
import { ticketItem } from '../../functions/store/inbound.js';
import { putSlaSettings } from '../../functions/store/sla.js';
import { indexKeys, keys } from '../../functions/store/table.js';
import { parseSlaSettings } from '../../functions/domain/sla/policy.js';
import type { MessageEntry, TicketRecord, TimelineEntry } from '../../functions/store/records.js';
import type { SlaSettingsInput } from '../../functions/domain/sla/policy.js';

export const at = (s: string) => Date.parse(`${s}Z`);
const MIN = 60_000;

export const OFFICE_SETTINGS: SlaSettingsInput = {
  calendars: [{ id: 'office', time_zone: 'UTC', week: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] } }],
  policies: [{ id: 'office-normal', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }],
};

export const FROM = at('2026-03-01T00:00:00');
export const TO = at('2026-03-08T00:00:00');

// Fixed ULID-shaped ids so records pass the API's id validation.
const id = (n: number) => `01KPFX00000000000000000T${String(n).padStart(2, '0')}`;

let seq = 0;
const msg = (ticket: string, channel: string, when: string, direction: 'in' | 'out', kind?: MessageEntry['outbound_kind']): MessageEntry => {
  seq += 1;
  return {
    type: 'message', id: `01KPFXMSG00000000000000${String(seq).padStart(3, '0')}`, ticket_id: ticket, at: at(when), channel: channel as MessageEntry['channel'],
    direction, external_message_id: null, conversation_id: `conv-${ticket}`, text: direction === 'in' ? `customer text ${seq}` : `agent text ${seq}`,
    attachments: [], interaction: null, edited: false, sent_at: at(when),
    ...(direction === 'out' ? { outbound_kind: kind ?? 'reply', delivery: 'sent' as const, ...(kind === undefined || kind === 'reply' ? { author: 'a1' } : {}) } : {}),
  };
};
/** A phone call entry: the message with its call facts (functions/domain/voice.ts `CallFacts`, the parts KPIs read). */
const call = (m: MessageEntry, facts: { outcome: string; wait_seconds: number | null }): MessageEntry => ({ ...m, extras: { call: { direction: m.direction, ...facts } } });
const ev = (ticket: string, when: string, event: string, data: Record<string, unknown> = {}): TimelineEntry => {
  seq += 1;
  return { type: 'event', id: `01KPFXEVT00000000000000${String(seq).padStart(3, '0')}`, ticket_id: ticket, at: at(when), event, data };
};

const ticket = (n: number, t: Partial<TicketRecord> & Pick<TicketRecord, 'status' | 'channel' | 'created_at'>): TicketRecord => ({
  id: id(n), number: `C-${String(n).padStart(6, '0')}`, priority: 'normal', category: null, tags: [], customer_id: `01KPFXCST0000000000000000${n}`,
  conversation_id: `conv-${id(n)}`, assignee: null, team: null, sla: { policy: 'office-normal', first_response_due: null, next_response_due: null, resolution_due: null, breached: [], escalation_level: 0 },
  survey: null, merged_into: null, previous_ticket_id: null, updated_at: t.created_at, last_inbound_at: t.created_at, last_outbound_at: null,
  first_response_at: null, resolved_at: null, closed_at: null, message_count: 1, ...t,
});

export interface Scenario { readonly ticket: TicketRecord; readonly timeline: TimelineEntry[] }

export function scenario(): Scenario[] {
  seq = 0;
  const T = (n: number) => id(n);
  return [
    // T1: FRT 30 min (business 30), resolution 60 (60), handle 30, one reply → FCR, CSAT 5, SLA met.
    {
      ticket: ticket(1, { status: 'resolved', channel: 'telegram', category: 'billing', assignee: 'a1', created_at: at('2026-03-02T09:00:00'),
        first_response_at: at('2026-03-02T09:30:00'), resolved_at: at('2026-03-02T10:00:00'), updated_at: at('2026-03-02T10:00:00'),
        survey: { sent_at: at('2026-03-02T11:00:00'), score: 5, scale: 'csat' } }),
      timeline: [msg(T(1), 'telegram', '2026-03-02T09:00:00', 'in'), msg(T(1), 'telegram', '2026-03-02T09:00:01', 'out', 'acknowledgement'),
        msg(T(1), 'telegram', '2026-03-02T09:30:00', 'out'), ev(T(1), '2026-03-02T10:00:00', 'ticket.resolved')],
    },
    // T2: opened Fri 16:00, first reply Mon 10:00 → FRT 3960 min wall, 60+60 = 120 business.
    // Resolved Mon 12:00, reopened Tue 09:00, resolved again Tue 09:30 → resolution 5370 min wall,
    // 60 (Fri) + 480 (Mon) + 30 (Tue) = 570 business. Handle 3960 + 30 + 20 = 4010. 3 replies, reopened → not FCR.
    // CSAT 2; first_response breached.
    {
      ticket: ticket(2, { status: 'resolved', channel: 'telegram', category: 'billing', assignee: 'a2', created_at: at('2026-03-06T16:00:00'),
        first_response_at: at('2026-03-09T10:00:00'), resolved_at: at('2026-03-10T09:30:00'), updated_at: at('2026-03-10T09:30:00'),
        sla: { policy: 'office-normal', first_response_due: null, next_response_due: null, resolution_due: null, breached: ['first_response'], escalation_level: 2 },
        survey: { sent_at: at('2026-03-10T10:30:00'), score: 2, scale: 'csat', comment: 'slow answer from Anna' } }),
      timeline: [msg(T(2), 'telegram', '2026-03-06T16:00:00', 'in'), msg(T(2), 'telegram', '2026-03-06T16:10:00', 'in'),
        msg(T(2), 'telegram', '2026-03-09T10:00:00', 'out'), msg(T(2), 'telegram', '2026-03-09T10:30:00', 'in'), msg(T(2), 'telegram', '2026-03-09T11:00:00', 'out'),
        ev(T(2), '2026-03-09T12:00:00', 'ticket.status_changed', { from: 'open', to: 'resolved' }),
        ev(T(2), '2026-03-10T09:00:00', 'ticket.reopened', { reason: 'customer_message' }), msg(T(2), 'telegram', '2026-03-10T09:00:00', 'in'),
        msg(T(2), 'telegram', '2026-03-10T09:20:00', 'out'), ev(T(2), '2026-03-10T09:30:00', 'ticket.resolved')],
    },
    // T3: open, only an auto-acknowledgement → no first response; backlog; SLA met so far.
    {
      ticket: ticket(3, { status: 'open', channel: 'whatsapp', created_at: at('2026-03-03T10:00:00') }),
      // …and phoned twice (issue 16): one call answered after 40 s in the queue, one abandoned after 100 s.
      timeline: [msg(T(3), 'whatsapp', '2026-03-03T10:00:00', 'in'), msg(T(3), 'whatsapp', '2026-03-03T10:00:01', 'out', 'acknowledgement'),
        call(msg(T(3), 'voice', '2026-03-03T11:00:00', 'in'), { outcome: 'answered', wait_seconds: 40 }),
        call(msg(T(3), 'voice', '2026-03-03T12:00:00', 'in'), { outcome: 'abandoned', wait_seconds: 100 })],
    },
    // T4: closed; first_response_at missing on the record → from the timeline: 5 min; resolution 45; handle 5; FCR; NPS 9; no SLA block.
    {
      ticket: ticket(4, { status: 'closed', channel: 'whatsapp', category: 'shipping', assignee: 'a1', created_at: at('2026-03-04T09:00:00'),
        resolved_at: at('2026-03-04T09:45:00'), closed_at: at('2026-03-05T09:45:00'), sla: null, survey: { sent_at: at('2026-03-04T10:45:00'), score: 9, scale: 'nps' } }),
      timeline: [msg(T(4), 'whatsapp', '2026-03-04T09:00:00', 'in'), msg(T(4), 'whatsapp', '2026-03-04T09:05:00', 'out'), ev(T(4), '2026-03-04T09:45:00', 'ticket.resolved')],
    },
    // T5: merged into T1 → never counted.
    {
      ticket: ticket(5, { status: 'merged', channel: 'telegram', created_at: at('2026-03-02T09:10:00'), merged_into: id(1) }),
      timeline: [],
    },
    // T6: opened before the range → not in the cohort.
    {
      ticket: ticket(6, { status: 'resolved', channel: 'telegram', created_at: at('2026-02-20T09:00:00'), first_response_at: at('2026-02-20T09:01:00'), resolved_at: at('2026-02-20T09:02:00') }),
      timeline: [msg(T(6), 'telegram', '2026-02-20T09:00:00', 'in'), msg(T(6), 'telegram', '2026-02-20T09:01:00', 'out')],
    },
    // T7: pending_customer; FRT 60 (business 60); backlog.
    {
      ticket: ticket(7, { status: 'pending_customer', channel: 'email', category: 'billing', assignee: 'a2', created_at: at('2026-03-05T12:00:00'), first_response_at: at('2026-03-05T13:00:00') }),
      timeline: [msg(T(7), 'email', '2026-03-05T12:00:00', 'in'), msg(T(7), 'email', '2026-03-05T13:00:00', 'out')],
    },
    // T8: FRT 10, resolution 60, handle 10, FCR, NPS 3 (detractor), resolution breached.
    {
      ticket: ticket(8, { status: 'resolved', channel: 'email', category: 'shipping', assignee: 'a1', created_at: at('2026-03-05T14:00:00'),
        first_response_at: at('2026-03-05T14:10:00'), resolved_at: at('2026-03-05T15:00:00'),
        sla: { policy: 'office-normal', first_response_due: null, next_response_due: null, resolution_due: null, breached: ['resolution'], escalation_level: 1 },
        survey: { sent_at: at('2026-03-05T16:00:00'), score: 3, scale: 'nps' } }),
      timeline: [msg(T(8), 'email', '2026-03-05T14:00:00', 'in'), msg(T(8), 'email', '2026-03-05T14:10:00', 'out'), ev(T(8), '2026-03-05T15:00:00', 'ticket.resolved')],
    },
  ];
}

/** The hand-computed overall KPIs of the cohort (minutes × MIN). */
export const EXPECTED_OVERALL = {
  volume: 6, backlog: 2,
  // FRT samples 5, 10, 30, 60, 3960 min: avg 4065/5 = 813; p50 30; p90 at rank 3.6 → 60 + 0.6 × 3900 = 2400.
  first_response_count: 5, first_response_avg_ms: 813 * MIN, first_response_p50_ms: 30 * MIN, first_response_p90_ms: 2400 * MIN,
  // business 5, 10, 30, 60, 120: avg 45; p50 30; p90 60 + 0.6 × 60 = 96.
  first_response_business_avg_ms: 45 * MIN, first_response_business_p50_ms: 30 * MIN, first_response_business_p90_ms: 96 * MIN,
  // resolution 45, 60, 60, 5370: avg 5535/4 = 1383.75; p50 60; p90 at rank 2.7 → 60 + 0.7 × 5310 = 3777.
  resolution_count: 4, resolution_avg_ms: 1383.75 * MIN, resolution_p50_ms: 60 * MIN, resolution_p90_ms: 3777 * MIN,
  // business 45, 60, 60, 570: avg 183.75; p50 60; p90 60 + 0.7 × 510 = 417.
  resolution_business_avg_ms: 183.75 * MIN, resolution_business_p50_ms: 60 * MIN, resolution_business_p90_ms: 417 * MIN,
  // handle 30, 4010, 5, 10: avg 4055/4.
  handle_time_count: 4, handle_time_avg_ms: 1013.75 * MIN,
  fcr_eligible: 4, fcr_count: 3, fcr_rate: 0.75,
  reopen_eligible: 4, reopen_count: 1, reopen_rate: 0.25,
  csat_responses: 2, csat_avg: 3.5, csat_satisfied_rate: 0.5,
  nps_responses: 2, nps_promoters: 1, nps_detractors: 1, nps_score: 0,
  sla_eligible: 5, sla_met: 3, sla_attainment: 0.6,
  // ticket 3's calls: one answered, one abandoned; waits 40 s and 100 s → 70 s.
  calls_answered: 1, calls_abandoned: 1, call_wait_avg_ms: 70_000,
} as const;

/** KPI sets agree: same keys, nulls equal, numbers equal to 1e-9 relative (floating-point sums). */
export function expectSameKpis(actual: object, expected: object, label = ''): void {
  expect(Object.keys(actual).sort(), label).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    const a = (actual as Record<string, unknown>)[k];
    if (typeof v === 'number' && typeof a === 'number') expect(Math.abs(a - v), `${label} ${k}: ${a} vs ${v}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
    else expect(a, `${label} ${k}`).toEqual(v);
  }
}

/**
 * Store the scenario as the pipeline would: tickets (with their index keys), timelines, customers
 * with a name and a Telegram/WhatsApp/e-mail identity, a `ticket.opened` feed event per ticket and
 * the `office` SLA settings.
 */
export async function seedScenario(db: Db, items: Scenario[] = scenario()): Promise<void> {
  await putSlaSettings(db, parseSlaSettings(OFFICE_SETTINGS), at('2026-03-01T00:00:00'));
  const puts: Array<Record<string, unknown>> = [];
  for (const { ticket, timeline } of items) {
    puts.push(ticketItem(ticket));
    for (const e of timeline) puts.push({ ...keys.timelineEntry(e.ticket_id, e.at, e.id), ...e });
    puts.push({ ...keys.customer(ticket.customer_id), id: ticket.customer_id, created_at: ticket.created_at, display_name: `Customer ${ticket.number}`, current_ticket_id: ticket.id });
    puts.push({
      ...keys.identity(ticket.channel, `ext-${ticket.number}`), ...indexKeys.customerIdentity(ticket.customer_id, ticket.channel, `ext-${ticket.number}`),
      channel: ticket.channel, external_id: `ext-${ticket.number}`, customer_id: ticket.customer_id, display_name: `Customer ${ticket.number}`, language: 'en', created_at: ticket.created_at,
    });
    puts.push({ ...keys.feedEvent(ticket.created_at, `01KPFXFEED${ticket.id.slice(-16)}`), id: `01KPFXFEED${ticket.id.slice(-16)}`, type: 'ticket.opened', at: ticket.created_at, ticket_id: ticket.id, customer_id: ticket.customer_id, data: { channel: ticket.channel } });
  }
  for (let i = 0; i < puts.length; i += 25) {
    await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: puts.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}
