import { defineConfig } from 'vitest/config';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * The tests `npm run test:mutation` (stryker.config.mjs) runs against the mutants of each group:
 * the unit tests of those modules, which need no DynamoDB Local, no local runtime and no browser.
 * A mutant evaluated when its module loads (a constant table) reruns every test file of its
 * group that imports the module, so each group lists only its own tests. The same files run in
 * `npm test` with the rest of the suite.
 */
const TESTS: Readonly<Record<string, readonly string[]>> = {
  // Not the hostile-input fuzz of tests/channels/contract.test.ts: thousands of requests per
  // mutant (it runs in `npm test`).
  channels: ['telegram', 'vk', 'viber', 'twilio', 'webchat', 'meta', 'messenger', 'whatsapp', 'instagram', 'secret-comparison', 'registry']
    .map((f) => `tests/channels/${f}.test.ts`),
  sns: ['tests/channels/email.test.ts', 'tests/channels/email-trust.test.ts'],
  'agent-api': ['tests/handlers/agent-api/*.test.ts'],
  tickets: ['tests/domain/triage.test.ts', 'tests/domain/ticket.test.ts'],
  survey: ['tests/domain/survey.test.ts', 'tests/domain/survey-token.test.ts'],
  'survey-token': ['tests/domain/survey-token.test.ts'],
  identity: ['tests/domain/identity.test.ts'],
  redact: ['tests/domain/redact.test.ts'],
};

const group = process.env.STRYKER_GROUP;

export default defineConfig({
  test: {
    include: [...(group !== undefined && group in TESTS ? TESTS[group]! : Object.values(TESTS).flat())],
    setupFiles: ['tests/helpers/setup-env.ts'],
    testTimeout: 60_000,
  },
});
