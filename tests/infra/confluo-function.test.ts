/**
 * ConfluoFunction's bundling (lib/confluo-function.ts): the synthesised template cannot show how
 * a function was bundled, so these read the bundling options every function is built with.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { confluoBundling, LAMBDA_NPM_PLATFORM } from '../../lib/confluo-function.js';
import { synthConfluo } from './helpers.js';

describe('ConfluoFunction bundling', () => {
  it('bundles the AWS SDK: no module is left external for the Lambda runtime to supply', () => {
    const options = confluoBundling();
    expect(options.externalModules).toEqual([]);
    expect(options.bundleAwsSDK).toBe(true);
  });

  it('keeps only the native modules a function names outside the bundle, and adds no external module with them', () => {
    const options = confluoBundling({ nodeModules: ['@duckdb/node-api'] });
    expect(options.nodeModules).toEqual(['@duckdb/node-api']);
    expect(options.externalModules).toEqual([]);
  });

  it('links each bundle to its source map, so --enable-source-maps turns deployed stack traces into TypeScript lines', () => {
    expect(confluoBundling().sourceMap).toBe(true);
    expect(confluoBundling().sourceMapMode).toBe(SourceMapMode.DEFAULT);
    const { template } = synthConfluo();
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      if (fn.Properties.Environment?.Variables?.NODE_OPTIONS === undefined) continue;
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toContain('--enable-source-maps');
    }
  });

  it('installs native modules for Linux on arm64 with glibc, the platform every function runs on', () => {
    expect(confluoBundling().environment).toEqual({ npm_config_os: 'linux', npm_config_cpu: 'arm64', npm_config_libc: 'glibc' });
    const { template } = synthConfluo();
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.Architectures).toEqual(['arm64']);
  });

  it('selects exactly the linux-arm64 glibc DuckDB binding among the lockfile\'s platform packages', () => {
    type Entry = { os?: string[]; cpu?: string[]; libc?: string[]; optional?: boolean };
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, Entry> };
    const matches = (allowed: string[] | undefined, value: string | undefined) => !allowed || value === undefined || allowed.includes(value);
    const bindings = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/@duckdb/node-bindings-'));
    expect(bindings.length).toBeGreaterThan(2);
    const installed = bindings
      .filter(([, e]) => matches(e.os, LAMBDA_NPM_PLATFORM.npm_config_os) && matches(e.cpu, LAMBDA_NPM_PLATFORM.npm_config_cpu) && matches(e.libc, LAMBDA_NPM_PLATFORM.npm_config_libc))
      .map(([path]) => path);
    expect(installed).toEqual(['node_modules/@duckdb/node-bindings-linux-arm64']);
  });
});
