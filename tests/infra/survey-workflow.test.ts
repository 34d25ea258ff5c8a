import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SURVEY_STATES, SurveyWorkflow } from '../../lib/survey-workflow.js';
import { Store } from '../../lib/store.js';
import { allowedActions, functionId, lambdaEnvironments, policyStatements, resourceId, synthConfluo, testApp, testStack, stateMachineOf, awsSolutionsReport } from './helpers.js';

// GIVEN a SurveyWorkflow on a Store with e-mail and NPS settings
const built = (() => {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const survey = new SurveyWorkflow(stack, 'SurveyWorkflow', { store, escalationEmail: 'lead@example.com', emailFrom: 'survey@example.com', settings: { scale: 'nps', delayMinutes: 30, lowNps: 5 } });
  return { stack, survey, template: Template.fromStack(stack) };
})();
const { template } = built;
const smId = resourceId(template, 'AWS::StepFunctions::StateMachine', 'SurveyWorkflowStateMachine');
const fnId = functionId(template, 'SurveyWorkflowStepFunction');
const tableId = resourceId(template, 'AWS::DynamoDB::Table', 'StoreTable');
const { sm, definition } = stateMachineOf(template, smId);

describe('SurveyWorkflow state machine', () => {
  it('is a STANDARD, X-Ray traced state machine logging errors without execution data', () => {
    expect(sm()).toMatchObject({ StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false } });
  });

  it('waits on $.wait_until, invokes the step function and loops on wait-until, ends on done (JSONPath)', () => {
    const d = definition();
    expect(d.QueryLanguage).toBe('JSONPath');
    expect(d.StartAt).toBe(SURVEY_STATES.wait);
    expect(d.States[SURVEY_STATES.wait]).toMatchObject({ Type: 'Wait', TimestampPath: '$.wait_until', Next: SURVEY_STATES.step });
    expect(d.States[SURVEY_STATES.step]).toMatchObject({
      Type: 'Task', Resource: 'FN_ARN', Next: SURVEY_STATES.decide, TimeoutSeconds: 60,
      Parameters: { 'ticket_id.$': '$.ticket_id', 'round.$': '$.round', 'execution.$': '$$.Execution.Name' },
    });
    expect(d.States[SURVEY_STATES.decide]).toMatchObject({
      Type: 'Choice', Default: SURVEY_STATES.unknown,
      Choices: [{ Variable: '$.kind', StringEquals: 'done', Next: SURVEY_STATES.done }, { Variable: '$.kind', StringEquals: 'wait-until', Next: SURVEY_STATES.wait }],
    });
    expect(d.States[SURVEY_STATES.done].Type).toBe('Succeed');
    expect(d.States[SURVEY_STATES.step].Retry).toContainEqual({ ErrorEquals: ['States.TaskFailed', 'States.Timeout'], IntervalSeconds: 5, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 300 });
  });
});

describe('SurveyWorkflow step function', () => {
  it('is bound to the table and carries the alert addresses and the validated settings', () => {
    expect(lambdaEnvironments(template)[fnId]).toMatchObject({
      CONFLUO_TABLE_NAME: { Ref: tableId }, ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'survey@example.com',
      CONFLUO_SURVEY: 'nps', CONFLUO_SURVEY_DELAY_MINUTES: '30', CONFLUO_SURVEY_LOW_NPS: '5',
    });
    expect(allowedActions(template, fnId)).toContain('ses:SendRawEmail');
  });

  it('fails synthesis on invalid settings', () => {
    const stack = testStack('Bad');
    expect(() => new SurveyWorkflow(stack, 'SurveyWorkflow', { store: new Store(stack, 'Store'), settings: { lowCsat: 9 } })).toThrow(/CONFLUO_SURVEY_LOW_CSAT: must be 0–5/);
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement explained', () => {
    const app = testApp();
    const stack = new Stack(app, 'Nagged');
    new SurveyWorkflow(stack, 'SurveyWorkflow', { store: new Store(stack, 'Store'), emailFrom: 'survey@example.com' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
    for (const ack of nag.suppressedViolations) expect(ack.reason.length).toBeGreaterThan(40);
  });
});

describe('SurveyWorkflow in the Confluo stack', () => {
  const { template: full } = synthConfluo({ escalationEmail: 'lead@example.com', emailFrom: 'support@example.com', survey: { scale: 'csat', lowCsat: 3 } });
  const dispatchId = functionId(full, 'ProcessingDispatchFunction');
  const processId = functionId(full, 'ProcessingProcessFunction');
  const fullSmId = resourceId(full, 'AWS::StepFunctions::StateMachine', 'SurveyWorkflowStateMachine');

  it('lets the dispatch function start executions of this state machine only, and gives process the thresholds', () => {
    const env = lambdaEnvironments(full);
    expect(env[dispatchId]).toMatchObject({ CONFLUO_SURVEY_STATE_MACHINE_ARN: { Ref: fullSmId }, CONFLUO_SURVEY_LOW_CSAT: '3' });
    expect(env[processId]).toMatchObject({ CONFLUO_SURVEY: 'csat', CONFLUO_SURVEY_LOW_CSAT: '3' });
    const starts = policyStatements(full, dispatchId).filter((s) => s.Action === 'states:StartExecution').map((s) => s.Resource);
    expect(starts).toContainEqual({ Ref: fullSmId });
  });
});
