/**
 * Outbound: replies, acknowledgements, surveys and escalations wait on a FIFO queue (ordered per
 * conversation) and the send function delivers them through the platform APIs or SES, recording
 * delivery state in the table (DESIGN §1).
 */
import { Duration } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';
import { ConfluoFunction } from './confluo-function.js';
import { MAX_RECEIVE_COUNT } from './ingest.js';
import type { Store } from './store.js';

/** Timeout of the send function; the outbound queue's visibility timeout is six times this. */
export const SEND_FUNCTION_TIMEOUT = Duration.seconds(30);

export interface OutboundProps {
  /** The single table (delivery state, channel of the ticket). */
  readonly store: Store;
  /** SSM Parameter Store path of the channel secrets (platform tokens for replies). */
  readonly secretsPath: string;

  /**
   * The From address of e-mail replies (`EMAIL_FROM`); must be a verified SES identity.
   *
   * @default - EMAIL_FROM is not set and the send function cannot answer on the e-mail channel
   */
  readonly emailFrom?: string;

  /**
   * How long function log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** Outbound FIFO queue (+ DLQ) → send function → platform API / SES. */
export class Outbound extends Construct {
  /** Outbound FIFO queue; producers set CONFLUO_OUTBOUND_QUEUE_URL to its URL. */
  public readonly queue: Queue;
  /** Outbound dead-letter queue: sends that failed MAX_RECEIVE_COUNT times. */
  public readonly dlq: Queue;
  /** The send function. */
  public readonly function: ConfluoFunction;

  constructor(scope: Construct, id: string, props: OutboundProps) {
    super(scope, id);

    this.dlq = new Queue(this, 'OutboundDlq', {
      fifo: true,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'OutboundQueue', {
      fifo: true,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      // Producers set MessageDeduplicationId (e.g. the outbound message id), so a retried
      // producer does not send a reply twice while two equal texts still both go out.
      contentBasedDeduplication: false,
      // Six times the consumer's timeout, as AWS recommends for a Lambda event source
      // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
      visibilityTimeout: Duration.seconds(SEND_FUNCTION_TIMEOUT.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.function = new ConfluoFunction(this, 'SendFunction', {
      handlerName: 'send',
      description: 'Confluo outbound: render and deliver replies on the channel they belong to, record delivery state',
      timeout: SEND_FUNCTION_TIMEOUT,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.emailFrom ? { environment: { EMAIL_FROM: props.emailFrom } } : {}),
    })
      .bindTable(props.store)
      .bindSecrets(props.secretsPath)
      // Backoff that respects the platform's wait (ChangeMessageVisibility on the record being
      // retried), and the receive count at which a send is given up and marked failed.
      .bindQueueBackoff('CONFLUO_OUTBOUND_QUEUE_URL', this.queue, 'CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT', MAX_RECEIVE_COUNT);
    this.function.addEventSource(new SqsEventSource(this.queue, {
      batchSize: 10,
      // Only the failed sends are retried, not the replies already delivered in the same batch.
      reportBatchItemFailures: true,
    }));

    // E-mail replies keep their threading headers (In-Reply-To, References), hence raw MIME.
    this.function.allowSendRawEmail();
  }

  /** Messages in the outbound dead-letter queue: replies that could not be delivered. */
  metricDlqDepth(props?: MetricOptions): Metric {
    return this.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }
}
