/**
 * The Glue jobs of the data plane (archive, validate, purge, source cleanup, legal hold) on Glue 5.0 with
 * Iceberg, their code uploaded from the build directory, one execution role scoped to the named
 * buckets, Glue databases and tagged secrets, a security configuration encrypting everything the
 * jobs write, and a rule that publishes every failed, timed-out or errored run to the alarm topic.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeDeploymentHandler, arnWildcard, objectsWildcard, useKey, wildcard } from './nag.js';
import { SECURE_BUCKET, dataRemovalPolicy, newAccessLogsBucket } from './retention.js';

export type JobKind = 'archive' | 'validate' | 'purge' | 'cleanup' | 'hold';

export interface GlueJobSpec {
  /** Glue job name. */
  readonly name: string;
  /** Entry script in the code directory, e.g. `archive_table.py`. */
  readonly script: string;
}

/** Tag a database's Secrets Manager secret with this key and value to let the pipeline read it. */
export const SECRET_ACCESS_TAG = { key: 'offload:access', value: 'pipeline' } as const;

export interface DataPlaneProps {
  /** Directory uploaded as the job code (entry scripts, `offload_glue.zip`, `jars/`). */
  readonly codeDirectory: string;
  /** Jobs to define. */
  readonly jobs: Partial<Record<JobKind, GlueJobSpec>>;
  /** Jars under `<codeDirectory>/jars` passed as `--extra-jars`. @default none */
  readonly extraJars?: string[];
  /** Archive bucket the jobs write. */
  readonly archiveBucket: s3.IBucket;
  /** Key of the archive bucket. */
  readonly archiveKey: kms.IKey;
  /** Iceberg warehouse prefix in the archive bucket. @default 'iceberg' */
  readonly warehousePrefix?: string;
  /** Prefix of the Glue databases the jobs may write. @default 'archive_' */
  readonly glueDatabasePrefix?: string;
  /** Bucket the validation results and reports go to. @default none */
  readonly reportsBucket?: s3.IBucket;
  /** Key of the reports bucket. @default none */
  readonly reportsKey?: kms.IKey;
  /** Network the jobs reach the source databases through. @default no network connection */
  readonly network?: { subnetId: string; availabilityZone: string; securityGroupIds: string[] };
  /** Code bucket name. @default a CloudFormation-generated name */
  readonly codeBucketName?: string;
  /** Glue worker type. @default 'G.1X' */
  readonly workerType?: string;
  /** Workers per run. @default 2 */
  readonly numberOfWorkers?: number;
  /** Run timeout in minutes. @default 480 */
  readonly timeoutMinutes?: number;
  /** Concurrent runs per job (one per table). @default 10 */
  readonly maxConcurrentRuns?: number;
  /** Topic notified of failed runs. @default no notification */
  readonly alarmTopic?: sns.ITopic;
  /** Target of the code bucket's access logs. @default a new access-log bucket */
  readonly accessLogsBucket?: s3.IBucket;
  /** Delete the code bucket with the stack. @default false */
  readonly destroyOnRemoval?: boolean;
}

export class DataPlane extends Construct {
  readonly codeBucket: s3.Bucket;
  readonly role: iam.Role;
  readonly jobs: Partial<Record<JobKind, glue.CfnJob>> = {};
  readonly securityConfiguration: glue.CfnSecurityConfiguration;
  readonly key: kms.Key;
  readonly connectionName?: string;

  constructor(scope: Construct, id: string, props: DataPlaneProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const destroy = props.destroyOnRemoval ?? false;
    const warehousePrefix = props.warehousePrefix ?? 'iceberg';
    const dbPrefix = props.glueDatabasePrefix ?? 'archive_';

    this.key = new kms.Key(this, 'Key', {
      description: 'offload: Glue job code, logs and bookmarks',
      enableKeyRotation: true,
      removalPolicy: dataRemovalPolicy(this, destroy),
    });
    useKey(new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`), this.key, true);
    this.codeBucket = new s3.Bucket(this, 'CodeBucket', {
      ...SECURE_BUCKET,
      ...(props.codeBucketName ? { bucketName: props.codeBucketName } : {}),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket ?? newAccessLogsBucket(this, 'AccessLogs', undefined, destroy),
      serverAccessLogsPrefix: `${props.codeBucketName ?? 'glue-code'}/`,
      lifecycleRules: [{ id: 'expire-old-code', noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: dataRemovalPolicy(this, destroy),
      autoDeleteObjects: destroy,
    });
    const deployment = new s3deploy.BucketDeployment(this, 'Code', {
      sources: [s3deploy.Source.asset(props.codeDirectory)],
      destinationBucket: this.codeBucket,
      destinationKeyPrefix: 'glue/',
    });
    acknowledgeDeploymentHandler(stack, deployment, this.codeBucket);
    const code = (key: string) => this.codeBucket.s3UrlForObject(`glue/${key}`);

    this.securityConfiguration = new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: `${stack.stackName}-glue`,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.archiveKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: this.key.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: this.key.keyArn },
      },
    });

    this.role = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'offload Glue jobs: archive, validate, purge, cleanup, hold',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.codeBucket.arnForObjects('glue/*')] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [props.archiveBucket.arnForObjects(`${warehousePrefix}/*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.archiveBucket.bucketArn] }),
    );
    useKey(this.role, props.archiveKey, true);
    if (props.reportsBucket)
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [props.reportsBucket.arnForObjects('validation/*')],
        }),
      );
    if (props.reportsKey) useKey(this.role, props.reportsKey, true);
    const arn = (resource: string) => `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:CreateDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:DeleteTable',
          'glue:GetPartitions',
        ],
        resources: [arn('catalog'), arn(`database/${dbPrefix}*`), arn(`table/${dbPrefix}*/*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['glue:GetConnection'], resources: [arn('catalog'), arn('connection/*')] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`],
        conditions: {
          StringEquals: { [`secretsmanager:ResourceTag/${SECRET_ACCESS_TAG.key}`]: SECRET_ACCESS_TAG.value },
        },
      }),
    );
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['lakeformation:GetDataAccess'], resources: ['*'] }));
    const logGroups = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws-glue/*`;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [logGroups, `${logGroups}:*`],
      }),
    );
    useKey(this.role, this.key, true);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );

    const connections: string[] = [];
    if (props.network) {
      // Glue jobs reach the databases through the network of this connection; the per-database
      // JDBC connections written by `offload sync` carry the URLs and secrets.
      const name = `${stack.stackName}-network`;
      const connection = new glue.CfnConnection(this, 'NetworkConnection', {
        catalogId: Aws.ACCOUNT_ID,
        connectionInput: {
          name,
          connectionType: 'NETWORK',
          physicalConnectionRequirements: {
            subnetId: props.network.subnetId,
            availabilityZone: props.network.availabilityZone,
            securityGroupIdList: props.network.securityGroupIds,
          },
        },
      });
      acknowledge(
        connection,
        ['CloudFormation-Validate::W3010'],
        'A Glue network connection must name the availability zone of its subnet; both come from the settings.',
      );
      this.connectionName = name;
      connections.push(name);
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:DescribeSubnets',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeVpcEndpoints',
            'ec2:DescribeRouteTables',
            'ec2:DescribeVpcAttribute',
            'ec2:DescribeNetworkInterfaces',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:CreateTags',
            'ec2:DeleteTags',
          ],
          resources: ['*'],
        }),
      );
    }

    const extraJars = (props.extraJars ?? []).map((j) => code(`jars/${j}`)).join(',');
    for (const [kind, spec] of Object.entries(props.jobs) as [JobKind, GlueJobSpec][]) {
      this.jobs[kind] = new glue.CfnJob(this, `${kind[0]!.toUpperCase()}${kind.slice(1)}Job`, {
        name: spec.name,
        role: this.role.roleArn,
        glueVersion: '5.0',
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: code(spec.script) },
        workerType: props.workerType ?? 'G.1X',
        numberOfWorkers: props.numberOfWorkers ?? 2,
        timeout: props.timeoutMinutes ?? 480,
        maxRetries: 0,
        executionProperty: { maxConcurrentRuns: props.maxConcurrentRuns ?? 10 },
        securityConfiguration: this.securityConfiguration.name!,
        ...(connections.length ? { connections: { connections } } : {}),
        defaultArguments: {
          '--job-language': 'python',
          '--datalake-formats': 'iceberg',
          '--extra-py-files': code('offload_glue.zip'),
          ...(extraJars ? { '--extra-jars': extraJars, '--user-jars-first': 'true' } : {}),
          '--catalog_type': 'glue',
          '--warehouse': `s3://${props.archiveBucket.bucketName}/${warehousePrefix}`,
          '--enable-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--enable-glue-datacatalog': 'true',
        },
      });
      this.jobs[kind]!.node.addDependency(deployment);
    }

    if (props.alarmTopic) {
      new events.Rule(this, 'JobFailureRule', {
        description: 'offload: a Glue job run failed, timed out or errored',
        eventPattern: {
          source: ['aws.glue'],
          detailType: ['Glue Job State Change'],
          detail: {
            jobName: Object.values(props.jobs).map((j) => j!.name),
            state: ['FAILED', 'TIMEOUT', 'ERROR'],
          },
        },
        targets: [new targets.SnsTopic(props.alarmTopic)],
      });
    }

    acknowledge(
      this.role,
      [
        objectsWildcard(this.codeBucket, 'glue/*'),
        objectsWildcard(props.archiveBucket, `${warehousePrefix}/*`),
        ...(props.reportsBucket ? [objectsWildcard(props.reportsBucket, 'validation/*')] : []),
      ],
      'The jobs read their code under glue/, write any Iceberg file under the warehouse prefix and validation ' +
        'results under validation/; each wildcard is one prefix of one bucket of this stack.',
    );
    acknowledge(
      this.role,
      [
        arnWildcard('glue', `database/${dbPrefix}*`),
        arnWildcard('glue', `table/${dbPrefix}*/*`),
        arnWildcard('glue', 'connection/*'),
      ],
      `The jobs create and replace tables in the Glue databases the configs derive (${dbPrefix}<database>, one ` +
        'per source database, added by config PRs), and read the JDBC connection of whichever database a run names.',
    );
    acknowledge(
      this.role,
      [arnWildcard('logs', 'log-group:/aws-glue/*'), arnWildcard('logs', 'log-group:/aws-glue/*:*')],
      'Glue writes job logs to log groups it names under /aws-glue/ (output, error, continuous logging).',
    );
    acknowledge(
      this.role,
      [arnWildcard('secretsmanager', 'secret:*')],
      `Databases name their secrets in reviewed configs (any name); reads are limited by the condition to secrets ` +
        `tagged ${SECRET_ACCESS_TAG.key}=${SECRET_ACCESS_TAG.value}.`,
    );
    acknowledge(
      this.role,
      [wildcard('*')],
      'lakeformation:GetDataAccess, cloudwatch:PutMetricData (condition: namespace Glue) and the EC2 ' +
        'network-interface actions Glue needs inside a VPC support no resource-level permissions.',
    );
  }
}
