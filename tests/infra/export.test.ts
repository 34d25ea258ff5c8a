import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DATASETS, SCHEMAS } from '../../functions/domain/export-schema.js';
import { NAMED_KPIS } from '../../functions/domain/kpi-sql.js';
import { allowedActions, confluoAppWithNag, functionId, lambdaEnvironments, resourceId, synthConfluo, awsSolutionsReport } from './helpers.js';

// GIVEN the whole stack
const { template } = synthConfluo();
const exportFn = functionId(template, 'ExportExportFunction');
const bucketId = resourceId(template, 'AWS::S3::Bucket', 'ExportBucket');
const bucketRef = { Ref: bucketId };

describe('Export bucket', () => {
  it('is encrypted, versioned, private, SSL-only, logged, and expires replaced partition versions', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: resourceId(template, 'AWS::S3::Bucket', 'ExportAccessLogs') }, LogFilePrefix: 'export/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' })]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: bucketRef,
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(template.toJSON().Resources[bucketId].DeletionPolicy).toBe('Retain');
  });
});

describe('Glue tables', () => {
  it.each(DATASETS)('%s has the export schema and partition projection on dt', (dataset) => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: dataset,
        PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' })],
        Parameters: Match.objectLike({
          classification: 'parquet', 'projection.enabled': 'true', 'projection.dt.type': 'date', 'projection.dt.format': 'yyyy-MM-dd',
          'storage.location.template': { 'Fn::Join': ['', ['s3://', bucketRef, `/${dataset}/dt=\${dt}/`]] },
        }),
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', ['s3://', bucketRef, `/${dataset}/`]] },
          Columns: SCHEMAS[dataset].columns.map((c) => Match.objectLike({ Name: c.name })),
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
  });
});

describe('Athena', () => {
  it('has an engine-v3 workgroup that enforces encrypted results in the results bucket', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resourceId(template, 'AWS::S3::Bucket', 'ExportAthenaResults') }, '/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      }),
    });
  });

  it('saves every named KPI query, overall and by channel', () => {
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties as { Name: string; QueryString: string });
    expect(queries).toHaveLength(Object.keys(NAMED_KPIS).length * 2);
    const summary = queries.find((q) => q.Name === 'KPI summary')!;
    expect(summary.QueryString).toContain('approx_percentile(');
    expect(summary.QueryString).toContain('AS sla_attainment');
  });
});

describe('Export function', () => {
  it('runs hourly', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [exportFn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
  });

  it('sends scheduled invocations EventBridge could not make to an encrypted, SSL-only dead-letter queue', () => {
    const dlqId = resourceId(template, 'AWS::SQS::Queue', 'ExportScheduleDlq');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [exportFn, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } } })],
    });
    expect(template.toJSON().Resources[dlqId].Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [resourceId(template, 'AWS::Events::Rule', 'ExportHourly'), 'Arn'] } } } }),
        ]),
      },
    });
  });

  it('knows its bucket and the table, and exports no personal data by default', () => {
    expect(lambdaEnvironments(template)[exportFn]).toMatchObject({
      CONFLUO_EXPORT_BUCKET: bucketRef, CONFLUO_EXPORT_MESSAGE_TEXT: 'off', CONFLUO_EXPORT_CUSTOMER_PROFILE: 'off', CONFLUO_TABLE_NAME: expect.anything(),
    });
  });

  it('may read and write the export bucket and the table, and nothing else', () => {
    const actions = allowedActions(template, exportFn);
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem']));
    expect(actions.filter((a) => /^(sqs|ses|states|sns):/.test(a))).toEqual([]);
  });

  it('exports message text only when the stack asks for it', () => {
    const { template: withText } = synthConfluo({ exportMessageText: true });
    expect(lambdaEnvironments(withText)[functionId(withText, 'ExportExportFunction')]).toMatchObject({ CONFLUO_EXPORT_MESSAGE_TEXT: 'on' });
  });
});

describe('Export cdk-nag', () => {
  it('leaves the stack without unacknowledged AwsSolutions findings', () => {
    const { app } = confluoAppWithNag();
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});
