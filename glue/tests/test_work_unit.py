"""Work units: the control plane plans them (``offload plan-work``, TypeScript), the jobs run them.

The archive job run from a work unit gives the same archive as from today's arguments (live
PostgreSQL); the units the CLI writes match schema/work-unit.schema.json here too; a unit fills the
jobs' arguments and refuses a second, different answer on the command line; names agree with the
TypeScript rule (shared vectors)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pg_exec, unique
from offload_glue import work_unit as wu
from offload_glue.errors import OffloadError
from offload_glue.names import archive_table_name

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "glue"))
import archive_table  # noqa: E402
import validate_table  # noqa: E402

SETTINGS = """resource_prefix: acme
region: eu-west-1
config: {bucket: acme-archival-configs, prefix: configs, dynamodb_table: acme-archival-configs}
archive: {bucket: acme-archive-vault, prefix: iceberg}
dags: {archival: acme_archival, purge: acme_purge}
glue_jobs: {archive: acme-archive, validate: acme-validate, purge: acme-purge}
lambdas: {discover: acme_discover, presigned_urls: acme_urls, test_connection: acme_test_conn,
  validation_report: acme_report, s3_trigger: acme_s3_trigger}
defaults: {discovery_schedule: cron(0 2 * * ? *), timezone: UTC}
"""
POLICY = """name: monthly
age: {from: table_name, pattern: "*_YYYYMM"}
archive_after: P1Y
purge_after: P7Y
legal_hold: {enabled: true, reason: "Case 7 litigation", reference: LIT-7}
partitioning: [{column: booked_at, transform: month}]
"""


def test_archive_names_agree_with_the_typescript_rule():
    vectors = json.loads((ROOT / "tools/test/fixtures/archive-name-vectors.json").read_text("utf-8"))["cases"]
    assert len(vectors) >= 15
    for c in vectors:
        assert archive_table_name(c["schema"], c["table"]) == c["archive_table"], c


def _plan(tmp_path: Path, pg_connection, schema: str, env: dict) -> tuple[str, list[dict], list[Path]]:
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    name = unique("wu").lower()
    repo = tmp_path / "repo"
    (repo / "databases").mkdir(parents=True)
    (repo / "policies").mkdir()
    (repo / "offload.settings.yaml").write_text(SETTINGS)
    (repo / "policies/monthly.yaml").write_text(POLICY)
    c = pg_connection
    (repo / f"databases/{name}.yaml").write_text(
        f"name: {name}\nengine: postgres\njdbc_url: jdbc:postgresql://{c.host}:{c.port}/{c.database}\n"
        f"credentials: {{secret: test/{name}}}\nowner: {{team: T, contact: t@example.com}}\n"
        f"scope:\n  - schema: {schema}\n    policies: [monthly]\n"
    )
    out = tmp_path / "units"
    r = subprocess.run(
        [node, str(ROOT / "tools/bin/offload.mjs"), "plan-work", "--root", str(repo), "--inventory", "live",
         "--no-aws", "--as-of", "2026-12-02", "--run-id", "wu-run-1", "--out", str(out)],
        capture_output=True, text=True, env={**os.environ, **env(name)}, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.json"))
    return name, [json.loads(f.read_text()) for f in files], files


@pytest.fixture()
def orders(pg_db, pg_schema):
    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}".orders_202001 (id bigint PRIMARY KEY, booked_at timestamp NOT NULL, '
        f"amount numeric(12,2), note text)",
    )
    pg_exec(
        pg_db,
        f"INSERT INTO \"{pg_schema}\".orders_202001 SELECT g, timestamp '2020-01-01' + g * interval '7 hours', "
        f"g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 300) g",
    )
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".orders_202611 (id int PRIMARY KEY)')  # not due yet
    return pg_schema


def _lineage(spark, ident: str) -> dict:
    return {r[0]: r[1] for r in spark.sql(f"SHOW TBLPROPERTIES {ident}").collect() if r[0].startswith("offload.")}


def test_archive_from_a_work_unit_equals_the_archive_from_arguments(
    spark, warehouse, pg_db, pg_connection, orders, tmp_path, monkeypatch
):
    def creds(name):
        p = f"OFFLOAD_DB_{name.upper()}_"
        return {f"{p}USER": pg_connection.user, f"{p}PASSWORD": pg_connection.password}

    name, units, files = _plan(tmp_path, pg_connection, orders, creds)
    # Expected independently of the engine: only orders_202001 is past archive_after (P1Y) on 2026-12-02.
    assert [(u["action"], u["source"]["table"]) for u in units] == [
        ("archive", "orders_202001"),
        ("validate", "orders_202001"),
    ]
    unit = units[0]
    for u in units:
        wu.validate_work_unit(u)
    assert pg_connection.password not in files[0].read_text()
    assert unit["source"]["engine"] == "postgres" and unit["source"]["port"] == pg_connection.port
    assert unit["archive"]["namespace"] == f"archive_{name}" and unit["archive"]["table"] == f"{orders}__orders_202001"
    assert unit["policy"]["retention_end"] == "2027-01-31"  # 2020-01-31 + P7Y
    assert unit["policy"]["legal_hold"] == {"enabled": True, "reason": "Case 7 litigation", "reference": "LIT-7"}

    for k, v in creds(name).items():
        monkeypatch.setenv(k, v)
    from_unit, code = archive_table.main(["archive_table.py", "--work_unit", str(files[0]), "--warehouse", warehouse])
    assert code == 0 and from_unit["status"] == "archived" and from_unit["rows"] == 300

    ns_args = f"args_{name}"
    from_args, code = archive_table.main(
        ["archive_table.py", "--source_engine", "postgresql", "--source_host", pg_connection.host,
         "--source_port", str(pg_connection.port), "--source_database", pg_connection.database,
         "--source_user", pg_connection.user, "--source_password_env", f"OFFLOAD_DB_{name.upper()}_PASSWORD",
         "--source_schema", orders, "--source_table", "orders_202001", "--run_id", "wu-run-1",
         "--warehouse", warehouse, "--archive_database", ns_args, "--partition_spec", "months(booked_at)",
         "--retention_until", "2027-01-31", "--policy", "monthly", "--config_commit", unit["config_commit"],
         "--legal_hold", "true", "--legal_hold_reason", "Case 7 litigation"]
    )  # fmt: skip
    assert code == 0 and from_args["rows"] == 300
    a = f"offload.`archive_{name}`.`{orders}__orders_202001`"
    b = f"offload.`{ns_args}`.`{orders}__orders_202001`"
    rows_a = sorted(map(tuple, spark.sql(f"SELECT * FROM {a}").collect()))
    rows_b = sorted(map(tuple, spark.sql(f"SELECT * FROM {b}").collect()))
    assert rows_a == rows_b
    assert [r[0] for r in rows_a] == [
        r[0] for r in pg_exec(pg_db, f'SELECT id FROM "{orders}".orders_202001 ORDER BY id')
    ]
    assert spark.table(a).schema == spark.table(b).schema
    spec = lambda ident: spark.sql(f"SELECT * FROM {ident}.partitions").columns  # noqa: E731
    assert spec(a) == spec(b) and "partition" in spec(a)
    la, lb = _lineage(spark, a), _lineage(spark, b)
    for key in ("offload.extracted_at", "offload.legal_hold_changed_at"):
        la.pop(key), lb.pop(key)
    assert la == lb and la["offload.run_id"] == "wu-run-1" and la["offload.retention_until"] == "2027-01-31"
    assert la["offload.legal_hold"] == "true" and la["offload.legal_hold_reason"] == "Case 7 litigation"

    # The validate unit checks the archive of this run and passes.
    result, code = validate_table.main(["validate_table.py", "--work_unit", str(files[1]), "--warehouse", warehouse])
    assert code == 0 and result["status"] == "passed", result


UNIT = json.loads(
    json.dumps(
        {
            "format": 1,
            "id": "archive:db1.payments__txn_202001@r1",
            "action": "archive",
            "run_id": "r1",
            "config_commit": "abc",
            "as_of": "2026-12-02T00:00:00.000Z",
            "database": "db1",
            "source": {
                "engine": "postgres",
                "host": "h",
                "port": 5432,
                "database": "ledger",
                "schema": "payments",
                "table": "txn_202001",
                "credentials": {"name": "db1", "sources": [{"kind": "env", "prefix": "OFFLOAD_DB_DB1_"}]},
            },
            "archive": {
                "catalog": "offload",
                "namespace": "archive_db1",
                "table": "payments__txn_202001",
                "location": "s3://b/p/archive_db1/",
                "partition_spec": [
                    {"column": "booked_at", "transform": "month"},
                    {"column": "id", "transform": "bucket", "width": 16},
                ],
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
                "row_hash": "sample",
                "sample_percent": 10,
                "max_reported_mismatches": 5,
            },
            "decision": {"reason": "due", "table_date": "2020-01-31T00:00:00.000Z", "rows": 1, "bytes": 2},
        }
    )
)


def test_a_unit_fills_each_jobs_arguments(tmp_path):
    wu.validate_work_unit(UNIT)
    args = wu.job_arguments(UNIT, "archive")
    assert args == {
        "catalog": "offload",
        "archive_database": "archive_db1",
        "archive_table": "payments__txn_202001",
        "source_schema": "payments",
        "source_table": "txn_202001",
        "run_id": "r1",
        "config_commit": "abc",
        "policy": "monthly",
        "legal_hold": "false",
        "retention_until": "2027-01-31",
        "partition_spec": "months(`booked_at`), bucket(16, `id`)",
    }
    v = copy.deepcopy(UNIT)
    v["action"], v["archive"]["run_id"] = "validate", "r0"
    assert wu.job_arguments(v, "validate") == {
        "catalog": "offload",
        "archive_database": "archive_db1",
        "archive_table": "payments__txn_202001",
        "source_schema": "payments",
        "source_table": "txn_202001",
        "sample_percent": "10",
        "max_reported_keys": "5",
        "run_id": "r0",
    }
    with pytest.raises(OffloadError, match="run it with the archive job") as info:
        wu.job_arguments(UNIT, "validate")
    assert info.value.code == "wrong_job"


def test_command_line_arguments_must_agree_with_the_unit(tmp_path):
    from offload_glue import cli

    f = tmp_path / "u.json"
    f.write_text(json.dumps(UNIT))
    req = ["source_schema", "source_table", "run_id"]
    args = cli.resolve_args(
        ["a.py", "--work_unit", str(f), "--warehouse", "/w"], req, cli.COMMON + cli.SOURCE, "archive"
    )
    assert (args["source_table"], args["archive_database"], args["catalog_type"]) == (
        "txn_202001",
        "archive_db1",
        "hadoop",
    )
    same = cli.resolve_args(["a.py", "--work_unit", str(f), "--run_id", "r1"], req, cli.COMMON + cli.SOURCE, "archive")
    assert same["run_id"] == "r1"
    for extra in (["--run_id", "r2"], ["--archive_database", "other"], ["--source_host", "elsewhere"]):
        with pytest.raises(OffloadError) as info:
            cli.resolve_args(["a.py", "--work_unit", str(f), *extra], req, cli.COMMON + cli.SOURCE, "archive")
        assert info.value.code == "conflicting_arguments" and extra[0] in str(info.value)


@pytest.mark.parametrize(
    "mutate,where",
    [
        (lambda u: u["source"].__setitem__("password", "hunter2"), "password"),  # never a password
        (lambda u: u["source"].__setitem__("engine", "postgresql"), "/source/engine"),  # one spelling
        (lambda u: u["source"].pop("host"), "host"),
        (lambda u: u["policy"].__setitem__("retention_end", "31/01/2027"), "/policy/retention_end"),
        (lambda u: u["source"]["credentials"]["sources"].clear(), "/source/credentials/sources"),
    ],
)
def test_units_that_break_the_schema_are_refused(tmp_path, mutate, where):
    bad = copy.deepcopy(UNIT)
    mutate(bad)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    with pytest.raises(OffloadError) as info:
        wu.load_work_unit(str(f))
    assert info.value.code == "bad_work_unit" and where in str(info.value)


def test_unreadable_or_non_json_units_are_user_errors(tmp_path):
    with pytest.raises(OffloadError, match="cannot be read"):
        wu.load_work_unit(str(tmp_path / "missing.json"))
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(OffloadError, match="is not JSON"):
        wu.load_work_unit(str(tmp_path / "x.json"))


def test_unit_connection_resolves_credentials_and_spelling(monkeypatch):
    env = {"OFFLOAD_DB_DB1_USER": "u", "OFFLOAD_DB_DB1_PASSWORD": "p"}
    c = wu.unit_connection(UNIT, env=env)
    assert (c.engine, c.host, c.port, c.database, c.user, c.password) == ("postgresql", "h", 5432, "ledger", "u", "p")
    other = copy.deepcopy(UNIT)
    other["source"]["engine"] = "oracle"
    with pytest.raises(OffloadError) as info:
        wu.unit_connection(other, env=env)
    assert info.value.code == "unsupported_engine"
