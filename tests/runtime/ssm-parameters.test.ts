/**
 * Where the settings reader (functions/runtime/ssm-parameters.ts) sends its request. Its requests
 * themselves — signed, batched, retried — are tested against moto's SSM with signatures checked,
 * in the deployment test (tests/deploy/08-settings.stage.ts: moto is Python, which `npm test`
 * does not need).
 */
import { describe, expect, it } from 'vitest';
import { ssmEndpoint } from '../../functions/runtime/ssm-parameters.js';

describe('the SSM endpoint', () => {
  it('is the one the SDK would call: configured, else the region\'s in its partition', () => {
    expect(ssmEndpoint({}, 'eu-central-1').href).toBe('https://ssm.eu-central-1.amazonaws.com/');
    expect(ssmEndpoint({}, 'cn-north-1').href).toBe('https://ssm.cn-north-1.amazonaws.com.cn/');
    expect(ssmEndpoint({ AWS_USE_FIPS_ENDPOINT: 'true' }, 'us-east-1').href).toBe('https://ssm-fips.us-east-1.amazonaws.com/');
    expect(ssmEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, 'us-east-1').href).toBe('http://127.0.0.1:4566/');
    expect(ssmEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:5000' }, 'us-east-1').href).toBe('http://127.0.0.1:5000/');
  });
});
