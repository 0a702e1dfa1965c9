/**
 * Data stays when the stack goes: every data store is retained unless the deployer passes
 * `-c offload:destroyOnRemoval=true`, and then each affected construct carries a warning annotation
 * so `cdk synth`/`cdk deploy` say so out loud.
 */
import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.js';

const DESTROY_WARNING_ID = 'offload:destroy-on-removal';

/** The removal policy of a data store, with the warning when it is not RETAIN. */
export function dataRemovalPolicy(scope: Construct, destroyOnRemoval: boolean): RemovalPolicy {
  if (!destroyOnRemoval) return RemovalPolicy.RETAIN;
  Annotations.of(scope).addWarningV2(
    DESTROY_WARNING_ID,
    'offload:destroyOnRemoval=true: this data store and its contents are DELETED when the stack is destroyed',
  );
  return RemovalPolicy.DESTROY;
}

/** Settings every bucket of the stack shares: no public access, TLS only, versioned. */
export const SECURE_BUCKET: Pick<s3.BucketProps, 'blockPublicAccess' | 'enforceSSL' | 'versioned'> = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  versioned: true,
};

/**
 * The server-access-log target of the other buckets. SSE-S3, because S3 log delivery cannot write
 * to a bucket encrypted with a customer-managed KMS key.
 */
export function newAccessLogsBucket(
  scope: Construct,
  id: string,
  bucketName: string | undefined,
  destroyOnRemoval: boolean,
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...SECURE_BUCKET,
    ...(bucketName ? { bucketName } : {}),
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      { id: 'expire-access-logs', expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) },
    ],
    removalPolicy: dataRemovalPolicy(scope, destroyOnRemoval),
    autoDeleteObjects: destroyOnRemoval,
  });
  acknowledge(
    bucket,
    ['AwsSolutions-S1'],
    'This bucket is the server-access-log target of the other buckets; logging it into itself would loop.',
  );
  return bucket;
}
