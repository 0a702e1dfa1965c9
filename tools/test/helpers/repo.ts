/** A small valid config repo written out by hand, independent of the samples, for rule tests. */
import type { Tree } from './fixtures.js';

export const SETTINGS = `resource_prefix: acme
region: eu-west-1
config:
  bucket: acme-archival-configs
  prefix: configs
  dynamodb_table: acme-archival-configs
archive:
  bucket: acme-archive-vault
  prefix: iceberg
dags:
  archival: acme_archival
  purge: acme_purge
glue_jobs:
  archive: acme-archive
  validate: acme-validate
  purge: acme-purge
lambdas:
  discover: acme_discover
  presigned_urls: acme_urls
  test_connection: acme_test_conn
  validation_report: acme_report
  s3_trigger: acme_s3_trigger
defaults:
  discovery_schedule: cron(0 2 * * ? *)
  timezone: UTC
`;

export const DB1 = `name: db1
engine: postgres
jdbc_url: jdbc:postgresql://db1.example.internal:5432/ledger
credentials:
  secret: acme/db1
owner:
  team: Ledger
  contact: ledger@acme.example
discovery:
  schedule: cron(0 3 * * ? *)
scope:
  - schema: payments
    include: ["^txn_[0-9]{6}$"]
    policies: [monthly]
  - schema: audit
    policies: [audit]
`;

export const MONTHLY = `name: monthly
age:
  from: table_name
  pattern: "*_YYYYMM"
archive_after: P2Y
purge_after: P7Y
source:
  action: drop
  grace_period: P30D
priority: 10
`;

export const AUDIT = `name: audit
age:
  from: column
  column: event_time
archive_after: P1Y
validation:
  row_hash: sample
  sample_percent: 5
`;

export function baseRepo(): Tree {
  return {
    'offload.settings.yaml': SETTINGS,
    'databases/db1.yaml': DB1,
    'policies/monthly.yaml': MONTHLY,
    'policies/audit.yaml': AUDIT,
  };
}
