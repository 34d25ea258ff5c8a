/**
 * Performing described platform requests in AWS. HTTP(S) via fetch; `ses:SendRawEmail` via SES;
 * `store://` (web chat: the widget fetches the stored message) needs no call at all.
 * A placeholder secret (`<TELEGRAM_BOT_TOKEN>`) in a URL or a header (`Bearer <WHATSAPP_ACCESS_TOKEN>`) means the channel's outbound secret is
 * not configured: refused here instead of leaking a broken request to the platform.
 */
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import type { PlatformRequest, PlatformResponse } from '../channels/channel.js';

let ses: SESClient | undefined;

export class PerformError extends Error {
  override readonly name = 'PerformError';
}

export async function performInAws(request: PlatformRequest): Promise<PlatformResponse> {
  if (/<[A-Z_]+>/.test(request.url) || Object.values(request.headers).some((v) => /<[A-Z_]+>/.test(v))) throw new PerformError('outbound secret not configured', { cause: { stage: 'perform', url_scheme: request.url.split(':')[0] } });
  if (request.url.startsWith('store://')) return { status: 200, headers: {}, body: '' };
  if (request.url === 'ses:SendRawEmail') {
    ses ??= new SESClient({});
    const res = await ses.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from(request.body ?? '', 'utf8') } }));
    return { status: 200, headers: {}, body: JSON.stringify({ MessageId: res.MessageId }) };
  }
  const res = await fetch(request.url, { method: request.method, headers: request.headers as Record<string, string>, ...(request.body !== null ? { body: request.body } : {}) });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  return { status: res.status, headers, body: await res.text() };
}
