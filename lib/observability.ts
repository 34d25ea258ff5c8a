/**
 * Observability: alarms built from the other constructs' `metric…()` methods, an encrypted SNS
 * topic they notify, and one dashboard. Every alarm means "a person should look": a message in a
 * DLQ, a queue that stopped draining, a function failing, or a platform whose webhooks are too
 * large to accept.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, type IMetric, SingleValueWidget, TextWidget, TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AgentApi } from './agent-api.js';
import type { ConfluoFunction } from './confluo-function.js';
import type { Ingest } from './ingest.js';
import type { Outbound } from './outbound.js';
import type { Processing } from './processing.js';

export interface ObservabilityProps {
  readonly ingest: Ingest;
  readonly processing: Processing;
  readonly outbound: Outbound;
  readonly agentApi: AgentApi;

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
   * What happens to the alarm topic's KMS key when it is removed from the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Alarms (DLQ depth, queue age, function errors, oversized webhooks) → SNS topic; a dashboard. */
export class Observability extends Construct {
  /** Every alarm notifies this topic. */
  public readonly alarmTopic: Topic;
  /** All alarms defined here, by purpose. */
  public readonly alarms: Alarm[] = [];
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { ingest, processing, outbound, agentApi } = props;

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
    alarm('DispatchFailuresAlarm', processing.metricDispatchFailures({ period: Duration.minutes(1) }),
      'The dispatch function gave up on change-feed stream records; their metadata is in the dispatch failure queue.');
    alarm('InboundAgeAlarm', ingest.metricOldestMessageAge({ period: Duration.minutes(5) }),
      'The inbound queue is not draining: the oldest webhook request waits longer than expected. Check the process function (errors, throttling).',
      (props.maxInboundAge ?? Duration.minutes(20)).toSeconds());
    alarm('WebhookTooLargeAlarm', ingest.metricTooLarge({ period: Duration.minutes(5) }),
      'A platform sent a webhook above the channel size limit (413). The platform keeps retrying it; raise the limit or inspect the sender.');

    const functions: Array<[string, ConfluoFunction]> = [
      ['Ingest', ingest.function],
      ['Process', processing.processFunction],
      ['Dispatch', processing.dispatchFunction],
      ['Send', outbound.function],
      ['AgentApi', agentApi.function],
    ];
    for (const [name, fn] of functions) {
      alarm(`${name}ErrorsAlarm`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${name} function failed (an uncaught error or timeout, not a reported batch item failure).`);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
      widgets: [
        [new TextWidget({ markdown: '# Confluo\nWebhooks → inbound queue → process → table → dispatch → outbound queue → send', width: 24, height: 2 })],
        [
          new GraphWidget({ title: 'Webhooks refused', left: [ingest.metricRejected({ label: 'rejected' }), ingest.metricTooLarge({ label: 'too large' })], width: 12 }),
          new GraphWidget({ title: 'Inbound queue: age of oldest message (s)', left: [ingest.metricOldestMessageAge()], width: 12 }),
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
          new GraphWidget({ title: 'Function errors', left: functions.map(([name, fn]) => fn.metricErrors({ label: name, statistic: 'Sum' })), width: 12 }),
          new GraphWidget({ title: 'Function duration p99 (ms)', left: functions.map(([name, fn]) => fn.metricDuration({ label: name, statistic: 'p99' })), width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Function throttles', left: functions.map(([name, fn]) => fn.metricThrottles({ label: name, statistic: 'Sum' })), width: 12 }),
          new GraphWidget({ title: 'Agent API 5xx', left: [agentApi.metricServerErrors()], width: 12 }),
        ],
      ],
    });
  }
}
