/**
 * The message catalogues of the web pages (web/i18n/translate.ts): English, Russian and Polish
 * hold exactly the same keys, no message is empty, plurals have the forms their language needs,
 * and every `t('…')` in a page's sources names a key of its catalogue.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTranslator, pickLocale } from '../../web/i18n/translate.js';
import * as inbox from '../../web/inbox/messages.js';
import * as widget from '../../web/widget/messages.js';
import { DASHBOARD_MESSAGES as dashboard } from '../../web/dashboard/messages.js';
import { REPO_ROOT } from '../helpers/samples.js';

const PAGES = { 'web/inbox': inbox, 'web/widget': widget, 'web/dashboard': dashboard } as const;

/** The literal keys of every `t('…')` call in a directory's TypeScript (catalogues excluded). */
function usedKeys(dir: string): string[] {
  const keys: string[] = [];
  for (const f of readdirSync(join(REPO_ROOT, dir)).filter((n) => n.endsWith('.ts') && n !== 'messages.ts')) {
    const src = readFileSync(join(REPO_ROOT, dir, f), 'utf8');
    for (const m of src.matchAll(/\bt\(\s*(['"])([^'"]+)\1/g)) keys.push(m[2]!);
  }
  return keys;
}

describe('web message catalogues', () => {
  for (const [dir, c] of Object.entries(PAGES)) {
    it(`${dir}: Russian and Polish have exactly the English keys, none empty`, () => {
      const en = Object.keys(c.en).sort();
      expect(Object.keys(c.ru).sort()).toEqual(en);
      expect(Object.keys(c.pl).sort()).toEqual(en);
      for (const cat of [c.en, c.ru, c.pl]) for (const [k, v] of Object.entries(cat)) expect(v.trim(), k).not.toBe('');
    });

    it(`${dir}: every t('…') of the sources is a key of the catalogue`, () => {
      const used = usedKeys(dir);
      expect(used.length).toBeGreaterThan(10);
      expect(used.filter((k) => !(k in c.en))).toEqual([]);
    });

    it(`${dir}: placeholders match across languages, and ru/pl plurals have one, few and many`, () => {
      const names = (m: string) => [...m.matchAll(/\{(\w+)(?=[},])/g)].map((x) => x[1]).sort();
      for (const k of Object.keys(c.en) as Array<keyof typeof c.en>) {
        for (const lang of ['ru', 'pl'] as const) {
          const msg = (c[lang] as Record<string, string>)[k]!;
          expect(names(msg), `${lang} ${String(k)}`).toEqual(names(c.en[k]));
          if (/plural/.test(msg)) for (const form of ['one {', 'few {', 'many {', 'other {']) expect(msg, `${lang} ${String(k)}`).toContain(form);
        }
      }
    });
  }

  it('a catalogue missing a key or holding an extra one fails the comparison', () => {
    const { 'list.empty': _gone, ...missing } = inbox.ru;
    expect(Object.keys(missing).sort()).not.toEqual(Object.keys(inbox.en).sort());
    expect(Object.keys({ ...inbox.pl, 'list.extra': 'x' }).sort()).not.toEqual(Object.keys(inbox.en).sort());
  });

  it('plural forms through Intl.PluralRules: 1, 2, 5, 21, 22, 25, 111 in ru and pl', () => {
    const counts = [1, 2, 5, 21, 22, 25, 111];
    const msgs = (lang: string) => counts.map((count) => makeTranslator(inbox, lang)('row.messages', { count }));
    expect(msgs('ru')).toEqual(['1 сообщение', '2 сообщения', '5 сообщений', '21 сообщение', '22 сообщения', '25 сообщений', '111 сообщений']);
    expect(msgs('pl')).toEqual(['1 wiadomość', '2 wiadomości', '5 wiadomości', '21 wiadomości', '22 wiadomości', '25 wiadomości', '111 wiadomości']);
    expect(msgs('en-GB')).toEqual(['1 message', '2 messages', '5 messages', '21 messages', '22 messages', '25 messages', '111 messages']);
    expect(makeTranslator(inbox, 'ru')('span.days', { count: 21 })).toBe('21 день');
    expect(makeTranslator(widget, 'pl')('unread', { count: 22 })).toBe('22 nowe wiadomości');
    // Numbers through Intl.NumberFormat of the language.
    expect(makeTranslator(inbox, 'ru')('row.messages', { count: 12345 })).toBe(`12${'\u00a0'}345 сообщений`);
  });

  it('picks the first supported language of the candidates, English otherwise', () => {
    expect(pickLocale(['de-DE', 'pl-PL', 'ru'])).toBe('pl');
    expect(pickLocale(['ru_RU'])).toBe('ru');
    expect(pickLocale(['fr', 'de'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });
});
