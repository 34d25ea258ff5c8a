/**
 * Hostile-input figures (issue 17), printed, never asserted:
 * - a classification rule `^(\w+\s?)+$` (catastrophic backtracking on V8) matched by the RE2
 *   engine the rules use (functions/domain/rules.ts) against a 4,096-character adversarial text,
 *   next to V8's own engine on short texts of the same shape (V8 doubles per character; 4,096
 *   characters would not finish);
 * - the e-mail quoted-history stripper and text normaliser on hostile bodies (the
 *   email-reply-parser package took minutes on these).
 *
 * `npx tsx bench/hostile-input.ts` prints them alone; bench/run.ts prints them with the rest.
 */
import { fileURLToPath } from 'node:url';
import { classify, MAX_MATCH_TEXT, RuleListSchema } from '../functions/domain/rules.js';
import { normaliseText, stripQuotedHistory } from '../functions/channels/email/mime.js';

const row = (label: string, value: string) => console.log(`  ${label.padEnd(48)} ${value}`);

function median(runs: number, task: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) { const t = performance.now(); task(); times.push(performance.now() - t); }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

export function hostileInputBench(): void {
  const pattern = '^(\\w+\\s?)+$';
  const rules = RuleListSchema.parse([{ id: 'redos', pattern, set: { priority: 'urgent' } }]);
  const adversarial = (n: number) => 'a'.repeat(n - 1) + '!';
  console.log(`Hostile input (median of runs, ms)\n`);
  classify(rules, adversarial(64), 'en'); // compile + warm-up
  const first = performance.now();
  classify(RuleListSchema.parse([{ id: 'cold', pattern: `${pattern}|cold`, set: { priority: 'urgent' } }]), adversarial(MAX_MATCH_TEXT), 'en');
  row(`RE2 ${pattern}, first call (compiles)`, `${(performance.now() - first).toFixed(2)} ms`);
  for (const n of [1024, 2048, MAX_MATCH_TEXT]) {
    row(`RE2 ${pattern}, ${n}-char adversarial text`, `${median(21, () => classify(rules, adversarial(n), 'en')).toFixed(3)} ms`);
  }
  const v8 = new RegExp(pattern, 'iu');
  for (const n of [18, 20, 22]) row(`V8 ${pattern}, ${n}-char adversarial text`, `${median(3, () => v8.test(adversarial(n))).toFixed(1)} ms`);

  const hostile = [('Op x schreef y\n').repeat(40_000), `On ${'a '.repeat(100_000)}`, `${'>\n'.repeat(50_000)}x`, `${'\n'.repeat(200_000)}x`].join('\n');
  row(`e-mail stripQuotedHistory, ${(hostile.length / 1024).toFixed(0)} KiB hostile body`, `${median(5, () => stripQuotedHistory(hostile)).toFixed(1)} ms`);
  row(`e-mail normaliseText, same body`, `${median(5, () => normaliseText(hostile)).toFixed(1)} ms`);
  console.log('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) hostileInputBench();
