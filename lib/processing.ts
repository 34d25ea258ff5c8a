/**
 * Processing: the process function drains the inbound FIFO queue into the table (parse, dedupe,
 * identify, thread, persist, emit feed events); the dispatch function follows the table stream
 * and turns change-feed items (pk `FEED#…`) into follow-up work such as acknowledgements on the
 * outbound queue (DESIGN §1).
 */
import { Arn, Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IMetric, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';
import { ConfluoFunction } from './confluo-function.js';
import { customMetricSum } from './ingest.js';
import type { Store } from './store.js';

/**
 * Timeout of the process function. The inbound queue's visibility timeout is derived from it
 * (six times), so both constructs read this one constant.
 */
export const PROCESS_FUNCTION_TIMEOUT = Duration.seconds(30);

/** Default ceiling of concurrent process invocations the inbound queue mapping starts. */
export const PROCESS_MAX_CONCURRENCY = 10;

export interface ProcessingProps {
  /** The single table the functions read and write. */
  readonly store: Store;
  /** The inbound FIFO queue (from `Ingest`), consumed by the process function. */
  readonly inboundQueue: IQueue;
  /** The inbound queue's dead-letter queue: the process function dead-letters poison records itself. */
  readonly inboundDlq: IQueue;
  /** The outbound FIFO queue (from `Outbound`), fed by the dispatch function. */
  readonly outboundQueue: IQueue;

  /**
   * SSM path of the channel settings: the process function reads those the channels' `parse`
   * needs (`EMAIL_FORM_SENDERS`; lib/ssm-settings.ts).
   *
   * @default - none read: parse sees only its defaults
   */
  readonly secretsPath?: string;

  /**
   * Where SLA escalations and bad-score alerts are e-mailed (`ESCALATION_EMAIL` of the dispatch
   * function).
   *
   * @default - no escalation e-mail; escalations appear only on the ticket timeline
   */
  readonly escalationEmail?: string;

  /**
   * The SLA workflow whose executions the dispatch function starts (one per ticket, on
   * `ticket.opened` and on events that move a deadline earlier): sets
   * `CONFLUO_SLA_STATE_MACHINE_ARN` and grants states:StartExecution.
   *
   * @default - no SLA executions are started
   */
  readonly slaWorkflow?: { bindStarter(fn: ConfluoFunction): unknown };

  /**
   * The survey workflow whose executions the dispatch function starts (one per resolution, and a
   * follow-up per answer); the process function gets its settings to recognise answers.
   *
   * @default - no surveys
   */
  readonly surveyWorkflow?: { bindStarter(fn: ConfluoFunction): unknown; bindSettings(fn: ConfluoFunction): unknown };

  /**
   * Name of the bucket of an SES receipt rule's S3 action (mail over 150 KB arrives as a
   * notification naming an object there): the process function may `s3:GetObject` under
   * `inboundMailPrefix`. SSE-KMS on that bucket needs a key grant of your own.
   *
   * @default - no S3 access; an S3-action notification is dead-lettered as unreadable
   */
  readonly inboundMailBucketName?: string;

  /**
   * Object key prefix of the S3 action (its `ObjectKeyPrefix`).
   *
   * @default '' (the whole bucket)
   */
  readonly inboundMailPrefix?: string;

  /**
   * How long function log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;

  /**
   * Most concurrent process invocations the inbound queue mapping starts (2–1000).
   *
   * @default PROCESS_MAX_CONCURRENCY (10)
   */
  readonly maxConcurrency?: number;
}

/** Inbound queue → process function → table; table stream (FEED# items) → dispatch function. */
export class Processing extends Construct {
  /** The process function (SQS batch consumer of the inbound queue). */
  public readonly processFunction: ConfluoFunction;
  /** The dispatch function (table stream consumer). */
  public readonly dispatchFunction: ConfluoFunction;
  /** Where stream batches that dispatch gave up on are recorded (record metadata, not items). */
  public readonly dispatchFailures: Queue;

  private readonly inboundDlq: IQueue;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    this.inboundDlq = props.inboundDlq;

    this.processFunction = new ConfluoFunction(this, 'ProcessFunction', {
      handlerName: 'process',
      description: 'Confluo inbound: parse, dedupe, identify, thread and persist queued webhook requests',
      timeout: PROCESS_FUNCTION_TIMEOUT,
      memorySize: 512,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    })
      .bindTable(props.store)
      // A record that can never succeed (unparseable, unknown channel) is moved to the DLQ at
      // once, with its reason as a message attribute, instead of blocking its conversation for
      // 5 receives (DESIGN §7).
      .bindQueue('CONFLUO_INBOUND_DLQ_URL', props.inboundDlq);
    if (props.secretsPath) this.processFunction.bindSecrets(props.secretsPath);
    this.processFunction.addEventSource(new SqsEventSource(props.inboundQueue, {
      // 10 is the largest batch a FIFO queue delivers.
      batchSize: 10,
      // A flood of queued messages (each web-chat visitor is a message group of its own) scales
      // the function no further than this, so it cannot take the account's concurrency from the
      // webhooks and the Agent API; the queue absorbs the rest
      // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html#events-sqs-max-concurrency).
      maxConcurrency: props.maxConcurrency ?? PROCESS_MAX_CONCURRENCY,
      // A failed message is retried alone (and, in FIFO order, holds back only its own
      // conversation) instead of the whole batch
      // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting).
      reportBatchItemFailures: true,
    }));

    if (props.inboundMailBucketName) {
      // Read only: SES writes the object, the process function parses it (channels.md §8, S3 action).
      const objects = `arn:aws:s3:::${props.inboundMailBucketName}/${props.inboundMailPrefix ?? ''}*`;
      this.processFunction.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [Arn.format({ service: 's3', region: '', account: '', resource: props.inboundMailBucketName, resourceName: `${props.inboundMailPrefix ?? ''}*` }, Stack.of(this))] }));
      Validations.of(this.processFunction.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objects.replace('arn:aws:', 'arn:<AWS::Partition>:')}]`,
        reason: 'SES names each received mail object itself (a message id under the receipt rule prefix); only GetObject, only under that prefix.',
      });
    }

    this.dispatchFailures = new Queue(this, 'DispatchFailures', {
      // Stream-record metadata only, but explicit like every queue's size (queue-size.ts).
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.dispatchFailures).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the dispatch stream mapping (a dead-letter queue in all but name); nothing consumes it automatically, an operator inspects and replays it.',
    });

    this.dispatchFunction = new ConfluoFunction(this, 'DispatchFunction', {
      handlerName: 'dispatch',
      description: 'Confluo change feed: turns FEED# stream records into workflows, acknowledgements and notifications',
      timeout: Duration.seconds(30),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.escalationEmail ? { environment: { ESCALATION_EMAIL: props.escalationEmail } } : {}),
    })
      .bindTable(props.store)
      .bindQueue('CONFLUO_OUTBOUND_QUEUE_URL', props.outboundQueue);
    props.slaWorkflow?.bindStarter(this.dispatchFunction);
    props.surveyWorkflow?.bindStarter(this.dispatchFunction);
    if (props.surveyWorkflow) props.surveyWorkflow.bindSettings(this.processFunction);
    this.dispatchFunction.addEventSource(new DynamoEventSource(props.store.table, {
      // Start from the oldest record still in the stream, so a (re)created mapping misses nothing.
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // A failing record is isolated by halving the batch, then retried at most 10 times before
      // its metadata goes to the failure queue, so one poison event never stalls the shard.
      bisectBatchOnError: true,
      retryAttempts: 10,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(this.dispatchFailures),
      // Only new change-feed items wake the function; ticket, message and marker writes (and a
      // feed item's expiry, a REMOVE) are filtered out by Lambda before invocation and cost
      // nothing (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html).
      filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT'), dynamodb: { NewImage: { pk: { S: FilterRule.beginsWith('FEED#') } } } })],
    }));
    Validations.of(this.dispatchFunction.role!).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (xray:PutTraceSegments/PutTelemetryRecords) and the stream event source (dynamodb:ListStreams) only support Resource "*" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html); the stream itself is granted by ARN.',
    });
  }

  /** Messages in the inbound dead-letter queue: each is a webhook request that failed processing 5 times. */
  metricDlqDepth(props?: MetricOptions): Metric {
    return this.inboundDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }

  /** Age of the newest stream record dispatch has read when it was read (how far behind dispatch is), in ms. */
  metricDispatchIteratorAge(props?: MetricOptions): Metric {
    return this.dispatchFunction.metric('IteratorAge', { statistic: 'Maximum', ...props });
  }

  /**
   * Authenticated inbound events the process function dropped as malformed (`InboundMalformed`,
   * functions/runtime/metrics.ts), all channels and reasons summed. Above zero: a platform changed
   * its payloads, or something signs nonsense; the reason code is in the process function's log.
   */
  metricMalformed(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
    return customMetricSum('InboundMalformed', props);
  }

  /** Every authenticated inbound event the process function dropped on purpose (`InboundIgnored`: echoes, receipts, unsupported kinds, malformed). */
  metricIgnored(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
    return customMetricSum('InboundIgnored', props);
  }

  /** Stream batches dispatch gave up on (records in the failure queue). */
  metricDispatchFailures(props?: MetricOptions): Metric {
    return this.dispatchFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }
}
