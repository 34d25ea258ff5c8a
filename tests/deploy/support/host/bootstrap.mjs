// A Lambda-like execution environment for one function: INIT imports the handler module (as the
// Node.js runtime does on a cold start, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html),
// then invocations arrive from the parent over IPC and run one at a time; results and errors go
// back serialised as the runtime serialises them (JSON; errors as errorType/errorMessage/trace).
//
// Plain JavaScript run by plain `node` on purpose: the Lambda runtime has no TypeScript loader, so
// neither may this process (the bundle must stand on its own). Usage:
//   node --import ./preload.mjs bootstrap.mjs <module file> <export name>
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const [moduleFile, exportName] = process.argv.slice(2);
const started = performance.now();

/** Lambda's error shape (errorType, errorMessage, trace), plus our `cause` for evidence. */
function serialise(e) {
  if (e instanceof Error) {
    return {
      errorType: e.name === 'Error' && e.constructor?.name ? e.constructor.name : e.name,
      errorMessage: e.message,
      trace: String(e.stack ?? '').split('\n'),
      ...(e.cause !== undefined ? { cause: safeJson(e.cause) } : {}),
    };
  }
  return { errorType: 'Error', errorMessage: String(e), trace: [] };
}

function safeJson(v) {
  try { return JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Error ? { name: x.name, message: x.message } : x))); } catch { return String(v); }
}

let handler;
let initError;
try {
  const mod = await import(pathToFileURL(moduleFile).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: `${moduleFile}.${exportName} is ${typeof handler}, not a function`, trace: [] };
  }
} catch (e) {
  initError = { ...serialise(e), errorType: 'Runtime.ImportModuleError' };
}
process.send({
  type: 'ready', initMs: Math.round(performance.now() - started), handlerType: typeof handler, node: process.version,
  sourceMapsEnabled: process.sourceMapsEnabled === true, error: initError ?? null,
});

const fnName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
process.on('message', async (m) => {
  if (m?.type !== 'invoke') return;
  if (initError) {
    process.send({ type: 'result', id: m.id, ok: false, error: initError });
    return;
  }
  const deadline = Date.now() + m.timeoutMs;
  const requestId = m.requestId ?? randomUUID();
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fnName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: m.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(JSON.parse(m.event), context);
    process.send({ type: 'result', id: m.id, ok: true, payload: result === undefined ? null : JSON.stringify(result) });
  } catch (e) {
    const error = serialise(e);
    // The runtime logs a failed invocation before answering it.
    process.stderr.write(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}\n`);
    process.send({ type: 'result', id: m.id, ok: false, error });
  }
});
