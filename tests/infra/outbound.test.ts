import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Outbound } from '../../lib/outbound.js';
import { Store } from '../../lib/store.js';
import { allowedActions, functionId, policyStatements, resourceId, testStack } from './helpers.js';

function build(emailFrom?: string) {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const outbound = new Outbound(stack, 'Outbound', { store, secretsPath: '/confluo/test/', ...(emailFrom ? { emailFrom } : {}) });
  return { stack, outbound, template: Template.fromStack(stack) };
}

// GIVEN an Outbound with an e-mail sender, and one without
const built = build('support@example.com');
const withoutEmail = build();
const { template } = built;
const queueId = resourceId(template, 'AWS::SQS::Queue', 'OutboundOutboundQueue');
const dlqId = resourceId(template, 'AWS::SQS::Queue', 'OutboundOutboundDlq');
const sendId = functionId(template, 'OutboundSendFunction');

describe('Outbound queues', () => {
  it('defines a FIFO outbound queue that dead-letters after 5 receives into a FIFO DLQ', () => {
    expect(template.toJSON().Resources[queueId].Properties).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: 180,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(template.toJSON().Resources[dlqId].Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });
});

describe('Outbound send function', () => {
  it('consumes the outbound queue with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: sendId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('is bound to the table and the secrets path, with EMAIL_FROM', () => {
    expect(template.toJSON().Resources[sendId].Properties.Environment.Variables).toMatchObject({
      CONFLUO_TABLE_NAME: { Ref: resourceId(template, 'AWS::DynamoDB::Table', 'StoreTable') },
      CONFLUO_SECRETS_PATH: '/confluo/test/',
      EMAIL_FROM: 'support@example.com',
    });
    expect(allowedActions(template, sendId)).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'ssm:GetParameters', 'kms:Decrypt']));
  });

  it('may delay a received record (ChangeMessageVisibility on the outbound queue only) and knows the queue\'s maxReceiveCount', () => {
    const env = template.toJSON().Resources[sendId].Properties.Environment.Variables;
    expect(env).toMatchObject({ CONFLUO_OUTBOUND_QUEUE_URL: { Ref: queueId }, CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT: '5' });
    expect(template.toJSON().Resources[queueId].Properties.RedrivePolicy.maxReceiveCount).toBe(Number(env.CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT));
    const visibility = policyStatements(template, sendId).filter((s) => JSON.stringify(s.Action).includes('sqs:ChangeMessageVisibility'));
    expect(visibility.length).toBeGreaterThan(0);
    for (const s of visibility) expect(s.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    // Sending to its own queue is not among its rights.
    expect(allowedActions(template, sendId)).not.toContain('sqs:SendMessage');
  });

  it('leaves EMAIL_FROM unset when no sender is given', () => {
    const t = withoutEmail.template;
    const env = t.toJSON().Resources[functionId(t, 'OutboundSendFunction')].Properties.Environment.Variables;
    expect(env.EMAIL_FROM).toBeUndefined();
  });

  it('may send raw e-mail only through SES identities of its own account and region', () => {
    const ses = policyStatements(template, sendId).filter((s) => JSON.stringify(s.Action).includes('ses:'));
    expect(ses).toEqual([{
      Effect: 'Allow',
      Action: 'ses:SendRawEmail',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':identity/*']] },
    }]);
  });
});

describe('Outbound metrics', () => {
  it('reads the outbound DLQ depth', () => {
    const metric = built.outbound.metricDlqDepth();
    expect(metric.metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(built.stack.resolve(metric.toMetricConfig().metricStat!.dimensions)).toEqual([
      { name: 'QueueName', value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } },
    ]);
  });
});
