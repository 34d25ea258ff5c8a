/**
 * The deployed entry points on the AWS platform (functions/runtime/aws.ts, platform.ts): settings
 * read from SSM at the first invocation — by name, exactly the parameters the function's
 * `CONFLUO_SECRET_NAMES` lists (its role may read no others), a missing one leaving its setting
 * unset — and a failed read (SSM throttles a burst of cold starts) retried by the next invocation
 * instead of breaking the execution environment until it is recycled.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParametersByPathCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { awsSettings } from '../../functions/runtime/aws.js';
import { lambdaHandler, runOn, type Platform } from '../../functions/runtime/platform.js';

const PATH = '/confluo/platform-test/';
const ENV = { CONFLUO_SECRETS_PATH: PATH, CONFLUO_SECRET_NAMES: 'TELEGRAM_SECRET_TOKEN,WEBCHAT_SECRET', CONFLUO_INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/inbound.fifo' };

/** A GET /healthz as API Gateway hands it to the ingest function. */
const healthz = (): APIGatewayProxyEventV2 => ({
  version: '2.0', routeKey: 'GET /healthz', rawPath: '/healthz', rawQueryString: '', headers: { host: 'api.example' },
  requestContext: {
    accountId: '111122223333', apiId: 'api', domainName: 'api.example', domainPrefix: 'api', requestId: 'r1', routeKey: 'GET /healthz', stage: '$default',
    time: '06/Dec/2026:22:33:38 +0000', timeEpoch: 0, http: { method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'probe' },
  },
  isBase64Encoded: false,
});

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

describe('lambda entry points on AWS', () => {
  const ssm = mockClient(SSMClient);
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => { for (const [k, v] of Object.entries(ENV)) { saved[k] = process.env[k]; process.env[k] = v; } });
  afterEach(() => ssm.reset());
  afterAll(() => {
    ssm.restore();
    for (const k of Object.keys(ENV)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
  });

  it('answers the next invocation after SSM throttled the first one\'s settings read', async () => {
    // Throttled longer than the SDK's own retries of one call: the first invocation fails.
    ssm.on(GetParametersCommand).rejects(throttled());
    await expect(ingest(healthz())).rejects.toThrow();
    const failedCalls = ssm.commandCalls(GetParametersCommand).length;
    expect(failedCalls).toBeGreaterThan(0);

    ssm.reset();
    ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: `${PATH}TELEGRAM_SECRET_TOKEN`, Value: 'deployed-secret-123', Type: 'SecureString' }], InvalidParameters: [`${PATH}WEBCHAT_SECRET`] });
    const res = await ingest(healthz()) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    expect(ssm.commandCalls(GetParametersCommand)[0]!.args[0].input).toMatchObject({ WithDecryption: true });

    // Built once: later invocations reuse the settings.
    await ingest(healthz());
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
  });

  it('reads exactly the parameters CONFLUO_SECRET_NAMES lists, by name, ten per call; a parameter not stored leaves its setting unset', async () => {
    const names = ['CONFLUO_SURVEY_LINK_SECRET', 'EMAIL_FROM', 'META_APP_SECRET', 'META_VERIFY_TOKEN', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_SECRET_TOKEN', 'TWILIO_AUTH_TOKEN', 'VIBER_AUTH_TOKEN', 'VK_ACCESS_TOKEN', 'VK_SECRET', 'WEBCHAT_SECRET'];
    const stored: Record<string, string> = { TELEGRAM_SECRET_TOKEN: 'tg-secret-1', WEBCHAT_SECRET: 'w'.repeat(40), EMAIL_FROM: 'support@acme.example' };
    ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
      Parameters: input.Names.filter((n) => stored[n.slice(PATH.length)] !== undefined).map((n) => ({ Name: n, Value: stored[n.slice(PATH.length)], Type: 'SecureString' })),
      InvalidParameters: input.Names.filter((n) => stored[n.slice(PATH.length)] === undefined),
    }));
    const config = await awsSettings({ CONFLUO_SECRETS_PATH: PATH, CONFLUO_SECRET_NAMES: names.join(',') });
    expect(config).toMatchObject(stored);
    expect(config.TWILIO_AUTH_TOKEN).toBeUndefined();
    const asked = ssm.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names ?? []);
    expect(asked.map((n) => n.length).sort()).toEqual([1, 10]);
    expect(asked.flat().sort()).toEqual(names.map((n) => `${PATH}${n}`).sort());
    expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(0);
  });

  it('refuses a secrets path without the names to read (a function bound by hand, not through bindSecrets)', async () => {
    await expect(awsSettings({ CONFLUO_SECRETS_PATH: PATH })).rejects.toThrow(/CONFLUO_SECRET_NAMES/);
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(0);
  });
});

describe('lambdaHandler', () => {
  const platform = (name: string) => ({ name } as Platform);

  it('builds once per platform and keeps a successful build', async () => {
    let builds = 0;
    const h = lambdaHandler(async (p) => { builds += 1; return async (e: number) => `${p.name}:${e}`; });
    const a = platform('a');
    expect(await runOn(a, () => h(1))).toBe('a:1');
    expect(await runOn(a, () => h(2))).toBe('a:2');
    expect(builds).toBe(1);
    expect(await runOn(platform('b'), () => h(3))).toBe('b:3');
    expect(builds).toBe(2);
  });

  it('forgets a failed build, so the next invocation builds again', async () => {
    let builds = 0;
    const h = lambdaHandler(async () => {
      builds += 1;
      if (builds === 1) throw new Error('settings unavailable');
      return async (e: number) => e * 2;
    });
    const p = platform('p');
    await expect(runOn(p, () => h(1))).rejects.toThrow('settings unavailable');
    expect(await runOn(p, () => h(21))).toBe(42);
    expect(builds).toBe(2);
  });
});
