"""The ``local`` runtime: the project's own tools on this machine.

- planning: ``offload run --dry-run --format json`` (the Node CLI: synced configs, live read-only
  discovery, the policy engine with the ledger's records → work units; changes nothing);
- each step: the Glue job's entry point (glue/<job>_table.py or glue/cleanup_source.py --work_unit FILE,
  a cleanup's ``--validation_record`` under <state>/cleanup as ``offload run`` writes it) run by the
  project's ``.venv`` python with local Spark and the local Iceberg warehouse;
- the ledger: the local state directory (offload_glue.ledger.LocalLedger, same layout and lock as
  ``offload run``);
- the report: ``offload report RUN`` (JSON, Markdown and self-contained HTML under <state>/reports).

Options (``[offload]`` in the Airflow configuration, or ``AIRFLOW__OFFLOAD__<KEY>``): ``root`` (config
repository, default the toolkit), ``state`` (default <root>/.offload/state), ``warehouse`` (default
<root>/.offload/warehouse), ``configs`` (``synced`` default, or ``worktree``), ``python`` (default
<toolkit>/.venv/bin/python), ``node`` (default ``node``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess

from . import config
from .steps import JobResult, label_of

JOB_SCRIPTS = {
    "archive": "archive_table.py",
    "validate": "validate_table.py",
    "purge": "purge_table.py",
    "cleanup_source": "cleanup_source.py",
}


def _last_json(text: str) -> dict | None:
    """The job's JSON summary: the whole stdout, else its last line that parses."""
    text = text.strip()
    if not text:
        return None
    try:
        doc = json.loads(text)
        return doc if isinstance(doc, dict) else None
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        try:
            doc = json.loads(line)
            if isinstance(doc, dict):
                return doc
        except ValueError:
            continue
    return None


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class LocalRuntime:
    name = "local"

    def __init__(self):
        self.root = config.root()
        self.state = os.path.abspath(config.option("state", None) or os.path.join(self.root, ".offload", "state"))
        self.warehouse = os.path.abspath(
            config.option("warehouse", None) or os.path.join(self.root, ".offload", "warehouse")
        )
        self.configs = config.option("configs", "synced") or "synced"
        self.python = config.option("python", None) or os.path.join(config.TOOLKIT, ".venv", "bin", "python")
        self.node = config.option("node", "node") or "node"
        self.cli = os.path.join(config.TOOLKIT, "tools", "bin", "offload.mjs")
        from offload_glue.ledger import LocalLedger

        self.ledger = LocalLedger(self.state)

    # ---- the Node CLI -------------------------------------------------------------------------
    def _offload(self, args: list[str], ok=(0,)) -> tuple[int, str]:
        proc = subprocess.run(
            [self.node, self.cli, *args, "--root", self.root],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1", "TZ": "UTC"},
            check=False,
        )
        if proc.returncode not in ok:
            raise RuntimeError(
                f"offload {args[0]} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-2000:]}"
            )
        return proc.returncode, proc.stdout

    def plan(self, run_id: str, as_of: str | None = None, databases: list[str] | None = None) -> dict:
        args = ["run", "--dry-run", "--format", "json", "--quiet", "--configs", self.configs]
        args += ["--state", self.state, "--warehouse", self.warehouse, "--run-id", run_id]
        if as_of:
            args += ["--as-of", as_of]
        if databases:
            args += ["--database", *databases]
        # Exit 1: some database or table could not be evaluated; the rest is planned and listed.
        _, out = self._offload(args, ok=(0, 1))
        summary = json.loads(out)
        # Kept as `offload run` keeps them (<state>/runs/<run>.units.json): `offload report` takes the configs'
        # commit, the as-of date and dropped sources' sizes from them.
        units_file = os.path.join(self.state, "runs", f"{summary['run_id']}.units.json")
        os.makedirs(os.path.dirname(units_file), exist_ok=True)
        with open(f"{units_file}.tmp", "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "run_id": summary["run_id"], "units": summary["units"]}, fh)
        os.replace(f"{units_file}.tmp", units_file)
        return {
            "run_id": summary["run_id"],
            "units": [{"unit": u, "location": None} for u in summary["units"]],
            "problems": summary.get("problems", []),
        }

    def report(self, run_id: str) -> dict:
        if not any(run_id == t.get("run_id") for e in self.ledger.list() for t in e.get("history", [])):
            # Nothing this run did reached the ledger (e.g. every purge refused): nothing to render.
            return {"status": "no_op", "files": {}, "failed": False}
        code, out = self._offload(
            ["report", run_id, "--state", self.state, "--warehouse", self.warehouse, "--format", "json"], ok=(0, 1)
        )
        report = json.loads(out)
        base = os.path.join(self.state, "reports", run_id)
        return {
            "status": report.get("status"),
            "files": {"json": f"{base}.json", "markdown": f"{base}.md", "html": f"{base}.html"},
            "failed": code != 0,
        }

    # ---- the data plane -----------------------------------------------------------------------
    def run_job(self, unit: dict, location: str | None = None, validation_record: dict | None = None) -> JobResult:
        action = unit["action"]
        script = JOB_SCRIPTS.get(action)
        if script is None:
            return JobResult(2, None, {"code": "not_built", "message": f"no job runs {action} units yet"})
        units_dir = os.path.join(self.state, "work-units", _file_safe(unit["run_id"]))
        logs_dir = os.path.join(self.state, "runs", _file_safe(unit["run_id"]))
        os.makedirs(units_dir, exist_ok=True)
        os.makedirs(logs_dir, exist_ok=True)
        name = _file_safe(f"{label_of(unit)}.{action}")
        unit_file = os.path.join(units_dir, f"{name}.json")
        with open(f"{unit_file}.tmp", "w", encoding="utf-8") as fh:
            json.dump(unit, fh, indent=1)
        os.replace(f"{unit_file}.tmp", unit_file)
        args = [self.python, os.path.join(config.TOOLKIT, "glue", script), "--work_unit", unit_file]
        args += ["--warehouse", self.warehouse, "--catalog_type", "hadoop"]
        args += ["--log_file", os.path.join(logs_dir, f"{name}.log")]
        if action == "validate":
            args += ["--result_path", os.path.join(self.state, "results")]
        if action == "purge":
            args += ["--audit_path", os.path.join(self.state, "audit")]
        if action == "cleanup_source":
            args += ["--result_path", os.path.join(self.state, "results")]
            if validation_record is not None:  # the ledger's validation, where `offload run` puts it
                cleanup_dir = os.path.join(self.state, "cleanup")
                os.makedirs(cleanup_dir, exist_ok=True)
                archive = f"{unit['archive']['namespace']}.{unit['archive']['table']}"
                record_file = os.path.join(cleanup_dir, f"{archive}.{_file_safe(unit['run_id'])}.validation.json")
                with open(f"{record_file}.tmp", "w", encoding="utf-8") as fh:
                    json.dump(validation_record, fh, indent=1)
                os.replace(f"{record_file}.tmp", record_file)
                args += ["--validation_record", record_file]
        try:
            proc = subprocess.run(
                args, cwd=self.state, capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}, check=False
            )
        except OSError as exc:
            return JobResult(2, None, {"code": "python_missing", "message": f"{self.python}: {exc}"})
        summary = _last_json(proc.stdout)
        if proc.returncode < 0 or (proc.returncode > 3):  # killed by a signal: the outcome is unknown
            return JobResult(4, summary, {"code": "job_outcome_unknown", "message": f"the job ended {proc.returncode}"})
        error = None
        if summary is None:
            error = {"code": f"exit_{proc.returncode}", "message": (proc.stderr or "").strip()[-500:]}
        return JobResult(proc.returncode, summary, error)
