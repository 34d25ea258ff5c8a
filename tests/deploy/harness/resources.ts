/**
 * The template's resources, created FROM THEIR OWN PROPERTIES in the emulators, and the physical
 * values CloudFormation would give them (names, URLs, ARNs) so `Ref`/`Fn::GetAtt` in function
 * environments and state machine definitions resolve to what exists:
 * - `AWS::DynamoDB::Table` → DynamoDB Local (keys, attributes, GSIs, stream, TTL);
 * - `AWS::SQS::Queue` → moto (FIFO, deduplication, throughput, visibility, retention, size,
 *   redrive to the dead-letter queue's moto ARN);
 * - `AWS::S3::Bucket` → moto (versioning);
 * - `AWS::StepFunctions::StateMachine` → moto (`CreateStateMachine` with the resolved definition,
 *   so the dispatch function's `StartExecution` works and executions can be listed);
 * - `AWS::Lambda::Function` → a name and ARN only (the functions run in hosts, not in moto).
 *
 * A property this harness does not emulate fails the creation, unless it is listed as ignored with
 * the reason: a template change is never silently dropped from the test. Resources no emulator
 * holds (the HTTP APIs, the CloudFront distribution, Cognito) get made-up physical ids of the
 * right shape when something refers to them.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { resolveIntrinsics, resourcesOfType } from '../../../local/template.js';
import type { Template, TemplateResource } from '../support/assembly.js';

export interface Pseudo {
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
}

export class ResourceError extends Error {
  override readonly name = 'ResourceError';
}

/** Physical values of the template's resources; resolves the intrinsics that refer to them. */
export class PhysicalResources {
  private readonly refs = new Map<string, string>();
  private readonly attrs = new Map<string, Record<string, string>>();

  constructor(readonly template: Template, readonly pseudo: Pseudo) {}

  set(logicalId: string, ref: string, attrs: Record<string, string> = {}): void {
    this.refs.set(logicalId, ref);
    this.attrs.set(logicalId, attrs);
  }

  ref(logicalId: string): string {
    const v = this.refs.get(logicalId) ?? this.synthetic(logicalId)?.ref;
    if (v === undefined) throw new ResourceError(`resources: ${logicalId} (${this.template.Resources[logicalId]?.Type ?? 'not in the template'}) has no physical value in the emulated deployment`);
    return v;
  }

  getAtt(logicalId: string, attr: string): string {
    const v = this.attrs.get(logicalId)?.[attr] ?? (this.refs.has(logicalId) ? undefined : this.synthetic(logicalId)?.attrs[attr]);
    if (v === undefined) throw new ResourceError(`resources: Fn::GetAtt ${logicalId}.${attr} is not known in the emulated deployment`);
    return v;
  }

  /**
   * Resolve the intrinsics CDK writes (local/template.ts `resolveIntrinsics`: Ref, Fn::GetAtt,
   * Fn::Join, Fn::Select, Fn::Split) to physical values. Its pseudo parameters are the local
   * runtime's (us-east-1, its account), so the deployment's are put in first.
   */
  resolve(node: unknown): unknown {
    return resolveIntrinsics(this.withPseudo(node), this.template, { ref: (id) => this.ref(id), getAtt: (id, attr) => this.getAtt(id, attr) });
  }

  /** A string-valued resolution (environment variables, names). */
  resolveString(node: unknown): string {
    const v = this.resolve(node);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ResourceError('resources: value does not resolve to a string', { cause: { node } });
    return String(v);
  }

  /** `{Ref: 'AWS::Region'}` and the other pseudo parameters replaced by the deployment's values. */
  private withPseudo(node: unknown): unknown {
    if (typeof node !== 'object' || node === null) return node;
    if (Array.isArray(node)) return node.map((n) => this.withPseudo(n));
    const o = node as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof o.Ref === 'string' && o.Ref.startsWith('AWS::')) {
      const { region, account, stackName } = this.pseudo;
      const value = ({
        'AWS::Region': region, 'AWS::AccountId': account, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': stackName,
        'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
      } as Record<string, string>)[o.Ref];
      if (value === undefined) throw new ResourceError(`resources: pseudo parameter ${o.Ref} is not emulated`);
      return value;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.withPseudo(v)]));
  }

  /** Made-up, well-formed physical values for resources no emulator holds (remembered once made). */
  private synthetic(logicalId: string): { ref: string; attrs: Record<string, string> } | undefined {
    const type = this.template.Resources[logicalId]?.Type;
    const { region, account } = this.pseudo;
    const id = (n: number) => randomBytes(n).toString('hex').slice(0, n);
    let made: { ref: string; attrs: Record<string, string> } | undefined;
    switch (type) {
      case 'AWS::ApiGatewayV2::Api': { const api = id(10); made = { ref: api, attrs: { ApiEndpoint: `https://${api}.execute-api.${region}.amazonaws.com`, ApiId: api } }; break; }
      case 'AWS::ApiGatewayV2::Integration': case 'AWS::ApiGatewayV2::Authorizer': made = { ref: id(7), attrs: {} }; break;
      case 'AWS::CloudFront::Distribution': { const d = `E${id(13).toUpperCase()}`; made = { ref: d, attrs: { DomainName: `d${id(13)}.cloudfront.net`, Id: d } }; break; }
      case 'AWS::Cognito::UserPool': { const p = `${region}_${id(9)}`; made = { ref: p, attrs: { Arn: `arn:aws:cognito-idp:${region}:${account}:userpool/${p}`, ProviderName: `cognito-idp.${region}.amazonaws.com/${p}` } }; break; }
      case 'AWS::Cognito::UserPoolClient': made = { ref: id(26), attrs: {} }; break;
      case 'AWS::IAM::Role': { const n = physicalName(this.pseudo.stackName, logicalId, 64); made = { ref: n, attrs: { Arn: `arn:aws:iam::${account}:role/${n}`, RoleId: `AROA${id(17).toUpperCase()}` } }; break; }
      case 'AWS::Logs::LogGroup': { const n = physicalName(this.pseudo.stackName, logicalId, 512); made = { ref: n, attrs: { Arn: `arn:aws:logs:${region}:${account}:log-group:${n}:*` } }; break; }
      default: return undefined;
    }
    this.set(logicalId, made.ref, made.attrs);
    return made;
  }
}

/** CloudFormation's generated name: `<stack>-<logicalId>-<random>` (shortened to fit `max`). */
export function physicalName(stackName: string, logicalId: string, max: number, suffix = ''): string {
  const rand = randomBytes(8).toString('hex').toUpperCase().slice(0, 12);
  const base = `${stackName}-${logicalId}`.slice(0, max - rand.length - 1 - suffix.length);
  return `${base}-${rand}${suffix}`;
}

/** Properties emulated, and those deliberately ignored (with why), per resource type. */
const IGNORED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'AWS::DynamoDB::Table': {
    PointInTimeRecoverySpecification: 'backups: DynamoDB Local has no UpdateContinuousBackups',
    SSESpecification: 'encryption at rest: nothing to emulate',
    DeletionProtectionEnabled: 'guards stack deletion only',
    Tags: 'no behaviour', ContributorInsightsSpecification: 'monitoring only',
  },
  'AWS::SQS::Queue': { SqsManagedSseEnabled: 'encryption at rest: nothing to emulate', KmsMasterKeyId: 'encryption at rest', KmsDataKeyReusePeriodSeconds: 'encryption at rest', Tags: 'no behaviour' },
  'AWS::S3::Bucket': {
    BucketEncryption: 'encryption at rest', PublicAccessBlockConfiguration: 'access policy, not behaviour under test',
    LifecycleConfiguration: 'expirations happen over days', LoggingConfiguration: 'server access logs', OwnershipControls: 'ACL ownership',
    AccessControl: 'log-delivery ACL', Tags: 'no behaviour',
    CorsConfiguration: 'browser CORS of presigned uploads: no browser here',
  },
  'AWS::StepFunctions::StateMachine': { LoggingConfiguration: 'execution logs', TracingConfiguration: 'X-Ray', Tags: 'no behaviour' },
};
const EMULATED: Readonly<Record<string, readonly string[]>> = {
  'AWS::DynamoDB::Table': ['TableName', 'AttributeDefinitions', 'KeySchema', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'BillingMode', 'ProvisionedThroughput', 'StreamSpecification', 'TimeToLiveSpecification'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit', 'VisibilityTimeout', 'MessageRetentionPeriod', 'MaximumMessageSize', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'RedrivePolicy', 'RedriveAllowPolicy'],
  'AWS::S3::Bucket': ['BucketName', 'VersioningConfiguration'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName', 'DefinitionString', 'RoleArn', 'StateMachineType'],
};

function checkProperties(logicalId: string, r: TemplateResource): Record<string, unknown> {
  const props = r.Properties ?? {};
  const unknown = Object.keys(props).filter((k) => !EMULATED[r.Type]?.includes(k) && !IGNORED[r.Type]?.[k]);
  if (unknown.length) throw new ResourceError(`resources: ${logicalId} (${r.Type}) has properties the deployment test does not emulate: ${unknown.join(', ')} — emulate them in tests/deploy/harness/resources.ts or list them as ignored with the reason`);
  return props;
}

export interface Emulators {
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

/**
 * Create every emulated resource of the template and name the functions. State machines come
 * last: their definitions refer to the functions' ARNs.
 */
export async function createResources(template: Template, clients: Emulators, pseudo: Pseudo): Promise<PhysicalResources> {
  const phys = new PhysicalResources(template, pseudo);
  const { region, account, stackName } = pseudo;
  const of = (type: string) => resourcesOfType(template, type);

  for (const [id, r] of of('AWS::Lambda::Function')) {
    const name = typeof r.Properties?.FunctionName === 'string' ? r.Properties.FunctionName : physicalName(stackName, id, 64);
    phys.set(id, name, { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` });
  }

  for (const [id, r] of of('AWS::DynamoDB::Table')) {
    const p = checkProperties(id, r);
    const name = typeof p.TableName === 'string' ? p.TableName : physicalName(stackName, id, 255);
    const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
    const input: CreateTableCommandInput = {
      TableName: name,
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      BillingMode: (p.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
      ...(p.ProvisionedThroughput ? { ProvisionedThroughput: p.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'] } : {}),
      ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
      ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'] } : {}),
      ...(stream?.StreamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_IMAGE' } } : {}),
    };
    const created = await clients.ddb.send(new CreateTableCommand(input));
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled) await clients.ddb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: ttl.AttributeName!, Enabled: true } }));
    phys.set(id, name, {
      Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}`,
      ...(created.TableDescription?.LatestStreamArn ? { StreamArn: created.TableDescription.LatestStreamArn } : {}),
    });
  }

  // Queues first without their redrive policies (a policy names another queue's ARN).
  const queues = of('AWS::SQS::Queue');
  for (const [id, r] of queues) {
    const p = checkProperties(id, r);
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    const name = typeof p.QueueName === 'string' ? p.QueueName : physicalName(stackName, id, 80, fifo ? '.fifo' : '');
    const attributes: Record<string, string> = {};
    for (const k of ['FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit', 'VisibilityTimeout', 'MessageRetentionPeriod', 'MaximumMessageSize', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds']) {
      if (p[k] !== undefined) attributes[k] = String(phys.resolve(p[k]));
    }
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const got = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    phys.set(id, QueueUrl!, { Arn: got.Attributes!.QueueArn!, QueueName: name, QueueUrl: QueueUrl! });
  }
  for (const [id, r] of queues) {
    const p = r.Properties ?? {};
    const attributes: Record<string, string> = {};
    if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(phys.resolve(p.RedrivePolicy));
    if (p.RedriveAllowPolicy) attributes.RedriveAllowPolicy = JSON.stringify(phys.resolve(p.RedriveAllowPolicy));
    if (Object.keys(attributes).length) await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: phys.ref(id), Attributes: attributes }));
  }

  for (const [id, r] of of('AWS::S3::Bucket')) {
    const p = checkProperties(id, r);
    const name = typeof p.BucketName === 'string' ? p.BucketName : physicalName(stackName, id, 63).toLowerCase();
    await clients.s3.send(new CreateBucketCommand({ Bucket: name, ...(region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as 'eu-central-1' } } : {}) }));
    const versioning = p.VersioningConfiguration as { Status?: string } | undefined;
    if (versioning?.Status) await clients.s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: versioning.Status as 'Enabled' } }));
    phys.set(id, name, { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com`, RegionalDomainName: `${name}.s3.${region}.amazonaws.com` });
  }

  for (const [id, r] of of('AWS::StepFunctions::StateMachine')) {
    const p = checkProperties(id, r);
    const name = typeof p.StateMachineName === 'string' ? p.StateMachineName : physicalName(stackName, id, 80).replace(/^[^-]+-/, '');
    const definition = phys.resolveString(p.DefinitionString);
    const { stateMachineArn } = await clients.sfn.send(new CreateStateMachineCommand({
      name, definition, roleArn: phys.resolveString(p.RoleArn), type: (p.StateMachineType as 'STANDARD' | undefined) ?? 'STANDARD',
    }));
    phys.set(id, stateMachineArn!, { Arn: stateMachineArn!, Name: name });
  }
  return phys;
}
