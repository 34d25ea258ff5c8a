/**
 * Keeps the channel registry, the channel folders, their samples and the configuration in sync:
 * adding a channel is one folder plus one registry line (functions/channels/channel.ts), and
 * forgetting either fails here.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { channelByName, channels } from '../../functions/channels/registry.js';
import { CHANNELS } from '../../functions/domain/inbound.js';
import { SETTINGS } from '../../functions/runtime/config.js';
import { CHANNELS_DIR, TEST_SECRETS, loadSamples } from '../helpers/samples.js';

/** Body limits of channels.md §0.2. */
const BODY_LIMITS: Readonly<Record<string, number>> = {
  telegram: 262_144, whatsapp: 262_144, messenger: 262_144, instagram: 262_144, vk: 262_144,
  viber: 262_144, twilio: 262_144, email: 524_288, webchat: 65_536,
};

const folders = readdirSync(CHANNELS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const declared = new Set<string>(SETTINGS.map((s) => s.name));

describe('channel registry', () => {
  it('registers exactly the channel folders under functions/channels/', () => {
    expect(Object.keys(channels).sort()).toEqual(folders);
  });

  it('answers unknown names with undefined, including inherited object keys', () => {
    expect(channelByName('fax')).toBeUndefined();
    expect(channelByName('constructor')).toBeUndefined();
    expect(channelByName('__proto__')).toBeUndefined();
  });

  for (const [key, adapter] of Object.entries(channels)) {
    describe(key, () => {
      it('is registered under its own name, one of the channels of the contract', () => {
        expect(adapter.name).toBe(key);
        expect(CHANNELS).toContain(key);
        expect(channelByName(key)).toBe(adapter);
      });

      it('ships at least one accepted (NN-) and one refused (refuse-) sample', () => {
        const samples = loadSamples(key);
        expect(samples.some((s) => s.kind === 'accepted')).toBe(true);
        expect(samples.some((s) => s.kind === 'refusal')).toBe(true);
      });

      it('declares every inbound and outbound setting in SETTINGS of the runtime config', () => {
        for (const name of [...adapter.inboundSecrets, ...adapter.outboundSecrets]) {
          expect(declared.has(name), `${name} is not in SETTINGS (functions/runtime/config.ts)`).toBe(true);
        }
      });

      it('stays disabled until configured: at least one inbound setting, each with a test value', () => {
        expect(adapter.inboundSecrets.length).toBeGreaterThan(0);
        for (const name of adapter.inboundSecrets) expect(TEST_SECRETS[name], `${name} has no test value (channels.md §10)`).toBeDefined();
      });

      it('limits bodies as channels.md §0.2 says', () => {
        expect(adapter.capabilities.maxBodyBytes).toBe(BODY_LIMITS[key]);
      });
    });
  }
});
