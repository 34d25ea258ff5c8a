/**
 * Prints one line per stage at the end of `npm run test:deploy`: the stage (its describe block),
 * the wall time of its file — tests AND hooks, so a stage's deployment start counts — and how its
 * tests ended. The verbose reporter above it shows each test with its own time.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class StageReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = [...modules].sort((a, b) => a.moduleId.localeCompare(b.moduleId)).map((m) => {
      const stage = [...m.children.suites()][0]?.name ?? m.moduleId.split('/').at(-1)!;
      const tests = [...m.children.allTests()];
      const failed = tests.filter((t) => t.result().state === 'failed').length;
      const passed = tests.filter((t) => t.result().state === 'passed').length;
      const seconds = (m.diagnostic().duration / 1000).toFixed(1).padStart(6);
      return `  ${stage.padEnd(64).slice(0, 64)} ${seconds} s  ${passed} passed${failed ? `, ${failed} failed` : ''}`;
    });
    const total = [...modules].reduce((s, m) => s + m.diagnostic().duration, 0);
    console.log(`\nDeployment test stages (time includes each stage's setup):\n${rows.join('\n')}\n  ${'all stages'.padEnd(64)} ${(total / 1000).toFixed(1).padStart(6)} s\n`);
  }
}
