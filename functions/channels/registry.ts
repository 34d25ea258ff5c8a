/** Every channel Confluo speaks: one line per channel (see channel.ts for the recipe). */
import type { ChannelAdapter } from './channel.js';
import { telegram } from './telegram/index.js';
import { webchat } from './webchat/index.js';

export const channels: Readonly<Record<string, ChannelAdapter>> = {
  telegram,
  webchat,
};

export function channelByName(name: string): ChannelAdapter | undefined {
  return Object.hasOwn(channels, name) ? channels[name] : undefined;
}
