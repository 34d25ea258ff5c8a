/**
 * The entry points' build-once rule (functions/runtime/platform.ts): a failed build is forgotten,
 * so the next invocation builds again. The settings read from SSM at the first invocation — by
 * name, a throttled read retried by the next invocation — run against moto's SSM in the
 * deployment test (tests/deploy/08-settings.stage.ts).
 */
import { describe, expect, it } from 'vitest';
import { lambdaHandler, runOn, type Platform } from '../../functions/runtime/platform.js';

describe('lambdaHandler', () => {
  const platform = (name: string) => ({ name } as Platform);

  it('builds once per platform and keeps a successful build', async () => {
    let builds = 0;
    const h = lambdaHandler(async (p) => { builds += 1; return async (e: number) => `${p.name}:${e}`; });
    const a = platform('a');
    expect(await runOn(a, () => h(1))).toBe('a:1');
    expect(await runOn(a, () => h(2))).toBe('a:2');
    expect(builds).toBe(1);
    expect(await runOn(platform('b'), () => h(3))).toBe('b:3');
    expect(builds).toBe(2);
  });

  it('forgets a failed build, so the next invocation builds again', async () => {
    let builds = 0;
    const h = lambdaHandler(async () => {
      builds += 1;
      if (builds === 1) throw new Error('settings unavailable');
      return async (e: number) => e * 2;
    });
    const p = platform('p');
    await expect(runOn(p, () => h(1))).rejects.toThrow('settings unavailable');
    expect(await runOn(p, () => h(21))).toBe(42);
    expect(builds).toBe(2);
  });
});
