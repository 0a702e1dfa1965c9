/**
 * A repository the CDK app can synthesize, written to a temp dir: a settings file (with the
 * `deployment` block), a Glue build directory (scripts, package zip, jars) and a DAG folder.
 * Never the repo's own configs.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ACCOUNT = '111122223333';

export interface FixtureOptions {
  /** Extra YAML appended under `deployment:` (indented by the caller). */
  deploymentExtra?: string;
  /** Job scripts in the build. @default archive, validate, purge, cleanup */
  scripts?: string[];
  jars?: string[];
  requirements?: string;
}

export function settingsYaml(opts: FixtureOptions = {}): string {
  return `resource_prefix: acme
region: eu-west-2
account_id: "${ACCOUNT}"
config:
  bucket: acme-configs
  prefix: configs
  dynamodb_table: acme-configs
archive:
  bucket: acme-archive-vault
  prefix: warehouse
  glue_database_prefix: arch_
dags:
  archival: acme_archival
  purge: acme_purge
glue_jobs:
  archive: acme-archive
  validate: acme-validate
  purge: acme-purge
lambdas:
  discover: acme_discover
  presigned_urls: acme_presigned
  test_connection: acme_test_conn
  validation_report: acme_report
  s3_trigger: acme_s3_trigger
defaults:
  tags:
    team: data
deployment:
  network:
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0aaaaaaaaaaaaaaa1, subnet-0bbbbbbbbbbbbbbb2]
    availability_zones: [eu-west-2a, eu-west-2b]
    security_group_ids: [sg-0ccccccccccccccc3]
  lake_formation_admins: ["arn:aws:iam::${ACCOUNT}:role/lake-admin"]
  reports:
    url_callers: ["arn:aws:iam::${ACCOUNT}:role/report-reader"]
${opts.deploymentExtra ?? ''}`;
}

/** Writes the fixture repository; returns its root. */
export function writeFixtureRepo(opts: FixtureOptions = {}): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'offload-infra-'));
  writeFileSync(path.join(root, 'offload.settings.yaml'), settingsYaml(opts));
  const glue = path.join(root, 'infra', 'build', 'glue');
  mkdirSync(path.join(glue, 'jars'), { recursive: true });
  writeFileSync(path.join(glue, 'offload_glue.zip'), 'PK fixture');
  for (const s of opts.scripts ?? ['archive_table.py', 'validate_table.py', 'purge_table.py', 'cleanup_source.py'])
    writeFileSync(path.join(glue, s), '# fixture job\n');
  for (const j of opts.jars ?? ['offload-pgcopy.jar', 'postgresql-42.7.4.jar'])
    writeFileSync(path.join(glue, 'jars', j), 'jar');
  const dags = path.join(root, 'infra', 'build', 'dags');
  mkdirSync(dags);
  writeFileSync(path.join(dags, 'archival.py'), '# fixture dag\n');
  if (opts.requirements !== undefined) writeFileSync(path.join(dags, 'requirements.txt'), opts.requirements);
  return root;
}
