"""Glue job: record the current config's legal hold on an existing Iceberg archive.

Guarantee (see offload_glue/hold.py): one metadata-only commit setting offload.legal_hold and its
reason, config commit and time. Setting a hold always works; lifting one (true or unknown → false)
needs the reviewed config commit that lifted it (--config_commit, not the commit that recorded the
hold): this job, run by the pipeline for a synced config, is the only way a recorded hold is lowered —
re-archiving keeps the stricter value and no purge flag overrides a hold.

Arguments:
  required  --archive_table (name inside --archive_database) --warehouse
            --legal_hold true|false (the current config's hold; exactly true or false)
  optional  --config_commit (required to lift) --legal_hold_reason --catalog --catalog_type
            --archive_database
Prints a JSON summary; exit 0 when set or unchanged, 2 when refused or on a user error, 3 on a bug.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue.cli import COMMON, boolean_arg, resolve_args, run, spark_for  # noqa: E402
from offload_glue.hold import HoldRequest, set_legal_hold  # noqa: E402

OPTIONAL = ["legal_hold", "config_commit", "legal_hold_reason"]


def main():
    args = resolve_args(sys.argv, ["archive_table", "legal_hold"], COMMON + OPTIONAL)
    legal_hold = boolean_arg(args, "legal_hold", required=True)
    spark = spark_for(args, "offload-hold")
    req = HoldRequest(
        archive_table=args["archive_table"],
        legal_hold=legal_hold,
        config_commit=args.get("config_commit", ""),
        reason=args.get("legal_hold_reason"),
        catalog=args["catalog"],
        database=args["archive_database"],
    )
    return set_legal_hold(spark, req), 0


if __name__ == "__main__":
    run(main)
