/**
 * A function's code laid out the way the Lambda runtime sees it: the asset directory copied to a
 * task root of its own, with NO node_modules of this repository anywhere above it — except the
 * AWS SDK when the bundle leaves it external (`externalModules: ['@aws-sdk/*']`): the Node.js
 * runtimes ship AWS SDK v3, so a copy of the `@aws-sdk/*` packages (and only their transitive
 * dependencies) sits in a `node_modules` beside the task roots, where Node's resolution finds it
 * as the runtime's would (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included).
 * Whether the SDK is needed follows the bundle, not a flag: its bare `@aws-sdk/` imports decide.
 *
 * The SDK copied is this lockfile's, not the one the runtime ships (issue 12, item 10).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT, type FunctionResource } from './assembly.js';

const REPO_MODULES = join(REPO_ROOT, 'node_modules');

export interface BundleImport {
  /** The specifier as written (`@aws-sdk/client-sqs`, `node:fs`, `module`). */
  readonly path: string;
  readonly kind: string;
}

export interface LambdaTask {
  /** LAMBDA_TASK_ROOT: the asset's files, copied. */
  readonly root: string;
  /** The handler module file (`index.mjs` for `index.handler`). */
  readonly moduleFile: string;
  /** The exported function name (`handler`). */
  readonly exportName: string;
  /** Every external import of the handler module. */
  readonly imports: readonly BundleImport[];
  /** The bundle imports the AWS SDK, so the runtime's copy is beside it. */
  readonly needsRuntimeSdk: boolean;
  /** Bare imports that are neither Node built-ins nor the runtime's SDK (must be in the asset's node_modules). */
  readonly packageImports: readonly string[];
  /** Native packages added for this machine's platform (the arm64 ones cannot load here). */
  readonly hostSubstitutes: readonly string[];
}

export class LambdaTaskError extends Error {
  override readonly name = 'LambdaTaskError';
}

/** The module file and export named by a Lambda `Handler` (`index.handler`). */
export function handlerModule(assetDir: string, handler: string): { file: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  const base = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  // The Node.js runtime tries .js, .mjs and .cjs (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html).
  for (const ext of ['.js', '.mjs', '.cjs']) if (existsSync(join(assetDir, `${base}${ext}`))) return { file: `${base}${ext}`, exportName };
  throw new LambdaTaskError(`lambda-task: no module for handler '${handler}' in the asset`, { cause: { assetDir } });
}

/**
 * External imports of a bundle, read by esbuild's parser (static and dynamic imports); plus any
 * `require("@aws-sdk/…")` / `__require("@aws-sdk/…")` call, which catches a CommonJS
 * dependency's `require()` of the SDK that esbuild routes through its own `__require` wrapper.
 * (A bare quoted `@aws-sdk/…` string is no import: a bundled SDK names its packages in user-agent
 * strings and messages.)
 */
export async function bundleImports(file: string): Promise<BundleImport[]> {
  const result = await build({ entryPoints: [file], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', external: ['*'], logLevel: 'silent' });
  const input = Object.values(result.metafile.inputs)[0];
  const found = new Map<string, BundleImport>();
  for (const i of input?.imports ?? []) found.set(`${i.kind} ${i.path}`, { path: i.path, kind: i.kind });
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:__require|\brequire)\s*\(\s*["'`](@aws-sdk\/[a-z0-9.-]+(?:\/[A-Za-z0-9._/-]+)?)["'`]\s*\)/g)) {
    if (![...found.values()].some((i) => i.path === m[1])) found.set(`require ${m[1]}`, { path: m[1]!, kind: 'require-call' });
  }
  return [...found.values()];
}

/**
 * Optional packages the SDK tries to `require()` inside a try/catch and does without: the SigV4a
 * signers (the CRT one and the JS one) are needed only for multi-region access points, which
 * Confluo never uses.
 */
const OPTIONAL_SDK_PACKAGES = new Set(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a']);

const packageName = (specifier: string) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);

const prepared = new Map<string, Promise<LambdaTask>>();

/**
 * Copy a function's asset to `<workDir>/lambda/<logicalId>` (once) and put the runtime's SDK
 * beside it when the bundle needs it. On a machine that is not linux-arm64, native packages of
 * the asset get their host-platform sibling added (same package version, from this repository),
 * so the code can load here; `hostSubstitutes` names them. Prepared once per process (the
 * stages share one process): every later call returns the same task.
 */
export function prepareLambdaTask(workDir: string, fn: FunctionResource): Promise<LambdaTask> {
  const key = `${workDir}\0${fn.logicalId}`;
  let task = prepared.get(key);
  if (!task) {
    task = prepare(workDir, fn);
    prepared.set(key, task);
    task.catch(() => prepared.delete(key));
  }
  return task;
}

async function prepare(workDir: string, fn: FunctionResource): Promise<LambdaTask> {
  const lambdaDir = join(workDir, 'lambda');
  assertNoModulesAbove(lambdaDir);
  const { file, exportName } = handlerModule(fn.assetDir, fn.handler);
  const imports = await bundleImports(join(fn.assetDir, file));
  const bare = [...new Set(imports.map((i) => i.path).filter((p) => !isBuiltin(p) && !OPTIONAL_SDK_PACKAGES.has(p)).map(packageName))];
  const needsRuntimeSdk = bare.some((p) => p.startsWith('@aws-sdk/'));
  const root = join(lambdaDir, fn.logicalId);
  if (!existsSync(root)) cpSync(fn.assetDir, root, { recursive: true, dereference: true });
  if (needsRuntimeSdk) installRuntimeSdk(lambdaDir);
  const hostSubstitutes = addHostNatives(root);
  return { root, moduleFile: join(root, file), exportName, imports, needsRuntimeSdk, packageImports: bare.filter((p) => !p.startsWith('@aws-sdk/')), hostSubstitutes };
}

/** Node would resolve a missing package from any node_modules above the task root: there must be none. */
function assertNoModulesAbove(dir: string): void {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules')) && d !== resolve(dir)) throw new LambdaTaskError(`lambda-task: ${join(d, 'node_modules')} exists above the task roots; the import check needs a work directory outside any Node project`);
    if (dirname(d) === d) return;
  }
}

/** The `@aws-sdk/*` packages of this repository and their transitive dependencies, into `<lambdaDir>/node_modules` (once). */
function installRuntimeSdk(lambdaDir: string): void {
  const target = join(lambdaDir, 'node_modules');
  if (existsSync(join(target, '.confluo-runtime-sdk'))) return;
  for (const top of sdkClosure()) cpSync(join(REPO_MODULES, top), join(target, top), { recursive: true, dereference: true });
  cpSync(join(REPO_ROOT, 'package-lock.json'), join(target, '.confluo-runtime-sdk'));
}

/** Top-level package directories (relative to node_modules) reachable from `@aws-sdk/*`. */
export function sdkClosure(): string[] {
  const roots = new Set<string>();
  const seen = new Set<string>();
  const queue = readdirSync(join(REPO_MODULES, '@aws-sdk')).map((n) => join(REPO_MODULES, '@aws-sdk', n));
  while (queue.length) {
    const dir = queue.pop()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    roots.add(topLevelOf(dir));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const found = locate(dep, dir);
      if (found) queue.push(found);
      else if (!pkg.optionalDependencies?.[dep]) throw new LambdaTaskError(`lambda-task: ${dep} (a dependency of ${relative(REPO_MODULES, dir)}) is not installed`);
    }
  }
  return [...roots].sort();
}

/** Node's lookup: `<dir>/node_modules/<dep>`, then each parent's, up to the repository's node_modules. */
function locate(dep: string, fromDir: string): string | undefined {
  for (let d = fromDir; d.startsWith(REPO_MODULES); d = dirname(d)) {
    const candidate = join(d, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  const top = join(REPO_MODULES, dep);
  return existsSync(join(top, 'package.json')) ? top : undefined;
}

function topLevelOf(dir: string): string {
  const parts = relative(REPO_MODULES, dir).split(sep);
  return parts[0]!.startsWith('@') ? join(parts[0]!, parts[1]!) : parts[0]!;
}

/** Platform-specific native packages (`<name>-linux-arm64`) whose host sibling is missing. */
function addHostNatives(root: string): string[] {
  const host = `${process.platform}-${process.arch}`;
  if (host === 'linux-arm64') return [];
  const added: string[] = [];
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return added;
  for (const scope of readdirSync(modules)) {
    const names = scope.startsWith('@') ? readdirSync(join(modules, scope)).map((n) => `${scope}/${n}`) : [scope];
    for (const name of names) {
      if (!name.endsWith('-linux-arm64') || !statSync(join(modules, name)).isDirectory()) continue;
      const sibling = name.replace(/-linux-arm64$/, `-${host}`);
      if (existsSync(join(modules, sibling))) continue;
      const source = join(REPO_MODULES, sibling);
      const want = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version as string;
      if (!existsSync(source) || JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')).version !== want) {
        throw new LambdaTaskError(`lambda-task: ${name}@${want} cannot load on ${host} and ${sibling}@${want} is not installed in this repository`);
      }
      mkdirSync(dirname(join(modules, sibling)), { recursive: true });
      cpSync(source, join(modules, sibling), { recursive: true, dereference: true });
      added.push(`${sibling}@${want}`);
    }
  }
  return added;
}
