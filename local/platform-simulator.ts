/**
 * Locally no platform is called: the outbox records the request and this answers the way the
 * platform would on success, so the sender's real `readDelivery` path runs (outbound ids for
 * receipts included). One entry per channel; a channel without one gets a bare 200.
 */
import type { PlatformRequest, PlatformResponse } from '../functions/channels/channel.js';

let seq = 1000;
const json = (body: unknown): PlatformResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bodyOf = (r: PlatformRequest): Record<string, unknown> => { try { return JSON.parse(r.body ?? '{}'); } catch { return {}; } };

export const SIMULATED_RESPONSES: Record<string, (req: PlatformRequest) => PlatformResponse> = {
  telegram: (req) => json({ ok: true, result: { message_id: ++seq, chat: { id: bodyOf(req).chat_id }, date: Math.floor(Date.now() / 1000) } }),
  webchat: () => ({ status: 200, headers: {}, body: '' }),
};

export function simulateResponse(channel: string, req: PlatformRequest): PlatformResponse {
  return (SIMULATED_RESPONSES[channel] ?? (() => json({})))(req);
}
