/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Optional settings come from CDK context, e.g.
 * `npx cdk deploy -c alarmEmail=ops@example.com -c emailFrom=support@example.com`:
 *
 * | context key       | meaning                                                      |
 * |-------------------|--------------------------------------------------------------|
 * | stackName         | stack name (default `Confluo`)                               |
 * | escalationEmail   | where SLA escalations are e-mailed                           |
 * | alarmEmail        | subscribed to the alarm topic                                |
 * | emailFrom         | From of e-mail replies (a verified SES identity)             |
 * | inboundMailBucket | bucket of the SES S3 action (mail over 150 KB), read-only    |
 * | inboundMailPrefix | object key prefix of that S3 action                          |
 * | secretsPath       | SSM path of channel secrets (default `/confluo/<stackName>/`)|
 * | removalPolicy     | `retain` (default) or `destroy` for table, user pool, key    |
 * | enabledChannels   | comma-separated channel names (informational)                |
 * | webSource         | directory of the built web inbox to upload (`dist/web`)      |
 * | mediaRetentionDays| days attachment bytes are kept in the media bucket (365)     |
 * | mediaUploadOrigins| comma-separated extra origins that may upload (widget sites) |
 * | connectInstanceArn| Amazon Connect instance: the phone channel (lib/voice.ts)    |
 * | connectRecordings | `true`: the instance records calls (entries name them)       |
 * | shopifyShop       | `<name>.myshopify.com`: pull its orders (lib/orders-pull.ts) |
 * | shopifyPullMinutes| minutes between two pulls (default 5)                       |
 *
 * AwsSolutions (cdk-nag v3) checks run on every synth; an unacknowledged finding fails it.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfluoStack } from '../lib/confluo-stack.js';

const app = new App();

const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context '${key}' must be a string, got ${JSON.stringify(value)}`);
  return value;
};

function removalPolicy(value: string | undefined): RemovalPolicy | undefined {
  if (value === undefined) return undefined;
  if (value === 'retain') return RemovalPolicy.RETAIN;
  if (value === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(`context 'removalPolicy' must be 'retain' or 'destroy', got '${value}'`);
}

const enabledChannels = context('enabledChannels')?.split(',').map((c) => c.trim()).filter(Boolean);
const escalationEmail = context('escalationEmail');
const alarmEmail = context('alarmEmail');
const emailFrom = context('emailFrom');
const secretsPath = context('secretsPath');
const removal = removalPolicy(context('removalPolicy'));

new ConfluoStack(app, 'Confluo', {
  stackName: context('stackName') ?? 'Confluo',
  description: 'Confluo omnichannel customer-service backend',
  ...(escalationEmail ? { escalationEmail } : {}),
  ...(alarmEmail ? { alarmEmail } : {}),
  ...(emailFrom ? { emailFrom } : {}),
  ...(context('inboundMailBucket') ? { inboundMailBucketName: context('inboundMailBucket')!, inboundMailPrefix: context('inboundMailPrefix') ?? '' } : {}),
  ...(secretsPath ? { secretsPath } : {}),
  ...(removal ? { removalPolicy: removal } : {}),
  ...(enabledChannels ? { enabledChannels } : {}),
  ...(context('mediaRetentionDays') ? { mediaRetentionDays: Number(context('mediaRetentionDays')) } : {}),
  ...(context('mediaUploadOrigins') ? { mediaUploadOrigins: context('mediaUploadOrigins')!.split(',').map((o) => o.trim()).filter(Boolean) } : {}),
  ...(context('webSource') ? { webInbox: { source: context('webSource')! } } : {}),
  // The phone channel (README "Phone (Amazon Connect)"): `-c connectInstanceArn=arn:aws:connect:…:instance/…`.
  ...(context('connectInstanceArn') ? { connectInstanceArn: context('connectInstanceArn')!, ...(context('connectRecordings') === 'true' ? { connectRecordings: true } : {}) } : {}),
  // The Shopify orders pull (README "Orders"): `-c shopifyShop=acme.myshopify.com [-c shopifyPullMinutes=5]`.
  ...(context('shopifyShop') ? { shopifyShop: context('shopifyShop')!, ...(context('shopifyPullMinutes') ? { shopifyPullMinutes: Number(context('shopifyPullMinutes')) } : {}) } : {}),
  // Hosted-UI sign-in of the inbox: `-c signInDomainPrefix=acme-support`, `-c signInLocalhost=true`.
  ...(context('signInDomainPrefix') || context('signInLocalhost') === 'true'
    ? { signIn: { ...(context('signInDomainPrefix') ? { domainPrefix: context('signInDomainPrefix')! } : {}), ...(context('signInLocalhost') === 'true' ? { localhostCallback: true } : {}) } }
    : {}),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
