/**
 * The event source mapping's FilterCriteria, applied to stream records as Lambda applies them
 * before invoking (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
 * a record is delivered when any filter's pattern matches it; a pattern matches when every key
 * matches, nested objects recursively, and a leaf array lists alternatives — literal values or
 * the operators `prefix`, `suffix`, `anything-but`, `equals-ignore-case`, `exists`, `numeric`.
 * An operator not listed here fails loudly instead of letting records through.
 *
 * Kept in one function on purpose: `local/stream-events.ts` (the local runtime's Lambda record
 * shape and filter matching, being written separately) replaces `recordMatchesFilters` when it
 * lands.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

/** FilterCriteria of a mapping → a predicate over Lambda-shaped records (no criteria: all pass). */
export function recordMatchesFilters(criteria: { Filters?: ReadonlyArray<{ Pattern?: string }> } | undefined): (record: unknown) => boolean {
  const patterns = (criteria?.Filters ?? []).map((f) => JSON.parse(f.Pattern ?? '{}') as Record<string, unknown>);
  if (!patterns.length) return () => true;
  return (record) => patterns.some((p) => matchObject(p, record));
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const v = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) return matchLeaf(rule, v);
    if (typeof rule === 'object' && rule !== null) return matchObject(rule as Record<string, unknown>, v);
    throw new FilterError(`filter: a pattern leaf must be an array, got ${JSON.stringify(rule)} at '${key}'`);
  });
}

function matchLeaf(alternatives: readonly unknown[], v: unknown): boolean {
  const values = Array.isArray(v) ? v : [v];
  return alternatives.some((alt) => {
    if (alt === null || typeof alt !== 'object') return v !== undefined && values.some((x) => x === alt);
    const [op, arg] = Object.entries(alt as Record<string, unknown>)[0] ?? [];
    switch (op) {
      case 'exists': return arg === (v !== undefined);
      case 'prefix': return values.some((x) => typeof x === 'string' && x.startsWith(String(arg)));
      case 'suffix': return values.some((x) => typeof x === 'string' && x.endsWith(String(arg)));
      case 'equals-ignore-case': return values.some((x) => typeof x === 'string' && x.toLowerCase() === String(arg).toLowerCase());
      case 'anything-but': {
        if (v === undefined) return false;
        if (typeof arg === 'object' && arg !== null && !Array.isArray(arg) && 'prefix' in arg) return values.every((x) => typeof x !== 'string' || !x.startsWith(String((arg as { prefix: string }).prefix)));
        const not = Array.isArray(arg) ? arg : [arg];
        return values.every((x) => !not.includes(x));
      }
      case 'numeric': {
        const ops = arg as unknown[];
        return values.some((x) => {
          const n = Number(x);
          if (!Number.isFinite(n)) return false;
          for (let i = 0; i < ops.length; i += 2) {
            const bound = Number(ops[i + 1]);
            const ok = ({ '=': n === bound, '<': n < bound, '<=': n <= bound, '>': n > bound, '>=': n >= bound } as Record<string, boolean>)[String(ops[i])];
            if (ok === undefined) throw new FilterError(`filter: numeric operator ${String(ops[i])} is not emulated`);
            if (!ok) return false;
          }
          return true;
        });
      }
      default: throw new FilterError(`filter: operator ${String(op)} is not emulated`);
    }
  });
}
