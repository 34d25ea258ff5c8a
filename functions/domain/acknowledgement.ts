/**
 * The auto-acknowledgement a customer gets when a ticket opens (DESIGN.md §2): the ticket number
 * and the expected response time, in the customer's language when we have a template for it.
 */
export type AckTemplates = Readonly<Record<string, string>>;

export const DEFAULT_ACK_TEMPLATES: AckTemplates = {
  en: 'Thank you for contacting us. Your request number is {{ticket.number}}; we will reply within {{response_time}}.',
  ru: 'Спасибо за обращение. Номер вашего запроса {{ticket.number}}; мы ответим в течение {{response_time}}.',
  pl: 'Dziękujemy za kontakt. Numer Twojego zgłoszenia to {{ticket.number}}; odpowiemy w ciągu {{response_time}}.',
  de: 'Danke für Ihre Nachricht. Ihre Anfragenummer ist {{ticket.number}}; wir antworten innerhalb von {{response_time}}.',
  es: 'Gracias por escribirnos. Su número de solicitud es {{ticket.number}}; le responderemos en {{response_time}}.',
};

/**
 * The unit after "within", by plural category (`Intl.PluralRules` of the language, CLDR's rules):
 * ru «в течение» and pl «w ciągu» take the genitive — the singular form for the `one` category
 * (ru 1, 21, 31…: «в течение 21 часа»; pl only 1) and the genitive plural for `few` and `many`
 * (ru «2 часов», «5 часов», «111 часов»; pl «22 godzin», «21 godzin»). A hand-written `n === 1`
 * rule gets Russian 21, 31, 101… wrong. https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Intl/PluralRules
 */
type Forms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
const UNITS: Readonly<Record<string, { minute: Forms; hour: Forms }>> = {
  en: { minute: { one: 'minute', other: 'minutes' }, hour: { one: 'hour', other: 'hours' } },
  ru: { minute: { one: 'минуты', few: 'минут', many: 'минут', other: 'минуты' }, hour: { one: 'часа', few: 'часов', many: 'часов', other: 'часа' } },
  pl: { minute: { one: 'minuty', few: 'minut', many: 'minut', other: 'minuty' }, hour: { one: 'godziny', few: 'godzin', many: 'godzin', other: 'godziny' } },
  de: { minute: { one: 'Minute', other: 'Minuten' }, hour: { one: 'Stunde', other: 'Stunden' } },
  es: { minute: { one: 'minuto', other: 'minutos' }, hour: { one: 'hora', other: 'horas' } },
};

/** Base language of a tag (`pt-BR` → `pt`), lower-cased. */
export const baseLanguage = (tag: string | undefined) => (tag ?? '').toLowerCase().split(/[-_]/)[0] ?? '';

/** "21 часа", "5 godzin", "45 minutes": a response time as the sentence "we will reply within …" needs it. */
export function humanDuration(ms: number, lang: string): string {
  const known = UNITS[lang] ? lang : 'en';
  const u = UNITS[known]!;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const [n, forms] = minutes % 60 === 0 || minutes > 120 ? [Math.round(minutes / 60), u.hour] : [minutes, u.minute];
  const category = new Intl.PluralRules(known).select(n);
  return `${new Intl.NumberFormat(known).format(n)} ${forms[category] ?? forms.other}`;
}

export function acknowledgementText(args: { language?: string; ticketNumber: string; responseMs: number; templates?: AckTemplates }): { text: string; language: string } {
  const templates = args.templates ?? DEFAULT_ACK_TEMPLATES;
  const lang = templates[baseLanguage(args.language)] ? baseLanguage(args.language) : 'en';
  const template = templates[lang] ?? DEFAULT_ACK_TEMPLATES.en!;
  const text = template.replaceAll('{{ticket.number}}', args.ticketNumber).replaceAll('{{response_time}}', humanDuration(args.responseMs, lang));
  return { text, language: lang };
}
