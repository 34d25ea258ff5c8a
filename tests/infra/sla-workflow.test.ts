import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SLA_STATES, SlaWorkflow } from '../../lib/sla-workflow.js';
import { Store } from '../../lib/store.js';
import { allowedActions, functionId, lambdaEnvironments, policyStatements, resourceId, synthConfluo, testApp, testStack, stateMachineOf, awsSolutionsReport } from './helpers.js';

const OFFICE = {
  calendars: [{ id: 'office', time_zone: 'Europe/Warsaw', week: { mon: ['09:00-18:00'], fri: ['09:00-17:00'] }, holidays: ['2026-12-25'] }],
  policies: [{ id: 'office', calendar: 'office', targets: { first_response_minutes: 60, next_response_minutes: 240, resolution_minutes: 1440 } }],
};

// GIVEN an SlaWorkflow on a Store, with e-mail and defaults, and one with nothing optional
const built = (() => {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const sla = new SlaWorkflow(stack, 'SlaWorkflow', { store, escalationEmail: 'lead@example.com', emailFrom: 'sla@example.com', defaults: OFFICE });
  return { stack, sla, template: Template.fromStack(stack) };
})();
const { template } = built;
const smId = resourceId(template, 'AWS::StepFunctions::StateMachine', 'SlaWorkflowStateMachine');
const fnId = functionId(template, 'SlaWorkflowEvaluateFunction');
const tableId = resourceId(template, 'AWS::DynamoDB::Table', 'StoreTable');
const { sm, definition } = stateMachineOf(template, smId);

describe('SlaWorkflow state machine', () => {
  it('is a STANDARD, X-Ray traced state machine logging errors without execution data', () => {
    expect(sm()).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
    });
  });

  it('waits on $.wait_until, invokes the evaluate function and loops on its decision (JSONPath)', () => {
    const d = definition();
    expect(d.QueryLanguage).toBe('JSONPath');
    expect(d.StartAt).toBe(SLA_STATES.wait);
    expect(d.States[SLA_STATES.wait]).toMatchObject({ Type: 'Wait', TimestampPath: '$.wait_until', Next: SLA_STATES.evaluate });
    expect(d.States[SLA_STATES.evaluate]).toMatchObject({
      Type: 'Task', Resource: 'FN_ARN', Next: SLA_STATES.decide, TimeoutSeconds: 60,
      Parameters: { 'ticket_id.$': '$.ticket_id', 'generation.$': '$.generation', 'execution.$': '$$.Execution.Name' },
    });
    expect(d.States[SLA_STATES.decide]).toMatchObject({
      Type: 'Choice', Default: SLA_STATES.unknown,
      Choices: [
        { Variable: '$.kind', StringEquals: 'done', Next: SLA_STATES.done },
        { Or: [{ Variable: '$.kind', StringEquals: 'wait-until' }, { Variable: '$.kind', StringEquals: 'escalate' }], Next: SLA_STATES.wait },
      ],
    });
    expect(d.States[SLA_STATES.done].Type).toBe('Succeed');
    expect(d.States[SLA_STATES.unknown]).toMatchObject({ Type: 'Fail', Error: 'UnknownDecision' });
  });

  it('retries Lambda service errors and function errors with backoff', () => {
    expect(definition().States[SLA_STATES.evaluate].Retry).toEqual([
      expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']), MaxAttempts: 6 }),
      { ErrorEquals: ['States.TaskFailed', 'States.Timeout'], IntervalSeconds: 5, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 300 },
    ]);
  });

  it('may invoke the evaluate function and nothing else', () => {
    const roleId = sm().RoleArn['Fn::GetAtt'][0] as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction')!;
    expect(JSON.stringify(invoke.Resource)).toContain(fnId);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('lambda:'))).toEqual(['lambda:InvokeFunction']);
  });
});

describe('SlaWorkflow evaluate function', () => {
  it('is bound to the table and carries the escalation addresses and the validated defaults', () => {
    const env = lambdaEnvironments(template)[fnId]!;
    expect(env).toMatchObject({ CONFLUO_TABLE_NAME: { Ref: tableId }, ESCALATION_EMAIL: 'lead@example.com', EMAIL_FROM: 'sla@example.com' });
    const defaults = JSON.parse(env.CONFLUO_SLA_DEFAULTS as string);
    expect(defaults.calendars[0]).toMatchObject({ id: 'office', week: { mon: ['09:00-18:00'], tue: [] } });
    expect(defaults.policies[0].escalations).toHaveLength(3); // defaults filled in at synthesis
  });

  it('may send e-mail through SES only when a sender is configured', () => {
    expect(allowedActions(template, fnId)).toContain('ses:SendRawEmail');
    const bare = testStack('Bare');
    new SlaWorkflow(bare, 'SlaWorkflow', { store: new Store(bare, 'Store') });
    const t = Template.fromStack(bare);
    expect(allowedActions(t, functionId(t, 'SlaWorkflowEvaluateFunction'))).not.toContain('ses:SendRawEmail');
    expect(lambdaEnvironments(t)[functionId(t, 'SlaWorkflowEvaluateFunction')]).not.toHaveProperty('CONFLUO_SLA_DEFAULTS');
  });

  it('fails synthesis on a malformed calendar, naming the value and the fix', () => {
    const stack = testStack('Bad');
    const store = new Store(stack, 'Store');
    expect(() => new SlaWorkflow(stack, 'SlaWorkflow', { store, defaults: { calendars: [{ id: 'office', time_zone: 'UTC', week: { mon: ['9-5'] } }] } }))
      .toThrow("sla business hours must be HH:MM-HH:MM, got '9-5'");
    expect(() => new SlaWorkflow(testStack('Bad2'), 'SlaWorkflow', { store: new Store(testStack('S'), 'Store'), defaults: { policies: [{ id: 'p', calendar: 'nope', targets: { first_response_minutes: 60, next_response_minutes: null, resolution_minutes: null } }] } }))
      .toThrow("sla policy 'p' names calendar 'nope', which is not defined");
  });

  it('passes cdk-nag AwsSolutions with every acknowledgement explained', () => {
    const app = testApp();
    const stack = new Stack(app, 'Nagged');
    new SlaWorkflow(stack, 'SlaWorkflow', { store: new Store(stack, 'Store'), emailFrom: 'sla@example.com' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
    for (const ack of nag.suppressedViolations) expect(ack.reason.length).toBeGreaterThan(40);
  });
});

describe('SlaWorkflow in the Confluo stack', () => {
  const { template: full } = synthConfluo({ escalationEmail: 'lead@example.com', emailFrom: 'support@example.com', slaDefaults: OFFICE });
  const dispatchId = functionId(full, 'ProcessingDispatchFunction');
  const fullSmId = resourceId(full, 'AWS::StepFunctions::StateMachine', 'SlaWorkflowStateMachine');

  it('lets the dispatch function start executions of this state machine only', () => {
    const env = lambdaEnvironments(full)[dispatchId]!;
    expect(env.CONFLUO_SLA_STATE_MACHINE_ARN).toEqual({ Ref: fullSmId });
    expect(JSON.parse(env.CONFLUO_SLA_DEFAULTS as string).calendars[0].id).toBe('office');
    const start = policyStatements(full, dispatchId).find((s) => s.Action === 'states:StartExecution')!;
    expect(start.Resource).toEqual({ Ref: fullSmId });
  });

  it('gives the Agent API the same defaults for GET /sla/*', () => {
    expect(lambdaEnvironments(full)[functionId(full, 'AgentApiAgentApiFunction')]!.CONFLUO_SLA_DEFAULTS).toBe(lambdaEnvironments(full)[dispatchId]!.CONFLUO_SLA_DEFAULTS);
  });
});
