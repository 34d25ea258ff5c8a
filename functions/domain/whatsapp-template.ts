/**
 * WhatsApp message templates, pure: the registry entries mirror what the business registered and
 * Meta approved (WhatsApp Manager → Message templates), because outside the 24-hour window WhatsApp
 * takes only such a template (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
 *
 * An entry names the template as Meta knows it (`name`, `language`), its `category`, the `body`
 * as registered with its positional parameters `{{1}}`, `{{2}}`, … and, for each, the Confluo
 * value that fills it (`parameters`: `customer.first_name`, `ticket.number`, …). `use_for` makes it
 * the template surveys or their reminders go out as once the window has closed.
 *
 * Sending fills the parameters in order (`fillWhatsAppTemplate`): the request carries the values
 * as the body component's `text` parameters; the timeline shows the body with them filled in. A
 * value the ticket does not have refuses the message (WhatsApp rejects empty parameters, 131008).
 *
 * @module
 */
import { z } from 'zod';
import { TEMPLATE_VARIABLES, type TemplateValues, type TemplateVariable } from './template.js';

/** Meta's template names: lowercase letters, digits and underscores (https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates). */
const NAME = /^[a-z0-9_]{1,512}$/;
/** Meta's template language codes: `en`, `en_US`, `pt_BR`, `zh_CN` … */
const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
/** A template body is at most 1,024 characters. */
export const WHATSAPP_TEMPLATE_BODY_MAX = 1024;
const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

export const WhatsAppTemplateSchema = z.strictObject({
  name: z.string().regex(NAME, 'a template name as registered in Meta: lowercase letters, digits and _'),
  language: z.string().regex(LANGUAGE, 'a template language code as registered in Meta, e.g. en, en_US, pt_BR'),
  category: z.enum(['UTILITY', 'MARKETING', 'AUTHENTICATION']),
  body: z.string().min(1).max(WHATSAPP_TEMPLATE_BODY_MAX),
  /** The Confluo value of each positional parameter: `parameters[0]` fills `{{1}}`. */
  parameters: z.array(z.enum(TEMPLATE_VARIABLES)).max(20).default([]),
  /** Send surveys (`survey`) or their reminders (`reminder`) as this template once the window has closed. */
  use_for: z.array(z.enum(['survey', 'reminder'])).max(2).optional(),
}).superRefine((t, ctx) => {
  const used = [...t.body.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
  const n = used.length === 0 ? 0 : Math.max(...used);
  for (let i = 1; i <= n; i++) {
    if (!used.includes(i)) ctx.addIssue({ code: 'custom', path: ['body'], message: `the body uses {{${n}}} but not {{${i}}}: parameters are numbered 1, 2, 3 … without gaps` });
  }
  if (n !== t.parameters.length) ctx.addIssue({ code: 'custom', path: ['parameters'], message: `the body has ${n} parameter(s) ({{1}} … {{${n}}}); give one Confluo value for each, in order` });
  if (/\{\{(?!\s*\d+\s*\}\})/.test(t.body)) ctx.addIssue({ code: 'custom', path: ['body'], message: 'write parameters as WhatsApp does: {{1}}, {{2}} …' });
});
export type WhatsAppTemplate = z.infer<typeof WhatsAppTemplateSchema>;

export const WhatsAppTemplateListSchema = z.array(WhatsAppTemplateSchema).max(200).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((t, i) => {
    const key = `${t.name}:${t.language}`;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `template ${t.name} in ${t.language} is listed twice` });
    seen.add(key);
  });
});

/** What a template message carries: the values in parameter order, and the body as the customer reads it. */
export interface FilledTemplate { readonly name: string; readonly language: string; readonly parameters: string[]; readonly text: string }

/** Fill a template's parameters from this ticket's values, or name the values it lacks. */
export function fillWhatsAppTemplate(t: WhatsAppTemplate, values: TemplateValues): { ok: true; value: FilledTemplate } | { ok: false; missing: TemplateVariable[] } {
  const parameters: string[] = [];
  const missing: TemplateVariable[] = [];
  for (const v of t.parameters) {
    const value = values[v];
    if (value === undefined || value === null || value.trim() === '') missing.push(v);
    else parameters.push(value.trim());
  }
  if (missing.length) return { ok: false, missing: [...new Set(missing)] };
  const text = t.body.replace(PLACEHOLDER, (_, n: string) => parameters[Number(n) - 1] ?? '');
  return { ok: true, value: { name: t.name, language: t.language, parameters, text } };
}

/**
 * The registered template for a use (`survey`, `reminder`) closest to a language: the exact code,
 * then the same base language (`pt` for `pt_BR`), then English, then the first registered.
 */
export function templateFor(list: readonly WhatsAppTemplate[], use: 'survey' | 'reminder', language: string | null | undefined): WhatsAppTemplate | undefined {
  const candidates = list.filter((t) => t.use_for?.includes(use));
  if (candidates.length === 0) return undefined;
  const norm = (l: string) => l.toLowerCase().replace('-', '_');
  const wanted = language ? norm(language) : undefined;
  const base = (l: string) => norm(l).split('_')[0];
  return candidates.find((t) => wanted !== undefined && norm(t.language) === wanted)
    ?? candidates.find((t) => wanted !== undefined && base(t.language) === base(wanted))
    ?? candidates.find((t) => base(t.language) === 'en')
    ?? candidates[0];
}
