/**
 * Voice: the phone channel through an existing Amazon Connect instance (issue 16; README "Phone
 * (Amazon Connect)"). Created by the stack only when it is given the instance
 * (`-c connectInstanceArn=arn:aws:connect:<region>:<account>:instance/<id>`); without it nothing
 * of this exists.
 *
 * - The lookup function (functions/handlers/voice-lookup.ts) that contact flows invoke, made
 *   callable from the instance's flows by `AWS::Connect::IntegrationAssociation`
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-connect-integrationassociation.html)
 *   and a resource policy naming the instance. Least privilege: it reads the number's index item,
 *   identity, customer and the customer's gsi3 partition and writes the contact's context item —
 *   GetItem, BatchGetItem, Query (gsi3 only) and PutItem.
 * - The events function (functions/handlers/voice-events.ts) that an EventBridge rule feeds with the
 *   instance's voice contact events (`DISCONNECTED` only: it carries every timestamp of a call).
 *   It commits like the process function (identity, ticket, timeline), so it has the same table
 *   access. Failed deliveries (EventBridge) and failed invocations (Lambda's asynchronous retries)
 *   end in one dead-letter queue, whose depth is alarmed like the lookup's failures.
 */
import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IMetric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnIntegrationAssociation } from 'aws-cdk-lib/aws-connect';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';
import { customMetricSum } from './ingest.js';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';

export interface VoiceProps {
  /** The Amazon Connect instance (`arn:aws:connect:<region>:<account>:instance/<id>`), in this stack's region. */
  readonly connectInstanceArn: string;
  readonly store: { readonly table: ITable };
  /** Call entries name the recording (`CONFLUO_VOICE_RECORDINGS`). @default false */
  readonly recordings?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** What the lookup does to the table (functions/store/voice.ts `findCaller`, `putCallContext`). */
export const VOICE_LOOKUP_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'] as const;

const INSTANCE_ARN = /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}$/;

export class Voice extends Construct {
  public readonly lookupFunction: ConfluoFunction;
  public readonly eventsFunction: ConfluoFunction;
  public readonly integration: CfnIntegrationAssociation;
  public readonly contactEvents: Rule;
  /** Contact events that could not be filed (delivery or invocation failed after the retries). */
  public readonly dlq: Queue;

  constructor(scope: Construct, id: string, props: VoiceProps) {
    super(scope, id);
    if (!INSTANCE_ARN.test(props.connectInstanceArn)) {
      throw new Error(`Voice: connectInstanceArn must be an Amazon Connect instance ARN (arn:aws:connect:<region>:<account>:instance/<uuid>), got '${props.connectInstanceArn}'`);
    }
    const stack = Stack.of(this);
    const instance = Arn.split(props.connectInstanceArn, ArnFormat.SLASH_RESOURCE_NAME);
    const table = props.store.table;
    const environment = {
      CONFLUO_CONNECT_INSTANCE_ARN: props.connectInstanceArn,
      ...(props.recordings ? { CONFLUO_VOICE_RECORDINGS: 'on' } : {}),
    };
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    // Connect waits at most 8 s for a flow's Lambda; answering in time matters more than anything it could still do.
    this.lookupFunction = new ConfluoFunction(this, 'LookupFunction', {
      handlerName: 'voice-lookup',
      description: 'Confluo phone: caller lookup for Amazon Connect contact flows (customer, tier, open ticket)',
      timeout: Duration.seconds(6), memorySize: 512, logRetention,
      environment: { CONFLUO_TABLE_NAME: table.tableName, ...environment },
    });
    this.lookupFunction.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...VOICE_LOOKUP_TABLE_ACTIONS], resources: [table.tableArn] }));
    this.lookupFunction.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/gsi3`] }));
    // Only this instance's flows may invoke it (the confused-deputy guard of a service principal).
    this.lookupFunction.addPermission('ConnectInvoke', {
      principal: new ServicePrincipal('connect.amazonaws.com'),
      sourceArn: props.connectInstanceArn,
      sourceAccount: instance.account ?? stack.account,
    });
    this.integration = new CfnIntegrationAssociation(this, 'LookupIntegration', {
      instanceId: props.connectInstanceArn,
      integrationType: 'LAMBDA_FUNCTION',
      integrationArn: this.lookupFunction.functionArn,
    });

    this.eventsFunction = new ConfluoFunction(this, 'EventsFunction', {
      handlerName: 'voice-events',
      description: 'Confluo phone: Amazon Connect contact events become calls on the caller\'s ticket',
      timeout: Duration.seconds(30), logRetention,
      environment,
    }).bindTable(props.store);

    this.dlq = new Queue(this, 'EventsDlq', {
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the contact-event rule and of the events function\'s asynchronous invocations; nothing consumes it, its depth is alarmed and an operator redrives the events after fixing the cause (filing is idempotent per contact).',
    });
    // A failed invocation is retried by Lambda (asynchronous invocation), then parked here.
    this.eventsFunction.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(this.dlq) });
    this.contactEvents = new Rule(this, 'ContactEvents', {
      description: 'Amazon Connect voice contacts of the Confluo instance, once disconnected',
      eventPattern: {
        source: ['aws.connect'],
        detailType: ['Amazon Connect Contact Event'],
        detail: { instanceArn: [props.connectInstanceArn], channel: ['VOICE'], eventType: ['DISCONNECTED'] },
      },
      targets: [new LambdaFunction(this.eventsFunction, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.dlq })],
    });
  }

  /** Contact events parked in the dead-letter queue. */
  metricDlqDepth(props?: MetricOptions): IMetric {
    return this.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  /** Lookups that answered "no customer" because the table could not be read (functions/runtime/metrics.ts). */
  metricLookupFailures(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
    return customMetricSum('VoiceLookupFailed', props);
  }
}
