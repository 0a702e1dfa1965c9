"""The DAG files parse without import errors and without work at parse time: they are parsed in a
fresh interpreter where opening a network connection, starting a process and reaching the metadata
database all fail, and each file's parse time is measured. Their ids come from the settings file
(a copy with other ids is used, so a hard-coded id would show), and each DAG has doc_md, tags,
retries with exponential backoff, per-table mapped tasks named by a map_index_template, a limit on
concurrent reads, and a report that runs whatever happened (all_done)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml
from conftest import DAGS, TOOLKIT

PROBE = r"""
import json, os, socket, subprocess, sys, time

def refuse(what):
    def _refuse(*a, **k):
        raise RuntimeError(f"{what} at parse time")
    return _refuse

socket.socket.connect = refuse("a network connection")
socket.create_connection = refuse("a network connection")
subprocess.Popen.__init__ = refuse("a subprocess")
os.system = refuse("a shell command")

from airflow.dag_processing.dagbag import DagBag

t0 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
elapsed = time.perf_counter() - t0
out = {"errors": {k: v[-400:] for k, v in bag.import_errors.items()}, "seconds": elapsed,
       "files": {os.path.basename(s.file): getattr(s.duration, "total_seconds", lambda: s.duration)()
                 for s in bag.dagbag_stats},
       "dags": {}}
for dag in bag.dags.values():
    tasks = {}
    for t in dag.tasks:
        partial = getattr(t, "partial_kwargs", {}) or {}
        tasks[t.task_id] = {
            "mapped": "MappedOperator" in t.__class__.__name__ or t.get_closest_mapped_task_group() is not None,
            "map_index_template": partial.get("map_index_template") or getattr(t, "map_index_template", None),
            "max_active_tis_per_dagrun": getattr(t, "max_active_tis_per_dagrun", None),
            "retries": t.retries,
            "backoff": t.retry_exponential_backoff,
            "trigger_rule": getattr(t.trigger_rule, "value", str(t.trigger_rule)),
        }
    out["dags"][dag.dag_id] = {"tags": sorted(dag.tags), "doc_md": dag.doc_md or "", "tasks": tasks,
                               "max_active_runs": dag.max_active_runs}
print("PROBE " + json.dumps(out))
"""


def _parse(root: str, extra_env: dict | None = None) -> dict:
    env = {
        **os.environ,
        "AIRFLOW__OFFLOAD__ROOT": root,
        # Any metadata-database access at parse time fails: the database does not exist and cannot.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:////nonexistent-offload-dir/airflow.db",
        **(extra_env or {}),
    }
    env.pop("AIRFLOW__OFFLOAD__SETTINGS", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, DAGS], capture_output=True, text=True, env=env, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, f"the probe did not finish: {proc.stderr[-3000:]}"
    return json.loads(line[6:])


def test_dags_parse_without_work_and_carry_their_settings(tmp_path):
    with open(os.path.join(TOOLKIT, "offload.settings.yaml"), encoding="utf-8") as fh:
        settings = yaml.safe_load(fh)
    settings["dags"] = {"archival": "acme_archive_probe", "purge": "acme_purge_probe"}
    (tmp_path / "offload.settings.yaml").write_text(yaml.safe_dump(settings))
    out = _parse(str(tmp_path), {"AIRFLOW__OFFLOAD__MAX_PARALLEL_READS": "3"})
    assert out["errors"] == {}
    assert set(out["dags"]) == {"acme_archive_probe", "acme_purge_probe"}
    for name, seconds in out["files"].items():
        assert seconds < 5, f"{name} took {seconds:.2f} s to parse"
    archival, purge = out["dags"]["acme_archive_probe"], out["dags"]["acme_purge_probe"]
    for dag in (archival, purge):
        assert "offload" in dag["tags"] and len(dag["doc_md"]) > 200
        assert dag["max_active_runs"] == 1
        for task in dag["tasks"].values():
            # Airflow 3 keeps a mapped task's backoff as its multiplier (True is 2.0).
            assert task["retries"] >= 1 and (task["backoff"] is True or float(task["backoff"]) >= 2), task
        assert dag["tasks"]["report"]["trigger_rule"] == "all_done"
    per_table = {
        "table.archive": archival,
        "table.validate": archival,
        "table.cleanup_source": archival,
        "purge": purge,
    }
    for task_id, dag in per_table.items():
        t = dag["tasks"][task_id]
        assert t["mapped"], task_id
        assert t["map_index_template"] == "{{ table_label }}", task_id
        assert t["max_active_tis_per_dagrun"] == 3, task_id
    assert not archival["tasks"]["plan"]["mapped"]


def test_the_toolkit_settings_name_the_dags():
    with open(os.path.join(TOOLKIT, "offload.settings.yaml"), encoding="utf-8") as fh:
        settings = yaml.safe_load(fh)
    out = _parse(TOOLKIT)
    assert out["errors"] == {}
    assert set(out["dags"]) == {settings["dags"]["archival"], settings["dags"]["purge"]}


def test_a_missing_settings_file_is_an_import_error_naming_it(tmp_path):
    out = _parse(str(tmp_path))
    assert out["dags"] == {}
    assert out["errors"] and all("offload.settings.yaml is missing" in e for e in out["errors"].values())
