/**
 * `tsx bench/kb.ts` (or `npm run bench -- kb`): the knowledge base's in-memory search — index
 * build time for N published articles (BENCH_KB_ARTICLES, default 2,000; a third each in en, ru,
 * pl, ~1,500 characters of body each) and the time of a search, as a warm help-api instance does
 * them (functions/domain/kb/search.ts). Printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { KbIndex, type KbSearchable } from '../functions/domain/kb/search.js';
import type { KbLanguage } from '../functions/domain/kb/stemming.js';

const N = Number(process.env.BENCH_KB_ARTICLES ?? 2000);
const WORDS: Record<KbLanguage, string[]> = {
  en: 'order delivery parcel return refund warranty kettle payment card invoice address change cancel track shipping courier store account password discount voucher size colour exchange broken damaged missing late'.split(' '),
  ru: 'заказ доставка посылка возврат деньги гарантия чайник оплата карта счёт адрес изменить отменить отследить курьер магазин аккаунт пароль скидка купон размер цвет обмен сломан повреждён потерян задержка'.split(' '),
  pl: 'zamówienie dostawa paczka zwrot pieniądze gwarancja czajnik płatność karta faktura adres zmienić anulować śledzić kurier sklep konto hasło rabat kupon rozmiar kolor wymiana uszkodzony zagubiony opóźnienie'.split(' '),
};
let seed = 42;
const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
const text = (lang: KbLanguage, words: number) => Array.from({ length: words }, () => WORDS[lang][rand(WORDS[lang].length)]).join(' ');

const languages: KbLanguage[] = ['en', 'ru', 'pl'];
const articles: KbSearchable[] = Array.from({ length: N }, (_, i) => {
  const language = languages[i % 3]!;
  return { id: `a${i}`, title: text(language, 6), body: text(language, 200), category: WORDS[language][i % 10]!, tags: [WORDS[language][i % 7]!], language };
});

const row = (label: string, value: string) => console.log(`  ${label.padEnd(48)} ${value}`);
console.log(`knowledge base search (${N} articles, MiniSearch + NLP.js stemmers)`);
const heapBefore = process.memoryUsage().heapUsed;
let t = performance.now();
const index = KbIndex.build(articles);
row('index build', `${(performance.now() - t).toFixed(0)} ms`);
row('heap held by the index (approx.)', `${((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(1)} MB`);
const queries: Array<[string, KbLanguage]> = [['where is my parcel delivery', 'en'], ['когда придёт доставка заказа', 'ru'], ['jak zwrócić zamówienie', 'pl']];
for (const [q, language] of queries) {
  const rounds = 200;
  t = performance.now();
  for (let i = 0; i < rounds; i++) index.search(q, { language, limit: 5 });
  row(`search "${q}" (${language})`, `${((performance.now() - t) / rounds).toFixed(2)} ms`);
}
