/**
 * The web pages of the local runtime: the agents' web inbox at `/`, the help centre at `/help`
 * (README "Knowledge base"), the web-chat widget
 * (`/webchat/widget.js`, demo shop page `/webchat/demo`) and the inbox's `/config.json`
 * (development sign-in; the AWS deployment writes a Cognito one) — what CloudFront serves in
 * AWS. The widget's API (`/webchat/session`, `/webchat/messages`) is a route of the webhook API
 * like in AWS (local/server.ts).
 *
 * The browser code in `web/` is bundled by esbuild in memory on first request (no build step for
 * `npm start`); `npm run build:web` writes the same files to `dist/web/` for static hosting.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentSecurityPolicy, type CspOptions } from '../lib/content-security-policy.js';

export interface WebAsset { readonly body: Buffer; readonly type: string }

/** The HTML pages and their Content-Security-Policy options (the demo shop styles itself inline). */
const PAGES: Readonly<Record<string, CspOptions>> = { 'index.html': {}, 'help.html': {}, 'webchat/demo': { inlineStyles: true } };

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

/** Build every static file of the inbox and the widget: path (no leading `/`) → asset. */
export async function buildWebAssets(opts: { minify?: boolean } = {}): Promise<Map<string, WebAsset>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { 'inbox': join(WEB_DIR, 'inbox/main.ts'), 'help': join(WEB_DIR, 'help/help.ts'), 'webchat/widget': join(WEB_DIR, 'widget/widget.ts') },
    bundle: true, write: false, format: 'iife', target: ['es2020'], platform: 'browser',
    minify: opts.minify ?? true, legalComments: 'none', outdir: '/out', logLevel: 'silent',
  });
  const assets = new Map<string, WebAsset>();
  for (const f of result.outputFiles) assets.set(f.path.replace(/^\/out\//, ''), { body: Buffer.from(f.contents), type: 'text/javascript; charset=utf-8' });
  const file = async (name: string) => readFile(join(WEB_DIR, name));
  assets.set('index.html', { body: await file('inbox/index.html'), type: 'text/html; charset=utf-8' });
  // One stylesheet: the inbox's, the dashboard's and uPlot's (the CSP allows styles from 'self' only).
  const uplotCss = await readFile(fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css')));
  assets.set('inbox.css', { body: Buffer.concat([await file('inbox/inbox.css'), await file('dashboard/dashboard.css'), uplotCss]), type: 'text/css; charset=utf-8' });
  assets.set('help.html', { body: await file('help/index.html'), type: 'text/html; charset=utf-8' });
  assets.set('help.css', { body: await file('help/help.css'), type: 'text/css; charset=utf-8' });
  assets.set('webchat/demo', { body: await file('widget/demo.html'), type: 'text/html; charset=utf-8' });
  return assets;
}

/** `/config.json` of the local runtime: the API on the same origin, development sign-in. */
export const LOCAL_INBOX_CONFIG = { apiBase: '/api/v1', auth: { kind: 'dev' } } as const;

/** A request hook for the local server: true when it answered the request. */
export type WebRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export function createWebRoutes(): WebRoutes {
  let assets: Promise<Map<string, WebAsset>> | undefined;
  return async (req, res, url) => {
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (path === '/config.json') {
      // The inbox's run-time settings; in AWS the WebInbox deployment writes a Cognito one.
      const body = Buffer.from(JSON.stringify(LOCAL_INBOX_CONFIG));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(method === 'HEAD' ? undefined : body);
      return true;
    }
    // The help centre: `/help` locally, the file `help.html` on CloudFront.
    const name = path === '/' ? 'index.html' : path === '/help' ? 'help.html' : path.slice(1);
    if (!['index.html', 'inbox.js', 'inbox.css', 'help.html', 'help.js', 'help.css', 'webchat/widget.js', 'webchat/demo'].includes(name)) return false;
    // Built once, on first use; a failed build is retried on the next request.
    const built = await (assets ??= buildWebAssets().catch((e) => { assets = undefined; throw e; }));
    const asset = built.get(name)!;
    res.writeHead(200, {
      'content-type': asset.type, 'content-length': String(asset.body.length), 'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
      ...(name === 'webchat/widget.js' ? { 'access-control-allow-origin': '*' } : { 'x-frame-options': 'DENY' }),
      // The pages' policy as CloudFront sends it (lib/content-security-policy.ts); locally every
      // API is this origin.
      ...(PAGES[name] ? { 'content-security-policy': contentSecurityPolicy(PAGES[name]) } : {}),
    });
    res.end(method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
