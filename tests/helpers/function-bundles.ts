/**
 * Every function's bundle, built outside CDK with exactly the esbuild options `cdk synth` uses
 * (lib/confluo-function.ts `confluoBundling`, turned into esbuild options the way
 * aws-cdk-lib/aws-lambda-nodejs turns them into its command line), and the size budget of each.
 *
 * Used by `npm run bench -- bundles` (bench/bundles.ts: sizes and import times), by
 * tests/infra/bundle-budgets.test.ts (fails a bundle over its budget) and by the deployment test's
 * stage 3, which holds the same budgets against the assets `cdk synth` really wrote.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { confluoBundling, handlerEntry, type ConfluoFunctionProps, type HandlerName } from '../../lib/confluo-function.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `runtime: NODEJS_22_X` in ConfluoFunction; NodejsFunction derives `--target=node22` from it. */
const TARGET = 'node22';

/**
 * The largest `index.mjs` each function may have, in bytes: measured sizes (README "Entry points",
 * 2026-12-07) with ~5 % headroom, so that an import that drags a parser, a second schema
 * library or an SDK client into a function fails here instead of slowing its cold starts. Raise a
 * budget only with the reason in the commit (and the README figures).
 *
 * The public entry points (ingest, webchat-api, survey-link) run on functions/runtime/aws-edge.ts;
 * the floor under them is their AWS SDK clients alone (SQS + SSM + DynamoDB: ~440 KB bundled).
 * The 400 KB for ingest is below that floor — README "Entry points" says why.
 */
export const BUNDLE_BUDGETS = {
  ingest: 650_000,
  // + the S3 client and presigners for visitors' uploads and file links (functions/runtime/aws-edge-media.ts).
  'webchat-api': 790_000,
  'survey-link': 1_060_000,
  process: 2_780_000,
  dispatch: 1_590_000,
  send: 2_730_000,
  'agent-api': 2_980_000,
  'sla-evaluate': 1_260_000,
  'survey-step': 2_750_000,
  export: 1_270_000,
  // Attachments (issue 14): the channels' media side, file-type, mailparser (e-mail parts), S3.
  media: 3_400_000,
  // Automatic assignment's offline return (issue 15): DynamoDB only, like sla-evaluate without SES.
  'assignment-offline': 1_260_000,
  // The phone (issue 16): the lookup on aws-edge (DynamoDB + SSM, libphonenumber-js metadata);
  // the events function commits like the process function.
  'voice-lookup': 1_170_000,
  'voice-events': 2_830_000,
} as const satisfies Record<HandlerName, number>;

export const HANDLERS = Object.keys(BUNDLE_BUDGETS) as HandlerName[];

/**
 * What lib/ passes as `bundling` beside the defaults (lib/export.ts: DuckDB's native module is
 * installed beside the bundle, not bundled). Stage 3 of the deployment test compares the sizes
 * built here with the synthesised assets, so a difference shows.
 */
const EXTRA: Partial<Record<HandlerName, ConfluoFunctionProps['bundling']>> = {
  export: { nodeModules: ['@duckdb/node-api'] },
};

/** esbuild options equal to the command line NodejsFunction runs for `confluoBundling(extra)`. */
export function esbuildOptionsFor(name: HandlerName, outfile: string): BuildOptions {
  const b = confluoBundling(EXTRA[name]);
  if (b.format !== OutputFormat.ESM) throw new Error('function-bundles: ConfluoFunction bundles ESM; update esbuildOptionsFor with confluoBundling');
  return {
    entryPoints: [handlerEntry(name)],
    bundle: true,
    target: TARGET,
    platform: 'node',
    format: 'esm',
    outfile,
    minify: b.minify === true,
    // sourceMapMode DEFAULT is esbuild's plain `--sourcemap` (linked).
    sourcemap: b.sourceMap === true ? (b.sourceMapMode === undefined || b.sourceMapMode === SourceMapMode.DEFAULT ? 'linked' : b.sourceMapMode) : false,
    sourcesContent: b.sourcesContent ?? true,
    external: [...(b.externalModules ?? []), ...(b.nodeModules ?? [])],
    ...(b.banner ? { banner: { js: b.banner } } : {}),
    ...(b.mainFields ? { mainFields: [...b.mainFields] } : {}),
    absWorkingDir: REPO_ROOT,
    logLevel: 'error',
    metafile: true,
  };
}

export interface FunctionBundle {
  readonly name: HandlerName;
  /** Absolute path of the bundle (`<dir>/<name>/index.mjs`). */
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/** Bundle one function into `<dir>/<name>/index.mjs` (with its linked source map). */
export async function bundleFunction(name: HandlerName, dir: string): Promise<FunctionBundle> {
  const file = join(dir, name, 'index.mjs');
  const result = await build(esbuildOptionsFor(name, file));
  return { name, file, bytes: statSync(file).size, metafile: result.metafile! };
}

/** The packages (by name) a bundle carries, with the bytes each contributes to it, largest first. */
export function packagesIn(metafile: Metafile): Array<{ readonly name: string; readonly bytes: number }> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = m ? m[1]! : '(confluo)';
      bytes.set(key, (bytes.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes);
}

/** A bundle over its budget, said with both numbers (empty when within). */
export function overBudget(name: HandlerName, bytes: number): string | undefined {
  const budget = BUNDLE_BUDGETS[name];
  return bytes > budget ? `${name}: index.mjs is ${bytes.toLocaleString('en')} bytes, over its budget of ${budget.toLocaleString('en')} bytes (tests/helpers/function-bundles.ts)` : undefined;
}
