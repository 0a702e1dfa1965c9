"""Credentials as on Glue, end to end against the live databases and the moto server: the --secret_id
path (a Secrets Manager secret with username, password, host, port, dbname, engine) and the
--connection_name path (a Glue connection as `offload sync` writes it: JDBC_CONNECTION_URL + SECRET_ID).
The password — unique to this test — never appears in any file, log line, table property, Spark event
log (plans included) or S3 object the runs leave behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from conftest import pg_exec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def secret_password() -> str:
    return f"pw-{uuid.uuid4().hex}"


def run_job(job: str, args: list[str], cwd: Path, events: Path) -> tuple[int, dict, str, str]:
    env = {**os.environ, "TZ": "UTC"}
    env["PYSPARK_SUBMIT_ARGS"] = (
        f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir=file://{events} pyspark-shell"
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "glue" / job), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout.strip()
    summary = json.loads(out[out.find("{") :]) if "{" in out else {}
    return proc.returncode, summary, proc.stdout, proc.stderr


def files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


def s3_objects_containing(bucket: str, needle: bytes) -> list[str]:
    s3 = boto3.client("s3")
    hits = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            if needle in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read():
                hits.append(o["Key"])
    return hits


def test_secret_and_connection_paths_on_postgresql(
    glue_catalog, pg_db, pg_connection, pg_schema, secret_password, tmp_path
):
    role = f"glue_cred_{uuid.uuid4().hex[:8]}"
    table = "txn_202004"
    pg_exec(pg_db, f"CREATE ROLE {role} LOGIN PASSWORD '{secret_password}'")
    try:
        pg_exec(
            pg_db, f'CREATE TABLE "{pg_schema}"."{table}" AS SELECT g AS id, g * 2 AS v FROM generate_series(1, 300) g'
        )
        pg_exec(pg_db, f'ALTER TABLE "{pg_schema}"."{table}" ADD PRIMARY KEY (id)')
        pg_exec(
            pg_db,
            f'GRANT USAGE ON SCHEMA "{pg_schema}" TO {role}; '
            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{pg_schema}" TO {role}',
        )
        c = pg_connection
        secret_id = f"offload/{role}"
        boto3.client("secretsmanager").create_secret(
            Name=secret_id,
            SecretString=json.dumps(
                {"username": role, "password": secret_password, "host": c.host, "port": c.port,
                 "dbname": c.database, "engine": "postgres"}
            ),
        )  # fmt: skip
        boto3.client("glue").create_connection(
            ConnectionInput={
                "Name": role,
                "ConnectionType": "JDBC",
                "ConnectionProperties": {
                    "JDBC_CONNECTION_URL": f"jdbc:postgresql://{c.host}:{c.port}/{c.database}",
                    "SECRET_ID": secret_id,
                },
            }
        )
        events = tmp_path / "events"
        events.mkdir()
        common = ["--source_schema", pg_schema, "--source_table", table, "--catalog", "offload_glue",
                  "--catalog_type", "glue", "--warehouse", glue_catalog["warehouse"],
                  "--archive_database", "creds"]  # fmt: skip
        code, summary, out, err = run_job(
            "archive_table.py", [*common, "--secret_id", secret_id, "--run_id", "s-1"], tmp_path, events
        )
        assert code == 0, (summary, err[-3000:])
        assert summary["rows"] == 300 and summary["source"]["host"] == c.host
        code, result, out2, err2 = run_job("validate_table.py", [*common, "--connection_name", role], tmp_path, events)
        assert code == 0 and result["status"] == "passed", (result, err2[-3000:])

        needle = secret_password.encode()
        assert needle not in (out + err + out2 + err2).encode(), "the password is printed"
        assert files_containing(tmp_path, needle) == [], "the password is in a file (logs, event logs, plans)"
        assert list(events.iterdir()), "the Spark event logs (with the plans) were written and searched"
        assert s3_objects_containing(glue_catalog["bucket"], needle) == [], "the password is on S3"
    finally:
        pg_exec(pg_db, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_connection_path_on_mariadb(moto_server, my_db, my_connection, my_schema, secret_password, tmp_path):
    user = f"gc_{uuid.uuid4().hex[:8]}"
    table = "audit_2018"
    with my_db.cursor() as cur:
        cur.execute(f"CREATE TABLE `{my_schema}`.`{table}` (id INT PRIMARY KEY, note VARCHAR(30))")
        cur.execute(f"INSERT INTO `{my_schema}`.`{table}` VALUES " + ",".join(f"({i}, 'n{i}')" for i in range(1, 41)))
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{secret_password}'")
        cur.execute(f"GRANT SELECT ON `{my_schema}`.* TO '{user}'@'%'")
        cur.execute(f"GRANT SELECT ON `{my_connection.database}`.* TO '{user}'@'%'")
    try:
        c = my_connection
        secret_id = f"offload/{user}"
        boto3.client("secretsmanager").create_secret(
            Name=secret_id, SecretString=json.dumps({"username": user, "password": secret_password})
        )
        boto3.client("glue").create_connection(
            ConnectionInput={
                "Name": user,
                "ConnectionType": "JDBC",
                "ConnectionProperties": {
                    "JDBC_CONNECTION_URL": f"jdbc:mysql://{c.host}:{c.port}/{c.database}",
                    "SECRET_ID": secret_id,
                },
            }
        )
        events = tmp_path / "events"
        events.mkdir()
        warehouse = tmp_path / "warehouse"
        args = ["--connection_name", user, "--source_schema", my_schema, "--source_table", table,
                "--warehouse", str(warehouse), "--archive_database", "creds", "--run_id", "m-1"]  # fmt: skip
        code, summary, out, err = run_job("archive_table.py", args, tmp_path, events)
        assert code == 0, (summary, err[-3000:])
        assert summary["rows"] == 40
        assert secret_password.encode() not in (out + err).encode()
        assert files_containing(tmp_path, secret_password.encode()) == []
    finally:
        with my_db.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
