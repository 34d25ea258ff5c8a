/**
 * The one logger: Powertools Logger whose JSON replacer always goes through domain/redact, so no
 * message text, name, phone, e-mail or token reaches CloudWatch (or the local console).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { redactValue } from '../domain/redact.js';

export function createLogger(serviceName = 'confluo', level = process.env.CONFLUO_LOG_LEVEL ?? 'INFO'): Logger {
  return new Logger({
    serviceName,
    logLevel: level as 'INFO',
    jsonReplacerFn: (key: string, value: unknown) => redactValue(key, value),
  });
}

export const logger = createLogger();

/** Error facts safe to log: name, code and the non-personal `cause` evidence our errors carry. */
export function errorFacts(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { error: typeof e };
  const cause = (e as { cause?: unknown }).cause;
  return {
    error: e.name,
    error_message: e.message,
    ...(typeof cause === 'object' && cause !== null && !(cause instanceof Error) ? { cause } : {}),
    ...(cause instanceof Error ? { cause_error: cause.name } : {}),
  };
}
