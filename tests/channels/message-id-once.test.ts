/**
 * Where the message reference is the exactly-once marker (functions/store/table.ts "Exactly
 * once": the dedupe key is the message id, or the adapter says `capabilities.messageIdOnce`),
 * a platform message id must name exactly one inbound event: across every channel's samples,
 * the new (not edited) messages sharing a message id are one event delivered again (the same
 * dedupe key), never two events. Web chat, whose ids the widget chooses, must not fold.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelAdapter } from '../../functions/channels/channel.js';
import { channels as registry } from '../../functions/channels/registry.js';
import type { InboundMessage } from '../../functions/domain/inbound.js';
import { loadSamples } from '../helpers/samples.js';

const channels: readonly ChannelAdapter[] = Object.values(registry);
const folds = (adapter: ChannelAdapter, m: Pick<InboundMessage, 'edit' | 'dedup_key' | 'external_message_id'>) =>
  !m.edit && (m.dedup_key === m.external_message_id || adapter.capabilities.messageIdOnce === true);

describe('message ids that are exactly-once markers', () => {
  for (const adapter of channels) {
    it(`${adapter.name}: a folded message id never names two different events in the samples`, () => {
      const byId = new Map<string, Set<string>>();
      for (const s of loadSamples(adapter.name).filter((x) => x.kind === 'accepted')) {
        for (const e of (s.expect.events ?? []) as unknown as InboundMessage[]) {
          if (e.kind !== 'message' || !folds(adapter, e)) continue;
          const keys = byId.get(e.external_message_id) ?? new Set<string>();
          keys.add(e.dedup_key);
          byId.set(e.external_message_id, keys);
        }
      }
      expect([...byId].filter(([, keys]) => keys.size > 1).map(([id]) => id)).toEqual([]);
    });
  }

  it('says Telegram and VK fold (their dedupe keys are update and event ids), web chat does not (its message ids are the widget\'s)', () => {
    const caps = Object.fromEntries(channels.map((c) => [c.name, c.capabilities.messageIdOnce === true]));
    expect(caps).toMatchObject({ telegram: true, vk: true, webchat: false });
    const webchat = loadSamples('webchat').flatMap((s) => (s.expect.events ?? []) as unknown as InboundMessage[]).filter((e) => e.kind === 'message');
    expect(webchat.length).toBeGreaterThan(0);
    for (const e of webchat) expect(e.dedup_key).not.toBe(e.external_message_id);
  });
});
