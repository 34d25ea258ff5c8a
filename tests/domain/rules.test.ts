import { describe, expect, it } from 'vitest';
import { classify, MAX_MATCH_TEXT, RuleListSchema, RuleSchema, type Rule } from '../../functions/domain/rules.js';

const rules: Rule[] = RuleListSchema.parse([
  { id: 'refund-en', language: 'en', keywords: ['refund', 'money back'], set: { category: 'refund', team: 'billing' } },
  { id: 'refund-pl', language: 'pl', pattern: 'zwrot\\w*', set: { category: 'refund', team: 'billing' } },
  { id: 'angry', pattern: '(urgent|asap|!!!)', set: { priority: 'urgent' } },
  { id: 'fallback', keywords: ['order'], set: { category: 'orders', priority: 'low' } },
]);

describe('classification rules', () => {
  it('matches keywords as whole words, case-insensitively, in the rule\'s language', () => {
    expect(classify(rules, 'I want a REFUND please', 'en')).toEqual({ category: 'refund', team: 'billing', rules: ['refund-en'] });
    expect(classify(rules, 'refunding is not a word here', 'en')).toEqual({ rules: [] });
    expect(classify(rules, 'I want a refund', 'de')).toEqual({ rules: [] });
    expect(classify(rules, 'I want a refund', 'en-GB')).toMatchObject({ category: 'refund' });
  });

  it('matches a regular expression; the first rule that sets a field wins, later rules fill the rest', () => {
    expect(classify(rules, 'Proszę o zwrot pieniędzy ASAP, order 5', 'pl')).toEqual({ category: 'refund', team: 'billing', priority: 'urgent', rules: ['refund-pl', 'angry'] });
    expect(classify(rules, 'where is my order', null)).toEqual({ category: 'orders', priority: 'low', rules: ['fallback'] });
  });

  it('refuses a rule with a bad regular expression, with nothing to match, or that sets nothing', () => {
    expect(RuleSchema.safeParse({ id: 'x', pattern: '(unclosed', set: { priority: 'high' } }).error?.issues[0]?.message).toMatch(/not a valid regular expression/);
    expect(RuleSchema.safeParse({ id: 'x', set: { priority: 'high' } }).success).toBe(false);
    expect(RuleSchema.safeParse({ id: 'x', keywords: ['a'], set: {} }).success).toBe(false);
    expect(RuleListSchema.safeParse([{ id: 'a', keywords: ['x'], set: { team: 't' } }, { id: 'a', keywords: ['y'], set: { team: 't' } }]).success).toBe(false);
  });

  it('refuses patterns that need backtracking (lookaround, backreferences) with the reason', () => {
    for (const pattern of ['(?=refund)ref', '(?!x)y', '(a+)\\1']) {
      const r = RuleSchema.safeParse({ id: 'x', pattern, set: { priority: 'high' } });
      expect(r.success, pattern).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/linear-time \(RE2\) engine — lookaround and backreferences are not supported/);
    }
  });

  it('accepts JavaScript spellings RE2 lacks (\\u escapes, named groups) and matches with them', () => {
    const r = RuleListSchema.parse([{ id: 'e', pattern: 'caf\\u00e9|(?<w>zwrot)', set: { category: 'c' } }]);
    expect(classify(r, 'Le CAFÉ est froid', 'fr')).toEqual({ category: 'c', rules: ['e'] });
    expect(classify(r, 'ZWROT', 'pl')).toEqual({ category: 'c', rules: ['e'] });
  });

  it('classifies against the ReDoS pattern ^(\\w+\\s?)+$ on a 4,096-character adversarial text (no backtracking)', () => {
    const redos = RuleListSchema.parse([{ id: 'redos', pattern: '^(\\w+\\s?)+$', set: { priority: 'urgent' } }]);
    const adversarial = 'a'.repeat(MAX_MATCH_TEXT - 1) + '!';
    expect(classify(redos, adversarial, 'en')).toEqual({ rules: [] });
    expect(classify(redos, 'plain words only', 'en')).toEqual({ priority: 'urgent', rules: ['redos'] });
  });

  it('skips a stored pattern RE2 cannot compile (saved before patterns were checked) and names it', () => {
    const stored = [{ id: 'old', pattern: '(?=x)x', set: { team: 't' } }, { id: 'kw', keywords: ['x'], set: { team: 'u' } }] as Rule[];
    expect(classify(stored, 'x', 'en')).toEqual({ team: 'u', rules: ['kw'], unusable: ['old'] });
  });
});
