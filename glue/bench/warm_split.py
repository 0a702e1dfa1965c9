"""Where a warm archive's time goes (issue 14): in one long-lived Spark session (what ``offload run``'s worker
does), the archive of the peer benchmark's table from PostgreSQL and from MariaDB, and the same read alone (the
archive's read path and partitions, written to Spark's ``noop`` sink: no Parquet, no commit), each with the wall
time, the CPU seconds of the JVM and the CPU seconds of the database server; beside them the baseline the
targets are quoted against (``psql`` ``COPY … TO STDOUT``, the ``mariadb`` client ``--quick``), measured the
same way in the same run. Both sides share the machine's cores, so the CPU seconds over the cores is the
floor of the wall time. Figures printed, never asserted.

    bash glue/bench/peers.sh --repeat 1 --skip validate,tamper,warm,nocds,dlt   # once: loads both tables
    source scripts/services.env
    .venv/bin/python glue/bench/warm_split.py [--repeat 3] [--engines pg,my]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from offload_glue.archive import ArchiveRequest, archive, choose_read_path, read_source  # noqa: E402
from offload_glue.engines import Connection  # noqa: E402
from offload_glue.partitions import plan_partitions  # noqa: E402
from offload_glue.session import get_spark, local_spark_conf  # noqa: E402
from offload_glue.source_table import introspect  # noqa: E402
from proc_cpu import process_cpu, server_cpu  # noqa: E402

SERVER = {"pg": "postgres", "my": "mariadbd"}


def db_cpu(name: str) -> float:
    """The database server's user + system CPU seconds so far (0 when it is not local)."""
    return sum(server_cpu(name) or (0.0, 0.0))


def measure(name: str, engine: str, fn, jvm_pid: int | None, out: dict) -> None:
    s0, j0, t0 = db_cpu(SERVER[engine]), process_cpu(jvm_pid) if jvm_pid else 0.0, time.monotonic()
    client = fn()
    wall = time.monotonic() - t0
    row = {
        "wall": wall,
        "jvm_cpu": (process_cpu(jvm_pid) - j0) if jvm_pid else None,
        "client_cpu": client,
        "server_cpu": db_cpu(SERVER[engine]) - s0,
    }
    out.setdefault(name, []).append(row)
    print(f"[warm-split] {name}: {json.dumps({k: round(v, 2) for k, v in row.items() if v is not None})}",
          file=sys.stderr, flush=True)  # fmt: skip


def run_client(cmd: list[str], env: dict) -> float:
    """Runs a client to /dev/null; its CPU seconds."""
    before = os.times()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--schema", default="peers_bench")
    p.add_argument("--table", default="lineitem")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--engines", default="pg,my")
    args = p.parse_args()
    env = os.environ
    user, password = env["OFFLOAD_TEST_USER"], env["OFFLOAD_TEST_PASSWORD"]
    conns = {
        "pg": Connection("postgresql", env["OFFLOAD_TEST_PG_HOST"], int(env["OFFLOAD_TEST_PG_PORT"]),
                         env["OFFLOAD_TEST_DB"], user, password),
        "my": Connection("mysql", env["OFFLOAD_TEST_MYSQL_HOST"], int(env["OFFLOAD_TEST_MYSQL_PORT"]), args.schema,
                         user, password),
    }  # fmt: skip
    tmp = tempfile.mkdtemp(prefix="warm-split-")
    mycnf = os.path.join(tmp, "my.cnf")  # the password never on a command line
    with open(os.open(mycnf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
        fh.write(f"[client]\nuser={user}\npassword={password}\n")
    clients = {
        "pg": ["psql", "-h", env["OFFLOAD_TEST_PG_HOST"], "-p", env["OFFLOAD_TEST_PG_PORT"], "-U", user, "-d",
               env["OFFLOAD_TEST_DB"], "-qc", f"COPY {args.schema}.{args.table} TO STDOUT"],
        "my": ["mariadb", f"--defaults-extra-file={mycnf}", "-h", env["OFFLOAD_TEST_MYSQL_HOST"], "-P",
               env["OFFLOAD_TEST_MYSQL_PORT"], "--quick", "-N", "-B", "-e", f"SELECT * FROM {args.table}", args.schema],
    }  # fmt: skip
    client_env = dict(env, PGPASSWORD=password)
    spark = get_spark(
        "offload", "hadoop", os.path.join(tmp, "wh"), app_name="warm-split", local_conf=local_spark_conf()
    )
    spark.sparkContext.setLogLevel("ERROR")
    jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    out: dict[str, list[dict]] = {}
    engines = [e for e in args.engines.split(",") if e]
    for i in range(args.repeat + 1):  # the first round warms the JIT and is not counted
        for engine in engines:
            conn = conns[engine]

            def read_alone(conn=conn):
                src = introspect(spark, conn, args.schema, args.table)
                path = choose_read_path(spark, src, "auto")
                parts = plan_partitions(spark, src, path=path, split_column=None, num_partitions=0)
                read_source(spark, src, parts, fetch_size=10000, path=path).write.format("noop").mode(
                    "overwrite"
                ).save()

            def archive_it(conn=conn, engine=engine, i=i):
                archive(spark, ArchiveRequest(connection=conn, schema=args.schema, table=args.table,
                                              run_id=f"split-{i}", database=f"split_{engine}"))  # fmt: skip

            tag = "warm-up: " if i == 0 else ""
            measure(f"{tag}{engine}: client", engine, lambda engine=engine: run_client(clients[engine], client_env),
                    None, out)  # fmt: skip
            measure(f"{tag}{engine}: read alone", engine, read_alone, jvm_pid, out)
            measure(f"{tag}{engine}: archive", engine, archive_it, jvm_pid, out)
    spark.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    cores = os.cpu_count() or 1
    print(f"{'step (medians of ' + str(args.repeat) + ')':<28} {'wall s':>7} {'JVM CPU s':>10} {'client CPU s':>13} "
          f"{'server CPU s':>13} {'CPU / cores':>12} {'× client':>9}")  # fmt: skip
    medians = {}
    for name, rows in out.items():
        if name.startswith("warm-up"):
            continue
        med = {k: statistics.median(r[k] for r in rows) if rows[0][k] is not None else None for k in rows[0]}
        medians[name] = med
        engine = name.split(":")[0]
        base = statistics.median(r["wall"] for r in out[f"{engine}: client"])
        busy = (med["jvm_cpu"] or 0) + (med["client_cpu"] or 0) + med["server_cpu"]
        jvm = f"{med['jvm_cpu']:.2f}" if med["jvm_cpu"] is not None else "–"
        client = f"{med['client_cpu']:.2f}" if med["client_cpu"] is not None else "–"
        print(f"{name:<28} {med['wall']:>7.2f} {jvm:>10} {client:>13} {med['server_cpu']:>13.2f} "
              f"{busy / cores:>12.2f} {med['wall'] / base:>8.2f}×")  # fmt: skip
    print(json.dumps({"cores": cores, "medians": medians, "samples": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
