/**
 * AssignmentWorkflow: the offline return of automatic assignment (issue 15, README "Automatic
 * assignment"). When an agent goes offline the dispatch function starts one execution for that
 * offline spell (named `offline-<agent>-<since>`):
 *
 *   WaitUntilDue (Wait, TimestampPath $.wait_until)
 *     → ReturnTickets (the assignment-offline function: returns the agent's unanswered `new`
 *       tickets of every team whose `offline_return_minutes` have passed to the team's queue)
 *     → Decide (Choice on $.kind): 'wait-until' → WaitUntilDue (a team with a longer setting); 'done' → Done
 *
 * The wait → step → decide loop, its retries, logs and alarm metrics are lib/wait-step-workflow.ts's
 * (a Wait costs nothing while it waits, and the local runtime runs this very definition on its
 * virtual clock). The agent coming back ends the execution at its wake-up with nothing returned.
 */
import { Duration } from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { JsonPath, type LogLevel, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';
import { WaitStepWorkflow } from './wait-step-workflow.js';
import type { Store } from './store.js';

/** State names of the assignment state machine (the local engine and the tests find states by them). */
export const ASSIGNMENT_STATES = {
  wait: 'WaitUntilDue',
  returnTickets: 'ReturnTickets',
  decide: 'Decide',
  done: 'Done',
  unknown: 'UnknownDecision',
} as const;

const STEP_TIMEOUT = Duration.seconds(30);

export interface AssignmentWorkflowProps {
  /** The single table (agents, teams, tickets, queues). */
  readonly store: Store;

  /**
   * Which execution events go to CloudWatch Logs (without execution data: agent ids only).
   *
   * @default LogLevel.ERROR - failures only
   */
  readonly logLevel?: LogLevel;

  /**
   * How long function and execution log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** The assignment state machine (offline return) and its function. */
export class AssignmentWorkflow extends WaitStepWorkflow {
  /** The assignment-offline function (the state machine's only task). */
  public readonly offlineFunction: ConfluoFunction;

  constructor(scope: Construct, id: string, props: AssignmentWorkflowProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.offlineFunction = new ConfluoFunction(this, 'OfflineFunction', {
      handlerName: 'assignment-offline',
      description: 'Confluo assignment: return an offline agent\'s unanswered new tickets to their teams\' queues when the teams\' offline return is due',
      timeout: STEP_TIMEOUT,
      logRetention,
    }).bindTable(props.store);

    this.buildLoop({
      states: { wait: ASSIGNMENT_STATES.wait, step: ASSIGNMENT_STATES.returnTickets, decide: ASSIGNMENT_STATES.decide, done: ASSIGNMENT_STATES.done, unknown: ASSIGNMENT_STATES.unknown },
      fn: this.offlineFunction,
      fnTimeout: STEP_TIMEOUT,
      payload: TaskInput.fromObject({ agent_id: JsonPath.stringAt('$.agent_id'), since: JsonPath.numberAt('$.since') }),
      loopKinds: ['wait-until'],
      comments: {
        wait: 'Sleep until the offline return of the agent\'s next team is due',
        step: 'Return the unanswered new tickets of the teams whose offline return is due; answer wait-until | done',
        decide: 'Branch on the step\'s decision',
        done: 'No team of the agent has an offline return still to come',
        stateMachine: 'Confluo assignment: one execution per offline spell of an agent; waits until a team\'s offline return is due, returns tickets, loops',
        functionName: 'offline function',
      },
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      logRetention,
    });
  }

  /** Let a function start offline-return executions: sets `CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN` and grants states:StartExecution on this state machine only. */
  bindStarter(fn: ConfluoFunction): Grant {
    fn.addEnvironment('CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    return this.stateMachine.grantStartExecution(fn);
  }
}
