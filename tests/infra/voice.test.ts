/**
 * Voice (lib/voice.ts): nothing of the phone channel without a Connect instance; with one, the
 * lookup function associated with the instance (and invocable by it only), the EventBridge rule
 * of the instance's voice contact events feeding the events function, one dead-letter queue for
 * both failure paths, least privilege, alarms in Observability; cdk-nag clean.
 */
import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { VOICE_LOOKUP_TABLE_ACTIONS } from '../../lib/voice.js';
import { allowedActions, awsSolutionsReport, confluoAppWithNag, functionId, lambdaEnvironments, policyStatements, synthConfluo } from './helpers.js';

const INSTANCE = 'arn:aws:connect:eu-central-1:123456789012:instance/4f1d2c3b-aaaa-4bbb-8ccc-0123456789ab';

describe('Voice', () => {
  it('creates nothing of the phone channel without a Connect instance', () => {
    const { stack, template } = synthConfluo();
    expect(stack.voice).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::Connect::IntegrationAssociation'))).toEqual([]);
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.connect'));
    expect(rules).toEqual([]);
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Metadata?.['confluo:handler']);
    expect(handlers.filter((h) => String(h).startsWith('voice'))).toEqual([]);
  });

  const { stack, template } = synthConfluo({ connectInstanceArn: INSTANCE });
  const lookupId = functionId(template, 'VoiceLookupFunction');
  const eventsId = functionId(template, 'VoiceEventsFunction');

  it('associates the lookup function with the instance, which alone may invoke it', () => {
    template.resourceCountIs('AWS::Connect::IntegrationAssociation', 1);
    template.hasResourceProperties('AWS::Connect::IntegrationAssociation', {
      InstanceId: INSTANCE, IntegrationType: 'LAMBDA_FUNCTION', IntegrationArn: { 'Fn::GetAtt': [lookupId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [lookupId, 'Arn'] }, Principal: 'connect.amazonaws.com', SourceArn: INSTANCE, SourceAccount: '123456789012',
    });
    expect(lambdaEnvironments(template)[lookupId]).toMatchObject({ CONFLUO_CONNECT_INSTANCE_ARN: INSTANCE });
    // Within Connect's 8 s for a flow's Lambda.
    const timeout = template.findResources('AWS::Lambda::Function')[lookupId]!.Properties.Timeout as number;
    expect(timeout).toBeLessThan(8);
  });

  it('routes the instance\'s disconnected voice contacts to the events function, with a dead-letter queue for failed deliveries and invocations', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.connect'], 'detail-type': ['Amazon Connect Contact Event'],
        detail: { instanceArn: [INSTANCE], channel: ['VOICE'], eventType: ['DISCONNECTED'] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [eventsId, 'Arn'] }, DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }) })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: eventsId }, MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('gives the lookup only the reads it makes and the context item it writes; the events function the process function\'s table access', () => {
    const lookup = allowedActions(template, lookupId);
    expect(lookup.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...VOICE_LOOKUP_TABLE_ACTIONS, 'dynamodb:Query'].sort());
    expect(lookup.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('xray:'))).toEqual([]);
    const query = policyStatements(template, lookupId).find((s) => (s.Action as string | string[]) === 'dynamodb:Query' || (s.Action as string[]).includes?.('dynamodb:Query'))!;
    expect(JSON.stringify(query.Resource)).toContain('/index/gsi3');
    const events = allowedActions(template, eventsId);
    expect(events).toEqual(expect.arrayContaining(['dynamodb:ConditionCheckItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem']));
    expect(events.filter((a) => /^(s3|ses|states|ssm):/.test(a))).toEqual([]);
    // SQS only to hand a failed invocation to its dead-letter queue (the asynchronous invocation's destination).
    const sqs = policyStatements(template, eventsId).filter((s) => JSON.stringify(s.Action).includes('sqs:'));
    expect(sqs).toHaveLength(1);
    expect(JSON.stringify(sqs[0]!.Resource)).toContain('VoiceEventsDlq');
  });

  it('alarms on the events DLQ and on lookups that could not read the table, and on both functions\' errors', () => {
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    for (const id of ['VoiceEventsDlqAlarm', 'VoiceLookupFailedAlarm', 'VoiceLookupErrorsAlarm', 'VoiceEventsErrorsAlarm']) {
      expect(alarms.some((a) => a.startsWith(`Observability${id}`)), id).toBe(true);
    }
    expect(stack.voice?.dlq).toBeDefined();
  });

  it('refuses something that is not a Connect instance ARN', () => {
    expect(() => synthConfluo({ connectInstanceArn: 'arn:aws:connect:eu-central-1:123456789012:queue/x' })).toThrow(/connectInstanceArn/);
  });

  it('passes the AwsSolutions checks', () => {
    const { app } = confluoAppWithNag({ connectInstanceArn: INSTANCE });
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});
