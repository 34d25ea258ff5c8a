/**
 * The one logger: Powertools Logger whose JSON replacer always goes through domain/redact, so no
 * message text, name, phone, e-mail or token reaches CloudWatch (or the local console). The whole
 * log line is redacted at its root (`redactDeep`), where each value's position is known — an array
 * element by its array's key, an error's message by whose error it is.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { errorMessage, redactDeep } from '../domain/redact.js';

export function createLogger(serviceName = 'confluo', level = process.env.CONFLUO_LOG_LEVEL ?? 'INFO'): Logger {
  return new Logger({
    serviceName,
    logLevel: level as 'INFO',
    // Called for the root first (key ''), then for each member of what it returned: already redacted.
    jsonReplacerFn: (key: string, value: unknown) => (key === '' ? redactDeep(value) : value),
  });
}

export const logger = createLogger();

/** Error facts safe to log: name, code and the non-personal `cause` evidence our errors carry. */
export function errorFacts(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { error: typeof e };
  const cause = (e as { cause?: unknown }).cause;
  return {
    error: e.name,
    // A library's message may quote data (a JSON parser its input, the SDK an item): ours only.
    error_message: errorMessage(e),
    ...(typeof cause === 'object' && cause !== null && !(cause instanceof Error) ? { cause } : {}),
    ...(cause instanceof Error ? { cause_error: cause.name } : {}),
  };
}
