/** Article bodies as plain text (functions/domain/kb/plain-text.ts). */
import { describe, expect, it } from 'vitest';
import { readableText, snippetOf } from '../../../functions/domain/kb/plain-text.js';

describe('article bodies as plain text', () => {
  it('shows a body on a messenger with its paragraphs, without markup, links as label and address', () => {
    const body = '# Returns\n\nYou can return orders within **30 days**.   Use `the form`.\n\n\n\n[Policy](https://shop.example/returns "title") · [Form](javascript:void) ![logo](https://x/y.png)';
    expect(readableText(body)).toBe('Returns\n\nYou can return orders within 30 days. Use the form.\n\nPolicy (https://shop.example/returns) · Form logo');
  });

  it('cuts a snippet at a word', () => {
    expect(snippetOf('word '.repeat(100), 20)).toBe('word word word word…');
  });
});
