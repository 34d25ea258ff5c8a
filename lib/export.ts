/**
 * Export: the analysts' data in AWS (issue 9, DESIGN §5). The export λ runs hourly on an
 * EventBridge schedule and writes zstd Parquet partitioned `dt=YYYY-MM-DD` to the export bucket
 * (`<dataset>/dt=…/part-0.parquet`); one Glue table per dataset (schema from
 * functions/domain/export-schema.ts, partition projection on `dt`, so no crawler and no
 * `MSCK REPAIR`); an Athena workgroup (engine v3, encrypted results, enforced settings) with the
 * KPI queries of functions/domain/kpi-sql.ts saved as named queries.
 *
 * Buckets: data (versioned — an overwritten partition keeps its previous version for
 * `noncurrentVersionDays`), Athena results (expire after `resultsDays`), and server access logs
 * of both. All S3-managed encryption, SSL only, no public access.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DATASETS, SCHEMAS, type ColumnType, type Dataset } from '../functions/domain/export-schema.js';
import { kpiSql, NAMED_KPIS } from '../functions/domain/kpi-sql.js';
import { ConfluoFunction } from './confluo-function.js';
import { QUEUE_MAX_MESSAGE_BYTES } from './queue-size.js';
import type { Store } from './store.js';

const GLUE_TYPE: Readonly<Record<ColumnType, string>> = {
  varchar: 'string', bigint: 'bigint', integer: 'int', double: 'double', boolean: 'boolean', timestamp: 'timestamp', 'varchar[]': 'array<string>',
};

export interface ExportProps {
  readonly store: Store;

  /**
   * Export message text and survey comments (`CONFLUO_EXPORT_MESSAGE_TEXT`). Personal data: leave
   * off unless analysts need it and your privacy notice covers it.
   *
   * @default false
   */
  readonly messageText?: boolean;

  /**
   * Export customer name, language and country (`CONFLUO_EXPORT_CUSTOMER_PROFILE`).
   *
   * @default false
   */
  readonly customerProfile?: boolean;

  /** SLA defaults JSON (`CONFLUO_SLA_DEFAULTS`), for business-time KPI facts. @default - built-in defaults */
  readonly slaDefaultsJson?: string;

  /**
   * Days a replaced version of a partition file is kept (the bucket is versioned).
   *
   * @default 30
   */
  readonly noncurrentVersionDays?: number;

  /**
   * Days Athena query results are kept.
   *
   * @default 30
   */
  readonly resultsDays?: number;

  /**
   * What happens to the data and log buckets when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class Export extends Construct {
  public readonly bucket: Bucket;
  public readonly resultsBucket: Bucket;
  public readonly function: ConfluoFunction;
  public readonly database: CfnDatabase;
  public readonly databaseName: string;
  public readonly tables: Readonly<Record<Dataset, CfnTable>>;
  public readonly workGroup: CfnWorkGroup;
  /** The hourly schedule of the export function. */
  public readonly schedule: Rule;
  /** Dead-letter queue of the schedule's target: invocations EventBridge could not make. */
  public readonly scheduleDlq: Queue;

  constructor(scope: Construct, id: string, props: ExportProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const bucketBase = { encryption: BucketEncryption.S3_MANAGED, enforceSSL: true, blockPublicAccess: BlockPublicAccess.BLOCK_ALL, removalPolicy };

    const logs = new Bucket(this, 'AccessLogs', {
      ...bucketBase,
      // S3 server access logging needs the bucket-owner-enforced / log-delivery ACL setup.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This is the server access log bucket of the export and Athena result buckets; logging it into itself would loop.',
    });
    this.bucket = new Bucket(this, 'Bucket', {
      ...bucketBase,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'export/',
      lifecycleRules: [
        { id: 'expire-replaced-partitions', noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.resultsBucket = new Bucket(this, 'AthenaResults', {
      ...bucketBase,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ id: 'expire-results', expiration: Duration.days(props.resultsDays ?? 30) }],
    });

    // --- Glue: one database, one table per dataset, dt by partition projection.
    this.databaseName = `confluo_${stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'Confluo analytics export (tickets, messages, customers, events, surveys)' },
    });
    const tables = {} as Record<Dataset, CfnTable>;
    for (const dataset of DATASETS) {
      const schema = SCHEMAS[dataset];
      const location = `s3://${this.bucket.bucketName}/${dataset}/`;
      const table = new CfnTable(this, `${dataset[0]!.toUpperCase()}${dataset.slice(1)}Table`, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: {
          name: dataset,
          description: schema.doc,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [{ name: 'dt', type: 'string', comment: `partition: ${schema.partitionedBy}` }],
          parameters: {
            classification: 'parquet',
            'parquet.compression': 'ZSTD',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': '2020-01-01,NOW',
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': `${location}dt=\${dt}/`,
          },
          storageDescriptor: {
            location,
            columns: schema.columns.map((c) => ({ name: c.name, type: GLUE_TYPE[c.type], comment: c.doc.slice(0, 255) })),
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      });
      table.node.addDependency(this.database);
      tables[dataset] = table;
    }
    this.tables = tables;

    // --- Athena: workgroup with encrypted results, and the KPI queries.
    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: `${stack.stackName}-analytics`,
      description: 'Confluo analytics: query the export with the KPI definitions of the Agent API',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    for (const [name, kpi] of Object.entries(NAMED_KPIS)) {
      for (const groupBy of [null, 'channel'] as const) {
        const q = new CfnNamedQuery(this, `Kpi${name.replace(/(^|_)(\w)/g, (_m, _u, ch: string) => ch.toUpperCase())}${groupBy ? 'ByChannel' : ''}Query`, {
          database: this.databaseName,
          workGroup: this.workGroup.ref,
          name: `KPI ${name}${groupBy ? ' by channel' : ''}`,
          description: `${kpi.title} over every ticket; add created_at bounds to the WHERE clause for a period (same definitions as GET /api/v1/kpis)`,
          queryString: kpiSql(name, { dialect: 'athena', ...(groupBy ? { groupBy } : {}) }),
        });
        q.node.addDependency(this.workGroup);
      }
    }

    // --- the export function, hourly.
    this.function = new ConfluoFunction(this, 'ExportFunction', {
      handlerName: 'export',
      description: 'Hourly analytics export: changed tickets, messages, customers, events and surveys → Parquet partitions in S3',
      timeout: Duration.minutes(10),
      memorySize: 1024,
      environment: {
        CONFLUO_EXPORT_BUCKET: this.bucket.bucketName,
        CONFLUO_EXPORT_MESSAGE_TEXT: props.messageText ? 'on' : 'off',
        CONFLUO_EXPORT_CUSTOMER_PROFILE: props.customerProfile ? 'on' : 'off',
        ...(props.slaDefaultsJson ? { CONFLUO_SLA_DEFAULTS: props.slaDefaultsJson } : {}),
      },
      // DuckDB is a native module: installed beside the bundle with `npm ci` from the lockfile, for
      // the Lambda platform only (ConfluoFunction's LAMBDA_NPM_PLATFORM): the linux-arm64 glibc
      // binding, not the build machine's own (a linux-x64 one was 71 of the 138 MB unzipped).
      bundling: { nodeModules: ['@duckdb/node-api'] },
    }).bindTable(props.store);
    this.bucket.grantReadWrite(this.function);
    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:GetObject*]',
        reason: 'grantReadWrite on the export bucket only: the export reads a partition file before rewriting it (GetObject, GetObjectVersion…).',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:GetBucket*]',
        reason: 'grantReadWrite on the export bucket only (bucket location and versioning reads of the SDK).',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:List*]',
        reason: 'grantReadWrite on the export bucket only: a missing partition must read as NoSuchKey (needs ListBucket), not AccessDenied.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        reason: 'grantReadWrite on the export bucket only; the export overwrites partitions (versioned bucket keeps the previous version).',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: 'grantReadWrite on the export bucket only (abort of a failed multipart upload).',
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as never)}.Arn>/*]`,
        reason: 'The export writes one object per partition (<dataset>/dt=YYYY-MM-DD/part-0.parquet); the keys are not known in advance.',
      },
    );
    // EventBridge invokes the function asynchronously: an invocation it cannot make (throttled,
    // permission lost) is retried, then put on this queue with the reason as message attributes
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). A failure
    // inside the export itself shows as the function's Errors; both are alarmed (Observability).
    this.scheduleDlq = new Queue(this, 'ScheduleDlq', {
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.scheduleDlq).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the hourly export rule target; nothing consumes it, its depth is alarmed and an operator inspects it (the next hourly run exports what was missed).',
    });
    this.schedule = new Rule(this, 'Hourly', {
      description: 'Run the analytics export every hour',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 2, deadLetterQueue: this.scheduleDlq })],
    });
  }

  /** Scheduled invocations EventBridge could not make after its retries (AWS/Events FailedInvocations). */
  metricScheduleFailures(props?: MetricOptions): Metric {
    return new Metric({ namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensionsMap: { RuleName: this.schedule.ruleName }, statistic: 'Sum', ...props });
  }

  /** Scheduled invocations waiting in the rule target's dead-letter queue. */
  metricScheduleDlqDepth(props?: MetricOptions): Metric {
    return this.scheduleDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', ...props });
  }
}
