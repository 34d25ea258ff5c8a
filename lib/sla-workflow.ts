/**
 * SlaWorkflow: one Step Functions execution per ticket watches its SLA/OLA deadlines in business
 * time (DESIGN §1 Workflows, §2 SLA and OLA). The state machine holds no business rules:
 *
 *   WaitUntilDue (Wait, TimestampPath $.wait_until)
 *     → Evaluate (the sla-evaluate function: reads the ticket as it is now, commits escalations)
 *     → Decide (Choice on $.kind): 'wait-until' | 'escalate' → WaitUntilDue; 'done' → Done
 *
 * One deadline costs three state transitions (wait, evaluate, choice); a Wait costs nothing while
 * it waits, so nothing polls (DESIGN §7). Executions are started by the dispatch function
 * (`bindStarter`), named `<ticket_id>-<generation>`; a re-targeted ticket gets a new generation
 * and the old execution ends at its next wake-up.
 *
 * STANDARD type: an execution may wait for weeks (a resolution target across holidays), far past
 * the 5-minute limit of EXPRESS workflows
 * (https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).
 * JSONPath, not JSONata: the local runtime runs this very definition with aws-local-stepfunctions,
 * which ignores JSONata (toolchain.md).
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { IGrantable, Grant } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice, Condition, DefinitionBody, Fail, JsonPath, LogLevel, QueryLanguage, StateMachine, StateMachineType, Succeed,
  TaskInput, Timeout, Wait, WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { parseSlaSettings, type SlaSettingsInput } from '../functions/domain/sla/policy.js';
import { ConfluoFunction } from './confluo-function.js';
import type { Store } from './store.js';

/** State names of the SLA state machine (the local engine and the tests find states by them). */
export const SLA_STATES = {
  wait: 'WaitUntilDue',
  evaluate: 'Evaluate',
  decide: 'Decide',
  done: 'Done',
  unknown: 'UnknownDecision',
} as const;

/** Timeout of the evaluate function; the task gives up after twice that. */
export const SLA_EVALUATE_TIMEOUT = Duration.seconds(30);

export interface SlaWorkflowProps {
  /** The single table (tickets, SLA settings). */
  readonly store: Store;

  /**
   * Where escalation steps with the 'default' recipient are e-mailed (`ESCALATION_EMAIL`).
   *
   * @default - only steps naming their own address send e-mail; others are timeline events only
   */
  readonly escalationEmail?: string;

  /**
   * From address of escalation e-mails (`EMAIL_FROM`), a verified SES identity.
   *
   * @default - no escalation e-mail is sent (SES needs a verified sender); escalations stay on the
   * ticket timeline and the change feed
   */
  readonly emailFrom?: string;

  /**
   * Calendars and policies in force until a supervisor stores others through
   * `PUT /api/v1/sla/calendars` and `/sla/policies`. Validated at synthesis: a mistake fails
   * `cdk synth` with the value and the fix (e.g. "sla business hours must be HH:MM-HH:MM, got '9-5'").
   *
   * @default - calendar `24x7` in UTC; normal 1 h / 4 h / 24 h, urgent 15 min / 1 h / 4 h (DESIGN §2)
   */
  readonly defaults?: SlaSettingsInput;

  /**
   * SSM path of the channel settings: escalation e-mails go out through SES in the e-mail
   * channel's region (`EMAIL_SES_REGION`, else the region of `EMAIL_SNS_TOPIC_ARN`, both stored
   * there), where `EMAIL_FROM` is verified — as replies do.
   *
   * @default - e-mails go out through SES in the stack's region
   */
  readonly secretsPath?: string;

  /**
   * Which execution events go to CloudWatch Logs (without execution data: ticket ids only).
   *
   * @default LogLevel.ERROR - failures only; logging every transition of long waits costs more than the workflow
   */
  readonly logLevel?: LogLevel;

  /**
   * How long function and execution log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** The SLA state machine and its evaluate function. */
export class SlaWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  /** The sla-evaluate function (the state machine's only task). */
  public readonly evaluateFunction: ConfluoFunction;
  /** The validated defaults as the `CONFLUO_SLA_DEFAULTS` value (JSON), or undefined for the built-in ones. */
  public readonly defaultsJson: string | undefined;

  constructor(scope: Construct, id: string, props: SlaWorkflowProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    // Fail synthesis, not the first ticket, on a bad calendar or policy.
    this.defaultsJson = props.defaults ? JSON.stringify(parseSlaSettings(props.defaults)) : undefined;

    this.evaluateFunction = new ConfluoFunction(this, 'EvaluateFunction', {
      handlerName: 'sla-evaluate',
      description: 'Confluo SLA: evaluate a ticket\'s deadlines in business time, commit escalations, tell the workflow when to look again',
      timeout: SLA_EVALUATE_TIMEOUT,
      logRetention,
      environment: {
        ...(props.escalationEmail ? { ESCALATION_EMAIL: props.escalationEmail } : {}),
        ...(props.emailFrom ? { EMAIL_FROM: props.emailFrom } : {}),
        ...(this.defaultsJson ? { CONFLUO_SLA_DEFAULTS: this.defaultsJson } : {}),
      },
    }).bindTable(props.store);
    if (props.secretsPath) this.evaluateFunction.bindSecrets(props.secretsPath);
    if (props.emailFrom) this.evaluateFunction.allowSendRawEmail();

    const wait = Wait.jsonPath(this, SLA_STATES.wait, {
      comment: 'Sleep until the next threshold of any clock (an escalation step or a deadline)',
      time: WaitTime.timestampPath('$.wait_until'),
    });
    const evaluate = LambdaInvoke.jsonPath(this, SLA_STATES.evaluate, {
      comment: 'Read the ticket as it is now; commit due escalations; answer wait-until | escalate | done',
      lambdaFunction: this.evaluateFunction,
      // The function's return value is the state output: {ticket_id, generation, kind, wait_until}.
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({
        ticket_id: JsonPath.stringAt('$.ticket_id'),
        generation: JsonPath.numberAt('$.generation'),
        execution: JsonPath.stringAt('$$.Execution.Name'),
      }),
      taskTimeout: Timeout.duration(SLA_EVALUATE_TIMEOUT.plus(SLA_EVALUATE_TIMEOUT)),
      // Lambda service exceptions are retried by LambdaInvoke itself (retryOnServiceExceptions).
    });
    // Function errors (a DynamoDB hiccup, SES refusing for a moment): the function is idempotent,
    // so retry with backoff and jitter (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
    evaluate.addRetry({
      errors: ['States.TaskFailed', 'States.Timeout'],
      interval: Duration.seconds(5),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.minutes(5),
    });
    const decide = Choice.jsonPath(this, SLA_STATES.decide, { comment: 'Branch on the evaluate decision' });
    const done = Succeed.jsonPath(this, SLA_STATES.done, { comment: 'No clock can fire without a new event (a new execution then starts)' });
    const unknown = Fail.jsonPath(this, SLA_STATES.unknown, { error: 'UnknownDecision', cause: 'sla-evaluate answered a kind this workflow does not know' });

    const definition = wait.next(evaluate).next(
      decide
        .when(Condition.stringEquals('$.kind', 'done'), done)
        .when(Condition.or(Condition.stringEquals('$.kind', 'wait-until'), Condition.stringEquals('$.kind', 'escalate')), wait)
        .otherwise(unknown),
    );

    const logGroup = new LogGroup(this, 'ExecutionLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Confluo SLA: one execution per ticket generation; waits until the next deadline, evaluates, loops',
      definitionBody: DefinitionBody.fromChainable(definition),
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      tracingEnabled: true,
      logs: { destination: logGroup, level: props.logLevel ?? LogLevel.ERROR, includeExecutionData: false },
    });

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-SF1',
        reason: 'Failed executions are logged (LogLevel.ERROR), and failed, timed-out and aborted executions raise alarms (Observability, through metricFailed/metricTimedOut/metricAborted); logging ALL events of executions that mostly wait would cost more than the workflow itself. Raise logLevel when debugging.',
      },
    );
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing (xray:PutTraceSegments) only support Resource "*" (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.evaluateFunction.node.defaultChild as never)}.Arn>:*]`,
        reason: 'LambdaInvoke grants lambda:InvokeFunction on the evaluate function and its versions/aliases (<arn>:*); it is the one function of this workflow.',
      },
    );
  }

  /**
   * Let a function start SLA executions: sets `CONFLUO_SLA_STATE_MACHINE_ARN` (and
   * `CONFLUO_SLA_DEFAULTS`, so its reactions compute the same deadlines) and grants
   * states:StartExecution on this state machine only.
   */
  bindStarter(fn: ConfluoFunction): Grant {
    fn.addEnvironment('CONFLUO_SLA_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    if (this.defaultsJson) fn.addEnvironment('CONFLUO_SLA_DEFAULTS', this.defaultsJson);
    return this.stateMachine.grantStartExecution(fn);
  }

  /** Give any grantee (e.g. an operator role) the right to start executions. */
  grantStartExecution(grantee: IGrantable): Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /** Executions that failed (the evaluate function kept failing after its retries): a ticket no longer watched. */
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

  /** Executions started (≈ tickets opened plus re-targets). */
  metricStarted(props?: MetricOptions): Metric {
    return this.stateMachine.metricStarted({ statistic: 'Sum', ...props });
  }
}
