"""Glue job: archive one source table into one Iceberg table.

Guarantee (see offload_glue/archive.py): one atomic Iceberg commit — a run killed at any point
leaves nothing visible or the complete table; a rerun of the same --run_id changes nothing; an
archive from another source table is never replaced without --force_reason; source sessions are
read-only; a value the archive cannot hold exactly fails the job naming the column; the legal hold
is recorded in the same commit, the stricter of the recorded and the given one.

Arguments (Glue-style --name value):
  required  --source_schema --source_table --run_id --warehouse
  source    --connection_name (Glue) | --secret_id (Secrets Manager) |
            --source_engine postgresql|mysql --source_host --source_port --source_database
            --source_user and the password in the env var named by --source_password_env
  optional  --catalog (offload) --catalog_type glue|hadoop (hadoop) --archive_database (archive)
            --archive_table --config_commit --policy --split_column --lower_bound --upper_bound
            --num_partitions --fetch_size (10000) --partition_spec "months(col)" --retention_until
            --legal_hold true|false (the config's hold, recorded with the archive in the same commit;
            exactly true or false; absent: recorded as unknown, which the purge counts as held)
            --legal_hold_reason --force_reason --read_path auto|copy|jdbc (auto: PostgreSQL binary COPY when the
            offload-pgcopy.jar is in --extra-jars and every column type has a decoder, else JDBC)
Prints a JSON summary; exit 0 on success, 2 on a refusal or user error, 3 on a bug.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue import timings  # noqa: E402  (first: its clock starts the split)
from offload_glue.archive import ArchiveRequest, archive  # noqa: E402
from offload_glue.cli import (  # noqa: E402
    COMMON,
    SOURCE,
    boolean_arg,
    opt_int,
    resolve_args,
    run,
    source_connection,
    spark_for,
)

timings.mark("imports")

OPTIONAL = [
    "archive_table",
    "config_commit",
    "policy",
    "split_column",
    "lower_bound",
    "upper_bound",
    "num_partitions",
    "fetch_size",
    "partition_spec",
    "retention_until",
    "force_reason",
    "read_path",
    "legal_hold",
    "legal_hold_reason",
]


def main(argv: list[str] | None = None):
    args = resolve_args(
        argv or sys.argv, ["source_schema", "source_table", "run_id"], COMMON + SOURCE + OPTIONAL, job="archive"
    )
    legal_hold = boolean_arg(args, "legal_hold")
    spark = spark_for(args, "offload-archive")
    req = ArchiveRequest(
        connection=source_connection(args, spark),
        schema=args["source_schema"],
        table=args["source_table"],
        run_id=args["run_id"],
        catalog=args["catalog"],
        database=args["archive_database"],
        archive_table=args.get("archive_table"),
        config_commit=args.get("config_commit", ""),
        policy=args.get("policy", ""),
        split_column=args.get("split_column"),
        lower_bound=opt_int(args.get("lower_bound")),
        upper_bound=opt_int(args.get("upper_bound")),
        num_partitions=opt_int(args.get("num_partitions")) or 0,
        fetch_size=opt_int(args.get("fetch_size")) or 10000,
        partition_spec=args.get("partition_spec"),
        retention_until=args.get("retention_until"),
        force_reason=args.get("force_reason"),
        read_path=args.get("read_path") or "auto",
        legal_hold=legal_hold,
        legal_hold_reason=args.get("legal_hold_reason"),
    )
    return archive(spark, req), 0


if __name__ == "__main__":
    run(main)
