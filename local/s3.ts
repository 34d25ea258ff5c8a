/** The local S3 stand-in (`PUT /dev/s3/{bucket}/{key}`): objects kept in memory and, when data persists, on disk. */
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

export class LocalS3Error extends Error {
  override readonly name = 'LocalS3Error';
}

/** A missing object, named as S3 names it (`NoSuchKey`), so callers classify it as they would S3's. */
export class NoSuchKeyError extends Error {
  override readonly name = 'NoSuchKey';
}

export class LocalS3 {
  private readonly objects = new Map<string, Buffer>();
  /** Content types given at put (in memory only: presigned GETs name the type they answer). */
  private readonly types = new Map<string, string>();
  constructor(private readonly dir?: string) {}

  private path(bucket: string, key: string): string {
    const rel = normalize(join(bucket, key));
    if (rel.startsWith('..') || rel.includes('\0') || !/^[a-z0-9.-]{3,63}$/.test(bucket)) throw new LocalS3Error('bad bucket or key', { cause: { bucket } });
    return rel;
  }

  put(bucket: string, key: string, body: Buffer, contentType?: string): void {
    const rel = this.path(bucket, key);
    this.objects.set(rel, body);
    if (contentType) this.types.set(rel, contentType); else this.types.delete(rel);
    if (this.dir) { const f = join(this.dir, rel); mkdirSync(dirname(f), { recursive: true }); writeFileSync(f, body); }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const rel = this.path(bucket, key);
    const mem = this.objects.get(rel);
    if (mem) return mem;
    if (this.dir && existsSync(join(this.dir, rel))) return readFileSync(join(this.dir, rel));
    throw new NoSuchKeyError('local s3: no such key', { cause: { bucket } });
  }

  /** The content type the object was put with, if any (this run only). */
  contentType(bucket: string, key: string): string | undefined {
    return this.types.get(this.path(bucket, key));
  }

  /** Whether the object exists. */
  has(bucket: string, key: string): boolean {
    const rel = this.path(bucket, key);
    return this.objects.has(rel) || (this.dir !== undefined && existsSync(join(this.dir, rel)));
  }

  /** Keys under `prefix` in `bucket` (held in memory this run, and on disk when data persists). */
  keys(bucket: string, prefix = ''): string[] {
    const out = new Set<string>();
    for (const rel of this.objects.keys()) if (rel.startsWith(`${bucket}/${prefix}`)) out.add(rel.slice(bucket.length + 1));
    if (this.dir && existsSync(join(this.dir, bucket))) {
      const walk = (d: string, rel: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) walk(join(d, e.name), r); else if (r.startsWith(prefix)) out.add(r);
        }
      };
      walk(join(this.dir, bucket), '');
    }
    return [...out].sort();
  }

  /** Deletes the object; a missing one is no error (as in S3). */
  delete(bucket: string, key: string): void {
    const rel = this.path(bucket, key);
    this.objects.delete(rel);
    this.types.delete(rel);
    if (this.dir) rmSync(join(this.dir, rel), { force: true });
  }
}
