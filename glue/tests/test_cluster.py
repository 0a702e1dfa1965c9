"""A real Spark cluster: a standalone master and two workers on loopback, started from the pinned pyspark
distribution by this test and stopped after it. The packaged archive and validate jobs run on it with
``--master spark://…``: executors in other JVMs read the source (PostgreSQL binary COPY split by heap
block ranges) and write the warehouse, so anything not serializable, any driver-local path or state
fails here. The result must equal local mode's: same rows, same validation outcome."""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import iceberg_reader
import pytest
from conftest import pg_exec
from test_packaged import job_dir, package, submit  # noqa: F401  (fixtures)

SPARK_CLASS = Path(sys.executable).parent / "spark-class"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("spark-cluster")
    import pyspark

    env = {
        **os.environ,
        "SPARK_HOME": os.path.dirname(pyspark.__file__),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(base / "logs"),
    }
    port = _port()
    procs = []
    log = open(base / "master.log", "w")  # noqa: SIM115 — closed below
    master = subprocess.Popen(
        [str(SPARK_CLASS), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(_port())],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    procs.append(master)
    url = f"spark://127.0.0.1:{port}"
    workers = []
    try:
        _wait_port(port, master, "the Spark master")
        for i in range(2):
            work = base / f"worker{i}"
            work.mkdir()
            wlog = open(base / f"worker{i}.log", "w")  # noqa: SIM115
            w = subprocess.Popen(
                [str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                 "--cores", "1", "--memory", "1g", "--work-dir", str(work), "--webui-port", str(_port())],
                env=env, stdout=wlog, stderr=subprocess.STDOUT,
            )  # fmt: skip
            procs.append(w)
            workers.append(work)
        deadline = time.time() + 60
        while (base / "master.log").read_text().count("Registering worker") < 2:
            if time.time() > deadline:
                raise RuntimeError("the workers did not register:\n" + (base / "master.log").read_text()[-3000:])
            time.sleep(0.5)
        yield {"url": url, "workers": workers}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture()
def big_table(pg_db, pg_schema):
    name = "events_2019"
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}"."{name}" (id bigint PRIMARY KEY, kind text, amount numeric(18,6))')
    pg_exec(
        pg_db,
        f'INSERT INTO "{pg_schema}"."{name}" '
        "SELECT g, 'k' || (g % 17), g * 1.000001 FROM generate_series(1, 60000) g",
    )
    pg_exec(pg_db, f'ANALYZE "{pg_schema}"."{name}"')
    return name


def _tasks_run(work: Path) -> int:
    """Tasks the executors of this worker ran (from their logs)."""
    return sum(Path(f).read_text(errors="replace").count("Running task") for f in glob.glob(str(work / "*/*/stderr")))


def test_archive_and_validate_on_a_two_worker_cluster(
    cluster,
    job_dir,  # noqa: F811
    tmp_path,
    pg_connection,
    pg_schema,
    big_table,
):
    c = pg_connection
    env = {"CLUSTER_PG_PASSWORD": c.password}

    def args(warehouse: str) -> list[str]:
        return [
            "--source_engine", "postgresql", "--source_host", c.host, "--source_port", str(c.port),
            "--source_database", c.database, "--source_user", c.user, "--source_password_env", "CLUSTER_PG_PASSWORD",
            "--source_schema", pg_schema, "--source_table", big_table, "--warehouse", warehouse,
            "--archive_database", "cluster", "--num_partitions", "4",
        ]  # fmt: skip

    on_cluster = str(tmp_path / "wh-cluster")
    code, summary, err = submit(
        job_dir, "archive_table.py", [*args(on_cluster), "--run_id", "cl-1"], env, tmp_path, master=cluster["url"]
    )
    assert code == 0, (summary, err[-3000:])
    assert summary["rows"] == 60000 and summary["read"]["path"] == "copy"
    assert summary["read"]["partitions"] >= 2
    code, result, err = submit(job_dir, "validate_table.py", args(on_cluster), env, tmp_path, master=cluster["url"])
    assert code == 0 and result["status"] == "passed", (result, err[-3000:])
    tasks = [_tasks_run(w) for w in cluster["workers"]]
    assert all(t > 0 for t in tasks), f"both workers ran tasks: {tasks}"

    # The same job in local mode gives the same rows and the same validation outcome.
    local = str(tmp_path / "wh-local")
    code, local_summary, err = submit(job_dir, "archive_table.py", [*args(local), "--run_id", "cl-1"], env, tmp_path)
    assert code == 0, err[-3000:]
    name = summary["archive_table"].split(".", 1)[1]
    clustered = sorted(iceberg_reader.rows(on_cluster, "cluster", name), key=lambda r: r["id"])
    locally = sorted(iceberg_reader.rows(local, "cluster", name), key=lambda r: r["id"])
    assert len(clustered) == 60000 and clustered == locally
