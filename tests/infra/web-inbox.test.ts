import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { WebInbox } from '../../lib/web-inbox.js';
import { synthConfluo, testApp, testStack } from './helpers.js';

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
});
