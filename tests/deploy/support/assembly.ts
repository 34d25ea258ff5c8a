/**
 * The cloud assembly `cdk deploy` would ship, synthesised once per run WITH bundling (real esbuild
 * bundles, the export asset with its DuckDB native module) into the run's work directory, and typed
 * access to what the deployment test reads from it: the template, the function resources (by the
 * `confluo:handler` metadata of lib/confluo-function.ts) and their asset directories.
 *
 * Synthesis runs at most once per run: stage 1 triggers it and shows its time; later stages reuse
 * the result (a marker file in the work directory, so a stage file run on its own synthesises too,
 * and a failed synthesis is reported once instead of retried by every stage).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerOf, resourcesOfType, type Template, type TemplateResource } from '../../../local/template.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The stack bin/app.ts synthesises (its default name). */
export const STACK_NAME = 'Confluo';

/**
 * The Amazon Connect instance the deployment is synthesised with: a placeholder like the local
 * runtime's (local/template.ts LOCAL_CONNECT_INSTANCE_ARN; nothing calls Connect), in the region
 * stage 6 deploys to — Connect emits its contact events to EventBridge in the instance's region,
 * where the stack's rule must be (README "Phone (Amazon Connect)").
 */
export const CONNECT_INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/00000000-0000-4000-8000-00000000c0de';

/**
 * CDK context of the synthesised deployment: an operator who answers e-mail sets a verified From
 * address, and one who wants SLA escalations mailed names a recipient (README "Deploy to AWS");
 * one with a phone line names their Connect instance. With them the template's send, SLA and
 * survey functions carry EMAIL_FROM / ESCALATION_EMAIL, so the e-mail paths run as deployed, and
 * the phone channel's functions (voice-lookup, voice-events; lib/voice.ts) exist; one with a Shopify
 * shop names it, so the orders pull (lib/orders-pull.ts) exists — deployed without a token in SSM
 * its scheduled runs answer `not_configured` and call nothing.
 */
export const SYNTH_CONTEXT: Readonly<Record<string, string>> = { emailFrom: 'support@acme.example', escalationEmail: 'lead@acme.example', connectInstanceArn: CONNECT_INSTANCE_ARN, shopifyShop: 'confluo-deploy-test.myshopify.com' };

/** The template's types are the local runtime's (local/template.ts): one reading of a template. */
export type { Template, TemplateResource };

/** A Lambda function resource of the template, as the deployment test runs it. */
export interface FunctionResource {
  readonly logicalId: string;
  /** `Metadata['confluo:handler']`: the file under functions/handlers/ (ingest, process, …). */
  readonly handlerName: string;
  /** Absolute path of the function's asset directory in the cloud assembly. */
  readonly assetDir: string;
  /** `Handler`, e.g. `index.handler` (module `index`, export `handler`). */
  readonly handler: string;
  readonly runtime: string;
  readonly architectures: readonly string[];
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** `Environment.Variables` as in the template (values may be intrinsics). */
  readonly environment: Readonly<Record<string, unknown>>;
}

export interface SynthReport {
  readonly ok: boolean;
  readonly ms: number;
  readonly outDir: string;
  /** Last lines of `cdk synth` output (the cdk-nag findings when it fails). */
  readonly output: string;
}

export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

export class Assembly {
  constructor(readonly outDir: string, readonly template: Template) {}

  /** `[logicalId, resource]` of every resource of a type, in template order. */
  resourcesOf(type: string): Array<[string, TemplateResource]> {
    return resourcesOfType(this.template, type);
  }

  resource(logicalId: string): TemplateResource {
    const r = this.template.Resources[logicalId];
    if (!r) throw new AssemblyError(`assembly: no resource ${logicalId} in the template`);
    return r;
  }

  /** Every `AWS::Lambda::Function`; each must name its handler file and have a bundled asset. */
  functions(): FunctionResource[] {
    return this.resourcesOf('AWS::Lambda::Function').map(([logicalId, r]) => {
      const handlerName = handlerOf(r);
      const asset = r.Metadata?.['aws:asset:path'];
      if (typeof handlerName !== 'string') throw new AssemblyError(`assembly: function ${logicalId} has no confluo:handler metadata`);
      if (typeof asset !== 'string') throw new AssemblyError(`assembly: function ${logicalId} has no asset (aws:asset:path)`);
      const p = r.Properties ?? {};
      return {
        logicalId, handlerName, assetDir: join(this.outDir, asset),
        handler: String(p.Handler), runtime: String(p.Runtime), architectures: (p.Architectures as string[] | undefined) ?? ['x86_64'],
        // CloudFormation defaults: 3 s and 128 MB (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-function.html).
        timeoutSeconds: Number(p.Timeout ?? 3), memorySize: Number(p.MemorySize ?? 128),
        environment: ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {},
      };
    });
  }

  /** The function whose handler file is `name` (exactly one). */
  fn(name: string): FunctionResource {
    const found = this.functions().filter((f) => f.handlerName === name);
    if (found.length !== 1) throw new AssemblyError(`assembly: expected one function with handler '${name}', found ${found.length}`);
    return found[0]!;
  }

  fnByLogicalId(logicalId: string): FunctionResource {
    const f = this.functions().find((x) => x.logicalId === logicalId);
    if (!f) throw new AssemblyError(`assembly: ${logicalId} is not a function of the template`);
    return f;
  }
}

const memo = new Map<string, Promise<Assembly>>();

/** Where the run's cloud assembly lives. */
export const assemblyDir = (workDir: string) => join(workDir, 'cdk.out');
const reportFile = (workDir: string) => join(workDir, 'synth.json');

/**
 * `npx cdk synth --quiet -o <workDir>/cdk.out` with bundling (cdk-nag runs in synthesis: an
 * unacknowledged finding makes it exit non-zero). Once per work directory.
 */
export function synthesize(workDir: string): Promise<Assembly> {
  let p = memo.get(workDir);
  if (!p) {
    p = (async () => {
      const report = existsSync(reportFile(workDir)) ? JSON.parse(readFileSync(reportFile(workDir), 'utf8')) as SynthReport : await runSynth(workDir);
      if (!report.ok) throw new AssemblyError(`cdk synth failed (stage 1):\n${report.output}`);
      return loadAssembly(assemblyDir(workDir));
    })();
    memo.set(workDir, p);
  }
  return p;
}

/** The report of this run's synthesis (after `synthesize`). */
export function synthReport(workDir: string): SynthReport {
  return JSON.parse(readFileSync(reportFile(workDir), 'utf8')) as SynthReport;
}

export function loadAssembly(outDir: string): Assembly {
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string } }> };
  const stack = manifest.artifacts[STACK_NAME];
  if (stack?.type !== 'aws:cloudformation:stack' || !stack.properties?.templateFile) throw new AssemblyError(`assembly: no stack ${STACK_NAME} in ${outDir}`);
  return new Assembly(outDir, JSON.parse(readFileSync(join(outDir, stack.properties.templateFile), 'utf8')) as Template);
}

async function runSynth(workDir: string): Promise<SynthReport> {
  mkdirSync(workDir, { recursive: true });
  const outDir = assemblyDir(workDir);
  const context = Object.entries(SYNTH_CONTEXT).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const started = Date.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '-o', outDir, ...context], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    const keep = (d: Buffer) => { out = (out + d.toString()).slice(-20_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (c) => resolve({ code: c, output: out }));
  });
  const report: SynthReport = { ok: code === 0, ms: Date.now() - started, outDir, output: output.split('\n').slice(-60).join('\n') };
  writeFileSync(reportFile(workDir), JSON.stringify(report));
  return report;
}
