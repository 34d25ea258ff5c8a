// Loaded with `node --import` before the bundle: no platform request leaves this machine.
// `globalThis.fetch` (what functions/runtime/perform.ts and the SNS certificate fetch use) is
// replaced: a request to a loopback address (the emulators) goes through unchanged, and so does a
// URL that is not http(s) (Node's fetch refuses it exactly as in Lambda, "unknown scheme"); any
// other is sent to the parent process over IPC, which records it (the test's outbox) and answers as the
// platform would — or refuses it, and then fetch rejects like a network failure
// (`TypeError: fetch failed`). The AWS SDK does not use fetch in Node (it uses node:http), so its
// calls to the emulators are untouched.
//
// The environment's clock: each invocation message carries the deployment's clock offset
// (support/lambda-host.ts `clockOffsetMs`), and `Date` reads real time plus that offset — the
// deployment test's stand-in for time passing (an SLA deadline, a survey's delay) without
// waiting. Timers and performance.now() are untouched. Lambda has no such knob; its clock is
// the real one.
const realFetch = globalThis.fetch;
const pending = new Map();
let seq = 0;

process.on('message', (m) => {
  if (m?.type !== 'fetch-result') return;
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  p(m);
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

globalThis.fetch = async function deploymentTestFetch(input, init) {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (LOOPBACK.has(url.hostname) || (url.protocol !== 'http:' && url.protocol !== 'https:')) return realFetch(input, init);
  const body = request.body === null ? null : await request.text();
  const id = ++seq;
  const answer = await new Promise((resolve) => {
    pending.set(id, resolve);
    process.send({ type: 'fetch', id, request: { url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body } });
  });
  if (answer.error) throw new TypeError('fetch failed', { cause: new Error(answer.error) });
  const { status, headers, body: text } = answer.response;
  return new Response(status === 204 || status === 304 ? null : text, { status, headers });
};

const RealDate = Date;
let clockOffsetMs = 0;
process.on('message', (m) => {
  if (m?.type === 'invoke' && typeof m.clockOffsetMs === 'number') clockOffsetMs = m.clockOffsetMs;
});
globalThis.Date = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, args.length === 0 ? [RealDate.now() + clockOffsetMs] : args, newTarget);
  },
  apply() {
    return new RealDate(RealDate.now() + clockOffsetMs).toString();
  },
  get(target, prop, receiver) {
    if (prop === 'now') return () => RealDate.now() + clockOffsetMs;
    return Reflect.get(target, prop, receiver);
  },
});
