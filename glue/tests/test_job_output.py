"""What a user sees: each job's --help describes every option, with the descriptions glue/README.md
documents; a run prints only its JSON summary, while Spark's and the JVM's output goes to the log
file (or to the terminal with --verbose)."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import pg_exec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What each job must offer (independent of the code: the README's contract and the list).
EXPECTED = {
    "archive": {
        "required": {"source_schema", "source_table", "run_id", "warehouse"},
        "optional": {"catalog", "catalog_type", "archive_database", "archive_table", "source_engine", "source_host"}
        | {"source_port", "source_database", "source_user", "source_password_env", "connection_name", "secret_id"}
        | {"config_commit", "policy", "split_column", "lower_bound", "upper_bound", "num_partitions", "fetch_size"}
        | {"partition_spec", "retention_until", "force_reason", "read_path", "log_file", "verbose", "legal_hold"},
    },
    "validate": {
        "required": {"source_schema", "source_table", "warehouse"},
        "optional": {"run_id", "archive_table", "sample_percent", "max_reported_keys", "result_path", "log_file"}
        | {"verbose", "source_engine", "source_host", "source_password_env", "secret_id", "connection_name"},
    },
    "purge": {
        "required": {"archive_table", "warehouse", "legal_hold"},
        "optional": {"as_of", "retention_until", "force_reason", "run_id", "audit_path", "log_file"}
        | {"verbose", "catalog", "catalog_type", "archive_database"},
    },
}


def job_help(job: str) -> dict[str, str]:
    """option -> its description in ``<job>_table.py --help`` (wrapped lines joined)."""
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "glue", f"{job}_table.py"), "--help"],
        capture_output=True,
        text=True,
        env=dict(os.environ, COLUMNS="1000"),  # no wrapping
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    opts, current = {}, None
    section = proc.stdout.split("options:\n", 1)[1].split("\n\n")[0]
    for line in section.splitlines():
        m = re.match(r"^  (?:-h, )?--(\w+)(?: \S+)?(?:\s{2,}(.*))?$", line)
        if m:
            current = m.group(1)
            opts[current] = (m.group(2) or "").strip()
        elif current:
            opts[current] = (opts[current] + " " + line.strip()).strip()
    opts.pop("help", None)
    opts.pop("JOB_NAME", None)
    return opts


def readme_options() -> dict[str, list[str]]:
    """option -> [archive, validate, purge, description] from glue/README.md's option table."""
    text = open(os.path.join(ROOT, "glue", "README.md"), encoding="utf-8").read()
    rows = re.findall(r"^\| `--(\w+)` \| (\w+|–) \| (\w+|–) \| (\w+|–) \| (.+) \|$", text, re.M)
    return {r[0]: list(r[1:]) for r in rows}


@pytest.mark.parametrize("job", ["archive", "validate", "purge"])
def test_help_describes_every_option_as_the_readme_does(job):
    helps = job_help(job)
    readme = readme_options()
    column = ["archive", "validate", "purge"].index(job)
    required = {n for n, h in helps.items() if h.endswith("(required)")}
    assert required == EXPECTED[job]["required"]
    assert EXPECTED[job]["optional"] <= set(helps) - required
    for name, text in helps.items():
        description = text.removesuffix("(required)").strip()
        assert len(description) > 10, f"--{name} has no description in {job} --help"
        assert name in readme, f"--{name} is missing from glue/README.md's option table"
        assert readme[name][3] == description, name
        expected_cell = "required" if name in required else ("source", "optional")
        assert readme[name][column] in expected_cell, (name, readme[name][column])
    for name, row in readme.items():  # and the README claims no option the job lacks
        assert (row[column] == "–") == (name not in helps), (job, name)


def test_terminal_shows_only_the_summary_and_the_log_holds_spark_output(tmp_path, pg_db, pg_connection, pg_schema):
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".t (id int PRIMARY KEY, v text)')
    pg_exec(pg_db, f"INSERT INTO \"{pg_schema}\".t SELECT g, 'v' || g FROM generate_series(1, 20) g")
    env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC")
    source = [
        "--source_engine",
        "postgres",
        "--source_host",
        pg_connection.host,
        "--source_port",
        str(pg_connection.port),
        "--source_database",
        pg_connection.database,
        "--source_user",
        pg_connection.user,
        "--source_schema",
        pg_schema,
        "--source_table",
        "t",
        "--warehouse",
        str(tmp_path / "warehouse"),
        "--archive_database",
        "output_test",
    ]

    def job(name, *extra):
        return subprocess.run(
            [sys.executable, os.path.join(ROOT, "glue", f"{name}_table.py"), "--JOB_NAME", "t", *source, *extra],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(tmp_path),  # the default log directory is relative to it
            timeout=300,
        )

    archived = job("archive", "--run_id", "r1")
    assert archived.returncode == 0, archived.stdout + archived.stderr
    summary = json.loads(archived.stdout)  # the whole of stdout is the summary
    assert summary["status"] == "archived" and summary["rows"] == 20
    assert archived.stderr == ""
    logs = glob.glob(str(tmp_path / ".offload" / "logs" / "archive-*.log"))
    assert logs == [summary["log_file"]]
    log_text = open(logs[0], encoding="utf-8").read()
    assert "WARN" in log_text  # Spark's start-up warnings went there
    # the run's split (offload_glue/timings.py): every phase of an archive, in order, adding up to the total
    split = json.loads(log_text[log_text.rindex("timings: ") + len("timings: ") :].splitlines()[0])
    phases = [k for k in split if k != "total"]
    assert phases == [
        "python", "imports", "arguments", "jvm", "spark_session", "catalog_conf", "source_metadata",
        "archive_metadata", "plan", "read_write_commit", "row_count_property", "summary",
    ]  # fmt: skip
    assert all(split[k] >= 0 for k in phases) and split["jvm"] > 0 and split["read_write_commit"] > 0
    assert abs(sum(split[k] for k in phases) - split["total"]) < 0.05
    assert "timings:" not in archived.stdout + archived.stderr  # the terminal keeps only the summary

    # the validation without Spark (validate_arrow.py): no JVM, so nothing but the summary and no log file
    quiet = job("validate")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stdout + quiet.stderr
    assert json.loads(quiet.stdout)["engine"] == "arrow"
    verbose = job("validate", "--verbose", "--validation_engine", "spark")
    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    result = json.loads(verbose.stdout)
    assert result["status"] == "passed" and "log_file" not in result and result["engine"] == "spark"
    assert "WARN" in verbose.stderr  # with --verbose, Spark's output stays on the terminal
    assert len(glob.glob(str(tmp_path / ".offload" / "logs" / "*.log"))) == 1
