"""A long-lived job runner for the local pipeline (``offload run``): one Spark session for every work
unit of a run, instead of a JVM per table.

Protocol (JSON lines): the runner writes ``{"id": ..., "unit": {<work unit>}, "args": [...]}`` on stdin,
one per line (``args``: runtime arguments such as ``--result_path``); the worker answers ``{"id",
"exit_code", "summary", "error"}`` on stdout, one line per unit, in completion order, after a first
``{"ready": true}`` line once Spark is up. Each unit runs through the job's own entry point
(``archive_table.main``, …) with ``--work_unit`` — exactly what a job run by hand does — in a pool of
``--parallel`` threads sharing the session. Exit codes are the jobs' (0 ok, 1 validation mismatch, 2
user error or refusal, 3 bug). Integers past 2^53 (Iceberg snapshot ids) are sent as strings so
JavaScript reads them exactly. Nothing else is written to stdout (the jobs' and Spark's output goes to
stderr). When stdin closes (the runner exited or was killed) the worker exits at once: an archive in
flight either committed atomically or left nothing.

    python -m offload_glue.worker --warehouse DIR [--catalog offload] [--catalog_type hadoop]
                                  [--parallel 2] [--cores 2] [--driver_memory 2g]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

GLUE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if GLUE_DIR not in sys.path:
    sys.path.insert(0, GLUE_DIR)

from offload_glue.errors import OffloadError  # noqa: E402
from offload_glue.testhooks import kill_point  # noqa: E402

JOB_SCRIPTS = {
    "archive": "archive_table",
    "validate": "validate_table",
    "purge": "purge_table",
    "cleanup_source": "cleanup_source",
}
SAFE_INT = 2**53


def exact(value):
    """JSON-ready copy with integers JavaScript cannot hold exactly turned into strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) >= SAFE_INT else value
    if isinstance(value, dict):
        return {str(k): exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    return value


def run_unit(unit: dict, runtime_args: list[str]) -> tuple[int, dict | None, dict | None]:
    """Runs one unit through its job's entry point; returns (exit code, summary, error)."""
    import importlib

    action = unit.get("action")
    script = JOB_SCRIPTS.get(action)
    if script is None:
        return 2, None, {"code": "not_built", "message": f"no job runs {action} units yet"}
    fd, path = tempfile.mkstemp(prefix="offload-unit-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(unit, fh)
        job = importlib.import_module(script)
        kill_point(f"worker:{action}:before")
        summary, code = job.main([f"{script}.py", "--work_unit", path, *runtime_args])
        kill_point(f"worker:{action}:after")  # the job's work is done, its answer not sent
        return code, summary, None
    except OffloadError as exc:
        return 2, None, exc.as_dict()
    except SystemExit as exc:  # argparse on a bad argument
        return 2, None, {"code": "bad_arguments", "message": f"the job refused its arguments (exit {exc.code})"}
    except Exception as exc:  # noqa: BLE001 — reported to the runner as a bug, with the trace on stderr
        traceback.print_exc()
        return 3, None, {"code": "bug", "message": f"this is a bug: {type(exc).__name__}: {exc}"}
    finally:
        os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m offload_glue.worker")
    p.add_argument("--warehouse", required=True)
    p.add_argument("--catalog", default="offload")
    p.add_argument("--catalog_type", default="hadoop")
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--driver_memory", default="2g")
    args = p.parse_args(argv)

    # The protocol owns the real stdout; everything else printed goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    lock = threading.Lock()

    def send(msg: dict) -> None:
        with lock:
            out.write(json.dumps(exact(msg), ensure_ascii=False, default=str) + "\n")
            out.flush()

    from offload_glue.session import get_spark, local_spark_conf

    spark = get_spark(
        args.catalog,
        args.catalog_type,
        args.warehouse,
        app_name="offload-run",
        local_conf=local_spark_conf(cores=args.cores, driver_memory=args.driver_memory),
    )
    spark.sparkContext.setLogLevel("ERROR")
    runtime = ["--warehouse", args.warehouse, "--catalog_type", args.catalog_type]
    send({"ready": True, "spark": spark.version, "pid": os.getpid()})

    def handle(line: str) -> None:
        try:
            req = json.loads(line)
            uid, unit, extra = req["id"], req["unit"], [str(a) for a in req.get("args") or []]
        except (ValueError, KeyError, TypeError) as exc:
            send({"id": None, "exit_code": 2, "summary": None, "error": {"code": "bad_request", "message": str(exc)}})
            return
        code, summary, error = run_unit(unit, [*runtime, *extra])
        send({"id": uid, "exit_code": code, "summary": summary, "error": error})

    pool = ThreadPoolExecutor(max_workers=max(1, args.parallel))
    for line in sys.stdin:
        if line.strip():
            pool.submit(handle, line)
    # stdin closed: the runner is gone or done. Leave at once; Spark commits are atomic.
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
