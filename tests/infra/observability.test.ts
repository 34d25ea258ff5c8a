import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfluoFunction } from '../../lib/confluo-function.js';
import { ConfluoStack } from '../../lib/confluo-stack.js';
import { functionId, resourceId, synthConfluo, testApp } from './helpers.js';

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

  it('fires on any InboundMalformed across channels and reasons (an authenticated event dropped as malformed)', () => {
    expect(alarm('InboundMalformedAlarm')).toMatchObject({
      Metrics: [expect.objectContaining({ Expression: 'SELECT SUM(InboundMalformed) FROM "Confluo"', Period: 300, ReturnData: true })],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
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
    ['SlaEvaluateErrorsAlarm', 'SlaWorkflowEvaluateFunction'],
    ['SurveyStepErrorsAlarm', 'SurveyWorkflowStepFunction'],
    ['ExportErrorsAlarm', 'ExportExportFunction'],
    ['WebchatApiErrorsAlarm', 'WebchatApiWebchatApiFunction'],
    ['SurveyLinkErrorsAlarm', 'SurveyLinkSurveyLinkFunction'],
  ])('%s fires on any error of %s', (alarmPrefix, fnPrefix) => {
    expect(alarm(alarmPrefix)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(template, fnPrefix) } }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('has an errors alarm for every function of the template', () => {
    const fns = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect(fns.length).toBeGreaterThanOrEqual(10);
    for (const fn of fns) {
      const errorAlarms = Object.values(alarms).filter((a) => a.Properties.MetricName === 'Errors' && a.Properties.Namespace === 'AWS/Lambda'
        && JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fn } }]));
      expect(errorAlarms, fn).toHaveLength(1);
    }
  });

  it('fails synthesis when a function is created after Observability (it would have no errors alarm)', () => {
    const app = testApp();
    const stack = new ConfluoStack(app, 'Late');
    new ConfluoFunction(stack, 'LateFunction', { handlerName: 'export' });
    expect(() => app.synth()).toThrow(/LateFunction was created after Observability/);
  });

  it.each([
    ['SlaExecutionsFailedAlarm', 'SlaWorkflowStateMachine', 'ExecutionsFailed'],
    ['SlaExecutionsTimedOutAlarm', 'SlaWorkflowStateMachine', 'ExecutionsTimedOut'],
    ['SlaExecutionsAbortedAlarm', 'SlaWorkflowStateMachine', 'ExecutionsAborted'],
    ['SurveyExecutionsFailedAlarm', 'SurveyWorkflowStateMachine', 'ExecutionsFailed'],
    ['SurveyExecutionsTimedOutAlarm', 'SurveyWorkflowStateMachine', 'ExecutionsTimedOut'],
    ['SurveyExecutionsAbortedAlarm', 'SurveyWorkflowStateMachine', 'ExecutionsAborted'],
    ['AssignmentExecutionsFailedAlarm', 'AssignmentWorkflowStateMachine', 'ExecutionsFailed'],
    ['AssignmentExecutionsTimedOutAlarm', 'AssignmentWorkflowStateMachine', 'ExecutionsTimedOut'],
    ['AssignmentExecutionsAbortedAlarm', 'AssignmentWorkflowStateMachine', 'ExecutionsAborted'],
  ])('%s fires on any execution of %s counted in %s', (alarmPrefix, smPrefix, metricName) => {
    expect(alarm(alarmPrefix)).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: metricName,
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: resourceId(template, 'AWS::StepFunctions::StateMachine', smPrefix) } }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('fires when the dispatch function is more than 5 minutes behind on the table stream', () => {
    expect(alarm('DispatchIteratorAgeAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(template, 'ProcessingDispatchFunction') } }],
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 300_000,
    });
  });

  it('fires when EventBridge could not start the hourly export, and on any message in its dead-letter queue', () => {
    expect(alarm('ExportScheduleFailuresAlarm')).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: resourceId(template, 'AWS::Events::Rule', 'ExportHourly') } }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    expect(alarm('ExportScheduleDlqAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName('ExportScheduleDlq') }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('notifies the alarm topic on alarm and on recovery, treating no data as fine', () => {
    expect(Object.keys(alarms)).toHaveLength(6 + 14 + 1 + 9 + 2 + 1); // 3 workflows × failed/timed out/aborted; 14 functions (media since issue 14, assignment-offline since issue 15, help-api and orders-webhook since issue 19), + the media DLQ
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
  it('defines one dashboard showing queues, DLQs, functions, workflows, the stream and the export schedule', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const joined = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = joined.filter((part): part is string => typeof part === 'string').join('');
    for (const text of ['Dead-letter queues', 'Function errors', 'WebhookTooLarge', 'ApproximateAgeOfOldestMessage', 'IteratorAge', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted', 'FailedInvocations']) {
      expect(body).toContain(text);
    }
    for (const name of ['ingest', 'process', 'dispatch', 'send', 'agent-api', 'sla-evaluate', 'survey-step', 'export', 'webchat-api', 'survey-link']) expect(body).toContain(`"label":"${name}"`);
  });
});
