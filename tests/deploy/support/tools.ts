/**
 * The Python tools the deployment test needs besides Node and Java: `moto_server` (AWS service
 * emulators) and `cfn-lint` (CloudFormation linter). Probed by running them, not by looking at
 * PATH: a pyenv shim is on PATH even when the package is not installed for the active Python.
 */
import { spawnSync } from 'node:child_process';

/** What a user without the tools is told (README "Deployment test" says the same). */
export const INSTALL_HINT = "install them with: pip install 'moto[server]' cfn-lint";

const PROBES: ReadonlyArray<{ readonly tool: string; readonly args: readonly string[] }> = [
  { tool: 'moto_server', args: ['--help'] },
  { tool: 'cfn-lint', args: ['--version'] },
];

/** The tools that do not run here (empty when all do). */
export function missingTools(): string[] {
  return PROBES.filter(({ tool, args }) => {
    const r = spawnSync(tool, args, { stdio: 'ignore', timeout: 30_000 });
    return r.error !== undefined || r.status !== 0;
  }).map((p) => p.tool);
}

export class MissingToolsError extends Error {
  override readonly name = 'MissingToolsError';
}

/** Throws, naming the missing tools and how to install them, unless both run. */
export function requireTools(): void {
  const missing = missingTools();
  if (missing.length) throw new MissingToolsError(`test:deploy needs ${missing.join(' and ')} (Python tools), which did not run here; ${INSTALL_HINT}`, { cause: { missing } });
}
