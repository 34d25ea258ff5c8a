/**
 * Observability: alarms built from the other constructs' `metric…()` methods, an encrypted SNS
 * topic they notify, and one dashboard. Every alarm means "a person should look": a message in a
 * DLQ, a queue or stream that stopped draining, a function failing, a workflow execution that
 * failed, timed out or was stopped, an export the schedule could not start, or a platform whose
 * webhooks are too large to accept.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, type IMetric, type MetricOptions, SingleValueWidget, TextWidget, TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AgentApi } from './agent-api.js';
import { ConfluoFunction } from './confluo-function.js';
import type { Export } from './export.js';
import type { Ingest } from './ingest.js';
import type { Outbound } from './outbound.js';
import type { Processing } from './processing.js';
import type { AssignmentWorkflow } from './assignment.js';
import type { SlaWorkflow } from './sla-workflow.js';
import type { SurveyWorkflow } from './survey-workflow.js';

export interface ObservabilityProps {
  readonly ingest: Ingest;
  readonly processing: Processing;
  readonly outbound: Outbound;
  readonly agentApi: AgentApi;
  readonly slaWorkflow: SlaWorkflow;
  readonly surveyWorkflow: SurveyWorkflow;
  /** The offline return of automatic assignment (lib/assignment.ts). */
  readonly assignmentWorkflow: AssignmentWorkflow;
  readonly export: Export;
  /** The phone channel (lib/voice.ts), when the stack has a Connect instance. */
  readonly voice?: { metricDlqDepth(props?: MetricOptions): IMetric; metricLookupFailures(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric };
  /** Inbound attachment jobs (its DLQ holds only a defect's jobs: platform failures are recorded on the message). */
  readonly inboundMedia?: { metricDlqDepth(props?: MetricOptions): IMetric };

  /**
   * An e-mail address subscribed to the alarm topic (AWS sends a confirmation link first).
   *
   * @default - no subscription; subscribe to the `AlarmTopic` yourself
   */
  readonly alarmEmail?: string;

  /**
   * Alarm when the oldest inbound message is older than this. A poison message may hold its
   * conversation for up to 5 receives × the 3-minute visibility timeout before it reaches the
   * DLQ, so anything shorter alarms on ordinary retries.
   *
   * @default Duration.minutes(20)
   */
  readonly maxInboundAge?: Duration;

  /**
   * Alarm when the dispatch function's stream iterator is older than this. Agent replies,
   * acknowledgements and SLA/survey starts all pass through dispatch, and a healthy stream is read
   * within seconds; a batch that keeps failing holds its shard through up to 10 retries (a few
   * minutes with 30 s timeouts) before its metadata goes to the failure queue. Five minutes of
   * age means customers' replies are late beyond ordinary retries, long before the stream's 24 h
   * retention loses records.
   *
   * @default Duration.minutes(5)
   */
  readonly maxDispatchIteratorAge?: Duration;

  /**
   * What happens to the alarm topic's KMS key when it is removed from the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Alarms (DLQ depths, queue and stream age, errors of every function, workflow executions, the
 * export schedule, oversized webhooks) → SNS topic; a dashboard.
 */
export class Observability extends Construct {
  /** Every alarm notifies this topic. */
  public readonly alarmTopic: Topic;
  /** All alarms defined here, by purpose. */
  public readonly alarms: Alarm[] = [];
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { ingest, processing, outbound, agentApi, slaWorkflow, surveyWorkflow, assignmentWorkflow } = props;
    const exporter = props.export;

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key, so
    // the topic has its own key that CloudWatch may use
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-encryption).
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Confluo alarm topic encryption',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(new PolicyStatement({
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Confluo alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const alarm = (alarmId: string, metric: IMetric, description: string, threshold = 0) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No data means nothing happened (no messages, no invocations).
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new SnsAction(this.alarmTopic));
      a.addOkAction(new SnsAction(this.alarmTopic));
      this.alarms.push(a);
      return a;
    };

    alarm('InboundDlqAlarm', processing.metricDlqDepth({ period: Duration.minutes(1) }),
      'A webhook request failed processing 5 times and is in the inbound DLQ; its reason is in the process function logs. Redrive it after fixing the cause.');
    alarm('OutboundDlqAlarm', outbound.metricDlqDepth({ period: Duration.minutes(1) }),
      'An outbound message (reply, acknowledgement, survey, escalation) could not be delivered 5 times and is in the outbound DLQ.');
    if (props.inboundMedia) {
      alarm('MediaDlqAlarm', props.inboundMedia.metricDlqDepth({ period: Duration.minutes(5) }),
        'An attachment job failed 5 times for a reason of ours (platform failures and oversize files are recorded on the message, never dead-lettered); its error is in the media function logs.');
    }
    if (props.voice) {
      alarm('VoiceEventsDlqAlarm', props.voice.metricDlqDepth({ period: Duration.minutes(5) }),
        'An Amazon Connect contact event could not be filed after its retries and is in the voice events DLQ: that call is missing from its ticket. The voice-events function logs say why; redrive it after fixing the cause (filing is idempotent).');
      alarm('VoiceLookupFailedAlarm', props.voice.metricLookupFailures({ period: Duration.minutes(5) }),
        'The phone lookup could not read the table and answered "unknown caller" to the contact flow (callers were not recognised or routed by tier). The voice-lookup function logs say why (throttling, permissions).');
    }
    alarm('DispatchFailuresAlarm', processing.metricDispatchFailures({ period: Duration.minutes(1) }),
      'The dispatch function gave up on change-feed stream records; their metadata is in the dispatch failure queue.');
    alarm('InboundAgeAlarm', ingest.metricOldestMessageAge({ period: Duration.minutes(5) }),
      'The inbound queue is not draining: the oldest webhook request waits longer than expected. Check the process function (errors, throttling).',
      (props.maxInboundAge ?? Duration.minutes(20)).toSeconds());
    alarm('WebhookTooLargeAlarm', ingest.metricTooLarge({ period: Duration.minutes(5) }),
      'A platform sent a webhook above the channel size limit (413). The platform keeps retrying it; raise the limit or inspect the sender.');
    alarm('InboundMalformedAlarm', processing.metricMalformed({ period: Duration.minutes(5) }),
      'An authenticated webhook event was dropped as malformed (answered 200, not processed): a platform changed its payload format, or something signs nonsense. The process function logs "inbound event ignored" with the channel and reason code; the InboundIgnored/InboundMalformed metrics have them as dimensions.');

    alarm('DispatchIteratorAgeAlarm', processing.metricDispatchIteratorAge({ period: Duration.minutes(1) }),
      'The dispatch function is behind on the table stream: replies, acknowledgements and workflow starts are late. Check its errors and the dispatch failure queue.',
      (props.maxDispatchIteratorAge ?? Duration.minutes(5)).toMilliseconds());

    // A failed execution is a ticket whose SLA is no longer watched, or a survey that stopped;
    // timed out likewise (a standard workflow's limit is a year). Aborted too: Confluo never stops
    // an execution itself, so an abort is someone's StopExecution and leaves the same gap.
    const workflows = [
      ['Sla', slaWorkflow, 'An SLA workflow execution', 'that ticket\'s deadlines are no longer evaluated (no warnings, breaches or escalations)'],
      ['Survey', surveyWorkflow, 'A survey workflow execution', 'that ticket\'s survey is neither asked, reminded nor recorded'],
      ['Assignment', assignmentWorkflow, 'An assignment offline-return execution', 'that offline agent\'s unanswered new tickets stay theirs instead of going back to the team\'s queue'],
    ] as const;
    for (const [name, workflow, execution, consequence] of workflows) {
      alarm(`${name}ExecutionsFailedAlarm`, workflow.metricFailed({ period: Duration.minutes(5) }),
        `${execution} failed (its task kept failing after the retries): ${consequence}. The execution history shows the error.`);
      alarm(`${name}ExecutionsTimedOutAlarm`, workflow.metricTimedOut({ period: Duration.minutes(5) }),
        `${execution} timed out: ${consequence}.`);
      alarm(`${name}ExecutionsAbortedAlarm`, workflow.metricAborted({ period: Duration.minutes(5) }),
        `${execution} was stopped (Confluo never stops one itself): ${consequence}.`);
    }

    alarm('ExportScheduleFailuresAlarm', exporter.metricScheduleFailures({ period: Duration.minutes(5) }),
      'EventBridge could not start the hourly analytics export (after its retries); the event is in the schedule DLQ with the reason.');
    alarm('ExportScheduleDlqAlarm', exporter.metricScheduleDlqDepth({ period: Duration.minutes(5) }),
      'An hourly export invocation is in the schedule dead-letter queue (its ERROR_CODE/ERROR_MESSAGE attributes say why); the next run exports what was missed.');

    // Every Confluo function in the stack, found rather than listed, so a new one cannot be
    // forgotten; one created after this construct fails synthesis (the validation below).
    const functions = confluoFunctions(Stack.of(this));
    for (const fn of functions) {
      alarm(`${pascal(fn.handlerName)}ErrorsAlarm`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${fn.handlerName} function failed (an uncaught error or timeout, not a reported batch item failure).`);
    }
    this.node.addValidation({
      validate: () => confluoFunctions(Stack.of(this)).filter((fn) => !functions.includes(fn))
        .map((fn) => `Observability: function ${fn.node.path} was created after Observability and has no errors alarm; create Observability last`),
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
      widgets: [
        [new TextWidget({ markdown: '# Confluo\nWebhooks → inbound queue → process → table → dispatch → outbound queue → send', width: 24, height: 2 })],
        [
          new GraphWidget({ title: 'Webhooks refused', left: [ingest.metricRejected({ label: 'rejected' }), ingest.metricTooLarge({ label: 'too large' })], width: 12 }),
          new GraphWidget({ title: 'Inbound queue: age of oldest message (s)', left: [ingest.metricOldestMessageAge()], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Inbound events dropped (authenticated)', left: [processing.metricIgnored({ label: 'ignored' }), processing.metricMalformed({ label: 'malformed' })], width: 24 }),
        ],
        [
          new SingleValueWidget({
            title: 'Dead-letter queues',
            metrics: [
              processing.metricDlqDepth({ label: 'inbound DLQ' }),
              outbound.metricDlqDepth({ label: 'outbound DLQ' }),
              processing.metricDispatchFailures({ label: 'dispatch failures' }),
            ],
            width: 24,
          }),
        ],
        [
          new GraphWidget({ title: 'Function errors', left: functions.map((fn) => fn.metricErrors({ label: fn.handlerName, statistic: 'Sum' })), width: 12 }),
          new GraphWidget({ title: 'Function duration p99 (ms)', left: functions.map((fn) => fn.metricDuration({ label: fn.handlerName, statistic: 'p99' })), width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Function throttles', left: functions.map((fn) => fn.metricThrottles({ label: fn.handlerName, statistic: 'Sum' })), width: 12 }),
          new GraphWidget({ title: 'Agent API 5xx', left: [agentApi.metricServerErrors()], width: 12 }),
        ],
        [
          new GraphWidget({
            title: 'Workflow executions failed / timed out / aborted',
            left: [
              slaWorkflow.metricFailed({ label: 'SLA failed' }), slaWorkflow.metricTimedOut({ label: 'SLA timed out' }), slaWorkflow.metricAborted({ label: 'SLA aborted' }),
              surveyWorkflow.metricFailed({ label: 'survey failed' }), surveyWorkflow.metricTimedOut({ label: 'survey timed out' }), surveyWorkflow.metricAborted({ label: 'survey aborted' }),
              assignmentWorkflow.metricFailed({ label: 'offline return failed' }), assignmentWorkflow.metricTimedOut({ label: 'offline return timed out' }), assignmentWorkflow.metricAborted({ label: 'offline return aborted' }),
            ],
            width: 12,
          }),
          new GraphWidget({ title: 'Dispatch stream iterator age (ms)', left: [processing.metricDispatchIteratorAge()], width: 12 }),
        ],
        [
          new GraphWidget({
            title: 'Hourly export',
            left: [exporter.metricScheduleFailures({ label: 'schedule failed invocations' }), exporter.metricScheduleDlqDepth({ label: 'schedule DLQ' })],
            width: 24,
          }),
        ],
      ],
    });
  }
}

/** The Confluo functions of a stack, in the order they were created. */
function confluoFunctions(stack: Stack): ConfluoFunction[] {
  return stack.node.findAll().filter((c): c is ConfluoFunction => c instanceof ConfluoFunction);
}

/** 'sla-evaluate' → 'SlaEvaluate' (construct ids of the alarms). */
function pascal(name: string): string {
  return name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
