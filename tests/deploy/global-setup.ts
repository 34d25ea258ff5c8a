/**
 * Global setup of `npm run test:deploy`: refuses to start without the Python tools (with the
 * sentence that says how to install them) and gives the run one work directory outside any Node
 * project — the cloud assembly, the Lambda task roots and the runtime's SDK copy live there — removed
 * in teardown (kept with DEPLOY_TEST_KEEP=1, for a look at the bundles). DEPLOY_TEST_WORKDIR=<dir>
 * reuses a kept directory (its synthesis too) when iterating on a later stage; it is never removed.
 *
 * It also starts the run's emulators, moto_server and DynamoDB Local (in memory), once: each
 * stage that deploys empties moto and creates its own resources (harness/deployment.ts). The
 * teardown stops both by their pids.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { startMoto } from './harness/moto.js';
import { requireTools } from './support/tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    deployWorkDir: string;
    deployEmulators: { moto: string; dynamodb: string };
  }
}

type Emulator = { readonly endpoint: string; stop(): Promise<void> };

export default async function setup(project: TestProject) {
  requireTools();
  const started = await Promise.allSettled<Emulator>([startMoto(), startDynamoDbLocal({ inMemory: true })]);
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((e) => e.stop()));
    throw failed.reason;
  }
  const [moto, dynamodb] = running as [Emulator, Emulator];
  const reused = process.env.DEPLOY_TEST_WORKDIR;
  const workDir = reused ?? mkdtempSync(join(tmpdir(), 'confluo-deploy-'));
  project.provide('deployWorkDir', workDir);
  project.provide('deployEmulators', { moto: moto.endpoint, dynamodb: dynamodb.endpoint });
  return async () => {
    await Promise.all([moto.stop(), dynamodb.stop()]);
    if (reused) return;
    if (process.env.DEPLOY_TEST_KEEP === '1') console.log(`deployment test work directory kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
}
