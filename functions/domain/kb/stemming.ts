/**
 * Words → search terms per language (README "Knowledge base": search).
 *
 * Russian and Polish inflect heavily (доставка/доставки/доставку, zamówienie/zamówienia/
 * zamówieniu), so a plain word index misses most questions. Each language gets a stemmer:
 * English and Russian are the Snowball algorithms, Polish is NLP.js's own (Snowball has none;
 * https://snowballstem.org/algorithms/). The stemmers are imported file by file: the packages'
 * index modules also load sentiment dictionaries Confluo never uses.
 *
 * Stop words are dropped before stemming so that "where is my order" is about "order" — the
 * confidence of a match (functions/domain/kb/search.ts) counts only the words that carry meaning.
 */
import StemmerEn from '@nlpjs/lang-en-min/src/stemmer-en.js';
import StemmerPl from '@nlpjs/lang-pl/src/stemmer-pl.js';
import StemmerRu from '@nlpjs/lang-ru/src/stemmer-ru.js';

export const KB_LANGUAGES = ['en', 'ru', 'pl'] as const;
export type KbLanguage = (typeof KB_LANGUAGES)[number];

const STEMMERS: Record<KbLanguage, { stemWord(w: string): string }> = { en: new StemmerEn(), ru: new StemmerRu(), pl: new StemmerPl() };

// Short lists of function words (NLP.js has none for Polish); only words that never name a topic.
const STOP: Record<KbLanguage, ReadonlySet<string>> = {
  en: new Set('a an the is are was were be been am i me my we our you your he she it its they them their this that these those what which who whom where when why how do does did doing have has had to of in on at by for with about from up out if or and but not no so can could would should will shall may might must there here please hi hello thanks thank any some much many'.split(' ')),
  ru: new Set('и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между мою моё мое мои моих моего моей моему ваш ваша ваше вашего вашей сколько почему какие каким здравствуйте привет пожалуйста спасибо'.split(' ')),
  pl: new Set('a aby ach acz aczkolwiek aj albo ale ależ ani aż bardziej bardzo bo bowiem by byli bym być był była było były będzie będą cali cała cały ci cię ciebie co cokolwiek coś czy czyli daleko dla dlaczego dlatego do dobrze dokąd dość dużo dwa dwaj dwie dwoje dziś dzisiaj gdy gdyby gdyż gdzie gdziekolwiek gdzieś i ich ile im inna inne inny innych iż ja ją jak jaka jakaś jakby jaki jakichś jakie jakiś jakiż jakkolwiek jako jakoś je jeden jedna jedno jednak jednakże jego jej jemu jest jestem jeszcze jeśli jeżeli już każdy kiedy kilka kimś kto ktokolwiek ktoś która które którego której który których którym którzy ku lat lecz lub ma mają mam mi mimo między mną mnie mogą moi moim moja moje może możliwe można mój mu musi my na nad nam nami nas nasi nasz nasza nasze naszego naszych natomiast natychmiast nawet nią nic nich nie niego niej niemu nigdy nim nimi niż no o obok od około on ona one oni ono oraz oto owszem pan pana pani po pod podczas pomimo ponad ponieważ powinien powinna powinni powinno poza prawie przecież przed przede przedtem przez przy roku również sam sama są się skąd sobie sobą sposób swoje ta tak taka taki takie także tam te tego tej temu ten teraz też to tobą tobie toteż trzeba tu tutaj twoi twoim twoja twoje twym twój ty tych tylko tym u w wam wami was wasz wasza wasze we według wiele wielu więc więcej wszyscy wszystkich wszystkie wszystkim wszystko wtedy wy właśnie z za zapewne zawsze ze zł znowu znów został żaden żadna żadne żadnych że żeby dzień dobry proszę dziękuję cześć witam'.split(' ')),
};

/** Words of a text: letters and digits (any script), lower-cased. */
export function words(text: string): string[] {
  return text.toLocaleLowerCase().normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The search term of one word in `language`, or null for a stop word. */
export function termOf(word: string, language: KbLanguage): string | null {
  const w = word.toLocaleLowerCase();
  if (STOP[language].has(w)) return null;
  // Digits (order numbers, model codes) are kept as they are.
  if (/^\p{N}+$/u.test(w)) return w;
  return STEMMERS[language].stemWord(w) || w;
}

/** The search terms of a text in `language`, in order, stop words dropped. */
export function termsOf(text: string, language: KbLanguage): string[] {
  return words(text).map((w) => termOf(w, language)).filter((t): t is string => t !== null);
}

/**
 * The language of a short text when the caller did not say: Cyrillic → ru, Polish diacritics or
 * common Polish words → pl, otherwise `fallback`.
 */
export function guessLanguage(text: string, fallback: KbLanguage = 'en'): KbLanguage {
  if (/\p{Script=Cyrillic}/u.test(text)) return 'ru';
  if (/[ąćęłńóśźż]/iu.test(text) || /\b(jak|gdzie|moje|mój|zamówienie|czy|jest)\b/iu.test(text)) return 'pl';
  return fallback;
}
