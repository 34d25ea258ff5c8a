/**
 * Message catalogues of the web pages (issue 15): one catalogue per page with English, Russian and
 * Polish complete (the type makes a missing key a compile error, a test a run-time one).
 *
 * Messages are plain strings with `{name}` placeholders and ICU-like plurals
 * `{count, plural, one {# ticket} few {# tickets} many {# tickets} other {# tickets}}`; the plural
 * category comes from `Intl.PluralRules` of the locale (Russian and Polish need one/few/many).
 * https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Intl/PluralRules
 */
export type Locale = 'en' | 'ru' | 'pl';
export const LOCALES: readonly Locale[] = ['en', 'ru', 'pl'];

/** The first supported language among the candidates (e.g. `navigator.languages`), else English. */
export function pickLocale(candidates: readonly string[]): Locale {
  for (const c of candidates) {
    const base = c.toLowerCase().split(/[-_]/)[0];
    if ((LOCALES as readonly string[]).includes(base ?? '')) return base as Locale;
  }
  return 'en';
}

/** Replace `{name}` and expand `{name, plural, …}` with `params`. */
function format(message: string, locale: string, params: Record<string, string | number>): string {
  const rules = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  let out = '';
  let i = 0;
  while (i < message.length) {
    const open = message.indexOf('{', i);
    if (open < 0) { out += message.slice(i); break; }
    out += message.slice(i, open);
    // The matching brace (plural branches nest one level of braces).
    let depth = 0;
    let close = open;
    for (; close < message.length; close++) {
      if (message[close] === '{') depth += 1;
      else if (message[close] === '}' && --depth === 0) break;
    }
    const body = message.slice(open + 1, close);
    const plural = /^\s*(\w+)\s*,\s*plural\s*,([\s\S]*)$/.exec(body);
    if (plural) {
      const n = Number(params[plural[1]!] ?? 0);
      const branches = new Map<string, string>();
      for (const m of plural[2]!.matchAll(/(=?\w+)\s*\{([^{}]*)\}/g)) branches.set(m[1]!, m[2]!);
      const branch = branches.get(`=${n}`) ?? branches.get(rules.select(n)) ?? branches.get('other') ?? '';
      out += format(branch.replace(/#/g, numbers.format(n)), locale, params);
    } else {
      const v = params[body.trim()];
      out += v === undefined ? `{${body}}` : typeof v === 'number' ? numbers.format(v) : v;
    }
    i = close + 1;
  }
  return out;
}

export function makeTranslator<M extends Record<string, string>>(catalogues: { en: M; ru: M; pl: M }, locale: string): (key: keyof M, params?: Record<string, string | number>) => string {
  const lang = pickLocale([locale]);
  const catalogue = catalogues[lang];
  return (key, params = {}) => format(catalogue[key] ?? catalogues.en[key] ?? String(key), lang, params);
}
