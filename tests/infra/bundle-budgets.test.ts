/**
 * Every function's bundle within its size budget (tests/helpers/function-bundles.ts), built with
 * the esbuild options `cdk synth` uses. Bytes only: import times are the benchmark's
 * (`npm run bench -- bundles`), never asserted. The deployment test's stage 3 holds the same
 * budgets against the synthesised assets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGETS, bundleFunction, HANDLERS, overBudget, packagesIn, type FunctionBundle } from '../helpers/function-bundles.js';

const dir = mkdtempSync(join(tmpdir(), 'confluo-bundle-budgets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let built: Promise<FunctionBundle[]> | undefined;
const bundles = () => (built ??= Promise.all(HANDLERS.map((h) => bundleFunction(h, dir))));

describe('function bundles', () => {
  it('keeps every function\'s index.mjs within its size budget', async () => {
    const problems = (await bundles()).map((b) => overBudget(b.name, b.bytes)).filter((p) => p !== undefined);
    expect(problems).toEqual([]);
  }, 120_000);

  it('says which bundle is over budget, with its size and the budget', () => {
    expect(overBudget('ingest', BUNDLE_BUDGETS.ingest)).toBeUndefined();
    expect(overBudget('ingest', BUNDLE_BUDGETS.ingest + 1)).toBe(`ingest: index.mjs is ${(BUNDLE_BUDGETS.ingest + 1).toLocaleString('en')} bytes, over its budget of ${BUNDLE_BUDGETS.ingest.toLocaleString('en')} bytes (tests/helpers/function-bundles.ts)`);
  });

  it('keeps parsers, MIME, phone metadata and the full zod build out of the public entry points', async () => {
    const heavy = /^(mailparser|libmime|libqp|libbase64|html-to-text|htmlparser2|encoding-japanese|iconv-lite|libphonenumber-js|re2js)$/;
    for (const b of (await bundles()).filter((x) => ['ingest', 'webchat-api'].includes(x.name))) {
      expect({ name: b.name, packages: packagesIn(b.metafile).map((p) => p.name).filter((n) => heavy.test(n)) }).toEqual({ name: b.name, packages: [] });
    }
    // zod/mini only: the classic API (zod/v4/classic) is the bulk of the full build. (The phone
    // lookup needs libphonenumber-js to read the caller's number, but not the full zod.)
    for (const b of (await bundles()).filter((x) => ['ingest', 'webchat-api', 'help-api', 'voice-lookup'].includes(x.name))) {
      const inputs = Object.keys(b.metafile.inputs);
      expect({ name: b.name, classic: inputs.filter((f) => f.includes('node_modules/zod/v4/classic/')) }).toEqual({ name: b.name, classic: [] });
    }
  }, 120_000);

  it('reads settings without the SSM client or Powertools\' parameters provider (functions/runtime/ssm-parameters.ts)', async () => {
    const ssm = /^@aws-sdk\/client-ssm$|^@aws-lambda-powertools\/parameters$/;
    const carried = (await bundles()).map((b) => ({ name: b.name, ssm: packagesIn(b.metafile).map((p) => p.name).filter((n) => ssm.test(n)) }));
    expect(carried).toEqual(HANDLERS.map((name) => ({ name, ssm: [] })));
  }, 120_000);

  it('carries the environment credentials only, not the SDK\'s default chain (SSO, ini files, STS, instance metadata)', async () => {
    const chain = /^@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|login|http)|nested-clients|token-providers)$|^@smithy\/credential-provider-imds$/;
    const carried = (await bundles()).map((b) => ({ name: b.name, chain: packagesIn(b.metafile).map((p) => p.name).filter((n) => chain.test(n)) }));
    expect(carried).toEqual(HANDLERS.map((name) => ({ name, chain: [] })));
  }, 120_000);
});
