/**
 * The Iceberg warehouse: the archive bucket (KMS, TLS only, versioned, access-logged, lifecycle rules,
 * optional S3 Object Lock with a default retention — WORM archives for regulated retention) and its
 * Lake Formation side: the data lake administrators and the warehouse prefix registered as a data
 * location through a role that can reach only that prefix and the bucket's key.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, objectsWildcard, useKey } from './nag.js';
import { SECURE_BUCKET, dataRemovalPolicy, newAccessLogsBucket } from './retention.js';

interface ObjectLockSettings {
  /** `governance`: principals with s3:BypassGovernanceRetention may shorten it; `compliance`: nobody may. */
  readonly mode: 'governance' | 'compliance';
  /** Default retention of every new object version, in days. */
  readonly retentionDays: number;
}

export interface ArchiveLakeProps {
  /** Archive bucket name. @default a CloudFormation-generated name */
  readonly bucketName?: string;
  /** Key prefix of the Iceberg warehouse. @default 'iceberg' */
  readonly warehousePrefix?: string;
  /**
   * Object Lock mode and default retention; Object Lock can only be enabled at bucket creation.
   * @default no Object Lock
   */
  readonly objectLock?: ObjectLockSettings;
  /** Days after which Iceberg files move to S3 Intelligent-Tiering. @default 30 */
  readonly intelligentTieringAfterDays?: number;
  /** Days a deleted or overwritten version is kept (Object Lock retention still wins). @default 30 */
  readonly noncurrentVersionDays?: number;
  /** Lake Formation data lake administrators (IAM role or user ARNs), appended to existing ones. @default none */
  readonly lakeFormationAdmins?: string[];
  /** Key encrypting the archives. @default a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Target of the bucket's server access logs. @default a new access-log bucket */
  readonly accessLogsBucket?: s3.IBucket;
  /** Delete the archives with the stack (otherwise retained). @default false */
  readonly destroyOnRemoval?: boolean;
}

export class ArchiveLake extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.IKey;
  readonly warehousePrefix: string;
  /** `s3://<bucket>/<prefix>` */
  readonly warehouseUri: string;
  /** The role Lake Formation uses to reach the registered location. */
  readonly locationRole: iam.Role;

  constructor(scope: Construct, id: string, props: ArchiveLakeProps = {}) {
    super(scope, id);
    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = dataRemovalPolicy(this, destroy);
    this.warehousePrefix = props.warehousePrefix ?? 'iceberg';
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', { description: 'offload: archive warehouse', enableKeyRotation: true, removalPolicy });
    const lock = props.objectLock;
    const retention = lock
      ? lock.mode === 'compliance'
        ? s3.ObjectLockRetention.compliance(Duration.days(lock.retentionDays))
        : s3.ObjectLockRetention.governance(Duration.days(lock.retentionDays))
      : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket ?? newAccessLogsBucket(this, 'AccessLogs', undefined, destroy),
      serverAccessLogsPrefix: `${props.bucketName ?? 'archive'}/`,
      objectLockEnabled: lock !== undefined,
      ...(retention ? { objectLockDefaultRetention: retention } : {}),
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'intelligent-tiering',
          prefix: `${this.warehousePrefix}/`,
          transitions: [
            {
              storageClass: s3.StorageClass.INTELLIGENT_TIERING,
              transitionAfter: Duration.days(props.intelligentTieringAfterDays ?? 30),
            },
          ],
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.warehouseUri = `s3://${this.bucket.bucketName}/${this.warehousePrefix}`;

    const admins = props.lakeFormationAdmins ?? [];
    if (admins.length)
      new lakeformation.CfnDataLakeSettings(this, 'DataLakeSettings', {
        admins: admins.map((arn) => ({ dataLakePrincipalIdentifier: arn })),
        mutationType: 'APPEND',
      });

    // Lake Formation vends credentials for the warehouse through this role, not the service-linked
    // one, so its reach is exactly the registered prefix and the bucket's key.
    this.locationRole = new iam.Role(this, 'LocationRole', {
      assumedBy: new iam.ServicePrincipal('lakeformation.amazonaws.com'),
      description: 'Lake Formation access to the archive warehouse prefix',
    });
    const objects = this.bucket.arnForObjects(`${this.warehousePrefix}/*`);
    this.locationRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [objects],
      }),
    );
    this.locationRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${this.warehousePrefix}/*`, this.warehousePrefix] } },
      }),
    );
    useKey(this.locationRole, this.key, true);
    acknowledge(
      this.locationRole,
      [objectsWildcard(this.bucket, `${this.warehousePrefix}/*`)],
      'Lake Formation reads and writes any Iceberg file under the registered warehouse prefix; the wildcard is ' +
        'that prefix of the archive bucket and nothing else.',
    );
    new lakeformation.CfnResource(this, 'DataLocation', {
      resourceArn: `${this.bucket.bucketArn}/${this.warehousePrefix}`,
      useServiceLinkedRole: false,
      roleArn: this.locationRole.roleArn,
    });
  }
}
