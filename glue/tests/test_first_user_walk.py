"""The scripted first-user walk, as the README tells it: a new config repository from `offload init`,
a local PostgreSQL database onboarded by YAML with its password in the credentials file, then
validate, discover, status, sync --target local, `offload run` on two tables (work units through the
archive and validate jobs, with no connection argument and the password only in the credentials
file; recorded in the run ledger, which status then shows), `offload archives`, and the archives read back — with
pyiceberg and DuckDB's Iceberg extension (both tables, every row compared with the source) and with
every README snippet marked `readme-test` (extracted from README.md and run, so the documentation
cannot drift).

The steps run in order and share one state; a failing step fails the ones after it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jsonschema
import psycopg2
import pytest
from iceberg_reader import rows as iceberg_rows

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(ROOT, "tools", "bin", "offload.mjs")
AS_OF = "2026-12-02"
GIT_ID = {"GIT_AUTHOR_NAME": "walk", "GIT_AUTHOR_EMAIL": "walk@x.example"} | {
    "GIT_COMMITTER_NAME": "walk",
    "GIT_COMMITTER_EMAIL": "walk@x.example",
}
# Source tables: (name, rows). Month tables are named by their month; audit_log is aged by event_time.
TABLES = {"txn_202001": 60, "txn_202410": 40, "txn_202611": 5}
ARCHIVED = ["txn_202001", "txn_202410"]

state: dict = {}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def offload(*args: str, cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [shutil.which("node") or "node", CLI, *args],
        cwd=cwd or state["repo"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1", **GIT_ID},
    )
    if check:
        assert r.returncode == 0, f"offload {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", state["repo"], *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ID}
    ).stdout.strip()


@pytest.fixture(scope="module", autouse=True)
def source_database(pg_connection, tmp_path_factory):
    """A database of its own on the local PostgreSQL (fixed schema and table names inside it)."""
    name = f"walk_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(
        host=pg_connection.host,
        port=pg_connection.port,
        dbname=pg_connection.database,
        user=pg_connection.user,
        password=pg_connection.password,
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(
        host=pg_connection.host,
        port=pg_connection.port,
        dbname=name,
        user=pg_connection.user,
        password=pg_connection.password,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'; CREATE SCHEMA ledger")
        for table, n in TABLES.items():
            cur.execute(
                f"CREATE TABLE ledger.{table} (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, note text, "
                "created_at timestamptz NOT NULL)"
            )
            cur.execute(
                f"INSERT INTO ledger.{table} SELECT g, g * 1.25, CASE WHEN g %% 7 = 0 THEN NULL ELSE 'n' || g END, "
                "timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, %s) g",
                (n,),
            )
        cur.execute("CREATE TABLE ledger.audit_log (id bigint PRIMARY KEY, event_time timestamptz NOT NULL)")
        cur.execute(
            "INSERT INTO ledger.audit_log SELECT g, timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour' "
            "FROM generate_series(1, 29) g"
        )
    state.update(database=name, conn=conn, pg=pg_connection, parent=str(tmp_path_factory.mktemp("walk")))
    yield
    conn.close()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def source_rows(table: str) -> list[tuple]:
    with state["conn"].cursor() as cur:
        cur.execute(f"SELECT id, amount, note, created_at FROM ledger.{table} ORDER BY id")
        return cur.fetchall()


def source_total(table: str) -> tuple[int, Decimal]:
    with state["conn"].cursor() as cur:
        cur.execute(f"SELECT count(*), sum(amount) FROM ledger.{table}")
        return cur.fetchone()


def test_01_init_a_new_config_repo():
    r = offload("init", "configs", "--prefix", "walk", "--region", "eu-west-1", cwd=state["parent"])
    state["repo"] = os.path.join(state["parent"], "configs")
    assert "Created" in r.stdout
    assert os.path.exists(os.path.join(state["repo"], ".github/workflows/pr-check.yml"))


def test_02_onboard_by_yaml_and_credentials_file():
    pg = state["pg"]
    repo = state["repo"]
    with open(os.path.join(repo, "databases/ledger.yaml"), "w") as f:
        f.write(
            "# yaml-language-server: $schema=../schema/database.schema.json\n"
            "name: ledger\nengine: postgres\n"
            f"jdbc_url: jdbc:postgresql://{pg.host}:{pg.port}/{state['database']}\n"
            "credentials:\n  secret: walk/ledger\n"
            "owner:\n  team: Ledger\n  contact: ledger@walk.example\n"
            "scope:\n"
            '  - schema: ledger\n    include: ["^txn_[0-9]{6}$"]\n    policies: [monthly-txn]\n'
            '  - schema: ledger\n    include: ["^audit_log$"]\n    policies: [audit-trail]\n'
        )
    with open(os.path.join(repo, "policies/monthly-txn.yaml"), "w") as f:
        f.write(
            "# yaml-language-server: $schema=../schema/policy.schema.json\n"
            "name: monthly-txn\nage:\n  from: table_name\n  pattern: txn_YYYYMM\n"
            "archive_after: P2Y\npurge_after: P7Y\n"
        )
    with open(os.path.join(repo, "policies/audit-trail.yaml"), "w") as f:
        f.write(
            "# yaml-language-server: $schema=../schema/policy.schema.json\n"
            "name: audit-trail\nage:\n  from: column\n  column: event_time\narchive_after: P1Y\n"
            "legal_hold:\n  enabled: true\n  reason: Regulator request\n  reference: REG-7\n"
        )
    os.makedirs(os.path.join(repo, ".offload"), exist_ok=True)
    creds = os.path.join(repo, ".offload/credentials.yaml")
    with open(creds, "w") as f:
        f.write(f"databases:\n  ledger:\n    user: {pg.user}\n    password: {json.dumps(pg.password)}\n")
    os.chmod(creds, 0o600)
    r = offload("validate")
    assert "valid: 4 files, 0 errors, 0 warnings" in r.stdout
    assert git("status", "--porcelain", "--ignored", ".offload") == "!! .offload/", "credentials stay out of git"


def test_03_discover_reads_the_catalog_with_the_credentials_file():
    offload("discover", "--no-aws", "--quiet")
    with open(os.path.join(state["repo"], "inventory/ledger.json")) as f:
        inv = json.load(f)
    assert inv["partial"] is False, inv["errors"]
    assert sorted(t["name"] for t in inv["tables"]) == sorted([*TABLES, "audit_log"])


def test_04_status_shows_what_is_due():
    r = offload("status", "--as-of", AS_OF, "--format", "json")
    doc = json.loads(r.stdout)
    with open(os.path.join(ROOT, "schema/status.schema.json")) as f:
        jsonschema.validate(doc, json.load(f))
    got = {
        t["table"]: (
            t["action"],
            t["schedule"]["archive_due"][:10],
            t["schedule"]["purge_due"],
            t["schedule"]["legal_hold"],
        )
        for t in doc["tables"]
    }
    # By hand: month tables → last day of the month + P2Y (purge + P7Y); audit_log → max(event_time)
    # 2025-01-02T05:00Z + P1Y, held, no purge_after.
    assert got == {
        "audit_log": ("archive", "2026-01-02", None, True),
        "txn_202001": ("archive", "2022-01-31", "2027-01-31T00:00:00.000Z", False),
        "txn_202410": ("archive", "2026-10-31", "2031-10-31T00:00:00.000Z", False),
        "txn_202611": ("none", "2028-11-30", "2033-11-30T00:00:00.000Z", False),
    }
    state["status"] = {t["table"]: t for t in doc["tables"]}


def test_05_sync_to_the_local_target():
    git("add", "-A")
    git("commit", "-qm", "onboard ledger")
    r = offload("sync", "--target", "local", "--apply")
    assert "Applied" in r.stdout
    assert os.path.exists(os.path.join(state["repo"], ".offload/state/bucket/configs/databases/ledger.yaml"))


def test_06_run_archives_and_validates_two_tables_through_the_jobs():
    """`offload run` plans work units and runs each through its job's entry point (archive, then
    validate) with nothing but the synced configs and the credentials file: the test's own connection
    variables are removed from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OFFLOAD_TEST_", "OFFLOAD_DB_", "OFFLOAD_SOURCE"))}
    r = subprocess.run(
        [shutil.which("node") or "node", CLI, "run", "--table", *[f"ledger.{t}" for t in ARCHIVED]]
        + ["--as-of", AS_OF, "--run-id", "walk-1", "--no-aws", "--quiet", "--format", "json"],
        cwd=state["repo"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**env, "TZ": "UTC", "NO_COLOR": "1"},
    )
    assert r.returncode == 0, f"offload run exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    # The run ledger now knows both tables: status shows them validated, the purge next.
    doc = json.loads(offload("status", "--as-of", AS_OF, "--format", "json").stdout)
    got = {
        t["table"]: (t["action"], t["state"] and t["state"]["state"], t["schedule"]["next_action"])
        for t in doc["tables"]
    }
    assert got == {
        "audit_log": ("archive", None, "archive"),
        "txn_202001": ("none", "validated", "purge"),
        "txn_202410": ("none", "validated", "purge"),
        "txn_202611": ("none", None, "archive"),
    }, got
    assert doc["ledger"].startswith("local:")
    state["ledger"] = {t["table"]: t["state"] for t in doc["tables"] if t["state"]}


def test_07_offload_archives_lists_them():
    r = offload("archives", "--format", "json")
    doc = json.loads(r.stdout)
    with open(os.path.join(ROOT, "schema/archives.schema.json")) as f:
        jsonschema.validate(doc, json.load(f))
    warehouse = os.path.join(state["repo"], ".offload/warehouse")
    from iceberg_reader import load

    by_table = {a["table"]: a for a in doc["archives"]}
    assert sorted(by_table) == [f"ledger__{t}" for t in ARCHIVED]
    for t in ARCHIVED:
        a = by_table[f"ledger__{t}"]
        snapshot = load(warehouse, "archive_ledger", f"ledger__{t}").current_snapshot()
        assert a["database"] == "ledger"
        assert a["rows"] == TABLES[t]
        assert a["current_snapshot_id"] == str(snapshot.snapshot_id)
        data = os.path.join(warehouse, "archive_ledger", f"ledger__{t}", "data")
        assert a["bytes"] == sum(
            os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.endswith(".parquet")
        )
        assert a["source"]["schema"] == "ledger" and a["source"]["table"] == t
        assert a["source"]["database"] == state["database"]
        assert a["policy"] == "monthly-txn"
        assert a["retention_until"] == state["status"][t]["schedule"]["purge_due"][:10]
        assert a["current_snapshot_id"] == state["ledger"][t]["snapshot_id"], "the ledger names the same snapshot"
        assert a["validation"]["status"] == "passed" and a["validation"]["current"] is True
        assert a["run_id"] == "walk-1"
    text = offload("archives", "--database", "ledger").stdout
    assert "archive_ledger.ledger__txn_202001 (database ledger)" in text


def test_08_read_back_every_row_with_pyiceberg_and_duckdb():
    import importlib.util
    import pathlib

    import duckdb

    warehouse = os.path.join(state["repo"], ".offload/warehouse")
    con = duckdb.connect()
    ext_dir = pathlib.Path(importlib.util.find_spec("duckdb_ext").submodule_search_locations[0]) / "extensions"
    con.execute(f"SET extension_directory = '{ext_dir}'")
    con.execute("LOAD iceberg")
    con.execute("SET TimeZone = 'UTC'")
    for t in ARCHIVED:
        expected = source_rows(t)
        by_pyiceberg = sorted(
            (r["id"], r["amount"], r["note"], r["created_at"])
            for r in iceberg_rows(warehouse, "archive_ledger", f"ledger__{t}")
        )
        by_duckdb = con.execute(
            "SELECT id, amount, note, epoch_us(created_at) "
            f"FROM iceberg_scan('{warehouse}/archive_ledger/ledger__{t}') ORDER BY id"
        ).fetchall()
        assert len(expected) == TABLES[t]
        source = [(i, a, n, micros(c)) for i, a, n, c in expected]
        assert [(i, a, n, micros(c)) for i, a, n, c in by_pyiceberg] == source
        assert [tuple(r) for r in by_duckdb] == source


def micros(t: datetime) -> int:
    """Microseconds since the epoch of an instant (naive values are UTC, as the jobs run in UTC)."""
    aware = t if t.tzinfo else t.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(microseconds=1)


def readme_snippets() -> dict[str, str]:
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    return dict(re.findall(r"<!-- readme-test: ([a-z0-9-]+) -->\n```python\n(.*?)```", text, re.S))


def test_09_every_readme_snippet_reads_the_archive():
    snippets = readme_snippets()
    assert sorted(snippets) == ["duckdb-iceberg", "duckdb-parquet", "pyiceberg", "spark-sql"]
    n, total = source_total("txn_202001")
    for name, code in snippets.items():
        r = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "TZ": "UTC", "OFFLOAD_WAREHOUSE": os.path.join(state["repo"], ".offload/warehouse")},
        )
        assert r.returncode == 0, f"README snippet {name}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        assert r.stdout.strip().splitlines()[-1] == f"{n} rows, total {total}", f"{name}: {r.stdout[-500:]}"
