// The Snowball-derived stemmers of NLP.js ship as CommonJS without type declarations; only
// `stemWord` is used (functions/domain/kb/stemming.ts).
declare module '@nlpjs/lang-en-min/src/stemmer-en.js' { export default class StemmerEn { stemWord(word: string): string } }
declare module '@nlpjs/lang-ru/src/stemmer-ru.js' { export default class StemmerRu { stemWord(word: string): string } }
declare module '@nlpjs/lang-pl/src/stemmer-pl.js' { export default class StemmerPl { stemWord(word: string): string } }
