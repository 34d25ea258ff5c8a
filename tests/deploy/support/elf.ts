/**
 * Just enough of an ELF reader to check a native module before it is shipped to Lambda: the
 * target machine (`e_machine`) and the symbol versions it needs from each shared library (the
 * `.gnu.version_r` section, `SHT_GNU_verneed`), e.g. `libc.so.6: GLIBC_2.17`. The dynamic loader
 * refuses to load a library whose needed `GLIBC_x.y` is newer than the system's glibc.
 *
 * Layout: the System V ABI (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html) and
 * the LSB symbol versioning spec
 * (https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/symversion.html).
 * Only 64-bit little-endian files are read (what linux-arm64 and linux-x64 use).
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** `e_machine` values (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html, elf.h). */
export const EM_X86_64 = 0x3e;
export const EM_AARCH64 = 0xb7;
const SHT_GNU_VERNEED = 0x6ffffffe;

export interface ElfInfo {
  /** `e_machine`: 0xB7 AArch64, 0x3E x86-64. */
  readonly machine: number;
  /** `e_type`: 2 executable, 3 shared object. */
  readonly type: number;
  /** Per needed library, the symbol versions required from it. */
  readonly versionNeeds: ReadonlyArray<{ readonly file: string; readonly versions: readonly string[] }>;
}

export class ElfError extends Error {
  override readonly name = 'ElfError';
}

export function readElf(path: string): ElfInfo {
  const fd = openSync(path, 'r');
  try {
    const at = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      const n = readSync(fd, b, 0, length, offset);
      if (n !== length) throw new ElfError('elf: file ends inside a structure', { cause: { offset, length } });
      return b;
    };
    const h = at(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('elf: not an ELF file (bad magic)');
    if (h[4] !== 2 || h[5] !== 1) throw new ElfError('elf: only 64-bit little-endian files are read', { cause: { class: h[4], data: h[5] } });
    const type = h.readUInt16LE(16);
    const machine = h.readUInt16LE(18);
    const shoff = Number(h.readBigUInt64LE(0x28));
    const shentsize = h.readUInt16LE(0x3a);
    const shnum = h.readUInt16LE(0x3c);
    const sections = Array.from({ length: shnum }, (_, i) => {
      const s = at(shoff + i * shentsize, shentsize);
      return { type: s.readUInt32LE(4), offset: Number(s.readBigUInt64LE(0x18)), size: Number(s.readBigUInt64LE(0x20)), link: s.readUInt32LE(0x28), info: s.readUInt32LE(0x2c) };
    });
    const versionNeeds: Array<{ file: string; versions: string[] }> = [];
    for (const sec of sections.filter((s) => s.type === SHT_GNU_VERNEED)) {
      const strtab = sections[sec.link];
      if (!strtab) throw new ElfError('elf: version-needs section links to no string table');
      const strings = at(strtab.offset, strtab.size);
      const str = (off: number) => strings.toString('latin1', off, strings.indexOf(0, off));
      const data = at(sec.offset, sec.size);
      // Elf64_Verneed {vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32};
      // Elf64_Vernaux {vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32}.
      let need = 0;
      for (let i = 0; i < sec.info; i++) {
        const cnt = data.readUInt16LE(need + 2);
        const entry = { file: str(data.readUInt32LE(need + 4)), versions: [] as string[] };
        let aux = need + data.readUInt32LE(need + 8);
        for (let j = 0; j < cnt; j++) {
          entry.versions.push(str(data.readUInt32LE(aux + 8)));
          aux += data.readUInt32LE(aux + 12);
        }
        versionNeeds.push(entry);
        const next = data.readUInt32LE(need + 12);
        if (next === 0) break;
        need += next;
      }
    }
    return { machine, type, versionNeeds };
  } finally {
    closeSync(fd);
  }
}

/** `GLIBC_2.17` → [2, 17]; other version names → null. */
export function glibcVersion(name: string): [number, number] | null {
  const m = /^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$/.exec(name);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** The newest `GLIBC_x.y` a file needs, as "x.y" (null if it needs none). */
export function highestGlibc(info: ElfInfo): string | null {
  let best: [number, number] | null = null;
  for (const n of info.versionNeeds) {
    for (const v of n.versions) {
      const g = glibcVersion(v);
      if (g && (!best || g[0] > best[0] || (g[0] === best[0] && g[1] > best[1]))) best = g;
    }
  }
  return best ? `${best[0]}.${best[1]}` : null;
}

/** Compare "x.y" versions. */
export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number];
  const [b1, b2] = b.split('.').map(Number) as [number, number];
  return a1 - b1 || a2 - b2;
}
