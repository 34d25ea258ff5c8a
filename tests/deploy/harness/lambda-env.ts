/**
 * A function's environment as Lambda builds it: the template's `Environment.Variables` with every
 * `Ref`/`Fn::GetAtt` resolved to the emulated resources (queue URLs from moto, the table's name,
 * state machine ARNs, bucket names), plus the variables the runtime defines
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
 * and, in place of the execution role's credentials, placeholder keys with `AWS_ENDPOINT_URL_<SERVICE>`
 * pointing at the emulators (honoured by the AWS SDK v3 with no code change,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). Nothing of the test
 * process's own environment leaks in.
 */
import type { FunctionResource } from '../support/assembly.js';
import type { PhysicalResources } from './resources.js';

export interface Endpoints {
  /** moto_server, for SQS, SES, S3, Step Functions, SNS. */
  readonly moto: string;
  /** SSM (moto, or a fault-injecting proxy in front of it). */
  readonly ssm: string;
  readonly dynamodb: string;
}

/**
 * The placeholder credentials of every function and of the test's own clients. Alphanumeric: DynamoDB
 * Local refuses other key ids, and keeps one database per key id and region (no -sharedDb), so the
 * test must use the functions' key to see their table.
 */
export const CREDENTIALS = { accessKeyId: 'ASIADEPLOYMENTTEST00', secretAccessKey: 'deploymentTestSecretAccessKey', sessionToken: 'deploymentTestSessionToken' } as const;

export function lambdaEnvironment(fn: FunctionResource, phys: PhysicalResources, opts: { region: string; endpoints: Endpoints; taskRoot: string }): Record<string, string> {
  const name = phys.ref(fn.logicalId);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(fn.environment)) env[k] = phys.resolveString(v);
  const reserved: Record<string, string> = {
    _HANDLER: fn.handler,
    AWS_REGION: opts.region,
    AWS_DEFAULT_REGION: opts.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]0123456789abcdef0123456789abcdef`,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    LAMBDA_TASK_ROOT: opts.taskRoot,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    // Not in Lambda: the emulators, and silence for the SDK's Node 20 notice (this machine runs
    // Node 20; the functions deploy on nodejs22.x).
    AWS_ENDPOINT_URL_SQS: opts.endpoints.moto,
    AWS_ENDPOINT_URL_SES: opts.endpoints.moto,
    AWS_ENDPOINT_URL_SESV2: opts.endpoints.moto,
    AWS_ENDPOINT_URL_S3: opts.endpoints.moto,
    AWS_ENDPOINT_URL_SFN: opts.endpoints.moto,
    AWS_ENDPOINT_URL_SNS: opts.endpoints.moto,
    AWS_ENDPOINT_URL_SSM: opts.endpoints.ssm,
    AWS_ENDPOINT_URL_DYNAMODB: opts.endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: opts.endpoints.dynamodb,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return { ...env, ...reserved };
}
