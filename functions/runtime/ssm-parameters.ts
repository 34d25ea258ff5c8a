/**
 * SSM Parameter Store `GetParameters`, the one SSM call Confluo makes (the settings at a cold
 * start, ./aws-settings.ts), without the SSM client. `@aws-sdk/client-ssm` brings the registry of
 * its ~140 error classes and the schema of every SSM operation into each function that reads a
 * parameter: 79 KB of the 485 KB ingest bundle, with Powertools' parameters provider 86 KB
 * (README "Entry points"). Here the call is signed by the SDK's own SigV4 signer
 * (`@smithy/signature-v4`, with the SDK's SHA-256; both are in every bundle already, for the SQS
 * and DynamoDB clients) and spoken in the AWS JSON 1.1 protocol SSM uses
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html,
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
 *
 * As the SDK would: credentials from the environment (what Lambda gives the execution role:
 * ./lambda-credentials.ts), region from `AWS_REGION`, endpoint `AWS_ENDPOINT_URL_SSM`, else
 * `AWS_ENDPOINT_URL`, else `https://ssm[-fips].<region>.<the partition's DNS suffix>`
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html); up to 3 attempts
 * for throttling, 5xx and network failures with jittered exponential backoff (the SDK's standard
 * retry mode: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). Any
 * other answer, or the last failed attempt, is an `SsmParametersError` naming the status, SSM's
 * error type and request id — never a parameter value.
 */
import { partition } from '@aws-sdk/core/client';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/** GetParameters takes at most 10 names per call. */
export const GET_PARAMETERS_MAX_NAMES = 10;
const MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
const TIMEOUT_MS = 5000;

export class SsmParametersError extends Error {
  override readonly name = 'SsmParametersError';
}

type Env = Readonly<Record<string, string | undefined>>;

export interface SsmReadOptions {
  /** Where credentials, region and endpoint come from (default: `process.env`). */
  readonly env?: Env;
  /** Decrypt SecureString parameters (default: true). */
  readonly decrypt?: boolean;
  /** Waits between attempts (tests make it instant). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The values of the parameters `names` (full names, e.g. `/confluo/prod/TELEGRAM_SECRET_TOKEN`)
 * SSM has, by name; a name SSM does not know (its `InvalidParameters`) is simply absent.
 */
export async function getParametersByName(names: readonly string[], opts: SsmReadOptions = {}): Promise<Record<string, string>> {
  const env = opts.env ?? process.env;
  const client = ssmCall(env, opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))));
  const values: Record<string, string> = {};
  for (let i = 0; i < names.length; i += GET_PARAMETERS_MAX_NAMES) {
    const answer = await client('GetParameters', { Names: names.slice(i, i + GET_PARAMETERS_MAX_NAMES), WithDecryption: opts.decrypt ?? true });
    for (const p of parametersOf(answer)) values[p.Name] = p.Value;
  }
  return values;
}

/** The `Parameters` of a GetParameters answer, checked to be what SSM documents. */
function parametersOf(answer: unknown): Array<{ Name: string; Value: string }> {
  const list = (answer as { Parameters?: unknown } | null)?.Parameters ?? [];
  if (!Array.isArray(list) || !list.every((p) => typeof p?.Name === 'string' && typeof p?.Value === 'string')) {
    throw new SsmParametersError('ssm-parameters: GetParameters answered an unexpected shape', { cause: { stage: 'answer' } });
  }
  return list as Array<{ Name: string; Value: string }>;
}

/** The endpoint the SDK would call for SSM in `region`. */
export function ssmEndpoint(env: Env, region: string): URL {
  const configured = env.AWS_ENDPOINT_URL_SSM ?? env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true' ? '-fips' : '';
  return new URL(`https://ssm${fips}.${region}.${partition(region).dnsSuffix}`);
}

function ssmCall(env: Env, sleep: (ms: number) => Promise<void>) {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!region) throw new SsmParametersError('ssm-parameters: no AWS_REGION in the environment', { cause: { stage: 'config' } });
  if (!accessKeyId || !secretAccessKey) throw new SsmParametersError('ssm-parameters: no credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)', { cause: { stage: 'config' } });
  const endpoint = ssmEndpoint(env, region);
  const signer = new SignatureV4({
    service: 'ssm', region, sha256: Sha256,
    credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
  });

  return async (operation: string, input: unknown): Promise<unknown> => {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      const signed = await signer.sign({
        method: 'POST', protocol: endpoint.protocol, hostname: endpoint.hostname, ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path: endpoint.pathname, query: {}, body,
        headers: { host: endpoint.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonSSM.${operation}` },
      });
      const outcome = await sendOnce(endpoint, signed.headers, body);
      if (outcome.ok) return outcome.answer;
      if (!outcome.retryable || attempt >= MAX_ATTEMPTS) {
        throw new SsmParametersError(`ssm-parameters: ${operation} failed after ${attempt} attempt(s)`, { cause: { ...outcome.cause, attempts: attempt } });
      }
      await sleep(Math.random() * BASE_DELAY_MS * 2 ** attempt);
    }
  };
}

type Outcome = { readonly ok: true; readonly answer: unknown } | { readonly ok: false; readonly retryable: boolean; readonly cause: Record<string, unknown> };

/** One signed request: SSM's answer, or why not and whether another attempt may succeed. */
async function sendOnce(endpoint: URL, headers: Record<string, string>, body: string): Promise<Outcome> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(endpoint, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await res.text();
  } catch (e) {
    return { ok: false, retryable: true, cause: { stage: 'network', error: (e as Error)?.name } };
  }
  if (res.ok) {
    try {
      return { ok: true, answer: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, retryable: true, cause: { stage: 'answer', status: res.status, type: 'not JSON' } };
    }
  }
  const type = errorTypeOf(text, res.headers.get('x-amzn-errortype'));
  const retryable = res.status >= 500 || /Throttling|TooManyRequests|RequestLimitExceeded/.test(type);
  return { ok: false, retryable, cause: { stage: 'answer', status: res.status, type, requestId: res.headers.get('x-amzn-requestid') } };
}

/**
 * SSM's error type: the body's `__type` or the `X-Amzn-ErrorType` header (e.g. `ThrottlingException`;
 * either may carry a namespace before `#` or a URL after `:`, https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization).
 */
function errorTypeOf(body: string, header: string | null): string {
  let type: unknown = header;
  try {
    type = (JSON.parse(body) as { __type?: unknown }).__type ?? header;
  } catch { /* not JSON: the header's, if any */ }
  if (typeof type !== 'string' || type === '') return 'unknown';
  const name = type.split(':')[0]!;
  return name.slice(name.lastIndexOf('#') + 1);
}
