/* Generated from schema/database.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * One source database to offload from: `databases/<name>.yaml`. Credentials are only ever referenced by secret name,
 * never written here.
 */
export interface DatabaseConfig {
  /**
   * Unique name of the database; also the Glue connection name. Must equal the file name without `.yaml`.
   */
  name: string;
  /**
   * What the database holds, for reviewers and reports.
   */
  description?: string;
  /**
   * Database engine; decides the JDBC URL form, the catalog queries and the type mapping. `postgresql` is accepted as
   * an alias of `postgres` (loading rewrites it, so tools see one spelling).
   */
  engine: 'postgres' | 'mysql' | 'mariadb' | 'oracle' | 'sqlserver';
  /**
   * JDBC URL of the database, without user or password (those come from the secret).
   */
  jdbc_url: string;
  /**
   * Where the user name and password are kept. Only a reference lives in git.
   */
  credentials: {
    /**
     * AWS Secrets Manager secret name or ARN holding `username` and `password`.
     */
    secret: string;
  };
  /**
   * VPC placement of the Glue connection. Omit for a database reachable without a VPC connection.
   */
  network?: {
    /**
     * Subnets the Glue connection may use (Glue uses the first; the others are kept for failover).
     *
     * @minItems 1
     */
    subnet_ids: [string, ...string[]];
    /**
     * Security groups attached to the Glue connection's network interfaces.
     *
     * @minItems 1
     */
    security_group_ids: [string, ...string[]];
    /**
     * Availability zone of the first subnet.
     */
    availability_zone?: string;
  };
  /**
   * Who answers for this database's archives.
   */
  owner: {
    /**
     * Owning team.
     */
    team: string;
    /**
     * E-mail address of the owning team.
     */
    contact: string;
  };
  /**
   * When the discovery Lambda looks for eligible tables.
   */
  discovery?: {
    /**
     * An EventBridge `cron(...)` (six fields) or `rate(...)` expression, a five-field cron line, or an Airflow preset
     * such as `@daily`. Defaults to the settings file's `defaults.discovery_schedule`.
     */
    schedule?: string;
    /**
     * Set to false to keep the database configured but skip it in scheduled discovery.
     */
    enabled?: boolean;
  };
  /**
   * Where this database's archives go.
   */
  archive?: {
    /**
     * Glue database of the archived tables. Defaults to `<settings.archive.glue_database_prefix><name>`.
     */
    glue_database?: string;
    /**
     * S3 location of the Glue database. Defaults to `s3://<archive bucket>/<archive prefix>/<glue database>/`.
     */
    s3_location?: string;
  };
  /**
   * Which tables are considered, per schema, and which policies apply to them.
   *
   * @minItems 1
   */
  scope: [
    {
      /**
       * Schema (MySQL/MariaDB: database) name exactly as the engine stores it (Oracle upper-cases unquoted names).
       */
      schema: string;
      /**
       * Regular expressions (RE2 syntax, searched in the table name; anchor with ^ and $). A table is in scope when one
       * matches. Defaults to every table.
       *
       * @minItems 1
       */
      include?: [string, ...string[]];
      /**
       * Regular expressions (RE2 syntax) of tables left out even when an include pattern matches.
       */
      exclude?: string[];
      /**
       * Names of the policies (files in `policies/`) that apply to the tables in scope.
       *
       * @minItems 1
       */
      policies: [string, ...string[]];
    },
    ...{
      /**
       * Schema (MySQL/MariaDB: database) name exactly as the engine stores it (Oracle upper-cases unquoted names).
       */
      schema: string;
      /**
       * Regular expressions (RE2 syntax, searched in the table name; anchor with ^ and $). A table is in scope when one
       * matches. Defaults to every table.
       *
       * @minItems 1
       */
      include?: [string, ...string[]];
      /**
       * Regular expressions (RE2 syntax) of tables left out even when an include pattern matches.
       */
      exclude?: string[];
      /**
       * Names of the policies (files in `policies/`) that apply to the tables in scope.
       *
       * @minItems 1
       */
      policies: [string, ...string[]];
    }[]
  ];
  /**
   * Lake Formation permissions on this database's archives.
   */
  governance?: {
    /**
     * IAM principals kept as Lake Formation data-lake administrators.
     */
    data_lake_admins?: string[];
    /**
     * Read-only consumers of the archive database and their permissions.
     */
    consumers?: {
      /**
       * IAM role or user ARN of the consumer.
       */
      principal: string;
      /**
       * Read-only Lake Formation permissions granted on the archive database and all its tables.
       *
       * @minItems 1
       */
      permissions: ['DESCRIBE' | 'SELECT', ...('DESCRIBE' | 'SELECT')[]];
    }[];
  };
  /**
   * Tags put on the resources created for this database (Glue connection, archive tables).
   */
  tags?: {
    [k: string]: string | undefined;
  };
}
