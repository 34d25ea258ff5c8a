/**
 * What counts as personal data and how it is masked (DESIGN.md §2 Privacy). The logger passes
 * every key/value through `redactValue`, so a careless `logger.info({ msg })` still leaks nothing.
 * Ids (ticket, customer, message, request) are fine; text, names, phones, e-mails, tokens are not.
 */
export const REDACTED = '[redacted]';

const SENSITIVE_KEYS = new Set([
  'text', 'body', 'body_b64', 'raw', 'caption', 'comment', 'reply_text', 'subject',
  'name', 'display_name', 'first_name', 'last_name', 'username', 'profile', 'contact',
  'phone', 'phone_number', 'email', 'from', 'to', 'reply_to', 'address',
  'token', 'authorization', 'secret', 'signature', 'password', 'cookie', 'x-telegram-bot-api-secret-token',
  'x-hub-signature-256', 'x-twilio-signature', 'x-viber-content-signature', 'url', 'headers',
]);

const PATTERNS: readonly RegExp[] = [
  /[\w.+-]+@[\w-]+(\.[\w-]+)+/g, // e-mail addresses
  /eyJ[\w-]+\.[\w-]+\.[\w-]*/g, // JWTs
  /\b\d{6,}:[\w-]{30,}\b/g, // Telegram bot tokens
  /\bBearer\s+\S+/gi,
  // phone-like: 9–15 digits with optional separators, not glued to letters or hyphens (UUIDs, ISO dates)
  /(?<![\w-])\+?\(?\d(?:[ ().-]{0,2}\d){8,14}(?![\w-])/g,
];

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase());
}

export function redactString(s: string): string {
  return PATTERNS.reduce((acc, re) => acc.replace(re, REDACTED), s);
}

/**
 * Keys whose string values may be logged (after pattern masking). Any other string value is
 * masked whole: free text under an unexpected key cannot be recognised, so it is not trusted.
 */
const LOGGABLE_KEYS = new Set([
  'message', 'level', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id', 'function_name', 'function_arn',
  'function_request_id', 'function_memory_size', 'cold_start', 'channel', 'status', 'reason', 'action', 'outcomes',
  'stage', 'code', 'error', 'error_message', 'cause_error', 'event_type', 'kind', 'url_scheme', 'detail', 'direction',
]);

function isLoggableKey(key: string): boolean {
  return LOGGABLE_KEYS.has(key) || /(^|_)ids?$/.test(key) || /^\d+$/.test(key);
}

/** A JSON.stringify replacer: masks sensitive keys and unknown free text; ids and codes pass. */
export function redactValue(key: string, value: unknown): unknown {
  if (key && isSensitiveKey(key) && value !== null && value !== undefined && value !== '') return REDACTED;
  if (typeof value === 'string') return key === '' || isLoggableKey(key) ? redactString(value) : REDACTED;
  return value;
}
