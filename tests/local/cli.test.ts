/** `npx confluo` through its real launcher (bin/confluo.js → tsx → bin/confluo.ts). */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toCsv, toTable } from '../../local/cli.js';
import { testRuntime } from '../helpers/runtime.js';
import { loadSamples, REPO_ROOT } from '../helpers/samples.js';

const confluo = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin/confluo.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

/** The same, without blocking this process (which then serves a runtime the CLI talks to). */
const confluoAsync = async (args: string[], env: Record<string, string>) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'bin/confluo.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { status: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
};

describe('confluo CLI', () => {
  it('lists the named KPI queries', () => {
    const r = confluo(['query', '--kpi', 'list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^summary\s+Every KPI/m);
    expect(r.stdout).toMatch(/^sla_attainment\s+SLA attainment/m);
  });

  it('explains what to do when nothing was exported yet, with exit code 2', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'confluo-cli-'));
    try {
      const r = confluo(['query', '--sql', 'select count(*) from tickets'], { CONFLUO_DATA_DIR: dataDir });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('run `npx confluo export` first');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('exports the store of a running in-memory runtime, found through runtime.json, and names that store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'confluo-cli-'));
    const rt = await testRuntime({ CONFLUO_DATA_DIR: dataDir }, { announce: true });
    try {
      const runtimeFile = join(dataDir, 'runtime.json');
      expect(JSON.parse(readFileSync(runtimeFile, 'utf8'))).toMatchObject({ pid: process.pid, url: rt.url, in_memory: true });
      const telegram = loadSamples('telegram').find((s) => s.name === '01-text')!;
      expect((await rt.api.webhook('telegram', { headers: telegram.request.headers, body: telegram.request.body })).status).toBe(200);
      await rt.settle();

      const r = await confluoAsync(['export'], { CONFLUO_DATA_DIR: dataDir });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`store: running runtime pid ${process.pid} at ${rt.url} (in memory)`);
      expect(r.stdout).toMatch(/rows written: tickets 1,/);
      expect(r.stdout).toContain(`in ${join(dataDir, 'export')}`);
      const q = await confluoAsync(['query', '--sql', 'select count(*) as n from tickets', '--json'], { CONFLUO_DATA_DIR: dataDir });
      expect(JSON.parse(q.stdout)).toEqual([{ n: 1 }]);

      await rt.stop();
      expect(existsSync(runtimeFile)).toBe(false);
    } finally {
      await rt.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('opens the data directory itself when no runtime is running, and says so', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'confluo-cli-'));
    try {
      const r = await confluoAsync(['export'], { CONFLUO_DATA_DIR: dataDir });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`store: data directory ${dataDir} (no runtime running)`);
      expect(r.stdout).toMatch(/rows written: tickets 0,/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown command with the usage', () => {
    const r = confluo(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage:');
  });

  it('formats rows as an aligned table and as RFC 4180 CSV', () => {
    const rows = [{ channel: 'telegram', n: 5, tags: ['a'] }, { channel: 'e-mail, "x"', n: null, tags: [] }];
    expect(toTable(rows)).toBe('channel      n  tags\n-----------  -  -----\ntelegram     5  ["a"]\ne-mail, "x"     []');
    expect(toCsv(rows)).toBe('channel,n,tags\ntelegram,5,"[""a""]"\n"e-mail, ""x""",,[]');
  });
});
