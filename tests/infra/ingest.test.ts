import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Ingest } from '../../lib/ingest.js';
import { allowedActions, functionId, policyStatements, resourceId, testStack } from './helpers.js';

// GIVEN an Ingest with default props, and one whose consumer times out after 60 s
const built = (() => {
  const stack = testStack();
  const ingest = new Ingest(stack, 'Ingest', { secretsPath: '/confluo/test/' });
  return { ingest, template: Template.fromStack(stack) };
})();
const { template } = built;
const queueId = resourceId(template, 'AWS::SQS::Queue', 'IngestInboundQueue');
const dlqId = resourceId(template, 'AWS::SQS::Queue', 'IngestInboundDlq');
const fnId = functionId(template, 'IngestIngestFunction');

describe('Ingest queues', () => {
  it('defines a FIFO inbound queue without content-based deduplication (ingest sets the id)', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(template.toJSON().Resources[queueId].Properties.QueueName).toBeUndefined(); // generated `….fifo`
  });

  it('sets the visibility timeout to six times the process function timeout (30 s)', () => {
    expect(template.toJSON().Resources[queueId].Properties.VisibilityTimeout).toBe(180);
  });

  it('derives the visibility timeout from consumerTimeout when given', () => {
    const stack = testStack();
    new Ingest(stack, 'Ingest', { secretsPath: '/confluo/test/', consumerTimeout: Duration.seconds(60) });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, VisibilityTimeout: 360, RedrivePolicy: Match.anyValue() });
  });

  it('keeps dead letters for 14 days in a FIFO DLQ', () => {
    expect(template.toJSON().Resources[dlqId].Properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('encrypts both queues and refuses non-TLS requests', () => {
    for (const id of [queueId, dlqId]) {
      expect(template.toJSON().Resources[id].Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });
});

describe('Ingest HTTP API', () => {
  it('routes POST/GET/OPTIONS /webhooks/{channel}, the widget\'s POST/OPTIONS /webhooks/webchat and GET /healthz to the ingest function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(['GET /healthz', 'GET /webhooks/{channel}', 'OPTIONS /webhooks/webchat', 'OPTIONS /webhooks/{channel}', 'POST /webhooks/webchat', 'POST /webhooks/{channel}']);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
  });

  it('leaves webhook routes to the function\'s signature checks (no API Gateway authorizer)', () => {
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.AuthorizationType).toBe('NONE');
    }
  });

  it('access-logs the $default stage to a log group, without source IPs, and throttles it', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestWebhookApiAccessLogs'), 'Arn'] }, Format: Match.stringLikeRegexp('\\$context.requestId') },
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stage.Properties.AccessLogSettings.Format).not.toContain('sourceIp');
  });

  it('exposes the stage URL', () => {
    expect(built.ingest.url).toBeTypeOf('string');
  });
});

describe('Ingest function', () => {
  it('gets the inbound queue URL and the secrets path, and no table', () => {
    const env = template.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(env).toMatchObject({ CONFLUO_INBOUND_QUEUE_URL: { Ref: queueId }, CONFLUO_SECRETS_PATH: '/confluo/test/' });
    expect(env.CONFLUO_TABLE_NAME).toBeUndefined();
  });

  it('may send to the inbound queue but never touches DynamoDB', () => {
    const actions = allowedActions(template, fnId);
    expect(actions).toContain('sqs:SendMessage');
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('may read the channels\' inbound parameters under the secrets path only, each by name, and decrypt only through aws/ssm', () => {
    const statements = policyStatements(template, fnId);
    const ssm = statements.find((s) => (s.Action as string[]).includes?.('ssm:GetParameters'))!;
    expect(JSON.stringify(ssm.Resource)).toContain(':parameter/confluo/test/TELEGRAM_SECRET_TOKEN"');
    expect(JSON.stringify(ssm.Resource)).not.toContain(':parameter/confluo/test/TELEGRAM_BOT_TOKEN"');
    expect(JSON.stringify(ssm.Resource)).not.toContain('*');
    const kms = statements.find((s) => s.Action === 'kms:Decrypt')!;
    expect(kms.Condition).toMatchObject({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/aws/ssm' },
      StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
    });
  });

  it('rejects a secrets path that is not an absolute path ending in /', () => {
    expect(() => new Ingest(testStack(), 'Ingest', { secretsPath: 'confluo/prod' }))
      .toThrow("secretsPath must be an SSM path that starts and ends with '/', such as '/confluo/prod/', got 'confluo/prod'");
  });
});

describe('Ingest metrics', () => {
  it('sums WebhookRejected and WebhookTooLarge over every dimension in the Confluo namespace', () => {
    expect(built.ingest.metricRejected().toMetricConfig().mathExpression?.expression).toBe('SELECT SUM(WebhookRejected) FROM "Confluo"');
    expect(built.ingest.metricTooLarge().toMetricConfig().mathExpression?.expression).toBe('SELECT SUM(WebhookTooLarge) FROM "Confluo"');
  });

  it('reads the age of the oldest message from the inbound queue', () => {
    const stat = built.ingest.metricOldestMessageAge().toMetricConfig().metricStat!;
    expect(stat.metricName).toBe('ApproximateAgeOfOldestMessage');
    expect(stat.namespace).toBe('AWS/SQS');
  });
});
