/**
 * `npm run test:deploy`: the artifacts `cdk deploy` ships, run the way AWS runs them, offline
 * (README "Deployment test"). One stage per file under tests/deploy, run in file order by one
 * worker (the stages share the synthesised assembly in the run's work directory). The files end
 * in `.stage.ts`, so `npm test` (tests/**\/*.test.ts) never runs them.
 */
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The SDK warns on Node 20 in every process.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Stages run in the order of their file names (01-…, 02-…). */
class StageOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => relative(process.cwd(), a.moduleId).localeCompare(relative(process.cwd(), b.moduleId)));
  }
}

export default defineConfig({
  test: {
    include: ['tests/deploy/**/*.stage.ts'],
    globalSetup: ['tests/deploy/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: false,
    sequence: { sequencer: StageOrder },
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Every test's time is printed, not only slow ones: the output names each stage with its time.
    slowTestThreshold: 0,
    reporters: ['verbose', './tests/deploy/support/stage-reporter.ts', ...(process.env.CI ? [['json', { outputFile: 'test-results/deploy.json' }] as ['json', { outputFile: string }]] : [])],
  },
});
