/**
 * Performing described platform requests. Channel adapters describe requests
 * (functions/channels/channel.ts); this module decides what kind of call each one is and hands it
 * to a transport — the real network and SES in Lambda, the outbox under `npm start` — so the
 * local runtime and AWS take the same decisions and differ only in the last step:
 *
 * - `https://…` (and `http://`): a platform API call through `transport.http`, with a timeout;
 * - `ses:SendRawEmail`: the body is raw MIME, sent with SES SendRawEmail in the configured SES
 *   region. SES service errors (MessageRejected, MailFromDomainNotVerified, Throttling, …) come
 *   back as a response carrying the error code, so the e-mail adapter's `readDelivery` tells a
 *   permanent refusal from a retry like any platform's answer; only a network failure throws;
 * - `store://…` (web chat: the widget fetches the stored reply with GET /webchat/messages)
 *   needs no call at all;
 * - anything else is a PerformError: an adapter described something no transport can do.
 *
 * A placeholder secret (`<TELEGRAM_BOT_TOKEN>`) in a URL or a header (`Bearer
 * <WHATSAPP_ACCESS_TOKEN>`) means the channel's outbound secret is not configured: refused here
 * instead of leaking a broken request to the platform.
 */
import type { FormField, PlatformRequest, PlatformResponse } from '../channels/channel.js';
import type { Perform, PerformMeta } from './ports.js';

/** The last step of performing: what differs between Lambda and the local runtime. */
export interface Transport {
  /** An HTTP(S) request to a platform API. */
  http(request: PlatformRequest, meta: PerformMeta, options: { readonly timeoutMs: number }): Promise<PlatformResponse>;
  /**
   * SES SendRawEmail of `raw` (MIME) in `region` (undefined: the function's own region).
   * Resolves SES's MessageId; rejects with the SDK's service exception (`name` = SES error code,
   * `$fault`, `$metadata.httpStatusCode`) or a network error.
   */
  sendRawEmail(raw: string, region: string | undefined, meta: PerformMeta): Promise<{ readonly MessageId?: string }>;
}

export interface PerformOptions {
  /** The one SES region of sending and of the Message-ID domain replies thread by (functions/channels/email sesRegion). */
  readonly sesRegion?: string;
  /** How long a platform API call may take before it is abandoned (and retried through the queue). Default 10 s. */
  readonly httpTimeoutMs?: number;
}

/** Platform calls give up after this: well inside the send function's 30 s timeout, so the failure is ours to record. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export class PerformError extends Error {
  override readonly name = 'PerformError';
}

const PLACEHOLDER = /<[A-Z_]+>/;

export function makePerform(transport: Transport, options: PerformOptions = {}): Perform {
  const timeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  return async (request, meta) => {
    const scheme = request.url.split(':')[0] ?? '';
    if (PLACEHOLDER.test(request.url) || Object.values(request.headers).some((v) => PLACEHOLDER.test(v))) {
      throw new PerformError('perform: outbound secret not configured', { cause: { stage: 'perform', channel: meta.channel, url_scheme: scheme } });
    }
    if (scheme === 'store') return { status: 200, headers: {}, body: '' };
    if (request.url === 'ses:SendRawEmail') return sendRawEmail(transport, request, options.sesRegion, meta);
    if (scheme === 'https' || scheme === 'http') return transport.http(request, meta, { timeoutMs });
    throw new PerformError('perform: no transport for this kind of request', { cause: { stage: 'perform', channel: meta.channel, url_scheme: scheme } });
  };
}

interface SdkServiceError { readonly name?: unknown; readonly $fault?: unknown; readonly $metadata?: { readonly httpStatusCode?: unknown } }

async function sendRawEmail(transport: Transport, request: PlatformRequest, region: string | undefined, meta: PerformMeta): Promise<PlatformResponse> {
  try {
    const res = await transport.sendRawEmail(request.body ?? '', region, meta);
    return { status: 200, headers: {}, body: JSON.stringify({ MessageId: res.MessageId }) };
  } catch (e) {
    const err = e as SdkServiceError;
    const status = typeof err?.$metadata?.httpStatusCode === 'number' ? err.$metadata.httpStatusCode : undefined;
    // A service answer (it has a status): the adapter classifies its code. Its message is left
    // out — SES names the addresses it refused there.
    if (status === undefined || typeof err.name !== 'string') throw e;
    return { status, headers: {}, body: JSON.stringify({ Error: { Code: err.name, Type: err.$fault === 'server' ? 'Receiver' : 'Sender' } }) };
  }
}

/** A described multipart body as fetch sends it (fetch sets the content type with its boundary). */
export function formDataOf(fields: readonly FormField[]): FormData {
  const form = new FormData();
  for (const f of fields) {
    if ('value' in f) form.append(f.name, f.value);
    else form.append(f.name, new Blob([Buffer.from(f.data_b64, 'base64')], { type: f.content_type }), f.file_name);
  }
  return form;
}

/** The Lambda transport's HTTP step: fetch with a timeout, the response read whole. */
export async function fetchTransport(request: PlatformRequest, _meta: PerformMeta, options: { readonly timeoutMs: number }): Promise<PlatformResponse> {
  const res = await fetch(request.url, {
    method: request.method,
    headers: request.headers as Record<string, string>,
    ...(request.form ? { body: formDataOf(request.form) } : request.body !== null ? { body: request.body } : {}),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  return { status: res.status, headers, body: await res.text() };
}

/**
 * An alert e-mail sender (SLA escalations, low-score alerts) over `perform`: SES's refusal is an
 * error here, so the workflow task that sends it fails and retries (and, when it keeps failing,
 * the execution fails and its alarm fires) instead of the alert being dropped silently.
 */
export function alertEmailSender(perform: Perform) {
  return async (request: PlatformRequest, meta: { readonly ticket_id: string }): Promise<void> => {
    const res = await perform(request, { channel: 'email', kind: 'escalation', ticket_id: meta.ticket_id });
    if (res.status !== 200) {
      const code = /"Code":"([\w.-]{1,80})"/.exec(res.body)?.[1];
      throw new PerformError('perform: SES refused an alert e-mail', { cause: { stage: 'perform', channel: 'email', status: res.status, code } });
    }
  };
}
