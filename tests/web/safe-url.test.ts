/**
 * The inbox's link filter (web/inbox/safe-url.ts, issue 17 finding 7): attachment URLs come from
 * platform payloads, so only `https:`, `blob:` and relative URLs on the inbox's own origin may
 * become links; every other scheme, however it is spelt, stays text.
 */
import { describe, expect, it } from 'vitest';
import { safeLinkUrl } from '../../web/inbox/safe-url.js';

const PAGE = 'https://d111111abcdef8.cloudfront.net/index.html#/tickets/01J';

describe('safeLinkUrl', () => {
  it.each([
    ['https://api.telegram.org/file/bot123/photos/file_1.jpg', 'https://api.telegram.org/file/bot123/photos/file_1.jpg'],
    ['  https://files.example/a b.pdf ', 'https://files.example/a%20b.pdf'],
    ['blob:https://d111111abcdef8.cloudfront.net/6f1c0c1e-5d7e-4b1b-8e3a-0c7e2a1f9d11', 'blob:https://d111111abcdef8.cloudfront.net/6f1c0c1e-5d7e-4b1b-8e3a-0c7e2a1f9d11'],
    ['/media/01J/invoice.pdf', 'https://d111111abcdef8.cloudfront.net/media/01J/invoice.pdf'],
    ['media/invoice.pdf', 'https://d111111abcdef8.cloudfront.net/media/invoice.pdf'],
  ])('links %s', (raw, href) => {
    expect(safeLinkUrl(raw, PAGE)).toBe(href);
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    'javascript://%0aalert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'http://files.example/plain.pdf',
    '//evil.example/x',
    '/\\evil.example/x',
    '\\\\evil.example\\x',
    '',
    '   ',
  ])('refuses %j', (raw) => {
    expect(safeLinkUrl(raw, PAGE)).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    expect(safeLinkUrl(undefined, PAGE)).toBeUndefined();
    expect(safeLinkUrl(null, PAGE)).toBeUndefined();
  });

  it('keeps same-origin relative links on the local runtime\'s http origin, never another origin\'s', () => {
    expect(safeLinkUrl('/media/x.png', 'http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000/media/x.png');
    expect(safeLinkUrl('http://127.0.0.1:3000/media/x.png', 'http://127.0.0.1:3000/')).toBeUndefined();
  });
});
