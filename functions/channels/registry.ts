/**
 * Every channel Confluo speaks: one line per channel (see channel.ts for the recipe). The ingest
 * function imports ./ingress.ts instead, the verify side of the same channels.
 */
import type { ChannelAdapter } from './channel.js';
import { email } from './email/index.js';
import { instagram } from './instagram/index.js';
import { messenger } from './messenger/index.js';
import { telegram } from './telegram/index.js';
import { twilio } from './twilio/index.js';
import { viber } from './viber/index.js';
import { vk } from './vk/index.js';
import { webchat } from './webchat/index.js';
import { whatsapp } from './whatsapp/index.js';

export const channels: Readonly<Record<string, ChannelAdapter>> = {
  email,
  instagram,
  messenger,
  telegram,
  twilio,
  viber,
  vk,
  webchat,
  whatsapp,
};

export function channelByName(name: string): ChannelAdapter | undefined {
  return Object.hasOwn(channels, name) ? channels[name] : undefined;
}
