/**
 * Classification rules (DESIGN.md §2 "Classification"), pure: keyword or regular-expression rules,
 * per language, that set category / priority / team on a new ticket. Rules are tried in order;
 * for each field the first matching rule that sets it wins (a later rule can still fill a field
 * an earlier one left alone). Matching is case-insensitive on the ticket's first customer message
 * (and e-mail subject), cut to MAX_MATCH_TEXT characters.
 *
 * Patterns run on RE2 (the `re2js` port: pure JavaScript, no native module or WebAssembly file to
 * ship in the arm64 Lambda bundle), never on V8's backtracking engine. A pattern is written by a
 * supervisor but matched against text any sender controls, on every new ticket, inside the
 * dispatch function that also carries acknowledgements, replies and SLA starts: on V8,
 * `^(\w+\s?)+$` took 6.7 s on a 31-character text and passes the 30 s dispatch timeout near 35
 * characters, stalling the stream shard. RE2 matches in time linear in the text for every
 * pattern (https://github.com/google/re2/wiki/WhyRE2), so no text can do that; `npm run bench`
 * prints the figure for that pattern on a 4,096-character adversarial text. Refusing "dangerous"
 * patterns at save time instead would rest on a heuristic detector (star height, overlapping
 * alternatives) that misses cases; RE2 removes the class. The price is RE2's syntax: no
 * lookaround and no backreferences (the constructs that need backtracking). JavaScript spellings
 * RE2 lacks (`\uXXXX`, `(?<name>…)`, `\/`) are translated first, and a pattern RE2 cannot
 * compile is refused when saved (400 with RE2's reason). A stored pattern that no longer compiles
 * (saved before this rule) matches nothing and is reported in `Classification.unusable`.
 * Keywords stay on V8: they are escaped literals between two character classes, linear there.
 */
import { RE2JS } from 're2js';
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
  /**
   * A regular expression in RE2 syntax (JavaScript's, without lookaround and backreferences),
   * matched case-insensitively anywhere in the text, in time linear in the text.
   */
  pattern: z.string().min(1).max(200).optional(),
  set: z.strictObject({
    category: Code.optional(),
    priority: z.enum(PRIORITIES).optional(),
    team: Code.optional(),
  }).refine((s) => s.category !== undefined || s.priority !== undefined || s.team !== undefined, 'a rule must set category, priority or team'),
}).superRefine((r, ctx) => {
  if (!r.keywords && !r.pattern) ctx.addIssue({ code: 'custom', message: `rule '${r.id}' needs keywords or a pattern` });
  if (r.pattern) {
    try { compilePattern(r.pattern); } catch (e) {
      ctx.addIssue({
        code: 'custom', path: ['pattern'],
        message: `rule '${r.id}': pattern is not a valid regular expression for the linear-time (RE2) engine — lookaround and backreferences are not supported (${(e as Error).message})`,
      });
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
  /** Rules whose stored pattern RE2 cannot compile (saved before patterns were checked); present only when some are. */
  readonly unusable?: string[];
}

/** RE2 program of a pattern (JavaScript spellings translated first); throws RE2's syntax error. */
function compilePattern(pattern: string): RE2JS {
  return RE2JS.compile(RE2JS.translateRegExp(pattern), RE2JS.CASE_INSENSITIVE);
}

// Compiled programs by pattern: a deployment has at most 200 rules (RuleListSchema), and a warm
// dispatch function classifies many tickets with the same list. Bounded all the same.
const compiled = new Map<string, RE2JS | null>();
function programOf(pattern: string): RE2JS | null {
  let p = compiled.get(pattern);
  if (p === undefined) {
    try { p = compilePattern(pattern); } catch { p = null; }
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(pattern, p);
  }
  return p;
}

/** Whether a rule's pattern can be evaluated (false for a stored pattern RE2 cannot compile). */
export function patternUsable(rule: Rule): boolean {
  return rule.pattern === undefined || programOf(rule.pattern) !== null;
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
  if (rule.pattern === undefined) return false;
  return programOf(rule.pattern)?.test(t) ?? false;
}

/** What the rules set on a ticket whose first message is `text` in `language`. */
export function classify(rules: readonly Rule[], text: string, language: string | null | undefined): Classification {
  const out: { category?: string; priority?: Priority; team?: string; rules: string[]; unusable?: string[] } = { rules: [] };
  for (const r of rules) {
    if (!patternUsable(r)) (out.unusable ??= []).push(r.id);
    if (!ruleMatches(r, text, language)) continue;
    let used = false;
    for (const f of ['category', 'priority', 'team'] as const) {
      if (r.set[f] !== undefined && out[f] === undefined) { (out as Record<string, unknown>)[f] = r.set[f]; used = true; }
    }
    if (used) out.rules.push(r.id);
  }
  return out;
}
