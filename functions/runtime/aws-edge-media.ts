/**
 * The edge platform (./aws-edge.ts) with the media bucket: for webchat-api, the one public entry
 * point that signs visitors' upload forms and the file links of their conversation. Kept apart so
 * that ingest and survey-link, which never touch S3, do not bundle the S3 client and presigners.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { setDefaultPlatform, type Platform } from './platform.js';
import { awsEdgePlatform } from './aws-edge.js';
import { s3MediaStore } from './s3-media-store.js';

let platform: Platform | undefined;
let s3: S3Client | undefined;
setDefaultPlatform(() => (platform ??= awsEdgePlatform({ media: (bucket) => s3MediaStore(bucket, (s3 ??= new S3Client({}))) })));

/** webchat-api imports `lambdaHandler` from here: AWS (edge, with media) outside the local runtime. */
export { lambdaHandler } from './platform.js';
