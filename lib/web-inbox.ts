/**
 * WebInbox: the web inbox and the web-chat widget as static files (`npm run build:web` →
 * `dist/web/`) in a private S3 bucket behind CloudFront with Origin Access Control — the bucket
 * is never public; only this distribution may read it (aws:SourceArn condition).
 *
 * The inbox learns where the Agent API is and how agents sign in at run time, from a
 * `config.json` next to index.html (`addConfig`, written on deploy — the stack passes the API URL
 * and the Cognito hosted-UI settings); the widget tag names its API with `data-api`.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Distribution, HeadersFrameOption, HeadersReferrerPolicy, HttpVersion, PriceClass, ResponseHeadersPolicy, ViewerProtocolPolicy, CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source, type ISource } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { contentSecurityPolicy, type CspOptions } from './content-security-policy.js';

export interface WebInboxProps {
  /**
   * Directory of the built pages (`npm run build:web` writes `dist/web/`), uploaded on deploy
   * (and the distribution's cache invalidated).
   *
   * @default - no upload: bucket and distribution only (copy the files yourself)
   */
  readonly source?: string;

  /** @default RemovalPolicy.RETAIN (the access logs are kept) */
  readonly removalPolicy?: RemovalPolicy;

  /** Days CloudFront and S3 access logs are kept. @default 90 */
  readonly logDays?: number;

  /**
   * Further origins the pages may connect to (the Content-Security-Policy's `connect-src`), e.g.
   * a custom sign-in or API domain. Always allowed: the page's own origin and, for the Agent API
   * and the Cognito sign-in domain, `https://*.execute-api.<region>.amazonaws.com` and
   * `https://*.auth.<region>.amazoncognito.com` — their exact names are unknown when the
   * distribution is made (the API's CORS names the distribution).
   *
   * @default - none further
   */
  readonly connectSources?: readonly string[];
}

export class WebInbox extends Construct {
  /** The private bucket holding the pages. */
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  /** `https://<distribution domain>/` */
  public readonly url: string;
  private deployment?: BucketDeployment;

  constructor(scope: Construct, id: string, props: WebInboxProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = { encryption: BucketEncryption.S3_MANAGED, enforceSSL: true, blockPublicAccess: BlockPublicAccess.BLOCK_ALL, removalPolicy };

    const logs = new Bucket(this, 'AccessLogs', {
      ...base,
      // CloudFront standard logging writes with ACLs (awslogsdelivery), S3 server access logging too.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.logDays ?? 90) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This is the access log bucket of the site bucket and the distribution; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Site', { ...base, serverAccessLogsBucket: logs, serverAccessLogsPrefix: 's3/' });

    const stack = Stack.of(this);
    const connect = [`https://*.execute-api.${stack.region}.${stack.urlSuffix}`, `https://*.auth.${stack.region}.amazoncognito.com`, ...(props.connectSources ?? [])];
    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Confluo web inbox and web-chat widget',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        // The inbox: HSTS, nosniff, frame denial, referrer policy and its Content-Security-Policy.
        // Attachments: signed URLs of the media bucket (virtual-hosted S3 URLs of this region).
        responseHeadersPolicy: this.headersPolicy('InboxHeaders', { connect, media: [`https://*.s3.${stack.region}.${stack.urlSuffix}`] }),
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        // The widget and its demo page (the widget's API is the webhook API, another execute-api origin).
        'webchat/*': {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          responseHeadersPolicy: this.headersPolicy('WidgetHeaders', { connect, inlineStyles: true }),
          cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        },
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-CFR1', reason: 'Agents and shop visitors may be anywhere; no geo restriction by default.' },
      { id: 'AwsSolutions::AwsSolutions-CFR2', reason: 'Static files only, no application behind this distribution (the APIs have their own throttling); a WAF is optional.' },
      { id: 'AwsSolutions::AwsSolutions-CFR4', reason: 'The default *.cloudfront.net certificate; with a custom domain and certificate set minimumProtocolVersion TLSv1.2_2021.' },
    );
    this.url = `https://${this.distribution.distributionDomainName}/`;

    if (props.source) {
      this.deployment = this.deploy('Deploy', [Source.asset(props.source)]);
    }
  }

  /**
   * Deploy `config.json` next to index.html: the inbox's run-time settings, e.g.
   * `{ apiBase, auth: { kind: 'cognito', domain, clientId, redirectUri } }`. Tokens (the API URL,
   * the client id) are resolved on deploy, so the client can name this distribution as its
   * callback URL without a dependency cycle: distribution → client → this file.
   */
  addConfig(config: Record<string, unknown>): void {
    // With the pages: one deployment (its pruning would otherwise delete a separately uploaded file).
    if (this.deployment) this.deployment.addSource(Source.jsonData('config.json', config));
    // Without them the operator copies the files, this one included.
    else new CfnOutput(this, 'ConfigJson', { value: Stack.of(this).toJsonString(config), description: 'Upload as config.json next to index.html (the inbox settings)' });
  }

  /**
   * The security headers of CloudFront's managed SecurityHeadersPolicy (HSTS, nosniff, frame
   * denial, referrer policy) plus a Content-Security-Policy (lib/content-security-policy.ts).
   */
  private headersPolicy(id: string, csp: CspOptions): ResponseHeadersPolicy {
    return new ResponseHeadersPolicy(this, id, {
      comment: `Confluo ${id === 'InboxHeaders' ? 'web inbox' : 'web-chat widget'}: security headers and Content-Security-Policy`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(csp), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
  }

  private deploy(id: string, sources: ISource[]): BucketDeployment {
    const deployment = new BucketDeployment(this, id, {
      sources,
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      // The pages change together with the API: never serve a stale index.html for long.
      cacheControl: [],
      memoryLimit: 256,
    });
    // The upload function is a CDK singleton at stack level (outside this construct's tree).
    const provider = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    for (const scope of [deployment, ...(provider ? [provider] : [])]) {
      Validations.of(scope).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'The CDK BucketDeployment provider function uses AWSLambdaBasicExecutionRole.' },
        ...['Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*', 'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*', `Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`, 'Resource::*']
          .map((f) => ({ id: `AwsSolutions::AwsSolutions-IAM5[${f}]`, reason: 'BucketDeployment copies the asset objects into the site bucket and invalidates the distribution (CloudFront invalidations have no resource-level permissions).' })),
        { id: 'AwsSolutions::AwsSolutions-L1', reason: 'The runtime of the CDK BucketDeployment provider is chosen by aws-cdk-lib.' },
      );
    }
    return deployment;
  }
}
