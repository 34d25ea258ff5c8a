/**
 * Run a whole state machine definition with aws-local-stepfunctions (loaded through
 * local/workflows.ts, which installs the Promise.withResolvers polyfill Node 20 needs), its Task
 * states answered by given handlers, every Wait state overridden to 0 ms, the context object's
 * Execution fields supplied (the library leaves `$$.Execution.Name` empty). Records the states
 * entered and each task's output. `stopWhenReentering` aborts the run when the execution loops back
 * to that state: the task handlers read the real clock, so a wait-until loop with Waits at 0 would
 * never end.
 */
import type { Definition } from '../../../local/workflows.js';
import '../../../local/workflows.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** The handler behind a Task state, given the state's effective input (after Parameters). */
export type TaskHandler = (input: Json) => Promise<Json>;

export interface AslRun {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'STOPPED';
  /** States entered, in order. */
  readonly path: readonly string[];
  /** Outputs of Task states, in order (the function results). */
  readonly taskOutputs: readonly Json[];
  readonly output?: Json;
  readonly error?: string;
}

export async function runDefinition(definition: Definition, input: Json, opts: {
  readonly task: (stateName: string, resource: string) => TaskHandler;
  readonly executionName: string;
  readonly stopWhenReentering?: string;
}): Promise<AslRun> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const states = Object.entries(definition.States);
  const tasks = Object.fromEntries(states.filter(([, s]) => s.Type === 'Task').map(([name, s]) => {
    const resource = String(s.Resource);
    const fn = opts.task(name, resource);
    // An optimised `lambda:invoke` integration hands {FunctionName, Payload} and expects the envelope.
    const handler = resource.startsWith('arn:aws:states:::lambda:invoke')
      ? async (i: Json) => ({ StatusCode: 200, Payload: await fn((i as { Payload?: Json }).Payload ?? null), ExecutedVersion: '$LATEST' })
      : fn;
    return [name, handler];
  }));
  const waits = Object.fromEntries(states.filter(([, s]) => s.Type === 'Wait').map(([name]) => [name, 0]));
  const sm = new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  const run = sm.run(input as never, {
    overrides: { taskResourceLocalHandlers: tasks as never, waitTimeOverrides: waits },
    context: { Execution: { Id: `arn:aws:states:::execution:deployment-test:${opts.executionName}`, Name: opts.executionName } } as never,
    noThrowOnAbort: true,
  });
  const path: string[] = [];
  const taskOutputs: Json[] = [];
  let stopped = false;
  let error: string | undefined;
  for await (const ev of run.eventLogs) {
    const e = ev as { type: string; state?: { name: string; output?: Json }; Error?: string; Cause?: string };
    if (e.type === 'StateEntered' && e.state) {
      if (e.state.name === opts.stopWhenReentering && path.includes(e.state.name)) {
        path.push(e.state.name);
        stopped = true;
        run.abort();
        break;
      }
      path.push(e.state.name);
    } else if (e.type === 'StateExited' && e.state && definition.States[e.state.name]?.Type === 'Task') {
      taskOutputs.push(e.state.output ?? null);
    } else if (e.type === 'ExecutionFailed') {
      error = `${e.Error ?? 'Error'}: ${e.Cause ?? ''}`;
    }
  }
  try {
    const output = (await run.result) as Json;
    if (stopped) return { status: 'STOPPED', path, taskOutputs };
    return { status: 'SUCCEEDED', path, taskOutputs, output };
  } catch (e) {
    return { status: 'FAILED', path, taskOutputs, error: error ?? (e as Error).message };
  }
}
