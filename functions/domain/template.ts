/**
 * Canned answers (DESIGN.md §2 "Canned answers"), pure: templates per language with variables
 * `{{customer.first_name}}`, `{{customer.name}}`, `{{ticket.number}}`, `{{agent.name}}`,
 * `{{order.number}}`, `{{order.status}}` (the order the ticket's messages last mention, else the
 * customer's newest; README "Orders"), and an
 * optional fallback for a value that may be missing: `{{customer.first_name | there}}`.
 *
 * An unknown variable or a broken `{{ … }}` is refused when the template is saved (400), never
 * rendered as a blank; a known variable without a value and without a fallback refuses the reply
 * (422) instead of sending "Hello ,".
 */
export const TEMPLATE_VARIABLES = ['customer.first_name', 'customer.name', 'ticket.number', 'agent.name', 'order.number', 'order.status'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

type Part = { readonly text: string } | { readonly variable: TemplateVariable; readonly fallback: string | null };

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const TOKEN = /\{\{\s*([^{}|]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\}/g;

/** The parts of a template text; throws TemplateError naming the first problem. */
export function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const before = text.slice(last, m.index);
    checkLiteral(before, last);
    if (before) parts.push({ text: before });
    const name = m[1]!;
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
      throw new TemplateError(`unknown template variable {{${name}}} (known: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')})`, { cause: { position: m.index } });
    }
    parts.push({ variable: name as TemplateVariable, fallback: m[2] !== undefined && m[2] !== '' ? m[2] : null });
    last = m.index + m[0].length;
  }
  const tail = text.slice(last);
  checkLiteral(tail, last);
  if (tail) parts.push({ text: tail });
  return parts;
}

function checkLiteral(s: string, offset: number): void {
  const i = s.search(/\{\{|\}\}/);
  if (i >= 0) throw new TemplateError(`unbalanced '{{' or '}}' at character ${offset + i}: write variables as {{ticket.number}}`, { cause: { position: offset + i } });
}

/** Variables a template text uses (validates it). */
export function templateVariables(text: string): TemplateVariable[] {
  return [...new Set(parseTemplate(text).flatMap((p) => ('variable' in p ? [p.variable] : [])))];
}

export type TemplateValues = Partial<Record<TemplateVariable, string | null | undefined>>;

/** The text with its variables filled in, or the variables that have no value and no fallback. */
export function renderTemplate(text: string, values: TemplateValues): { ok: true; text: string } | { ok: false; missing: TemplateVariable[] } {
  const missing: TemplateVariable[] = [];
  let out = '';
  for (const p of parseTemplate(text)) {
    if ('text' in p) { out += p.text; continue; }
    const v = values[p.variable];
    if (v !== undefined && v !== null && v.trim() !== '') out += v;
    else if (p.fallback !== null) out += p.fallback;
    else missing.push(p.variable);
  }
  return missing.length ? { ok: false, missing: [...new Set(missing)] } : { ok: true, text: out };
}

/** First name from a display name ("Anna Kowalska" → "Anna"); null when there is none. */
export function firstNameOf(displayName: string | null | undefined): string | null {
  const first = (displayName ?? '').trim().split(/\s+/)[0];
  return first ? first : null;
}

/**
 * The body to use for a language: exact tag, then its base language (`pt-BR` → `pt`), then
 * English, then the first language in alphabetical order.
 */
export function pickLanguage(languages: readonly string[], wanted: string | null | undefined): string | null {
  if (languages.length === 0) return null;
  const norm = (l: string) => l.toLowerCase().replace('_', '-');
  const byNorm = new Map(languages.map((l) => [norm(l), l]));
  if (wanted) {
    const w = norm(wanted);
    if (byNorm.has(w)) return byNorm.get(w)!;
    const base = w.split('-')[0]!;
    if (byNorm.has(base)) return byNorm.get(base)!;
    const sameBase = [...byNorm.keys()].sort().find((l) => l.split('-')[0] === base);
    if (sameBase) return byNorm.get(sameBase)!;
  }
  return byNorm.get('en') ?? [...languages].sort()[0]!;
}
