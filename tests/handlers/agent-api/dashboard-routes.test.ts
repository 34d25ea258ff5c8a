/**
 * The dashboard endpoints on DynamoDB Local over the seeded KPI scenario (tests/helpers/kpi-fixture.ts):
 * the daily series add up to exactly what `GET /api/v1/kpis` answers, days follow the time zone,
 * backlog by age and load per agent come from the same cohort, filters narrow it, recurring
 * problems compare this week with last, channel hoppers are the still-open tickets written about
 * on two channels, oldest first, paginated.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../functions/domain/clock.js';
import { parseSlaSettings } from '../../../functions/domain/sla/policy.js';
import { makeAgentApi } from '../../../functions/handlers/agent-api.js';
import type { Db } from '../../../functions/store/db.js';
import type { MessageEntry, TicketRecord } from '../../../functions/store/records.js';
import { freshTable } from '../../helpers/ddb.js';
import { at, EXPECTED_OVERALL, expectSameKpis, OFFICE_SETTINGS, scenario, seedScenario, type Scenario } from '../../helpers/kpi-fixture.js';

let db: Db;
const clock = fixedClock(at('2026-03-08T00:00:00'));

/** An open ticket whose customer wrote on `channels` in turn (ids of the hopper range 9x). */
function hopper(n: number, created: string, channels: string[], extra: Partial<TicketRecord> = {}): Scenario {
  const id = `01KPFX00000000000000000T${n}`;
  const ticket = {
    ...scenario()[2]!.ticket, id, number: `C-0000${n}`, customer_id: `01KPFXCST000000000000000${n}`, status: 'open', channel: channels[0]!,
    created_at: at(created), updated_at: at(created), category: null, ...extra,
  } as TicketRecord;
  const timeline: MessageEntry[] = channels.map((channel, i) => ({
    type: 'message', id: `01KPFXMSG0000000000000${n}${i}`, ticket_id: id, at: at(created) + i * 3_600_000, channel: channel as MessageEntry['channel'], direction: 'in',
    external_message_id: null, conversation_id: `conv-${id}`, text: 'Where is my refund?', attachments: [], interaction: null, edited: false, sent_at: at(created) + i * 3_600_000,
  }));
  return { ticket, timeline };
}

async function get(path: string, qs: string, role = 'supervisor') {
  const api = makeAgentApi({ db, clock, slaDefaults: parseSlaSettings(OFFICE_SETTINGS) });
  const res = await api({
    rawPath: `/api/v1${path}`, rawQueryString: qs, queryStringParameters: Object.fromEntries(new URLSearchParams(qs)), headers: {}, isBase64Encoded: false,
    requestContext: { http: { method: 'GET', path: `/api/v1${path}` }, authorizer: { jwt: { claims: { sub: 'sup-1', 'cognito:groups': `[${role}]` } } } },
    routeKey: '$default', version: '2.0',
  } as unknown as APIGatewayProxyEventV2);
  return { status: res.statusCode, body: JSON.parse(String(res.body)) };
}

beforeAll(async () => {
  ({ db } = await freshTable('dashboard'));
  // The scenario's cohort is [03-01, 03-08); the hoppers opened the week before (not in it).
  await seedScenario(db, [
    ...scenario(),
    hopper(91, '2026-02-25T08:00:00', ['telegram', 'email', 'telegram']),
    hopper(92, '2026-02-24T08:00:00', ['whatsapp', 'twilio']),
    hopper(93, '2026-02-26T08:00:00', ['webchat', 'webchat']),
    hopper(94, '2026-02-23T08:00:00', ['telegram', 'email'], { status: 'resolved', resolved_at: at('2026-02-24T08:00:00') }),
  ]);
});

describe('GET /api/v1/kpis/daily', () => {
  it('totals exactly what GET /kpis answers, and the days add up to it', async () => {
    const daily = await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08');
    expect(daily.status).toBe(200);
    const kpis = await get('/kpis', 'from=2026-03-01&to=2026-03-08');
    expectSameKpis(daily.body.overall, kpis.body.overall, 'daily vs /kpis');
    expectSameKpis(daily.body.overall, EXPECTED_OVERALL, 'daily vs hand-computed');
    const days = daily.body.days as Array<Record<string, any>>;
    expect(days.map((d) => d.day)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07']);
    expect(days.map((d) => d.volume)).toEqual([0, 1, 1, 1, 2, 1, 0]);
    for (const k of ['volume', 'backlog', 'first_response_count', 'resolution_count', 'csat_responses', 'nps_responses', 'sla_eligible', 'sla_met'] as const) {
      expect(days.reduce((s, d) => s + d[k], 0), k).toBe(EXPECTED_OVERALL[k]);
    }
    expect(days[4]).toMatchObject({ tickets_by_channel: { email: 2 }, first_response_p50_ms: 35 * 60_000, sla_attainment: 0.5 });
    // T2's two messages of Friday count; its replies of the next week are after `to`.
    expect(days[5]!.messages_by_channel).toEqual({ telegram: 2 });
    // T3's customer also phoned (voice messages on the WhatsApp ticket).
    expect(daily.body.channels).toEqual(['email', 'telegram', 'voice', 'whatsapp']);
    expect(days[2]!.messages_by_channel).toEqual({ whatsapp: 1, voice: 2 });
  });

  it('puts the backlog in age buckets at the time of the report and counts load per agent', async () => {
    const { body } = await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08');
    // T3 opened 03-03 10:00 (4.6 days old), T7 03-05 12:00 (2.5 days old).
    expect(Object.fromEntries(body.backlog_by_age.map((b: { bucket: string; count: number }) => [b.bucket, b.count])))
      .toEqual({ lt_1h: 0, '1h_4h': 0, '4h_24h': 0, '1d_3d': 1, '3d_7d': 1, gt_7d: 0 });
    expect(body.load_by_agent).toEqual([{ agent: 'a2', active: 1, resolved: 1 }, { agent: null, active: 1, resolved: 0 }, { agent: 'a1', active: 0, resolved: 3 }]);
  });

  it('counts days in the requested time zone', async () => {
    const { body } = await get('/kpis/daily', 'from=2026-03-01T00:00:00Z&to=2026-03-08T00:00:00Z&tz=Europe/Warsaw');
    // [00:00Z, 00:00Z) is 01:00 on the 1st to 01:00 on the 8th in Warsaw: eight calendar days.
    expect(body.days.map((d: { day: string }) => d.day)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08']);
    expect(body.time_zone).toBe('Europe/Warsaw');
    expect((await get('/kpis/daily', 'tz=Mars/Olympus')).status).toBe(400);
  });

  it('narrows the cohort by channel, team and tier', async () => {
    const email = (await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08&channel=email')).body;
    expect(email.overall).toMatchObject({ volume: 2, backlog: 1, nps_responses: 1 });
    expect((await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08&tier=none')).body.overall.volume).toBe(6);
    expect((await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08&tier=vip')).body.overall.volume).toBe(0);
    expect((await get('/kpis/daily', 'from=2026-03-01&to=2026-03-08&team=billing')).body.overall.volume).toBe(0);
  });

  it('refuses agents and ranges longer than 92 days', async () => {
    expect((await get('/kpis/daily', '', 'agent')).status).toBe(403);
    expect((await get('/kpis/daily', 'from=2026-01-01&to=2026-06-01')).status).toBe(400);
  });
});

describe('GET /api/v1/kpis/recurring', () => {
  it('compares the categories and first-message keywords of this week with last week', async () => {
    const { status, body } = await get('/kpis/recurring', 'to=2026-03-08');
    expect(status).toBe(200);
    expect(body.this_week).toMatchObject({ from: '2026-03-01T00:00:00.000Z', tickets: 6 });
    // Last week: the four hoppers (no category) and T6 (opened 02-20: before last week).
    expect(body.last_week.tickets).toBe(4);
    expect(body.categories).toEqual([
      { key: 'billing', this_week: 3, last_week: 0 }, { key: 'shipping', this_week: 2, last_week: 0 }, { key: null, this_week: 1, last_week: 4 },
    ]);
    expect(body.keywords).toEqual(expect.arrayContaining([
      { key: 'customer', this_week: 6, last_week: 0 }, { key: 'refund', this_week: 0, last_week: 4 },
    ]));
    // "where" is a stop word, "is"/"my" are too short.
    expect(body.keywords.map((k: { key: string }) => k.key)).not.toContain('where');
  });
});

describe('GET /api/v1/kpis/channel-hoppers', () => {
  it('lists the still-open tickets written about on two or more channels, oldest first, page by page', async () => {
    const first = await get('/kpis/channel-hoppers', 'from=2026-02-20&to=2026-03-08&limit=1');
    expect(first.status).toBe(200);
    // 92 and 91, and T3 of the scenario (WhatsApp, then two phone calls; still open).
    expect(first.body).toMatchObject({ total: 3, next_cursor: '1' });
    expect(first.body.items).toEqual([expect.objectContaining({ ticket_id: '01KPFX00000000000000000T92', channels: ['whatsapp', 'twilio'], customer_messages: 2, created_at: '2026-02-24T08:00:00.000Z' })]);
    const second = await get('/kpis/channel-hoppers', 'from=2026-02-20&to=2026-03-08&limit=1&cursor=1');
    expect(second.body.items.map((h: { ticket_id: string; channels: string[] }) => [h.ticket_id, h.channels])).toEqual([['01KPFX00000000000000000T91', ['telegram', 'email']]]);
    expect(second.body.next_cursor).toBe('2');
    const third = await get('/kpis/channel-hoppers', 'from=2026-02-20&to=2026-03-08&limit=1&cursor=2');
    expect(third.body.items.map((h: { ticket_id: string; channels: string[] }) => [h.ticket_id, h.channels])).toEqual([['01KPFX00000000000000000T03', ['whatsapp', 'voice']]]);
    expect(third.body.next_cursor).toBeNull();
    // The resolved hopper (94) and the single-channel one (93) are not listed; a filter narrows.
    expect((await get('/kpis/channel-hoppers', 'from=2026-02-20&to=2026-03-08&channel=telegram')).body.total).toBe(1);
  });
});
