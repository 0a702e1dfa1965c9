/**
 * The MWAA environment that runs the DAGs: its source bucket (the name MWAA requires, `airflow-…`,
 * versioned, TLS only, access-logged) with the DAG files and requirements uploaded by the deployment,
 * an execution role limited to the named Glue jobs, Lambdas, tables and buckets, the environment in
 * the settings' private subnets with a private web server, and every Airflow log stream in CloudWatch.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as mwaa from 'aws-cdk-lib/aws-mwaa';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeploymentHandler, arnWildcard, objectsWildcard, useKey, wildcard } from './nag.js';
import { SECURE_BUCKET, dataRemovalPolicy, newAccessLogsBucket } from './retention.js';

export interface OrchestrationProps {
  /** Environment name. @default 'offload' */
  readonly environmentName?: string;
  /** Apache Airflow version as MWAA spells it. @default '3.0.6' */
  readonly airflowVersion?: string;
  /** Environment class. @default 'mw1.small' */
  readonly environmentClass?: string;
  /** Most workers auto-scaling may start. @default 5 */
  readonly maxWorkers?: number;
  /** Source bucket name (MWAA requires the `airflow-` prefix). @default a CloudFormation-generated name */
  readonly bucketName?: string;
  /** Directory of the DAG files uploaded under `dagPrefix`. @default no DAGs uploaded */
  readonly dagsDirectory?: string;
  /** Key prefix of the DAGs. @default 'dags' */
  readonly dagPrefix?: string;
  /** Content of requirements.txt installed on the environment. @default none */
  readonly requirements?: string;
  /** Private subnets (two, in different zones). */
  readonly subnetIds: string[];
  /** Security groups of the environment. */
  readonly securityGroupIds: string[];
  /** Airflow configuration options. @default { 'core.default_timezone': 'utc' } */
  readonly airflowConfiguration?: Record<string, string>;
  /** Glue jobs the DAGs may start (names). @default none */
  readonly glueJobNames?: string[];
  /** Lambda functions the DAGs may invoke (ARNs). @default none */
  readonly functionArns?: string[];
  /** Tables the DAGs read and write (config table read-only, runs table read-write). @default none */
  readonly configTableArn?: string;
  /** Runs table (ledger) the DAG tasks update. @default none */
  readonly runsTableArn?: string;
  /** Keys of the tables and buckets above. @default none */
  readonly dataKeys?: kms.IKey[];
  /** Target of the bucket's access logs. @default a new access-log bucket */
  readonly accessLogsBucket?: s3.IBucket;
  /** Delete the DAG bucket with the stack. @default false */
  readonly destroyOnRemoval?: boolean;
}

export class Orchestration extends Construct {
  readonly bucket: s3.Bucket;
  readonly role: iam.Role;
  readonly environment: mwaa.CfnEnvironment;
  readonly environmentName: string;

  constructor(scope: Construct, id: string, props: OrchestrationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const destroy = props.destroyOnRemoval ?? false;
    this.environmentName = props.environmentName ?? 'offload';
    const dagPrefix = props.dagPrefix ?? 'dags';
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      encryption: s3.BucketEncryption.S3_MANAGED,
      serverAccessLogsBucket: props.accessLogsBucket ?? newAccessLogsBucket(this, 'AccessLogs', undefined, destroy),
      serverAccessLogsPrefix: `${props.bucketName ?? 'airflow'}/`,
      lifecycleRules: [{ id: 'expire-old-dag-versions', noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: dataRemovalPolicy(this, destroy),
      autoDeleteObjects: destroy,
    });
    const sources: s3deploy.ISource[] = [];
    if (props.dagsDirectory)
      sources.push(
        s3deploy.Source.asset(props.dagsDirectory, {
          exclude: ['tests', 'tests/**', '**/__pycache__', '**/*.pyc', 'README.md', 'requirements.txt'],
        }),
      );
    const deployments: s3deploy.BucketDeployment[] = [];
    if (sources.length) {
      const dags = new s3deploy.BucketDeployment(this, 'Dags', {
        sources,
        destinationBucket: this.bucket,
        destinationKeyPrefix: `${dagPrefix}/`,
      });
      acknowledgeDeploymentHandler(stack, dags, this.bucket);
      deployments.push(dags);
    }
    if (props.requirements !== undefined) {
      const req = new s3deploy.BucketDeployment(this, 'Requirements', {
        sources: [s3deploy.Source.data('requirements.txt', props.requirements)],
        destinationBucket: this.bucket,
        prune: false,
      });
      acknowledgeDeploymentHandler(stack, req, this.bucket);
      deployments.push(req);
    }

    const envArn = `arn:${Aws.PARTITION}:airflow:${Aws.REGION}:${Aws.ACCOUNT_ID}:environment/${this.environmentName}`;
    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('airflow.amazonaws.com'),
        new iam.ServicePrincipal('airflow-env.amazonaws.com'),
      ),
      description: `MWAA execution role of ${this.environmentName}`,
    });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['airflow:PublishMetrics'], resources: [envArn] }));
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetAccountPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
        resources: ['*'],
      }),
    );
    const logs =
      `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:` + `log-group:airflow-${this.environmentName}-*`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogStream',
          'logs:CreateLogGroup',
          'logs:PutLogEvents',
          'logs:GetLogEvents',
          'logs:GetLogRecord',
          'logs:GetLogGroupFields',
          'logs:GetQueryResults',
        ],
        resources: [logs, `${logs}:*`],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups', 'cloudwatch:PutMetricData'], resources: ['*'] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
        ],
        resources: [`arn:${Aws.PARTITION}:sqs:${Aws.REGION}:*:airflow-celery-*`],
      }),
    );
    // MWAA's Celery queues are encrypted with an AWS-owned key reached through SQS.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey*', 'kms:Encrypt'],
        notResources: [`arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:key/*`],
        conditions: { StringLike: { 'kms:ViaService': [`sqs.${Aws.REGION}.amazonaws.com`] } },
      }),
    );
    const glueArn = (name: string) => `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:job/${name}`;
    if (props.glueJobNames?.length)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun', 'glue:GetJob'],
          resources: props.glueJobNames.map(glueArn),
        }),
      );
    if (props.functionArns?.length)
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: props.functionArns }),
      );
    if (props.configTableArn)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
          resources: [props.configTableArn],
        }),
      );
    if (props.runsTableArn)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [props.runsTableArn],
        }),
      );
    for (const key of props.dataKeys ?? []) useKey(this.role, key, true);

    const logging = { enabled: true, logLevel: 'INFO' };
    this.environment = new mwaa.CfnEnvironment(this, 'Environment', {
      name: this.environmentName,
      airflowVersion: props.airflowVersion ?? '3.0.6',
      environmentClass: props.environmentClass ?? 'mw1.small',
      minWorkers: 1,
      maxWorkers: props.maxWorkers ?? 5,
      sourceBucketArn: this.bucket.bucketArn,
      dagS3Path: dagPrefix,
      ...(props.requirements !== undefined ? { requirementsS3Path: 'requirements.txt' } : {}),
      executionRoleArn: this.role.roleArn,
      webserverAccessMode: 'PRIVATE_ONLY',
      networkConfiguration: { subnetIds: props.subnetIds, securityGroupIds: props.securityGroupIds },
      airflowConfigurationOptions: props.airflowConfiguration ?? { 'core.default_timezone': 'utc' },
      loggingConfiguration: {
        dagProcessingLogs: logging,
        schedulerLogs: logging,
        taskLogs: logging,
        webserverLogs: logging,
        workerLogs: logging,
      },
    });
    for (const d of deployments) this.environment.node.addDependency(d);

    acknowledge(
      this.role,
      [
        'AwsSolutions-IAM5[Action::s3:GetObject*]',
        'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'AwsSolutions-IAM5[Action::s3:List*]',
        objectsWildcard(this.bucket, '*'),
      ],
      'MWAA reads its whole source bucket (DAGs, requirements, plugins, their versions and the bucket settings) as ' +
        'the MWAA execution-role policy documents; the bucket holds nothing else.',
    );
    acknowledge(
      this.role,
      [
        arnWildcard('logs', `log-group:airflow-${this.environmentName}-*`),
        arnWildcard('logs', `log-group:airflow-${this.environmentName}-*:*`),
        arnWildcard('sqs', 'airflow-celery-*', true),
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      ],
      'MWAA names its log groups airflow-<environment>-* and its Celery queues airflow-celery-* in an account ' +
        'it owns; their AWS-owned key is used only through SQS (kms:ViaService condition).',
    );
    acknowledge(
      this.role,
      [wildcard('*')],
      'logs:DescribeLogGroups, cloudwatch:PutMetricData and the public-access-block reads MWAA performs support ' +
        'no resource-level permissions.',
    );
  }
}
