"""Every job option with the one description that ``--help`` prints and glue/README.md documents (a test
checks that the README's option table says the same), the checks of option values, and the arguments
AWS Glue adds to every job run, which the jobs accept and ignore.
"""

from __future__ import annotations

import re

# name -> description (one line; the README's option table repeats it verbatim)
HELP: dict[str, str] = {
    # catalog and archive
    "warehouse": "Iceberg warehouse: s3://bucket/prefix on Glue, a directory locally",
    "catalog": "Spark catalog name the archives are registered under (default offload)",
    "catalog_type": "glue (AWS Glue Data Catalog and S3, needs AWS) or hadoop (a local warehouse directory, default)",
    "archive_database": "Glue database (Iceberg namespace) of the archives (default archive)",
    "archive_table": "archive table name inside --archive_database "
    "(default: the source's schema__table, see Archive names)",
    # source connection
    "source_engine": "source engine: postgresql (alias postgres) or mysql (MySQL and MariaDB; alias mariadb)",
    "source_host": "source database host name or address",
    "source_port": "source database port (default 5432 for postgresql, 3306 for mysql)",
    "source_database": "source database to connect to (PostgreSQL: the database, not the schema)",
    "source_user": "source database user (its sessions are read-only)",
    "source_password_env": "name of the environment variable holding the password (default OFFLOAD_SOURCE_PASSWORD)",
    "connection_name": "needs AWS: a Glue connection that gives the JDBC URL, user and password",
    "secret_id": "needs AWS: Secrets Manager secret with username, password (and host, port, dbname, engine)",
    "source_schema": "exact source schema name (MySQL/MariaDB: the database)",
    "source_table": "exact source table name",
    # run and lineage
    "run_id": "the orchestrator's run id: archive records it (a rerun with the same id changes nothing), "
    "validate requires the archive's lineage to name it, purge uses it as the audit id",
    "config_commit": "config repository commit recorded in the archive's lineage",
    "policy": "retention policy name recorded in the archive's lineage",
    "retention_until": "retention end YYYY-MM-DD: archive records it in the lineage, purge refuses before it",
    "force_reason": "recorded reason to replace an archive of another source, or to purge before the retention end "
    "or without a known one; never past a legal hold",
    # reading
    "read_path": "auto (default: PostgreSQL binary COPY when offload-pgcopy.jar is loaded, else JDBC), copy or jdbc",
    "split_column": "integer column that splits the read into ranges (default: the first integer primary-key column)",
    "lower_bound": "lowest value of --split_column (default: its minimum)",
    "upper_bound": "highest value of --split_column (default: its maximum)",
    "num_partitions": "parallel reads (default: 2 x Spark parallelism, at most one per 250,000 rows)",
    "fetch_size": "JDBC fetch size (default 10000)",
    "partition_spec": "Iceberg partitioning, e.g. months(created_at), days(col), bucket(16, id), truncate(4, col), col",
    # validation
    "sample_percent": "share of rows hashed, by key hash (default 100: every row); counts and aggregates cover all",
    "max_reported_keys": "how many differing keys the result names (default 20)",
    "result_path": "directory or .json path (local or s3://) for the validation record",
    "row_hash_method": "auto (default): per-bucket checksums computed by a PostgreSQL 14+ source, rows streamed only "
    "for differing buckets, else streamed; stream: every row streamed and hashed by Spark",
    "validation_engine": "auto (default): a PostgreSQL source's full validation without Spark where it applies, "
    "Spark otherwise or on any difference (naming the keys); spark; arrow: without Spark or an error",
    # purge
    "as_of": "purge decision date YYYY-MM-DD: default and latest today (UTC); an earlier date is stricter",
    "legal_hold": "the current config's legal hold, exactly true or false: archive records it, "
    "purge refuses while it or the recorded hold holds (see Legal hold)",
    "legal_hold_reason": "why the legal hold is set, recorded with it (offload.legal_hold_reason)",
    "audit_path": "directory or .json path (local or s3://) for the purge audit record",
    "work_unit": "work unit (file or s3:// URI) from offload plan-work: fills the source, archive and run options",
    # source cleanup (cleanup_source.py)
    "phase": "quarantine (rename after a passed validation), drop (after the grace period) or restore_name",
    "cleanup_user": "the cleanup credential's user (never the read credential)",
    "cleanup_password_env": "environment variable holding the cleanup password (default OFFLOAD_CLEANUP_PASSWORD)",
    "cleanup_secret_id": "needs AWS: Secrets Manager secret of the cleanup credential",
    "cleanup_connection_name": "needs AWS: Glue connection of the cleanup credential",
    "validation_record": "the passed validation record (file or s3:// URI) that allows a quarantine",
    "grace_period": "ISO-8601 duration a quarantined table waits before drop, e.g. P30D",
    "dry_run": "true: check every guard and print the statements without running them (default false)",
    # restore (restore_table.py)
    "target_schema": "schema (MySQL/MariaDB: database) the restored table is created in; it must exist",
    "target_table": "name of the NEW table; an existing name is refused (restore never overwrites)",
    "restore_user": "the restore credential's user, allowed to create tables (never the read credential)",
    "restore_password_env": "environment variable holding the restore password (default OFFLOAD_RESTORE_PASSWORD)",
    "restore_secret_id": "needs AWS: Secrets Manager secret of the restore credential",
    "restore_connection_name": "needs AWS: Glue connection of the restore credential",
    "restore_credentials": "the restore credential as a credential reference (JSON, as offload restore passes it)",
    "as_of_snapshot": "archive snapshot id to restore (default: the current snapshot)",
    "write_path": "auto (default), arrow, copy or jdbc; auto: PostgreSQL arrow (Arrow-built text into COPY "
    "FROM STDIN, validated against the archive's batches) when it applies, else copy (Spark's COPY text files; "
    "local Spark, psycopg2) or jdbc",
    "arrow_validation": "arrow write path: checksums (default: counts, exact sums and per-bucket row hash sums, "
    "PostgreSQL's side computed in the database; a difference reads every value back to name the keys) or "
    "values (every value read back and compared)",
    "copy_format": "arrow write path: auto (default: PostgreSQL's binary COPY format, built from the archive's "
    "Arrow data, when every column has one here; else the text format) or text",
    "arrow_max_bytes": "arrow write path: largest total size of the snapshot's data files (default 268435456); "
    "a larger snapshot takes a Spark path",
    "temp_dir": "local directory for the COPY text files of the copy write path (default: the system temp dir)",
    # the shell
    "log_file": "file for Spark, JVM and trace output "
    "(default .offload/logs/JOB-UTCTIME.log under the current directory)",
    "verbose": "show Spark and JVM output on the terminal instead of the log file",
}

REQUIRED_DESCRIPTION = "(required)"

# value checks: name -> "int" | "number" | "date" | tuple of choices
KINDS: dict[str, object] = {
    "catalog_type": ("glue", "hadoop"),
    "source_engine": ("postgresql", "postgres", "mysql", "mariadb"),
    "read_path": ("auto", "copy", "jdbc"),
    "write_path": ("auto", "arrow", "copy", "jdbc"),
    "arrow_max_bytes": "int",
    "arrow_validation": ("checksums", "values"),
    "copy_format": ("auto", "text"),
    "as_of_snapshot": "int",
    "verbose": ("true", "false"),
    "row_hash_method": ("auto", "stream"),
    "validation_engine": ("auto", "spark", "arrow"),
    "source_port": "int",
    "lower_bound": "int",
    "upper_bound": "int",
    "num_partitions": "int",
    "fetch_size": "int",
    "max_reported_keys": "int",
    "sample_percent": "number",
    "retention_until": "date",
    "as_of": "date",
}

# Arguments AWS Glue passes to every job run (and a few job parameters of its own): accepted, ignored.
GLUE_ARGS = frozenset(
    {
        "JOB_ID",
        "JOB_RUN_ID",
        "JOB_NAME",
        "SECURITY_CONFIGURATION",
        "TempDir",
        "RedshiftTempDir",
        "job-bookmark-option",
        "job-language",
        "additional-python-modules",
        "python-modules-installer-option",
        "extra-py-files",
        "extra-jars",
        "extra-files",
        "user-jars-first",
        "datalake-formats",
        "conf",
        "scriptLocation",
        "spark-event-logs-path",
        "encryption-type",
        "auto-scale-within-microbatch",
        "customer-driver-env-vars",
        "customer-executor-env-vars",
        "executor-cores",
        "use-postgres-driver",
        "disable-proxy-v2",
        "redshift-tmp-dir",
    }
)
GLUE_ARG_PREFIXES = ("enable-", "continuous-log-")


def metavar(name: str) -> str:
    kind = KINDS.get(name)
    if isinstance(kind, tuple):
        return "|".join(kind)
    return {"int": "N", "number": "N", "date": "YYYY-MM-DD"}.get(kind, "VALUE")


def is_glue_arg(name: str) -> bool:
    return name in GLUE_ARGS or name.startswith(GLUE_ARG_PREFIXES)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_value(name: str, value: str) -> str | None:
    """None when ``value`` suits option ``name``, else what is wrong with it."""
    kind = KINDS.get(name)
    if kind is None:
        return None
    if isinstance(kind, tuple):
        return None if value.lower() in kind else f"must be one of {', '.join(kind)}"
    if kind == "int":
        return None if re.fullmatch(r"-?\d+", value.strip()) else "must be an integer"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return "must be a number"
        return None
    if kind == "date":
        from datetime import date

        try:
            if _DATE.match(value[:10]):
                date.fromisoformat(value[:10])
                return None
        except ValueError:
            pass
        return "must be a date YYYY-MM-DD"
    return None
