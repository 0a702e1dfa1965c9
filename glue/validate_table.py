"""Glue job: validate an Iceberg archive against its source table.

Guarantee (see offload_glue/validate.py): passes only when the row count, the per-column aggregates
computed by the source database itself, and the per-row hashes of the canonical texts (full, or
sampled by key hash) all agree; otherwise it names the differing keys (up to a limit) and columns.
Read-only on both sides. Writes the result record (schema/validation-result.schema.json) to
--result_path when given.

Arguments: the archive job's source and catalog arguments, plus
  required  --source_schema --source_table --warehouse
  optional  --run_id (the archive's lineage must name it) --archive_table --sample_percent (100)
            --max_reported_keys (20) --split_column --num_partitions --fetch_size --result_path
            --row_hash_method (auto: per-bucket checksums computed by a PostgreSQL 14+ source where it can,
            rows streamed only for differing buckets; stream: every row streamed and hashed by Spark)
            --validation_engine (auto: a PostgreSQL source's full validation runs without Spark where it
            applies — no JVM is started when it passes — and with Spark otherwise or on any difference, which
            names the keys; spark; arrow: without Spark or an error saying why not; see validate_arrow.py)
Prints the result; exit 0 when passed, 1 on a mismatch, 2 on a user error, 3 on a bug.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from offload_glue import timings  # noqa: E402  (first: its clock starts the split)
from offload_glue.cli import COMMON, SOURCE, opt_int, resolve_args, run, source_connection, spark_for  # noqa: E402
from offload_glue.storage import record_path, write_json  # noqa: E402
from offload_glue.user_errors import on_glue  # noqa: E402
from offload_glue.validate import ValidateRequest, validate  # noqa: E402
from offload_glue.validate_arrow import CatalogSpec  # noqa: E402

timings.mark("imports")

OPTIONAL = [
    "run_id",
    "archive_table",
    "sample_percent",
    "max_reported_keys",
    "split_column",
    "num_partitions",
    "fetch_size",
    "result_path",
    "row_hash_method",
    "validation_engine",
]


def main(argv: list[str] | None = None):
    args = resolve_args(argv or sys.argv, ["source_schema", "source_table"], COMMON + SOURCE + OPTIONAL, job="validate")
    engine = (args.get("validation_engine") or "auto").lower()
    # locally the Spark session starts only if the Spark validation runs; on Glue it is already running
    started: list = [] if engine != "spark" and not on_glue() else [spark_for(args, "offload-validate")]

    def spark():
        if not started:
            started.append(spark_for(args, "offload-validate"))
        return started[0]

    req = ValidateRequest(
        connection=source_connection(args, started[0] if started else None),
        schema=args["source_schema"],
        table=args["source_table"],
        catalog=args["catalog"],
        database=args["archive_database"],
        archive_table=args.get("archive_table"),
        run_id=args.get("run_id"),
        sample_percent=float(args.get("sample_percent", 100)),
        max_reported_keys=opt_int(args.get("max_reported_keys")) or 20,
        split_column=args.get("split_column"),
        num_partitions=opt_int(args.get("num_partitions")) or 0,
        fetch_size=opt_int(args.get("fetch_size")) or 10000,
        row_hash_method=(args.get("row_hash_method") or "auto").lower(),
        engine=engine,
    )
    if "warehouse" not in args:
        spark()  # says what is missing
    result = validate(spark, req, CatalogSpec(args["catalog"], args["catalog_type"], args["warehouse"]))
    path = record_path(
        args.get("result_path"), f"{result['archive_table']}.{result.get('run_id') or 'norun'}.validation.json"
    )
    if path:
        result["result_record"] = write_json(started[0] if started else None, path, result)
    timings.mark("result_record")
    return result, 0 if result["status"] == "passed" else 1


if __name__ == "__main__":
    run(main)
