/* Generated from schema/settings.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * Repository-wide settings shared by every database and policy: AWS resource names, locations and defaults. One file,
 * `offload.settings.yaml`, at the repository root.
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
    /**
     * Job that renames and later drops a validated source table (policies with `source.action: drop`). Derived as
     * `<resource_prefix>-data-cleanup-source` when omitted.
     */
    cleanup?: string;
    /**
     * Job that records the current config's legal hold on an existing archive (glue/hold_table.py). Derived as
     * `<resource_prefix>-data-archive-hold` when omitted.
     */
    hold?: string;
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
     * Discovery schedule of databases that set none: an EventBridge `cron(...)`/`rate(...)` expression, a five-field
     * cron line or an Airflow preset.
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
  /**
   * What the CDK app in `infra/` needs beyond the names above: network, Object Lock, reports, MWAA and who may read
   * what. Only `offload deploy` (scripts/deploy.sh) reads it.
   */
  deployment?: {
    /**
     * Existing VPC the MWAA environment and the database-facing Lambdas run in (private subnets with a route to the
     * source databases and to AWS APIs).
     */
    network: {
      /**
       * VPC id.
       */
      vpc_id: string;
      /**
       * Exactly two private subnets in different availability zones (MWAA requires two).
       *
       * @minItems 2
       * @maxItems 2
       */
      subnet_ids: [string, string];
      /**
       * Availability zones of `subnet_ids`, in the same order (needed to describe the VPC offline).
       *
       * @minItems 2
       * @maxItems 2
       */
      availability_zones?: [string, string];
      /**
       * Security groups of the MWAA environment and the database-facing Lambdas.
       *
       * @minItems 1
       * @maxItems 5
       */
      security_group_ids:
        | [string]
        | [string, string]
        | [string, string, string]
        | [string, string, string, string]
        | [string, string, string, string, string];
    };
    /**
     * S3 Object Lock on the archive bucket (WORM archives). Omit for no Object Lock. Object Lock can only be enabled
     * when the bucket is created.
     */
    object_lock?: {
      /**
       * `governance` (users with s3:BypassGovernanceRetention may delete early) or `compliance` (nobody may, not even
       * the root user, until retention ends).
       */
      mode: 'governance' | 'compliance';
      /**
       * Default retention of every new archive object, in days.
       */
      retention_days: number;
    };
    /**
     * Where validation reports are written and who may fetch them through presigned URLs.
     */
    reports?: {
      /**
       * Reports bucket. Derived as `<resource_prefix>-archive-reports-<account_id>` when omitted.
       */
      bucket?: string;
      /**
       * Key prefix of the reports; presigned URLs are only issued for keys under it.
       */
      prefix?: string;
      /**
       * IAM roles or users allowed to ask the presigned-URL Lambda for report links (no one when empty).
       */
      url_callers?: string[];
      /**
       * E-mail addresses subscribed to the failure and mismatch topic.
       */
      notify_emails?: string[];
    };
    /**
     * Lake Formation data lake administrators (the deploy role is not added implicitly).
     */
    lake_formation_admins?: string[];
    /**
     * The MWAA environment that runs the DAGs.
     */
    mwaa?: {
      /**
       * Environment name. Derived as `<resource_prefix>-data-archival` when omitted.
       */
      environment?: string;
      /**
       * Apache Airflow version as MWAA spells it (major.minor.patch); must match the version the DAGs pin.
       */
      airflow_version?: string;
      /**
       * MWAA environment class (size of scheduler, web server and workers); the main running cost.
       */
      environment_class?:
        'mw1.micro' | 'mw1.small' | 'mw1.medium' | 'mw1.large' | 'mw1.xlarge' | 'mw1.2xlarge';
      /**
       * Upper bound of auto-scaled workers.
       */
      max_workers?: number;
      /**
       * Key prefix of the DAG files inside the MWAA bucket.
       */
      dag_prefix?: string;
    };
  };
}
