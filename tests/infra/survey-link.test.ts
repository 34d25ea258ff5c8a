/**
 * SurveyLink (lib/survey-link.ts): the survey e-mail score links routed on the public webhook API
 * to one small function with least privilege (four table actions on the table itself, its one
 * SSM parameter, nothing else); the survey step signs links for the webhook API's URL (or the given public
 * URL) with the key from SSM; cdk-nag clean.
 */
import { describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Store } from '../../lib/store.js';
import { SurveyLink, SURVEY_LINK_TABLE_ACTIONS } from '../../lib/survey-link.js';
import { allowedActions, awsSolutionsReport, functionId, lambdaEnvironments, policyStatements, synthConfluo, testApp } from './helpers.js';

const { template } = synthConfluo();
const fnId = functionId(template, 'SurveyLinkSurveyLinkFunction');
const stepId = functionId(template, 'SurveyWorkflowStepFunction');

describe('SurveyLink', () => {
  it('routes GET and POST /survey/{token} on the webhook API to its function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string).filter((k) => /^\w+ \/survey\//.test(k));
    expect(routes.sort()).toEqual(['GET /survey/{token}', 'POST /survey/{token}']);
    const webhookApi = Object.entries(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter(([, r]) => String(r.Properties.RouteKey).startsWith('POST /webhooks/') || /^\w+ \/survey\//.test(String(r.Properties.RouteKey)))
      .map(([, r]) => JSON.stringify(r.Properties.ApiId));
    expect(new Set(webhookApi).size).toBe(1); // the same (public) API as the webhooks
  });

  it('may only read and transactionally write the table itself and read the secrets path — no index, queue or SES', () => {
    const actions = allowedActions(template, fnId);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...SURVEY_LINK_TABLE_ACTIONS].sort());
    expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('ssm:') && !a.startsWith('kms:') && !a.startsWith('xray:'))).toEqual([]);
    const tableStatement = policyStatements(template, fnId).find((s) => (s.Action as string[]).includes('dynamodb:GetItem'))!;
    expect(JSON.stringify(tableStatement.Resource)).not.toContain('/index/');
    const env = lambdaEnvironments(template)[fnId]!;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['CONFLUO_TABLE_NAME', 'CONFLUO_SECRETS_PATH']));
    expect(env.CONFLUO_SURVEY_LINK_SECRET).toBeUndefined(); // never in the template
  });

  it('lets the survey step sign links for the webhook API URL with the key from SSM, or for a given public URL', () => {
    const step = lambdaEnvironments(template)[stepId]!;
    expect(JSON.stringify(step.CONFLUO_PUBLIC_URL)).toMatch(/execute-api/);
    expect(step.CONFLUO_SECRETS_PATH).toBeDefined();
    expect(allowedActions(template, stepId)).toContain('ssm:GetParameters');
    expect(step.CONFLUO_SECRET_NAMES).toContain('CONFLUO_SURVEY_LINK_SECRET');
    const custom = synthConfluo({ publicUrl: 'https://support.acme.example/', survey: { commentMinutes: 30 } }).template;
    expect(lambdaEnvironments(custom)[functionId(custom, 'SurveyWorkflowStepFunction')]).toMatchObject({ CONFLUO_PUBLIC_URL: 'https://support.acme.example/' });
    expect(lambdaEnvironments(custom)[functionId(custom, 'SurveyLinkSurveyLinkFunction')]).toMatchObject({ CONFLUO_SURVEY_COMMENT_MINUTES: '30' });
  });

  it('passes cdk-nag AwsSolutions on its own, every acknowledgement explained', () => {
    const app: App = testApp();
    const stack = new Stack(app, 'Links');
    const api = new HttpApi(stack, 'Api');
    // (The Ingest construct logs its API; this bare test API is not the construct under test.)
    Validations.of(api.defaultStage!).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG1', reason: 'A bare test API standing in for the Ingest construct, which configures access logging itself.' });
    new SurveyLink(stack, 'SurveyLink', { store: new Store(stack, 'Store'), api, secretsPath: '/confluo/test/' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    for (const acknowledged of nag.suppressedViolations) expect(acknowledged.reason.length).toBeGreaterThan(40);
  });
});
