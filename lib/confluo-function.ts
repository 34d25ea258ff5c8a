/**
 * The one way Confluo defines a Lambda function: Node 22 on arm64, esbuild-bundled ESM, X-Ray
 * tracing, an explicit log group with retention, and `bind…()` helpers that set an environment
 * variable *and* grant the matching permission in one call (style-anchors §3 item 13).
 *
 * Only settings declared in `functions/runtime/config.ts` may be put in the environment under one
 * of Confluo's namespaces (`CONFLUO_`, `EMAIL_`, …): the handlers reject unknown keys at cold start.
 * Channel secrets are never environment variables of the template; `bindSecrets()` lets the
 * function read the ones it needs (lib/ssm-settings.ts) from SSM Parameter Store at cold start.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArnFormat, type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SSM_SETTINGS } from './ssm-settings.js';

/** The Lambda entry points under `functions/handlers/`; each exports `handler`. */
export type HandlerName = 'ingest' | 'process' | 'dispatch' | 'send' | 'agent-api' | 'sla-evaluate' | 'survey-step' | 'export' | 'webchat-api' | 'survey-link' | 'media' | 'voice-lookup' | 'voice-events' | 'help-api' | 'orders-webhook' | 'orders-pull' | 'assignment-offline';

/** The settings of `functions/runtime/config.ts` that hold a queue URL. */
export type QueueSetting = 'CONFLUO_INBOUND_QUEUE_URL' | 'CONFLUO_INBOUND_DLQ_URL' | 'CONFLUO_OUTBOUND_QUEUE_URL' | 'CONFLUO_MEDIA_QUEUE_URL';

/**
 * CloudFormation metadata key naming the handler file of each function resource
 * (`Metadata: { 'confluo:handler': 'ingest' }`): the local runtime and the deployment test find
 * which `functions/handlers/<name>.ts` export a template's function runs by it.
 */
export const HANDLER_METADATA_KEY = 'confluo:handler';

/** Service name every function logs and emits metrics under (Powertools `service` dimension). */
export const SERVICE_NAME = 'confluo';
/** CloudWatch namespace of Confluo's custom metrics (Powertools `POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = 'Confluo';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a handler's source file. */
export function handlerEntry(name: HandlerName): string {
  return fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));
}

export interface ConfluoFunctionProps {
  /** The file under `functions/handlers/` (without `.ts`) whose `handler` export is invoked. */
  readonly handlerName: HandlerName;

  /**
   * What the function does, shown in the Lambda console.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * How long one invocation may run.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * Memory in MiB; CPU share grows with it.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * How long the function's log group keeps log events.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;

  /**
   * What happens to the log group when the stack is deleted or the function replaced.
   *
   * @default RemovalPolicy.RETAIN - logs outlive the stack (they hold no personal data: the
   * logger redacts it)
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * Extra environment variables. Names in Confluo's namespaces must be declared in
   * `functions/runtime/config.ts`; never put a secret here.
   *
   * @default - only the variables set by ConfluoFunction and its bind…() helpers
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * Packages installed beside the bundle instead of bundled (native modules; npm installs them
   * for the Lambda platform, see `LAMBDA_NPM_PLATFORM`), and commands run around bundling.
   *
   * @default - everything is bundled, the AWS SDK included
   */
  readonly bundling?: Pick<BundlingOptions, 'nodeModules' | 'commandHooks'>;
}

/**
 * npm's platform settings for packages installed beside a bundle (`nodeModules`): the Lambda
 * platform (Linux, arm64, glibc — Amazon Linux 2023 under nodejs22.x), not the build machine's.
 * npm then installs only the optional dependencies whose `os`/`cpu`/`libc` match, e.g. DuckDB's
 * `@duckdb/node-bindings-linux-arm64` and not the x64 or musl binary beside it
 * (https://docs.npmjs.com/cli/v11/using-npm/config#cpu; `libc` needs npm ≥ 10.3, which Node
 * 20.19+ ships). The versions stay the lockfile's, since CDK installs them with `npm ci`.
 */
export const LAMBDA_NPM_PLATFORM: Readonly<Record<string, string>> = { npm_config_os: 'linux', npm_config_cpu: 'arm64', npm_config_libc: 'glibc' };

/** The bundle-time replacement of the SDK's default credential chain (`confluoBundling`). */
export const CREDENTIALS_ALIAS = { from: '@aws-sdk/credential-provider-node', to: './functions/runtime/lambda-credentials.ts' } as const;

/**
 * The esbuild/NodejsFunction bundling options of every Confluo function.
 *
 * The AWS SDK is bundled (no `externalModules`): production then runs the `@aws-sdk/*` and
 * `@smithy/*` versions of package-lock.json that the tests ran, not whatever SDK the Lambda
 * runtime ships that month (with `@aws-sdk/*` external, the bundled `@smithy/*` core of one
 * version even ran against the runtime's SDK clients of another). Measured on this project's ten
 * real bundles (`cdk synth` both ways, 2026-12): index.mjs grows from 0.53–1.98 MB to
 * 0.95–2.55 MB (zipped 0.12–0.63 → 0.24–0.79 MB), far below Lambda's 50 MB zip limit; importing
 * a bundle in Node (median of 11, with --enable-source-maps as deployed) took 169–717 ms bundled
 * against 558–1127 ms with the SDK loaded from node_modules as the runtime loads its own — one
 * file instead of hundreds of CommonJS modules to resolve, so bundling also shortens INIT.
 */
export function confluoBundling(extra: ConfluoFunctionProps['bundling'] = {}): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    // Some CommonJS dependencies call require(); an ESM bundle has none unless we make one.
    banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
    mainFields: ['module', 'main'],
    minify: true,
    sourceMap: true,
    // DEFAULT (linked): the bundle ends with `//# sourceMappingURL=index.mjs.map`. Node's
    // --enable-source-maps (set below) only follows that comment; with EXTERNAL the map shipped
    // unused and deployed stack traces pointed into the minified bundle.
    sourceMapMode: SourceMapMode.DEFAULT,
    // Nothing is external: the SDK comes from the lockfile (above). Only `nodeModules` (native
    // modules) stay outside the bundle; NodejsFunction makes them external itself.
    externalModules: [],
    bundleAwsSDK: true,
    // Every SDK client's default credential chain is the environment alone in Lambda: the other
    // links (SSO, ini files, STS, instance metadata...) are ~140 KB per bundle that never run
    // (functions/runtime/lambda-credentials.ts). esbuild resolves an alias's path from its working
    // directory, the project root (local bundling; esbuild is a devDependency).
    esbuildArgs: { '--alias': `${CREDENTIALS_ALIAS.from}=${CREDENTIALS_ALIAS.to}` },
    environment: { ...LAMBDA_NPM_PLATFORM },
    ...extra,
  };
}

/**
 * A Node 22 / arm64 / ESM function built from `functions/handlers/<handlerName>.ts`.
 *
 * Binding helpers set the variable the handler's config reads and grant exactly the access it
 * needs: `bindTable`, `bindQueue`, `bindSecrets`.
 */
export class ConfluoFunction extends NodejsFunction {
  /** The handler file this function runs (`functions/handlers/<handlerName>.ts`). */
  public readonly handlerName: HandlerName;

  constructor(scope: Construct, id: string, props: ConfluoFunctionProps) {
    // An explicit log group (the `logGroup` getter returns it), so retention is set without the
    // LogRetention custom resource.
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    super(scope, id, {
      entry: resolveEntry(scope, props.handlerName),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      description: props.description,
      // nodejs22.x is the newest runtime the project is verified on (toolchain.md).
      runtime: Runtime.NODEJS_22_X,
      // Graviton: ~20 % cheaper per GB-second. Native modules installed beside a bundle (DuckDB of
      // the export function) must be linux-arm64 builds: LAMBDA_NPM_PLATFORM.
      architecture: Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 256,
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Stack traces point at the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: confluoBundling(props.bundling),
    });

    this.handlerName = props.handlerName;
    (this.node.defaultChild as CfnResource).addMetadata(HANDLER_METADATA_KEY, props.handlerName);

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-L1',
        reason: 'nodejs22.x is the newest Lambda runtime Confluo is verified on (toolchain.md); nodejs24.x is adopted together with the local toolchain, not silently by cdk-nag.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'AWSLambdaBasicExecutionRole is the AWS baseline for a function to write its own CloudWatch logs (logs:CreateLogStream/PutLogEvents); nothing else is granted through managed policies.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which do not support resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).',
      },
    );
  }

  /**
   * Let the function read and write the single table: sets `CONFLUO_TABLE_NAME` and grants
   * item and index read/write access.
   */
  bindTable(store: { readonly table: ITable }): this {
    this.addEnvironment('CONFLUO_TABLE_NAME', store.table.tableName);
    store.table.grantReadWriteData(this);
    acknowledgeIndexWildcard(this, store.table);
    return this;
  }

  /** Let the function send to a queue: sets `envName` to the queue URL and grants send. */
  bindQueue(envName: QueueSetting, queue: IQueue): this {
    this.addEnvironment(envName, queue.queueUrl);
    queue.grantSendMessages(this);
    return this;
  }

  /**
   * Let the function that consumes `queue` delay a received message's next attempt (SQS
   * `ChangeMessageVisibility`: backoff): sets `envName` to the queue URL the call needs, grants
   * that action, and says how many receives the queue's redrive policy allows
   * (`maxReceiveCountEnv`), so the last attempt knows it is the last. (A consumer through an
   * `SqsEventSource` holds the action already, with the rest of `grantConsumeMessages`; granting
   * it here keeps the function right should it consume the queue otherwise.)
   */
  bindQueueBackoff(envName: QueueSetting, queue: IQueue, maxReceiveCountEnv: 'CONFLUO_OUTBOUND_MAX_RECEIVE_COUNT', maxReceiveCount: number): this {
    this.addEnvironment(envName, queue.queueUrl);
    this.addEnvironment(maxReceiveCountEnv, String(maxReceiveCount));
    queue.grant(this, 'sqs:ChangeMessageVisibility');
    return this;
  }

  /**
   * Let the function read the settings it needs from the (SecureString) SSM parameters under
   * `secretsPath` — exactly those `lib/ssm-settings.ts` lists for its handler, no other: sets
   * `CONFLUO_SECRETS_PATH` and `CONFLUO_SECRET_NAMES`, grants `ssm:GetParameters` /
   * `ssm:GetParameter` on those parameters' ARNs (no wildcard: a public function cannot read
   * another function's tokens), and `kms:Decrypt` restricted to the AWS managed `aws/ssm` key
   * used through SSM. A parameter that does not exist is granted all the same: channels are
   * enabled by storing their parameters, after the deployment.
   */
  bindSecrets(secretsPath: string): this {
    assertSecretsPath(secretsPath);
    const names = (SSM_SETTINGS as Partial<Record<HandlerName, readonly string[]>>)[this.handlerName];
    if (!names?.length) throw new Error(`bindSecrets: handler '${this.handlerName}' reads no SSM settings (lib/ssm-settings.ts lists who reads what)`);
    const stack = Stack.of(this);
    const pathName = secretsPath.slice(1, -1); // '/confluo/prod/' → 'confluo/prod'
    const parameterArn = (resourceName: string) =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    this.addEnvironment('CONFLUO_SECRETS_PATH', secretsPath);
    this.addEnvironment('CONFLUO_SECRET_NAMES', names.join(','));
    this.addToRolePolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      // GetParameters reads up to 10 names per call (awsSettings); GetParameter for one.
      actions: ['ssm:GetParameters', 'ssm:GetParameter'],
      resources: names.map((n) => parameterArn(`${pathName}/${n}`)),
    }));
    // SecureString parameters encrypted with the AWS managed key aws/ssm; the key id differs per
    // account, so the key is matched by alias and by being used through SSM
    // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases).
    this.addToRolePolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['kms:Decrypt'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
      conditions: {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/aws/ssm' },
        StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com` },
      },
    }));
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      reason: 'The AWS managed aws/ssm key has an account-specific id unknown at synth time; kms:Decrypt is limited by the kms:ResourceAliases = alias/aws/ssm and kms:ViaService = ssm conditions.',
    });
    return this;
  }

  /**
   * Let the function send raw MIME e-mail through SES (`ses:SendRawEmail`; raw because replies
   * keep their threading headers and alerts are built the same way), on identities of this
   * account and region.
   */
  allowSendRawEmail(): this {
    const stack = Stack.of(this);
    this.addToRolePolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['ses:SendRawEmail'],
      resources: [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    }));
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
      reason: 'SES authorises SendRawEmail against the verified identity (address or domain) the operator chooses for EMAIL_FROM, and against recipient identities in the sandbox; these are unknown at synth time, so access is limited to identities of this account and region.',
    });
    return this;
  }
}

/** A secrets path is an absolute SSM hierarchy ending in '/', e.g. `/confluo/prod/`. */
export function assertSecretsPath(secretsPath: string): void {
  if (!/^\/[A-Za-z0-9_.\-]+(\/[A-Za-z0-9_.\-]+)*\/$/.test(secretsPath)) {
    throw new Error(`secretsPath must be an SSM path that starts and ends with '/', such as '/confluo/prod/', got '${secretsPath}'`);
  }
}

/**
 * The handler's source file. Unit tests synthesise with bundling skipped
 * (`aws:cdk:bundling-stacks: []`), where the entry is never read; they must not depend on the
 * handlers already existing, so a missing entry then falls back to this file.
 */
function resolveEntry(scope: Construct, name: HandlerName): string {
  const entry = handlerEntry(name);
  if (existsSync(entry) || Stack.of(scope).bundlingRequired) return entry;
  return fileURLToPath(import.meta.url);
}

function acknowledgeIndexWildcard(fn: ConfluoFunction, table: ITable): void {
  const cfn = table.node.defaultChild;
  if (!cfn || !('logicalId' in cfn)) return;
  const logicalId = Stack.of(table).resolve((cfn as { logicalId: string }).logicalId) as string;
  Validations.of(fn).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
    reason: 'Queries go through the table\'s GSIs (gsi1 inbox, gsi2 by status, gsi3 by customer); grantReadWriteData grants <table>/index/* for them, all within the one Confluo table.',
  });
}
