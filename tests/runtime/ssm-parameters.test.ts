/**
 * The settings read without the SSM client (functions/runtime/ssm-parameters.ts), against moto's
 * SSM with signature checking on (tests/helpers/moto-ssm.ts): what it signs is what SSM accepts,
 * ten names per call, a name SSM does not know left out; throttling retried, then refused with
 * its evidence and never a value. Throttling is injected by the deployment test's SSM fault proxy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getParametersByName, ssmEndpoint, SsmParametersError } from '../../functions/runtime/ssm-parameters.js';
import { startSsmFaults, type SsmFaults } from '../deploy/harness/ssm-faults.js';
import { startMotoSsm, type MotoSsm } from '../helpers/moto-ssm.js';

const PATH = '/confluo/ssm-test/';
const instant = async () => {};

describe('SSM parameters without the SSM client', () => {
  let ssm: MotoSsm;
  let faults: SsmFaults;
  beforeAll(async () => {
    ssm = await startMotoSsm();
    faults = await startSsmFaults(ssm.endpoint, { keepHost: true });
    await ssm.put(`${PATH}TELEGRAM_SECRET_TOKEN`, 'tg-secret-value-1');
    await ssm.put(`${PATH}EMAIL_FROM`, 'support@acme.example', 'String');
    for (let i = 0; i < 20; i++) await ssm.put(`${PATH}MANY_${String(i).padStart(2, '0')}`, `value-${i}`);
  }, 60_000);
  afterEach(() => faults.disarm());
  afterAll(async () => { await faults?.stop(); await ssm?.stop(); });

  const through = () => ({ ...ssm.env, AWS_ENDPOINT_URL_SSM: faults.endpoint });

  it('reads the values by name, SecureString decrypted, and leaves out a name SSM does not know', async () => {
    const read = await getParametersByName([`${PATH}TELEGRAM_SECRET_TOKEN`, `${PATH}EMAIL_FROM`, `${PATH}NOT_STORED`], { env: ssm.env });
    expect(read).toEqual({ [`${PATH}TELEGRAM_SECRET_TOKEN`]: 'tg-secret-value-1', [`${PATH}EMAIL_FROM`]: 'support@acme.example' });
  });

  it('asks for ten names per call, with decryption', async () => {
    const names = [...Array.from({ length: 20 }, (_, i) => `${PATH}MANY_${String(i).padStart(2, '0')}`), `${PATH}TELEGRAM_SECRET_TOKEN`, `${PATH}NOT_STORED`];
    const before = faults.reads.length;
    const read = await getParametersByName(names, { env: through() });
    expect(Object.keys(read).sort()).toEqual(names.filter((n) => !n.endsWith('NOT_STORED')).sort());
    expect(read[`${PATH}MANY_07`]).toBe('value-7');
    const calls = faults.reads.slice(before);
    expect(calls.map((c) => c.target)).toEqual(['AmazonSSM.GetParameters', 'AmazonSSM.GetParameters', 'AmazonSSM.GetParameters']);
    expect(calls.map((c) => (c.body as { Names: string[] }).Names.length)).toEqual([10, 10, 2]);
    expect(calls.every((c) => (c.body as { WithDecryption: boolean }).WithDecryption === true)).toBe(true);
  });

  it('is refused by SSM when signed with another key: the status, never a value', async () => {
    const error = await getParametersByName([`${PATH}TELEGRAM_SECRET_TOKEN`], { env: { ...ssm.env, AWS_SECRET_ACCESS_KEY: 'not-the-key' }, sleep: instant }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsmParametersError);
    expect((error as Error).message).toBe('ssm-parameters: GetParameters failed after 1 attempt(s)');
    expect((error as Error).cause).toMatchObject({ stage: 'answer', status: 403, attempts: 1 });
    expect(JSON.stringify({ message: (error as Error).message, cause: (error as Error).cause })).not.toContain('tg-secret-value-1');
  });

  it('retries a throttled read and returns what the retry read', async () => {
    faults.arm();
    const throttledBefore = faults.throttled;
    const read = await getParametersByName([`${PATH}TELEGRAM_SECRET_TOKEN`], { env: through(), sleep: async () => faults.disarm() });
    expect(faults.throttled - throttledBefore).toBe(1);
    expect(read).toEqual({ [`${PATH}TELEGRAM_SECRET_TOKEN`]: 'tg-secret-value-1' });
  });

  it('gives up after three throttled attempts with SSM\'s error type and request id', async () => {
    faults.arm();
    const throttledBefore = faults.throttled;
    const error = await getParametersByName([`${PATH}TELEGRAM_SECRET_TOKEN`], { env: through(), sleep: instant }).catch((e: unknown) => e);
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

describe('the SSM endpoint', () => {
  it('is the one the SDK would call: configured, else the region\'s in its partition', () => {
    expect(ssmEndpoint({}, 'eu-central-1').href).toBe('https://ssm.eu-central-1.amazonaws.com/');
    expect(ssmEndpoint({}, 'cn-north-1').href).toBe('https://ssm.cn-north-1.amazonaws.com.cn/');
    expect(ssmEndpoint({ AWS_USE_FIPS_ENDPOINT: 'true' }, 'us-east-1').href).toBe('https://ssm-fips.us-east-1.amazonaws.com/');
    expect(ssmEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, 'us-east-1').href).toBe('http://127.0.0.1:4566/');
    expect(ssmEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:5000' }, 'us-east-1').href).toBe('http://127.0.0.1:5000/');
  });
});
