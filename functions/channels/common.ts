/** Small pure helpers shared by channel adapters (no I/O). */
import { timingSafeEqual, createHmac } from 'node:crypto';
import { malformed } from './channel.js';

/** Constant-time comparison; a length mismatch is a plain `false`, never an exception (§0.3). */
export function safeEqual(a: string | Buffer | undefined, b: string | Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

export function hmacHex(algorithm: 'sha256' | 'sha1', key: string, data: Buffer | string): string {
  return createHmac(algorithm, key).update(data).digest('hex');
}

/** Parse JSON from raw bytes; a syntax error is a 400 `malformed` naming the channel. */
export function parseJsonBody(channel: string, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw malformed(channel, 'parse', 'body is not JSON');
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Attachment `type` for channels that only give a MIME type (§0.6). */
export function attachmentTypeForMime(mime: string | undefined): 'image' | 'video' | 'audio' | 'document' {
  const top = (mime ?? '').toLowerCase().split('/')[0];
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'document';
}

export const KiB = 1024;
