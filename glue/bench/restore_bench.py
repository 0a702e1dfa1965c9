"""Benchmark: restore the 10-million-row benchmark archive into PostgreSQL, next to a plain
``COPY … FROM STDIN`` of the same rows (through psql, the write limit) in the same run.

    bash scripts/setup.sh --services && source scripts/services.env
    .venv/bin/python glue/bench/restore_bench.py [--rows 10000000] [--repeat 3] [--json out.json]
        [--write-path arrow|copy|jdbc] [--reuse-archive]
        [--arrow-validation checksums|values] [--copy-format auto|text]

Uses archive_bench.py's table (offload_bench.payments, generated once), archives it once into its own
warehouse (.cache/restore-bench-warehouse), then alternates --repeat times: COPY FROM STDIN of the table's
rows (dumped once to a file, not timed) into a new table with the same columns, plus its primary key
(what the restored table gets too), and the restore (staging table, write, primary key, validation against
the archive, rename) on --write-path (default arrow: Arrow-built COPY text into COPY FROM STDIN, validated
by --arrow-validation: checksums — PostgreSQL's and the driver's per-bucket row hash sums — or values, every
value read back and compared; copy: Spark's COPY text files and the Spark validation; jdbc). Target: restore
<= 2 x COPY.
Prints the samples, the medians, the restore split (arrow: archive read, COPY, checksums or read-back and
comparison, key), the CPU seconds (user, system) each repetition cost this process and the PostgreSQL server
(psql's own, for the COPY, is small and not counted)
and the ratios as JSON, with the Python process's peak RSS (the arrow path holds both sides in it); exits 0
whether or not the target is met (a measurement), 1 when a restore did not validate. --reuse-archive keeps
the benchmark warehouse of an earlier run (its archive of the same rows) instead of archiving again.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from functools import partial

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "glue"))
sys.path.insert(0, HERE)

from archive_bench import SCHEMA, TABLE, connection, ensure_table  # noqa: E402
from offload_glue.archive import ArchiveRequest, archive  # noqa: E402
from offload_glue.iceberg_table import current_snapshot  # noqa: E402
from offload_glue.names import archive_table_name, spark_ident  # noqa: E402
from offload_glue.restore import TEST_HOOKS, RestoreRequest, restore  # noqa: E402
from offload_glue.session import get_spark, local_spark_conf  # noqa: E402
from proc_cpu import server_cpu  # noqa: E402

TARGET_SCHEMA = "restore_bench"


def cpu_now() -> tuple:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, server_cpu("postgres")


def cpu_spent(before: tuple, after: tuple) -> dict:
    """CPU seconds spent between two cpu_now() readings: this process (the restore's driver) and PostgreSQL."""
    out = {"driver_user": round(after[0] - before[0], 2), "driver_system": round(after[1] - before[1], 2)}
    if before[2] and after[2]:
        out["postgresql_user"] = round(after[2][0] - before[2][0], 2)
        out["postgresql_system"] = round(after[2][1] - before[2][1], 2)
    return out


def psql(conn, *args, stdin=None, stdout=None) -> None:
    env = dict(os.environ, PGPASSWORD=conn.password)
    cmd = ["psql", "-h", conn.host, "-p", str(conn.port), "-U", conn.user, "-d", conn.database, "-qAt", "-v"]
    subprocess.run([*cmd, "ON_ERROR_STOP=1", *args], stdin=stdin, stdout=stdout, env=env, check=True)


def time_copy_in(conn, dump: str, n: int) -> tuple[float, float]:
    """(COPY FROM STDIN seconds, primary key seconds) into a new table with the source's columns."""
    table = f"{TARGET_SCHEMA}.copy_{n}"
    psql(conn, "-c", f"CREATE TABLE {table} (LIKE {SCHEMA}.{TABLE} INCLUDING COMMENTS)")
    started = time.monotonic()
    with open(dump, "rb") as fh:
        psql(conn, "-c", f"COPY {table} FROM STDIN", stdin=fh)
    copied = time.monotonic() - started
    started = time.monotonic()
    psql(conn, "-c", f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    return copied, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--write-path", default="arrow", choices=["arrow", "copy", "jdbc"])
    parser.add_argument("--reuse-archive", action="store_true", help="keep the warehouse of an earlier run")
    parser.add_argument("--arrow-validation", default="checksums", choices=["checksums", "values"])
    parser.add_argument("--copy-format", default="auto", choices=["auto", "text"])
    args = parser.parse_args()

    load_at_start = round(os.getloadavg()[0], 2)
    conn = connection()
    ensure_table(conn, args.rows)
    dump = os.path.join(ROOT, ".cache", "restore-bench-rows.copy")
    os.makedirs(os.path.dirname(dump), exist_ok=True)
    with open(dump, "wb") as fh:  # the same rows, in COPY's text format (not timed)
        psql(conn, "-c", f"COPY {SCHEMA}.{TABLE} TO STDOUT", stdout=fh)
    psql(conn, "-c", f"DROP SCHEMA IF EXISTS {TARGET_SCHEMA} CASCADE; CREATE SCHEMA {TARGET_SCHEMA}")

    warehouse = os.path.join(ROOT, ".cache", "restore-bench-warehouse")
    if not args.reuse_archive:
        shutil.rmtree(warehouse, ignore_errors=True)
    spark = get_spark(
        "offload",
        "hadoop",
        warehouse,
        app_name="offload-restore-bench",
        local_conf=local_spark_conf(cores=2, driver_memory=args.driver_memory),
    )
    spark.sparkContext.setLogLevel("ERROR")
    ident = spark_ident("offload", "bench", archive_table_name(SCHEMA, TABLE))
    snap = current_snapshot(spark, ident) if args.reuse_archive and os.path.isdir(warehouse) else None
    if snap and int(snap["summary"].get("total-records", -1)) == args.rows:
        archived = {"rows": args.rows, "reused": True}
    else:
        req = ArchiveRequest(connection=conn, schema=SCHEMA, table=TABLE, run_id="restore-bench", database="bench")
        archived = archive(spark, req)

    copies, keys, restores, writes, formats, validations, summary = [], [], [], [], [], [], {}
    cpu: dict[str, list] = {}  # CPU seconds per repetition: the driver (this process) and PostgreSQL
    split: dict[str, list] = {}
    for n in range(args.repeat):  # alternate, so that background load hits both alike
        before = cpu_now()
        copy_s, key_s = time_copy_in(conn, dump, n)
        cpu.setdefault("copy_and_key", []).append(cpu_spent(before, cpu_now()))
        copies.append(copy_s)
        keys.append(key_s)
        before = cpu_now()
        written: list = []  # the CPU reading between the write and the validation (the job's hook point)
        TEST_HOOKS["before_validate"] = partial(lambda out: out.append(cpu_now()), written)
        started = time.monotonic()
        summary, code = restore(
            spark,
            RestoreRequest(
                connection=conn,
                schema=TARGET_SCHEMA,
                target_table=f"restored_{n}",
                source_schema=SCHEMA,
                source_table=TABLE,
                database="bench",
                write_path=args.write_path,
                arrow_validation=args.arrow_validation,
                copy_format=args.copy_format,
            ),
        )
        restores.append(time.monotonic() - started)
        after = cpu_now()
        cpu.setdefault("restore", []).append(cpu_spent(before, after))
        if written:
            cpu.setdefault("restore_write", []).append(cpu_spent(before, written[0]))
            cpu.setdefault("restore_validation", []).append(cpu_spent(written[0], after))
        writes.append(summary["write"]["seconds"])
        formats.append(summary["write"].get("format_seconds"))
        validations.append(summary["validate_seconds"])
        v = summary.get("validation", {})
        for name, value in (
            ("arrow_archive_read_in_write", summary["write"].get("archive_read_seconds")),
            ("arrow_csv_in_write", summary["write"].get("csv_seconds")),
            ("arrow_checksums_in_write", summary["write"].get("hash_seconds")),
            ("validation_read_back_with_key_index", v.get("read_back_seconds")),
            ("validation_compare", v.get("compare_seconds")),
            *((f"validation_checksums_{k}", x) for k, x in v.get("checksum_seconds", {}).items()),
            ("key_attach", summary.get("key_attach_seconds")),
        ):
            if value is not None:
                split.setdefault(name, []).append(value)
        if "rows" in v:  # as each COPY stream sent them (no sort), each stream sorted by key, or all sorted
            split.setdefault("read_back_order", []).append(v["rows"].get("read_back_order"))
        print(f"[bench] run {n}: copy {copy_s:.1f} s + key {key_s:.1f} s, restore {restores[-1]:.1f} s "
              f"(write {writes[-1]} s, validation {validations[-1]} s)", file=sys.stderr, flush=True)  # fmt: skip
        psql(conn, "-c", f"DROP TABLE {TARGET_SCHEMA}.copy_{n}, {TARGET_SCHEMA}.restored_{n}")
        if code != 0:
            break
    spark.stop()
    psql(conn, "-c", f"DROP SCHEMA {TARGET_SCHEMA} CASCADE")
    os.remove(dump)

    med = statistics.median
    rows = archived["rows"]
    copy_s, copy_key_s = med(copies), med(c + k for c, k in zip(copies, keys, strict=True))
    restore_s = med(restores)
    figures = {
        "rows": rows,
        "repeats": len(restores),
        "write_path": args.write_path,
        "arrow_validation": args.arrow_validation,
        "copy_format": args.copy_format,
        "copy_format_used": summary.get("write", {}).get("copy_format"),
        "validation_method": summary.get("validation", {}).get("method"),
        "samples_seconds": {
            "copy_from_stdin": [round(x, 2) for x in copies],
            "copy_primary_key": [round(x, 2) for x in keys],
            "restore": [round(x, 2) for x in restores],
            "restore_write": writes,
            "restore_write_spark_text_files": formats,
            "restore_validate": validations,
            **{f"restore_{k}": vals for k, vals in split.items()},
        },
        "cpu_seconds": cpu,
        "restore_write_path": summary.get("write", {}).get("path"),
        "arrow_not_used": summary.get("arrow_not_used"),
        "python_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_1min_at_start": load_at_start,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
        "copy_seconds": round(copy_s, 2),
        "copy_rows_per_second": round(rows / copy_s),
        "copy_with_primary_key_seconds": round(copy_key_s, 2),
        "restore_seconds": round(restore_s, 2),
        "restore_write_seconds": round(med(writes), 2),
        "restore_validate_seconds": round(med(validations), 2),
        "restore_rows_per_second": round(rows / restore_s),
        "validation_status": summary.get("validation", {}).get("status"),
        "ratio_restore_to_copy": round(restore_s / copy_s, 2),
        "ratio_restore_to_copy_with_key": round(restore_s / copy_key_s, 2),
        "ratio_restore_write_to_copy_with_key": round(med(writes) / copy_key_s, 2),
        "target_restore_to_copy": 2.0,
    }
    figures["restore_target_met"] = figures["ratio_restore_to_copy"] <= 2.0
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    return 0 if summary.get("status") == "restored" else 1


if __name__ == "__main__":
    sys.exit(main())
