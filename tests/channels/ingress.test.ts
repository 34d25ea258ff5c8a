/**
 * The verify side of the channels (functions/channels/ingress.ts, what the ingest function
 * imports) and the adapters (functions/channels/registry.ts) are the same channels: one registry
 * line per side, and forgetting one, or an adapter that admits differently from its ingress,
 * fails here. What the edge may not carry (parsers, MIME, phone metadata, the full zod build)
 * is checked on the bundle: tests/infra/bundle-budgets.test.ts.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ingressByName, ingresses } from '../../functions/channels/ingress.js';
import { channels } from '../../functions/channels/registry.js';

describe('channel ingress registry', () => {
  it('lists exactly the channels of the adapter registry', () => {
    expect(Object.keys(ingresses).sort()).toEqual(Object.keys(channels).sort());
  });

  it('gives each adapter\'s own admission, inbound settings and body limit to ingest', () => {
    for (const [name, adapter] of Object.entries(channels)) {
      const ingress = ingresses[name]!;
      expect(ingress.name).toBe(name);
      expect(adapter.admit).toBe(ingress.admit);
      expect(adapter.inboundSecrets).toEqual(ingress.inboundSecrets);
      expect(adapter.inboundOptional).toEqual(ingress.inboundOptional);
      expect(adapter.capabilities.maxBodyBytes).toBe(ingress.capabilities.maxBodyBytes);
      expect(adapter.capabilities.extraMethods).toEqual(ingress.capabilities.extraMethods);
    }
  });

  it('answers unknown names with undefined, including inherited object keys', () => {
    expect(ingressByName('fax')).toBeUndefined();
    expect(ingressByName('constructor')).toBeUndefined();
    expect(ingressByName('__proto__')).toBeUndefined();
    expect(ingressByName('telegram')?.name).toBe('telegram');
  });

  it('imports no channel parser: no adapter module (<name>/index.ts) is reachable from it', async () => {
    const result = await build({ entryPoints: ['functions/channels/ingress.ts'], bundle: true, write: false, platform: 'node', format: 'esm', metafile: true, logLevel: 'error' });
    const ours = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('functions/'));
    expect(ours.filter((f) => /^functions\/channels\/[^/]+\/(index|mime|reply)\.ts$/.test(f) || f === 'functions/channels/phone.ts')).toEqual([]);
  });
});
