/**
 * `npm start`: the whole system on this machine (DynamoDB Local, queues, stream, outbox, clock).
 * Flags: --in-memory (start from nothing, keep nothing); --sample-secrets (every channel enabled
 * with the public test secrets its samples are signed with; the environment still wins); --demo
 * (in memory, sample secrets, then a seeded month of tickets on the virtual clock for the
 * supervisors' dashboard: local/demo.ts).
 * Settings: see the README table.
 */
import { channels } from '../functions/channels/registry.js';
import { isEnabled } from '../functions/handlers/ingest.js';
import { testSecretsIn } from '../functions/runtime/config.js';
import { startRuntime } from '../local/runtime.js';
import { SAMPLE_SETTINGS } from '../local/sample-settings.js';
import { runDemo } from '../local/demo.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const FLAGS = ['--in-memory', '--sample-secrets', '--demo'];
const demo = process.argv.includes('--demo');
// The demo month goes into a store of its own that is gone when the runtime stops.
const inMemory = demo || process.argv.includes('--in-memory');
const sampleSecrets = demo || process.argv.includes('--sample-secrets');
const unknown = process.argv.slice(2).filter((a) => !FLAGS.includes(a));
if (unknown.length) {
  console.error(`confluo: unknown argument(s) ${unknown.join(' ')} (known: ${FLAGS.join(', ')})`);
  process.exit(2);
}

const started = Date.now();
const env = sampleSecrets ? { ...SAMPLE_SETTINGS, ...process.env } : process.env;
const runtime = await startRuntime({ inMemory, env }).catch((e: Error) => {
  console.error(`confluo: could not start: ${e.message}`);
  process.exit(1);
});

const secrets = runtime.config as unknown as Record<string, string | undefined>;
const enabled = Object.values(channels).filter((c) => isEnabled(c, secrets)).map((c) => c.name);
const disabled = Object.values(channels).filter((c) => !isEnabled(c, secrets)).map((c) => `${c.name} (set ${c.inboundSecrets.join(', ')})`);
console.log([
  `Confluo local runtime ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  `  url        ${runtime.url}   (health: ${runtime.url}/healthz, API docs: ${runtime.url}/api/v1/openapi.json)`,
  `  webhooks   ${runtime.url}/webhooks/{channel}`,
  `  inbox      ${runtime.url}/   (web-chat demo: ${runtime.url}/webchat/demo)`,
  `  channels   ${enabled.length ? enabled.join(', ') : 'none enabled'}`,
  ...(disabled.length ? [`  disabled   ${disabled.join('; ')} → answer 404`] : []),
  `  data       ${runtime.dataDir ?? 'in memory (nothing kept)'}`,
  `  cli        npx confluo export | query   (finds this runtime through ${runtime.runtimeFile})`,
  ...(testSecretsIn(runtime.config).length ? [`  warning    public test secrets in use (${testSecretsIn(runtime.config).join(', ')}): fine locally, never in a deployment`] : []),
].join('\n'));

if (demo) {
  console.log('  demo       filling a month of tickets on the virtual clock (seeded; a few minutes)…');
  try {
    const r = await runDemo(runtime.url, { settings: env, log: (l) => console.log(`  ${l}`) });
    console.log(`  demo       ${r.tickets} tickets, ${r.messages} customer messages, ${r.replies} replies, ${r.resolved} resolved, ${r.surveys} survey answers in ${(r.ms / 1000).toFixed(0)} s — dashboard: ${runtime.url}/#/dashboard (sign in as a supervisor)`);
  } catch (e) {
    console.error(`confluo: the demo stopped: ${(e as Error).message}`);
  }
}

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await runtime.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('uncaughtException', (e) => { console.error(`confluo: crashed: ${e.name}`); void stop(1); });
