"""Glue job: clean up a source table after its archive was validated (policies with source.action: drop).

Guarantee (see offload_glue/cleanup.py): the only job that writes to a source database, with its own
credential (--cleanup_*), never the read credential. Phase ``quarantine`` renames the source table to
its quarantine name only after a passed validation of the archive's current snapshot (--validation_record)
and never under legal hold; phase ``drop`` drops the quarantined table only after the grace period and a
new passed validation against it; phase ``restore_name`` undoes a quarantine. --dry_run true checks every
guard and prints the statements without running them.

Arguments: the archive job's source (read credential) and catalog arguments, plus
  required  --source_schema --source_table --phase quarantine|drop|restore_name --legal_hold true|false
            --warehouse, and the cleanup credential: --cleanup_user with --cleanup_password_env, or
            --cleanup_secret_id, or --cleanup_connection_name
  or        --work_unit <file|s3 uri> (a cleanup_source unit: names, phase, hold, grace period and both
            credential references) with the runtime arguments below
  optional  --archive_table --validation_record (file or s3:// URI; quarantine) --grace_period (ISO-8601;
            drop) --dry_run true|false --run_id --result_path
Prints the result; exit 0 when done (or dry run), 2 when refused or on a user error, 3 on a bug.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue.cleanup import CleanupRequest, cleanup  # noqa: E402
from offload_glue.cli import COMMON, SOURCE, resolve_args, run, source_connection, spark_for, strict_flag  # noqa: E402
from offload_glue.errors import OffloadError  # noqa: E402
from offload_glue.storage import read_text, record_path, write_json  # noqa: E402
from offload_glue.work_unit import unit_cleanup_connection  # noqa: E402

CLEANUP = ["cleanup_user", "cleanup_password_env", "cleanup_secret_id", "cleanup_connection_name"]
OPTIONAL = ["archive_table", "validation_record", "grace_period", "dry_run", "run_id", "result_path"]


def cleanup_connection(args: dict, spark):
    """The cleanup credential, resolved like the read one but from the --cleanup_* arguments only."""
    if not any(args.get(k) for k in CLEANUP):
        raise OffloadError(
            "missing_arguments",
            "source cleanup needs its own credential: --cleanup_user with --cleanup_password_env, "
            "--cleanup_secret_id or --cleanup_connection_name (never the read credential)",
        )
    own = {k: v for k, v in args.items() if k not in ("source_user", "secret_id", "connection_name")}
    own.update(
        source_user=args.get("cleanup_user"),
        source_password_env=args.get("cleanup_password_env") or "OFFLOAD_CLEANUP_PASSWORD",
        secret_id=args.get("cleanup_secret_id"),
        connection_name=args.get("cleanup_connection_name"),
    )
    return source_connection({k: v for k, v in own.items() if v is not None}, spark)


def main(argv: list[str] | None = None):
    args = resolve_args(
        argv or sys.argv,
        ["source_schema", "source_table", "phase", "legal_hold"],
        COMMON + SOURCE + CLEANUP + OPTIONAL,
        job="cleanup_source",
    )
    legal_hold = strict_flag("legal_hold", args["legal_hold"])
    dry_run = strict_flag("dry_run", args.get("dry_run", "false"))
    unit = args.get("_work_unit")
    if unit and any(args.get(k) for k in CLEANUP):
        raise OffloadError(
            "conflicting_arguments", "the work unit names the cleanup credential; drop the --cleanup_* arguments"
        )
    if not unit and not any(args.get(k) for k in CLEANUP):
        cleanup_connection(args, None)  # raises the missing-credential error before Spark starts
    spark = spark_for(args, "offload-cleanup")
    validation = None
    if args.get("validation_record"):
        validation = json.loads(read_text(spark, args["validation_record"]))
    req = CleanupRequest(
        connection=source_connection(args, spark),
        cleanup_connection=unit_cleanup_connection(unit, spark) if unit else cleanup_connection(args, spark),
        schema=args["source_schema"],
        table=args["source_table"],
        phase=args["phase"],
        legal_hold=legal_hold,
        catalog=args["catalog"],
        database=args["archive_database"],
        archive_table=args.get("archive_table"),
        validation=validation,
        grace_period=args.get("grace_period"),
        dry_run=dry_run,
        run_id=args.get("run_id"),
    )
    result = cleanup(spark, req)
    path = record_path(args.get("result_path"), f"{result['archive_table']}.{req.phase}.cleanup.json")
    if path:
        result["result_record"] = write_json(spark, path, result)
    return result, 0 if result["status"] in ("done", "dry_run") else 2


if __name__ == "__main__":
    run(main)
