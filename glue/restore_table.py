"""Glue job: restore an archived table into a NEW table of a source database (an audit, a rollback).

Guarantee (see offload_glue/restore.py): never overwrites — an existing --target_table is refused before
anything is written and again, atomically, by the final rename; the rows go into a staging table
(zz_offload_r_<target>) renamed to the target only after they validated against the archive (arrow path:
every value read back and compared by key, counts and aggregates; Spark paths: the archive job's validation:
counts, aggregates, row hashes), so a killed restore leaves no table under the target
name and a rerun drops its staging table; the original column types come back from the archive's lineage
where the target engine has them; the archive is only read; the writes use the restore credential
(--restore_*), never the read credential.

Arguments (Glue-style --name value):
  required  --target_schema --target_table --warehouse, the archive: --archive_table or
            --source_schema with --source_table (its archive name), and the target database:
            --source_engine --source_host --source_port --source_database (or --restore_connection_name /
            --restore_secret_id with host, port and dbname), with the restore credential: --restore_user and the
            password in the env var named by --restore_password_env, or --restore_secret_id, or
            --restore_connection_name, or --restore_credentials (a credential reference, JSON)
  optional  --catalog (offload) --catalog_type glue|hadoop (hadoop) --archive_database (archive)
            --as_of_snapshot N (default: the current snapshot) --dry_run true|false --run_id
            --write_path auto|arrow|copy|jdbc (auto: arrow for PostgreSQL when it applies — pyiceberg, pyarrow
            and psycopg2 importable, a primary key, no delete files, at most --arrow_max_bytes of data files —
            else copy when psycopg2 is importable and Spark is local, else Spark's JDBC writer; an arrow that
            does not apply takes auto's Spark path) --arrow_max_bytes N --arrow_validation checksums|values
            (arrow path: checksums, the default, per-bucket row hash sums computed by PostgreSQL and the
            driver; values: every value read back) --copy_format auto|text (arrow path: auto, the default,
            PostgreSQL's binary COPY format when every column has one, else its text format) --num_partitions
            --temp_dir (copy path: where COPY text files are staged)
Prints a JSON summary; exit 0 restored (or dry run), 1 the restored rows did not validate (left under the
staging name), 2 a refusal or user error, 3 a bug.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue.cli import COMMON, opt_int, resolve_args, run, source_connection, spark_for, strict_flag  # noqa: E402
from offload_glue.engines import Connection  # noqa: E402
from offload_glue.errors import OffloadError  # noqa: E402
from offload_glue.restore import ARROW_MAX_BYTES, RestoreRequest, restore  # noqa: E402

TARGET = ["source_engine", "source_host", "source_port", "source_database"]
RESTORE = [
    "restore_user",
    "restore_password_env",
    "restore_secret_id",
    "restore_connection_name",
    "restore_credentials",
]
READ_CREDENTIAL = ["source_user", "source_password_env", "secret_id", "connection_name"]
OPTIONAL = [
    "archive_table",
    "source_schema",
    "source_table",
    "as_of_snapshot",
    "dry_run",
    "run_id",
    "write_path",
    "arrow_max_bytes",
    "arrow_validation",
    "copy_format",
    "num_partitions",
    "temp_dir",
]


def check_credential_arguments(args: dict) -> None:
    """Refuses the read credential's arguments and a missing restore credential (before Spark starts)."""
    given = [k for k in READ_CREDENTIAL if args.get(k)]
    if given:
        raise OffloadError(
            "read_credential_given",
            f"restore writes with its own credential (--restore_*), never the read credential: drop "
            f"{', '.join('--' + g for g in given)}",
            arguments=given,
        )
    if not any(args.get(k) for k in RESTORE):
        raise OffloadError(
            "missing_arguments",
            "restore needs its own write-capable credential: --restore_user with --restore_password_env, "
            "--restore_secret_id, --restore_connection_name or --restore_credentials (never the read-only "
            "discovery/archive credential)",
        )


def restore_connection(args: dict, spark) -> Connection:
    """The restore credential, from the --restore_* arguments only (never the read credential)."""
    check_credential_arguments(args)
    if args.get("restore_credentials"):
        return _referenced_connection(args, spark)
    own = {k: v for k, v in args.items() if k in TARGET}
    own.update(
        source_user=args.get("restore_user"),
        source_password_env=args.get("restore_password_env") or "OFFLOAD_RESTORE_PASSWORD",
        secret_id=args.get("restore_secret_id"),
        connection_name=args.get("restore_connection_name"),
    )
    return source_connection({k: v for k, v in own.items() if v is not None}, spark)


def _referenced_connection(args: dict, spark) -> Connection:
    """--restore_credentials: a credential reference (credentials.py) resolved here, never a password."""
    from offload_glue.cli import parse_jdbc_url
    from offload_glue.credentials import resolve_credentials
    from offload_glue.engines import engine_for

    try:
        ref = json.loads(args["restore_credentials"])
    except ValueError:
        raise OffloadError(
            "bad_argument", "--restore_credentials is not JSON", argument="restore_credentials"
        ) from None
    creds = resolve_credentials(ref, spark=spark)
    engine, host, port, database = (args.get(k) for k in TARGET)
    if creds.url:  # an address override next to the credential (as in discovery)
        engine, host, port, database = parse_jdbc_url(creds.url)
    missing = [
        f"--{k}" for k, v in zip(TARGET, (engine, host, port, database), strict=True) if not v and k != "source_port"
    ]
    if missing:
        raise OffloadError("missing_arguments", f"missing target arguments: {', '.join(missing)}")
    engine = "postgresql" if engine.lower() in ("postgres", "postgresql") else "mysql"
    port = creds.port or int(port or engine_for(engine).default_port)
    return Connection(engine, creds.host or host, port, database, creds.user, creds.password)


def main(argv: list[str] | None = None):
    argv = argv or sys.argv
    args = resolve_args(argv, ["target_schema", "target_table"], COMMON + TARGET + READ_CREDENTIAL + RESTORE + OPTIONAL)
    if not any(a.startswith("--source_password_env") for a in argv):
        args.pop("source_password_env", None)  # the shell's default, not a read credential the user gave
    dry_run = strict_flag("dry_run", args.get("dry_run", "false"))
    if not args.get("archive_table") and not (args.get("source_schema") and args.get("source_table")):
        raise OffloadError(
            "missing_arguments", "name the archive: --archive_table or --source_schema and --source_table"
        )
    check_credential_arguments(args)
    # resolved before Spark starts (a missing credential is told at once); a Glue connection is read
    # through the Glue API here, as everywhere off Glue
    connection = restore_connection(args, None)
    spark = spark_for(args, "offload-restore")
    req = RestoreRequest(
        connection=connection,
        schema=args["target_schema"],
        target_table=args["target_table"],
        archive_table=args.get("archive_table"),
        source_schema=args.get("source_schema"),
        source_table=args.get("source_table"),
        catalog=args["catalog"],
        database=args["archive_database"],
        snapshot_id=opt_int(args.get("as_of_snapshot")),
        dry_run=dry_run,
        write_path=args.get("write_path") or "auto",
        arrow_max_bytes=opt_int(args.get("arrow_max_bytes")) or ARROW_MAX_BYTES,
        arrow_validation=args.get("arrow_validation") or "checksums",
        copy_format=args.get("copy_format") or "auto",
        num_partitions=opt_int(args.get("num_partitions")) or 0,
        temp_dir=args.get("temp_dir"),
        run_id=args.get("run_id"),
    )
    return restore(spark, req)


if __name__ == "__main__":
    run(main)
