/**
 * SSM Parameter Store as moto emulates it, checking signatures as AWS does: moto's IAM
 * authentication is on (`INITIAL_NO_AUTH_ACTION_COUNT`: the first four requests, which create a
 * user, its access key and its policy, go unchecked; every later one must be SigV4-signed with
 * that key and allowed by the policy: https://docs.getmoto.org/en/latest/docs/iam.html). So a
 * request signed wrongly (or with the wrong key) is refused with 403 like SSM would refuse it.
 *
 * For functions/runtime/ssm-parameters.ts, which signs its own requests.
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startMoto, type MotoServer } from './moto.js';
import { INSTALL_HINT } from '../support/tools.js';

export const MOTO_SSM_REGION = 'eu-central-1';

export interface MotoSsm {
  readonly endpoint: string;
  /** The user's key in the environment variables Lambda gives a function, with region and endpoint. */
  readonly env: Readonly<Record<string, string>>;
  put(name: string, value: string, type?: 'String' | 'SecureString'): Promise<void>;
  stop(): Promise<void>;
}

const UNCHECKED_SETUP_REQUESTS = 4;

/**
 * IAM's query API, unsigned (only for the unchecked setup requests). The Authorization header is
 * there for its credential scope alone: moto's single server tells the services apart by it
 * (`…/us-east-1/iam/aws4_request`), and the signature is not checked yet.
 */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0` },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto-ssm: IAM ${params.Action} answered ${res.status}`);
  return text;
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';

export async function startMotoSsm(): Promise<MotoSsm> {
  const moto: MotoServer = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: String(UNCHECKED_SETUP_REQUESTS) } }).catch((e: unknown) => {
    throw new Error(`moto-ssm: moto_server did not start (README "Quick start": ${INSTALL_HINT})`, { cause: e });
  });
  try {
    await iam(moto.endpoint, { Action: 'CreateUser', UserName: 'confluo-function' });
    const key = await iam(moto.endpoint, { Action: 'CreateAccessKey', UserName: 'confluo-function' });
    const policy = await iam(moto.endpoint, {
      Action: 'CreatePolicy', PolicyName: 'confluo-settings',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameters', 'ssm:PutParameter'], Resource: '*' }] }),
    });
    await iam(moto.endpoint, { Action: 'AttachUserPolicy', UserName: 'confluo-function', PolicyArn: tag(policy, 'Arn') });
    const credentials = { accessKeyId: tag(key, 'AccessKeyId'), secretAccessKey: tag(key, 'SecretAccessKey') };
    const ssm = new SSMClient({ endpoint: moto.endpoint, region: MOTO_SSM_REGION, credentials });
    return {
      endpoint: moto.endpoint,
      env: { AWS_REGION: MOTO_SSM_REGION, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_ENDPOINT_URL_SSM: moto.endpoint },
      async put(name, value, type = 'SecureString') { await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true })); },
      async stop() { ssm.destroy(); await moto.stop(); },
    };
  } catch (e) {
    await moto.stop();
    throw e;
  }
}
