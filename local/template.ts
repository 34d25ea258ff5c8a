/**
 * The Confluo stack as `cdk deploy` would ship it, for the local runtime: the template synthesised
 * from lib/ (in-process, bundling skipped) and the logical ids of the resources the runtime plays
 * locally. The runtime takes from it what AWS takes from it — which function runs which handler
 * (`confluo:handler` metadata), each function's environment, the event source mappings, the HTTP
 * routes, the state machines — so a handler that lost a route, a queue binding or an environment
 * variable fails locally exactly as it would deployed.
 *
 * Synthesis takes seconds, so the result is memoised per process and cached under
 * node_modules/.cache/confluo, keyed by the content of lib/ and functions/ (route tables and
 * settings live there) and the CDK version.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';
/** The Amazon Connect instance the local stack is synthesised with (a placeholder: nothing calls it). */
export const LOCAL_CONNECT_INSTANCE_ARN = `arn:aws:connect:${LOCAL_REGION}:${LOCAL_ACCOUNT}:instance/00000000-0000-4000-8000-00000000c0de`;
/** The Shopify shop the local stack is synthesised with, so the orders pull exists locally; the simulated shop answers for it. */
export const LOCAL_SHOPIFY_SHOP = 'confluo-local.myshopify.com';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}
export interface Template { readonly Resources: Record<string, TemplateResource>; readonly [k: string]: unknown }

/**
 * Same value as HANDLER_METADATA_KEY in lib/confluo-function.ts (repeated, not imported, so the
 * runtime does not load aws-cdk-lib for it; a test keeps both equal).
 */
export const HANDLER_METADATA_KEY = 'confluo:handler';

/** Logical ids of the resources the local runtime stands in for. */
export interface StackRoles {
  readonly table: string;
  readonly inboundQueue: string;
  readonly inboundDlq: string;
  readonly outboundQueue: string;
  readonly outboundDlq: string;
  readonly slaStateMachine: string;
  readonly surveyStateMachine: string;
  readonly assignmentStateMachine: string;
  readonly exportBucket: string;
  readonly mediaBucket: string;
  readonly mediaQueue: string;
  readonly mediaDlq: string;
}

export interface SynthesizedStack {
  readonly template: Template;
  readonly roles: StackRoles;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A key over everything the template depends on, so a cached synthesis is never stale. */
function synthesisKey(): string {
  const h = createHash('sha256');
  const files = (dir: string): string[] => readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|json)$/.test(e.name) ? [join(dir, e.name)] : []));
  for (const f of [...files('lib'), ...files('functions'), 'local/template.ts'].sort()) h.update(f).update(readFileSync(join(REPO_ROOT, f)));
  h.update(readFileSync(join(REPO_ROOT, 'node_modules/aws-cdk-lib/package.json')));
  return h.digest('hex').slice(0, 16);
}

let synthesized: Promise<SynthesizedStack> | undefined;

/** The ConfluoStack's template (default props, as `npx cdk deploy` without context builds it, plus a placeholder Connect instance) and its roles. */
export function synthesizedStack(): Promise<SynthesizedStack> {
  synthesized ??= (async () => {
    const cacheFile = join(REPO_ROOT, 'node_modules', '.cache', 'confluo', `stack-${synthesisKey()}.json`);
    if (existsSync(cacheFile)) {
      try { return JSON.parse(readFileSync(cacheFile, 'utf8')) as SynthesizedStack; } catch { /* rebuild */ }
    }
    const [{ App }, { Template: Assertions }, { ConfluoStack }] = await Promise.all([
      import('aws-cdk-lib'), import('aws-cdk-lib/assertions'), import('../lib/confluo-stack.js'),
    ]);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    // With a placeholder Connect instance, so the phone channel's functions exist locally
    // (`POST /dev/connect/lookup`, `/dev/connect/events`); nothing here talks to Connect.
    // And with a shop, so the Shopify orders pull exists locally (`POST /dev/shopify/pull`, against
    // the simulated shop of local/shopify-simulator.ts).
    const stack = new ConfluoStack(app, 'Confluo', { connectInstanceArn: LOCAL_CONNECT_INSTANCE_ARN, shopifyShop: LOCAL_SHOPIFY_SHOP });
    const template = Assertions.fromStack(stack).toJSON() as Template;
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);
    const out: SynthesizedStack = {
      template,
      roles: {
        table: id(stack.store.table),
        inboundQueue: id(stack.ingest.queue), inboundDlq: id(stack.ingest.dlq),
        outboundQueue: id(stack.outbound.queue), outboundDlq: id(stack.outbound.dlq),
        slaStateMachine: id(stack.slaWorkflow.stateMachine), surveyStateMachine: id(stack.surveyWorkflow.stateMachine),
        assignmentStateMachine: id(stack.assignmentWorkflow.stateMachine),
        exportBucket: id(stack.export.bucket),
        mediaBucket: id(stack.media.bucket),
        mediaQueue: id(stack.inboundMedia.queue), mediaDlq: id(stack.inboundMedia.dlq),
      },
    };
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(`${cacheFile}.${process.pid}.tmp`, JSON.stringify(out));
      renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
    } catch { /* a read-only checkout just synthesises every time */ }
    return out;
  })();
  synthesized.catch(() => { synthesized = undefined; });
  return synthesized;
}

/** How `Ref` and `Fn::GetAtt` of a template's resources read in a given world (local, emulators). */
export interface ResourceValues {
  ref(logicalId: string, resource: TemplateResource): string;
  getAtt(logicalId: string, attribute: string, resource: TemplateResource): string;
  /** A reference to a resource the template does not have (default: an error). */
  missing?(logicalId: string): string;
  /** Rewrites a whole resolved value (e.g. an API's execute-api URL to the local server's). */
  finish?(value: string): string;
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws', 'AWS::Region': LOCAL_REGION, 'AWS::AccountId': LOCAL_ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'Confluo',
};

/**
 * Resolve the intrinsics CDK writes (Fn::Join, Fn::Select, Fn::Split, Ref, Fn::GetAtt and the
 * pseudo parameters) with `values`; anything else is an error, so an unknown binding fails loudly.
 */
export function resolveIntrinsics(node: unknown, template: Template, values: ResourceValues): unknown {
  const walk = (n: unknown): unknown => {
    if (typeof n !== 'object' || n === null) return n;
    if (Array.isArray(n)) return n.map(walk);
    const o = n as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0]!.startsWith('Fn::') || keys.length === 1 && keys[0] === 'Ref') {
      const k = keys[0]!;
      const arg = o[k];
      if (k === 'Ref') {
        const ref = String(arg);
        if (PSEUDO[ref] !== undefined) return PSEUDO[ref];
        const res = template.Resources[ref];
        if (!res) {
          if (values.missing) return values.missing(ref);
          throw new TemplateError(`template: Ref to unknown resource ${ref}`);
        }
        return values.ref(ref, res);
      }
      if (k === 'Fn::GetAtt') {
        const [id, attr] = (Array.isArray(arg) ? arg : String(arg).split('.')) as [string, string];
        const res = template.Resources[id];
        if (!res) {
          if (values.missing) return values.missing(`${id}.${attr}`);
          throw new TemplateError(`template: Fn::GetAtt of unknown resource ${id}`);
        }
        return values.getAtt(id, attr, res);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (walk(parts) as unknown[]).map(String).join(sep);
      }
      if (k === 'Fn::Select') {
        const [index, list] = arg as [unknown, unknown];
        const items = walk(list) as unknown[];
        return items[Number(walk(index))];
      }
      if (k === 'Fn::Split') {
        const [sep, source] = arg as [string, unknown];
        return String(walk(source)).split(sep);
      }
      throw new TemplateError(`template: unsupported intrinsic ${k}`);
    }
    return Object.fromEntries(Object.entries(o).map(([key, v]) => [key, walk(v)]));
  };
  return walk(node);
}

/** The handler file name of a function resource (its `confluo:handler` metadata). */
export function handlerOf(resource: TemplateResource): string | undefined {
  const h = resource.Metadata?.[HANDLER_METADATA_KEY];
  return typeof h === 'string' && h !== '' ? h : undefined;
}

/** A Lambda function of the template and the handler file it runs. */
export interface TemplateFunction {
  readonly logicalId: string;
  readonly handler: string;
}

/**
 * The logical id a property refers to: `{Ref: id}`, `{Fn::GetAtt: [id, attr]}`, or a
 * `Fn::Join` containing exactly one of them (as in a route's `integrations/<Ref>` target).
 */
export function referencedLogicalId(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const o = node as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  if (Array.isArray(o['Fn::GetAtt']) && typeof o['Fn::GetAtt'][0] === 'string') return o['Fn::GetAtt'][0];
  if (Array.isArray(o['Fn::Join'])) {
    const parts = (o['Fn::Join'] as [string, unknown[]])[1] ?? [];
    const ids = parts.map(referencedLogicalId).filter((id): id is string => id !== undefined);
    return ids.length === 1 ? ids[0] : undefined;
  }
  return undefined;
}

/** The Lambda function a property (a function ARN or name) refers to, with its handler file. */
export function functionOf(template: Template, node: unknown, where: string): TemplateFunction {
  const logicalId = referencedLogicalId(node);
  const fn = logicalId === undefined ? undefined : template.Resources[logicalId];
  if (!logicalId || fn?.Type !== 'AWS::Lambda::Function') {
    throw new TemplateError(`template: ${where} does not refer to a Lambda function of the template`, { cause: { where, node } });
  }
  const handler = handlerOf(fn);
  if (!handler) throw new TemplateError(`template: function ${logicalId} has no '${HANDLER_METADATA_KEY}' metadata naming its handler`, { cause: { logicalId } });
  return { logicalId, handler };
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Array<[string, TemplateResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Every function of the template that runs a Confluo handler: logical id → handler file name. */
export function functionsOf(template: Template): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const h = r.Type === 'AWS::Lambda::Function' ? handlerOf(r) : undefined;
    if (h) out.set(id, h);
  }
  return out;
}
