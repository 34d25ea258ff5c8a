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
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { confluoBundling, handlerEntry, type ConfluoFunctionProps, type HandlerName } from '../../lib/confluo-function.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `runtime: NODEJS_22_X` in ConfluoFunction; NodejsFunction derives `--target=node22` from it. */
const TARGET = 'node22';

/**
 * The largest `index.mjs` each function may have, in bytes: measured sizes (README "Entry points",
 * 2026-12-07) with ~5 % headroom, so that an import that drags a parser, a second schema library
 * or an SDK client into a function fails here instead of slowing its cold starts. Raise a budget
 * only with the reason in the commit (and the README figures).
 *
 * History: lowered by the ~130–140 KB of the SDK's default credential chain when bundles stopped
 * carrying it (functions/runtime/lambda-credentials.ts), then by the ~86 KB of the SSM client and
 * Powertools' parameters provider when settings were read without them
 * (functions/runtime/ssm-parameters.ts).
 *
 * The public entry points (ingest, webchat-api, survey-link, help-api, orders-webhook and the
 * phone lookup) run on functions/runtime/aws-edge.ts. Ingest's budget is issue 18's 400 KB target
 * itself (399,822 bytes measured on 2026-12-07: no room left): its SQS and DynamoDB clients alone bundle to ~235 KB.
 */
export const BUNDLE_BUDGETS = {
  ingest: 400_000,
  // + the S3 client and presigners for visitors' uploads and file links (functions/runtime/aws-edge-media.ts).
  'webchat-api': 575_000,
  // The full zod build still comes with the SLA policy schemas (README "Entry points").
  'survey-link': 825_000,
  // Knowledge base (issue 19): MiniSearch, markdown-it and three stemmers on the edge platform.
  'help-api': 530_000,
  // Orders (issue 19): the signed order webhook on the edge platform; the full zod build and
  // libphonenumber-js come with the customer store (README "Entry points").
  'orders-webhook': 940_000,
  // The Shopify orders pull (issue 19): the full AWS platform (perform: fetch) + DynamoDB.
  'orders-pull': 1_210_000,
  // + the knowledge base's search for messenger deflection (issue 19: MiniSearch and three stemmers,
  // ~75 KB; plain text only, no Markdown renderer: functions/domain/kb/plain-text.ts).
  process: 2_650_000,
  dispatch: 1_410_000,
  send: 2_550_000,
  // + the knowledge base's search and Markdown rendering (issue 19: MiniSearch, markdown-it, three stemmers).
  'agent-api': 3_130_000,
  'sla-evaluate': 1_070_000,
  'survey-step': 2_570_000,
  export: 1_080_000,
  // Attachments (issue 14): the channels' media side, file-type, mailparser (e-mail parts), S3.
  media: 2_620_000,
  // Automatic assignment's offline return (issue 15): DynamoDB only, like sla-evaluate without SES.
  'assignment-offline': 1_085_000,
  // The phone (issue 16): the lookup on aws-edge (DynamoDB, libphonenumber-js metadata, zod/mini:
  // Connect gives a flow's Lambda 8 s); the events function commits like the process function.
  'voice-lookup': 470_000,
  'voice-events': 2_620_000,
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

/** esbuild's `alias` option from NodejsFunction's `esbuildArgs` (`{'--alias': 'from=to'}` or a list). */
function aliasesOf(args: BundlingOptions['esbuildArgs']): Record<string, string> {
  const raw = args?.['--alias'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return Object.fromEntries(list.map((a) => { const i = a.indexOf('='); return [a.slice(0, i), a.slice(i + 1)]; }));
}

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
    // `esbuildArgs` (`--alias:<from>=<to>`, resolved from the project root as CDK runs esbuild there).
    alias: aliasesOf(b.esbuildArgs),
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
