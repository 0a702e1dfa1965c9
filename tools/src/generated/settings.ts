/* Generated from schema/settings.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * Repository-wide settings shared by every database and policy: AWS resource names, locations and defaults. One file, `offload.settings.yaml`, at the repository root.
 */
export interface OffloadSettings {
  /**
   * Prefix of every AWS resource name the toolkit derives (lowercase letters, digits and hyphens).
   */
  resource_prefix: string;
  /**
   * AWS region the pipeline runs in.
   */
  region: string;
  /**
   * AWS account id that owns the pipeline (used to build ARNs in the plan and in Lake Formation grants).
   */
  account_id?: string;
  /**
   * Where `offload sync` publishes the configs the pipeline reads.
   */
  config: {
    /**
     * S3 bucket that receives the YAML configs (an upload triggers the s3_yaml_to_mwaa Lambda).
     */
    bucket: string;
    /**
     * Key prefix under which the configs are written (no leading or trailing slash).
     */
    prefix: string;
    /**
     * DynamoDB table holding the normalized configs read by the discovery Lambda and the DAGs.
     */
    dynamodb_table: string;
  };
  /**
   * Where archives are written.
   */
  archive: {
    /**
     * S3 bucket of the Iceberg warehouse (registered with Lake Formation).
     */
    bucket: string;
    /**
     * Key prefix of the Iceberg warehouse inside the archive bucket.
     */
    prefix: string;
    /**
     * Prefix of the Glue database derived for a source database that names none (`<prefix><database name>`).
     */
    glue_database_prefix?: string;
  };
  /**
   * Airflow DAG ids on MWAA.
   */
  dags: {
    /**
     * DAG that discovers, archives, validates and reports.
     */
    archival: string;
    /**
     * DAG that purges archives whose retention has ended.
     */
    purge: string;
  };
  /**
   * AWS Glue job names of the data plane.
   */
  glue_jobs: {
    /**
     * Job that copies one table into Iceberg.
     */
    archive: string;
    /**
     * Job that validates an archive against its source.
     */
    validate: string;
    /**
     * Job that purges an archive from Iceberg.
     */
    purge: string;
  };
  /**
   * Lambda function names of the control plane.
   */
  lambdas: {
    /**
     * Finds the tables a policy makes eligible and triggers the archival DAG.
     */
    discover: string;
    /**
     * Issues time-limited S3 URLs for archived files.
     */
    presigned_urls: string;
    /**
     * Tests a source database's connectivity and credentials.
     */
    test_connection: string;
    /**
     * Aggregates validation results into reports.
     */
    validation_report: string;
    /**
     * Triggers DAGs when configs are uploaded to S3.
     */
    s3_trigger: string;
  };
  /**
   * Values a database or policy inherits when it does not set them.
   */
  defaults?: {
    /**
     * Discovery schedule of databases that set none: an EventBridge `cron(...)`/`rate(...)` expression, a five-field cron line or an Airflow preset.
     */
    discovery_schedule?: string;
    /**
     * IANA time zone in which schedules and as-of dates are read.
     */
    timezone?: string;
    /**
     * Tags added to every resource the toolkit creates (a database's own tags win).
     */
    tags?: {
      [k: string]: string | undefined;
    };
  };
}
