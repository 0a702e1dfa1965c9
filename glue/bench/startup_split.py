"""Where a whole-process archive and validation spend their time (issue 14): runs ``glue/archive_table.py`` and
``glue/validate_table.py`` as a user runs them, on the peer benchmark's PostgreSQL table (``peers.py`` loads it),
and prints the split the job logs itself (``timings:`` line, offload_glue/timings.py) beside the wall time seen
from outside, the time until the JVM child has exited too, and the process tree's peak memory. Figures are
printed, never asserted.

    bash glue/bench/peers.sh --repeat 1 --skip my,validate,tamper,warm,nocds   # once: loads the table
    source scripts/services.env
    .cache/peers/venv/bin/python glue/bench/startup_split.py [--repeat 3] [--code new=. --code old=/other/checkout]
        [--env 'serial=JAVA_TOOL_OPTIONS=-XX:+UseSerialGC'] [--jobs archive,validate]

``--code NAME=DIR`` runs the jobs of another checkout (its own ``glue/``; the project's ``.venv``) and ``--env
NAME=VAR=VALUE[,VAR=VALUE]`` a variant with extra environment, alternating with the others in every repetition
(medians). A checkout without timings (older code) shows the wall time and memory only. Phases, in order:
python (interpreter start), imports, arguments, jvm (spark-submit, JVM, py4j gateway), spark_session,
catalog_conf, source_metadata, archive_metadata, plan, then archive: read_write_commit, row_count_property;
validation: compare, checks, result_record; both: summary (the JSON printed); ``exit`` is the wall time after
the last mark (interpreter shutdown) and ``jvm_exit`` the time the JVM takes to exit after Python has.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peers import PROJECT_PY, ROOT, SCHEMA, TABLE, Env  # noqa: E402


def measured(cmd: list[str], env: dict, log_path: str, cwd: str) -> dict:
    """Wall time of the process, time until its whole tree has exited, peak summed RSS of the tree, and the CPU
    seconds of the tree (each process's last sample: less sensitive to other work than the wall time)."""
    peak, seen, cpu = 0, {}, {}
    with open(log_path, "ab") as out:
        started = time.monotonic()
        proc = psutil.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                with contextlib.suppress(psutil.Error):
                    total = 0
                    for p in [proc, *proc.children(recursive=True)]:
                        seen.setdefault(p.pid, p)
                        with contextlib.suppress(psutil.Error):
                            total += p.memory_info().rss
                            times = p.cpu_times()
                            cpu[p.pid] = times.user + times.system
                    peak = max(peak, total)
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait(timeout=1800)
        wall = time.monotonic() - started
        stop.set()
        sampler.join()
        psutil.wait_procs([p for pid, p in seen.items() if pid != proc.pid], timeout=120)
        tree = time.monotonic() - started
    return {"seconds": wall, "tree_seconds": tree, "peak_rss_mb": peak / 2**20, "cpu_seconds": sum(cpu.values()),
            "exit_code": code}  # fmt: skip


def last_timings(log_path: str) -> dict:
    text = open(log_path, encoding="utf-8", errors="replace").read()
    at = text.rfind("timings: {")
    if at < 0:
        return {}
    return json.loads(text[at + len("timings: ") : text.index("\n", at)])


def job_cmd(job: str, code_dir: str, env: Env, work: str, variant: str) -> list[str]:
    src = ["--source_engine", "postgresql", "--source_host", env.pg_host, "--source_port", str(env.pg_port),
           "--source_database", env.db, "--source_user", env.user, "--source_schema", SCHEMA,
           "--source_table", TABLE]  # fmt: skip
    common = ["--JOB_NAME", "split", *src, "--archive_database", "bench"]
    if job == "archive":
        warehouse = os.path.join(work, f"wh-{variant}")
        return [PROJECT_PY, os.path.join(code_dir, "glue", "archive_table.py"), *common,
                "--run_id", f"split-{time.time_ns()}", "--warehouse", warehouse]  # fmt: skip
    warehouse = os.path.join(work, "wh-validate")  # one archive (made once) validated by every variant
    return [PROJECT_PY, os.path.join(code_dir, "glue", "validate_table.py"), *common, "--warehouse", warehouse,
            "--result_path", os.path.join(work, f"validation-{variant}.json")]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", default="archive,validate")
    parser.add_argument("--code", action="append", default=[], help="NAME=DIR: a checkout to run (default: this)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VAR=VALUE[,VAR=VALUE]: a variant")
    parser.add_argument("--work", default=os.path.join(ROOT, ".cache", "peers", "split"))
    args = parser.parse_args()
    env = Env()
    os.makedirs(args.work, exist_ok=True)
    variants = []  # (name, code dir, extra env)
    for spec in args.code or [f"this={ROOT}"]:
        name, _, path = spec.partition("=")
        variants.append((name, os.path.abspath(path), {}))
    for spec in args.env:
        name, _, assigns = spec.partition("=")
        extra = dict(a.split("=", 1) for a in assigns.split(","))
        variants.append((name, variants[0][1], extra))
    jobs = [j for j in args.jobs.split(",") if j]
    if "validate" in jobs and not os.path.isdir(os.path.join(args.work, "wh-validate")):
        cmd = job_cmd("archive", variants[0][1], env, args.work, "validate")
        print("making the archive to validate ...", file=sys.stderr)
        measured(cmd, env.child_env(), os.path.join(args.work, "setup.log"), ROOT)
    results: dict[tuple[str, str], list[dict]] = {}
    for i in range(args.repeat):
        for job in jobs:
            for name, code_dir, extra in variants:
                log_path = os.path.join(args.work, f"{job}-{name}.log")
                cmd = job_cmd(job, code_dir, env, args.work, name) + ["--log_file", log_path]
                load = os.getloadavg()[0]
                res = measured(cmd, dict(env.child_env(), **extra), log_path, code_dir)
                res["timings"] = last_timings(log_path) if res["exit_code"] in (0, 1) else {}
                res["load"] = load
                results.setdefault((job, name), []).append(res)
                print(f"[{i + 1}] {job:8} {name:10} {res['seconds']:6.2f} s (tree {res['tree_seconds']:.2f} s, "
                      f"CPU {res['cpu_seconds']:.1f} s), "
                      f"peak {res['peak_rss_mb']:5.0f} MB, exit {res['exit_code']}, load {load:.1f}",
                      file=sys.stderr, flush=True)  # fmt: skip
    med = statistics.median

    def listed(values, spec: str = ".2f") -> str:
        return ", ".join(format(v, spec) for v in values)

    for (job, name), runs in results.items():
        secs, peaks = [r["seconds"] for r in runs], [r["peak_rss_mb"] for r in runs]
        cpus = [r["cpu_seconds"] for r in runs]
        print(f"\n{job} / {name}: median {med(secs):.2f} s ({listed(secs)}), "
              f"tree {med(r['tree_seconds'] for r in runs):.2f} s, CPU {med(cpus):.1f} s ({listed(cpus, '.1f')}), "
              f"peak {med(peaks):.0f} MB ({listed(peaks, '.0f')}), "
              f"load {listed([r['load'] for r in runs], '.1f')}")  # fmt: skip
        phases = [p for p in runs[0]["timings"] if p != "total"]
        if not phases:
            continue
        for r in runs:
            r["timings"]["exit"] = r["seconds"] - r["timings"]["total"]
            r["timings"]["jvm_exit"] = r["tree_seconds"] - r["seconds"]
        for p in [*phases, "exit", "jvm_exit"]:
            vals = [r["timings"].get(p, 0.0) for r in runs]
            print(f"  {p:20} {med(vals):6.2f} s   ({listed(vals)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
