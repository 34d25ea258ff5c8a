/**
 * Settings on the AWS platform (functions/runtime/aws.ts `awsSettings`): the public test secrets
 * of local/sample-settings.ts are refused there — outside the local runtime they are published
 * credentials — naming the settings, never their values; and a web-chat secret shorter than an
 * HMAC-SHA256 key is refused everywhere (config validation).
 */
import { describe, expect, it } from 'vitest';
import { awsSettings } from '../../functions/runtime/aws.js';
import { ConfigError, loadConfig, TEST_SECRETS } from '../../functions/runtime/config.js';
import { SAMPLE_SETTINGS } from '../../local/sample-settings.js';

const own = { TELEGRAM_SECRET_TOKEN: 'a-secret-of-our-own-0123456789', WEBCHAT_SECRET: 'k'.repeat(32) };

describe('AWS settings', () => {
  it('refuses every public test secret, naming it and never its value', async () => {
    for (const [name, value] of Object.entries(TEST_SECRETS)) {
      const error = await awsSettings({ ...own, [name]: value }).then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain(value);
    }
  });

  it('refuses the whole sample settings the local runtime starts with (--sample-secrets)', async () => {
    await expect(awsSettings({ ...SAMPLE_SETTINGS })).rejects.toThrow(/TELEGRAM_SECRET_TOKEN.*public test secret/);
  });

  it('accepts secrets of its own', async () => {
    await expect(awsSettings({ ...own })).resolves.toMatchObject({ TELEGRAM_SECRET_TOKEN: own.TELEGRAM_SECRET_TOKEN });
  });

  it('refuses a WEBCHAT_SECRET under 32 bytes, anywhere', () => {
    expect(() => loadConfig({ WEBCHAT_SECRET: 'short-webchat-secret-31-bytes-xx'.slice(0, 31) })).toThrow(/WEBCHAT_SECRET: must be at least 32 bytes/);
    expect(loadConfig({ WEBCHAT_SECRET: 'ü'.repeat(16) }).WEBCHAT_SECRET).toBe('ü'.repeat(16)); // 32 bytes in UTF-8
  });
});
