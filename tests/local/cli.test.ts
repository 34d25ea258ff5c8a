/** `npx confluo` through its real launcher (bin/confluo.js → tsx → bin/confluo.ts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toCsv, toTable } from '../../local/cli.js';
import { REPO_ROOT } from '../helpers/samples.js';

const confluo = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'bin/confluo.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

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
