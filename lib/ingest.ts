/**
 * Ingest: the public webhook edge. An HTTP API sends `/webhooks/{channel}` (and `/healthz`) to
 * the ingest function, which checks size, authenticity and validity and enqueues the raw request
 * on the inbound FIFO queue (DESIGN §1). Its only table access is the web-chat rate counter
 * (`RATE#` items, UpdateItem only, conditioned on the key prefix).
 *
 * Flood control (issue 17 finding 4). The same API carries the platforms' webhooks and the
 * anonymous web-chat routes (the widget's session, messages and posts, the survey links), so a
 * flood on the latter must not answer 429 to a platform (Twilio does not retry an inbound SMS):
 * - per-route throttles on the stage (`throttleRoutes`; HTTP API `RouteSettings`,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html): the
 *   stage default applies to each route key without a setting of its own — the platforms'
 *   `POST /webhooks/{channel}` keeps it — and the anonymous routes get their own, lower limits
 *   ({@link PUBLIC_ROUTE_THROTTLES}). The widget's posts used to share `POST /webhooks/{channel}`
 *   with every platform; `/webhooks/webchat` is now a route of its own (HTTP APIs pick the most
 *   specific route, so `{channel}` no longer matches it);
 * - per-client limits for sessions and widget messages in the functions (functions/store/rate-limit.ts);
 * - `maxConcurrency` on the process function's queue mapping (Processing), so a burst of queued
 *   messages cannot take every concurrent execution of the account;
 * - optionally reserved concurrency for the ingest function (`reservedConcurrency`): it guarantees
 *   the webhooks capacity when something else in the account spikes. Off by default: a reservation
 *   subtracts from the account's unreserved pool, which must keep at least 10, and new accounts
 *   often have a total of 10 — the deployment would fail. The route throttles already bound the
 *   public functions' rates (rate × duration ≈ their concurrency).
 */
import { type CfnResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type CfnRoute, HttpApi, HttpMethod, type CfnStage, type CorsPreflightOptions, type HttpRoute, HttpStage, LogGroupLogDestination, PayloadFormatVersion, type IHttpApi, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { MathExpression, type IMetric, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';
import { ConfluoFunction, METRICS_NAMESPACE } from './confluo-function.js';
import { PROCESS_FUNCTION_TIMEOUT } from './processing.js';

/** Receives before a message moves to the DLQ (DESIGN §1: "DLQ after 5"). */
export const MAX_RECEIVE_COUNT = 5;

/**
 * Per-route limits (requests per second, burst) of the anonymous routes on the webhook API, each
 * well under the stage default the platforms' webhooks share (200/400): a widget polls its
 * messages every 2 s (≈ 100 open chats at 50/s), posts a message now and then, and starts a
 * session once per 12 h.
 */
export const PUBLIC_ROUTE_THROTTLES = {
  webchatWebhook: { rateLimit: 20, burstLimit: 40 },
  webchatSession: { rateLimit: 5, burstLimit: 10 },
  webchatMessages: { rateLimit: 50, burstLimit: 100 },
  surveyLinks: { rateLimit: 10, burstLimit: 20 },
  // Knowledge base (lib/help-api.ts): the help centre and the widget search as the visitor types.
  helpRead: { rateLimit: 50, burstLimit: 100 },
  helpFeedback: { rateLimit: 10, burstLimit: 20 },
} as const satisfies Record<string, ThrottleSettings>;

export interface IngestProps {
  /** SSM Parameter Store path of the channel secrets, e.g. `/confluo/prod/`. */
  readonly secretsPath: string;

  /**
   * The table holding the web-chat rate counters (`RATE#` items): the function may UpdateItem
   * those items only.
   *
   * @default - no rate counter: widget messages are limited by the route throttle only
   */
  readonly rateLimitTable?: ITable;

  /**
   * Reserved concurrent executions of the ingest function (see the module header before turning
   * it on: the account must keep 10 unreserved).
   *
   * @default - none reserved
   */
  readonly reservedConcurrency?: number;

  /**
   * Timeout of the function that consumes the inbound queue; the queue's visibility timeout is
   * six times this.
   *
   * @default PROCESS_FUNCTION_TIMEOUT (30 seconds), the timeout `Processing` gives the process function
   */
  readonly consumerTimeout?: Duration;

  /**
   * Steady-state rate and burst limits of the webhook API stage. Platforms retry a 429, so a
   * limit bounds cost under a flood without losing messages.
   *
   * @default - { rateLimit: 200, burstLimit: 400 } requests per second
   */
  readonly throttle?: ThrottleSettings;

  /**
   * How long access-log and function-log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** Webhook HTTP API → ingest function → inbound SQS FIFO queue (+ DLQ). */
export class Ingest extends Construct {
  /** Inbound FIFO queue of raw webhook requests, consumed by the process function. */
  public readonly queue: Queue;
  /** Inbound dead-letter queue: messages that failed processing MAX_RECEIVE_COUNT times. */
  public readonly dlq: Queue;
  /** The webhook HTTP API. */
  public readonly api: HttpApi;
  /** The ingest function. */
  public readonly function: ConfluoFunction;
  /** Base URL of the API (ends with '/'); webhooks are `${url}webhooks/<channel>`. */
  public readonly url: string;
  /** The API's `$default` stage (per-route throttles live on it). */
  public readonly stage: HttpStage;
  /** `POST`/`OPTIONS /webhooks/webchat`: the widget's posts, throttled apart from the platforms' webhooks. */
  public readonly webchatRoutes: HttpRoute[];

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.dlq = new Queue(this, 'InboundDlq', {
      fifo: true,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'InboundQueue', {
      fifo: true,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      // Ingest sets MessageDeduplicationId from channel + body: identical retries collapse for
      // 5 minutes, while two different messages with equal text never do.
      contentBasedDeduplication: false,
      // High-throughput FIFO: ordering and deduplication per conversation (message group) are all
      // Confluo needs, and it lifts the 300 messages/s queue-wide limit
      // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html).
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      // Six times the consumer's timeout, as AWS recommends for a Lambda event source, so a batch
      // retried after throttling is not handed out twice
      // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
      visibilityTimeout: Duration.seconds((props.consumerTimeout ?? PROCESS_FUNCTION_TIMEOUT).toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.function = new ConfluoFunction(this, 'IngestFunction', {
      handlerName: 'ingest',
      description: 'Confluo webhooks: size, authenticity and validity checks, handshakes, enqueue raw request',
      // Platforms wait a few seconds at most; ingest only verifies and enqueues.
      timeout: Duration.seconds(10),
      logRetention,
      ...(props.rateLimitTable ? { environment: { CONFLUO_TABLE_NAME: props.rateLimitTable.tableName } } : {}),
    })
      .bindQueue('CONFLUO_INBOUND_QUEUE_URL', this.queue)
      .bindSecrets(props.secretsPath);
    if (props.reservedConcurrency !== undefined) (this.function.node.defaultChild as CfnResource).addPropertyOverride('ReservedConcurrentExecutions', props.reservedConcurrency);
    if (props.rateLimitTable) {
      // The rate counters only (functions/store/rate-limit.ts): one conditional ADD per widget message.
      this.function.addToRolePolicy(new PolicyStatement({
        effect: Effect.ALLOW, actions: ['dynamodb:UpdateItem'], resources: [props.rateLimitTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RATE#*'] } },
      }));
    }

    const stage = defineLoggedHttpApi(this, 'WebhookApi', {
      description: 'Confluo webhooks: POST/GET/OPTIONS /webhooks/{channel}, GET /healthz',
      throttle: props.throttle ?? { rateLimit: 200, burstLimit: 400 },
      logRetention,
    });
    this.api = stage.api;
    this.url = stage.url;
    this.stage = stage.stage;

    const integration = new HttpLambdaIntegration('IngestIntegration', this.function, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    // GET answers Meta's hub.challenge handshake; OPTIONS the web-chat widget's CORS preflight.
    this.api.addRoutes({
      path: '/webhooks/{channel}',
      methods: [HttpMethod.POST, HttpMethod.GET, HttpMethod.OPTIONS],
      integration,
    });
    this.api.addRoutes({ path: '/healthz', methods: [HttpMethod.GET], integration });
    // The widget's posts (and their preflight) by a route of their own, throttled apart.
    this.webchatRoutes = this.api.addRoutes({ path: '/webhooks/webchat', methods: [HttpMethod.POST, HttpMethod.OPTIONS], integration });
    this.throttleRoutes(this.webchatRoutes, PUBLIC_ROUTE_THROTTLES.webchatWebhook);

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG4',
      reason: 'Messaging platforms cannot present IAM or JWT credentials: every webhook is authenticated in the ingest function by the platform\'s own signature or secret over the raw body (channels.md §0.3), and a channel without a configured secret answers 404. GET /healthz is a public liveness probe that returns a constant.',
    });
  }

  /**
   * Give `routes` (of this API) their own throttle on the stage, apart from the stage default
   * the platforms' webhooks share. The stage then depends on the routes: API Gateway refuses
   * route settings for a route key that does not exist yet.
   */
  throttleRoutes(routes: readonly HttpRoute[], throttle: ThrottleSettings): void {
    const cfn = this.stage.node.defaultChild as CfnStage;
    const settings = { ...((cfn.routeSettings as Record<string, unknown> | undefined) ?? {}) };
    for (const route of routes) {
      settings[(route.node.defaultChild as CfnRoute).routeKey] = { ThrottlingRateLimit: throttle.rateLimit, ThrottlingBurstLimit: throttle.burstLimit };
      this.stage.node.addDependency(route);
    }
    cfn.routeSettings = settings;
  }

  /** Webhook requests refused by ingest (404/405/413/401/403/400/503), all channels summed. */
  metricRejected(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
    return customMetricSum('WebhookRejected', props);
  }

  /**
   * Webhook requests refused as too large (413), all channels summed. Any value above zero means
   * a platform is retrying a body Confluo will never accept until the limit is raised.
   */
  metricTooLarge(props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
    return customMetricSum('WebhookTooLarge', props);
  }

  /** Age of the oldest message waiting on the inbound queue. */
  metricOldestMessageAge(props?: MetricOptions): Metric {
    return this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', ...props });
  }
}

/**
 * A custom metric summed over every dimension combination the handler emits it with (e.g. per
 * channel), through a CloudWatch Metrics Insights query, so alarms do not depend on the exact
 * dimension set (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms.html).
 */
export function customMetricSum(metricName: string, props?: Pick<MetricOptions, 'period' | 'label'>): IMetric {
  return new MathExpression({
    expression: `SELECT SUM(${metricName}) FROM "${METRICS_NAMESPACE}"`,
    usingMetrics: {},
    period: props?.period ?? Duration.minutes(5),
    label: props?.label ?? metricName,
  });
}

export interface LoggedHttpApiProps {
  readonly description: string;
  readonly throttle: ThrottleSettings;
  readonly logRetention: RetentionDays;
  readonly corsPreflight?: CorsPreflightOptions;
}

/**
 * An HTTP API whose `$default` stage is auto-deployed, throttled and access-logged to its own log
 * group. The log format carries request metadata only: no source IP, user agent or body (no
 * personal data in logs, DESIGN §2 Privacy).
 */
export function defineLoggedHttpApi(scope: Construct, id: string, props: LoggedHttpApiProps): { api: HttpApi; stage: HttpStage; url: string } {
  const api = new HttpApi(scope, id, {
    description: props.description,
    createDefaultStage: false,
    ...(props.corsPreflight ? { corsPreflight: props.corsPreflight } : {}),
  });
  const accessLogs = new LogGroup(scope, `${id}AccessLogs`, {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const stage = new HttpStage(scope, `${id}DefaultStage`, {
    httpApi: api as IHttpApi,
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle,
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(JSON.stringify({
        requestId: '$context.requestId',
        requestTime: '$context.requestTimeEpoch',
        routeKey: '$context.routeKey',
        status: '$context.status',
        responseLength: '$context.responseLength',
        responseLatency: '$context.responseLatency',
        integrationLatency: '$context.integrationLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
      })),
    },
  });
  return { api, stage, url: stage.url };
}
