import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { confluoAppWithNag, lambdaEnvironments, policyStatements, resourceId, synthConfluo, awsSolutionsReport } from './helpers.js';

// GIVEN the whole stack with a retention of its own for attachments
const { template } = synthConfluo({ mediaRetentionDays: 90, mediaUploadOrigins: ['https://shop.example'] });
const bucketId = resourceId(template, 'AWS::S3::Bucket', 'MediaBucket');
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([id]) => id);
/** The S3 actions a function may take on the media bucket's objects. */
const mediaActions = (fn: string) => policyStatements(template, fn)
  .filter((s) => JSON.stringify(s.Resource ?? '').includes(bucketId))
  .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[])
  .filter((a, i, all) => all.indexOf(a) === i); // one verb may be granted on several prefixes

describe('Media bucket', () => {
  it('is private, encrypted, TLS-only, logged, and expires objects after mediaRetentionDays', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: resourceId(template, 'AWS::S3::Bucket', 'MediaAccessLogs') }, LogFilePrefix: 'media/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-media', ExpirationInDays: 90, Status: 'Enabled' })]) },
    });
    expect(resources[bucketId]!.Properties.LifecycleConfiguration).toMatchObject({ Rules: expect.arrayContaining([expect.objectContaining({ Id: 'expire-inbound-mail', Prefix: 'inbound-mail/', ExpirationInDays: 7 })]) });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect((template.toJSON().Resources[bucketId] as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
  });

  it('lets browsers POST uploads only from the inbox and the configured origins', () => {
    const cors = (resources[bucketId]!.Properties.CorsConfiguration as { CorsRules: Array<{ AllowedMethods: string[]; AllowedOrigins: unknown[] }> }).CorsRules;
    expect(cors).toHaveLength(1);
    expect(cors[0]!.AllowedMethods).toEqual(expect.arrayContaining(['POST', 'GET']));
    expect(cors[0]!.AllowedMethods).not.toContain('PUT');
    expect(cors[0]!.AllowedOrigins).toContain('https://shop.example');
    expect(cors[0]!.AllowedOrigins).not.toContain('*');
  });

  it('refuses a retention that is not a whole number of days', () => {
    expect(() => synthConfluo({ mediaRetentionDays: 0 })).toThrow(/retentionDays/);
  });
});

describe('Media access', () => {
  it('is granted per function and per verb: only the functions that use the bucket name it or reach it', () => {
    const withBucket = functions.filter((fn) => 'CONFLUO_MEDIA_BUCKET' in (lambdaEnvironments(template)[fn] ?? {}));
    const withAccess = functions.filter((fn) => mediaActions(fn).length > 0);
    expect(withAccess.sort()).toEqual(withBucket.sort());
    for (const fn of functions) {
      const actions = mediaActions(fn);
      // Never wildcards, never bucket-level changes.
      expect(actions.every((a) => ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket'].includes(a)), `${fn}: ${actions.join(',')}`).toBe(true);
    }
    const by = (prefix: string) => { const fn = functions.find((f) => f.startsWith(prefix)); expect(fn, prefix).toBeDefined(); return fn!; };
    expect(mediaActions(by('ProcessingProcessFunction'))).toEqual(['s3:PutObject']);
    // The Agent API signs download links and reads agents' uploads back; it writes only under uploads/agents/ (below).
    expect(mediaActions(by('AgentApiAgentApiFunction')).sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    // The send function reads what it sends; the widget API signs visitors' forms and links.
    expect(mediaActions(by('OutboundSendFunction')).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(mediaActions(by('WebchatApiWebchatApiFunction')).sort()).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(mediaActions(by('ProcessingDispatchFunction'))).toEqual(['s3:DeleteObject']);
    expect(mediaActions(by('InboundMediaMediaFunction')).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    for (const none of ['Ingest', 'ExportExportFunction', 'SlaWorkflow', 'SurveyWorkflow', 'SurveyLink']) expect(mediaActions(by(none)), none).toEqual([]);
  });

  it('lets the Agent API write only under uploads/agents/ and the widget API only under uploads/webchat/', () => {
    for (const [prefix, keys] of [['AgentApiAgentApiFunction', '/uploads/agents/*'], ['WebchatApiWebchatApiFunction', '/uploads/webchat/*']] as const) {
      const puts = policyStatements(template, functions.find((fn) => fn.startsWith(prefix))!)
        .filter((s) => s.Action === 's3:PutObject' && JSON.stringify(s.Resource).includes(bucketId));
      expect(puts.map((s) => JSON.stringify(s.Resource)), prefix).toEqual([expect.stringContaining(keys)]);
    }
  });

  it('lets the process function write only under inbound-mail/', () => {
    const put = policyStatements(template, functions.find((fn) => fn.startsWith('ProcessingProcessFunction'))!)
      .find((s) => s.Action === 's3:PutObject' && JSON.stringify(s.Resource).includes(bucketId))!;
    expect(JSON.stringify(put.Resource)).toContain('/inbound-mail/*');
  });
});

describe('Inbound media jobs', () => {
  it('the media function writes and deletes only under tickets/ and reads only the kept e-mails and the visitors\' uploads', () => {
    const fn = functions.find((f) => f.startsWith('InboundMediaMediaFunction'))!;
    const objects = policyStatements(template, fn).filter((s) => JSON.stringify(s.Resource ?? '').includes(bucketId) && s.Action !== 's3:ListBucket');
    const where = (action: string) => objects.filter((s) => s.Action === action).map((s) => /\/([a-z-]+(?:\/[a-z-]+)?)\/\*"/.exec(JSON.stringify(s.Resource))?.[1]).sort();
    expect(where('s3:PutObject')).toEqual(['tickets']);
    expect(where('s3:DeleteObject')).toEqual(['tickets']);
    expect(where('s3:GetObject')).toEqual(['inbound-mail', 'uploads/webchat']);
  });

  it('consumes its own standard queue with partial batch failures; the DLQ takes a job only after 5 receives', () => {
    const queueId = resourceId(template, 'AWS::SQS::Queue', 'InboundMediaMediaQueue');
    expect(resources[queueId]!.Properties).toMatchObject({ RedrivePolicy: { maxReceiveCount: 5 }, VisibilityTimeout: 720, SqsManagedSseEnabled: true });
    expect(resources[queueId]!.Properties.FifoQueue).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const dispatch = functions.find((f) => f.startsWith('ProcessingDispatchFunction'))!;
    expect(lambdaEnvironments(template)[dispatch]).toMatchObject({ CONFLUO_MEDIA_QUEUE_URL: { Ref: queueId } });
  });

  it('alarms when a job reaches the media DLQ', () => {
    const dlqId = resourceId(template, 'AWS::SQS::Queue', 'InboundMediaMediaDlq');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('reads only the download tokens from SSM', () => {
    const fn = functions.find((f) => f.startsWith('InboundMediaMediaFunction'))!;
    expect(String(lambdaEnvironments(template)[fn]!.CONFLUO_SECRET_NAMES).split(',').sort()).toEqual(['META_GRAPH_API_VERSION', 'TELEGRAM_BOT_TOKEN', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'WHATSAPP_ACCESS_TOKEN']);
  });

  it('passes the size limits to the media function', () => {
    const { template: t } = synthConfluo({ mediaLimits: { maxMb: 10, channelMaxMb: { email: 5 }, messageMaxMb: 30 } });
    const env = Object.values(lambdaEnvironments(t)).find((e) => 'CONFLUO_MEDIA_MAX_MB' in e);
    expect(env).toMatchObject({ CONFLUO_MEDIA_MAX_MB: '10', CONFLUO_MEDIA_CHANNEL_MAX_MB: 'email=5', CONFLUO_MEDIA_MESSAGE_MAX_MB: '30' });
  });
});

describe('Media cdk-nag', () => {
  it('passes AwsSolutions with every acknowledgement explained', () => {
    const { app } = confluoAppWithNag();
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});
