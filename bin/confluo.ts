/**
 * `npx confluo …`: the local command line (export, query). The commands live in local/cli.ts;
 * see its header or `npx confluo help`.
 */
import { runCli } from '../local/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
});
process.exitCode = code;
