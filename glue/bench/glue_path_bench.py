"""Benchmark of the production data path: archive and validate of the 10-million-row benchmark table
(archive_bench.py generates it) on

* ``glue``    — the Glue Data Catalog and S3 of a moto server, next to ``local`` (a Hadoop warehouse
                directory), in one Spark session, alternating: the overhead ratio and where it goes —
                S3 requests by type (moto's access log), Glue calls by operation with their time (a
                counting proxy in front of moto's Glue endpoint), and the catalog commit (Iceberg's
                "Successfully committed to table … in N ms");
* ``cluster`` — the packaged jobs (scripts/package-glue.sh) with spark-submit on a standalone master
                with two workers on loopback (one core each), next to the same jobs in local mode
                (``local[2]``): the same two cores, spread over two executor JVMs.

    bash scripts/setup.sh --services && source scripts/services.env
    .venv/bin/python glue/bench/glue_path_bench.py [--rows 10000000] [--repeat 1] [--modes glue,cluster]

Times are the jobs' own ``seconds`` (after the Spark session exists: JVM start-up excluded), plus the
wall time of each spark-submit. Prints JSON; exits 0 whether or not anything is fast (a measurement),
1 when a validation does not pass."""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "glue"))

import archive_bench  # noqa: E402
from archive_bench import TABLE, connection  # noqa: E402

SCHEMA = archive_bench.SCHEMA

BIN = os.path.dirname(sys.executable)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- moto, with S3 requests counted from its access log and Glue calls through a counting proxy ----
class GlueCounter:
    """An HTTP proxy for the Glue endpoint only: forwards each call to moto, counts and times it by
    its X-Amz-Target operation."""

    def __init__(self, upstream: str):
        self.calls: collections.Counter = collections.Counter()
        self.seconds: collections.Counter = collections.Counter()
        lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 — http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = (self.headers.get("X-Amz-Target") or "?").rsplit(".", 1)[-1]
                req = urllib.request.Request(upstream + self.path, data=body, method="POST")
                for k, v in self.headers.items():
                    if k.lower() not in ("host", "content-length", "connection", "accept-encoding"):
                        req.add_header(k, v)
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        status, headers, data = resp.status, resp.headers, resp.read()
                except urllib.error.HTTPError as err:
                    status, headers, data = err.code, err.headers, err.read()
                with lock:
                    counter.calls[op] += 1
                    counter.seconds[op] += time.monotonic() - started
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> dict:
        return {op: {"calls": n, "seconds": round(self.seconds[op], 3)} for op, n in sorted(self.calls.items())}


def start_moto(workdir: str):
    log_path = os.path.join(workdir, "moto.log")
    port = free_port()
    fh = open(log_path, "w")  # noqa: SIM115 — the server's log for the run's duration
    proc = subprocess.Popen(
        [os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=fh, stderr=fh
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except Exception:  # noqa: BLE001 — not up yet
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"moto_server did not start on {endpoint}")
    return proc, endpoint, log_path


# werkzeug's access line, its request part coloured by status ("\x1b[35m\x1b[1mGET /b/k HTTP/1.1\x1b[0m" 206 -)
ACCESS = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


def s3_operation(method: str, target: str) -> str:
    """The S3 operation of a path-style request line (bucket first in the path)."""
    path, _, query = target.partition("?")
    params = {p.split("=", 1)[0] for p in query.split("&") if p}
    is_object = "/" in path.strip("/")
    if method == "PUT":
        return "UploadPart" if "partNumber" in params else ("PutObject" if is_object else "CreateBucket")
    if method == "POST":
        if "uploads" in params:
            return "CreateMultipartUpload"
        if "uploadId" in params:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in params else "POST"
    if method == "GET":
        return "GetObject" if is_object else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if is_object else "HeadBucket"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in params else "DeleteObject"
    return method


def s3_requests(log_path: str, start_line: int) -> tuple[dict, int]:
    """S3 requests by operation in moto's access log from ``start_line``; Glue calls (POST /) excluded."""
    with open(log_path, errors="replace") as fh:
        lines = fh.read().splitlines()
    counts: collections.Counter = collections.Counter()
    for line in lines[start_line:]:
        m = ACCESS.search(line)
        if not m or (m.group(1) == "POST" and m.group(2) == "/"):
            continue
        counts[s3_operation(m.group(1), m.group(2))] += 1
    return dict(sorted(counts.items())), len(lines)


def s3_bytes(bucket: str, prefix: str) -> int:
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sum(o["Size"] for page in pages for o in page.get("Contents", []))


def dir_bytes(path: str) -> int:
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(path, "**"), recursive=True) if os.path.isfile(p))


# ---- glue vs local in one Spark session -------------------------------------------------------------
def bench_glue(args, conn, workdir: str) -> dict:
    moto, endpoint, moto_log = start_moto(workdir)
    try:
        proxy = GlueCounter(endpoint)
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ENDPOINT_URL_GLUE=proxy.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="eu-west-1",
            AWS_DEFAULT_REGION="eu-west-1",
        )
        import boto3
        from offload_glue.archive import ArchiveRequest, archive
        from offload_glue.session import catalog_conf, get_spark, local_spark_conf
        from offload_glue.validate import ValidateRequest, validate

        bucket = "bench-glue-path"
        boto3.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        local_wh = os.path.join(workdir, "warehouse")
        spark = get_spark(
            "offload",
            "hadoop",
            local_wh,
            app_name="offload-glue-path-bench",
            local_conf=local_spark_conf(cores=2, driver_memory=args.driver_memory),
        )
        spark.sparkContext.setLogLevel("ERROR")
        jvm = spark.sparkContext._jvm
        # Iceberg's metastore commits log their duration at INFO; everything else stays at ERROR
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.iceberg.BaseMetastoreTableOperations", jvm.org.apache.logging.log4j.Level.INFO
        )
        for key, value in catalog_conf("offload_glue", "glue", f"s3://{bucket}/warehouse").items():
            spark.conf.set(key, value)
        spark.sql("SELECT 1").collect()

        samples: dict = {k: [] for k in ("local_archive", "local_validate", "glue_archive", "glue_validate")}
        detail: list = []
        status = "passed"
        log_line = 0
        for i in range(args.repeat):
            order = (("local", "offload"), ("glue", "offload_glue"))
            for kind, catalog in order if i % 2 == 0 else order[::-1]:  # each goes first in turn
                name = f"payments_{kind}_{i}"
                glue_before = proxy.snapshot()
                _, log_line = s3_requests(moto_log, log_line)
                log(f"{kind} archive {i + 1}/{args.repeat}")
                started = time.monotonic()
                summary = archive(
                    spark,
                    ArchiveRequest(
                        connection=conn,
                        schema=SCHEMA,
                        table=TABLE,
                        run_id=f"gp-{time.time_ns()}",
                        catalog=catalog,
                        database="bench",
                        archive_table=name,
                        fetch_size=20000,
                    ),
                )
                archive_wall = time.monotonic() - started
                archive_s3, log_line = s3_requests(moto_log, log_line)
                glue_mid = proxy.snapshot()
                log(f"{kind} validate {i + 1}/{args.repeat}")
                started = time.monotonic()
                result = validate(
                    spark,
                    ValidateRequest(
                        connection=conn,
                        schema=SCHEMA,
                        table=TABLE,
                        catalog=catalog,
                        database="bench",
                        archive_table=name,
                        fetch_size=20000,
                    ),
                )
                validate_wall = time.monotonic() - started
                validate_s3, log_line = s3_requests(moto_log, log_line)
                samples[f"{kind}_archive"].append(archive_wall)
                samples[f"{kind}_validate"].append(validate_wall)
                entry = {
                    "catalog": kind,
                    "repeat": i + 1,
                    "rows": summary["rows"],
                    "archive_seconds": round(archive_wall, 2),
                    "validate_seconds": round(validate_wall, 2),
                    "validation": result["status"],
                    "data_files": spark.sql(f"SELECT count(*) FROM {catalog}.bench.{name}.files").collect()[0][0],
                }
                if kind == "glue":
                    entry["bytes"] = s3_bytes(bucket, f"warehouse/bench.db/{name}/")
                    entry["archive_s3_requests"] = archive_s3
                    entry["validate_s3_requests"] = validate_s3
                    entry["archive_glue_calls"] = _diff(glue_mid, glue_before)
                    entry["validate_glue_calls"] = _diff(proxy.snapshot(), glue_mid)
                else:
                    entry["bytes"] = dir_bytes(os.path.join(local_wh, "bench", name))
                detail.append(entry)
                if result["status"] != "passed":
                    status = result["status"]
        spark.stop()
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    return {
        "status": status,
        "median_seconds": {k: round(v, 2) for k, v in med.items()},
        "ratio_glue_to_local": {
            "archive": round(med["glue_archive"] / med["local_archive"], 2),
            "validate": round(med["glue_validate"] / med["local_validate"], 2),
        },
        "runs": detail,
    }


def _diff(after: dict, before: dict) -> dict:
    out = {}
    for op, v in after.items():
        b = before.get(op, {"calls": 0, "seconds": 0.0})
        if v["calls"] - b["calls"]:
            out[op] = {"calls": v["calls"] - b["calls"], "seconds": round(v["seconds"] - b["seconds"], 3)}
    return out


def commit_times(stderr_path: str) -> list[int]:
    """Iceberg's own figure for each metastore commit (write the metadata file, swap the Glue pointer)."""
    with open(stderr_path, errors="replace") as fh:
        return [int(m) for m in re.findall(r"Successfully committed to table \S+ in (\d+) ms", fh.read())]


# ---- cluster vs local mode, packaged ---------------------------------------------------------------
def start_cluster(workdir: str, worker_memory: str):
    import pyspark

    env = {
        **os.environ,
        "SPARK_HOME": os.path.dirname(pyspark.__file__),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": os.path.join(workdir, "logs"),
    }
    spark_class = os.path.join(BIN, "spark-class")
    port = free_port()
    master_log = os.path.join(workdir, "master.log")
    procs = [
        subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(free_port())],
            env=env, stdout=open(master_log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )
    ]  # fmt: skip
    url = f"spark://127.0.0.1:{port}"
    for i in range(2):
        work = os.path.join(workdir, f"worker{i}")
        os.makedirs(work)
        procs.append(
            subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "1",
                 "--memory", worker_memory, "--work-dir", work, "--webui-port", str(free_port())],
                env=env, stdout=open(os.path.join(workdir, f"worker{i}.log"), "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    deadline = time.time() + 120
    while open(master_log).read().count("Registering worker") < 2:
        if time.time() > deadline:
            stop(procs)
            raise RuntimeError("the workers did not register: " + open(master_log).read()[-2000:])
        time.sleep(0.5)
    return url, procs


def stop(procs) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def submit(
    package: str, job: str, args: list[str], master: str, conn, workdir: str, memory: str, executor_memory: str
) -> tuple[dict, float]:
    jars = sorted(glob.glob(os.path.join(package, "jars", "*.jar")))
    jars += glob.glob(os.path.join(ROOT, ".cache/jars/iceberg-spark-runtime-*.jar"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OFFLOAD_SCHEMA_DIR")}
    env.update(BENCH_PG_PASSWORD=conn.password, PYSPARK_PYTHON=sys.executable, TZ="UTC")
    cmd = [
        os.path.join(BIN, "spark-submit"), "--master", master,
        "--py-files", os.path.join(package, "offload_glue.zip"),
        "--jars", ",".join(jars), "--driver-class-path", ":".join(jars), "--driver-memory", memory,
        "--conf", "spark.executor.memory=" + executor_memory,
        "--conf", "spark.driver.extraJavaOptions=-Duser.timezone=UTC", "--conf", "spark.ui.enabled=false",
        os.path.join(package, job), "--JOB_NAME", "bench",
        "--source_engine", "postgresql", "--source_host", conn.host, "--source_port", str(conn.port),
        "--source_database", conn.database, "--source_user", conn.user, "--source_password_env", "BENCH_PG_PASSWORD",
        "--source_schema", SCHEMA, "--source_table", TABLE, "--fetch_size", "20000",
        "--log_file", os.path.join(workdir, f"{job}.{time.time_ns()}.log"), *args,
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=package, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    out = proc.stdout.strip()
    if "{" not in out:
        raise RuntimeError(f"{job} printed no summary (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(out[out.find("{") :]), wall


def bench_cluster(args, conn, workdir: str) -> dict:
    package = os.path.join(workdir, "package")
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "package-glue.sh"), package], check=True, timeout=300)
    url, procs = start_cluster(workdir, args.worker_memory)
    runs, status = [], "passed"
    samples: dict = collections.defaultdict(list)
    try:
        for i in range(args.repeat):
            order = (("local", "local[2]"), ("cluster", url))
            for mode, master in order if i % 2 == 0 else order[::-1]:  # each goes first in turn
                warehouse = os.path.join(workdir, f"wh-{mode}-{i}")
                common = ["--warehouse", warehouse, "--archive_database", "bench", "--num_partitions", "4"]
                log(f"{mode} archive {i + 1}/{args.repeat}")
                summary, a_wall = submit(
                    package,
                    "archive_table.py",
                    [*common, "--run_id", f"cl-{i}"],
                    master,
                    conn,
                    workdir,
                    "2g",
                    args.worker_memory,
                )
                log(f"{mode} validate {i + 1}/{args.repeat}")
                result, v_wall = submit(
                    package, "validate_table.py", common, master, conn, workdir, "2g", args.worker_memory
                )
                samples[f"{mode}_archive"].append(summary["seconds"])
                samples[f"{mode}_validate"].append(result["seconds"])
                runs.append(
                    {
                        "mode": mode,
                        "repeat": i + 1,
                        "rows": summary.get("rows"),
                        "partitions": summary.get("read", {}).get("partitions"),
                        "read_path": summary.get("read", {}).get("path"),
                        "archive_seconds": summary["seconds"],
                        "archive_wall_seconds": round(a_wall, 2),
                        "validate_seconds": result["seconds"],
                        "validate_wall_seconds": round(v_wall, 2),
                        "validation": result.get("status"),
                    }
                )
                if result.get("status") != "passed":
                    status = str(result.get("status"))
                shutil.rmtree(warehouse, ignore_errors=True)
    finally:
        stop(procs)
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "status": status,
        "median_seconds": {k: round(v, 2) for k, v in med.items()},
        "ratio_cluster_to_local": {
            "archive": round(med["cluster_archive"] / med["local_archive"], 2),
            "validate": round(med["cluster_validate"] / med["local_validate"], 2),
        },
        "runs": runs,
    }


def ensure_source(conn, schema: str, rows: int) -> float:
    """archive_bench.py's table (generated once, reused while its row count matches) in ``schema``."""
    global SCHEMA
    if schema == archive_bench.SCHEMA:
        return archive_bench.ensure_table(conn, rows)
    import psycopg2

    SCHEMA = schema
    db = psycopg2.connect(host=conn.host, port=conn.port, dbname=conn.database, user=conn.user, password=conn.password)
    db.autocommit = True
    started = time.monotonic()
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = %s", (schema, TABLE))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT count(*) FROM {schema}.{TABLE}")
            if cur.fetchone()[0] == rows:
                return 0.0
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(f"CREATE SCHEMA {schema}")
        cur.execute(f"CREATE TABLE {schema}.{TABLE} ({archive_bench.COLUMNS_SQL})")
        fill = archive_bench.FILL_SQL.replace(f"{archive_bench.SCHEMA}.{TABLE}", f"{schema}.{TABLE}")
        cur.execute(fill.replace("ROWS", str(int(rows))))
        cur.execute(f"VACUUM ANALYZE {schema}.{TABLE}")
    db.close()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs per comparison; medians reported")
    parser.add_argument("--modes", default="glue,cluster", help="glue (vs local warehouse), cluster (vs local mode)")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--worker-memory", default="3g")
    parser.add_argument(
        "--schema",
        default=SCHEMA,
        help=f"source schema (default {SCHEMA}, shared with archive_bench.py: use another for a smaller --rows)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    # a TERM (timeout, a kill) unwinds like an exception: the cluster and moto are stopped in `finally`
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    conn = connection()
    generated = ensure_source(conn, args.schema, args.rows)
    workdir = tempfile.mkdtemp(prefix="glue-path-bench-")
    # Spark's JVM writes to this process's stderr: keep it in a file (Iceberg's commit times are read
    # from it) and keep the real stderr for progress lines.
    jvm_log = os.path.join(workdir, "jvm-stderr.log")
    real_stderr = os.dup(2)
    sys.stderr = os.fdopen(real_stderr, "w", buffering=1)
    os.dup2(os.open(jvm_log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    figures: dict = {
        "rows": args.rows,
        "table_generated_seconds": round(generated, 1),
        "repeats": args.repeat,
        "cores": os.cpu_count(),
    }
    ok = True
    try:
        if "glue" in args.modes:
            figures["glue_vs_local"] = bench_glue(args, conn, workdir)
            figures["glue_vs_local"]["glue_commit_ms"] = commit_times(jvm_log)
            ok = ok and figures["glue_vs_local"]["status"] == "passed"
        if "cluster" in args.modes:
            figures["cluster_vs_local_mode"] = bench_cluster(args, conn, workdir)
            ok = ok and figures["cluster_vs_local_mode"]["status"] == "passed"
    finally:
        figures["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
        text = json.dumps(figures, indent=2)
        print(text, flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                fh.write(text + "\n")
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir} (logs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
