/**
 * OrdersPull (lib/orders-pull.ts): nothing of the Shopify pull without a shop; with one, the
 * function on an EventBridge schedule (not retried: the next run makes a missed one good), the
 * shop in its environment, least privilege (only its Shopify parameters in SSM, only the table
 * actions it uses, no index, queue or bucket), its error alarm; cdk-nag clean.
 */
import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { ORDERS_PULL_TABLE_ACTIONS } from '../../lib/orders-pull.js';
import { allowedActions, awsSolutionsReport, confluoAppWithNag, functionId, lambdaEnvironments, policyStatements, synthConfluo } from './helpers.js';

const SHOP = 'acme-store.myshopify.com';

describe('OrdersPull', () => {
  it('creates nothing of the pull without a shop', () => {
    const { stack, template } = synthConfluo();
    expect(stack.ordersPull).toBeUndefined();
    const handlers = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Metadata?.['confluo:handler']);
    expect(handlers).not.toContain('orders-pull');
  });

  const { stack, template } = synthConfluo({ shopifyShop: SHOP, shopifyPullMinutes: 10 });
  const pullId = functionId(template, 'OrdersPullOrdersPullFunction');

  it('runs the pull on a schedule, without retries, with the shop in its environment', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [pullId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    expect(lambdaEnvironments(template)[pullId]).toMatchObject({ CONFLUO_SHOPIFY_SHOP: SHOP, CONFLUO_SECRET_NAMES: 'CONFLUO_SHOPIFY_ACCESS_TOKEN,CONFLUO_SHOPIFY_CLIENT_ID,CONFLUO_SHOPIFY_CLIENT_SECRET' });
    expect(stack.ordersPull?.function.handlerName).toBe('orders-pull');
  });

  it('may read only its Shopify parameters and do only the table actions it uses, on the table alone', () => {
    const statements = policyStatements(template, pullId);
    const ssm = statements.filter((s) => JSON.stringify(s.Action).includes('ssm:'));
    expect(ssm).toHaveLength(1);
    const params = JSON.stringify(ssm[0]!.Resource);
    for (const n of ['CONFLUO_SHOPIFY_ACCESS_TOKEN', 'CONFLUO_SHOPIFY_CLIENT_ID', 'CONFLUO_SHOPIFY_CLIENT_SECRET']) expect(params).toContain(`/${n}`);
    expect((ssm[0]!.Resource as unknown[]).length).toBe(3);
    expect(params).not.toContain('*');
    const actions = allowedActions(template, pullId);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...ORDERS_PULL_TABLE_ACTIONS].sort());
    expect(actions.filter((a) => /^(s3|ses|sqs|states|sns):/.test(a))).toEqual([]);
    const table = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(JSON.stringify(table.map((s) => s.Resource))).not.toContain('/index/');
  });

  it('alarms on the pull\'s errors like every function\'s', () => {
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.some((a) => a.startsWith('ObservabilityOrdersPullErrorsAlarm'))).toBe(true);
  });

  it('refuses a shop that is not a permanent myshopify.com domain, and a schedule out of range', () => {
    expect(() => synthConfluo({ shopifyShop: 'https://acme.myshopify.com' })).toThrow(/myshopify\.com/);
    expect(() => synthConfluo({ shopifyShop: SHOP, shopifyPullMinutes: 0 })).toThrow(/pullMinutes/);
  });

  it('passes the AwsSolutions checks', () => {
    const { app } = confluoAppWithNag({ shopifyShop: SHOP });
    const nag = awsSolutionsReport(app);
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});
