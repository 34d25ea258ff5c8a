/**
 * Every channel's comparison of a credential with its configured secret, table-driven over where
 * each credential travels (header, query, body field, bearer token). For each: the stored sample
 * (signed with the test secrets) is accepted; an empty credential, a prefix of the right one (one
 * character short, and half), the right one plus a suffix, are refused; and with the secret
 * configured empty, a request whose credential was made with that empty secret is refused too —
 * a comparison against a prefix, or that accepts an empty value, fails here.
 *
 * E-mail has no shared secret (SNS signs with a certificate: tests/channels/email.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { channels } from '../../functions/channels/registry.js';
import { ChannelRequestError, type RawRequest } from '../../functions/channels/channel.js';
import { safeEqual } from '../../functions/channels/common.js';
import { signers } from '../../scripts/sign-samples.js';
import { TEST_SECRETS, loadSamples, sampleFileOf, toRawRequest, type Sample } from '../helpers/samples.js';

const NOW = Date.now();

interface Place {
  readonly get: (req: RawRequest) => string;
  readonly set: (req: RawRequest, value: string) => RawRequest;
  readonly remove: (req: RawRequest) => RawRequest;
}
const without = (o: Readonly<Record<string, string>>, name: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== name));
const header = (name: string, prefix = ''): Place => ({
  get: (r) => (r.headers[name] ?? '').slice(prefix.length),
  set: (r, v) => ({ ...r, headers: { ...r.headers, [name]: prefix + v } }),
  remove: (r) => ({ ...r, headers: without(r.headers, name) }),
});
const query = (name: string): Place => ({
  get: (r) => r.query[name] ?? '',
  set: (r, v) => ({ ...r, query: { ...r.query, [name]: v } }),
  remove: (r) => ({ ...r, query: without(r.query, name) }),
});
const bodyField = (name: string): Place => ({
  get: (r) => String(JSON.parse(r.body.toString('utf8'))[name]),
  set: (r, v) => ({ ...r, body: Buffer.from(JSON.stringify({ ...JSON.parse(r.body.toString('utf8')), [name]: v }), 'utf8') }),
  remove: (r) => {
    const { [name]: _gone, ...rest } = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
    return { ...r, body: Buffer.from(JSON.stringify(rest), 'utf8') };
  },
});

/** channel, sample, the secret setting, where the credential travels. */
const CASES: ReadonlyArray<readonly [string, string, string, Place]> = [
  ['telegram', '01-text', 'TELEGRAM_SECRET_TOKEN', header('x-telegram-bot-api-secret-token')],
  ['vk', '02-message-new-text', 'VK_SECRET', bodyField('secret')],
  ['messenger', '01-handshake', 'META_VERIFY_TOKEN', query('hub.verify_token')],
  ['instagram', '01-handshake', 'META_VERIFY_TOKEN', query('hub.verify_token')],
  ['whatsapp', '01-handshake', 'META_VERIFY_TOKEN', query('hub.verify_token')],
  ['messenger', '02-text', 'META_APP_SECRET', header('x-hub-signature-256', 'sha256=')],
  ['instagram', '02-text', 'META_APP_SECRET', header('x-hub-signature-256', 'sha256=')],
  ['whatsapp', '02-text', 'META_APP_SECRET', header('x-hub-signature-256', 'sha256=')],
  ['viber', '02-conversation-started', 'VIBER_AUTH_TOKEN', header('x-viber-content-signature')],
  ['viber', '02-conversation-started', 'VIBER_AUTH_TOKEN', query('sig')],
  ['twilio', '01-sms-text', 'TWILIO_AUTH_TOKEN', header('x-twilio-signature')],
  ['webchat', '01-anonymous-message', 'WEBCHAT_SECRET', header('authorization', 'Bearer ')],
];

function sampleOf(channel: string, name: string): Sample {
  const s = loadSamples(channel).find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${channel}/${name}`);
  return s;
}

async function outcome(channel: string, req: RawRequest, secrets: Readonly<Record<string, string>> = TEST_SECRETS): Promise<'accepted' | number> {
  try {
    await channels[channel as keyof typeof channels]!.admit(req, secrets, NOW);
    return 'accepted';
  } catch (e) {
    if (e instanceof ChannelRequestError) return e.status;
    throw e;
  }
}

describe('secret comparison, per channel and credential', () => {
  it('covers every channel with a shared secret (all but e-mail)', () => {
    expect(new Set(CASES.map(([c]) => c))).toEqual(new Set(Object.keys(channels).filter((c) => c !== 'email')));
  });

  for (const [channel, name, setting, place] of CASES) {
    describe(`${channel} ${setting} (${name})`, () => {
      const sample = sampleOf(channel, name);
      const req = toRawRequest(sample);
      const right = place.get(req);

      it('accepts the right credential', async () => {
        expect(right.length).toBeGreaterThan(4);
        expect(await outcome(channel, req)).toBe('accepted');
      });

      it.each([
        ['empty', ''],
        ['one character short', right.slice(0, -1)],
        ['half of it', right.slice(0, Math.ceil(right.length / 2))],
        ['with a suffix', `${right}0`],
      ])('refuses a credential %s', async (_what, value) => {
        const result = await outcome(channel, place.set(req, value));
        expect(result, `${channel} accepted ${JSON.stringify(value)}`).not.toBe('accepted');
        expect([400, 401, 403]).toContain(result);
      });

      it('refuses everything while the secret is configured empty, a credential made with the empty secret included', async () => {
        const emptySecrets = { ...TEST_SECRETS, [setting]: '' };
        let made: RawRequest = place.set(req, '');
        try {
          made = toRawRequest(await signers[channel]!(sampleFileOf(sample), emptySecrets));
        } catch {
          // a signer that cannot sign with an empty key: the empty credential stands
        }
        expect(await outcome(channel, made, emptySecrets)).not.toBe('accepted');
        expect(await outcome(channel, place.set(req, ''), emptySecrets)).not.toBe('accepted');
      });
    });
  }
});

describe('what a refusal tells the operator', () => {
  /** The refusal's status and evidence (`cause`: channel, stage, detail — never the credential). */
  async function refusal(channel: string, req: RawRequest, secrets: Readonly<Record<string, string>> = TEST_SECRETS) {
    try {
      await channels[channel as keyof typeof channels]!.admit(req, secrets, NOW);
    } catch (e) {
      if (e instanceof ChannelRequestError) return { status: e.status, cause: e.cause as { channel: string; stage: string; detail?: string } };
      throw e;
    }
    throw new Error(`${channel} accepted`);
  }

  for (const [channel, name, setting, place] of CASES) {
    it(`${channel} ${setting} (${name}): a secret not configured, a credential missing and a wrong one are three different reasons, none quoting the credential`, async () => {
      const req = toRawRequest(sampleOf(channel, name));
      const right = place.get(req);
      const unset = await refusal(channel, req, { ...TEST_SECRETS, [setting]: '' });
      // Viber takes the signature from its header or its `sig` query (either suffices): missing means neither.
      const missing = await refusal(channel, channel === 'viber' ? header('x-viber-content-signature').remove(query('sig').remove(req)) : place.remove(req));
      const wrong = await refusal(channel, place.set(req, `${right.slice(0, -1)}${right.endsWith('0') ? '1' : '0'}`));
      for (const r of [unset, missing, wrong]) {
        expect(r.cause.channel).toBe(channel);
        expect(['authenticity', 'handshake']).toContain(r.cause.stage);
        expect(r.cause.detail).toMatch(/\S/);
        expect(JSON.stringify(r.cause)).not.toContain(right);
      }
      expect(new Set([unset.cause.detail, missing.cause.detail, wrong.cause.detail]).size, JSON.stringify([unset, missing, wrong])).toBe(3);
    });
  }
});

describe('safeEqual', () => {
  it('is true only for the same bytes: never for a prefix, a suffix, empty against non-empty, or undefined', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('', '')).toBe(true); // callers refuse an empty configured secret before comparing
    for (const [a, b] of [['secret', 'secre'], ['secre', 'secret'], ['secret', 'secretx'], ['', 'secret'], ['secret', ''], ['secret', 'Secret']] as const) {
      expect(safeEqual(a, b), `${a} vs ${b}`).toBe(false);
    }
    expect(safeEqual(undefined, 'x')).toBe(false);
    expect(safeEqual('x', undefined)).toBe(false);
  });
});
