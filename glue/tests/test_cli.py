"""The thin shell: Glue-style arguments, connection resolution without credentials on the command
line, exit codes, and the split of a table into JDBC range partitions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from offload_glue import cli
from offload_glue.archive import split_predicates
from offload_glue.errors import OffloadError


def test_glue_style_arguments_with_defaults():
    args = cli.resolve_args(
        [
            "job.py",
            "--JOB_NAME",
            "j",
            "--source_schema",
            "s",
            "--source_table",
            "t",
            "--run_id",
            "r",
            "--warehouse",
            "/w",
            "--job-bookmark-option",
            "job-bookmark-disable",
        ],
        ["source_schema", "source_table", "run_id"],
        cli.COMMON + ["policy"],
    )
    assert args["source_table"] == "t" and args["catalog"] == "offload" and args["catalog_type"] == "hadoop"
    assert args["archive_database"] == "archive" and "policy" not in args


def test_missing_required_argument_is_an_error():
    with pytest.raises(OffloadError, match="missing --source_table") as err:
        cli.resolve_args(["job.py", "--source_schema", "s"], ["source_schema", "source_table"], [])
    assert err.value.code == "missing_arguments"


def test_password_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("MY_SECRET", "pw")
    conn = cli.source_connection(
        {
            "source_engine": "postgres",
            "source_host": "h",
            "source_database": "d",
            "source_user": "u",
            "source_password_env": "MY_SECRET",
        }
    )
    assert (conn.engine, conn.port, conn.password) == ("postgresql", 5432, "pw")
    assert "pw" not in json.dumps(conn.public())
    with pytest.raises(OffloadError, match="source_host"):
        cli.source_connection(
            {"source_engine": "mysql", "source_database": "d", "source_user": "u", "source_password_env": "X"}
        )


def test_jdbc_urls_of_glue_connections_are_parsed():
    assert cli.parse_jdbc_url("jdbc:postgresql://db.example:6543/sales") == ("postgresql", "db.example", 6543, "sales")
    assert cli.parse_jdbc_url("jdbc:mysql://db.example/erp?useSSL=true") == ("mysql", "db.example", 3306, "erp")


def test_run_maps_outcomes_to_exit_codes(capsys):
    for outcome, code in [(lambda: ({"status": "passed"}, 0), 0), (lambda: ({"status": "failed"}, 1), 1)]:
        with pytest.raises(SystemExit) as exit_:
            cli.run(outcome)
        assert exit_.value.code == code

    def refuse():
        raise OffloadError("purge_refused", "no")

    with pytest.raises(SystemExit) as exit_:
        cli.run(refuse)
    assert exit_.value.code == 2
    assert json.loads(capsys.readouterr().out.split("\n}\n")[-2] + "\n}")["error"]["code"] == "purge_refused"


@pytest.mark.parametrize("lo,hi,n", [(1, 100, 4), (1, 3, 8), (-50, 50, 3), (7, 7, 4)])
def test_split_predicates_cover_every_value_once(lo, hi, n):
    import sqlite3

    preds = split_predicates("x", lo, hi, n)
    assert 1 <= len(preds) <= n
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE v (x INTEGER)")
    db.executemany("INSERT INTO v VALUES (?)", [(None,)] + [(i,) for i in range(lo - 5, hi + 6)])
    hits = [row for p in preds for row in db.execute(f"SELECT x FROM v WHERE {p}")]
    assert sorted(hits, key=lambda r: (r[0] is not None, r[0] or 0)) == [(None,)] + [
        (i,) for i in range(lo - 5, hi + 6)
    ]


def test_a_bug_exits_3_with_one_line_and_an_ordinary_mistake_says_what_to_do(capsys):
    def bug():
        raise RuntimeError("boom\n\tat org.example.Thing.run(Thing.java:1)")

    with pytest.raises(SystemExit) as exit_:
        cli.run(bug)
    assert exit_.value.code == 3
    out = capsys.readouterr()
    error = json.loads(out.out)["error"]
    assert error == {"code": "bug", "message": "this is a bug: RuntimeError: boom"}
    assert "at org.example" not in out.out  # the trace went to stderr (the log file when there is one)

    def missing():
        raise OffloadError("archive_not_found", "archive table archive.s__t does not exist")

    with pytest.raises(SystemExit) as exit_:
        cli.run(missing)
    out = capsys.readouterr()
    assert exit_.value.code == 2
    assert "hint" in json.loads(out.out)["error"]
    assert out.err.startswith(f"{cli._job()}: error archive_not_found: archive table archive.s__t does not exist")


GLUE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def run_job(job: str, *args: str, tmp_path) -> tuple[int, dict]:
    """Run a job file as a user would; a bad argument must be refused before Spark starts."""
    proc = subprocess.run(
        [sys.executable, os.path.join(GLUE, job), "--warehouse", str(tmp_path / "wh"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OFFLOAD_SOURCE_PASSWORD": "x"},
    )
    out = proc.stdout
    return proc.returncode, json.loads(out[out.index("{") :]) if "{" in out else {}


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "True", "FALSE", "on", "", " true"])
@pytest.mark.parametrize(
    "job,argument",
    [
        ("purge_table.py", "legal_hold"),
        ("archive_table.py", "legal_hold"),
        ("hold_table.py", "legal_hold"),
        ("cleanup_source.py", "legal_hold"),
        ("cleanup_source.py", "dry_run"),
    ],
)
def test_boolean_arguments_accept_only_true_or_false(tmp_path, job, argument, value):
    source = ["--source_schema", "s", "--source_table", "t", "--source_engine", "postgresql"]
    args = {
        "archive_table.py": [*source, "--run_id", "r"],
        "cleanup_source.py": [*source, "--phase", "quarantine", "--cleanup_user", "c"],
    }.get(job, ["--archive_table", "t"])
    if argument != "legal_hold":
        args += ["--legal_hold", "false"]
    code, summary = run_job(job, *args, f"--{argument}", value, tmp_path=tmp_path)
    assert code == 2, summary
    assert summary["error"]["code"] == "bad_argument" and summary["error"]["argument"] == argument
    assert f"--{argument}" in summary["error"]["message"] and "true or false" in summary["error"]["message"]


def test_purge_requires_the_current_configs_legal_hold(tmp_path):
    code, summary = run_job("purge_table.py", "--archive_table", "t", tmp_path=tmp_path)
    assert code == 2 and summary["error"]["code"] == "missing_arguments"
    assert "--legal_hold" in summary["error"]["message"]


@pytest.mark.parametrize("value,expected", [("true", True), ("false", False), (None, None)])
def test_boolean_arg_values(value, expected):
    args = {} if value is None else {"legal_hold": value}
    assert cli.boolean_arg(args, "legal_hold") is expected
    if value is None:
        with pytest.raises(OffloadError, match="--legal_hold"):
            cli.boolean_arg(args, "legal_hold", required=True)
