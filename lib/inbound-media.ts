/**
 * InboundMedia (issue 14): customers' attachments kept after their message is committed. The
 * dispatch function turns each `media.pending` feed event (committed with the message) into a job
 * on the media queue; the media function fetches the attachments with each channel's own method
 * and stores them in the media bucket (functions/handlers/media.ts). A queue of its own, so a
 * slow platform or a large file never delays processing, and retries with backoff
 * (ChangeMessageVisibility) up to MEDIA_MAX_RECEIVES receives; the last one records failures on
 * the message, so the DLQ only ever holds a defect's jobs.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INBOUND_MAIL_PREFIX, MEDIA_MAX_RECEIVES } from '../functions/domain/media.js';
import { ConfluoFunction } from './confluo-function.js';
import type { Media } from './media.js';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';
import type { Store } from './store.js';

/** Timeout of the media function: a few downloads of up to the per-message cap each. */
export const MEDIA_FUNCTION_TIMEOUT = Duration.minutes(2);

export interface InboundMediaProps {
  readonly store: Store;
  readonly media: Media;
  /** The dispatch function (stream consumer) that enqueues the jobs. */
  readonly dispatch: ConfluoFunction;
  /** SSM path of the download tokens (lib/ssm-settings.ts `media`). */
  readonly secretsPath: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Size limits (`CONFLUO_MEDIA_*_MB` of the media function). @default - 25 MB per attachment, 50 MB per message */
  readonly limits?: MediaLimitsProps;
}

/** What inbound attachments may weigh (README "Attachments"). */
export interface MediaLimitsProps {
  /** Largest attachment kept, in MB, on every channel without its own limit. @default 25 */
  readonly maxMb?: number;
  /** Per-channel limits in MB, e.g. `{ telegram: 20, email: 10 }`. @default - maxMb everywhere */
  readonly channelMaxMb?: Readonly<Record<string, number>>;
  /** Most MB kept of one message's attachments together. @default 50 */
  readonly messageMaxMb?: number;
}

/** The media function's environment for `limits` (validated when it starts, config.ts). */
export function mediaLimitsEnvironment(limits: MediaLimitsProps | undefined): Record<string, string> {
  if (!limits) return {};
  for (const v of [limits.maxMb, limits.messageMaxMb, ...Object.values(limits.channelMaxMb ?? {})]) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`mediaLimits: sizes are whole numbers of MB ≥ 1, got ${v}`);
  }
  return {
    ...(limits.maxMb !== undefined ? { CONFLUO_MEDIA_MAX_MB: String(limits.maxMb) } : {}),
    ...(limits.messageMaxMb !== undefined ? { CONFLUO_MEDIA_MESSAGE_MAX_MB: String(limits.messageMaxMb) } : {}),
    ...(limits.channelMaxMb && Object.keys(limits.channelMaxMb).length ? { CONFLUO_MEDIA_CHANNEL_MAX_MB: Object.entries(limits.channelMaxMb).map(([c, mb]) => `${c}=${mb}`).join(',') } : {}),
  };
}

export class InboundMedia extends Construct {
  public readonly queue: Queue;
  public readonly dlq: Queue;
  public readonly function: ConfluoFunction;

  constructor(scope: Construct, id: string, props: InboundMediaProps) {
    super(scope, id);
    this.dlq = new Queue(this, 'MediaDlq', {
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    // Standard, not FIFO: jobs are independent (one per message) and idempotent per attachment.
    this.queue = new Queue(this, 'MediaQueue', {
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      // Six times the consumer's timeout (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
      visibilityTimeout: Duration.seconds(MEDIA_FUNCTION_TIMEOUT.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: MEDIA_MAX_RECEIVES },
    });

    this.function = new ConfluoFunction(this, 'MediaFunction', {
      handlerName: 'media',
      description: 'Confluo attachments: fetch inbound attachments from the platforms and keep them in the media bucket',
      timeout: MEDIA_FUNCTION_TIMEOUT,
      // Bytes are held in memory up to the per-message cap (CONFLUO_MEDIA_MESSAGE_MAX_MB).
      memorySize: 1024,
      environment: mediaLimitsEnvironment(props.limits),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    })
      .bindTable(props.store)
      .bindSecrets(props.secretsPath);
    // Backoff on the record being retried (the event source grants the rest of consuming).
    this.function.addEnvironment('CONFLUO_MEDIA_QUEUE_URL', this.queue.queueUrl);
    this.queue.grant(this.function, 'sqs:ChangeMessageVisibility');
    this.function.addEventSource(new SqsEventSource(this.queue, {
      batchSize: 5,
      reportBatchItemFailures: true,
      // Downloads are I/O-bound but hold memory: a burst of attachments scales no further.
      maxConcurrency: 5,
    }));
    // Writes attachments, reads the e-mails the process function kept, deletes what it stored
    // for a message erased meanwhile.
    props.media.grantPut(this.function, 'tickets/*').grantRead(this.function, `${INBOUND_MAIL_PREFIX}*`).grantRead(this.function, 'uploads/webchat/*').grantDelete(this.function, 'tickets/*');
    props.dispatch.bindQueue('CONFLUO_MEDIA_QUEUE_URL', this.queue);
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the media queue.',
    });
  }

  /** Jobs the media function failed MEDIA_MAX_RECEIVES times (a defect: platform failures are recorded on the message instead). */
  metricDlqDepth(props?: MetricOptions): Metric {
    return this.dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }
}
