/**
 * Agents and the knowledge base, the pure parts (functions/domain/kb/agent-use.ts, article-text.ts):
 * which articles a reply links to, an article as messenger text, usefulness per article.
 */
import { describe, expect, it } from 'vitest';
import { articleLinksIn, articleUrl, articleUsefulness } from '../../../functions/domain/kb/agent-use.js';
import { articleAsText } from '../../../functions/domain/kb/article-text.js';

describe('articleLinksIn', () => {
  it('finds help-centre links by their article parameter, first mention first, each once, without a sentence\'s full stop', () => {
    expect(articleLinksIn('See https://s.example/help?article=en-returns. Or https://s.example/help.html?q=x&article=ru_2 and https://s.example/help?article=en-returns')).toEqual(['en-returns', 'ru_2']);
  });
  it('ignores text that only looks similar, and stops at five', () => {
    expect(articleLinksIn('article=x, ?articles=y, ?article=')).toEqual([]);
    expect(articleLinksIn(Array.from({ length: 9 }, (_, i) => `?article=a${i}`).join(' '))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });
  it('builds the help centre\'s article address from its page URL', () => {
    expect(articleUrl('https://d1.cloudfront.net/help.html?q=old#x', 'en-returns')).toBe('https://d1.cloudfront.net/help.html?article=en-returns');
  });
});

describe('articleAsText', () => {
  it('keeps paragraphs, bullets and numbers; spells links out; drops emphasis; leaves raw HTML and unsafe links as written', () => {
    const md = '# Returns\n\nWithin **30 days**: [the form](https://shop.example/returns), https://shop.example/faq or [policy](/policy).\n<b>hi</b> [x](javascript:alert(1))\n\n- one\n- two\n  - two a\n\n1. first\n2. second\n\n![Parcel label](https://i.example/p.png)';
    expect(articleAsText(md)).toBe('Returns\n\nWithin 30 days: the form (https://shop.example/returns), https://shop.example/faq or policy. <b>hi</b> [x](javascript:alert(1))\n\n• one\n• two\n  • two a\n\n1. first\n2. second\n\nParcel label');
  });
  it('resolves relative links against the help centre when it is known', () => {
    expect(articleAsText('[policy](/policy)', { base: 'https://s.example/help' })).toBe('policy (https://s.example/policy)');
  });
});

describe('articleUsefulness', () => {
  it('joins self-service and agent counts per article, with the still-need-help rate, busiest first', () => {
    const rows = articleUsefulness(
      [{ article_id: 'a', offered: 4, solved: 1, not_solved: 3 }, { article_id: 'b', offered: 1, solved: 0, not_solved: 0 }],
      [{ article_id: 'b', linked_in_replies: 7, resolutions: 2 }, { article_id: 'gone', linked_in_replies: 1, resolutions: 0 }],
      new Map([['a', 'A'], ['b', 'B']]),
    );
    expect(rows).toEqual([
      { article_id: 'b', title: 'B', offered: 1, solved: 0, still_need_help: 0, still_need_help_rate: null, linked_in_replies: 7, resolutions: 2 },
      { article_id: 'a', title: 'A', offered: 4, solved: 1, still_need_help: 3, still_need_help_rate: 0.75, linked_in_replies: 0, resolutions: 0 },
      { article_id: 'gone', title: null, offered: 0, solved: 0, still_need_help: 0, still_need_help_rate: null, linked_in_replies: 1, resolutions: 0 },
    ]);
  });
});
