/**
 * SurveyWorkflow: one Step Functions execution per resolution asks the customer how we did, on
 * the channel they last wrote from (DESIGN §1 Workflows, §2 Close the loop). Like the SLA
 * workflow, the state machine holds no business rules:
 *
 *   WaitUntilDue (Wait, TimestampPath $.wait_until)
 *     → Step (the survey-step function: reads the ticket as it is now; asks, reminds, expires,
 *       cancels or follows up an answer; commits it)
 *     → Decide (Choice on $.kind): 'wait-until' → WaitUntilDue; 'done' → Done
 *
 * A survey costs one execution of about 9 transitions (wait 1 h → ask → wait 24 h → remind →
 * wait → expire) and, when answered, a short follow-up execution (thank-you, low-score alert).
 * The answer itself is recorded by the process function the moment it arrives (it reads the
 * ticket anyway), so no callback/task token is needed: the waiting execution wakes at its next
 * time, finds the survey answered and ends — a stale wake-up is a no-op.
 *
 * Executions are started by the dispatch function (`bindStarter`), named
 * `<ticket_id>-survey-<round>` (round = the ticket's resolution count) and
 * `<ticket_id>-survey-<round>-answer`. The loop, its retries, logs and alarm metrics are
 * lib/wait-step-workflow.ts's (STANDARD: a survey waits for days).
 */
import { Duration } from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { JsonPath, type LogLevel, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { loadConfig } from '../functions/runtime/config.js';
import { ConfluoFunction } from './confluo-function.js';
import type { Store } from './store.js';
import { WaitStepWorkflow } from './wait-step-workflow.js';

/** State names of the survey state machine (the local engine and the tests find states by them). */
export const SURVEY_STATES = {
  wait: 'WaitUntilDue',
  step: 'Step',
  decide: 'Decide',
  done: 'Done',
  unknown: 'UnknownDecision',
} as const;

/** Timeout of the step function; the task gives up after twice that. */
export const SURVEY_STEP_TIMEOUT = Duration.seconds(30);

/** Survey settings (`CONFLUO_SURVEY*` of functions/runtime/config.ts), validated at synthesis. */
export interface SurveySettingsProps {
  /** @default 'csat' */
  readonly scale?: 'csat' | 'nps' | 'off';
  /** @default 60 */
  readonly delayMinutes?: number;
  /** @default 24 */
  readonly reminderHours?: number;
  /** @default 72 */
  readonly expiryHours?: number;
  /** @default 60 */
  readonly commentMinutes?: number;
  /** @default 2 */
  readonly lowCsat?: number;
  /** @default 6 */
  readonly lowNps?: number;
}

export interface SurveyWorkflowProps {
  /** The single table (tickets, customers, identities). */
  readonly store: Store;

  /**
   * Where low-score alerts are e-mailed (`ESCALATION_EMAIL`, the team lead).
   *
   * @default - no alert e-mail; the alert is a timeline event only
   */
  readonly escalationEmail?: string;

  /**
   * From address of alert e-mails (`EMAIL_FROM`), a verified SES identity.
   *
   * @default - no alert e-mail is sent
   */
  readonly emailFrom?: string;

  /**
   * SSM path of the secrets: the step function reads `CONFLUO_SURVEY_LINK_SECRET` there to sign
   * the score links of survey e-mails.
   *
   * @default - no score links (e-mail customers reply with a number)
   */
  readonly secretsPath?: string;

  /**
   * Public base URL the score links point at (`CONFLUO_PUBLIC_URL`): the webhook API's URL, or a
   * custom domain mapped to it.
   *
   * @default - no score links
   */
  readonly publicUrl?: string;

  /**
   * Scale, delay, reminder, expiry and low-score thresholds.
   *
   * @default - CSAT 1–5, asked 1 h after resolution, reminded after 24 h, expired after 72 h, low ≤ 2 (NPS ≤ 6)
   */
  readonly settings?: SurveySettingsProps;

  /**
   * Which execution events go to CloudWatch Logs (without execution data: ticket ids only).
   *
   * @default LogLevel.ERROR
   */
  readonly logLevel?: LogLevel;

  /**
   * How long function and execution log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** The survey state machine and its step function. */
export class SurveyWorkflow extends WaitStepWorkflow {
  /** The survey-step function (the state machine's only task). */
  public readonly stepFunction: ConfluoFunction;
  /** The survey settings as environment variables (for the process and dispatch functions too). */
  public readonly settingsEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: SurveyWorkflowProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    this.settingsEnvironment = surveyEnvironment(props.settings);

    this.stepFunction = new ConfluoFunction(this, 'StepFunction', {
      handlerName: 'survey-step',
      description: 'Confluo close the loop: ask, remind, expire or follow up a ticket\'s survey; tell the workflow when to look again',
      timeout: SURVEY_STEP_TIMEOUT,
      logRetention,
      environment: {
        ...this.settingsEnvironment,
        ...(props.escalationEmail ? { ESCALATION_EMAIL: props.escalationEmail } : {}),
        ...(props.emailFrom ? { EMAIL_FROM: props.emailFrom } : {}),
        ...(props.publicUrl ? { CONFLUO_PUBLIC_URL: props.publicUrl } : {}),
      },
    }).bindTable(props.store);
    // The score-link key lives with the other secrets in SSM, never in the template.
    if (props.secretsPath && props.publicUrl) this.stepFunction.bindSecrets(props.secretsPath);
    if (props.emailFrom) this.stepFunction.allowSendRawEmail();

    this.buildLoop({
      states: { wait: SURVEY_STATES.wait, step: SURVEY_STATES.step, decide: SURVEY_STATES.decide, done: SURVEY_STATES.done, unknown: SURVEY_STATES.unknown },
      fn: this.stepFunction,
      fnTimeout: SURVEY_STEP_TIMEOUT,
      payload: TaskInput.fromObject({
        ticket_id: JsonPath.stringAt('$.ticket_id'),
        round: JsonPath.numberAt('$.round'),
        execution: JsonPath.stringAt('$$.Execution.Name'),
      }),
      loopKinds: ['wait-until'],
      comments: {
        wait: 'Sleep until the question, the reminder or the expiry is due (or at once for a follow-up)',
        step: 'Read the ticket as it is now; ask, remind, expire, cancel or follow up; answer wait-until | done',
        decide: 'Branch on the step decision',
        done: 'Answered, expired, cancelled or stale',
        stateMachine: 'Confluo survey: one execution per resolution; waits, asks, reminds once, records or gives up',
        functionName: 'step function',
      },
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      logRetention,
    });
  }

  /**
   * Let a function start survey executions: sets `CONFLUO_SURVEY_STATE_MACHINE_ARN` and the
   * survey settings, and grants states:StartExecution on this state machine only.
   */
  bindStarter(fn: ConfluoFunction): Grant {
    fn.addEnvironment('CONFLUO_SURVEY_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.bindSettings(fn);
    return this.stateMachine.grantStartExecution(fn);
  }

  /** Give a function the survey settings (the process function recognises answers with them). */
  bindSettings(fn: ConfluoFunction): ConfluoFunction {
    for (const [k, v] of Object.entries(this.settingsEnvironment)) fn.addEnvironment(k, v);
    return fn;
  }
}

/** The settings as `CONFLUO_SURVEY*` variables, validated like the functions will (a mistake fails synth). */
export function surveyEnvironment(s: SurveySettingsProps = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (s.scale !== undefined) env.CONFLUO_SURVEY = s.scale;
  if (s.delayMinutes !== undefined) env.CONFLUO_SURVEY_DELAY_MINUTES = String(s.delayMinutes);
  if (s.reminderHours !== undefined) env.CONFLUO_SURVEY_REMINDER_HOURS = String(s.reminderHours);
  if (s.expiryHours !== undefined) env.CONFLUO_SURVEY_EXPIRY_HOURS = String(s.expiryHours);
  if (s.commentMinutes !== undefined) env.CONFLUO_SURVEY_COMMENT_MINUTES = String(s.commentMinutes);
  if (s.lowCsat !== undefined) env.CONFLUO_SURVEY_LOW_CSAT = String(s.lowCsat);
  if (s.lowNps !== undefined) env.CONFLUO_SURVEY_LOW_NPS = String(s.lowNps);
  loadConfig(env);
  return env;
}
