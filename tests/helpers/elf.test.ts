import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions, elfFacts, ElfError, maxGlibcNeeded } from './elf.js';

const HOST_MACHINE: Record<string, string> = { x64: 'x86-64', arm64: 'aarch64' };
const duckdbDir = join(process.cwd(), 'node_modules', '@duckdb');
const hostBinding = readdirSync(duckdbDir).filter((d) => /^node-bindings-linux-(x64|arm64)$/.test(d)).map((d) => join(duckdbDir, d, 'duckdb.node'))[0];

describe.runIf(process.platform === 'linux')('elfFacts on real binaries', () => {
  it('reads the CPU of the Node binary running the tests', () => {
    expect(elfFacts(readFileSync(process.execPath)).machine).toBe(HOST_MACHINE[process.arch]);
  });

  it('reads the CPU and the glibc versions the DuckDB binding installed for this machine needs', () => {
    const bytes = readFileSync(hostBinding!);
    const facts = elfFacts(bytes);
    expect(facts.machine).toBe(HOST_MACHINE[process.arch]);
    expect(facts.versionsNeeded['libc.so.6']!.length).toBeGreaterThan(0);
    // Every version named in the version-needed table is a string of the file's dynamic string table.
    for (const v of facts.versionsNeeded['libc.so.6']!) expect(bytes.includes(Buffer.from(`${v}\0`))).toBe(true);
    expect(maxGlibcNeeded(facts)).toMatch(/^2\.\d+$/);
  });
});

describe('elfFacts', () => {
  it('refuses a file that is not ELF', () => {
    expect(() => elfFacts(Buffer.from('#!/bin/sh\necho not a shared object\n'.padEnd(80)))).toThrow(ElfError);
  });

  it('compares glibc versions numerically', () => {
    expect(compareVersions('2.9', '2.17')).toBeLessThan(0);
    expect(compareVersions('2.34', '2.34.0')).toBe(0);
    expect(maxGlibcNeeded({ machine: 'aarch64', versionsNeeded: { 'libc.so.6': ['GLIBC_2.9', 'GLIBC_2.17', 'GLIBC_PRIVATE'], 'libstdc++.so.6': ['GLIBCXX_3.4.20'] } })).toBe('2.17');
    expect(maxGlibcNeeded({ machine: 'aarch64', versionsNeeded: {} })).toBeNull();
  });
});
