/**
 * Stage 3 — every function's asset imported in Node as Lambda would: the asset copied to a task
 * root with no node_modules of this repository anywhere above it, only the runtime's `@aws-sdk/*`
 * beside it when the bundle leaves the SDK external (support/lambda-task.ts), imported in a child
 * `node` with the template's NODE_OPTIONS (`--enable-source-maps`); `handler` must be a function.
 * The bundle's external imports must all be Node built-ins, the runtime's SDK, or packages the
 * asset ships. Every bundle stays within its byte budget (tests/helpers/function-bundles.ts). This machine runs Node 20; the functions deploy on the template's runtime
 * (nodejs22.x).
 */
import { cpSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { synthesize, type FunctionResource } from './support/assembly.js';
import { LambdaHost, type InitReport, type LambdaInvocationError } from './support/lambda-host.js';
import { prepareLambdaTask, type LambdaTask } from './support/lambda-task.js';
import { bundleFunction, overBudget } from '../helpers/function-bundles.js';
import type { HandlerName } from '../../lib/confluo-function.js';

/** Import only: the template's NODE_OPTIONS and nothing of this process's environment. */
function importHost(fn: FunctionResource, task: LambdaTask, root = task.root): LambdaHost {
  const nodeOptions = fn.environment.NODE_OPTIONS;
  return new LambdaHost({
    name: fn.handlerName, moduleFile: join(root, task.moduleFile.slice(task.root.length + 1)), exportName: task.exportName, cwd: root,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', AWS_REGION: 'eu-central-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...(typeof nodeOptions === 'string' ? { NODE_OPTIONS: nodeOptions } : {}) },
    timeoutSeconds: fn.timeoutSeconds, functionArn: `arn:aws:lambda:eu-central-1:123456789012:function:${fn.logicalId}`,
  });
}

describe(`stage 3: assets imported as Lambda imports them (Node ${process.version} here)`, () => {
  it('imports every bundle with only the runtime\'s AWS SDK beside it, source maps enabled, and finds its handler', async () => {
    const workDir = inject('deployWorkDir');
    const assembly = await synthesize(workDir);
    const rows: string[] = [];
    const problems: string[] = [];
    for (const fn of assembly.functions()) {
      const task = await prepareLambdaTask(workDir, fn);
      const host = importHost(fn, task);
      let init: InitReport;
      try { init = await host.start(); } finally { await host.stop(); }
      const shipped = task.packageImports.filter((p) => existsSync(join(task.root, 'node_modules', p, 'package.json')));
      const missing = task.packageImports.filter((p) => !shipped.includes(p));
      rows.push(`  ${fn.handlerName.padEnd(13)} ${fn.runtime}/${fn.architectures.join(',')}  init ${String(init.initMs).padStart(4)} ms  handler: ${init.handlerType}  source maps: ${init.sourceMapsEnabled}  runtime SDK: ${task.needsRuntimeSdk ? 'external' : 'bundled'}${shipped.length ? `  ships: ${shipped.join(', ')}` : ''}${task.hostSubstitutes.length ? `  (host binding added: ${task.hostSubstitutes.join(', ')})` : ''}`);
      if (init.error) problems.push(`${fn.handlerName}: ${init.error.errorType}: ${init.error.errorMessage}`);
      if (init.handlerType !== 'function') problems.push(`${fn.handlerName}: handler is ${init.handlerType}`);
      if (fn.environment.NODE_OPTIONS === '--enable-source-maps' && !init.sourceMapsEnabled) problems.push(`${fn.handlerName}: NODE_OPTIONS=--enable-source-maps did not enable source maps`);
      if (missing.length) problems.push(`${fn.handlerName}: imports ${missing.join(', ')}, which neither the runtime nor the asset provides`);
    }
    console.log(`imports (Node ${process.version}):\n${rows.join('\n')}`);
    expect(problems).toEqual([]);
  });

  it('maps stack traces to the TypeScript sources, as NODE_OPTIONS=--enable-source-maps promises', async () => {
    const workDir = inject('deployWorkDir');
    const assembly = await synthesize(workDir);
    const problems: string[] = [];
    for (const fn of assembly.functions()) {
      const task = await prepareLambdaTask(workDir, fn);
      // Node finds a bundle's map only through its sourceMappingURL comment
      // (https://nodejs.org/api/cli.html#--enable-source-maps); the map must reach the handler's source.
      const link = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(task.moduleFile, 'utf8').slice(-500))?.[1];
      const mapFile = link ? join(task.root, link) : `${task.moduleFile}.map`;
      const sources = existsSync(mapFile) ? (JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[] }).sources : [];
      if (!link) problems.push(`${fn.handlerName}: ${task.moduleFile.slice(task.root.length + 1)} has no sourceMappingURL comment, so Node never loads ${mapFile.slice(task.root.length + 1)}${existsSync(mapFile) ? ' (shipped beside it)' : ''}`);
      else if (!sources.some((src) => src.endsWith(`functions/handlers/${fn.handlerName}.ts`))) problems.push(`${fn.handlerName}: its source map does not lead to functions/handlers/${fn.handlerName}.ts`);
    }
    // And in a running bundle: a handler error's stack names the TypeScript file.
    const fn = assembly.fn('sla-evaluate');
    const task = await prepareLambdaTask(workDir, fn);
    const host = importHost(fn, task);
    const trace = await host.invoke({ not: 'an SLA step input' }).then(() => [] as readonly string[], (e: LambdaInvocationError) => e.error.trace).finally(() => host.stop());
    if (!trace.slice(1).some((l) => l.includes('functions/handlers/sla-evaluate.ts'))) problems.push(`sla-evaluate: a thrown error's stack points into the minified bundle: ${trace.slice(0, 3).join(' | ')}`);
    expect(problems).toEqual([]);
  });

  it('keeps every synthesised bundle within its size budget, and the infra test\'s bundles are these', async () => {
    // Budgets: tests/helpers/function-bundles.ts (README "Entry points"); bytes only, never time.
    const workDir = inject('deployWorkDir');
    const assembly = await synthesize(workDir);
    const rows: string[] = [];
    const problems: string[] = [];
    for (const fn of assembly.functions()) {
      const name = fn.handlerName as HandlerName;
      const bytes = statSync(join(fn.assetDir, 'index.mjs')).size;
      const over = overBudget(name, bytes);
      if (over) problems.push(over);
      // tests/infra/bundle-budgets.test.ts bundles outside CDK with the same options: the sizes it holds must be these.
      const rebuilt = await bundleFunction(name, join(workDir, 'rebundled'));
      if (Math.abs(rebuilt.bytes - bytes) > bytes * 0.01) problems.push(`${name}: esbuild outside CDK gives ${rebuilt.bytes} bytes, the synthesised asset has ${bytes} (tests/helpers/function-bundles.ts esbuildOptionsFor no longer matches lib/confluo-function.ts)`);
      rows.push(`  ${name.padEnd(13)} ${String(bytes).padStart(9)} bytes  (outside CDK: ${rebuilt.bytes})`);
    }
    console.log(`bundle sizes (index.mjs):\n${rows.join('\n')}`);
    expect(problems).toEqual([]);
  }, 120_000);

  it('is a real check: a bundle that needs the runtime SDK does not import without it', async () => {
    const workDir = inject('deployWorkDir');
    const assembly = await synthesize(workDir);
    const fn = assembly.fn('ingest');
    const task = await prepareLambdaTask(workDir, fn);
    // A task root with nothing beside it: only an SDK-free bundle imports there.
    const bare = join(workDir, 'isolated', fn.logicalId);
    rmSync(bare, { recursive: true, force: true });
    cpSync(fn.assetDir, bare, { recursive: true });
    const host = importHost(fn, task, bare);
    let init: InitReport;
    try { init = await host.start(); } finally { await host.stop(); }
    if (task.needsRuntimeSdk) {
      expect(init.error?.errorType).toBe('Runtime.ImportModuleError');
      expect(init.error?.errorMessage).toMatch(/@aws-sdk\//);
    } else {
      expect(init.error).toBeNull();
    }
  });
});
