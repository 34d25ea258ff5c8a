/**
 * Stage 4 — the export asset's native DuckDB binary, checked before it ships: exactly one binding,
 * the one for the template's architecture (linux-arm64), whose ELF files (the `.node` module and
 * the libraries beside it) are built for that machine (`e_machine` 0xB7 = AArch64) and need no
 * `GLIBC_x.y` newer than the Lambda runtime's glibc.
 *
 * The runtime's glibc: nodejs22.x runs on Amazon Linux 2023
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), whose glibc is 2.34
 * (https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html). nodejs18.x ran on Amazon Linux 2,
 * glibc 2.26 (https://docs.aws.amazon.com/linux/al2023/ug/glibc-gcc-and-binutils.html).
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { synthesize } from './support/assembly.js';
import { compareVersions, EM_AARCH64, EM_X86_64, highestGlibc, readElf } from './support/elf.js';

/** glibc of each Lambda runtime's operating system (see the file comment). */
const RUNTIME_GLIBC: Readonly<Record<string, string>> = { 'nodejs22.x': '2.34', 'nodejs20.x': '2.34', 'nodejs24.x': '2.34', 'nodejs18.x': '2.26' };
const MACHINE: Readonly<Record<string, number>> = { arm64: EM_AARCH64, x86_64: EM_X86_64 };
const BINDING_PLATFORM: Readonly<Record<string, string>> = { arm64: 'linux-arm64', x86_64: 'linux-x64' };

function files(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && keep(e.name)).map((e) => join(e.parentPath, e.name));
}

describe('stage 4: the export asset\'s native binary', () => {
  it('ships exactly the linux-arm64 DuckDB binding, AArch64 ELF, needing no glibc newer than the runtime\'s', async () => {
    const assembly = await synthesize(inject('deployWorkDir'));
    const fn = assembly.fn('export');
    const arch = fn.architectures[0]!;
    const glibc = RUNTIME_GLIBC[fn.runtime];
    expect(glibc, `glibc of ${fn.runtime} (add it to RUNTIME_GLIBC with its source)`).toBeDefined();

    const modules = files(fn.assetDir, (n) => n.endsWith('.node')).map((f) => relative(fn.assetDir, f)).sort();
    // Every ELF shared object shipped beside a native module (libduckdb.so is loaded by duckdb.node).
    const elfs = [...new Set(modules.flatMap((m) => files(dirname(join(fn.assetDir, m)), (n) => n.endsWith('.node') || /\.so(\.\d+)*$/.test(n))))].sort();
    const rows = elfs.map((f) => {
      const info = readElf(f);
      return { file: relative(fn.assetDir, f), machine: info.machine, glibc: highestGlibc(info) };
    });
    console.log(`native files of the export asset (${fn.runtime}, ${arch}, runtime glibc ${glibc}):\n${rows.map((r) => `  ${r.file}  e_machine 0x${r.machine.toString(16).toUpperCase()}  needs GLIBC ${r.glibc ?? '-'}`).join('\n')}`);

    expect.soft(modules, 'one DuckDB binding, for the function\'s platform').toEqual([`node_modules/@duckdb/node-bindings-${BINDING_PLATFORM[arch]}/duckdb.node`]);
    for (const r of rows) {
      expect.soft(r.machine, `${r.file}: e_machine`).toBe(MACHINE[arch]);
      if (r.glibc !== null) expect.soft(compareVersions(r.glibc, glibc!), `${r.file} needs GLIBC_${r.glibc}, the runtime has ${glibc}`).toBeLessThanOrEqual(0);
    }
    expect(rows.length).toBeGreaterThan(0);
  });
});
