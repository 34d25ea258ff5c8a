import { describe, expect, it } from 'vitest';
import { messagePreview, PREVIEW_GRAPHEMES } from '../../functions/domain/message-preview.js';

const graphemes = (s: string) => [...new Intl.Segmenter().segment(s)].length;

describe('message preview (inbox list row)', () => {
  it('is the first line with text, without markup', () => {
    expect(messagePreview('\n\n  <p>Где <b>мой</b> заказ?</p>&nbsp;\nвторая строка')).toBe('Где мой заказ?');
    expect(messagePreview('**Pilne**: `zamówienie` 4411 &amp; zwrot\r\nDruga')).toBe('Pilne: zamówienie 4411 & zwrot');
  });

  it('cuts at 120 grapheme clusters, never inside an emoji, a flag or a letter with combining marks', () => {
    const long = '👍🏽🇵🇱é'.repeat(60); // each "é" is e + U+0301: 3 graphemes per repeat, 180 in all
    const p = messagePreview(long);
    expect(graphemes(p)).toBe(PREVIEW_GRAPHEMES);
    expect(p.endsWith('…')).toBe(true);
    expect(long.startsWith(p.slice(0, -1))).toBe(true);
    expect(messagePreview('a'.repeat(120))).toBe('a'.repeat(120));
    expect(messagePreview('a'.repeat(121))).toBe(`${'a'.repeat(119)}…`);
  });

  it('names the first file when the message has no text, and is empty without either', () => {
    expect(messagePreview('', [{ type: 'document', file_name: 'faktura-7.pdf' }])).toBe('📎 faktura-7.pdf');
    expect(messagePreview(null, [{ type: 'image' }])).toBe('📎 image');
    expect(messagePreview('   ')).toBe('');
  });
});
