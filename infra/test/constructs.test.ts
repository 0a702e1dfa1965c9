/**
 * Template assertions per construct: resource counts, encryption, retention, Object Lock, and IAM
 * scoped to the named resources. Synthesized without Lambda bundling (the app test bundles).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import path from 'node:path';
import { FEATURE_FLAGS } from '../bin/app.js';
import { loadDeploySettings } from '../bin/settings.js';
import { ArchiveLake } from '../lib/archive-lake.js';
import { ConfigStore } from '../lib/config-store.js';
import { ledgerTableName } from '../../tools/src/config/naming.js';
import { DataPlane } from '../lib/data-plane.js';
import { Orchestration } from '../lib/orchestration.js';
import { Reports } from '../lib/reports.js';
import { OffloadStack } from '../lib/stack.js';
import { ACCOUNT, writeFixtureRepo } from './fixture.js';

const ENV = { account: ACCOUNT, region: 'eu-west-2' };
const newStack = () =>
  new Stack(new App({ context: { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [] } }), 'T', { env: ENV });

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };

/** Every statement of the inline policies attached to the role with this logical id. */
function statementsOfRole(t: Template, roleLogicalId: string): Statement[] {
  const policies = t.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
function roleId(t: Template, pathPart: string): string {
  const roles = t.findResources('AWS::IAM::Role');
  const id = Object.keys(roles).find((k) => k.startsWith(pathPart));
  assert.ok(id, `no role ${pathPart}* in ${Object.keys(roles).join(', ')}`);
  return id!;
}

// ---- ConfigStore ------------------------------------------------------------------------------
for (const destroy of [false, true]) {
  test(`ConfigStore: versioned KMS bucket, TLS only, logged, EventBridge, PITR (destroyOnRemoval=${destroy})`, () => {
    const stack = newStack();
    new ConfigStore(stack, 'Store', {
      bucketName: 'acme-configs',
      tableName: 'acme-configs',
      runsTableName: 'acme-configs-runs',
      ledgerTableName: 'acme-configs-ledger',
      destroyOnRemoval: destroy,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 2); // configs + access logs
    t.resourceCountIs('AWS::DynamoDB::Table', 3); // configs + trigger records + run ledger
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: destroy ? 'Delete' : 'Retain',
      Properties: Match.objectLike({
        BucketName: 'acme-configs',
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
      }),
    });
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const name of ['acme-configs', 'acme-configs-runs', 'acme-configs-ledger'])
      t.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: destroy ? 'Delete' : 'Retain',
        Properties: Match.objectLike({
          TableName: name,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: !destroy,
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        }),
      });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('DELETED'));
    assert.is(warnings.length > 0, destroy, 'a warning annotation exactly when data is not retained');
  });
}

// ---- ArchiveLake ------------------------------------------------------------------------------
const lockCases = [
  { name: 'no Object Lock', lock: undefined },
  { name: 'governance 2555 days', lock: { mode: 'governance' as const, retentionDays: 2555 } },
  { name: 'compliance 3650 days', lock: { mode: 'compliance' as const, retentionDays: 3650 } },
];
for (const c of lockCases) {
  test(`ArchiveLake: ${c.name}; lifecycle, KMS, Lake Formation location scoped to the warehouse`, () => {
    const stack = newStack();
    new ArchiveLake(stack, 'Lake', {
      bucketName: 'acme-vault',
      warehousePrefix: 'warehouse',
      lakeFormationAdmins: [`arn:aws:iam::${ACCOUNT}:role/lake-admin`],
      ...(c.lock ? { objectLock: c.lock } : {}),
    });
    const t = Template.fromStack(stack);
    const bucket = Object.values(t.findResources('AWS::S3::Bucket', { Properties: { BucketName: 'acme-vault' } }))[0];
    assert.ok(bucket, 'the archive bucket exists');
    assert.is(bucket!.DeletionPolicy, 'Retain');
    const p = bucket!.Properties;
    if (c.lock) {
      assert.is(p.ObjectLockEnabled, true);
      assert.equal(p.ObjectLockConfiguration, {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: c.lock.mode.toUpperCase(), Days: c.lock.retentionDays } },
      });
    } else {
      assert.not.ok(p.ObjectLockEnabled);
      assert.not.ok(p.ObjectLockConfiguration);
    }
    assert.is(
      p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      'aws:kms',
    );
    const rules = (p.LifecycleConfiguration.Rules as { Id: string; Status: string }[]).map((r) => r.Id).sort();
    assert.equal(rules, ['abort-incomplete-uploads', 'expire-noncurrent-versions', 'intelligent-tiering']);
    t.hasResourceProperties('AWS::LakeFormation::DataLakeSettings', {
      Admins: [{ DataLakePrincipalIdentifier: `arn:aws:iam::${ACCOUNT}:role/lake-admin` }],
      MutationType: 'APPEND',
    });
    t.hasResourceProperties('AWS::LakeFormation::Resource', {
      ResourceArn: {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^LakeBucket'), 'Arn'] }, '/warehouse']],
      },
      UseServiceLinkedRole: false,
      RoleArn: Match.anyValue(),
    });
    // The location role reaches the warehouse prefix and the bucket's key, nothing else.
    for (const s of statementsOfRole(t, roleId(t, 'LakeLocationRole'))) {
      const text = JSON.stringify(resourcesOf(s));
      assert.ok(
        /LakeBucket/.test(text) || /LakeKey/.test(text),
        `unexpected resource ${text} for ${actionsOf(s).join(',')}`,
      );
      if (actionsOf(s).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket')) assert.match(text, '/warehouse/*');
    }
  });
}

// ---- Reports ----------------------------------------------------------------------------------
test('Reports: KMS bucket with expiry, encrypted TLS-only topic, e-mail subscription, alarms notify the topic', () => {
  const stack = newStack();
  const r = new Reports(stack, 'Reports', { bucketName: 'acme-reports', notifyEmails: ['ops@example.com'] });
  r.addAlarm('A', r.topic.metricNumberOfNotificationsFailed(), 'test alarm');
  const t = Template.fromStack(stack);
  t.hasResource('AWS::S3::Bucket', {
    DeletionPolicy: 'Retain',
    Properties: Match.objectLike({
      BucketName: 'acme-reports',
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-reports', ExpirationInDays: 730 })] },
    }),
  });
  t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  t.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    },
  });
  t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  t.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmActions: [{ Ref: Match.stringLikeRegexp('^ReportsTopic') }],
  });
});

// ---- DataPlane --------------------------------------------------------------------------------
function dataPlaneStack(jobs = ['archive', 'validate', 'purge', 'cleanup'] as const) {
  const root = writeFixtureRepo();
  const stack = newStack();
  const bucket = new s3.Bucket(stack, 'Archive', { bucketName: 'acme-vault' });
  const key = new kms.Key(stack, 'ArchiveKey');
  const topic = new Reports(stack, 'Reports').topic;
  const scripts = {
    archive: 'archive_table.py',
    validate: 'validate_table.py',
    purge: 'purge_table.py',
    cleanup: 'cleanup_source.py',
  };
  new DataPlane(stack, 'DataPlane', {
    codeDirectory: path.join(root, 'infra', 'build', 'glue'),
    jobs: Object.fromEntries(jobs.map((j) => [j, { name: `acme-${j}`, script: scripts[j] }])),
    extraJars: ['offload-pgcopy.jar', 'postgresql-42.7.4.jar'],
    archiveBucket: bucket,
    archiveKey: key,
    warehousePrefix: 'warehouse',
    glueDatabasePrefix: 'arch_',
    network: {
      subnetId: 'subnet-0aaaaaaaaaaaaaaa1',
      availabilityZone: 'eu-west-2a',
      securityGroupIds: ['sg-0ccccccccccccccc3'],
    },
    alarmTopic: topic,
  });
  return { stack, t: Template.fromStack(stack) };
}

test('DataPlane: four Glue 5.0 Iceberg jobs with the package, jars, security configuration and network', () => {
  const { t } = dataPlaneStack();
  t.resourceCountIs('AWS::Glue::Job', 4);
  const jobs = t.findResources('AWS::Glue::Job');
  const names = Object.values(jobs)
    .map((j) => j.Properties.Name)
    .sort();
  assert.equal(names, ['acme-archive', 'acme-cleanup', 'acme-purge', 'acme-validate']);
  for (const job of Object.values(jobs)) {
    const p = job.Properties;
    assert.is(p.GlueVersion, '5.0');
    assert.is(p.Command.Name, 'glueetl');
    const args = JSON.stringify(p.DefaultArguments);
    assert.is(p.DefaultArguments['--datalake-formats'], 'iceberg');
    assert.match(JSON.stringify(p.DefaultArguments['--extra-py-files']), '/glue/offload_glue.zip');
    assert.match(JSON.stringify(p.DefaultArguments['--extra-jars']), '/glue/jars/offload-pgcopy.jar,s3://');
    assert.match(JSON.stringify(p.DefaultArguments['--extra-jars']), '/glue/jars/postgresql-42.7.4.jar');
    assert.match(args, '/warehouse');
    assert.ok(p.SecurityConfiguration, 'every job runs with the security configuration');
    assert.equal(p.Connections, { Connections: ['T-network'] });
  }
  t.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
    EncryptionConfiguration: {
      S3Encryptions: [Match.objectLike({ S3EncryptionMode: 'SSE-KMS' })],
      CloudWatchEncryption: Match.objectLike({ CloudWatchEncryptionMode: 'SSE-KMS' }),
      JobBookmarksEncryption: Match.objectLike({ JobBookmarksEncryptionMode: 'CSE-KMS' }),
    },
  });
  t.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.glue'],
      'detail-type': ['Glue Job State Change'],
      detail: { jobName: Match.arrayWith(['acme-archive', 'acme-purge']), state: ['FAILED', 'TIMEOUT', 'ERROR'] },
    },
  });
  t.resourceCountIs('Custom::CDKBucketDeployment', 1);
});

/** Actions that AWS offers only on `*` (no resource-level permissions), allowed on `*` by these tests. */
const STAR_ONLY = new Set([
  'lakeformation:GetDataAccess',
  'cloudwatch:PutMetricData',
  'logs:DescribeLogGroups',
  's3:GetAccountPublicAccessBlock',
  's3:GetBucketPublicAccessBlock',
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
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
]);
function assertNoStarBeyondAllowed(statements: Statement[], what: string) {
  for (const s of statements)
    if (resourcesOf(s).includes('*'))
      for (const a of actionsOf(s))
        assert.ok(STAR_ONLY.has(a), `${what}: ${a} on * (only actions without resource ARNs may be)`);
}

test('DataPlane: the job role is scoped to the archive prefix, the arch_* databases and tagged secrets', () => {
  const { t } = dataPlaneStack();
  const statements = statementsOfRole(t, roleId(t, 'DataPlaneJobRole'));
  assertNoStarBeyondAllowed(statements, 'Glue job role');
  const writes = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
  assert.equal(writes.length, 1);
  assert.match(JSON.stringify(writes[0]!.Resource), '/warehouse/*');
  assert.match(JSON.stringify(writes[0]!.Resource), 'Archive');
  const glue = statements.find((s) => actionsOf(s).includes('glue:CreateTable'))!;
  const g = JSON.stringify(glue.Resource);
  assert.match(g, ':database/arch_*');
  assert.match(g, ':table/arch_*/*');
  const secrets = statements.find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))!;
  assert.equal(secrets.Condition, { StringEquals: { 'secretsmanager:ResourceTag/offload:access': 'pipeline' } });
});

test('DataPlane: only the jobs given are defined (no cleanup job without its script)', () => {
  const { t } = dataPlaneStack(['archive', 'validate', 'purge'] as never);
  t.resourceCountIs('AWS::Glue::Job', 3);
});

// ---- Orchestration ----------------------------------------------------------------------------
test('Orchestration: MWAA environment from props, private web server, all logs on, role limited to named jobs', () => {
  const root = writeFixtureRepo();
  const stack = newStack();
  new Orchestration(stack, 'Orch', {
    environmentName: 'acme-archival',
    airflowVersion: '3.3.2',
    environmentClass: 'mw1.medium',
    bucketName: 'airflow-acme',
    dagsDirectory: path.join(root, 'infra', 'build', 'dags'),
    requirements: 'apache-airflow-providers-amazon\n',
    subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    securityGroupIds: ['sg-0ccccccccccccccc3'],
    glueJobNames: ['acme-archive', 'acme-validate'],
    functionArns: [`arn:aws:lambda:eu-west-2:${ACCOUNT}:function:acme_discover`],
  });
  const t = Template.fromStack(stack);
  const logging = { Enabled: true, LogLevel: 'INFO' };
  t.hasResourceProperties('AWS::MWAA::Environment', {
    Name: 'acme-archival',
    AirflowVersion: '3.3.2',
    AirflowConfigurationOptions: Match.objectLike({ 'offload.runtime': 'aws' }),
    EnvironmentClass: 'mw1.medium',
    DagS3Path: 'dags',
    RequirementsS3Path: 'requirements.txt',
    WebserverAccessMode: 'PRIVATE_ONLY',
    NetworkConfiguration: {
      SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      SecurityGroupIds: ['sg-0ccccccccccccccc3'],
    },
    LoggingConfiguration: {
      DagProcessingLogs: logging,
      SchedulerLogs: logging,
      TaskLogs: logging,
      WebserverLogs: logging,
      WorkerLogs: logging,
    },
  });
  t.hasResource('AWS::S3::Bucket', {
    DeletionPolicy: 'Retain',
    Properties: Match.objectLike({ BucketName: 'airflow-acme' }),
  });
  t.resourceCountIs('Custom::CDKBucketDeployment', 2); // DAGs and requirements.txt
  const statements = statementsOfRole(t, roleId(t, 'OrchExecutionRole'));
  assertNoStarBeyondAllowed(
    statements.filter((s) => !JSON.stringify(s).includes('kms:ViaService')),
    'MWAA execution role',
  );
  const glue = statements.find((s) => actionsOf(s).includes('glue:StartJobRun'))!;
  const g = JSON.stringify(glue.Resource);
  assert.match(g, ':job/acme-archive');
  assert.match(g, ':job/acme-validate');
  assert.not.match(g, 'job/*');
  const invoke = statements.find((s) => actionsOf(s).includes('lambda:InvokeFunction'))!;
  assert.equal(resourcesOf(invoke), [`arn:aws:lambda:eu-west-2:${ACCOUNT}:function:acme_discover`]);
});

// ---- Functions and the whole stack ------------------------------------------------------------
test('Functions (in the stack): five Node.js 22 ESM Lambdas, DLQ on the async trigger, IAM URL, scoped roles', () => {
  const root = writeFixtureRepo();
  const app = new App({ context: { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [] } });
  const settings = loadDeploySettings(root, (k) => app.node.tryGetContext(k));
  const stack = new OffloadStack(app, 'S', { settings, env: ENV });
  const t = Template.fromStack(stack);
  const fns = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) =>
    String(f.Properties.FunctionName ?? '').startsWith('acme_'),
  );
  assert.equal(fns.map((f) => f.Properties.FunctionName).sort(), [
    'acme_discover',
    'acme_presigned',
    'acme_report',
    'acme_s3_trigger',
    'acme_test_conn',
  ]);
  for (const f of fns) {
    assert.is(f.Properties.Runtime, 'nodejs22.x');
    assert.equal(f.Properties.Architectures, ['arm64']);
  }
  const byName = (n: string) => fns.find((f) => f.Properties.FunctionName === n)!.Properties;
  assert.ok(byName('acme_s3_trigger').DeadLetterConfig, 'the asynchronous trigger has a DLQ');
  assert.ok(byName('acme_discover').VpcConfig, 'discover runs in the settings VPC');
  assert.equal(byName('acme_discover').VpcConfig.SubnetIds, ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2']);
  assert.not.ok(byName('acme_presigned').VpcConfig);
  t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  t.hasResourceProperties('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunctionUrl',
    Principal: `arn:aws:iam::${ACCOUNT}:role/report-reader`,
    FunctionUrlAuthType: 'AWS_IAM',
  });
  t.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [Match.anyValue()] }, object: { key: ['configs/_offload/manifest.json'] } },
    },
  });
  // presigned_urls: one object statement, GET only, under reports/.
  const presigned = statementsOfRole(t, roleId(t, 'FunctionspresignedUrlsRole'));
  const s3Statements = presigned.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
  assert.equal(s3Statements.length, 1);
  assert.equal(actionsOf(s3Statements[0]!), ['s3:GetObject']);
  assert.match(JSON.stringify(s3Statements[0]!.Resource), '/reports/*');
  // s3_yaml_to_mwaa: the manifest object only, the runs table only, CreateCliToken on the environment only.
  const trigger = statementsOfRole(t, roleId(t, 'Functionss3TriggerRole'));
  assert.match(JSON.stringify(trigger), 'configs/_offload/manifest.json');
  assert.match(JSON.stringify(trigger), ':environment/acme-data-archival');
  for (const kind of ['discover', 'testConnection', 'presignedUrls', 's3Trigger', 'validationReport'])
    assertNoStarBeyondAllowed(statementsOfRole(t, roleId(t, `Functions${kind}Role`)), kind);
  // validation_report: writes under reports/ only, reads there and the validation records under
  // pipeline/results/ and the work units under pipeline/work-units/ of the config bucket (listing only those
  // prefixes), publishes to the alarm topic only.
  const report = statementsOfRole(t, roleId(t, 'FunctionsvalidationReportRole'));
  const configBucketId = Object.entries(t.findResources('AWS::S3::Bucket')).find(
    ([, r]) => r.Properties.BucketName === 'acme-configs',
  )![0];
  const s3Of = (x: Statement) => actionsOf(x).filter((a) => a.startsWith('s3:'));
  const onConfigBucket = report.filter((x) => s3Of(x).length && JSON.stringify(x.Resource).includes(configBucketId));
  assert.equal(
    onConfigBucket.map((x) => [
      s3Of(x),
      JSON.stringify(x.Resource).includes('/pipeline/results/*'),
      JSON.stringify(x.Resource).includes('/pipeline/work-units/*'),
      (JSON.stringify(x.Resource).match(/\/pipeline\//g) ?? []).length,
    ]),
    [
      [['s3:GetObject'], true, true, 2],
      [['s3:ListBucket'], false, false, 0],
    ],
  );
  assert.equal(onConfigBucket[1]!.Condition, {
    StringLike: { 's3:prefix': ['pipeline/results/*', 'pipeline/work-units/*'] },
  });
  for (const st of report.filter((x) => s3Of(x).length && !onConfigBucket.includes(x)))
    assert.match(JSON.stringify(st.Resource), '/reports/*');
  const publish = report.find((x) => actionsOf(x).includes('sns:Publish'))!;
  assert.equal(publish.Resource, { Ref: Object.keys(t.findResources('AWS::SNS::Topic'))[0] });
  // Every name comes from the settings file.
  t.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-configs' });
  t.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'acme-archive-vault' });
  t.hasResourceProperties('AWS::S3::Bucket', { BucketName: `acme-archive-reports-${ACCOUNT}` });
  t.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'acme-configs' });
  t.hasResourceProperties('AWS::MWAA::Environment', { Name: 'acme-data-archival', AirflowVersion: '3.3.2' });
  // The run ledger: the name the pipeline derives (config/naming.ts), keyed like tools/src/ledger/dynamodb.ts.
  const ledgerName = ledgerTableName({ config: { bucket: '', prefix: '', dynamodb_table: 'acme-configs' } });
  assert.is(ledgerName, 'acme-configs-ledger');
  const ledgerId = Object.entries(t.findResources('AWS::DynamoDB::Table')).find(
    ([, r]) => r.Properties.TableName === ledgerName,
  )?.[0];
  assert.ok(ledgerId, 'the stack creates the run ledger table');
  t.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    Properties: Match.objectLike({
      TableName: ledgerName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    }),
  });
  // Least privilege on it: discover and validation_report scan it (read only, no writes); the DAG tasks
  // (MWAA role) get, put (conditional) and scan; nothing else names it (the Glue jobs never touch the ledger).
  const onLedger = (roleLogicalId: string) =>
    statementsOfRole(t, roleLogicalId)
      .filter((x) => JSON.stringify(x.Resource ?? '').includes(`"${ledgerId}"`))
      .flatMap(actionsOf)
      .sort();
  assert.equal(onLedger(roleId(t, 'FunctionsdiscoverRole')), ['dynamodb:Scan']);
  assert.equal(onLedger(roleId(t, 'FunctionsvalidationReportRole')), ['dynamodb:Scan']);
  assert.equal(onLedger(roleId(t, 'OrchestrationExecutionRole')), [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Scan',
  ]);
  const namingLedger = Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(`"${ledgerId}"`))
    .map(([id]) => id)
    .sort();
  assert.is(namingLedger.length, 3, `policies naming the ledger: ${namingLedger.join(', ')}`);
  const discoverFn = fns.find((f) => f.Properties.FunctionName === 'acme_discover')!;
  assert.equal(discoverFn.Properties.Environment.Variables.OFFLOAD_LEDGER_TABLE, { Ref: ledgerId });
  // The config table: discover scans it (the configs sync published), test_connection gets one item; neither writes.
  const configTableId = Object.entries(t.findResources('AWS::DynamoDB::Table')).find(
    ([, r]) => r.Properties.TableName === 'acme-configs',
  )?.[0];
  const onConfigTable = (roleLogicalId: string) =>
    statementsOfRole(t, roleLogicalId)
      .filter((x) => JSON.stringify(x.Resource ?? '').includes(`"${configTableId}"`))
      .flatMap(actionsOf)
      .sort();
  assert.equal(onConfigTable(roleId(t, 'FunctionsdiscoverRole')), ['dynamodb:Scan']);
  assert.equal(onConfigTable(roleId(t, 'FunctionstestConnectionRole')), ['dynamodb:GetItem']);
  assert.equal(discoverFn.Properties.Environment.Variables.OFFLOAD_CONFIG_TABLE, { Ref: configTableId });
  const reportFn = fns.find((f) => f.Properties.FunctionName === 'acme_report')!;
  assert.equal(reportFn.Properties.Environment.Variables.OFFLOAD_LEDGER_TABLE, { Ref: ledgerId });
  assert.equal(reportFn.Properties.Environment.Variables.OFFLOAD_RESULTS_BUCKET, { Ref: configBucketId });
  // …and may decrypt it with the ledger's key, never encrypt with that key.
  const ledgerKey = JSON.stringify(
    t.findResources('AWS::DynamoDB::Table')[ledgerId!]!.Properties.SSESpecification.KMSMasterKeyId,
  );
  const onLedgerKey = statementsOfRole(t, roleId(t, 'FunctionsvalidationReportRole'))
    .filter((x) => JSON.stringify(x.Resource ?? '') === ledgerKey)
    .flatMap(actionsOf)
    .sort();
  assert.equal(onLedgerKey, ['kms:Decrypt', 'kms:DescribeKey']);
  // Alarms: one per function plus the dead-letter queue, all notifying the topic.
  t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
});

test('settings: a missing deployment block and a bad field are refused with the file and field named', () => {
  const root = writeFixtureRepo({ deploymentExtra: '  mwaa:\n    environment_class: mw9.huge\n' });
  assert.throws(
    () => loadDeploySettings(root),
    (e: Error) => /offload\.settings\.yaml:\d+:\d+ schema\/enum/.test(e.message) && /environment_class/.test(e.message),
  );
});

test.run();
