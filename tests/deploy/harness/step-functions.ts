/**
 * Step Functions, played: moto accepts CreateStateMachine and StartExecution (the dispatch
 * function's call) and lists executions, but runs nothing. This driver lists the executions moto
 * holds and runs each new one with the local engine (local/workflows.ts `LocalWorkflows`:
 * aws-local-stepfunctions state by state, Wait states parked on a clock), its Task states invoking
 * the function hosts — the bundled task handlers — by the Lambda ARNs in the definition.
 * moto's own record of an execution stays RUNNING; the engine's record is the truth.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { VirtualClock } from '../../../local/clock.js';
import { LocalWorkflows, type Definition, type ExecutionRecord, type LocalLambda } from '../../../local/workflows.js';

export interface DrivenMachine {
  /** Logical id in the template (the engine's machine name). */
  readonly logicalId: string;
  /** moto's ARN of the state machine. */
  readonly arn: string;
  readonly definition: Definition;
  /** Task handlers by the Lambda ARN the definition names. */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
}

export class StepFunctionsDriver {
  readonly engine: LocalWorkflows;
  readonly errors: unknown[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly sfn: SFNClient, private readonly machines: readonly DrivenMachine[], clock: VirtualClock) {
    this.engine = new LocalWorkflows({
      clock, retryDelayMs: 20,
      machines: machines.map((m) => ({ name: m.logicalId, arn: m.arn, definition: m.definition, lambdas: m.lambdas })),
      onError: (e) => this.errors.push(e),
    });
  }

  /** Hand every execution moto started since the last call to the engine. Resolves with how many. */
  async sync(): Promise<number> {
    let started = 0;
    for (const m of this.machines) {
      let nextToken: string | undefined;
      do {
        const page = await this.sfn.send(new ListExecutionsCommand({ stateMachineArn: m.arn, ...(nextToken ? { nextToken } : {}) }));
        for (const e of page.executions ?? []) {
          if (this.seen.has(e.executionArn!)) continue;
          this.seen.add(e.executionArn!);
          const d = await this.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
          await this.engine.startExecution(m.logicalId, e.name!, JSON.parse(d.input ?? '{}'));
          started += 1;
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return started;
  }

  /** The engine's executions of one machine (by logical id). */
  executions(logicalId: string): readonly ExecutionRecord[] {
    return this.engine.list(logicalId);
  }

  stop(): Promise<void> {
    return this.engine.stop();
  }
}
