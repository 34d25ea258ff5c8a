import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionId, resourceId, synthConfluo } from './helpers.js';

// GIVEN the whole stack (Observability composes every other construct's metrics), with an alarm e-mail
const { template } = synthConfluo({ alarmEmail: 'ops@example.com' });
const topicId = resourceId(template, 'AWS::SNS::Topic', 'ObservabilityAlarmTopic');
const alarms = template.findResources('AWS::CloudWatch::Alarm');
const alarm = (prefix: string) => {
  const entry = Object.entries(alarms).find(([id]) => id.startsWith(`Observability${prefix}`));
  if (!entry) throw new Error(`no alarm with logical id prefix 'Observability${prefix}' in [${Object.keys(alarms).join(', ')}]`);
  return entry[1].Properties;
};
const queueName = (prefix: string) => ({ 'Fn::GetAtt': [resourceId(template, 'AWS::SQS::Queue', prefix), 'QueueName'] });

describe('Observability alarms', () => {
  it.each([
    ['InboundDlqAlarm', 'IngestInboundDlq'],
    ['OutboundDlqAlarm', 'OutboundOutboundDlq'],
    ['DispatchFailuresAlarm', 'ProcessingDispatchFailures'],
  ])('%s fires as soon as one message is in %s', (alarmPrefix, queuePrefix) => {
    expect(alarm(alarmPrefix)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName(queuePrefix) }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('fires when the oldest inbound message is older than 20 minutes', () => {
    expect(alarm('InboundAgeAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName('IngestInboundQueue') }],
      Statistic: 'Maximum',
      Threshold: 1200,
    });
  });

  it('fires on any WebhookTooLarge across channels', () => {
    expect(alarm('WebhookTooLargeAlarm')).toMatchObject({
      Metrics: [expect.objectContaining({ Expression: 'SELECT SUM(WebhookTooLarge) FROM "Confluo"', Period: 300, ReturnData: true })],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it.each([
    ['IngestErrorsAlarm', 'IngestIngestFunction'],
    ['ProcessErrorsAlarm', 'ProcessingProcessFunction'],
    ['DispatchErrorsAlarm', 'ProcessingDispatchFunction'],
    ['SendErrorsAlarm', 'OutboundSendFunction'],
    ['AgentApiErrorsAlarm', 'AgentApiAgentApiFunction'],
  ])('%s fires on any error of %s', (alarmPrefix, fnPrefix) => {
    expect(alarm(alarmPrefix)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(template, fnPrefix) } }],
      Statistic: 'Sum',
      Threshold: 0,
    });
  });

  it('notifies the alarm topic on alarm and on recovery, treating no data as fine', () => {
    expect(Object.keys(alarms)).toHaveLength(10);
    for (const a of Object.values(alarms)) {
      expect(a.Properties).toMatchObject({
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('Observability alarm topic', () => {
  it('is encrypted with a rotated key CloudWatch may use', () => {
    const keyId = resourceId(template, 'AWS::KMS::Key', 'ObservabilityAlarmTopicKey');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
  });

  it('refuses publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('subscribes the alarm e-mail, and nobody when none is given', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
    synthConfluo().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('Observability dashboard', () => {
  it('defines one dashboard showing queues, DLQs and functions', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const text of ['Dead-letter queues', 'Function errors', 'WebhookTooLarge', 'ApproximateAgeOfOldestMessage']) expect(body).toContain(text);
  });
});
