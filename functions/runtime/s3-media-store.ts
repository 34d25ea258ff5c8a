/**
 * The media store in AWS (ports.ts `MediaStore`): S3 objects in the media bucket, presigned GET
 * URLs (SigV4 query signing, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html)
 * and presigned POST policies (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
 *
 * A presigned URL lives at most as long as the credentials that signed it: a Lambda role's
 * session credentials last hours, far more than the minutes asked for here.
 */
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentDisposition, MediaStoreError, postContentTypeCondition, type MediaStore } from './ports.js';

/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH = 1000;

export function s3MediaStore(bucket: string, s3: S3Client): MediaStore {
  return {
    bucket,
    async put(key, bytes, { contentType }) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }));
    },
    async get(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
        // DeleteObjects answers 200 with per-key errors; a missing key is no error.
        if (res.Errors?.length) throw new MediaStoreError('media: DeleteObjects refused some keys', { cause: { codes: [...new Set(res.Errors.map((e) => e.Code))], count: res.Errors.length } });
      }
    },
    presignGet: (key, { fileName, contentType, expiresSeconds, disposition }) => getSignedUrl(s3, new GetObjectCommand({
      Bucket: bucket, Key: key, ResponseContentType: contentType, ResponseContentDisposition: contentDisposition(fileName, disposition),
    }), { expiresIn: expiresSeconds }),
    async presignPost(key, { maxBytes, contentTypes, expiresSeconds }) {
      const type = postContentTypeCondition(contentTypes);
      const post = await createPresignedPost(s3, {
        Bucket: bucket, Key: key, Expires: expiresSeconds,
        Conditions: [
          ['content-length-range', 1, maxBytes],
          'exact' in type ? ['eq', '$Content-Type', type.exact] : ['starts-with', '$Content-Type', type.prefix],
        ],
        ...('exact' in type ? { Fields: { 'Content-Type': type.exact } } : {}),
      });
      return { url: post.url, fields: post.fields };
    },
  };
}
