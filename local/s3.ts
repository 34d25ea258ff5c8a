/** The local S3 stand-in (`PUT /dev/s3/{bucket}/{key}`): objects kept in memory and, when data persists, on disk. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
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
  constructor(private readonly dir?: string) {}

  private path(bucket: string, key: string): string {
    const rel = normalize(join(bucket, key));
    if (rel.startsWith('..') || rel.includes('\0') || !/^[a-z0-9.-]{3,63}$/.test(bucket)) throw new LocalS3Error('bad bucket or key', { cause: { bucket } });
    return rel;
  }

  put(bucket: string, key: string, body: Buffer): void {
    const rel = this.path(bucket, key);
    this.objects.set(rel, body);
    if (this.dir) { const f = join(this.dir, rel); mkdirSync(dirname(f), { recursive: true }); writeFileSync(f, body); }
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const rel = this.path(bucket, key);
    const mem = this.objects.get(rel);
    if (mem) return mem;
    if (this.dir && existsSync(join(this.dir, rel))) return readFileSync(join(this.dir, rel));
    throw new NoSuchKeyError('local s3: no such key', { cause: { bucket } });
  }
}
