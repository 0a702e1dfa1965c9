/**
 * Where `offload sync` publishes: the config bucket (YAML files and the sync manifest, versioned,
 * KMS, TLS only, access-logged, every object event sent to EventBridge so the s3_yaml_to_mwaa Lambda
 * can react to a new manifest) and the DynamoDB config table (pk = SETTINGS | DATABASE#… | POLICY#… |
 * SYNC#STATE). Two more tables hold the pipeline's own records, so `offload sync`, which scans the
 * config table, never sees them: the run ledger (tools/src/ledger/dynamodb.ts: pk = TABLE#…, one item
 * per source table) and the trigger records of s3_yaml_to_mwaa (pk + sk, one claim per generation).
 * All three: point-in-time recovery, deletion protection and the customer-managed key.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SECURE_BUCKET, dataRemovalPolicy, newAccessLogsBucket } from './retention.js';

export interface ConfigStoreProps {
  /** Config bucket name. @default a CloudFormation-generated name */
  readonly bucketName?: string;
  /** DynamoDB config table name. @default a CloudFormation-generated name */
  readonly tableName?: string;
  /** DynamoDB table of the trigger records (one claim per synced generation). @default generated */
  readonly runsTableName?: string;
  /** DynamoDB table of the run ledger (`ledgerTableName` of tools/src/config/naming.ts). @default generated */
  readonly ledgerTableName?: string;
  /** Key encrypting the bucket and both tables. @default a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Target of the bucket's server access logs. @default a new access-log bucket */
  readonly accessLogsBucket?: s3.IBucket;
  /** Name of the access-log bucket created when `accessLogsBucket` is not given. @default generated */
  readonly accessLogsBucketName?: string;
  /** Delete the data with the stack (otherwise retained). @default false */
  readonly destroyOnRemoval?: boolean;
}

export class ConfigStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  readonly runsTable: dynamodb.Table;
  readonly ledgerTable: dynamodb.Table;
  readonly key: kms.IKey;
  readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ConfigStoreProps = {}) {
    super(scope, id);
    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = dataRemovalPolicy(this, destroy);
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'offload: config bucket and tables',
        enableKeyRotation: true,
        removalPolicy,
        pendingWindow: Duration.days(30),
      });
    this.accessLogsBucket =
      props.accessLogsBucket ?? newAccessLogsBucket(this, 'AccessLogs', props.accessLogsBucketName, destroy);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${props.bucketName ?? 'config'}/`,
      eventBridgeEnabled: true,
      lifecycleRules: [{ id: 'expire-old-config-versions', noncurrentVersionExpiration: Duration.days(365) }],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    const tableProps = {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !destroy,
      removalPolicy,
    };
    this.table = new dynamodb.Table(this, 'Table', {
      ...tableProps,
      ...(props.tableName ? { tableName: props.tableName } : {}),
    });
    this.runsTable = new dynamodb.Table(this, 'RunsTable', {
      ...tableProps,
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      ...(props.runsTableName ? { tableName: props.runsTableName } : {}),
    });
    this.ledgerTable = new dynamodb.Table(this, 'LedgerTable', {
      ...tableProps,
      ...(props.ledgerTableName ? { tableName: props.ledgerTableName } : {}),
    });
  }
}
