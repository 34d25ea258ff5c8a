/** Render helpers for adapter tests: the requests `render` describes, and the one request of a short message. */
import { expect } from 'vitest';
import { renderRequests, type ChannelAdapter, type OutboundMessage, type PlatformRequest, type RenderContext } from '../../functions/channels/channel.js';

/** The only request of a message that fits one platform message. */
export function renderOne(adapter: ChannelAdapter, msg: OutboundMessage, ctx: RenderContext): PlatformRequest {
  const requests = renderRequests(adapter, msg, ctx);
  expect(requests).toHaveLength(1);
  return requests[0]!;
}
