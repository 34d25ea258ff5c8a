/**
 * Media: where attachment bytes live (issue 14). One private bucket holds the customers' inbound
 * attachments (fetched by the media function from each platform after the message is committed, or cut out of the e-mail the process function kept)
 * and the files agents and web-chat visitors upload (presigned POST). Key layout:
 * functions/domain/media.ts.
 *
 * - Private: Block Public Access on all four settings, bucket-owner-enforced ownership (no ACLs),
 *   TLS only (`aws:SecureTransport`); browsers reach objects only through short-lived presigned
 *   URLs a function signs after checking the agent's or visitor's right to them.
 * - Encryption: S3-managed keys (SSE-S3). A presigned GET must be fetchable by a browser with no
 *   AWS credentials; with SSE-KMS every signer's role would also need `kms:Decrypt`/
 *   `kms:GenerateDataKey` on the key and each download a KMS request (cost and a 5,500–50,000
 *   request/s quota shared with the account:
 *   https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html). SSE-S3
 *   encrypts at rest with AES-256 and needs no key policy; the export bucket does the same.
 *   An operator who needs a customer-managed key can switch (`encryptionKey`).
 * - Retention: objects expire `retentionDays` after they were written (S3 lifecycle); unfinished
 *   multipart uploads are aborted after a day. Customers erased earlier have their objects deleted
 *   by the erasure job (functions/store/erasure.ts).
 * - CORS: presigned POST uploads (and presigned GETs fetched by script) from the inbox's and the
 *   widget's origins only.
 * - Access: per function, per verb — `bindBucket` only names the bucket; `grantRead`,
 *   `grantPut`, `grantDelete` give exactly the verb a function uses (under a prefix where one
 *   applies).
 * - Server access logs go to a bucket of their own (AwsSolutions-S1), like the export's.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INBOUND_MAIL_DAYS, INBOUND_MAIL_PREFIX } from '../functions/domain/media.js';
import type { ConfluoFunction } from './confluo-function.js';

/** Default days an attachment's bytes are kept (`mediaRetentionDays`). */
export const DEFAULT_MEDIA_RETENTION_DAYS = 365;

export interface MediaProps {
  /**
   * Days after which a stored attachment (inbound or uploaded) is deleted by S3 lifecycle.
   * The message keeps its metadata and shows the attachment as expired (`gone`).
   *
   * @default DEFAULT_MEDIA_RETENTION_DAYS (365)
   */
  readonly retentionDays?: number;

  /**
   * Origins that may upload with a presigned POST and fetch presigned URLs by script (the hosted
   * inbox, sites embedding the web-chat widget).
   *
   * @default - none: uploads from browsers are refused by CORS (downloads by link still work)
   */
  readonly corsOrigins?: readonly string[];

  /**
   * A customer-managed KMS key instead of S3-managed encryption. Every function granted access
   * is granted the key too; presigned URLs then need the signer's key access (see above).
   *
   * @default - SSE-S3
   */
  readonly encryptionKey?: IKey;

  /**
   * What happens to the bucket (and its access-log bucket) when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class Media extends Construct {
  public readonly bucket: Bucket;
  public readonly accessLogs: Bucket;
  public readonly retentionDays: number;
  private readonly key?: IKey;

  constructor(scope: Construct, id: string, props: MediaProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? DEFAULT_MEDIA_RETENTION_DAYS;
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`Media: retentionDays must be a whole number ≥ 1, got ${retentionDays}`);
    this.retentionDays = retentionDays;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = { enforceSSL: true, blockPublicAccess: BlockPublicAccess.BLOCK_ALL, removalPolicy };

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...base,
      encryption: BucketEncryption.S3_MANAGED,
      // S3 server access logging delivers with the log-delivery ACL.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This is the server access log bucket of the media bucket; logging it into itself would loop.',
    });

    if (props.encryptionKey) this.key = props.encryptionKey;
    this.bucket = new Bucket(this, 'Bucket', {
      ...base,
      ...(props.encryptionKey ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true } : { encryption: BucketEncryption.S3_MANAGED }),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'media/',
      lifecycleRules: [
        { id: 'expire-media', expiration: Duration.days(retentionDays) },
        // The raw MIME the process function keeps for the media function (domain/media.ts).
        { id: 'expire-inbound-mail', prefix: INBOUND_MAIL_PREFIX, expiration: Duration.days(Math.min(INBOUND_MAIL_DAYS, retentionDays)) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      ...(props.corsOrigins?.length
        ? {
            cors: [{
              // POST: the presigned upload form; GET/HEAD: a presigned download read by script.
              allowedMethods: [HttpMethods.POST, HttpMethods.GET, HttpMethods.HEAD],
              allowedOrigins: [...props.corsOrigins],
              allowedHeaders: ['*'],
              exposedHeaders: ['ETag', 'Location'],
              maxAge: 3000,
            }],
          }
        : {}),
    });
  }

  /** Sets `CONFLUO_MEDIA_BUCKET` (no access by itself; the grants below call it). */
  bindBucket(fn: ConfluoFunction): this {
    fn.addEnvironment('CONFLUO_MEDIA_BUCKET', this.bucket.bucketName);
    return this;
  }

  /**
   * s3:GetObject (under `prefix`): reading bytes, and signing GET URLs that work; with
   * s3:ListBucket so a missing object reads as NoSuchKey (404), not AccessDenied.
   */
  grantRead(fn: ConfluoFunction, prefix = '*'): this {
    this.allow(fn, ['s3:GetObject'], prefix);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    this.key?.grantDecrypt(fn);
    return this;
  }

  /** s3:PutObject (under `prefix`): storing bytes, and signing POST policies that work. */
  grantPut(fn: ConfluoFunction, prefix = '*'): this {
    this.allow(fn, ['s3:PutObject'], prefix);
    this.key?.grantEncrypt(fn);
    return this;
  }

  /** s3:DeleteObject (under `prefix`): GDPR erasure. */
  grantDelete(fn: ConfluoFunction, prefix = '*'): this {
    return this.allow(fn, ['s3:DeleteObject'], prefix);
  }

  private allow(fn: ConfluoFunction, actions: string[], prefix: string): this {
    this.bindBucket(fn);
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: [this.bucket.arnForObjects(prefix)] }));
    this.acknowledgeObjects(fn, prefix, actions.join(', '));
    return this;
  }

  private acknowledgeObjects(fn: ConfluoFunction, prefix: string, verb: string): void {
    const resolved = fn.stack.getLogicalId(this.bucket.node.defaultChild as never);
    Validations.of(fn).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${resolved}.Arn>/${prefix}]`,
      reason: `${verb} on attachment objects whose keys it builds per ticket/message/attachment or per upload (functions/domain/media.ts); only this verb, only in the media bucket${prefix === '*' ? '' : `, only under ${prefix}`}.`,
    });
    if (this.key) {
      Validations.of(fn).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: 'S3 asks KMS for a data key per object encrypted with the media key (grantEncrypt on that key only).' },
        { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: 'Part of grantEncrypt on the media key only.' },
      );
    }
  }
}
