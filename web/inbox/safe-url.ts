/**
 * Which links the inbox may render from data it did not write (attachment URLs come from the
 * platforms' payloads, i.e. ultimately from whoever sent the message): `https:`, `blob:` and
 * relative URLs that stay on the inbox's own origin. Anything else — `javascript:` (runs in the
 * inbox's origin with the agent's token when clicked), `data:`, `vbscript:`, `http:`, a
 * protocol-relative `//host` or `/\host` that browsers resolve to another host — is shown as text.
 * The Content-Security-Policy (lib/web-inbox.ts, local/web.ts) blocks `javascript:` URLs as well;
 * this keeps them from being links at all.
 */
const ALLOWED_SCHEMES = new Set(['https:', 'blob:']);

/** The URL to put in `href`, or undefined when `raw` must not become a link. `base`: the page's URL. */
export function safeLinkUrl(raw: string | null | undefined, base: string): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  let url: URL;
  let baseUrl: URL;
  try {
    baseUrl = new URL(base);
    url = new URL(text, baseUrl);
  } catch {
    return undefined;
  }
  // A scheme written out (`https:`, `javascript:`, `JaVaScRiPt:`, with tabs or newlines inside,
  // which URL parsing strips) decides by itself; without one the URL is relative to the page.
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(text.replace(/[\t\n\r]/g, ''));
  if (absolute) return ALLOWED_SCHEMES.has(url.protocol) ? url.href : undefined;
  return url.origin === baseUrl.origin ? url.href : undefined;
}
