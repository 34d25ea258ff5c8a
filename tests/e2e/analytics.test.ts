/**
 * Issue 9 must-show, over HTTP against the running local runtime: replay Telegram messages,
 * `npx confluo export` (the CLI, which finds the runtime through runtime.json), then
 * `npx confluo query --sql "select count(*) from tickets"` equals the API's ticket count; a
 * second export changes no counts; the named KPI query equals `GET /api/v1/kpis`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../local/cli.js';
import type { Runtime } from '../../local/runtime.js';
import { expectSameKpis } from '../helpers/kpi-fixture.js';
import { telegramText } from '../helpers/pipeline.js';
import { testRuntime, type ApiClient } from '../helpers/runtime.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };

describe('analytics export of the local runtime', () => {
  let rt: Runtime & { api: ApiClient };
  let dataDir: string;
  let supervisor: string;

  /** Run the CLI as `npx confluo …` would with CONFLUO_DATA_DIR = dataDir; returns stdout. */
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env: { CONFLUO_DATA_DIR: dataDir }, progress: false });
    expect(code, err.join('\n')).toBe(0);
    return out.join('\n');
  };
  const sql = async (q: string) => JSON.parse(await cli('query', '--sql', q, '--json')) as Array<Record<string, unknown>>;
  const counts = async () => (await sql(
    'select (select count(*) from tickets) as tickets, (select count(*) from messages) as messages, (select count(*) from customers) as customers, (select count(*) from events) as events',
  ))[0];
  const apiTicketCount = async () => {
    let n = 0;
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: unknown[]; next_cursor: string | null } } = await rt.api.get(`/api/v1/tickets?limit=100${cursor ? `&cursor=${cursor}` : ''}`, supervisor);
      expect(page.status).toBe(200);
      n += page.body.items.length;
      cursor = page.body.next_cursor;
    } while (cursor);
    return n;
  };

  beforeAll(async () => {
    // The CLI finds the running (in-memory) runtime through $CONFLUO_DATA_DIR/runtime.json, which
    // it announces there as `npm start` does.
    dataDir = mkdtempSync(join(tmpdir(), 'confluo-analytics-'));
    rt = await testRuntime({ CONFLUO_DATA_DIR: dataDir }, { announce: true });
    supervisor = await rt.api.token('sup-1', 'supervisor');
    // Five customers, eight messages: customers 1 and 3 write twice, customer 5 three times.
    const senders = [1, 1, 2, 3, 3, 4, 5, 5];
    for (const [i, from] of senders.entries()) {
      const res = await rt.api.webhook('telegram', { headers: TG, body: telegramText({ updateId: 9100 + i, fromId: 700000 + from, text: `question ${i} from customer ${from}` }) });
      expect(res.status).toBe(200);
    }
    await rt.settle();
    // An agent answers two of the tickets.
    const tickets = (await rt.api.get('/api/v1/tickets?limit=100', supervisor)).body.items as Array<{ id: string }>;
    for (const t of tickets.slice(0, 2)) expect((await rt.api.post(`/api/v1/tickets/${t.id}/replies`, { text: 'Thanks, looking into it.' }, supervisor)).status).toBe(202);
    await rt.settle();
  });
  afterAll(async () => {
    await rt?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports Parquet under $CONFLUO_DATA_DIR/export whose ticket count equals the API\'s', async () => {
    const report = await cli('export');
    expect(report).toContain(`store: running runtime pid ${process.pid} at ${rt.url} (in memory)`);
    expect(readdirSync(join(dataDir, 'export')).sort()).toEqual(['customers', 'events', 'messages', 'surveys', 'tickets']);
    const [row] = await sql('select count(*) from tickets');
    expect(Object.values(row!)).toEqual([await apiTicketCount()]);
    expect(await apiTicketCount()).toBe(5);
  });

  it('prints a table by default and CSV on request', async () => {
    expect(await cli('query', '--sql', 'select channel, count(*) as n from tickets group by channel')).toMatch(/^channel\s+n\n-+\s+-+\ntelegram\s+5$/);
    expect(await cli('query', '--sql', 'select channel, count(*) as n from tickets group by channel', '--csv')).toBe('channel,n\ntelegram,5');
  });

  it('changes no counts when the export runs again', async () => {
    const before = await counts();
    expect(before).toMatchObject({ tickets: 5, messages: 8 + 2 + 5 /* acknowledgements */, customers: 5 });
    await cli('export');
    expect(await counts()).toEqual(before);
  });

  it('gives the same KPI numbers from DuckDB as GET /api/v1/kpis', async () => {
    const now = (await (await fetch(`${rt.url}/dev/clock`)).json()) as { epoch_ms: number };
    const from = new Date(now.epoch_ms - 86_400_000).toISOString();
    const to = new Date(now.epoch_ms + 86_400_000).toISOString();
    const api = await rt.api.get(`/api/v1/kpis?from=${from}&to=${to}`, supervisor);
    expect(api.status).toBe(200);
    expect(api.body.overall).toMatchObject({ volume: 5, backlog: 5, first_response_count: 2, sla_eligible: 5 });
    const [duck] = JSON.parse(await cli('query', '--kpi', 'summary', '--from', from, '--to', to, '--json'));
    expectSameKpis(duck, api.body.overall, 'DuckDB vs API');
  });
});
