/**
 * The local Step Functions: runs the state machines SYNTHESISED from the CDK stack (never a
 * hand-written copy) with aws-local-stepfunctions, on the runtime's virtual clock.
 *
 * aws-local-stepfunctions runs a whole execution in one promise and its Wait states sleep in real
 * time, so this engine drives each execution itself, one state at a time:
 * - a non-Wait state runs as a one-state machine cut out of the real definition: a Pass state
 *   restores the state's input, the state runs unchanged (Parameters, ResultSelector, ResultPath,
 *   Retry, Catch, Choice rules are the library's), and each transition target is replaced by an
 *   end marker, so the marker reached names the next state;
 * - a Wait state's due time is read from the definition (Seconds, Timestamp, SecondsPath,
 *   TimestampPath — paths evaluated by the library) against the VIRTUAL clock; the execution is
 *   parked until the clock passes it (`POST /dev/clock` or plain time), then the Wait runs with a
 *   0 ms override so its InputPath/OutputPath still apply;
 * - the context object fields the library leaves empty ($$.Execution.Id/Name/RoleArn,
 *   $$.StateMachine.*, $$.State.Name/EnteredTime/RetryCount) are supplied per step. Known gap:
 *   $$.Execution.StartTime is the library's (real time of the step) and RetryCount stays 0;
 * - Task resources must map to local handlers (a Lambda ARN or `lambda:invoke` FunctionName
 *   resolved from the template) — an unmapped Task would call real AWS, so it fails at load;
 * - retry intervals are shortened to `retryDelayMs` (they are seconds of real time in AWS and
 *   would only slow `settle()` down locally).
 *
 * Executions are idempotent by name like StartExecution (same name and input → the existing one;
 * another input → `ExecutionAlreadyExists`), counted (steps, state transitions — billed per
 * transition in AWS) and, with a data directory, persisted after every step, so a restarted
 * runtime continues them (a step interrupted by a crash runs again: handlers are idempotent).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { VirtualClock } from './clock.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolveIntrinsics as resolveWith, type ResourceValues, type Template } from './template.js';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node ≥ 22); Node 20 lacks it (toolchain.md).
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
  (Promise as unknown as { withResolvers: () => unknown }).withResolvers = function withResolvers<T>() {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type StateDef = Record<string, unknown> & { Type: string };
export interface Definition { readonly StartAt: string; readonly States: Record<string, StateDef>; readonly [k: string]: unknown }

/** A local stand-in for a Lambda function: receives the invoke payload, returns the function result. */
export type LocalLambda = (payload: unknown) => Promise<unknown>;

export interface LocalStateMachine {
  /** Short name used locally (e.g. 'sla'). */
  readonly name: string;
  readonly arn: string;
  readonly definition: Definition;
  /** Local handlers by resolved Lambda function ARN. */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface ExecutionRecord {
  readonly name: string;
  readonly machine: string;
  readonly arn: string;
  readonly input: Json;
  status: ExecutionStatus;
  /** Current state (null once stopped). */
  state: string | null;
  stateInput: Json;
  /** Virtual time the current state was entered. */
  enteredAt: number;
  /** Virtual time a Wait state ends (null: not in a Wait). */
  waitUntil: number | null;
  readonly startedAt: number;
  stoppedAt?: number;
  output?: Json;
  error?: { error: string; cause: string };
  /** States entered, retries included (what AWS bills for standard workflows). */
  transitions: number;
}

export class WorkflowError extends Error {
  override readonly name: string = 'WorkflowError';
}
export class ExecutionAlreadyExistsError extends WorkflowError {
  override readonly name = 'ExecutionAlreadyExists';
}

const MARK = '__confluo_next__';
const RESTORE = '__confluo_input__';
const ACCOUNT = LOCAL_ACCOUNT;
const REGION = LOCAL_REGION;
/** AWS keeps closed executions' names for 90 days (StartExecution idempotency). */
const NAME_RETENTION_MS = 90 * 86_400_000;

export interface LocalWorkflowsOptions {
  readonly clock: VirtualClock;
  readonly machines: readonly LocalStateMachine[];
  /** Where executions persist (JSON); omit to keep them in memory. */
  readonly file?: string;
  /** Steps of different executions running at once. Default 4. */
  readonly concurrency?: number;
  /** Delay before a Retry attempt, in real ms. Default 50. */
  readonly retryDelayMs?: number;
  readonly onError?: (e: unknown) => void;
}

type StepMachine = { run(input: Json, options: Record<string, unknown>): { result: Promise<Json>; eventLogs: AsyncGenerator<Record<string, unknown>> } };
type StepMachineCtor = new (definition: unknown, options?: Record<string, unknown>) => StepMachine;

let libraryPromise: Promise<StepMachineCtor> | undefined;
const library = () => (libraryPromise ??= import('aws-local-stepfunctions').then((m) => m.StateMachine as unknown as StepMachineCtor));

export class LocalWorkflows {
  /** State steps run (a Wait counts when it ends). */
  steps = 0;
  /** State transitions (states entered plus retries), over all executions. */
  transitions = 0;
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly stepping = new Set<string>();
  private idleWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private stopped = false;
  private readonly concurrency: number;
  private readonly retryDelayMs: number;

  constructor(private readonly opts: LocalWorkflowsOptions) {
    this.concurrency = opts.concurrency ?? 4;
    this.retryDelayMs = opts.retryDelayMs ?? 50;
    for (const m of opts.machines) {
      checkTasksAreLocal(m);
      this.machines.set(m.name, m);
    }
    if (opts.file) this.load(opts.file);
    this.unsubscribe = opts.clock.onAdvance(() => this.pump());
    queueMicrotask(() => this.pump());
  }

  /** StartExecution: idempotent by name (same input → the existing execution). */
  async startExecution(machineName: string, name: string, input: unknown): Promise<{ executionArn: string; started: boolean }> {
    const machine = this.machines.get(machineName);
    if (!machine) throw new WorkflowError(`no local state machine '${machineName}'`, { cause: { machines: [...this.machines.keys()] } });
    const json = JSON.parse(JSON.stringify(input ?? {})) as Json;
    const key = `${machineName}:${name}`;
    const existing = this.executions.get(key);
    if (existing) {
      if (JSON.stringify(existing.input) === JSON.stringify(json)) return { executionArn: existing.arn, started: false };
      throw new ExecutionAlreadyExistsError(`execution '${name}' already exists with another input`, { cause: { machine: machineName, name } });
    }
    const now = this.opts.clock.now();
    const rec: ExecutionRecord = {
      name, machine: machineName, arn: executionArn(machine, name), input: json, status: 'RUNNING',
      state: machine.definition.StartAt, stateInput: json, enteredAt: now, waitUntil: null, startedAt: now, transitions: 0,
    };
    this.executions.set(key, rec);
    this.stepping.add(key); // hold the execution while its first Wait (if any) is read
    try {
      rec.transitions += 1; // ExecutionStarted → StartAt state entered
      this.transitions += 1;
      await this.enter(machine, rec);
    } finally {
      this.stepping.delete(key);
      this.save();
      this.pump();
    }
    return { executionArn: rec.arn, started: true };
  }

  /** StartExecution by state machine ARN (what a function's environment names). */
  async startExecutionByArn(stateMachineArn: string, name: string, input: unknown): Promise<{ executionArn: string; started: boolean }> {
    const machine = [...this.machines.values()].find((m) => m.arn === stateMachineArn);
    if (!machine) throw new WorkflowError('no local state machine has this ARN', { cause: { arn: stateMachineArn, machines: [...this.machines.keys()] } });
    return this.startExecution(machine.name, name, input);
  }

  /** Executions with a step that can run now (not parked in a Wait whose time has not come). */
  dueCount(): number {
    const now = this.opts.clock.now();
    let n = 0;
    for (const [key, r] of this.executions) if (r.status === 'RUNNING' && (this.stepping.has(key) || r.waitUntil === null || r.waitUntil <= now)) n++;
    return n;
  }

  /** Resolves once no step is running or due. */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  idle(): boolean {
    return this.stepping.size === 0 && this.dueCount() === 0;
  }

  /** Every execution (newest last), for tests, the bench and debugging. */
  list(machineName?: string): readonly ExecutionRecord[] {
    return [...this.executions.values()].filter((r) => machineName === undefined || r.machine === machineName);
  }

  get(machineName: string, name: string): ExecutionRecord | undefined {
    return this.executions.get(`${machineName}:${name}`);
  }

  stats() {
    const all = [...this.executions.values()];
    const now = this.opts.clock.now();
    return {
      executions: all.length,
      running: all.filter((r) => r.status === 'RUNNING').length,
      waiting: all.filter((r) => r.status === 'RUNNING' && r.waitUntil !== null && r.waitUntil > now).length,
      succeeded: all.filter((r) => r.status === 'SUCCEEDED').length,
      failed: all.filter((r) => r.status === 'FAILED').length,
      steps: this.steps,
      transitions: this.transitions,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    while (this.stepping.size > 0) await new Promise((r) => setTimeout(r, 10));
    this.save();
  }

  // -------------------------------------------------------------------------------------------

  private pump(): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    const runnable = [...this.executions.entries()]
      .filter(([key, r]) => r.status === 'RUNNING' && !this.stepping.has(key) && (r.waitUntil === null || r.waitUntil <= now))
      .sort(([, a], [, b]) => (a.waitUntil ?? a.enteredAt) - (b.waitUntil ?? b.enteredAt));
    for (const [key, rec] of runnable) {
      if (this.stepping.size >= this.concurrency) break;
      this.stepping.add(key);
      void this.step(rec)
        .catch((e) => this.opts.onError?.(e))
        .finally(() => {
          this.stepping.delete(key);
          this.save();
          this.pump();
        });
    }
    this.arm();
    if (this.idleWaiters.length && this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** A timer for the earliest parked Wait: virtual time runs with real time between advances. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let earliest: number | null = null;
    for (const r of this.executions.values()) {
      if (r.status === 'RUNNING' && r.waitUntil !== null && (earliest === null || r.waitUntil < earliest)) earliest = r.waitUntil;
    }
    if (earliest === null) return;
    const delay = Math.min(Math.max(0, earliest - this.opts.clock.now()) + 5, 2 ** 31 - 1);
    this.timer = setTimeout(() => this.pump(), delay);
    this.timer.unref();
  }

  private async step(rec: ExecutionRecord): Promise<void> {
    const machine = this.machines.get(rec.machine)!;
    try {
      const r = await this.runState(machine, rec, rec.state!, rec.stateInput);
      this.steps += 1;
      this.transitions += r.transitions;
      rec.transitions += r.transitions;
      if (r.error) return this.finish(rec, 'FAILED', undefined, r.error);
      if (r.next === null) return this.finish(rec, 'SUCCEEDED', r.output);
      rec.state = r.next;
      rec.stateInput = r.output;
      rec.enteredAt = this.opts.clock.now();
      rec.waitUntil = null;
      await this.enter(machine, rec);
    } catch (e) {
      this.finish(rec, 'FAILED', undefined, { error: (e as Error)?.name ?? 'Error', cause: (e as Error)?.message ?? String(e) });
    }
  }

  /** Entering a state: a Wait reads its due time now (against the virtual clock). */
  private async enter(machine: LocalStateMachine, rec: ExecutionRecord): Promise<void> {
    const st = machine.definition.States[rec.state!];
    if (!st) throw new WorkflowError(`state '${rec.state}' is not in the definition`, { cause: { machine: machine.name } });
    if (st.Type !== 'Wait') return;
    try {
      rec.waitUntil = await this.waitDue(machine, rec, st);
    } catch (e) {
      this.finish(rec, 'FAILED', undefined, { error: 'States.Runtime', cause: (e as Error)?.message ?? String(e) });
    }
  }

  private finish(rec: ExecutionRecord, status: ExecutionStatus, output?: Json, error?: { error: string; cause: string }): void {
    rec.status = status;
    rec.state = null;
    rec.waitUntil = null;
    rec.stoppedAt = this.opts.clock.now();
    if (output !== undefined) rec.output = output;
    if (error) {
      rec.error = error;
      this.opts.onError?.(new WorkflowError(`execution ${rec.name} failed: ${error.error}`, { cause: { machine: rec.machine, name: rec.name, error: error.error } }));
    }
  }

  private context(machine: LocalStateMachine, rec: ExecutionRecord, stateName: string) {
    return {
      Execution: { Id: rec.arn, Name: rec.name, RoleArn: `arn:aws:iam::${ACCOUNT}:role/local-workflows`, RedriveCount: 0 },
      StateMachine: { Id: machine.arn, Name: machine.arn.split(':').at(-1) },
      State: { Name: stateName, EnteredTime: new Date(rec.enteredAt).toISOString(), RetryCount: 0 },
    };
  }

  private async waitDue(machine: LocalStateMachine, rec: ExecutionRecord, st: StateDef): Promise<number> {
    if (typeof st.Seconds === 'number') return rec.enteredAt + st.Seconds * 1000;
    if (typeof st.Timestamp === 'string') return parseTimestamp(st.Timestamp);
    const path = (st.SecondsPath ?? st.TimestampPath) as string | undefined;
    if (!path) throw new WorkflowError(`Wait state '${rec.state}' has no time`, { cause: { machine: machine.name } });
    // Evaluate the path with the library (InputPath first, as the Wait state would).
    const SM = await library();
    const probe = { StartAt: 'P', States: { P: { Type: 'Pass', ...(st.InputPath !== undefined ? { InputPath: st.InputPath } : {}), Parameters: { 'v.$': path }, End: true } } };
    const out = (await new SM(probe, { validationOptions: { noValidate: true } }).run(rec.stateInput, { context: this.context(machine, rec, rec.state!) }).result) as { v: Json };
    if (st.SecondsPath !== undefined) {
      if (typeof out.v !== 'number' || out.v < 0) throw new WorkflowError(`SecondsPath ${path} is not a non-negative number`);
      return rec.enteredAt + out.v * 1000;
    }
    if (typeof out.v !== 'string') throw new WorkflowError(`TimestampPath ${path} is not a timestamp`);
    return parseTimestamp(out.v);
  }

  /** Run one state of the real definition; the marker reached names the next state. */
  private async runState(machine: LocalStateMachine, rec: ExecutionRecord, stateName: string, input: Json): Promise<{ next: string | null; output: Json; transitions: number; error?: { error: string; cause: string } }> {
    const original = machine.definition.States[stateName]!;
    const st = structuredClone(original) as StateDef;
    const markers: Record<string, StateDef> = {};
    const to = (target: unknown) => {
      const m = `${MARK}${String(target)}`;
      markers[m] = { Type: 'Pass', End: true };
      return m;
    };
    if (typeof st.Next === 'string') st.Next = to(st.Next);
    if (Array.isArray(st.Catch)) for (const c of st.Catch as Array<{ Next: string }>) c.Next = to(c.Next);
    if (st.Type === 'Choice') {
      for (const c of st.Choices as Array<{ Next: string }>) c.Next = to(c.Next);
      if (typeof st.Default === 'string') st.Default = to(st.Default);
    }
    const sub = { StartAt: RESTORE, States: { [RESTORE]: { Type: 'Pass', Result: input, Next: stateName }, [stateName]: st, ...markers } };
    const overrides: Record<string, unknown> = { retryIntervalOverrides: { [stateName]: this.retryDelayMs } };
    if (st.Type === 'Wait') overrides.waitTimeOverrides = { [stateName]: 0 };
    if (st.Type === 'Task') overrides.taskResourceLocalHandlers = { [stateName]: taskHandler(machine, stateName, original) };
    const SM = await library();
    const run = new SM(sub, { validationOptions: { noValidate: true } }).run(rec.input, { context: this.context(machine, rec, stateName), overrides });
    let output: Json = null;
    let error: { error: string; cause: string } | undefined;
    try {
      output = await run.result;
    } catch (e) {
      error = { error: 'States.Runtime', cause: (e as Error)?.message ?? String(e) };
    }
    let retries = 0;
    let next: string | null = null;
    for await (const ev of run.eventLogs) {
      const name = (ev.state as { name?: string } | undefined)?.name ?? '';
      if (ev.type === 'StateEntered' && name.startsWith(MARK)) next = name.slice(MARK.length);
      else if (ev.type === 'StateRetried' && name === stateName) retries += 1;
      else if (ev.type === 'ExecutionFailed') error = { error: String(ev.Error ?? 'States.Runtime'), cause: String(ev.Cause ?? error?.cause ?? '') };
    }
    // This state was counted when it was entered; its retries and the next state entered count now.
    if (error) return { next: null, output, transitions: retries, error };
    return { next, output, transitions: retries + (next !== null ? 1 : 0) };
  }

  private load(file: string): void {
    let saved: { executions?: ExecutionRecord[]; steps?: number; transitions?: number };
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return; // first start
    }
    const now = this.opts.clock.now();
    for (const r of saved.executions ?? []) {
      if (!this.machines.has(r.machine)) continue;
      if (r.status !== 'RUNNING' && (r.stoppedAt ?? now) < now - NAME_RETENTION_MS) continue;
      this.executions.set(`${r.machine}:${r.name}`, r);
    }
    this.steps = saved.steps ?? 0;
    this.transitions = saved.transitions ?? 0;
  }

  private save(): void {
    const f = this.opts.file;
    if (!f) return;
    writeFileSync(`${f}.tmp`, JSON.stringify({ version: 1, steps: this.steps, transitions: this.transitions, executions: [...this.executions.values()] }));
    renameSync(`${f}.tmp`, f);
  }
}

function executionArn(machine: LocalStateMachine, name: string): string {
  return `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function parseTimestamp(s: string): number {
  // RFC 3339 with T and Z or an offset, as Step Functions requires.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) throw new WorkflowError(`'${s}' is not an RFC 3339 timestamp`);
  return Date.parse(s);
}

/** The local handler behind a Task state (Lambda ARN resource, or `lambda:invoke` with FunctionName). */
function taskHandler(machine: LocalStateMachine, stateName: string, st: StateDef): (input: Json) => Promise<Json> {
  const resource = String(st.Resource);
  if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
    const fn = lambdaFor(machine, String((st.Parameters as Record<string, unknown> | undefined)?.FunctionName ?? ''), stateName);
    // The optimised integration hands the function {FunctionName, Payload} and returns its envelope.
    return async (input) => ({ StatusCode: 200, Payload: (await fn((input as { Payload?: unknown }).Payload ?? null)) as Json, ExecutedVersion: '$LATEST' });
  }
  const fn = lambdaFor(machine, resource, stateName);
  return async (input) => (await fn(input)) as Json;
}

function lambdaFor(machine: LocalStateMachine, arnOrName: string, stateName: string): LocalLambda {
  const fn = machine.lambdas[arnOrName] ?? machine.lambdas[arnOrName.replace(/:(\$LATEST|\d+)$/, '')];
  if (!fn) throw new WorkflowError(`Task '${stateName}' of '${machine.name}' calls ${arnOrName}, which has no local handler (it would call real AWS)`, { cause: { machine: machine.name, state: stateName } });
  return fn;
}

function checkTasksAreLocal(machine: LocalStateMachine): void {
  for (const [name, st] of Object.entries(machine.definition.States)) {
    if (st.Type === 'Task') taskHandler(machine, name, st);
  }
}

// ---------------------------------------------------------------------------------------------
// From the CDK template to local state machines

/** The local ARN of a Lambda function by its template logical id. */
export const localFunctionArn = (logicalId: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
export const localStateMachineArn = (logicalId: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${logicalId}`;

/** How a state machine definition's references read locally: functions by local ARN, everything else by a local placeholder. */
const DEFINITION_VALUES: ResourceValues = {
  ref: (id, r) => (r.Type === 'AWS::StepFunctions::StateMachine' ? localStateMachineArn(id) : r.Type === 'AWS::Lambda::Function' ? id : `local-${id}`),
  getAtt: (id, attr, r) => (r.Type === 'AWS::Lambda::Function' && attr === 'Arn' ? localFunctionArn(id) : `arn:aws:local:::${id}/${attr}`),
  missing: (id) => `local-${id}`,
};

/** Resolve the intrinsics a synthesised DefinitionString uses (Fn::Join, Ref, Fn::GetAtt) to local values. */
export function resolveIntrinsics(node: unknown, template: Template): unknown {
  return resolveWith(node, template, DEFINITION_VALUES);
}

/** The ASL of a state machine resource of a synthesised template, intrinsics resolved. */
export function aslOf(template: Template, stateMachineLogicalId: string): Definition {
  const sm = template.Resources[stateMachineLogicalId];
  if (sm?.Type !== 'AWS::StepFunctions::StateMachine') throw new WorkflowError(`${stateMachineLogicalId} is not a state machine in the template`);
  const def = resolveIntrinsics(sm.Properties?.DefinitionString, template);
  return JSON.parse(typeof def === 'string' ? def : JSON.stringify(def)) as Definition;
}

/** Validate a whole definition once with the library (per-step machines skip validation). */
export async function validateDefinition(definition: Definition): Promise<void> {
  const SM = await library();
  new SM(definition, { validationOptions: { checkArn: true, checkPaths: true } });
}

/**
 * A state machine of the template, with every Lambda function it can call mapped to `invoke`
 * (the local Lambda service), named `name` locally.
 */
export async function templateStateMachine(template: Template, logicalId: string, name: string, invoke: (functionLogicalId: string, payload: unknown) => Promise<unknown>): Promise<LocalStateMachine> {
  const definition = aslOf(template, logicalId);
  await validateDefinition(definition);
  const lambdas: Record<string, LocalLambda> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') lambdas[localFunctionArn(id)] = (payload) => invoke(id, payload);
  }
  return { name, arn: localStateMachineArn(logicalId), definition, lambdas };
}

/** The local names of the SLA and survey state machines. */
export const SLA_MACHINE = 'sla';
export const SURVEY_MACHINE = 'survey';
export const ASSIGNMENT_MACHINE = 'assignment';
