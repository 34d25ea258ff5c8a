/**
 * The export on DynamoDB Local (the seeded KPI scenario) into a temp directory, read back with
 * DuckDB: datasets and partitions, idempotent re-runs, incremental runs, GDPR erase, and the
 * KPI parity between DuckDB's named queries and `GET /api/v1/kpis`.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../functions/domain/clock.js';
import { DATASETS, type Dataset } from '../../functions/domain/export-schema.js';
import { kpiSql } from '../../functions/domain/kpi-sql.js';
import { parseSlaSettings } from '../../functions/domain/sla/policy.js';
import { makeAgentApi } from '../../functions/handlers/agent-api.js';
import { makeExport } from '../../functions/handlers/export.js';
import { ParquetEngine } from '../../functions/runtime/parquet.js';
import { acquireExportLease } from '../../functions/store/analytics.js';
import type { Db } from '../../functions/store/db.js';
import { keys } from '../../functions/store/table.js';
import { hasPartitions, localExportWriter } from '../../local/export-writer.js';
import { freshTable } from '../helpers/ddb.js';
import { at, EXPECTED_OVERALL, expectSameKpis, OFFICE_SETTINGS, scenario, seedScenario } from '../helpers/kpi-fixture.js';

const clock = fixedClock(at('2026-03-12T00:00:00'));
let db: Db;
let dir: string;
let engine: ParquetEngine;

const exporter = (privacy = { messageText: false, customerProfile: false }) =>
  makeExport({ db, clock, writer: localExportWriter(dir), privacy, slaDefaults: parseSlaSettings(OFFICE_SETTINGS), tmpDir: join(dir, '..', 'scratch') });

async function query(sql: string) {
  await engine.createViews(dir, (d: Dataset) => hasPartitions(dir, d));
  return engine.query(sql);
}
const counts = async () => Object.fromEntries(await Promise.all(DATASETS.map(async (d) => [d, (await query(`select count(*) as n from ${d}`))[0]!.n])));

beforeAll(async () => {
  ({ db } = await freshTable('export'));
  await seedScenario(db);
  dir = join(mkdtempSync(join(tmpdir(), 'confluo-export-test-')), 'export');
  engine = await ParquetEngine.open(join(dir, '..', 'duckdb'));
  await exporter().run();
});
afterAll(() => {
  engine?.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

describe('export', () => {
  it('writes every dataset as zstd Parquet partitioned by UTC day', async () => {
    expect(existsSync(join(dir, 'tickets/dt=2026-03-02/part-0.parquet'))).toBe(true);
    expect(existsSync(join(dir, 'messages/dt=2026-03-09/part-0.parquet'))).toBe(true);
    const file = join(dir, 'tickets/dt=2026-03-06/part-0.parquet');
    expect(await engine.query(`select distinct compression from parquet_metadata('${file}')`)).toEqual([{ compression: 'ZSTD' }]);
    // 8 tickets seeded, T5 merged → 7; 22 messages (two of them phone calls); 8 customers (T5's too: the feed names it).
    expect(await counts()).toEqual({ tickets: 7, messages: 22, customers: 8, events: 8, surveys: 4 });
    expect(await query('select dt, count(*) as n from tickets group by dt order by dt')).toContainEqual({ dt: '2026-03-02', n: 1 });
  });

  it('exports no personal data by default: no message text, survey comment or customer profile', async () => {
    expect(await query('select count(*) as n from messages where text is not null')).toEqual([{ n: 0 }]);
    expect(await query('select count(*) as n from surveys where comment is not null')).toEqual([{ n: 0 }]);
    expect(await query('select count(*) as n from customers where display_name is not null or language is not null')).toEqual([{ n: 0 }]);
    expect(await query("select channels from customers where customer_id like '%1'")).toEqual([{ channels: ['telegram'] }]);
  });

  it('changes no counts when run again, incrementally or in full', async () => {
    const before = await counts();
    clock.advance(60_000);
    expect((await exporter().run()).status).toBe('exported');
    expect(await counts()).toEqual(before);
    clock.advance(60_000);
    await exporter().run({ full: true });
    expect(await counts()).toEqual(before);
  });

  it('gives the same KPI numbers in DuckDB as GET /api/v1/kpis, overall and grouped', async () => {
    const api = makeAgentApi({ db, clock, slaDefaults: parseSlaSettings(OFFICE_SETTINGS) });
    const get = async (qs: string) => {
      const res = await api({
        rawPath: '/api/v1/kpis', rawQueryString: qs, queryStringParameters: Object.fromEntries(new URLSearchParams(qs)), headers: {}, isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path: '/api/v1/kpis' }, authorizer: { jwt: { claims: { sub: 'sup-1', 'cognito:groups': '[supervisor]' } } } },
        routeKey: '$default', version: '2.0',
      } as unknown as APIGatewayProxyEventV2);
      expect(res.statusCode, String(res.body)).toBe(200);
      return JSON.parse(String(res.body));
    };
    const range = { from: at('2026-03-01T00:00:00'), to: at('2026-03-08T00:00:00') };
    const report = await get('from=2026-03-01&to=2026-03-08');
    expectSameKpis(report.overall, EXPECTED_OVERALL, 'API vs hand-computed');
    const [duck] = await query(kpiSql('summary', range));
    expectSameKpis(duck!, report.overall, 'DuckDB vs API');
    for (const groupBy of ['channel', 'category', 'agent'] as const) {
      const grouped = await get(`from=2026-03-01&to=2026-03-08&groupBy=${groupBy}`);
      const rows = await query(kpiSql('summary', { ...range, groupBy }));
      expect(rows.map((r) => r.group_key)).toEqual(grouped.groups.map((g: { key: string | null }) => g.key));
      rows.forEach((r, i) => { const { group_key: key, ...k } = r; expectSameKpis({ key, ...k }, grouped.groups[i], `${groupBy}=${String(key)}`); });
    }
  });

  it('answers 403 to an agent asking for KPIs', async () => {
    const api = makeAgentApi({ db, clock });
    const res = await api({
      rawPath: '/api/v1/kpis', rawQueryString: '', headers: {}, isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/api/v1/kpis' }, authorizer: { jwt: { claims: { sub: 'agent-1', 'cognito:groups': '[agent]' } } } },
      routeKey: '$default', version: '2.0',
    } as unknown as APIGatewayProxyEventV2);
    expect(res.statusCode).toBe(403);
  });

  it('picks up a new reply on the next run and rewrites only the affected rows', async () => {
    const [t1] = scenario();
    const ticket = t1!.ticket;
    clock.advance(3_600_000);
    const now = clock.now();
    const replyId = '01KPFXNEWREPLY000000000000';
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: {
      ...keys.timelineEntry(ticket.id, now, replyId), type: 'message', id: replyId, ticket_id: ticket.id, at: now, channel: 'telegram', direction: 'out',
      external_message_id: null, conversation_id: 'c', text: 'follow-up', attachments: [], interaction: null, edited: false, sent_at: now, outbound_kind: 'reply', author: 'a1', delivery: 'queued',
    } }));
    await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.ticket(ticket.id), UpdateExpression: 'SET updated_at = :n, gsi1sk = :g, gsi2sk = :g', ExpressionAttributeValues: { ':n': now, ':g': `${String(now).padStart(15, '0')}#${ticket.id}` } }));
    const before = await counts();
    clock.advance(60_000);
    const result = await exporter().run();
    expect(result.changed_tickets).toBe(1);
    expect(await counts()).toEqual({ ...before, messages: (before.messages as number) + 1 });
    expect(await query(`select agent_replies, fcr from tickets where ticket_id = '${ticket.id}'`)).toEqual([{ agent_replies: 2, fcr: false }]);
  });

  it('rewrites the partitions of an erased customer without their personal data on the next run', async () => {
    const withText = { messageText: true, customerProfile: true };
    clock.advance(60_000);
    await exporter(withText).run({ full: true });
    const [, t2] = scenario();
    const customerId = t2!.ticket.customer_id;
    expect(await query(`select count(*) as n from messages where customer_id = '${customerId}' and text is not null`)).toEqual([{ n: 7 }]);
    expect(await query(`select display_name from customers where customer_id = '${customerId}'`)).toEqual([{ display_name: 'Customer C-000002' }]);
    expect(await query(`select comment from surveys where customer_id = '${customerId}'`)).toEqual([{ comment: 'slow answer from Anna' }]);

    // The erase (DELETE /customers/{id}) marks the customer and emits a feed event; message texts
    // in the table are left as they are here, to show the export drops them by itself.
    clock.advance(3_600_000);
    const now = clock.now();
    await db.doc.send(new UpdateCommand({ TableName: db.tableName, Key: keys.customer(customerId), UpdateExpression: 'SET erased_at = :n', ExpressionAttributeValues: { ':n': now } }));
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.feedEvent(now, '01KPFXERASE000000000000000'), id: '01KPFXERASE000000000000000', type: 'customer.erased', at: now, customer_id: customerId, data: {} } }));
    const before = await counts();
    clock.advance(60_000);
    const result = await exporter(withText).run();
    expect(result.since).not.toBeNull();

    expect(await query(`select count(*) as n from messages where customer_id = '${customerId}' and text is not null`)).toEqual([{ n: 0 }]);
    expect(await query(`select display_name, language, erased from customers where customer_id = '${customerId}'`)).toEqual([{ display_name: null, language: null, erased: true }]);
    expect(await query(`select comment from surveys where customer_id = '${customerId}'`)).toEqual([{ comment: null }]);
    expect(await query(`select count(*) as n from messages where customer_id <> '${customerId}' and text is not null`)).not.toEqual([{ n: 0 }]);
    expect(await counts()).toEqual({ ...before, events: (before.events as number) + 1 });
  });

  it('does nothing while another export holds the lease', async () => {
    expect(await acquireExportLease(db, 'someone-else', clock.now(), 60_000)).not.toBeNull();
    expect((await exporter().run()).status).toBe('locked');
    clock.advance(120_000);
    expect((await exporter().run()).status).toBe('exported');
  });
});
