/**
 * The media store of the local runtime (functions/runtime/ports.ts `MediaStore`): bytes in the
 * local S3 stand-in, presigned URLs on the local server (`/dev/media/…`) signed with an HMAC key
 * made afresh for each run, expiring on the virtual clock.
 *
 * What S3 checks, this checks: a GET URL is refused (403) when forged, altered or expired, and
 * answers the signed `Content-Type` and `Content-Disposition`; a POST upload is refused when its
 * policy is forged or expired (403), when the form's `key` is not the signed one (403), when the
 * file is larger than the policy's `content-length-range` (400 EntityTooLarge) or its
 * `Content-Type` field breaks the policy's condition (403), as S3 answers them
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { contentDisposition, postContentTypeCondition, type MediaStore } from '../functions/runtime/ports.js';
import type { VirtualClock } from './clock.js';
import type { LocalS3 } from './s3.js';

export const LOCAL_MEDIA_PATH = '/dev/media/';

/** A POST policy as the local server reads it back (base64 JSON in the form's `policy` field). */
interface LocalPolicy {
  readonly bucket: string;
  readonly key: string;
  readonly expires: number;
  readonly max_bytes: number;
  readonly content_type: { readonly exact: string } | { readonly prefix: string };
}

export type MediaCheck<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: 400 | 403; readonly code: string };

/** Signs and checks the local presigned URLs; one per runtime (the key never leaves the process). */
export class LocalMediaSigner {
  private readonly key = randomBytes(32);
  constructor(private readonly clock: Pick<VirtualClock, 'now'>, private readonly baseUrl: () => string) {}

  private sign(parts: readonly string[]): string {
    return createHmac('sha256', this.key).update(parts.join('\n')).digest('base64url');
  }

  private same(a: string, b: string): boolean {
    const x = Buffer.from(a); const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }

  getUrl(bucket: string, key: string, contentType: string, disposition: string, expiresSeconds: number): string {
    const expires = String(Math.floor(this.clock.now() / 1000) + expiresSeconds);
    const sig = this.sign(['GET', bucket, key, expires, contentType, disposition]);
    const q = new URLSearchParams({ expires, 'response-content-type': contentType, 'response-content-disposition': disposition, sig });
    return `${this.baseUrl()}${LOCAL_MEDIA_PATH}${bucket}/${key.split('/').map(encodeURIComponent).join('/')}?${q.toString()}`;
  }

  /** The signed bucket, key and response headers of a GET, or why it is refused. */
  checkGet(bucket: string, key: string, query: URLSearchParams): MediaCheck<{ contentType: string; disposition: string }> {
    const expires = query.get('expires') ?? '';
    const contentType = query.get('response-content-type') ?? '';
    const disposition = query.get('response-content-disposition') ?? '';
    const sig = query.get('sig') ?? '';
    if (!this.same(sig, this.sign(['GET', bucket, key, expires, contentType, disposition]))) return { ok: false, status: 403, code: 'SignatureDoesNotMatch' };
    if (!/^\d+$/.test(expires) || Number(expires) * 1000 < this.clock.now()) return { ok: false, status: 403, code: 'AccessDenied: Request has expired' };
    return { ok: true, value: { contentType, disposition } };
  }

  post(bucket: string, key: string, maxBytes: number, contentTypes: readonly string[], expiresSeconds: number): { url: string; fields: Record<string, string> } {
    const policy: LocalPolicy = { bucket, key, expires: Math.floor(this.clock.now() / 1000) + expiresSeconds, max_bytes: maxBytes, content_type: postContentTypeCondition(contentTypes) };
    const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
    return {
      url: `${this.baseUrl()}${LOCAL_MEDIA_PATH}${bucket}`,
      fields: { key, policy: encoded, 'x-confluo-signature': this.sign(['POST', encoded]), ...('exact' in policy.content_type ? { 'Content-Type': policy.content_type.exact } : {}) },
    };
  }

  /** Checks an upload form against its policy; the bytes and their content type when S3 would accept them. */
  checkPost(bucket: string, form: { get(name: string): unknown }): MediaCheck<{ key: string; bytes: Buffer; contentType: string }> | Promise<MediaCheck<{ key: string; bytes: Buffer; contentType: string }>> {
    const field = (n: string) => { const v = form.get(n); return typeof v === 'string' ? v : ''; };
    const encoded = field('policy');
    if (!this.same(field('x-confluo-signature'), this.sign(['POST', encoded]))) return { ok: false, status: 403, code: 'SignatureDoesNotMatch' };
    const policy = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as LocalPolicy;
    if (policy.expires * 1000 < this.clock.now()) return { ok: false, status: 403, code: 'AccessDenied: Invalid according to Policy: Policy expired' };
    if (policy.bucket !== bucket || field('key') !== policy.key) return { ok: false, status: 403, code: 'AccessDenied: Invalid according to Policy: Policy Condition failed: ["eq", "$key"]' };
    const contentType = field('Content-Type');
    const okType = 'exact' in policy.content_type ? contentType === policy.content_type.exact : contentType.startsWith(policy.content_type.prefix);
    if (!okType) return { ok: false, status: 403, code: 'AccessDenied: Invalid according to Policy: Policy Condition failed: ["$Content-Type"]' };
    const file = form.get('file');
    if (!(file instanceof Blob)) return { ok: false, status: 400, code: 'InvalidArgument: POST requires exactly one file upload per request' };
    if (file.size > policy.max_bytes) return { ok: false, status: 400, code: 'EntityTooLarge' };
    if (file.size < 1) return { ok: false, status: 400, code: 'EntityTooSmall' };
    return file.arrayBuffer().then((b) => ({ ok: true as const, value: { key: policy.key, bytes: Buffer.from(b), contentType } }));
  }
}

/** The local MediaStore of the bucket the function's `CONFLUO_MEDIA_BUCKET` names. */
export function localMediaStore(bucket: string, s3: LocalS3, signer: LocalMediaSigner): MediaStore {
  return {
    bucket,
    async put(key, bytes, { contentType }) { s3.put(bucket, key, Buffer.from(bytes), contentType); },
    get: (key) => s3.get(bucket, key),
    async delete(keys) { for (const k of keys) s3.delete(bucket, k); },
    async presignGet(key, { fileName, contentType, expiresSeconds, disposition }) {
      return signer.getUrl(bucket, key, contentType, contentDisposition(fileName, disposition), expiresSeconds);
    },
    async presignPost(key, { maxBytes, contentTypes, expiresSeconds }) {
      return signer.post(bucket, key, maxBytes, contentTypes, expiresSeconds);
    },
  };
}
