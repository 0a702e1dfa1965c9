/**
 * The whole AWS side of the pipeline in one stack: names come from DeploySettings (derived in
 * bin/settings.ts), the constructs are wired together here and nothing else is read.
 */
import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploySettings, GlueBuild } from '../bin/settings.js';
import { ArchiveLake } from './archive-lake.js';
import { ConfigStore } from './config-store.js';
import { DataPlane, type GlueJobSpec, type JobKind } from './data-plane.js';
import { Functions } from './functions.js';
import { acknowledgeNotificationsHandler } from './nag.js';
import { Orchestration } from './orchestration.js';
import { Reports } from './reports.js';

/** Entry script of each Glue job in the build directory. */
const JOB_SCRIPTS: Record<JobKind, string> = {
  archive: 'archive_table.py',
  validate: 'validate_table.py',
  purge: 'purge_table.py',
  cleanup: 'cleanup_source.py',
  hold: 'hold_table.py',
};

export interface OffloadStackProps extends StackProps {
  readonly settings: DeploySettings;
  /** requirements.txt of the MWAA environment (read in bin/). @default none */
  readonly requirements?: string;
}

export class OffloadStack extends Stack {
  readonly configStore: ConfigStore;
  readonly archiveLake: ArchiveLake;
  readonly reports: Reports;
  readonly dataPlane: DataPlane;
  readonly functions: Functions;
  readonly orchestration: Orchestration;

  constructor(scope: Construct, id: string, props: OffloadStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const destroyOnRemoval = s.destroyOnRemoval;
    for (const [k, v] of Object.entries(s.tags)) Tags.of(this).add(k, v);

    this.configStore = new ConfigStore(this, 'ConfigStore', {
      bucketName: s.config.bucket,
      tableName: s.config.table,
      runsTableName: s.config.runsTable,
      ledgerTableName: s.config.ledgerTable,
      accessLogsBucketName: s.config.accessLogsBucket,
      destroyOnRemoval,
    });
    const accessLogsBucket = this.configStore.accessLogsBucket;
    this.archiveLake = new ArchiveLake(this, 'ArchiveLake', {
      bucketName: s.archive.bucket,
      warehousePrefix: s.archive.prefix,
      ...(s.archive.objectLock ? { objectLock: s.archive.objectLock } : {}),
      lakeFormationAdmins: s.archive.lakeFormationAdmins,
      accessLogsBucket,
      destroyOnRemoval,
    });
    this.reports = new Reports(this, 'Reports', {
      bucketName: s.reports.bucket,
      prefix: s.reports.prefix,
      notifyEmails: s.reports.notifyEmails,
      accessLogsBucket,
      destroyOnRemoval,
    });
    this.dataPlane = new DataPlane(this, 'DataPlane', {
      codeDirectory: s.build.glueDir,
      jobs: jobsOf(s, s.build),
      extraJars: s.build.jars,
      archiveBucket: this.archiveLake.bucket,
      archiveKey: this.archiveLake.key,
      warehousePrefix: s.archive.prefix,
      glueDatabasePrefix: s.archive.glueDatabasePrefix,
      reportsBucket: this.reports.bucket,
      reportsKey: this.reports.key,
      network: {
        subnetId: s.network.subnetIds[0]!,
        availabilityZone: s.network.availabilityZones[0]!,
        securityGroupIds: s.network.securityGroupIds,
      },
      alarmTopic: this.reports.topic,
      accessLogsBucket,
      destroyOnRemoval,
    });
    this.functions = new Functions(this, 'Functions', {
      names: {
        discover: s.lambdas.discover,
        testConnection: s.lambdas.testConnection,
        presignedUrls: s.lambdas.presignedUrls,
        s3Trigger: s.lambdas.s3Trigger,
        validationReport: s.lambdas.validationReport,
      },
      configBucket: this.configStore.bucket,
      configPrefix: s.config.prefix,
      configTable: this.configStore.table,
      runsTable: this.configStore.runsTable,
      ledgerTable: this.configStore.ledgerTable,
      configKey: this.configStore.key,
      reportsBucket: this.reports.bucket,
      reportsPrefix: s.reports.prefix,
      reportsKey: this.reports.key,
      alarmTopic: this.reports.topic,
      urlCallers: s.reports.urlCallers,
      mwaaEnvironmentName: s.mwaa.environment,
      archivalDagId: s.dags.archival,
      network: s.network,
    });
    for (const [kind, fn] of Object.entries(this.functions.functions))
      this.reports.addAlarm(`${kind}Errors`, fn.metricErrors(), `offload: the ${kind} Lambda reported errors`);
    this.reports.addAlarm(
      'DeadLetters',
      this.functions.deadLetterQueue.metricApproximateNumberOfMessagesVisible(),
      'offload: an asynchronous Lambda event was dead-lettered (the DAG was not triggered)',
    );
    this.orchestration = new Orchestration(this, 'Orchestration', {
      environmentName: s.mwaa.environment,
      airflowVersion: s.mwaa.airflowVersion,
      environmentClass: s.mwaa.environmentClass,
      maxWorkers: s.mwaa.maxWorkers,
      bucketName: s.mwaa.bucket,
      dagsDirectory: s.build.dagsDir,
      dagPrefix: s.mwaa.dagPrefix,
      ...(props.requirements !== undefined ? { requirements: props.requirements } : {}),
      subnetIds: s.network.subnetIds,
      securityGroupIds: s.network.securityGroupIds,
      glueJobNames: Object.values(jobsOf(s, s.build)).map((j) => j.name),
      functionArns: Object.values(this.functions.functions).map((f) => f.functionArn),
      configTableArn: this.configStore.table.tableArn,
      ledgerTableArn: this.configStore.ledgerTable.tableArn,
      dataKeys: [this.configStore.key],
      accessLogsBucket,
      destroyOnRemoval,
    });
    acknowledgeNotificationsHandler(this);
  }
}

/** The jobs whose entry script is in the build (cleanup only once its script exists). */
function jobsOf(s: DeploySettings, build: GlueBuild): Partial<Record<JobKind, GlueJobSpec>> {
  const jobs: Partial<Record<JobKind, GlueJobSpec>> = {};
  for (const kind of Object.keys(JOB_SCRIPTS) as JobKind[])
    if (build.scripts.includes(JOB_SCRIPTS[kind])) jobs[kind] = { name: s.glueJobs[kind], script: JOB_SCRIPTS[kind] };
  return jobs;
}
