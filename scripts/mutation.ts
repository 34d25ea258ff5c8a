/**
 * `npm run test:mutation [group …]`: mutation testing of the boundary modules (issue 17). Runs
 * Stryker once per group of stryker.config.mjs (all groups, or those named), one after the other,
 * then prints the score of each module from the JSON reports (reports/mutation/<group>/mutation.json):
 *
 *   module  killed/total  score
 *
 * "killed" counts the mutants a test detected (killed, or timed out: an endless loop is caught
 * too); "total" every valid mutant (surviving and uncovered ones included; mutants that do not
 * compile or were ignored are not variants of the behaviour). Exits 1 when a module is under the
 * 80 % of issue 17, or when a group's run failed.
 *
 *   --score-only   print the scores of the last runs without running Stryker
 *   --survivors    also list each surviving mutant (file:line mutator → replacement), the list
 *                  docs/mutation.md answers
 *   --markdown     print the table as Markdown (the README's)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const MINIMUM = 80;
const { GROUPS } = (await import(new URL('../stryker.config.mjs', import.meta.url).href)) as { GROUPS: Readonly<Record<string, readonly string[]>> };

interface Mutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report { readonly files: Readonly<Record<string, { readonly mutants: readonly Mutant[] }>> }

const args = process.argv.slice(2);
const known = Object.keys(GROUPS);
const named = args.filter((a) => !a.startsWith('--'));
const unknown = named.filter((g) => !known.includes(g));
if (unknown.length) {
  console.error(`mutation: no group ${unknown.join(', ')} (groups: ${known.join(', ')})`);
  process.exit(2);
}
const groups = named.length ? named : known;

let failed = false;
if (!args.includes('--score-only')) {
  for (const group of groups) {
    console.log(`\n=== mutation testing: ${group} ===`);
    const r = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, STRYKER_GROUP: group } });
    if (r.status !== 0) {
      console.error(`mutation: Stryker failed for ${group} (exit ${r.status ?? r.signal})`);
      failed = true;
    }
  }
}

const DETECTED = new Set(['Killed', 'Timeout']);
const VALID = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

const rows: Array<{ path: string; killed: number; total: number; score: number; mutants: readonly Mutant[] }> = [];
const missing: string[] = [];
for (const group of known) {
  const file = `reports/mutation/${group}/mutation.json`;
  if (!existsSync(file)) {
    missing.push(group);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  // Only the files the group mutates now (a report from before a file moved to another group
  // would count it twice).
  const files = new Set(GROUPS[group]!.map((p) => p.replace(/:\d[\d:-]*$/, '')));
  for (const [path, { mutants }] of Object.entries(report.files)) {
    if (!files.has(path)) continue;
    const valid = mutants.filter((m) => VALID.has(m.status));
    if (valid.length === 0) continue;
    const killed = valid.filter((m) => DETECTED.has(m.status)).length;
    rows.push({ path, killed, total: valid.length, score: (100 * killed) / valid.length, mutants });
  }
}
rows.sort((a, b) => a.path.localeCompare(b.path));

if (args.includes('--markdown')) {
  console.log('| module | killed / total | score |\n|---|---:|---:|');
  for (const r of rows) console.log(`| \`${r.path}\` | ${r.killed} / ${r.total} | ${r.score.toFixed(1)} % |`);
}
const width = Math.max(...rows.map((r) => r.path.length), 'module'.length);
const line = (a: string, b: string, c: string) => `${a.padEnd(width)}  ${b.padStart(12)}  ${c.padStart(7)}`;
console.log(`\n${line('module', 'killed/total', 'score')}`);
for (const r of rows) console.log(line(r.path, `${r.killed}/${r.total}`, `${r.score.toFixed(1)} %`) + (r.score < MINIMUM ? `  under ${MINIMUM} %` : ''));
const killed = rows.reduce((n, r) => n + r.killed, 0);
const total = rows.reduce((n, r) => n + r.total, 0);
console.log(line('all', `${killed}/${total}`, `${((100 * killed) / Math.max(total, 1)).toFixed(1)} %`));
if (missing.length) console.log(`\nnot run yet: ${missing.join(', ')} (npm run test:mutation ${missing.join(' ')})`);

if (args.includes('--survivors')) {
  console.log('\nsurviving mutants:');
  for (const r of rows) {
    for (const m of r.mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
      console.log(`${r.path}:${m.location.start.line}  ${m.mutatorName}${m.status === 'NoCoverage' ? ' (no test covers it)' : ''}  → ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)}`);
    }
  }
}

const low = rows.filter((r) => r.score < MINIMUM);
if (low.length) console.error(`mutation: ${low.length} module(s) under ${MINIMUM} %: ${low.map((r) => r.path).join(', ')}`);
if (rows.length === 0) console.error('mutation: no mutation report found under reports/mutation/');
process.exit(failed || low.length > 0 || rows.length === 0 || (named.length === 0 && missing.length > 0) ? 1 : 0);
