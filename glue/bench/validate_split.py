"""Where a validation's time goes: the parts of validate.py timed one by one in one Spark session, next to the
whole validation, on an archive that exists already (e.g. the peer benchmark's). Figures are printed, never
asserted.

    .venv/bin/python glue/bench/validate_split.py --warehouse DIR --database bench --schema S --table T [--repeat 3]

Parts (each run alone, medians of --repeat after one untimed warm-up validation; ``start-up`` once):
  start-up        Python imports, JVM, Spark session, the first query (as a job run pays it)
  metadata        the archive's metadata (no Spark job), the source's columns, the partition plan
  db aggregates   the source database's aggregate query alone
  source read     the source's canonical texts streamed (binary COPY or JDBC) into Spark's noop sink
  source hashed   the same, hashed and summed per bucket (what validate collects)
  archive read    the archive's rows decoded (Iceberg's reader) into the noop sink
  archive texts   the same with the canonical texts and sum inputs computed
  archive hashed  the same, hashed and aggregated per bucket (what validate collects)
  validate stream the whole validation on the streamed path (row_hash_method stream: the source side, the
                  database's aggregates and the archive's side run at the same time: less than the sum of
                  the parts)
  source checksums  the source database's per-bucket checksum queries alone (source_checksum.py)
  archive checksummed  the archive's side with the same row hash (the Java port, a Spark UDF) per bucket
  validate        the whole validation as a job runs it (row_hash_method auto: the source's checksums where
                  it can compute them)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

T0 = time.monotonic()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from offload_glue import iceberg_table, source_checksum  # noqa: E402
from offload_glue.engines import BUCKETS, Connection  # noqa: E402
from offload_glue.jdbc import JdbcSession  # noqa: E402
from offload_glue.names import spark_ident  # noqa: E402
from offload_glue.partitions import plan_partitions  # noqa: E402
from offload_glue.session import get_spark, local_spark_conf  # noqa: E402
from offload_glue.source_table import introspect  # noqa: E402
from offload_glue.validate import (  # noqa: E402
    LOW_BITS,
    ROW_COUNT,
    ROW_HASH_HI,
    ROW_HASH_LO,
    ValidateRequest,
    _row_hash_method,
    _texts_path,
    archive_bucket_df,
    archive_levels,
    bucket_df,
    source_aggregate_query,
    source_texts_df,
    validate,
)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--warehouse", required=True)
    p.add_argument("--database", default="bench")
    p.add_argument("--schema", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--archive-table", help="default: the archive job's name for schema.table")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    env = os.environ
    conn = Connection("postgresql", env["OFFLOAD_TEST_PG_HOST"], int(env["OFFLOAD_TEST_PG_PORT"]),
                      env["OFFLOAD_TEST_DB"], env["OFFLOAD_TEST_USER"], env["OFFLOAD_TEST_PASSWORD"])  # fmt: skip
    spark = get_spark("offload", "hadoop", os.path.abspath(args.warehouse), app_name="offload-validate-split",
                      local_conf=local_spark_conf())  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("SELECT 1").collect()
    startup = time.monotonic() - T0
    req = ValidateRequest(connection=conn, schema=args.schema, table=args.table, database=args.database,
                          archive_table=args.archive_table)  # fmt: skip
    first = time.monotonic()
    status = validate(spark, req)["status"]
    first = time.monotonic() - first

    def metadata():
        src = introspect(spark, conn, args.schema, args.table)
        from offload_glue.names import archive_table_name

        name = args.archive_table or archive_table_name(args.schema, args.table)
        iceberg_table.metadata(spark, "offload", args.database, name)
        parts = plan_partitions(spark, src, path=_texts_path(spark, src), split_column=None, num_partitions=0)
        return src, parts, spark.table(spark_ident("offload", args.database, name))

    src, parts, df = metadata()
    agg = source_aggregate_query(src)

    def db_aggregates():
        with JdbcSession(spark, src.engine, conn) as js:
            js.query_values(agg.sql, doubles=agg.doubles)

    stream_req = ValidateRequest(**{**req.__dict__, "row_hash_method": "stream"})
    method, reason, checksum = _row_hash_method(spark, src, req)
    print(f"[split] row hash method: {method} {reason or ''}", file=sys.stderr, flush=True)

    def source_checksums():
        kw = dict(row_count=ROW_COUNT, hi=ROW_HASH_HI, lo=ROW_HASH_LO, low_bits=LOW_BITS)
        return source_checksum.source_buckets(spark, src, parts, checksum, **kw)

    parts_fns = {
        "metadata": metadata,
        "db aggregates": db_aggregates,
        "source read": lambda: source_texts_df(spark, src, parts, 10000).write.format("noop").mode("overwrite").save(),
        "source hashed": lambda: bucket_df(source_texts_df(spark, src, parts, 10000), src, BUCKETS).collect(),
        "archive read": lambda: df.write.format("noop").mode("overwrite").save(),
        "archive texts": lambda: archive_levels(df, src).write.format("noop").mode("overwrite").save(),
        "archive hashed": lambda: archive_bucket_df(df, src, BUCKETS).collect(),
        "validate stream": lambda: validate(spark, stream_req),
        "source checksums": source_checksums,
        "archive checksummed": lambda: archive_bucket_df(df, src, BUCKETS, checksum).collect(),
        "validate": lambda: validate(spark, req),
    }
    if checksum is None:
        for name in ("source checksums", "archive checksummed"):
            del parts_fns[name]
    samples: dict[str, list[float]] = {k: [] for k in parts_fns}
    for _ in range(args.repeat):  # alternate so that background load hits every part alike
        for name, fn in parts_fns.items():
            t = time.monotonic()
            fn()
            samples[name].append(time.monotonic() - t)
            print(f"[split] {name}: {samples[name][-1]:.2f} s", file=sys.stderr, flush=True)
    spark.stop()
    out = {
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "start_up_seconds": round(startup, 2),
        "first_validate_seconds": round(first, 2),
        "first_validate_status": status,
        "row_hash_method": method,
        "medians_seconds": {k: round(statistics.median(v), 2) for k, v in samples.items()},
        "samples_seconds": {k: [round(x, 2) for x in v] for k, v in samples.items()},
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
