/**
 * The deployed entry points on the AWS platform (functions/runtime/aws.ts, platform.ts): settings
 * read from SSM at the first invocation — by name, exactly the parameters the function's
 * `CONFLUO_SECRET_NAMES` lists (its role may read no others), a missing one leaving its setting
 * unset — and a failed read (SSM throttles a burst of cold starts) retried by the next invocation
 * instead of breaking the execution environment until it is recycled.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { awsSettings } from '../../functions/runtime/aws.js';
import { lambdaHandler, runOn, type Platform } from '../../functions/runtime/platform.js';
import { startSsmFaults, type SsmFaults } from '../deploy/harness/ssm-faults.js';
import { startMotoSsm, type MotoSsm } from '../helpers/moto-ssm.js';

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

type Read = { readonly target: string; readonly body: { readonly Names: string[]; readonly WithDecryption?: boolean } };

// SSM is moto's, checking signatures (tests/helpers/moto-ssm.ts), behind the deployment test's
// fault proxy, which throttles every settings read while armed (as SSM does past its rate limit).
describe('lambda entry points on AWS', () => {
  let ssm: MotoSsm;
  let faults: SsmFaults;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    ssm = await startMotoSsm();
    faults = await startSsmFaults(ssm.endpoint, { keepHost: true });
    for (const [k, v] of Object.entries({ ...ENV, ...ssm.env, AWS_ENDPOINT_URL_SSM: faults.endpoint })) { saved[k] = process.env[k]; process.env[k] = v; }
  }, 60_000);
  afterEach(() => faults.disarm());
  afterAll(async () => {
    for (const k of Object.keys(saved)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
    await faults?.stop();
    await ssm?.stop();
  });
  const readsSince = (n: number) => faults.reads.slice(n) as unknown as Read[];

  it('answers the next invocation after SSM throttled the first one\'s settings read', async () => {
    await ssm.put(`${PATH}TELEGRAM_SECRET_TOKEN`, 'deployed-secret-123');
    // Throttled longer than the retries of one read: the first invocation fails.
    const before = faults.reads.length;
    faults.arm();
    await expect(ingest(healthz())).rejects.toThrow(/GetParameters failed after 3 attempt/);
    expect(faults.throttled).toBe(3);

    faults.disarm();
    const res = await ingest(healthz()) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    expect(readsSince(before).map((r) => r.body.WithDecryption)).toEqual([true, true, true, true]);

    // Built once: later invocations reuse the settings.
    await ingest(healthz());
    expect(faults.passed).toBe(1);
  });

  it('reads exactly the parameters CONFLUO_SECRET_NAMES lists, by name, ten per call; a parameter not stored leaves its setting unset', async () => {
    const path = '/confluo/platform-test-names/';
    const names = ['CONFLUO_SURVEY_LINK_SECRET', 'EMAIL_FROM', 'META_APP_SECRET', 'META_VERIFY_TOKEN', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_SECRET_TOKEN', 'TWILIO_AUTH_TOKEN', 'VIBER_AUTH_TOKEN', 'VK_ACCESS_TOKEN', 'VK_SECRET', 'WEBCHAT_SECRET'];
    const stored: Record<string, string> = { TELEGRAM_SECRET_TOKEN: 'tg-secret-1', WEBCHAT_SECRET: 'w'.repeat(40), EMAIL_FROM: 'support@acme.example' };
    for (const [n, v] of Object.entries(stored)) await ssm.put(`${path}${n}`, v, n === 'EMAIL_FROM' ? 'String' : 'SecureString');
    const before = faults.reads.length;
    const config = await awsSettings({ ...ssm.env, AWS_ENDPOINT_URL_SSM: faults.endpoint, CONFLUO_SECRETS_PATH: path, CONFLUO_SECRET_NAMES: names.join(',') });
    expect(config).toMatchObject(stored);
    expect(config.TWILIO_AUTH_TOKEN).toBeUndefined();
    const asked = readsSince(before);
    expect(asked.map((r) => r.target)).toEqual(['AmazonSSM.GetParameters', 'AmazonSSM.GetParameters']);
    expect(asked.map((r) => r.body.Names.length).sort()).toEqual([1, 10]);
    expect(asked.flatMap((r) => r.body.Names).sort()).toEqual(names.map((n) => `${path}${n}`).sort());
  });

  it('refuses a secrets path without the names to read (a function bound by hand, not through bindSecrets)', async () => {
    const before = faults.reads.length;
    await expect(awsSettings({ ...ssm.env, CONFLUO_SECRETS_PATH: PATH })).rejects.toThrow(/CONFLUO_SECRET_NAMES/);
    expect(faults.reads.length).toBe(before);
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
