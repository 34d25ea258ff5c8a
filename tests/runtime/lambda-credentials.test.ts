/**
 * The credential provider bundles use in place of the SDK's default chain
 * (functions/runtime/lambda-credentials.ts): Lambda's environment keys, and the SDK's own error
 * when they are missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../functions/runtime/lambda-credentials.js';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
afterEach(() => { for (const k of KEYS) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; });

describe('lambda credentials', () => {
  it('answers with the execution role keys Lambda puts in the environment', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
    process.env.AWS_SESSION_TOKEN = 'session-example';
    await expect(defaultProvider({})()).resolves.toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret-example', sessionToken: 'session-example' });
  });

  it('fails with the SDK\'s CredentialsProviderError when the environment has no keys', async () => {
    for (const k of KEYS) delete process.env[k];
    await expect(defaultProvider({})()).rejects.toMatchObject({ name: 'CredentialsProviderError' });
  });
});
