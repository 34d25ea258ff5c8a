/**
 * `npm run build:web [-- <dir>]`: the web inbox and the web-chat widget as static files (default
 * `dist/web/`), the same bundle the local runtime serves. Host them anywhere (S3 + CloudFront);
 * set `<meta name="confluo-api" content="https://<api host>">` in index.html when the Agent API
 * lives on another origin.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildWebAssets } from '../local/web.js';

const out = resolve(process.argv[2] ?? 'dist/web');
const assets = await buildWebAssets();
for (const [name, asset] of assets) {
  // `webchat/demo` is served without an extension locally; as a file it is an HTML page.
  const file = join(out, name === 'webchat/demo' ? 'webchat/demo.html' : name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, asset.body);
  console.log(`${file.slice(out.length + 1)}\t${asset.body.length} bytes`);
}
