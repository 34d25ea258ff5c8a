/**
 * The shape Confluo's workflows share (SLA deadlines, close-the-loop surveys, the offline return of
 * automatic assignment): one execution per subject that sleeps until a time its step function
 * chose, runs the step, and loops or stops on the step's decision:
 *
 *   <wait> (Wait, TimestampPath $.wait_until)
 *     → <step> (LambdaInvoke of the workflow's one function; its return value is the state output)
 *     → <decide> (Choice on $.kind): a loop kind → <wait>; 'done' → <done>; anything else → <unknown> (Fail)
 *
 * Why this shape: a Wait costs nothing while it waits, so nothing polls; the workflow holds no
 * rules (the function decides, from the table as it is now); and the local runtime runs the very
 * same definition on its virtual clock (local/workflows.ts). STANDARD type: waits may last days,
 * beyond EXPRESS workflows' 5 minutes
 * (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html). JSONPath, not
 * JSONata: aws-local-stepfunctions ignores JSONata (toolchain.md). Step functions are idempotent
 * (conditional writes), so function errors are retried with backoff
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html); Lambda
 * service exceptions are retried by LambdaInvoke itself (retryOnServiceExceptions).
 *
 * The construct ids (`ExecutionLogs`, `StateMachine`, the state names) are the subclasses' own, so
 * the synthesised logical ids are those the workflows had before they shared this module.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice, Condition, DefinitionBody, Fail, LogLevel, QueryLanguage, StateMachine, StateMachineType, Succeed,
  type TaskInput, Timeout, Wait, WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ConfluoFunction } from './confluo-function.js';

/** State names of one workflow (the local engine and the tests find states by them). */
export interface WaitStepStates {
  readonly wait: string;
  readonly step: string;
  readonly decide: string;
  readonly done: string;
  readonly unknown: string;
}

export interface WaitStepLoop {
  readonly states: WaitStepStates;
  /** The workflow's one function and its timeout (the task's timeout is twice that). */
  readonly fn: ConfluoFunction;
  readonly fnTimeout: Duration;
  /** What the step function receives. */
  readonly payload: TaskInput;
  /** Decisions (`$.kind`) after which the execution sleeps again; `done` ends it. */
  readonly loopKinds: readonly string[];
  /** Comments of the states and the state machine, and the function's name in the nag reasons. */
  readonly comments: {
    readonly wait: string; readonly step: string; readonly decide: string; readonly done: string;
    readonly stateMachine: string; readonly functionName: string;
  };
  readonly logLevel?: LogLevel;
  readonly logRetention: RetentionDays;
}

/** A workflow of the wait → step → decide shape, with the alarms' metrics Observability reads. */
export abstract class WaitStepWorkflow extends Construct {
  #stateMachine?: StateMachine;

  /** The state machine (built by the subclass's constructor through `buildLoop`). */
  get stateMachine(): StateMachine {
    if (!this.#stateMachine) throw new Error(`WaitStepWorkflow ${this.node.path}: the state machine is read before buildLoop built it`);
    return this.#stateMachine;
  }

  protected buildLoop(loop: WaitStepLoop): StateMachine {
    const { states, fn, comments } = loop;
    const wait = Wait.jsonPath(this, states.wait, { comment: comments.wait, time: WaitTime.timestampPath('$.wait_until') });
    const step = LambdaInvoke.jsonPath(this, states.step, {
      comment: comments.step,
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: loop.payload,
      taskTimeout: Timeout.duration(loop.fnTimeout.plus(loop.fnTimeout)),
    });
    step.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(5) });
    const decide = Choice.jsonPath(this, states.decide, { comment: comments.decide });
    const done = Succeed.jsonPath(this, states.done, { comment: comments.done });
    const unknown = Fail.jsonPath(this, states.unknown, { error: 'UnknownDecision', cause: `${fn.handlerName} answered a kind this workflow does not know` });
    const again = loop.loopKinds.map((k) => Condition.stringEquals('$.kind', k));
    const definition = wait.next(step).next(
      decide
        .when(Condition.stringEquals('$.kind', 'done'), done)
        .when(again.length === 1 ? again[0]! : Condition.or(...again), wait)
        .otherwise(unknown),
    );

    const logGroup = new LogGroup(this, 'ExecutionLogs', { retention: loop.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const stateMachine = new StateMachine(this, 'StateMachine', {
      comment: comments.stateMachine,
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      tracingEnabled: true,
      logs: { destination: logGroup, level: loop.logLevel ?? LogLevel.ERROR, includeExecutionData: false },
    });
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SF1',
      reason: 'Failed executions are logged (LogLevel.ERROR), and failed, timed-out and aborted executions raise alarms (Observability, through metricFailed/metricTimedOut/metricAborted); logging ALL events of executions that mostly wait would cost more than the workflow itself. Raise logLevel when debugging.',
    });
    Validations.of(stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing (xray:PutTraceSegments) only support Resource "*" (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as never)}.Arn>:*]`,
        reason: `LambdaInvoke grants lambda:InvokeFunction on the ${comments.functionName} and its versions/aliases (<arn>:*); it is the one function of this workflow.`,
      },
    );
    this.#stateMachine = stateMachine;
    return stateMachine;
  }

  /** Give any grantee (e.g. an operator role) the right to start executions. */
  grantStartExecution(grantee: IGrantable): Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /** Executions that failed (the function kept failing after its retries): a subject no longer watched. */
  metricFailed(props?: MetricOptions): Metric {
    return this.stateMachine.metricFailed({ statistic: 'Sum', ...props });
  }

  /** Executions that ran past the state machine's time limit (a standard workflow's is one year). */
  metricTimedOut(props?: MetricOptions): Metric {
    return this.stateMachine.metricTimedOut({ statistic: 'Sum', ...props });
  }

  /** Executions stopped by a StopExecution call (Confluo never makes one: an operator did). */
  metricAborted(props?: MetricOptions): Metric {
    return this.stateMachine.metricAborted({ statistic: 'Sum', ...props });
  }

  /** Executions started. */
  metricStarted(props?: MetricOptions): Metric {
    return this.stateMachine.metricStarted({ statistic: 'Sum', ...props });
  }
}
