/**
 * The export's S3 writer: partition `<dataset>/dt=<dt>/part-0.parquet` in the export bucket.
 * DuckDB writes the Parquet file under /tmp; it is then PutObject'ed (the same bytes as locally).
 * The bucket is versioned, so an overwritten partition keeps its previous version until the
 * lifecycle rule expires it.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { partitionPath as keyOf, type ExportWriter } from './ports.js';

let client: S3Client | undefined;


export function s3ExportWriter(bucket: string, s3: S3Client = (client ??= new S3Client({}))): ExportWriter {
  return {
    location: `s3://${bucket}/`,
    async fetch(dataset, dt, scratchDir) {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(dataset, dt) }));
        const file = join(scratchDir, `old-${dataset}-${dt}.parquet`);
        await pipeline(res.Body as Readable, createWriteStream(file));
        return file;
      } catch (e) {
        if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return null;
        throw e;
      }
    },
    async put(dataset, dt, file) {
      const body = await readFile(file);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(dataset, dt), Body: body, ContentType: 'application/vnd.apache.parquet' }));
      return body.length;
    },
  };
}
