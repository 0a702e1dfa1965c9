"""Ordinary mistakes, run as a user would (the job files as subprocesses, against the live servers):
each exits 2 with a JSON summary on stdout whose error code and message say what to do, a one-line
message on stderr, and no stack trace (Python or Java) on the terminal — traces go to the log file the
summary names."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid

import pytest
from conftest import my_exec, pg_exec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PASSWORD_ENV = "OFFLOAD_TEST_JOB_PASSWORD"
TRACE = re.compile(r"Traceback \(most recent call last\)|^\s*at (org|java|com|scala|sun|jdk)\.|\bat org\.", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_aws_env() -> dict:
    """The environment without any AWS credentials (nor a metadata service to ask)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        AWS_CONFIG_FILE="/nonexistent/config",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_job(job: str, args: list[str], env: dict, cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "glue", f"{job}_table.py"), "--JOB_NAME", "t", *args],
        capture_output=True,
        text=True,
        env=dict(env, TZ="UTC"),
        cwd=cwd,
        timeout=300,
    )


def source_args(engine: str, host: str, port: int, database: str, user: str, schema: str, table: str) -> list[str]:
    return [
        "--source_engine",
        engine,
        "--source_host",
        host,
        "--source_port",
        str(port),
        "--source_database",
        database,
        "--source_user",
        user,
        "--source_password_env",
        PASSWORD_ENV,
        "--source_schema",
        schema,
        "--source_table",
        table,
    ]


def work_unit(engine: str, conn, schema: str, namespace: str) -> dict:
    return {
        "format": 1,
        "id": f"archive:unitdb.{schema}__t@r1",
        "action": "archive",
        "run_id": "r1",
        "config_commit": "abc",
        "as_of": "2026-12-02T00:00:00.000Z",
        "database": "unitdb",
        "source": {
            "engine": "postgres" if engine == "postgresql" else "mariadb",
            "host": conn.host,
            "port": conn.port,
            "database": conn.database,
            "schema": schema,
            "table": "t",
            "credentials": {"name": "unitdb", "sources": [{"kind": "env", "prefix": "OFFLOAD_DB_UNITDB_"}]},
        },
        "archive": {
            "catalog": "offload",
            "namespace": namespace,
            "table": f"{schema}__t",
            "location": f"/tmp/{namespace}/",
            "partition_spec": [],
            "run_id": None,
            "snapshot_id": None,
        },
        "policy": {
            "name": "monthly",
            "retention_end": "2027-01-31",
            "legal_hold": {"enabled": False},
            "source_action": "keep",
            "grace_period": None,
        },
        "validation": {
            "row_count": True,
            "aggregates": True,
            "row_hash": "full",
            "sample_percent": 100,
            "max_reported_mismatches": 5,
        },
        "decision": {"reason": "due", "table_date": "2020-01-31T00:00:00.000Z", "rows": 1, "bytes": 2},
    }


# Each case: (id, engine, job, how the arguments differ from a correct run, expected code, words of the advice).
# ``s`` is a dict with the correct settings, built in the test; a case returns (args, env changes).
CASES = [
    (
        "pg-wrong-password",
        "postgresql",
        "archive",
        lambda s: (s["args"](), {PASSWORD_ENV: "wrong-" + uuid.uuid4().hex}),
        "source_auth_failed",
        lambda s: [f"user '{s['user']}'", PASSWORD_ENV, "--source_user"],
    ),
    (  # the validation tries its path without Spark first: the error is still the one the user can act on
        "pg-validate-wrong-password",
        "postgresql",
        "validate",
        lambda s: (s["args"](), {PASSWORD_ENV: "wrong-" + uuid.uuid4().hex}),
        "source_auth_failed",
        lambda s: [f"user '{s['user']}'", PASSWORD_ENV, "--source_user"],
    ),
    (
        "pg-password-not-set",
        "postgresql",
        "archive",
        lambda s: (s["args"](), {PASSWORD_ENV: None}),
        "source_auth_failed",
        lambda s: [f"{PASSWORD_ENV} (named by --source_password_env) is not set"],
    ),
    (
        "pg-unreachable-port",
        "postgresql",
        "validate",
        lambda s: (s["args"](port=s["closed_port"]), {}),
        "source_unreachable",
        lambda s: [f"127.0.0.1:{s['closed_port']}", "--source_host and --source_port"],
    ),
    (
        "pg-database-missing",
        "postgresql",
        "archive",
        lambda s: (s["args"](database="nodb_" + s["schema"]), {}),
        "source_database_not_found",
        lambda s: [f"'nodb_{s['schema']}' does not exist", "--source_database"],
    ),
    (
        "pg-source-table-missing",
        "postgresql",
        "archive",
        lambda s: (s["args"](table="no_such_table"), {}),
        "source_table_not_found",
        lambda s: ["no_such_table", "--source_schema and --source_table"],
    ),
    (
        "pg-archive-missing",
        "postgresql",
        "validate",
        lambda s: (s["args"](), {}),
        "archive_not_found",
        lambda s: [f"{s['archive_db']}.{s['schema']}__t", "archive_table.py", "--run_id"],
    ),
    (
        "mariadb-wrong-password",
        "mysql",
        "archive",
        lambda s: (s["args"](), {PASSWORD_ENV: "wrong-" + uuid.uuid4().hex}),
        "source_auth_failed",
        lambda s: [f"user '{s['user']}'", PASSWORD_ENV],
    ),
    (
        "mariadb-unreachable-port",
        "mysql",
        "archive",
        lambda s: (s["args"](port=s["closed_port"]), {}),
        "source_unreachable",
        lambda s: [f"127.0.0.1:{s['closed_port']}", "--source_port"],
    ),
    (
        "mariadb-database-missing",
        "mysql",
        "validate",
        lambda s: (s["args"](database="nodb_" + s["schema"]), {}),
        "source_database_not_found",
        lambda s: [f"'nodb_{s['schema']}' does not exist", "--source_database"],
    ),
    (
        "pg-permission-denied",
        "postgresql",
        "archive",
        lambda s: (s["args"](user=s["restricted_user"]()), {PASSWORD_ENV: "restricted-pw"}),
        "source_permission_denied",
        lambda s: [f"{s['schema']}.t", "grant it SELECT"],
    ),
    (
        "mariadb-permission-denied",
        "mysql",
        "validate",
        lambda s: (s["args"](user=s["restricted_user"]()), {PASSWORD_ENV: "restricted-pw"}),
        "source_permission_denied",
        lambda s: [f"user '{s['restricted']}' may not read {s['schema']}.t", "grant it SELECT"],
    ),
    (
        "work-unit-wrong-password",
        "postgresql",
        "archive",
        lambda s: (
            s["base"] + ["--work_unit", s["unit"]()],
            {"OFFLOAD_DB_UNITDB_USER": s["user"], "OFFLOAD_DB_UNITDB_PASSWORD": "wrong-" + uuid.uuid4().hex},
        ),
        "source_auth_failed",
        lambda s: ["work unit finds for database 'unitdb'", "OFFLOAD_DB_", f"at {s['address']}"],
    ),
    (
        "purge-archive-missing",
        "postgresql",
        "purge",
        lambda s: (s["base"] + ["--archive_table", "nothing_here", "--legal_hold", "false"], {}),
        "archive_not_found",
        lambda s: [f"{s['archive_db']}.nothing_here", "nothing to purge", "--archive_table"],
    ),
    (
        "glue-catalog-aws-unreachable",
        "postgresql",
        "purge",
        lambda s: (
            s["base"]
            + ["--archive_table", "x", "--legal_hold", "false", "--catalog_type", "glue", "--warehouse", "s3://b/w"],
            {
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s['closed_port']}",
            },
        ),
        "aws_unreachable",
        lambda s: ["cannot reach AWS", "AWS_ENDPOINT_URL", "--catalog_type hadoop"],
    ),
    # no JVM needed below: refused while the arguments are read
    (
        "glue-catalog-without-aws",
        "postgresql",
        "archive",
        lambda s: (s["args"]() + ["--catalog_type", "glue"], "no-aws"),
        "glue_only_option",
        lambda s: ["--catalog_type glue needs AWS", "AWS_PROFILE", "--catalog_type hadoop"],
    ),
    (
        "secret-without-aws",
        "postgresql",
        "validate",
        lambda s: (s["args"]() + ["--secret_id", "prod/db"], "no-aws"),
        "glue_only_option",
        lambda s: ["--secret_id needs AWS", "AWS_ACCESS_KEY_ID"],
    ),
    (
        "connection-name-without-aws",
        "postgresql",
        "archive",
        lambda s: (s["args"]() + ["--connection_name", "prod-pg"], "no-aws"),
        "glue_only_option",
        lambda s: ["--connection_name needs AWS", "AWS_PROFILE", "--source_* options"],
    ),
    (
        "unknown-argument",
        "postgresql",
        "archive",
        lambda s: (
            s["args"]()
            + [
                "--job-bookmark-option",
                "job-bookmark-disable",
                "--TempDir",
                "s3://t/",
                "--enable-metrics",
                "true",
                "--retention_untill",
                "2030-01-01",
            ],
            {},
        ),
        "unknown_argument",
        lambda s: ["--retention_untill (did you mean --retention_until?)", "--help"],
    ),
    (
        "missing-required",
        "postgresql",
        "archive",
        lambda s: ([a for a in s["args"]() if a not in ("--source_table", "t")], {}),
        "missing_arguments",
        lambda s: ["missing --source_table", "--help"],
    ),
    (
        "bad-value",
        "postgresql",
        "archive",
        lambda s: (s["args"]() + ["--num_partitions", "four"], {}),
        "bad_argument",
        lambda s: ["--num_partitions 'four' must be an integer"],
    ),
]


@pytest.mark.parametrize("name,engine,job,change,code,advice", CASES, ids=[c[0] for c in CASES])
def test_ordinary_mistakes_exit_2_with_advice_and_no_trace(
    request, tmp_path, pg_db, pg_connection, my_db, my_connection, name, engine, job, change, code, advice
):
    if engine == "postgresql":
        conn, schema = pg_connection, request.getfixturevalue("pg_schema")
        pg_exec(pg_db, f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, v text)')
    else:
        conn, schema = my_connection, request.getfixturevalue("my_schema")
        my_exec(my_db, f"CREATE TABLE `{schema}`.t (id int PRIMARY KEY, v text)")
    archive_db = "errors_" + uuid.uuid4().hex[:8]
    log_file = str(tmp_path / "logs" / f"{name}.log")
    base = ["--warehouse", str(tmp_path / "warehouse"), "--archive_database", archive_db, "--log_file", log_file]
    s = {
        "schema": schema,
        "user": conn.user,
        "archive_db": archive_db,
        "closed_port": free_port(),
        "base": base,
        "restricted": "offload_r_" + uuid.uuid4().hex[:8],
        "args": lambda port=None, database=None, table="t", user=None: (
            base
            + source_args(
                engine, conn.host, port or conn.port, database or conn.database, user or conn.user, schema, table
            )
            + (["--run_id", "r1"] if job == "archive" else [])
        ),
    }

    def restricted_user() -> str:
        """A login with no privilege on the test's table (dropped after the test)."""
        name = s["restricted"]
        if engine == "postgresql":
            pg_exec(pg_db, f"CREATE ROLE {name} LOGIN PASSWORD 'restricted-pw'")
            request.addfinalizer(lambda: pg_exec(pg_db, f"DROP ROLE {name}"))
        else:
            my_exec(my_db, f"CREATE USER '{name}'@'%' IDENTIFIED BY 'restricted-pw'")
            request.addfinalizer(lambda: my_exec(my_db, f"DROP USER '{name}'@'%'"))
        return name

    def unit() -> str:
        """A work unit (schema/work-unit.schema.json) for the test's table, credentials from OFFLOAD_DB_UNITDB_*."""
        path = tmp_path / "unit.json"
        path.write_text(json.dumps(work_unit(engine, conn, schema, archive_db)), encoding="utf-8")
        return str(path)

    s["restricted_user"] = restricted_user
    s["unit"] = unit
    s["address"] = f"{conn.host}:{conn.port}"
    args, env_change = change(s)
    env = no_aws_env() if env_change == "no-aws" else dict(os.environ)
    env[PASSWORD_ENV] = conn.password
    for k, v in ({} if env_change == "no-aws" else env_change).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v

    proc = run_job(job, args, env, str(tmp_path))

    assert proc.returncode == 2, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)  # stdout is the JSON summary and nothing else
    assert summary["status"] == "error" and summary["error"]["code"] == code, summary
    told = summary["error"]["message"] + " " + summary["error"].get("hint", "")
    for words in advice(s):
        assert words in told, (words, told)
    assert "this is a bug" not in proc.stdout + proc.stderr
    assert not TRACE.search(proc.stdout) and not TRACE.search(proc.stderr), proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"{job}: error {code}: "), proc.stderr
    if "log_file" in summary:  # the JVM started: its output and the trace are in the log, which is named
        assert summary["log_file"] == log_file and f"details: {log_file}" in proc.stderr
        log = open(log_file, encoding="utf-8").read()
        assert "WARN" in log  # Spark's own output went there, not to the terminal
        if code.startswith("source_") and code != "source_table_not_found":
            assert summary["error"].get("cause"), summary  # the driver's exception behind it
        if summary["error"].get("cause"):  # from a driver/Iceberg exception: its full trace is in the log
            exception = summary["error"]["cause"].split(":")[0]
            assert "Traceback (most recent call last)" in log and exception in log
