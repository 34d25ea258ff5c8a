/**
 * Classification rules (DESIGN.md §2 "Classification"), pure: keyword or regular-expression rules,
 * per language, that set category / priority / team on a new ticket. Rules are tried in order;
 * for each field the first matching rule that sets it wins (a later rule can still fill a field
 * an earlier one left alone). Matching is case-insensitive on the ticket's first customer message
 * (and e-mail subject), cut to MAX_MATCH_TEXT characters.
 */
import { z } from 'zod';
import { PRIORITIES, type Priority } from './ticket.js';

export const MAX_MATCH_TEXT = 4096;

const Code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'expected 1-64 letters, digits, _ . : -');

export const RuleSchema = z.strictObject({
  id: Code,
  /** Language tag the rule applies to (`en`, `pl`, `pt-BR`; base language matches too); absent = any. */
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'expected a language tag like en or pt-BR').optional(),
  /** Any of these words or phrases (case-insensitive, whole words). */
  keywords: z.array(z.string().trim().min(1).max(100)).min(1).max(50).optional(),
  /** A JavaScript regular expression, matched case-insensitively. */
  pattern: z.string().min(1).max(200).optional(),
  set: z.strictObject({
    category: Code.optional(),
    priority: z.enum(PRIORITIES).optional(),
    team: Code.optional(),
  }).refine((s) => s.category !== undefined || s.priority !== undefined || s.team !== undefined, 'a rule must set category, priority or team'),
}).superRefine((r, ctx) => {
  if (!r.keywords && !r.pattern) ctx.addIssue({ code: 'custom', message: `rule '${r.id}' needs keywords or a pattern` });
  if (r.pattern) {
    try { new RegExp(r.pattern, 'iu'); } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `rule '${r.id}': pattern is not a valid regular expression (${(e as Error).message})` });
    }
  }
});
export type Rule = z.output<typeof RuleSchema>;

export const RuleListSchema = z.array(RuleSchema).max(200).superRefine((rules, ctx) => {
  const ids = rules.map((r) => r.id);
  for (const id of ids.filter((x, i) => ids.indexOf(x) !== i)) ctx.addIssue({ code: 'custom', message: `rule id '${id}' is used twice` });
});

export interface Classification {
  readonly category?: string;
  readonly priority?: Priority;
  readonly team?: string;
  /** Rules that contributed, in order. */
  readonly rules: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function languageMatches(rule: string | undefined, lang: string | null | undefined): boolean {
  if (!rule) return true;
  if (!lang) return false;
  const a = rule.toLowerCase();
  const b = lang.toLowerCase().replace('_', '-');
  return a === b || a === b.split('-')[0] || a.split('-')[0] === b;
}

export function ruleMatches(rule: Rule, text: string, language: string | null | undefined): boolean {
  if (!languageMatches(rule.language, language)) return false;
  const t = text.slice(0, MAX_MATCH_TEXT);
  if (rule.keywords?.some((k) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(k)}($|[^\\p{L}\\p{N}])`, 'iu').test(t))) return true;
  return rule.pattern !== undefined && new RegExp(rule.pattern, 'iu').test(t);
}

/** What the rules set on a ticket whose first message is `text` in `language`. */
export function classify(rules: readonly Rule[], text: string, language: string | null | undefined): Classification {
  const out: { category?: string; priority?: Priority; team?: string; rules: string[] } = { rules: [] };
  for (const r of rules) {
    if (!ruleMatches(r, text, language)) continue;
    let used = false;
    for (const f of ['category', 'priority', 'team'] as const) {
      if (r.set[f] !== undefined && out[f] === undefined) { (out as Record<string, unknown>)[f] = r.set[f]; used = true; }
    }
    if (used) out.rules.push(r.id);
  }
  return out;
}
