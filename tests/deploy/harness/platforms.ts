/**
 * The messaging platforms, faked: every request a function makes with `fetch` to a non-loopback
 * host arrives here (support/host/preload.mjs), is recorded — the OUTBOX of the deployment test —
 * and answered the way the platform answers on success (local/platform-simulator.ts), unless a
 * scenario scripted another answer. A host no channel owns gets a refused connection: nothing
 * reaches the internet. The orders pull's requests to `<shop>.myshopify.com` are answered by the
 * simulated Shopify shop the deployment names (local/shopify-simulator.ts).
 */
import type { PlatformRequest } from '../../../functions/channels/channel.js';
import { simulateResponse } from '../../../local/platform-simulator.js';
import type { SimulatedShop } from '../../../local/shopify-simulator.js';
import type { HostRequest, HostResponse } from '../support/lambda-host.js';

export interface PlatformCall {
  /** The handler file of the function that made the request (`send`, `process`, …). */
  readonly fn: string;
  /** The channel whose API the request went to. */
  readonly channel: string;
  readonly request: HostRequest;
  readonly response: HostResponse;
  readonly at: number;
}

/** A scripted answer: return a response to use it, undefined to fall through. */
export type PlatformScript = (call: { fn: string; channel: string; request: HostRequest }) => HostResponse | undefined;

/** Which channel's API a URL belongs to (the hosts the channel adapters render). */
export function channelOfUrl(url: string, body: string | null): string | undefined {
  const u = new URL(url);
  switch (u.hostname) {
    case 'api.telegram.org': return 'telegram';
    case 'api.vk.com': return 'vk';
    case 'chatapi.viber.com': return 'viber';
    case 'api.twilio.com': return 'twilio';
    case 'graph.facebook.com': return body !== null && body.includes('"messaging_product"') ? 'whatsapp' : 'messenger';
    default: return u.hostname.endsWith('.myshopify.com') ? 'shopify' : undefined;
  }
}

export class FakePlatforms {
  readonly calls: PlatformCall[] = [];

  /** `shopify`: the shop the orders pull reads, answered by the simulated shop. */
  constructor(readonly shopify?: SimulatedShop) {}
  private readonly scripts: PlatformScript[] = [];

  /** Answer matching requests differently (first script that answers wins) until `remove()`. */
  script(s: PlatformScript): { remove(): void } {
    this.scripts.unshift(s);
    return { remove: () => { const i = this.scripts.indexOf(s); if (i >= 0) this.scripts.splice(i, 1); } };
  }

  /** The calls to one channel's API. */
  to(channel: string): PlatformCall[] {
    return this.calls.filter((c) => c.channel === channel);
  }

  readonly answer = async (request: HostRequest, fn: string): Promise<HostResponse> => {
    const channel = channelOfUrl(request.url, request.body);
    if (!channel) throw new Error(`no network in the deployment test: ${new URL(request.url).host} is no platform API`);
    let response: HostResponse | undefined;
    for (const s of this.scripts) if ((response = s({ fn, channel, request }))) break;
    response ??= channel === 'shopify' && this.shopify?.serves(request as PlatformRequest)
      ? this.shopify.answer(request as PlatformRequest)
      : simulateResponse(channel, request as PlatformRequest);
    this.calls.push({ fn, channel, request, response, at: Date.now() });
    return response;
  };
}
