/**
 * The Content-Security-Policy of Confluo's pages (the web inbox, the widget's demo page), served by
 * CloudFront (lib/web-inbox.ts) and by the local runtime (local/web.ts) alike. No CDK import: the
 * local server loads it without the CDK library.
 *
 * Scripts only from the page's own origin (no inline script, no `eval`, so neither an injected
 * `<script>` nor a `javascript:` URL runs — CSP blocks `javascript:` navigation without
 * 'unsafe-inline'); connections only to the origins the page talks to (its own, the Agent API,
 * the sign-in domain); no plugins, no `<base>` rewriting, no framing (clickjacking of the agents'
 * buttons). The demo shop page styles itself inline and the widget adds a `<style>` element, so
 * that page alone allows inline styles (styles cannot run script).
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Content-Security-Policy
 */
export interface CspOptions {
  /** Origins besides the page's own that `fetch`/`EventSource` may reach (e.g. `https://*.execute-api.eu-west-1.amazonaws.com`). */
  readonly connect?: readonly string[];
  /** Allow `style` attributes and `<style>` elements (the demo page and the widget). @default false */
  readonly inlineStyles?: boolean;
  /**
   * Origins besides the page's own that images, audio and video may load from: where signed
   * attachment URLs point (the media bucket, e.g. `https://*.s3.eu-west-1.amazonaws.com`).
   */
  readonly media?: readonly string[];
}

export function contentSecurityPolicy(opts: CspOptions = {}): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self'${opts.inlineStyles ? " 'unsafe-inline'" : ''}`,
    ['img-src', "'self'", 'data:', 'blob:', ...(opts.media ?? [])].join(' '),
    ['media-src', "'self'", 'blob:', ...(opts.media ?? [])].join(' '),
    ['connect-src', "'self'", ...(opts.connect ?? [])].join(' '),
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
