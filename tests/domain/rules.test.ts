import { describe, expect, it } from 'vitest';
import { classify, RuleListSchema, RuleSchema, type Rule } from '../../functions/domain/rules.js';

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
});
