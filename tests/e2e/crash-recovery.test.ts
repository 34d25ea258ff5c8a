/**
 * Kill -9 the runtime while it is processing, restart it on the same data directory: every
 * acknowledged (2xx) webhook is processed exactly once — nothing lost, nothing duplicated.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ddbEndpoint } from '../helpers/ddb.js';
import { TEST_SECRETS, REPO_ROOT } from '../helpers/samples.js';
import { apiClient } from '../helpers/runtime.js';
import { telegramText } from '../helpers/pipeline.js';
import { LocalQueue } from '../../local/queues.js';

const TG = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'test-telegram-secret-000' };

describe('crash recovery of the local runtime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'confluo-crash-'));
  const table = `crash-${randomUUID().slice(0, 8)}`;
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ child: ChildProcess; url: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tests/e2e/fixtures/runtime-child.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...TEST_SECRETS, CONFLUO_DATA_DIR: dataDir, CONFLUO_LOG_LEVEL: 'SILENT', TEST_DDB_ENDPOINT: ddbEndpoint(), TEST_TABLE: table },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`runtime child exited with ${code}`)));
    });
    return { child, url: JSON.parse(line).url };
  };

  // Two child processes each load the whole runtime through tsx: slow on a busy 2-core machine.
  it('loses and duplicates nothing when killed in the middle of processing', { timeout: 300_000 }, async () => {
    const first = await start();
    const api = apiClient(first.url);
    const fromId = 880000001;
    const acknowledged: string[] = [];
    // Post updates one after another and kill the process while it is still working on them.
    for (let i = 0; i < 60; i++) {
      const text = `message ${i}`;
      const res = await api.webhook('telegram', { headers: TG, body: telegramText({ updateId: 500_000 + i, fromId, text }) });
      if (res.status === 200) acknowledged.push(text);
      if (i === 45) first.child.kill('SIGKILL');
      if (i >= 45) break;
    }
    await new Promise((r) => first.child.once('exit', r));
    expect(acknowledged.length).toBeGreaterThan(40);
    // The kill really happened mid-work: acknowledged records were still queued or in flight.
    const journal = new LocalQueue({ name: 'inbound.fifo', fifo: true, journalPath: join(dataDir, 'queues', 'inbound.fifo.jsonl') });
    const pending = journal.stats();
    journal.close();
    expect(pending.depth + pending.inFlight).toBeGreaterThan(0);

    const second = await start();
    const api2 = apiClient(second.url);
    // Post the last few again, as a platform would retry: they must not duplicate.
    for (let i = 40; i < 46; i++) await api2.webhook('telegram', { headers: TG, body: telegramText({ updateId: 500_000 + i, fromId, text: `message ${i}` }) });
    // A generous settle deadline: the restarted child replays ~46 records through tsx while the rest
    // of the suite shares the 2 cores (the 30 s default ran out once under CI load).
    const settled = await api2.post('/dev/settle', { timeoutSeconds: 150 });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);

    const token = await api2.token('auditor', 'agent');
    const card = (await api2.get(`/api/v1/customers?identity=telegram:${fromId}`, token)).body.items[0];
    expect(card.tickets).toHaveLength(1);
    const timeline = (await api2.get(`/api/v1/tickets/${card.tickets[0].id}/timeline`, token)).body.items;
    // Inbound messages only: the auto-acknowledgement is an outbound message on the same timeline.
    const texts = timeline
      .filter((e: { type: string; direction?: string }) => e.type === 'message' && e.direction === 'in')
      .map((e: { text: string }) => e.text);
    expect(new Set(texts).size).toBe(texts.length); // no duplicates
    for (const t of acknowledged) expect(texts).toContain(t); // nothing acknowledged is lost
    expect((await api2.get(`/api/v1/tickets/${card.tickets[0].id}`, token)).body.message_count).toBe(texts.length);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
