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

// [one, other] as used after "within": ru «в течение» and pl «w ciągu» take the genitive, which is
// the singular for 1 and the genitive plural for every other number.
const UNITS: Readonly<Record<string, { minute: [string, string]; hour: [string, string] }>> = {
  en: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'] },
  ru: { minute: ['минуты', 'минут'], hour: ['часа', 'часов'] },
  pl: { minute: ['minuty', 'minut'], hour: ['godziny', 'godzin'] },
  de: { minute: ['Minute', 'Minuten'], hour: ['Stunde', 'Stunden'] },
  es: { minute: ['minuto', 'minutos'], hour: ['hora', 'horas'] },
};

/** Base language of a tag (`pt-BR` → `pt`), lower-cased. */
export const baseLanguage = (tag: string | undefined) => (tag ?? '').toLowerCase().split(/[-_]/)[0] ?? '';

export function humanDuration(ms: number, lang: string): string {
  const u = UNITS[lang] ?? UNITS.en!;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const [n, forms] = minutes % 60 === 0 || minutes > 120 ? [Math.round(minutes / 60), u.hour] : [minutes, u.minute];
  return `${n} ${n === 1 ? forms[0] : forms[1]}`;
}

export function acknowledgementText(args: { language?: string; ticketNumber: string; responseMs: number; templates?: AckTemplates }): { text: string; language: string } {
  const templates = args.templates ?? DEFAULT_ACK_TEMPLATES;
  const lang = templates[baseLanguage(args.language)] ? baseLanguage(args.language) : 'en';
  const template = templates[lang] ?? DEFAULT_ACK_TEMPLATES.en!;
  const text = template.replaceAll('{{ticket.number}}', args.ticketNumber).replaceAll('{{response_time}}', humanDuration(args.responseMs, lang));
  return { text, language: lang };
}
