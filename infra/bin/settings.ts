/**
 * The one place the CDK app reads configuration: `offload.settings.yaml` (through the toolkit's own
 * YAML and schema passes, so a bad file fails with the same located findings as `offload validate`),
 * the `offload:*` context flags, and the build directory. Every AWS name the stack uses is derived here
 * and handed to the constructs as plain props; the constructs never read a file or the context.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseConfigFile } from '../../tools/src/config/yaml-file.js';
import { schemaFindings } from '../../tools/src/config/schema-pass.js';
import { ledgerTableName, triggerTableName } from '../../tools/src/config/naming.js';
import { SETTINGS_FILE } from '../../tools/src/config/source.js';
import { UserError } from '../../tools/src/errors.js';
import type { OffloadSettings } from '../../tools/src/generated/settings.js';

type ObjectLockMode = 'governance' | 'compliance';

/** Everything the stack needs, names already derived. */
export interface DeploySettings {
  stackName: string;
  account?: string;
  region: string;
  resourcePrefix: string;
  tags: Record<string, string>;
  config: {
    bucket: string;
    prefix: string;
    table: string;
    /** The run ledger's table and the trigger records' table (tools/src/config/naming.ts). */
    ledgerTable: string;
    runsTable: string;
    accessLogsBucket: string;
  };
  archive: {
    bucket: string;
    prefix: string;
    glueDatabasePrefix: string;
    objectLock?: { mode: ObjectLockMode; retentionDays: number };
    lakeFormationAdmins: string[];
  };
  reports: { bucket: string; prefix: string; urlCallers: string[]; notifyEmails: string[] };
  glueJobs: { archive: string; validate: string; purge: string; cleanup: string; hold: string };
  lambdas: {
    discover: string;
    presignedUrls: string;
    testConnection: string;
    validationReport: string;
    s3Trigger: string;
  };
  dags: { archival: string; purge: string };
  network: { vpcId: string; subnetIds: string[]; availabilityZones: string[]; securityGroupIds: string[] };
  mwaa: {
    environment: string;
    bucket: string;
    airflowVersion: string;
    environmentClass: string;
    maxWorkers: number;
    dagPrefix: string;
  };
  /** Removal policy and auto-delete of data stores; only `-c offload:destroyOnRemoval=true` turns it on. */
  destroyOnRemoval: boolean;
  /** Built artifacts (scripts/deploy.sh --build): Glue job code and jars, DAGs. */
  build: GlueBuild;
}

export interface GlueBuild {
  /** Directory uploaded as the Glue code prefix (job scripts, `offload_glue.zip`, `jars/`). */
  glueDir: string;
  /** Job entry scripts found in the build (`archive_table.py`, …). */
  scripts: string[];
  /** Jars under `jars/` (file names). */
  jars: string[];
  /** Directory of the DAG files uploaded to the MWAA bucket (`<build>/dags`). */
  dagsDir: string;
  /** MWAA requirements file, when the DAGs ship one. */
  requirementsFile?: string;
}

const CONTEXT_DESTROY = 'offload:destroyOnRemoval';
export const CONTEXT_BUILD_DIR = 'offload:buildDir';

function schemaCheckedSettings(root: string): OffloadSettings {
  const file = path.join(root, SETTINGS_FILE);
  if (!existsSync(file)) throw new UserError(`${file} is missing: the CDK app derives every name from it`);
  const parsed = parseConfigFile(SETTINGS_FILE, readFileSync(file));
  const findings = parsed.value ? [...parsed.findings, ...schemaFindings('settings', parsed)] : parsed.findings;
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length || !parsed.value)
    throw new UserError(
      `${SETTINGS_FILE} is not valid (run \`offload validate\`):\n` +
        errors.map((f) => `  ${f.file}:${f.line}:${f.column} ${f.code}: ${f.message}`).join('\n'),
    );
  return parsed.value as unknown as OffloadSettings;
}

function flag(value: unknown): boolean {
  return value === true || value === 'true';
}

/** Reads the Glue build directory (or reports what is missing and how to build it). */
function readBuild(buildDir: string): GlueBuild {
  const glueDir = path.join(buildDir, 'glue');
  const zip = path.join(glueDir, 'offload_glue.zip');
  if (!existsSync(zip))
    throw new UserError(`${zip} is missing: build the Glue package first (bash scripts/deploy.sh --build)`);
  const scripts = readdirSync(glueDir).filter((f) => f.endsWith('.py'));
  const jarsDir = path.join(glueDir, 'jars');
  const jars = existsSync(jarsDir) ? readdirSync(jarsDir).filter((f) => f.endsWith('.jar')) : [];
  const dagsDir = path.join(buildDir, 'dags');
  if (!existsSync(dagsDir)) throw new UserError(`${dagsDir} is missing: build first (bash scripts/deploy.sh --build)`);
  const requirements = path.join(dagsDir, 'requirements.txt');
  return { glueDir, scripts, jars, dagsDir, ...(existsSync(requirements) ? { requirementsFile: requirements } : {}) };
}

/**
 * Derives every name of the deployment from the settings file at `root`.
 * @param context the app's context (`app.node.tryGetContext`), for the `offload:*` flags.
 */
export function loadDeploySettings(root: string, context: (key: string) => unknown = () => undefined): DeploySettings {
  const s = schemaCheckedSettings(root);
  const d = s.deployment;
  if (!d)
    throw new UserError(
      `${SETTINGS_FILE}: \`deployment\` is missing; the CDK app needs at least deployment.network ` +
        '(vpc_id, subnet_ids, availability_zones, security_group_ids)',
    );
  if (!d.network.availability_zones)
    throw new UserError(`${SETTINGS_FILE}: deployment.network.availability_zones is required by the CDK app`);
  const p = s.resource_prefix;
  const account = s.account_id;
  const suffix = account ? `-${account}` : '';
  const buildDir = String(context(CONTEXT_BUILD_DIR) ?? path.join(root, 'infra', 'build'));
  return {
    stackName: `${p}-data-retention-offloader`,
    ...(account ? { account } : {}),
    region: s.region,
    resourcePrefix: p,
    tags: Object.fromEntries(
      Object.entries(s.defaults?.tags ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
    config: {
      bucket: s.config.bucket,
      prefix: s.config.prefix,
      table: s.config.dynamodb_table,
      ledgerTable: ledgerTableName(s),
      runsTable: triggerTableName(s),
      accessLogsBucket: `${p}-offload-access-logs${suffix}`,
    },
    archive: {
      bucket: s.archive.bucket,
      prefix: s.archive.prefix,
      glueDatabasePrefix: s.archive.glue_database_prefix ?? 'archive_',
      ...(d.object_lock
        ? { objectLock: { mode: d.object_lock.mode, retentionDays: d.object_lock.retention_days } }
        : {}),
      lakeFormationAdmins: d.lake_formation_admins ?? [],
    },
    reports: {
      bucket: d.reports?.bucket ?? `${p}-archive-reports${suffix}`,
      prefix: d.reports?.prefix ?? 'reports',
      urlCallers: d.reports?.url_callers ?? [],
      notifyEmails: d.reports?.notify_emails ?? [],
    },
    glueJobs: {
      archive: s.glue_jobs.archive,
      validate: s.glue_jobs.validate,
      purge: s.glue_jobs.purge,
      cleanup: s.glue_jobs.cleanup ?? `${p}-data-cleanup-source`,
      hold: s.glue_jobs.hold ?? `${p}-data-archive-hold`,
    },
    lambdas: {
      discover: s.lambdas.discover,
      presignedUrls: s.lambdas.presigned_urls,
      testConnection: s.lambdas.test_connection,
      validationReport: s.lambdas.validation_report,
      s3Trigger: s.lambdas.s3_trigger,
    },
    dags: { archival: s.dags.archival, purge: s.dags.purge },
    network: {
      vpcId: d.network.vpc_id,
      subnetIds: d.network.subnet_ids,
      availabilityZones: d.network.availability_zones,
      securityGroupIds: d.network.security_group_ids,
    },
    mwaa: {
      environment: d.mwaa?.environment ?? `${p}-data-archival`,
      // MWAA requires its source bucket name to start with "airflow-".
      bucket: `airflow-${p}-data-archival${suffix}`,
      airflowVersion: d.mwaa?.airflow_version ?? '3.3.2',
      environmentClass: d.mwaa?.environment_class ?? 'mw1.small',
      maxWorkers: d.mwaa?.max_workers ?? 5,
      dagPrefix: d.mwaa?.dag_prefix ?? 'dags',
    },
    destroyOnRemoval: flag(context(CONTEXT_DESTROY)),
    build: readBuild(buildDir),
  };
}
