/**
 * Where a run's results go: the reports bucket (JSON, Markdown and HTML reports, read through
 * presigned URLs), an SNS topic for failures and validation mismatches, and CloudWatch alarms that
 * publish to it.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SECURE_BUCKET, dataRemovalPolicy, newAccessLogsBucket } from './retention.js';

export interface ReportsProps {
  /** Reports bucket name. @default a CloudFormation-generated name */
  readonly bucketName?: string;
  /** Key prefix of the reports. @default 'reports' */
  readonly prefix?: string;
  /** Days a report is kept. @default 730 */
  readonly expireAfterDays?: number;
  /** E-mail addresses subscribed to the alarm topic. @default none */
  readonly notifyEmails?: string[];
  /** Key encrypting the bucket and the topic. @default a new customer-managed key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Target of the bucket's server access logs. @default a new access-log bucket */
  readonly accessLogsBucket?: s3.IBucket;
  /** Delete the reports with the stack (otherwise retained). @default false */
  readonly destroyOnRemoval?: boolean;
}

export class Reports extends Construct {
  readonly bucket: s3.Bucket;
  readonly prefix: string;
  readonly topic: sns.Topic;
  readonly key: kms.IKey;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ReportsProps = {}) {
    super(scope, id);
    const destroy = props.destroyOnRemoval ?? false;
    const removalPolicy = dataRemovalPolicy(this, destroy);
    this.prefix = props.prefix ?? 'reports';
    const key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', { description: 'offload: reports and alarms', enableKeyRotation: true, removalPolicy });
    this.key = key;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket ?? newAccessLogsBucket(this, 'AccessLogs', undefined, destroy),
      serverAccessLogsPrefix: `${props.bucketName ?? 'reports'}/`,
      lifecycleRules: [
        {
          id: 'expire-reports',
          expiration: Duration.days(props.expireAfterDays ?? 730),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'offload: failures and validation mismatches',
      masterKey: key,
      enforceSSL: true,
    });
    // CloudWatch alarms and EventBridge rules publish to the encrypted topic.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com'])
      key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey');
    for (const email of props.notifyEmails ?? [])
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
  }

  /** An alarm on `metric` (≥ 1 in one period by default) that notifies the topic. */
  addAlarm(id: string, metric: cloudwatch.IMetric, description: string, threshold = 1): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
