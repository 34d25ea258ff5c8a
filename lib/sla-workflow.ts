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
 * The loop, its retries, logs and alarm metrics are lib/wait-step-workflow.ts's (STANDARD: an
 * execution may wait for weeks — a resolution target across holidays).
 */
import { Duration } from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { JsonPath, type LogLevel, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { parseSlaSettings, type SlaSettingsInput } from '../functions/domain/sla/policy.js';
import { ConfluoFunction } from './confluo-function.js';
import type { Store } from './store.js';
import { WaitStepWorkflow } from './wait-step-workflow.js';

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
export class SlaWorkflow extends WaitStepWorkflow {
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

    this.buildLoop({
      states: { wait: SLA_STATES.wait, step: SLA_STATES.evaluate, decide: SLA_STATES.decide, done: SLA_STATES.done, unknown: SLA_STATES.unknown },
      fn: this.evaluateFunction,
      fnTimeout: SLA_EVALUATE_TIMEOUT,
      // The function's return value is the state output: {ticket_id, generation, kind, wait_until}.
      payload: TaskInput.fromObject({
        ticket_id: JsonPath.stringAt('$.ticket_id'),
        generation: JsonPath.numberAt('$.generation'),
        execution: JsonPath.stringAt('$$.Execution.Name'),
      }),
      loopKinds: ['wait-until', 'escalate'],
      comments: {
        wait: 'Sleep until the next threshold of any clock (an escalation step or a deadline)',
        step: 'Read the ticket as it is now; commit due escalations; answer wait-until | escalate | done',
        decide: 'Branch on the evaluate decision',
        done: 'No clock can fire without a new event (a new execution then starts)',
        stateMachine: 'Confluo SLA: one execution per ticket generation; waits until the next deadline, evaluates, loops',
        functionName: 'evaluate function',
      },
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      logRetention,
    });
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
}
