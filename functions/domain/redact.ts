/**
 * What counts as personal data and how it is masked (DESIGN.md §2 Privacy). The logger and the
 * analytics export's event data pass whole objects through `redactDeep`, so a careless
 * `logger.info({ msg })` still leaks nothing. Ids (ticket, customer, message, request) are fine;
 * text, names, phones, e-mails, tokens are not.
 *
 * Rules, by position (the parent key matters, so this walks the structure itself rather than
 * judging each key/value pair alone):
 * - a sensitive key (`text`, `name`, `phone`, …) masks its value whatever it is;
 * - a string under a loggable key (codes our own code writes: `status`, `reason`, `code`,
 *   `*_id(s)`, …) is kept, with e-mails, phones, JWTs and tokens masked inside it; under any other
 *   key it is masked whole — free text under an unexpected key cannot be recognised;
 * - an array's elements are judged by the array's key (`tags: ["Anna"]` is masked as `tags` is;
 *   an index is no key of its own);
 * - an Error becomes `{name, message, cause}` where the message is kept only for Confluo's own
 *   errors (whose messages carry no personal data by house rule); a library's message (a
 *   SyntaxError quoting its input, an AWS SDK exception naming an item's values, a ZodError listing
 *   received values) is masked — `errorMessage`;
 * - `message`, `level`, `timestamp`… (the log line's own fields) are loggable at the top only.
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
  // code lists: fields a change touched, rule ids, a dispatch reaction's name, setting names
  'changed', 'rules', 'reaction', 'keys', 'metric',
  // phone calls (functions/domain/voice.ts `callEventData`): Amazon Connect codes
  'outcome', 'initiation', 'disconnect_reason',
]);

export function isLoggableKey(key: string): boolean {
  return LOGGABLE_KEYS.has(key) || /(^|_)ids?$/.test(key) || /^\d+$/.test(key);
}

/** A JSON.stringify replacer for one key/value pair: masks sensitive keys and unknown free text; ids and codes pass. */
export function redactValue(key: string, value: unknown): unknown {
  if (key && isSensitiveKey(key) && value !== null && value !== undefined && value !== '') return REDACTED;
  if (typeof value === 'string') return key === '' || isLoggableKey(key) ? redactString(value) : REDACTED;
  return value;
}

/** Built-in and library error names whose messages may quote data (they are masked). */
const FOREIGN_ERROR_NAMES = new Set(['Error', 'SyntaxError', 'TypeError', 'RangeError', 'ReferenceError', 'URIError', 'EvalError', 'AggregateError', 'ZodError', '$ZodError']);

/**
 * The message of an error as it may be logged: Confluo's own errors (a class of ours sets its
 * `name` as an own field, `override readonly name = 'XError'`, and its message is written to carry
 * no personal data) keep theirs, pattern-masked; anything else — built-in errors, AWS SDK
 * exceptions (`$metadata`), zod, other libraries' plain Errors — is masked whole.
 */
export function errorMessage(e: Error): string {
  const own = Object.prototype.hasOwnProperty.call(e, 'name') && typeof e.name === 'string' && /Error$/.test(e.name)
    && !FOREIGN_ERROR_NAMES.has(e.name) && !('$metadata' in e) && !('$fault' in e);
  return own ? redactString(e.message) : REDACTED;
}

/** Log-line fields Powertools writes itself: loggable at the top level only. */
const TOP_LEVEL_ONLY = new Set(['message', 'level', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id']);

/**
 * A redacted copy of a log line (rules in the module header): its top-level members may be the
 * log line's own fields. Cycles become `[circular]`; depth beyond 20 is cut.
 */
export function redactDeep(value: unknown): unknown {
  return walk(value, '', true, new WeakSet(), 0);
}

/** A redacted copy of a data object (an event's `data`): the same rules, no log-line fields. */
export function redactData(value: unknown): unknown {
  return walk(value, '', false, new WeakSet(), 0);
}

function walk(value: unknown, key: string, top: boolean, seen: WeakSet<object>, depth: number): unknown {
  if (key !== '' && isSensitiveKey(key) && value !== null && value !== undefined && value !== '') return REDACTED;
  if (typeof value === 'string') {
    if (key === '') return redactString(value);
    const loggable = isLoggableKey(key) && (top || !TOP_LEVEL_ONLY.has(key));
    return loggable ? redactString(value) : REDACTED;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth > 20) return '[truncated]';
  seen.add(value);
  try {
    // Elements carry the array's key: an index says nothing about what the element is.
    if (Array.isArray(value)) return value.map((v) => walk(v, key, false, seen, depth + 1));
    if (value instanceof Error) {
      const cause = (value as { cause?: unknown }).cause;
      return {
        name: value.name,
        message: errorMessage(value),
        ...(cause !== undefined ? { cause: walk(cause, 'cause', false, seen, depth + 1) } : {}),
      };
    }
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, k, top && depth === 0, seen, depth + 1);
    return out;
  } finally {
    seen.delete(value);
  }
}
