import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { describe, expect, it } from 'vitest';
import { WebInbox } from '../../lib/web-inbox.js';
import { awsSolutionsReport, confluoAppWithNag, resourceId, synthConfluo, testApp, testStack } from './helpers.js';

// GIVEN a WebInbox with a directory of built pages
const source = mkdtempSync(join(tmpdir(), 'confluo-web-'));
writeFileSync(join(source, 'index.html'), '<!doctype html><title>inbox</title>');
const stack = testStack();
new WebInbox(stack, 'WebInbox', { source });
const template = Template.fromStack(stack);

describe('WebInbox', () => {
  it('keeps the pages in a private, encrypted, SSL-only bucket with access logs', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { LogFilePrefix: 's3/', DestinationBucketName: Match.anyValue() },
    });
  });

  it('serves them through CloudFront with Origin Access Control, HTTPS only, index.html at /', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
      }),
    });
    // only the distribution may read the bucket
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).map((p) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.some((p) => p.includes('cloudfront.amazonaws.com') && p.includes('AWS:SourceArn'))).toBe(true);
  });

  it('sends a Content-Security-Policy with the pages: scripts only from the site, no inline script, no plugins, no framing; the Agent API and sign-in reachable', () => {
    const { template: t } = synthConfluo();
    const policies = t.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const cspOf = (id: string) => {
      const value = policies[id]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy;
      expect(value.Override).toBe(true);
      const csp = value.ContentSecurityPolicy as string | { 'Fn::Join': [string, unknown[]] };
      return typeof csp === 'string' ? csp : csp['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
    };
    const directives = (csp: string) => Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
    const dist = Object.values(t.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;
    const inboxPolicy = dist.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref as string;
    const widget = (dist.CacheBehaviors as Array<{ PathPattern: string; ResponseHeadersPolicyId: { Ref: string } }>).find((b) => b.PathPattern === 'webchat/*')!;
    for (const id of [inboxPolicy, widget.ResponseHeadersPolicyId.Ref]) {
      const d = directives(cspOf(id));
      expect(d['default-src']).toEqual(["'none'"]);
      expect(d['script-src']).toEqual(["'self'"]);
      expect(d['object-src']).toEqual(["'none'"]);
      expect(d['base-uri']).toEqual(["'none'"]);
      expect(d['frame-ancestors']).toEqual(["'none'"]);
      expect(d['connect-src']).toEqual(["'self'", expect.stringMatching(/^https:\/\/\*\.execute-api\..*AWS::Region.*AWS::URLSuffix/), expect.stringMatching(/^https:\/\/\*\.auth\..*AWS::Region.*\.amazoncognito\.com$/)]);
      expect(JSON.stringify(policies[id]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig)).toContain('StrictTransportSecurity');
    }
    // Only the widget's demo page (and the widget's own <style>) may style inline; the inbox may not.
    expect(directives(cspOf(inboxPolicy))['style-src']).toEqual(["'self'"]);
    expect(directives(cspOf(widget.ResponseHeadersPolicyId.Ref))['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    // A custom sign-in domain is added to connect-src.
    const certificate = Certificate.fromCertificateArn(testStack('Certificates'), 'Cert', 'arn:aws:acm:us-east-1:111122223333:certificate/0000');
    const custom = synthConfluo({ signIn: { customDomain: { domainName: 'login.acme.example', certificate } } }).template;
    expect(JSON.stringify(custom.findResources('AWS::CloudFront::ResponseHeadersPolicy'))).toContain('https://login.acme.example');
  });

  it('uploads the built pages and invalidates the cache on deploy', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', { DistributionPaths: ['/*'] });
  });

  it('synthesises without cdk-nag AwsSolutions findings', () => {
    const app = testApp();
    const s = new Stack(app, 'Nag');
    new WebInbox(s, 'WebInbox', { source });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('is part of the Confluo stack: its URL is an output and an allowed origin of the Agent API', () => {
    const { template: t } = synthConfluo();
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.WebInboxUrl!.Value)).toContain('DomainName');
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: [Match.objectLike({ 'Fn::Join': Match.anyValue() })] }) });
    expect(synthConfluo({ webInbox: false }).template.toJSON().Outputs.WebInboxUrl).toBeUndefined();
  });

  it('signs agents in through the Cognito hosted UI: code grant only, no secret, the distribution as callback', () => {
    const { template: t } = synthConfluo();
    const distribution = resourceId(t, 'AWS::CloudFront::Distribution', 'WebInboxDistribution');
    const inboxUrl = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, '/']] };
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: [inboxUrl],
      LogoutURLs: [inboxUrl],
    });
    t.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    // localhost only when asked
    const local = synthConfluo({ signIn: { localhostCallback: true, domainPrefix: 'confluo-dev' } }).template;
    local.hasResourceProperties('AWS::Cognito::UserPoolClient', { CallbackURLs: [Match.anyValue(), 'http://localhost:3000/'] });
    local.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'confluo-dev' });
    // no hosted inbox: no OAuth flows, no domain
    const none = synthConfluo({ webInbox: false }).template;
    none.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    none.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: Match.absent() });
  });

  it('deploys config.json with the API base and the Cognito settings next to the pages', () => {
    const { stack: st, template: t } = synthConfluo({ webInbox: { source } });
    const deployments = Object.values(t.findResources('Custom::CDKBucketDeployment'));
    expect(deployments).toHaveLength(1); // one deployment: its pruning keeps config.json
    const props = deployments[0]!.Properties as { SourceMarkers: Array<Record<string, unknown>>; SourceObjectKeys: unknown[] };
    expect(props.SourceObjectKeys).toHaveLength(2);
    // config.json as staged in the cloud assembly, its token markers put back as CloudFormation
    const dir = (st.node.root as App).synth().directory;
    const staged = readdirSync(dir).filter((d) => d.startsWith('asset.')).map((d) => join(dir, d, 'config.json')).find((f) => existsSync(f))!;
    let text = readFileSync(staged, 'utf8');
    for (const [marker, value] of Object.entries(props.SourceMarkers.find((m) => Object.keys(m).length > 0)!)) {
      const v = value as { Ref?: string; 'Fn::GetAtt'?: string[] };
      text = text.split(marker).join(v.Ref ? `«${v.Ref}»` : `«${v['Fn::GetAtt']!.join('.')}»`);
    }
    const config = JSON.parse(text) as { apiBase: string; helpApiBase: string; auth: Record<string, string> };
    const ref = (type: string, prefix: string) => `«${resourceId(t, type, prefix)}»`;
    const distribution = `«${resourceId(t, 'AWS::CloudFront::Distribution', 'WebInboxDistribution')}.DomainName»`;
    expect(config).toEqual({
      apiBase: `https://${ref('AWS::ApiGatewayV2::Api', 'AgentApi')}.execute-api.«AWS::Region».«AWS::URLSuffix»/api/v1`,
      // The help centre page searches through the public help API on the webhook API.
      helpApiBase: `https://${ref('AWS::ApiGatewayV2::Api', 'Ingest')}.execute-api.«AWS::Region».«AWS::URLSuffix»/`,
      auth: {
        kind: 'cognito',
        domain: `${ref('AWS::Cognito::UserPoolDomain', 'AgentApiUserPoolDomain')}.auth.«AWS::Region».amazoncognito.com`,
        clientId: ref('AWS::Cognito::UserPoolClient', 'AgentApiUserPoolClient'),
        redirectUri: `https://${distribution}/`,
      },
    });
  });

  it('without uploaded pages outputs config.json for the operator to copy (no upload function)', () => {
    const t = synthConfluo().template;
    t.resourceCountIs('Custom::CDKBucketDeployment', 0);
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    const value = JSON.stringify(Object.entries(outputs).find(([k]) => k.startsWith('WebInboxConfigJson'))![1].Value);
    expect(value).toContain('cognito');
    expect(value).toContain('AgentApiUserPoolClient');
  });

  it('the whole stack with the hosted inbox and sign-in synthesises without unacknowledged cdk-nag findings', () => {
    const { app } = confluoAppWithNag({ webInbox: { source } });
    const report = awsSolutionsReport(app);
    expect(report.violations).toEqual([]);
  });
});
