"""Benchmark: archive a 10-million-row PostgreSQL table with local Spark and validate it, next to
``COPY (SELECT …) TO STDOUT`` of the same table in the same run (the read limit of this machine).

    bash scripts/setup.sh --services && source scripts/services.env
    .venv/bin/python glue/bench/archive_bench.py [--rows 10000000] [--json out.json]

Targets: archive time <= 2 x COPY time; full validation time <= 2 x archive time. COPY, archive
and validation run --repeat times, alternating; the medians give the ratios. Prints the figures
and the ratios as JSON; exits 0 whether or not the targets are met (it is a measurement).
The source table is generated once (generate_series) and reused while its row count matches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "glue"))

from offload_glue.archive import ArchiveRequest, archive  # noqa: E402
from offload_glue.engines import Connection  # noqa: E402
from offload_glue.session import get_spark, local_spark_conf  # noqa: E402
from offload_glue.validate import ValidateRequest, validate  # noqa: E402

SCHEMA, TABLE = "offload_bench", "payments"
COLUMNS_SQL = """
    id bigint PRIMARY KEY, account integer NOT NULL, amount numeric(12,2), currency char(3), status varchar(12),
    note text, created_at timestamp(6), booked_on date, settled boolean"""
FILL_SQL = f"""
    INSERT INTO {SCHEMA}.{TABLE}
    SELECT g, ((g * 7919) % 1000003)::int, ((g * 104729) % 100000000) / 100.0,
           (ARRAY['EUR','GBP','USD'])[(1 + g % 3)::int],
           (ARRAY['booked','settled','reversed','pending'])[(1 + g % 4)::int],
           CASE WHEN g % 10 = 0 THEN NULL ELSE 'payment ' || g END,
           timestamp '2015-01-01' + (g * 15731) % 315360000 * interval '1 second'
             + (g % 1000000) * interval '1 microsecond',
           date '2015-01-01' + (g % 3650)::int, g % 3 = 0
    FROM generate_series(1::bigint, ROWS) g"""


def connection() -> Connection:
    env = os.environ
    return Connection(
        "postgresql",
        env["OFFLOAD_TEST_PG_HOST"],
        int(env["OFFLOAD_TEST_PG_PORT"]),
        env["OFFLOAD_TEST_DB"],
        env["OFFLOAD_TEST_USER"],
        env["OFFLOAD_TEST_PASSWORD"],
    )


def ensure_table(conn: Connection, rows: int) -> float:
    import psycopg2

    db = psycopg2.connect(host=conn.host, port=conn.port, dbname=conn.database, user=conn.user, password=conn.password)
    db.autocommit = True
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = %s", (SCHEMA, TABLE))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT count(*) FROM {SCHEMA}.{TABLE}")
            if cur.fetchone()[0] == rows:
                return 0.0
        started = time.monotonic()
        print(f"[bench] generating {rows:,} rows in {SCHEMA}.{TABLE}", file=sys.stderr, flush=True)
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cur.execute(f"CREATE SCHEMA {SCHEMA}")
        cur.execute(f"CREATE TABLE {SCHEMA}.{TABLE} ({COLUMNS_SQL})")
        cur.execute(FILL_SQL.replace("ROWS", str(int(rows))))
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.{TABLE}")
        return time.monotonic() - started


def time_copy(conn: Connection) -> float:
    """COPY of the whole table to /dev/null through psql (C, no Python in the data path)."""
    sql = f"COPY (SELECT * FROM {SCHEMA}.{TABLE}) TO STDOUT"
    env = dict(os.environ, PGPASSWORD=conn.password)
    started = time.monotonic()
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            ["psql", "-h", conn.host, "-p", str(conn.port), "-U", conn.user, "-d", conn.database, "-qAt", "-c", sql],
            stdout=sink,
            env=env,
            check=True,
        )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--repeat", type=int, default=3, help="runs of COPY/archive/validate; medians are reported")
    parser.add_argument("--warehouse", default=os.path.join(ROOT, ".cache", "bench-warehouse"),
                        help="Iceberg warehouse directory (emptied first; default .cache/bench-warehouse)")  # fmt: skip
    args = parser.parse_args()

    conn = connection()
    generated = ensure_table(conn, args.rows)
    warehouse = os.path.abspath(args.warehouse)
    shutil.rmtree(warehouse, ignore_errors=True)
    spark = get_spark(
        "offload",
        "hadoop",
        warehouse,
        app_name="offload-bench",
        local_conf=local_spark_conf(cores=2, driver_memory=args.driver_memory),
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("SELECT 1").collect()  # JVM and Spark start-up are not part of either figure

    copies, archives, validations = [], [], []
    for _ in range(args.repeat):  # alternate the three so that background load hits them alike
        copies.append(time_copy(conn))
        started = time.monotonic()
        summary = archive(
            spark,
            ArchiveRequest(
                connection=conn,
                schema=SCHEMA,
                table=TABLE,
                run_id=f"bench-{time.time_ns()}",
                catalog="offload",
                database="bench",
                fetch_size=20000,
            ),
        )
        archives.append(time.monotonic() - started)
        started = time.monotonic()
        result = validate(
            spark,
            ValidateRequest(
                connection=conn, schema=SCHEMA, table=TABLE, catalog="offload", database="bench", fetch_size=20000
            ),
        )
        validations.append(time.monotonic() - started)
        if result["status"] != "passed":
            break
    spark.stop()
    copy_s, archive_s, validate_s = (statistics.median(x) for x in (copies, archives, validations))
    load = os.getloadavg()[0]

    rows = summary["rows"]
    figures = {
        "rows": rows,
        "table_generated_seconds": round(generated, 1),
        "repeats": len(copies),
        "samples_seconds": {
            "copy": [round(x, 2) for x in copies],
            "archive": [round(x, 2) for x in archives],
            "validate": [round(x, 2) for x in validations],
        },
        "load_average_1min_at_end": round(load, 2),
        "cores": os.cpu_count(),
        "copy_seconds": round(copy_s, 2),
        "copy_rows_per_second": round(rows / copy_s),
        "archive_seconds": round(archive_s, 2),
        "archive_rows_per_second": round(rows / archive_s),
        "archive_partitions": summary["read"]["partitions"],
        "archive_read_path": summary["read"]["path"],
        "validate_seconds": round(validate_s, 2),
        "validate_rows_per_second": round(rows / validate_s),
        "validation_status": result["status"],
        "ratio_archive_to_copy": round(archive_s / copy_s, 2),
        "target_archive_to_copy": 2.0,
        "ratio_validate_to_archive": round(validate_s / archive_s, 2),
        "target_validate_to_archive": 2.0,
    }
    figures["archive_target_met"] = figures["ratio_archive_to_copy"] <= 2.0
    figures["validate_target_met"] = figures["ratio_validate_to_archive"] <= 2.0
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    return 0 if result["status"] == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
