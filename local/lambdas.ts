/**
 * The local Lambda service: every function of the synthesised template, run by importing the same
 * `handler` export its bundle exports (functions/handlers/<name>.ts, named by the function's
 * `confluo:handler` metadata) and invoking it on a local platform.
 *
 * Each function gets the environment the template gives it, resolved to local values (the table,
 * the queue URLs, the state machine ARNs, the webhook API URL), so a binding missing from lib/
 * fails here as it would deployed. Settings the operator passes as stack props in AWS come from
 * the runtime's environment; secrets and channel settings reach only the functions the template
 * lets read their parameters (`CONFLUO_SECRET_NAMES` beside `CONFLUO_SECRETS_PATH`), as IAM does
 * in AWS.
 */
import type { HandlerName } from '../lib/confluo-function.js';
import { loadConfig, SETTINGS, type Config } from '../functions/runtime/config.js';
import { runOn, type Platform } from '../functions/runtime/platform.js';
import { localPlatform, type LocalServices } from './platform.js';
import { functionsOf, LOCAL_ACCOUNT, LOCAL_REGION, resolveIntrinsics, type ResourceValues, type Template } from './template.js';

type Entry = (event: unknown) => Promise<unknown>;

/** The handler modules, as the bundles' entry points (lib/confluo-function.ts `handlerEntry`). */
const MODULES: Readonly<Record<HandlerName, () => Promise<{ handler: Entry }>>> = {
  ingest: () => import('../functions/handlers/ingest.js') as Promise<{ handler: Entry }>,
  process: () => import('../functions/handlers/process.js') as Promise<{ handler: Entry }>,
  dispatch: () => import('../functions/handlers/dispatch.js') as Promise<{ handler: Entry }>,
  send: () => import('../functions/handlers/send.js') as Promise<{ handler: Entry }>,
  'agent-api': () => import('../functions/handlers/agent-api.js') as Promise<{ handler: Entry }>,
  'sla-evaluate': () => import('../functions/handlers/sla-evaluate.js') as Promise<{ handler: Entry }>,
  'survey-step': () => import('../functions/handlers/survey-step.js') as Promise<{ handler: Entry }>,
  export: () => import('../functions/handlers/export.js') as Promise<{ handler: Entry }>,
  'webchat-api': () => import('../functions/handlers/webchat-api.js') as Promise<{ handler: Entry }>,
  'survey-link': () => import('../functions/handlers/survey-link.js') as Promise<{ handler: Entry }>,
  media: () => import('../functions/handlers/media.js') as Promise<{ handler: Entry }>,
  'help-api': () => import('../functions/handlers/help-api.js') as Promise<{ handler: Entry }>,
  'orders-webhook': () => import('../functions/handlers/orders-webhook.js') as Promise<{ handler: Entry }>,
  'orders-pull': () => import('../functions/handlers/orders-pull.js') as Promise<{ handler: Entry }>,
  'assignment-offline': () => import('../functions/handlers/assignment-offline.js') as Promise<{ handler: Entry }>,
  'voice-lookup': () => import('../functions/handlers/voice-lookup.js') as Promise<{ handler: Entry }>,
  'voice-events': () => import('../functions/handlers/voice-events.js') as Promise<{ handler: Entry }>,
};

export interface LocalFunction {
  readonly logicalId: string;
  readonly handler: HandlerName;
  /** The environment the function sees (template bindings resolved locally + settings). */
  readonly env: Readonly<Record<string, string>>;
  readonly config: Config;
  readonly platform: Platform;
}

export class LocalLambdaError extends Error {
  override readonly name = 'LocalLambdaError';
}

export interface LocalLambdasOptions {
  readonly template: Template;
  /** How the template's Refs and GetAtts read locally. */
  readonly values: ResourceValues;
  /** The runtime's environment: settings and secrets. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Settings a function gets when neither the template nor the environment sets them. */
  readonly defaults?: Readonly<Record<string, string>>;
  readonly services: LocalServices;
}

/**
 * Settings a function gets only when the template lets it read their parameter: in AWS the
 * operator stores every secret and every channel setting (topic ARN, webhook URL, sender ids …)
 * under the secrets path in SSM, and a function may read exactly the names its
 * `CONFLUO_SECRET_NAMES` lists (lib/ssm-settings.ts), so it never sees the others. Core settings
 * are what stack props put in the template's environment; locally the runtime's environment plays
 * the props.
 */
const SSM_ONLY_SETTINGS = new Set<string>(SETTINGS.filter((s) => ('secret' in s && s.secret) || 'channel' in s).map((s) => s.name));

/** The local ARN of a function (as Step Functions tasks name it once resolved). */
export const localFunctionArn = (logicalId: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

export class LocalLambdas {
  readonly functions: ReadonlyMap<string, LocalFunction>;
  private readonly modules = new Map<HandlerName, Promise<{ handler: Entry }>>();
  /** Invocations and summed wall time per handler (benches: Lambda time per message). */
  readonly times = new Map<string, { invocations: number; ms: number }>();

  constructor(opts: LocalLambdasOptions) {
    const functions = new Map<string, LocalFunction>();
    for (const [logicalId, name] of functionsOf(opts.template)) {
      if (!(name in MODULES)) throw new LocalLambdaError(`local lambdas: ${logicalId} runs handler '${name}', which is not a known entry point`, { cause: { function: logicalId } });
      const env = functionEnvironment(opts, logicalId);
      let config: Config;
      try {
        config = loadConfig(env);
      } catch (e) {
        throw new LocalLambdaError(`local lambdas: settings of ${name} (${logicalId}) are invalid: ${(e as Error).message}`, { cause: e });
      }
      const platform = localPlatform(opts.services, () => config);
      functions.set(logicalId, { logicalId, handler: name as HandlerName, env, config, platform });
    }
    this.functions = functions;
  }

  /**
   * Import every handler module now (what Lambda's INIT does before the first event), so a first
   * invocation is not slower than the local queues' visibility timeout.
   */
  async warm(): Promise<void> {
    await Promise.all([...new Set([...this.functions.values()].map((f) => f.handler))].map((h) => this.module(h)));
  }

  private module(name: HandlerName): Promise<{ handler: Entry }> {
    let mod = this.modules.get(name);
    if (!mod) this.modules.set(name, (mod = MODULES[name]()));
    return mod;
  }

  /** The logical id of the one function that runs `handler`. */
  idOf(handler: HandlerName): string {
    const ids = [...this.functions.values()].filter((f) => f.handler === handler).map((f) => f.logicalId);
    if (ids.length !== 1) throw new LocalLambdaError(`local lambdas: ${ids.length} functions run handler '${handler}', expected one`, { cause: { handler } });
    return ids[0]!;
  }

  /** Invoke a function's `handler` export with `event`, on its platform. */
  async invoke(logicalId: string, event: unknown): Promise<unknown> {
    const fn = this.functions.get(logicalId);
    if (!fn) throw new LocalLambdaError(`local lambdas: no function ${logicalId} in the template`, { cause: { function: logicalId } });
    const { handler } = await this.module(fn.handler);
    const started = performance.now();
    try {
      return await runOn(fn.platform, () => handler(event));
    } finally {
      const t = this.times.get(fn.handler) ?? { invocations: 0, ms: 0 };
      this.times.set(fn.handler, { invocations: t.invocations + 1, ms: t.ms + performance.now() - started });
    }
  }

  /** An invoker bound to one function (for event sources and routes). */
  invoker<E = unknown, R = unknown>(logicalId: string): (event: E) => Promise<R> {
    if (!this.functions.has(logicalId)) throw new LocalLambdaError(`local lambdas: no function ${logicalId} in the template`, { cause: { function: logicalId } });
    return (event) => this.invoke(logicalId, event) as Promise<R>;
  }
}

/**
 * A function's environment: the runtime's settings (a secret only where the template lets the
 * function read that parameter: its `CONFLUO_SECRET_NAMES`), then the template's literal values
 * for what those don't set, then the template's bindings (Refs and GetAtts, resolved locally),
 * which always win.
 */
function functionEnvironment(opts: LocalLambdasOptions, logicalId: string): Record<string, string> {
  const resource = opts.template.Resources[logicalId]!;
  const variables = ((resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {};
  // The settings the function may read from SSM in AWS (lib/ssm-settings.ts, set by bindSecrets).
  const readable = new Set(typeof variables.CONFLUO_SECRET_NAMES === 'string' && 'CONFLUO_SECRETS_PATH' in variables ? variables.CONFLUO_SECRET_NAMES.split(',') : []);
  const env: Record<string, string> = { ...(opts.defaults ?? {}) };
  for (const [k, v] of Object.entries(opts.env)) {
    if (v === undefined) continue;
    if (v === '') { delete env[k]; continue; } // set empty: unset, defaults included
    if (SSM_ONLY_SETTINGS.has(k) && !readable.has(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(variables)) {
    // Locally the secrets are in the runtime's environment (filtered above), not in SSM.
    if (k === 'CONFLUO_SECRETS_PATH' || k === 'CONFLUO_SECRET_NAMES') continue;
    if (typeof v === 'string') {
      if (opts.env[k] === undefined || opts.env[k] === '') env[k] = v;
    } else {
      const value = String(resolveIntrinsics(v, opts.template, opts.values));
      env[k] = opts.values.finish ? opts.values.finish(value) : value;
    }
  }
  return env;
}
