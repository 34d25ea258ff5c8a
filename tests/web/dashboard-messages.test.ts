/**
 * The dashboard's catalogue (web/dashboard/messages.ts) is complete in en, ru and pl, and the
 * translator (web/i18n/translate.ts) picks plural forms through Intl.PluralRules.
 */
import { describe, expect, it } from 'vitest';
import { DASHBOARD_MESSAGES } from '../../web/dashboard/messages.js';
import { makeTranslator, pickLocale } from '../../web/i18n/translate.js';
import { toCsv } from '../../web/dashboard/csv.js';

describe('dashboard messages', () => {
  it('has every key in every language, none empty, the same placeholders', () => {
    const keys = Object.keys(DASHBOARD_MESSAGES.en).sort();
    for (const lang of ['ru', 'pl'] as const) {
      const cat = DASHBOARD_MESSAGES[lang] as Record<string, string>;
      expect(Object.keys(cat).sort(), lang).toEqual(keys);
      for (const k of keys) {
        expect(cat[k]!.trim(), `${lang}.${k}`).not.toBe('');
        const names = (s: string) => [...s.matchAll(/\{(\w+)/g)].map((m) => m[1]).sort();
        expect(names(cat[k]!), `${lang}.${k}`).toEqual(names((DASHBOARD_MESSAGES.en as Record<string, string>)[k]!));
      }
    }
  });

  it('says 1 / 3 / 5 / 21 customers as Russian and Polish say them', () => {
    const ru = makeTranslator(DASHBOARD_MESSAGES, 'ru-RU');
    expect([1, 3, 5, 21, 22].map((count) => ru('hoppers_count', { count }).split(',')[0])).toEqual(['1 клиент', '3 клиента', '5 клиентов', '21 клиент', '22 клиента']);
    const pl = makeTranslator(DASHBOARD_MESSAGES, 'pl');
    expect([1, 3, 5, 22].map((count) => pl('hoppers_count', { count }).split(',')[0])).toEqual(['1 klient', '3 klientów', '5 klientów', '22 klientów']);
    const en = makeTranslator(DASHBOARD_MESSAGES, 'en-US');
    expect(en('load_failed', { error: 'HTTP 500' })).toBe('Could not load the dashboard: HTTP 500');
    expect(en('recurring_weeks', { this: 'A', thisCount: 1, last: 'B', lastCount: 1200 })).toBe('This week A (1 ticket), last week B (1,200 tickets)');
  });

  it('picks the first supported browser language, else English', () => {
    expect(pickLocale(['de-DE', 'pl-PL', 'en'])).toBe('pl');
    expect(pickLocale(['ru'])).toBe('ru');
    expect(pickLocale(['de', 'fr'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('writes CSV with quoted cells where needed', () => {
    expect(toCsv(['Day', 'Value'], [['1 Mar', 3], ['a "b", c', null]])).toBe('Day,Value\r\n1 Mar,3\r\n"a ""b"", c",\r\n');
  });
});
