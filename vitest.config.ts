import { defineConfig } from 'vitest/config';

// The SDK warns on Node 20 in every process (global setup and test workers inherit this).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    setupFiles: ['tests/helpers/setup-env.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // expect.poll waits 1 s by default: too short for a browser test whose page reads the sharded
    // inbox (64 partition queries against DynamoDB Local) while the suite loads both cores.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // One worker (vitest's default on 2 cores) that keeps its module cache between files: the
    // suite is bound by DynamoDB Local's CPU, and re-importing the SDK, CDK and the runtime for
    // every file cost ~100 s of a ~540 s run; two workers were slower (measured: 5m41 vs 4m27).
    // Files must leave no global state behind (tables are per file, clocks per runtime, spies
    // restored in afterAll).
    isolate: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});
