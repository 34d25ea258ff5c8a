/** The local S3 stand-in (`PUT /dev/s3/{bucket}/{key}`): objects kept in memory and, when data persists, on disk. */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

export class LocalS3Error extends Error {
  override readonly name = 'LocalS3Error';
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
    throw new LocalS3Error('NoSuchKey', { cause: { bucket } });
  }
}
