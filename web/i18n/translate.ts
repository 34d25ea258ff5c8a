/**
 * Message catalogues for the web pages (inbox, dashboard, widget) in English, Russian and Polish.
 *
 * A message is plain text with `{name}` placeholders and ICU-like plurals
 * `{count, plural, =0 {…} one {…} few {…} many {…} other {…}}` (`#` in a branch is the number).
 * The branch is chosen by `Intl.PluralRules` of the locale — Russian and Polish have one/few/many
 * forms (1 час, 2 часа, 5 часов, 21 час, 22 часа): CLDR's rules, not a hand-written `n === 1`
 * (https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Intl/PluralRules).
 * Numbers in placeholders and plurals go through `Intl.NumberFormat` of the locale.
 *
 * This module has no dependency and no DOM use: the pages, the widget and Node tests share it.
 */
export type Locale = 'en' | 'ru' | 'pl';
export const LOCALES: readonly Locale[] = ['en', 'ru', 'pl'];

/** The first supported language among the candidates (`navigator.languages`, a stored choice…); English otherwise. */
export function pickLocale(candidates: readonly string[]): Locale {
  for (const c of candidates) {
    const base = (c ?? '').toLowerCase().split(/[-_]/)[0];
    if (base === 'en' || base === 'ru' || base === 'pl') return base;
  }
  return 'en';
}

type Params = Record<string, string | number>;

/**
 * A translator for `locale` (any tag: `ru-RU` → Russian; unsupported → English). A key missing in
 * the locale's catalogue falls back to English (the catalogue test keeps them complete).
 */
export function makeTranslator<M extends Record<string, string>>(catalogues: { en: M; ru: M; pl: M }, locale: string): (key: keyof M, params?: Params) => string {
  const lang = pickLocale([locale]);
  const catalogue = catalogues[lang];
  const plurals = new Intl.PluralRules(lang);
  const numbers = new Intl.NumberFormat(lang);
  return (key, params = {}) => {
    const message = catalogue[key] ?? catalogues.en[key] ?? String(key);
    return format(message, params, plurals, numbers);
  };
}

const show = (v: string | number | undefined, numbers: Intl.NumberFormat) => (typeof v === 'number' ? numbers.format(v) : v ?? '');

/** Index of the `}` closing the `{` at `open`. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`web/i18n/translate: unbalanced braces in a message at ${open}`);
}

function format(message: string, params: Params, plurals: Intl.PluralRules, numbers: Intl.NumberFormat, hash?: string): string {
  let out = '';
  let i = 0;
  while (i < message.length) {
    const ch = message[i]!;
    if (ch === '#' && hash !== undefined) { out += hash; i++; continue; }
    if (ch !== '{') { out += ch; i++; continue; }
    const end = closing(message, i);
    const inner = message.slice(i + 1, end);
    const m = /^\s*(\w+)\s*,\s*plural\s*,(.*)$/s.exec(inner);
    if (m) {
      const n = Number(params[m[1]!] ?? 0);
      out += format(branch(m[2]!, n, plurals), params, plurals, numbers, numbers.format(n));
    } else {
      out += show(params[inner.trim()], numbers);
    }
    i = end + 1;
  }
  return out;
}

/** The branch of a plural for `n`: an exact `=n` first, then the plural category, then `other`. */
function branch(body: string, n: number, plurals: Intl.PluralRules): string {
  const branches = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const sel = /^\s*(=\d+|zero|one|two|few|many|other)\s*\{/.exec(body.slice(i));
    if (!sel) break;
    const open = i + sel[0].length - 1;
    const end = closing(body, open);
    branches.set(sel[1]!, body.slice(open + 1, end));
    i = end + 1;
  }
  return branches.get(`=${n}`) ?? branches.get(plurals.select(n)) ?? branches.get('other') ?? '';
}
