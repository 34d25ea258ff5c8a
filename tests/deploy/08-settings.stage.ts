/**
 * Stage 8 — the settings every function reads at its first invocation, against moto's SSM with
 * signatures checked (tests/deploy/harness/moto-ssm.ts) behind the SSM fault proxy of stage 7:
 * - functions/runtime/ssm-parameters.ts, which speaks GetParameters itself (signed by the SDK's
 *   SigV4 signer) instead of carrying the SSM client in every bundle: what it signs is what SSM
 *   accepts, ten names per call, a name SSM does not know left out, throttling retried, then
 *   refused with its evidence and never a value;
 * - the deployed entry points (functions/runtime/aws.ts, platform.ts): by name, exactly the
 *   parameters the function's `CONFLUO_SECRET_NAMES` lists (its role may read no others), a
 *   missing one leaving its setting unset, and a read SSM throttled retried by the next
 *   invocation instead of breaking the execution environment until it is recycled.
 * A stage of the deployment test because moto is Python: `npm test` needs only Node and Java.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler as ingest } from '../../functions/handlers/ingest.js';
import { awsSettings } from '../../functions/runtime/aws.js';
import { getParametersByName, SsmParametersError } from '../../functions/runtime/ssm-parameters.js';
import { startSsmFaults, type SsmFaults } from './harness/ssm-faults.js';
import { startMotoSsm, type MotoSsm } from './harness/moto-ssm.js';

const SSM_PATH = '/confluo/ssm-test/';
const instant = async () => {};

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

// SSM is moto's, checking signatures (harness/moto-ssm.ts), behind the deployment test's
// fault proxy, which throttles every settings read while armed (as SSM does past its rate limit).

describe('stage 8: settings read from SSM (moto, signatures checked)', () => {
  describe('SSM parameters without the SSM client', () => {
    let ssm: MotoSsm;
    let faults: SsmFaults;
    beforeAll(async () => {
      ssm = await startMotoSsm();
      faults = await startSsmFaults(ssm.endpoint, { keepHost: true });
      await ssm.put(`${SSM_PATH}TELEGRAM_SECRET_TOKEN`, 'tg-secret-value-1');
      await ssm.put(`${SSM_PATH}EMAIL_FROM`, 'support@acme.example', 'String');
      for (let i = 0; i < 20; i++) await ssm.put(`${SSM_PATH}MANY_${String(i).padStart(2, '0')}`, `value-${i}`);
    }, 60_000);
    afterEach(() => faults.disarm());
    afterAll(async () => { await faults?.stop(); await ssm?.stop(); });

    const through = () => ({ ...ssm.env, AWS_ENDPOINT_URL_SSM: faults.endpoint });

    it('reads the values by name, SecureString decrypted, and leaves out a name SSM does not know', async () => {
      const read = await getParametersByName([`${SSM_PATH}TELEGRAM_SECRET_TOKEN`, `${SSM_PATH}EMAIL_FROM`, `${SSM_PATH}NOT_STORED`], { env: ssm.env });
      expect(read).toEqual({ [`${SSM_PATH}TELEGRAM_SECRET_TOKEN`]: 'tg-secret-value-1', [`${SSM_PATH}EMAIL_FROM`]: 'support@acme.example' });
    });

    it('asks for ten names per call, with decryption', async () => {
      const names = [...Array.from({ length: 20 }, (_, i) => `${SSM_PATH}MANY_${String(i).padStart(2, '0')}`), `${SSM_PATH}TELEGRAM_SECRET_TOKEN`, `${SSM_PATH}NOT_STORED`];
      const before = faults.reads.length;
      const read = await getParametersByName(names, { env: through() });
      expect(Object.keys(read).sort()).toEqual(names.filter((n) => !n.endsWith('NOT_STORED')).sort());
      expect(read[`${SSM_PATH}MANY_07`]).toBe('value-7');
      const calls = faults.reads.slice(before);
      expect(calls.map((c) => c.target)).toEqual(['AmazonSSM.GetParameters', 'AmazonSSM.GetParameters', 'AmazonSSM.GetParameters']);
      expect(calls.map((c) => (c.body as { Names: string[] }).Names.length)).toEqual([10, 10, 2]);
      expect(calls.every((c) => (c.body as { WithDecryption: boolean }).WithDecryption === true)).toBe(true);
    });

    it('is refused by SSM when signed with another key: the status, never a value', async () => {
      const error = await getParametersByName([`${SSM_PATH}TELEGRAM_SECRET_TOKEN`], { env: { ...ssm.env, AWS_SECRET_ACCESS_KEY: 'not-the-key' }, sleep: instant }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SsmParametersError);
      expect((error as Error).message).toBe('ssm-parameters: GetParameters failed after 1 attempt(s)');
      expect((error as Error).cause).toMatchObject({ stage: 'answer', status: 403, attempts: 1 });
      expect(JSON.stringify({ message: (error as Error).message, cause: (error as Error).cause })).not.toContain('tg-secret-value-1');
    });

    it('retries a throttled read and returns what the retry read', async () => {
      faults.arm();
      const throttledBefore = faults.throttled;
      const read = await getParametersByName([`${SSM_PATH}TELEGRAM_SECRET_TOKEN`], { env: through(), sleep: async () => faults.disarm() });
      expect(faults.throttled - throttledBefore).toBe(1);
      expect(read).toEqual({ [`${SSM_PATH}TELEGRAM_SECRET_TOKEN`]: 'tg-secret-value-1' });
    });

    it('gives up after three throttled attempts with SSM\'s error type and request id', async () => {
      faults.arm();
      const throttledBefore = faults.throttled;
      const error = await getParametersByName([`${SSM_PATH}TELEGRAM_SECRET_TOKEN`], { env: through(), sleep: instant }).catch((e: unknown) => e);
      expect(faults.throttled - throttledBefore).toBe(3);
      expect(error).toBeInstanceOf(SsmParametersError);
      expect((error as Error).cause).toEqual({ stage: 'answer', status: 400, type: 'ThrottlingException', requestId: expect.stringMatching(/^throttle-/), attempts: 3 });
    });

    it('refuses to start without a region or credentials in the environment', async () => {
      const { AWS_REGION: _r, ...noRegion } = ssm.env;
      await expect(getParametersByName(['/x'], { env: noRegion })).rejects.toThrow('ssm-parameters: no AWS_REGION in the environment');
      const { AWS_SECRET_ACCESS_KEY: _k, ...noKey } = ssm.env;
      await expect(getParametersByName(['/x'], { env: noKey })).rejects.toThrow(/no credentials in the environment/);
    });
  });

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
});
