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
 * A Wait costs nothing while it waits, so nothing polls; and the local runtime runs this very
 * definition on its virtual clock (local/workflows.ts), so the offline return is testable end to
 * end without waiting. The agent coming back ends the execution at its wake-up with nothing
 * returned. STANDARD type: an offline return may be set to days, beyond EXPRESS workflows' 5
 * minutes (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).
 * JSONPath, not JSONata: aws-local-stepfunctions ignores JSONata (toolchain.md).
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice, Condition, DefinitionBody, Fail, JsonPath, LogLevel, QueryLanguage, StateMachine, StateMachineType, Succeed,
  TaskInput, Timeout, Wait, WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';
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
export class AssignmentWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
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

    const wait = Wait.jsonPath(this, ASSIGNMENT_STATES.wait, {
      comment: 'Sleep until the offline return of the agent\'s next team is due',
      time: WaitTime.timestampPath('$.wait_until'),
    });
    const returnTickets = LambdaInvoke.jsonPath(this, ASSIGNMENT_STATES.returnTickets, {
      comment: 'Return the unanswered new tickets of the teams whose offline return is due; answer wait-until | done',
      lambdaFunction: this.offlineFunction,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({ agent_id: JsonPath.stringAt('$.agent_id'), since: JsonPath.numberAt('$.since') }),
      taskTimeout: Timeout.duration(STEP_TIMEOUT.plus(STEP_TIMEOUT)),
    });
    // Function errors (a DynamoDB hiccup): the step is idempotent, so retry with backoff
    // (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
    returnTickets.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(5) });
    const decide = Choice.jsonPath(this, ASSIGNMENT_STATES.decide, { comment: 'Branch on the step\'s decision' });
    const done = Succeed.jsonPath(this, ASSIGNMENT_STATES.done, { comment: 'No team of the agent has an offline return still to come' });
    const unknown = Fail.jsonPath(this, ASSIGNMENT_STATES.unknown, { error: 'UnknownDecision', cause: 'assignment-offline answered a kind this workflow does not know' });
    const definition = wait.next(returnTickets).next(
      decide
        .when(Condition.stringEquals('$.kind', 'done'), done)
        .when(Condition.stringEquals('$.kind', 'wait-until'), wait)
        .otherwise(unknown),
    );

    const logGroup = new LogGroup(this, 'ExecutionLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Confluo assignment: one execution per offline spell of an agent; waits until a team\'s offline return is due, returns tickets, loops',
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      tracingEnabled: true,
      logs: { destination: logGroup, level: props.logLevel ?? LogLevel.ERROR, includeExecutionData: false },
    });

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SF1',
      reason: 'Failed executions are logged (LogLevel.ERROR); logging ALL events of executions that mostly wait would cost more than the workflow. Raise logLevel when debugging.',
    });
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing (xray:PutTraceSegments) only support Resource "*" (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.offlineFunction.node.defaultChild as never)}.Arn>:*]`,
        reason: 'LambdaInvoke grants lambda:InvokeFunction on the offline function and its versions/aliases (<arn>:*); it is the one function of this workflow.',
      },
    );
  }

  /** Let a function start offline-return executions: sets `CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN` and grants states:StartExecution on this state machine only. */
  bindStarter(fn: ConfluoFunction): Grant {
    fn.addEnvironment('CONFLUO_ASSIGNMENT_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    return this.stateMachine.grantStartExecution(fn);
  }

  /** Executions that failed (the function kept failing after its retries): an offline agent's tickets stay theirs. */
  metricFailed(props?: MetricOptions): Metric {
    return this.stateMachine.metricFailed({ statistic: 'Sum', ...props });
  }
}
