"""Glue job: purge an Iceberg archive (drop the table, its data and metadata files).

Guarantee (see offload_glue/purge.py): refuses under legal hold — the current config's
(--legal_hold) or the one recorded with the archive, whichever is stricter; no --force_reason
overrides a hold — and before the retention end or when none is known, unless --force_reason is
given; --as_of may not be after today (UTC); after the drop nothing remains at the table location
(checked); every decision leaves an audit record (schema/purge-audit.schema.json) at --audit_path.

Arguments:
  required  --archive_table (name inside --archive_database) --warehouse
            --legal_hold true|false (the current config's hold; exactly true or false)
  optional  --catalog --catalog_type --archive_database --as_of YYYY-MM-DD (today, UTC; not later)
            --retention_until YYYY-MM-DD --force_reason --run_id --audit_path
Prints the audit record; exit 0 when purged, 2 when refused or on a user error, 3 on a bug.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue.cli import COMMON, boolean_arg, resolve_args, run, spark_for  # noqa: E402
from offload_glue.purge import PurgeRequest, purge  # noqa: E402

OPTIONAL = ["as_of", "legal_hold", "retention_until", "force_reason", "run_id", "audit_path"]


def main(argv: list[str] | None = None):
    args = resolve_args(argv or sys.argv, ["archive_table", "legal_hold"], COMMON + OPTIONAL, job="purge")
    legal_hold = boolean_arg(args, "legal_hold", required=True)
    spark = spark_for(args, "offload-purge")
    req = PurgeRequest(
        archive_table=args["archive_table"],
        catalog=args["catalog"],
        database=args["archive_database"],
        as_of=args.get("as_of"),
        legal_hold=legal_hold,
        retention_until=args.get("retention_until"),
        force_reason=args.get("force_reason"),
        run_id=args.get("run_id"),
        audit_path=args.get("audit_path"),
    )
    record = purge(spark, req)
    return record, 0 if record["status"] == "purged" else 2


if __name__ == "__main__":
    run(main)
