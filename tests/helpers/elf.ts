/**
 * What a native module (a `.node` shared object) needs from the machine that loads it, read from
 * its ELF headers: the CPU it was built for and the glibc symbol versions it links against. The
 * deployment test checks the export asset's DuckDB binding with it: Lambda's nodejs22.x arm64
 * runtime is Amazon Linux 2023 (aarch64, glibc 2.34), so the binding must be `aarch64` and need no
 * `GLIBC_` version above 2.34.
 *
 * Formats: ELF header and section headers (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html),
 * version-needed entries `SHT_GNU_verneed` (https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/symversion.html).
 * 64-bit little-endian only (every Lambda and build platform Confluo targets).
 */

export class ElfError extends Error {
  override name = 'ElfError';
}

const MACHINES: Readonly<Record<number, string>> = { 3: 'x86', 40: 'arm', 62: 'x86-64', 183: 'aarch64' };
const SHT_GNU_VERNEED = 0x6ffffffe;

export interface ElfFacts {
  /** `aarch64`, `x86-64`, … (e_machine). */
  readonly machine: string;
  /** Versions needed from each shared library, e.g. `{ 'libc.so.6': ['GLIBC_2.17', …] }`. */
  readonly versionsNeeded: Readonly<Record<string, readonly string[]>>;
}

export function elfFacts(file: Buffer): ElfFacts {
  if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('elfFacts: not an ELF file');
  if (file[4] !== 2 || file[5] !== 1) throw new ElfError('elfFacts: only 64-bit little-endian ELF is supported', { cause: { class: file[4], data: file[5] } });
  const eMachine = file.readUInt16LE(18);
  const shoff = Number(file.readBigUInt64LE(40));
  const shentsize = file.readUInt16LE(58);
  const shnum = file.readUInt16LE(60);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: file.readUInt32LE(at + 4), offset: Number(file.readBigUInt64LE(at + 24)), size: Number(file.readBigUInt64LE(at + 32)), link: file.readUInt32LE(at + 40), info: file.readUInt32LE(at + 44) };
  };
  const cString = (at: number) => file.toString('latin1', at, file.indexOf(0, at));

  const versionsNeeded: Record<string, string[]> = {};
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link).offset;
    // Elf64_Verneed { vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 }
    // Elf64_Vernaux { vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32 }
    let need = s.offset;
    for (let n = 0; n < s.info; n++) {
      const cnt = file.readUInt16LE(need + 2);
      const lib = cString(strtab + file.readUInt32LE(need + 4));
      let aux = need + file.readUInt32LE(need + 8);
      for (let a = 0; a < cnt; a++) {
        (versionsNeeded[lib] ??= []).push(cString(strtab + file.readUInt32LE(aux + 8)));
        aux += file.readUInt32LE(aux + 12);
      }
      need += file.readUInt32LE(need + 12);
    }
  }
  return { machine: MACHINES[eMachine] ?? `e_machine ${eMachine}`, versionsNeeded };
}

/** The highest `GLIBC_x.y[.z]` version a shared object needs, or null when it needs none. */
export function maxGlibcNeeded(facts: ElfFacts): string | null {
  const versions = Object.values(facts.versionsNeeded).flat().filter((v) => /^GLIBC_\d+(\.\d+)*$/.test(v)).map((v) => v.slice('GLIBC_'.length));
  if (versions.length === 0) return null;
  return versions.sort(compareVersions).at(-1)!;
}

/** Compare dotted version numbers numerically ('2.9' < '2.17'). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
