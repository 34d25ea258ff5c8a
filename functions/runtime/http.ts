/** HTTP plumbing shared by the webhook and Agent API handlers: error shape and status mapping. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type ErrorCode =
  | 'not_found' | 'method_not_allowed' | 'payload_too_large' | 'unauthorized' | 'forbidden'
  | 'malformed' | 'invalid' | 'conflict' | 'messaging_window_closed' | 'unavailable' | 'internal'
  | 'illegal_transition' | 'template_value_missing' | 'text_too_long' | 'rate_limited'
  // attachments (functions/channels/media.ts, functions/domain/agent-uploads.ts)
  | 'attachments_not_supported' | 'too_many_attachments' | 'attachment_too_large' | 'attachment_type_not_allowed' | 'attachments_too_large'
  | 'upload_missing' | 'attachments_unavailable'
  // phone (issue 16): replies on voice are calls
  | 'voice_reply_not_sent';

/** An error that knows its HTTP answer. `cause` carries non-personal evidence. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number, readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(status: number, code: ErrorCode, message: string): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(status, { error: { code, message } });
}

/** The raw request bytes of an API Gateway HTTP API (payload v2) event (channels.md §0.3). */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function lowerCaseHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}
