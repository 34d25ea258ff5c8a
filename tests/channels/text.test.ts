/**
 * The shared splitter of long texts (functions/channels/text.ts): every part within the platform's
 * limit in the platform's own unit, nothing lost but the separators it reports, no part cut inside
 * a character, and the last part within a smaller limit where buttons need one.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeLimit, measureText, splitText, textParts, type TextPart, type TextUnit } from '../../functions/channels/text.js';
import { smsSegments } from '../../functions/domain/sms.js';

const joined = (parts: readonly TextPart[]) => parts.map((p) => p.text + p.sep).join('');

describe('measureText', () => {
  it('counts UTF-16 code units, code points or UTF-8 bytes', () => {
    const text = 'aż😀Я';
    expect(measureText(text, 'utf16')).toBe(5);
    expect(measureText(text, 'codepoint')).toBe(4);
    expect(measureText(text, 'utf8')).toBe(1 + 2 + 4 + 2);
    expect(measureText(text, 'utf8')).toBe(Buffer.byteLength(text, 'utf8'));
  });
});

describe('splitText', () => {
  it('cuts a Cyrillic text by bytes at word boundaries: 1,200 letters become 3 parts of at most 1,000 bytes', () => {
    const text = Array.from({ length: 240 }, () => 'слово').join(' ').slice(0, 1200);
    const parts = splitText(text, { max: 1000, unit: 'utf8' });
    expect(parts.length).toBe(3);
    for (const p of parts) expect(Buffer.byteLength(p.text, 'utf8')).toBeLessThanOrEqual(1000);
    expect(joined(parts)).toBe(text);
    expect(parts.slice(0, -1).every((p) => p.sep === ' ')).toBe(true);
  });

  it('keeps a text that fits as one part, unchanged', () => {
    expect(splitText('Привет', { max: 12, unit: 'utf8' })).toEqual([{ text: 'Привет', sep: '' }]);
    expect(splitText('', { max: 10, unit: 'utf16' })).toEqual([{ text: '', sep: '' }]);
  });

  it('never cuts inside a character when counting bytes or code points', () => {
    expect(splitText('😀😀😀', { max: 5, unit: 'utf8' }).map((p) => p.text)).toEqual(['😀', '😀', '😀']);
    expect(splitText('😀😀😀', { max: 2, unit: 'codepoint' }).map((p) => p.text)).toEqual(['😀😀', '😀']);
  });

  it('fits the last part into `lastMax` (the body that carries the buttons)', () => {
    const text = `${'a'.repeat(50)} ${'b'.repeat(30)}`;
    const parts = splitText(text, { max: 100, unit: 'utf16' }, { lastMax: 40 });
    expect(parts.map((p) => p.text)).toEqual(['a'.repeat(50), 'b'.repeat(30)]);
    expect(joined(parts)).toBe(text);
  });

  it('refuses a limit that cannot hold one character', () => {
    expect(() => splitText('x', { max: 3, unit: 'utf8' })).toThrow(RangeError);
  });

  it('keeps every part within the limit in every unit and loses only the separators it reports', () => {
    const unit = fc.constantFrom('a', 'b', ' ', '\n', '😀', 'é', 'Я', '\n\n', '中');
    const units = fc.constantFrom<TextUnit>('utf16', 'codepoint', 'utf8');
    fc.assert(fc.property(fc.array(unit, { maxLength: 600 }).map((u) => u.join('')), units, fc.integer({ min: 4, max: 64 }), fc.option(fc.integer({ min: 4, max: 64 }), { nil: undefined }), (text, u, max, lastMax) => {
      const parts = splitText(text, { max, unit: u }, lastMax === undefined ? {} : { lastMax });
      expect(joined(parts)).toBe(text);
      for (const [i, p] of parts.entries()) {
        expect(measureText(p.text, u)).toBeLessThanOrEqual(i === parts.length - 1 && lastMax !== undefined ? Math.min(max, lastMax) : max);
        if (text !== '') expect(p.text.length).toBeGreaterThan(0);
        expect(p.text).not.toMatch(/[\uD800-\uDBFF]$/);
        expect(p.text).not.toMatch(/^[\uDC00-\uDFFF]/);
      }
    }), { numRuns: 400 });
  });
});

describe('textParts and describeLimit', () => {
  it('gives the texts to send, or the text itself without a limit; names limits as people read them', () => {
    expect(textParts('a b', { max: 2, unit: 'utf16' })).toEqual(['a', 'b']);
    expect(textParts('x'.repeat(50_000), undefined)).toHaveLength(1);
    expect(describeLimit({ max: 1000, unit: 'utf8' })).toBe('1,000 bytes (UTF-8)');
    expect(describeLimit({ max: 4096, unit: 'codepoint' })).toBe('4,096 characters');
  });
});

describe('smsSegments', () => {
  it('is GSM-7 while every character is in the GSM alphabet, UCS-2 otherwise', () => {
    expect(smsSegments('Hello {you}')).toEqual({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 0 });
    expect(smsSegments('Cześć')).toEqual({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', segments: 2 });
    expect(smsSegments('a'.repeat(307))).toEqual({ encoding: 'GSM-7', segments: 3 });
  });
});
