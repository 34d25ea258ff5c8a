/**
 * Global setup of `npm run test:deploy`: refuses to start without the Python tools (with the
 * sentence that says how to install them) and gives the run one work directory outside any Node
 * project — the cloud assembly, the Lambda task roots and the runtime's SDK copy live there — removed
 * in teardown (kept with DEPLOY_TEST_KEEP=1, for a look at the bundles). DEPLOY_TEST_WORKDIR=<dir>
 * reuses a kept directory (its synthesis too) when iterating on a later stage; it is never removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { requireTools } from './support/tools.js';

declare module 'vitest' {
  export interface ProvidedContext { deployWorkDir: string }
}

export default function setup(project: TestProject) {
  requireTools();
  const reused = process.env.DEPLOY_TEST_WORKDIR;
  const workDir = reused ?? mkdtempSync(join(tmpdir(), 'confluo-deploy-'));
  project.provide('deployWorkDir', workDir);
  return () => {
    if (reused) return;
    if (process.env.DEPLOY_TEST_KEEP === '1') console.log(`deployment test work directory kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
}
