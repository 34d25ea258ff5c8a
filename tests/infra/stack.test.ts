import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { ConfluoStack } from '../../lib/confluo-stack.js';
import {
  confluoAppWithNag, functionId, lambdaEnvironments, NAMESPACES, SECRET_SETTING_NAMES, SETTING_NAMES, synthConfluo, TEST_SECRETS, testApp, awsSolutionsReport } from './helpers.js';

// GIVEN the stack with defaults, and one with every optional prop set
const { stack, template } = synthConfluo();
const custom = synthConfluo({
  escalationEmail: 'lead@example.com',
  alarmEmail: 'ops@example.com',
  emailFrom: 'support@example.com',
  secretsPath: '/acme/support/',
  removalPolicy: RemovalPolicy.DESTROY,
  enabledChannels: ['telegram', 'email'],
});

describe('ConfluoStack: the local runtime\'s /dev endpoints are never deployed', () => {
  it('has no HTTP API route and no CloudFront path under /dev (token minting, outbox, clock, settle, S3 are local only)', () => {
    for (const t of [template, custom.template]) {
      const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => String(r.Properties.RouteKey));
      expect(routes.length).toBeGreaterThan(10);
      for (const key of routes) expect(key.split(' ')[1] ?? key, key).not.toMatch(/^\/dev(\/|$)/i);
      const paths = Object.values(t.findResources('AWS::CloudFront::Distribution'))
        .flatMap((d) => ((d.Properties.DistributionConfig?.CacheBehaviors ?? []) as Array<{ PathPattern: string }>).map((b) => b.PathPattern));
      for (const p of paths) expect(p).not.toMatch(/^\/?dev(\/|\*|$)/i);
    }
  });
});

describe('ConfluoStack composition', () => {
  it('composes the capabilities under their contract construct ids', () => {
    expect(stack.node.children.map((c) => c.node.id)).toEqual(expect.arrayContaining(['Store', 'Ingest', 'Processing', 'Outbound', 'AgentApi', 'Observability']));
  });

  it('keeps the table logical id stable (a change would replace the table and lose every ticket)', () => {
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toEqual(['StoreTable0CCFA19B']);
  });

  it('defines the fourteen functions', () => {
    const prefixes = ['HelpApiHelpApiFunction', 'OrdersWebhookOrdersWebhookFunction', 'InboundMediaMediaFunction', 'IngestIngestFunction', 'ProcessingProcessFunction', 'ProcessingDispatchFunction', 'OutboundSendFunction', 'AgentApiAgentApiFunction', 'SlaWorkflowEvaluateFunction', 'SurveyWorkflowStepFunction', 'ExportExportFunction', 'WebchatApiWebchatApiFunction', 'SurveyLinkSurveyLinkFunction', 'AssignmentWorkflowOfflineFunction'];
    for (const prefix of prefixes) {
      expect(functionId(template, prefix)).toBeTruthy();
    }
    template.resourceCountIs('AWS::Lambda::Function', prefixes.length);
  });

  it('outputs the webhook base URL and the Agent API URL', () => {
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.WebhookBaseUrl.Value)).toMatch(/execute-api.*\/webhooks\/"\]\]\}$/);
    expect(JSON.stringify(outputs.AgentApiUrl.Value)).toMatch(/execute-api.*\/api\/v1\/"\]\]\}$/);
  });

  it('reads secrets from /confluo/<stackName>/ by default', () => {
    expect(stack.secretsPath).toBe('/confluo/Confluo/');
    const named = new ConfluoStack(testApp(), 'Confluo', { stackName: 'ConfluoProd' });
    expect(named.secretsPath).toBe('/confluo/ConfluoProd/');
  });

  it('rejects a secrets path without the leading and trailing slash', () => {
    expect(() => new ConfluoStack(testApp(), 'Confluo', { secretsPath: '/confluo/prod' }))
      .toThrow("secretsPath must be an SSM path that starts and ends with '/', such as '/confluo/prod/', got '/confluo/prod'");
  });

  it('passes optional props through to the constructs', () => {
    const env = lambdaEnvironments(custom.template);
    expect(env[functionId(custom.template, 'ProcessingDispatchFunction')]).toMatchObject({ ESCALATION_EMAIL: 'lead@example.com' });
    expect(env[functionId(custom.template, 'OutboundSendFunction')]).toMatchObject({ EMAIL_FROM: 'support@example.com', CONFLUO_SECRETS_PATH: '/acme/support/' });
    expect(env[functionId(custom.template, 'IngestIngestFunction')]).toMatchObject({ CONFLUO_SECRETS_PATH: '/acme/support/' });
    custom.template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'ops@example.com' });
    custom.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    custom.template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete' });
  });

  it('retains stateful resources by default', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });
});

describe('ConfluoStack functions', () => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  it('run Node 22 on arm64 with active tracing', () => {
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
    }
  });

  it('log to their own log group kept for one month', () => {
    for (const [, fn] of functions) {
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.toJSON().Resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
    }
  });

  it('set the Powertools service name and source-mapped stack traces', () => {
    for (const env of Object.values(lambdaEnvironments(template))) {
      expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'confluo', NODE_OPTIONS: '--enable-source-maps' });
    }
  });

  it('carry no channel secret in any environment (secrets come from SSM)', () => {
    for (const t of [template, custom.template]) {
      for (const [id, env] of Object.entries(lambdaEnvironments(t))) {
        const names = Object.keys(env);
        expect(names.filter((n) => SECRET_SETTING_NAMES.includes(n)), id).toEqual([]);
        expect(names.filter((n) => n !== 'CONFLUO_SECRETS_PATH' && n !== 'CONFLUO_SECRET_NAMES' && /SECRET|TOKEN|PASSWORD|AUTH|PRIVATE|API_?KEY/i.test(n)), id).toEqual([]);
        const values = JSON.stringify(env);
        for (const secret of Object.values(TEST_SECRETS)) expect(values, id).not.toContain(secret);
      }
    }
    expect(SECRET_SETTING_NAMES).toContain('TELEGRAM_BOT_TOKEN'); // the list is really the secrets
  });

  it('set only settings declared in functions/runtime/config.ts in Confluo namespaces (config rejects unknown keys)', () => {
    for (const t of [template, custom.template]) {
      for (const [id, env] of Object.entries(lambdaEnvironments(t))) {
        const ours = Object.keys(env).filter((n) => NAMESPACES.some((p) => n.startsWith(p)));
        expect(ours.filter((n) => !SETTING_NAMES.has(n)), id).toEqual([]);
      }
    }
  });

  it('let only the functions that read channel settings read the secrets path: ingest, send, the widget API, the survey step and links, SLA evaluate (the e-mail channel\'s SES region), process (EMAIL_FORM_SENDERS at parse, CONFLUO_KB_* for messenger deflection), the Agent API (META_HUMAN_AGENT_TAG), the media function (download tokens), the help API (CONFLUO_KB_*) and the orders webhook (its secret)', () => {
    const readers = Object.entries(lambdaEnvironments(template)).filter(([, env]) => 'CONFLUO_SECRETS_PATH' in env).map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(readers.sort()).toEqual(['AgentApiAgentApiFunction', 'HelpApiHelpApiFunction', 'InboundMediaMediaFunction', 'IngestIngestFunction', 'OrdersWebhookOrdersWebhookFunction', 'OutboundSendFunction', 'ProcessingProcessFunction', 'SlaWorkflowEvaluateFunction', 'SurveyLinkSurveyLinkFunction', 'SurveyWorkflowStepFunction', 'WebchatApiWebchatApiFunction']);
    // Each by name, exactly what it reads (tests/infra/least-privilege.test.ts).
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ssm:GetParameters', 'ssm:GetParameter'] })]) },
    });
  });
});

describe('ConfluoStack cdk-nag (AwsSolutions)', () => {
  it('synthesises with no unacknowledged finding (also with an SES S3-action mail bucket)', () => {
    const { app } = confluoAppWithNag({ inboundMailBucketName: 'acme-inbound-mail', inboundMailPrefix: 'ses/' });
    const nag = awsSolutionsReport(app);
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
    for (const acknowledged of nag.suppressedViolations) expect(acknowledged.reason.length).toBeGreaterThan(40);
  });

  it('fails synthesis on an unacknowledged finding (the plugin is active)', () => {
    const { app, stack: nagged } = confluoAppWithNag();
    new Queue(nagged, 'PlainQueue', { enforceSSL: false }); // SQS3 (no DLQ), SQS4 (no TLS-only policy)
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
