/**
 * The local Lambda service (local/lambdas.ts) gives each function of the synthesised template the
 * secret settings that function may read in AWS — exactly the parameters its
 * `CONFLUO_SECRET_NAMES` names (lib/ssm-settings.ts) — and no other, so a function that would be
 * refused a parameter by IAM deployed cannot read it locally either (issue 17 finding 3).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../functions/runtime/config.js';
import { LocalLambdas } from '../../local/lambdas.js';
import type { LocalServices } from '../../local/platform.js';
import { synthesizedStack, type Template } from '../../local/template.js';
import { SSM_SETTINGS } from '../../lib/ssm-settings.js';
import { TEST_SECRETS } from '../helpers/samples.js';

const SECRETS = SETTINGS.filter((s) => 'secret' in s && s.secret).map((s) => s.name);

describe('local Lambda service: secrets per function', () => {
  let lambdas: LocalLambdas;
  beforeAll(async () => {
    const { template } = await synthesizedStack();
    lambdas = new LocalLambdas({
      template: template as Template,
      // Every reference reads as a placeholder: only the settings are under test.
      values: { ref: (id) => `local-${id}`, getAtt: (id, attr) => `local-${id}-${attr}` },
      env: { ...TEST_SECRETS, CONFLUO_LOG_LEVEL: 'SILENT' },
      services: {} as LocalServices,
    });
  });

  const secretsOf = (handler: string) => {
    const fn = [...lambdas.functions.values()].find((f) => f.handler === handler)!;
    return SECRETS.filter((k) => fn.env[k] !== undefined).sort();
  };

  it('gives ingest the inbound secrets of every channel and no outbound token', () => {
    const got = secretsOf('ingest');
    expect(got).toEqual(expect.arrayContaining(['TELEGRAM_SECRET_TOKEN', 'META_APP_SECRET', 'TWILIO_AUTH_TOKEN', 'WEBCHAT_SECRET']));
    expect(got).not.toContain('TELEGRAM_BOT_TOKEN');
    expect(got).not.toContain('WHATSAPP_ACCESS_TOKEN');
    expect(got).not.toContain('CONFLUO_SURVEY_LINK_SECRET');
  });

  it('gives send the outbound tokens and no inbound signing key', () => {
    const got = secretsOf('send');
    expect(got).toEqual(expect.arrayContaining(['TELEGRAM_BOT_TOKEN', 'WHATSAPP_ACCESS_TOKEN', 'TWILIO_AUTH_TOKEN']));
    expect(got).not.toContain('TELEGRAM_SECRET_TOKEN');
    expect(got).not.toContain('META_APP_SECRET');
    expect(got).not.toContain('WEBCHAT_SECRET');
  });

  it('gives the public widget API and survey links only their own keys', () => {
    expect(secretsOf('webchat-api')).toEqual(['WEBCHAT_SECRET']);
    expect(secretsOf('survey-link')).toEqual(['CONFLUO_SURVEY_LINK_SECRET']);
    expect(secretsOf('survey-step')).toEqual(['CONFLUO_SURVEY_LINK_SECRET']);
  });

  it('gives every function exactly the secrets its template lets it read, and none to the others', () => {
    for (const fn of lambdas.functions.values()) {
      const readable = (SSM_SETTINGS as Record<string, readonly string[]>)[fn.handler] ?? [];
      expect(secretsOf(fn.handler), fn.handler).toEqual(SECRETS.filter((k) => readable.includes(k) && TEST_SECRETS[k] !== undefined).sort());
    }
    expect(secretsOf('agent-api')).toEqual([]);
    expect(secretsOf('process')).toEqual([]);
  });
});
