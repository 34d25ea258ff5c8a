/**
 * The verify side of every channel, one line per channel: all the ingest function imports of the
 * channels (channel.ts explains the split; registry.ts lists the full adapters, and
 * tests/channels/ingress.test.ts checks that the two lists agree).
 */
import type { ChannelIngress } from './channel.js';
import { emailIngress } from './email/ingress.js';
import { instagramIngress } from './instagram/ingress.js';
import { messengerIngress } from './messenger/ingress.js';
import { telegramIngress } from './telegram/ingress.js';
import { twilioIngress } from './twilio/ingress.js';
import { viberIngress } from './viber/ingress.js';
import { vkIngress } from './vk/ingress.js';
import { webchatIngress } from './webchat/ingress.js';
import { whatsappIngress } from './whatsapp/ingress.js';

export const ingresses: Readonly<Record<string, ChannelIngress>> = {
  email: emailIngress,
  instagram: instagramIngress,
  messenger: messengerIngress,
  telegram: telegramIngress,
  twilio: twilioIngress,
  viber: viberIngress,
  vk: vkIngress,
  webchat: webchatIngress,
  whatsapp: whatsappIngress,
};

export function ingressByName(name: string): ChannelIngress | undefined {
  return Object.hasOwn(ingresses, name) ? ingresses[name] : undefined;
}
