/**
 * Settings on AWS: the function's environment and its SSM parameters, validated
 * (functions/runtime/config.ts). Shared by both AWS platforms (./aws.ts, ./aws-edge.ts).
 */
import { ConfigError, loadConfig, refuseTestSecrets, type Config } from './config.js';
import { getParametersByName } from './ssm-parameters.js';

/**
 * The environment merged with the SSM parameters `CONFLUO_SECRET_NAMES` names under
 * `CONFLUO_SECRETS_PATH` (parameter name = setting name, e.g. `/confluo/prod/TELEGRAM_SECRET_TOKEN`).
 *
 * Read by name, not by path: the function's role may read exactly these parameters
 * (lib/confluo-function.ts `bindSecrets`), so `GetParametersByPath` would be refused.
 * `getParametersByName` (./ssm-parameters.ts: the call without the SSM client) asks
 * `GetParameters` for up to 10 names per call
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html);
 * names SSM does not know come back as `InvalidParameters` and are left out — a channel whose
 * parameters are not stored is simply not enabled. Any other failure (throttling past the
 * retries, access denied) rejects, and the next invocation retries.
 * This is the one place that knows it is not the local runtime, so the public test secrets are
 * refused here (config.ts `refuseTestSecrets`).
 */
export async function awsSettings(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Config> {
  const path = env.CONFLUO_SECRETS_PATH;
  const names = (env.CONFLUO_SECRET_NAMES ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (path && names.length === 0) throw new ConfigError('config: CONFLUO_SECRETS_PATH is set without CONFLUO_SECRET_NAMES (ConfluoFunction.bindSecrets sets both)', { cause: { keys: ['CONFLUO_SECRET_NAMES'] } });
  const secrets: Record<string, string> = {};
  if (path) {
    // Nothing is cached: each (re)build reads SSM afresh (a build happens once per execution environment).
    const read = await getParametersByName(names.map((n) => `${path}${n}`), { env, decrypt: true });
    for (const n of names) {
      const value = read[`${path}${n}`];
      if (typeof value === 'string') secrets[n] = value;
    }
  }
  return refuseTestSecrets(loadConfig({ ...env, ...secrets }));
}
