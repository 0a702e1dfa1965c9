"""Warm figures for the peer benchmark (peers.py): the same archive, validation and MariaDB archive as the whole-
process runs, inside one long-lived Spark session (what ``offload run``'s worker does for many tables). Runs with
the project's .venv; prints one JSON object on stdout.

    .venv/bin/python glue/bench/peers_warm.py --schema peers_bench --table lineitem --warehouse DIR [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from offload_glue.archive import ArchiveRequest, archive  # noqa: E402
from offload_glue.engines import Connection  # noqa: E402
from offload_glue.session import get_spark, local_spark_conf  # noqa: E402
from offload_glue.validate import ValidateRequest, validate  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--schema", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--warehouse", required=True)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    env = os.environ
    user, password = env["OFFLOAD_TEST_USER"], env["OFFLOAD_TEST_PASSWORD"]
    pg = Connection("postgresql", env["OFFLOAD_TEST_PG_HOST"], int(env["OFFLOAD_TEST_PG_PORT"]),
                    env["OFFLOAD_TEST_DB"], user, password)  # fmt: skip
    my = Connection("mysql", env["OFFLOAD_TEST_MYSQL_HOST"], int(env["OFFLOAD_TEST_MYSQL_PORT"]), args.schema,
                    user, password)  # fmt: skip
    shutil.rmtree(args.warehouse, ignore_errors=True)
    started = time.monotonic()
    # The same session settings as a job run by hand (cli.py) and the worker (2 cores, 2g driver).
    spark = get_spark("offload", "hadoop", args.warehouse, app_name="offload-peers-warm", local_conf=local_spark_conf())
    spark.sparkContext.setLogLevel("ERROR")
    session = time.monotonic() - started
    spark.sql("SELECT 1").collect()
    startup = time.monotonic() - started
    times: dict[str, list[float]] = {}

    def timed(name, fn):
        t0 = time.monotonic()
        out = fn()
        times.setdefault(name, []).append(time.monotonic() - t0)
        print(f"[warm] {name}: {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
        return out

    status = engine = None
    for i in range(args.repeat):
        for engine, conn in (("pg", pg), ("my", my)):
            req = ArchiveRequest(connection=conn, schema=args.schema, table=args.table, run_id=f"warm-{i}-{engine}",
                                 database=f"warm_{engine}")  # fmt: skip
            timed(f"{engine}: ours archive_table.py", lambda req=req: archive(spark, req))
        vreq = ValidateRequest(connection=pg, schema=args.schema, table=args.table, database="warm_pg")
        result = timed("pg: ours validate_table.py", lambda vreq=vreq: validate(spark, vreq))
        status, engine = result["status"], result.get("engine")
    spark.stop()
    out = {
        "startup_seconds": round(startup, 2),
        "startup_split_seconds": {
            "python_jvm_spark_session": round(session, 2),
            "first_query": round(startup - session, 2),
        },
        "samples_seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
        "medians": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "validation_status": status,
        "validation_engine": engine,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
