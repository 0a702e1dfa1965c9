"""``dag.test()`` runs of both DAGs on the local runtime against the live PostgreSQL and MariaDB:
the archival DAG archives and validates every due table except the one with a value no archive can
hold (it fails alone: the others go on), the report is written, and the ledger and the warehouse
agree; a table whose policy drops the source is renamed to its quarantine name once validated (and
one whose archive failed is not); then the purge DAG purges only the archives past their retention
end and not under legal hold.

The expected tables are computed here from the fixture (table names, the policies' durations and
today's date), never by the policy engine; archives are read back with pyiceberg, not Spark."""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import uuid
from datetime import UTC, date, datetime

import pytest
from conftest import DAGS, TOOLKIT, env

ROWS = {"orders_2015": 50, "orders_2016": 12, "held_2015": 30}
MARIA_ROWS = {"orders_2015": 40}
#: Under a policy with `source.action: drop`; drop_2016 holds a value no archive can hold (never validated).
DROP_ROWS = {"drop_2015": 25, "drop_2016": 9}
TODAY = datetime.now(UTC).date()


def _due(year: int, years: int) -> bool:
    """The table's date is the last day of the year its name gives; due when that plus N years is past."""
    return date(year + years, 12, 31) <= TODAY


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


@pytest.fixture(scope="module")
def deployment(airflow_db):
    import psycopg2
    import pymysql

    suffix = uuid.uuid4().hex[:8]
    schema = f"dags_{suffix}"
    pg_host, pg_port = env("OFFLOAD_TEST_PG_HOST"), int(env("OFFLOAD_TEST_PG_PORT"))
    my_host, my_port = env("OFFLOAD_TEST_MYSQL_HOST"), int(env("OFFLOAD_TEST_MYSQL_PORT"))
    user, password, dbname = env("OFFLOAD_TEST_USER"), env("OFFLOAD_TEST_PASSWORD"), env("OFFLOAD_TEST_DB")

    pg = psycopg2.connect(host=pg_host, port=pg_port, dbname=dbname, user=user, password=password)
    pg.autocommit = True
    cleaner, cleaner_password = f"{schema}_cl", f"pw-{suffix}"
    with pg.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        # Source cleanup's own login: PostgreSQL renames only as the owner, so it owns the tables it cleans up.
        cur.execute(f"CREATE ROLE {cleaner} LOGIN PASSWORD '{cleaner_password}'")
        cur.execute(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO {cleaner}')
        for t, n in {**ROWS, **DROP_ROWS}.items():
            cur.execute(
                f'CREATE TABLE "{schema}".{t} (id int PRIMARY KEY, amount numeric(10,2), placed date, note text)'
            )
            cur.execute(
                f"INSERT INTO \"{schema}\".{t} SELECT g, g * 1.25, date '2015-01-01' + g, 'n' || g "
                f"FROM generate_series(1, {n}) g"
            )
        # A value no Iceberg date can hold: this table's archive fails, the others must not care.
        cur.execute(f"UPDATE \"{schema}\".orders_2016 SET placed = 'infinity' WHERE id = 7")
        cur.execute(f"UPDATE \"{schema}\".drop_2016 SET placed = 'infinity' WHERE id = 3")
        for t in DROP_ROWS:
            cur.execute(f'ALTER TABLE "{schema}".{t} OWNER TO {cleaner}')
    my = pymysql.connect(host=my_host, port=my_port, user=user, password=password, autocommit=True)
    with my.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{schema}` CHARACTER SET utf8mb4")
        for t, n in MARIA_ROWS.items():
            cur.execute(f"CREATE TABLE `{schema}`.{t} (id int PRIMARY KEY, amount decimal(10,2), note varchar(20))")
            cur.executemany(
                f"INSERT INTO `{schema}`.{t} VALUES (%s, %s, %s)", [(i, i * 1.5, f"m{i}") for i in range(1, n + 1)]
            )

    # Its own temporary folder, not pytest's shared basetemp (other sessions' pytest runs prune that).
    root = tempfile.mkdtemp(prefix="offload-dags-repo-")
    shutil.copy(os.path.join(TOOLKIT, "offload.settings.yaml"), os.path.join(root, "offload.settings.yaml"))
    owner = "owner:\n  team: DAG tests\n  contact: dags@example.com\n"
    scope = (
        f"scope:\n  - schema: {schema}\n    include: ['^orders_']\n    policies: [dags-yearly]\n"
        f"  - schema: {schema}\n    include: ['^held_']\n    policies: [dags-held]\n"
        f"  - schema: {schema}\n    include: ['^drop_']\n    policies: [dags-drop]\n"
    )
    _write(
        f"{root}/databases/dags_pg.yaml",
        f"name: dags_pg\nengine: postgres\njdbc_url: jdbc:postgresql://{pg_host}:{pg_port}/{dbname}\n"
        f"credentials:\n  secret: dags/dags_pg\n{owner}{scope}",
    )
    _write(
        f"{root}/databases/dags_maria.yaml",
        f"name: dags_maria\nengine: mariadb\njdbc_url: jdbc:mariadb://{my_host}:{my_port}/{schema}\n"
        f"credentials:\n  secret: dags/dags_maria\n{owner}scope:\n  - schema: {schema}\n    policies: [dags-yearly]\n",
    )
    _write(
        f"{root}/policies/dags-yearly.yaml",
        "name: dags-yearly\nage:\n  from: table_name\n  pattern: orders_YYYY\n"
        "archive_after: P3Y\npurge_after: P5Y\npriority: 10\n",
    )
    _write(
        f"{root}/policies/dags-held.yaml",
        "name: dags-held\nage:\n  from: table_name\n  pattern: held_YYYY\narchive_after: P3Y\npurge_after: P5Y\n"
        "priority: 20\nlegal_hold:\n  enabled: true\n  reason: Litigation hold LIT-DAGS-1\n",
    )
    _write(
        f"{root}/policies/dags-drop.yaml",
        "name: dags-drop\nage:\n  from: table_name\n  pattern: drop_YYYY\narchive_after: P3Y\npurge_after: P50Y\n"
        "priority: 30\nsource:\n  action: drop\n  grace_period: P30D\n",
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "AIRFLOW__OFFLOAD__RUNTIME": "local",
            "AIRFLOW__OFFLOAD__ROOT": root,
            "AIRFLOW__OFFLOAD__CONFIGS": "worktree",
            "AIRFLOW__OFFLOAD__MAX_PARALLEL_READS": "1",
            "AIRFLOW__OFFLOAD__RETRIES": "0",
            "OFFLOAD_DB_DAGS_PG_USER": user,
            "OFFLOAD_DB_DAGS_PG_PASSWORD": password,
            "OFFLOAD_DB_DAGS_MARIA_USER": user,
            "OFFLOAD_DB_DAGS_MARIA_PASSWORD": password,
            "OFFLOAD_CLEANUP_DAGS_PG_USER": cleaner,
            "OFFLOAD_CLEANUP_DAGS_PG_PASSWORD": cleaner_password,
        }
    )
    yield {"root": root, "schema": schema, "pg": pg}
    os.environ.clear()
    os.environ.update(saved)
    with pg.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        cur.execute(f"DROP ROLE {cleaner}")
    with my.cursor() as cur:
        cur.execute(f"DROP DATABASE `{schema}`")
    pg.close()
    my.close()
    shutil.rmtree(root, ignore_errors=True)


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS, safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _ledger(root: str) -> dict:
    out = {}
    for f in glob.glob(os.path.join(root, ".offload", "state", "ledger", "*.json")):
        with open(f, encoding="utf-8") as fh:
            e = json.load(fh)
        out[(e["database"], e["schema"], e["table"])] = e
    return out


def _archive_rows(root: str, namespace: str, table: str) -> int | None:
    from pyiceberg.table import StaticTable

    meta = sorted(
        glob.glob(os.path.join(root, ".offload", "warehouse", namespace, table, "metadata", "v*.metadata.json")),
        key=lambda p: int(os.path.basename(p)[1:].split(".")[0]),
    )
    if not meta:
        return None
    return StaticTable.from_metadata(meta[-1]).scan().to_arrow().num_rows


def _settings(root: str) -> dict:
    import yaml

    with open(os.path.join(root, "offload.settings.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _tis(run) -> dict:
    """State by (task id, table label). The plan's items give each map index its table; the names the
    UI shows (rendered from map_index_template) must agree with them wherever they were rendered."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = [
            (ti.task_id, ti.map_index, ti.rendered_map_index, str(getattr(ti.state, "value", ti.state)))
            for ti in session.query(TaskInstance).filter(
                TaskInstance.run_id == run.run_id, TaskInstance.dag_id == run.dag_id
            )
        ]
        xcom = (
            session.query(XComModel)
            .filter(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == "plan",
                XComModel.key == "return_value",
            )
            .one()
        )
        labels = [item["label"] for item in XComModel.deserialize_value(xcom)]
    # Airflow renders the name of an instance that ran to success; a failed one keeps its index.
    rendered = [(i, name) for _, i, name, _ in rows if name and i >= 0 and name != str(i)]
    assert rendered, "no mapped task instance has a rendered name"
    for i, name in rendered:
        assert name == labels[i], (i, name, labels)
    return {(tid, labels[i] if i >= 0 else "-1"): state for tid, i, _, state in rows}


def test_archival_then_purge(deployment):
    root, schema = deployment["root"], deployment["schema"]
    settings = _settings(root)
    prefix = settings["archive"]["glue_database_prefix"]

    pg = lambda t: f"dags_pg.{schema}.{t}"  # noqa: E731
    due = [t for t in ROWS if _due(int(t[-4:]), 3)]
    # What the plan task will get (the same planner call, with a throw-away run id): every due table.
    from offload_dags.local import LocalRuntime

    planned = LocalRuntime().plan("probe-run")
    got = {(u["unit"]["database"], u["unit"]["source"]["table"], u["unit"]["action"]) for u in planned["units"]}
    want = {("dags_pg", t, a) for t in due for a in ("archive", "validate")}
    want |= {("dags_maria", "orders_2015", a) for a in ("archive", "validate")}
    want |= {("dags_pg", t, a) for t in DROP_ROWS for a in ("archive", "validate", "cleanup_source")}
    assert got == want, (got, planned["problems"])

    run = _dag(settings["dags"]["archival"]).test()
    tis = _tis(run)
    # One mapped instance per table, named database.schema.table; the bad table fails alone.
    assert tis[("table.archive", pg("orders_2016"))] == "failed", tis
    assert tis[("table.validate", pg("orders_2016"))] == "upstream_failed", tis
    due = [t for t in due if t != "orders_2016"]
    assert {"held_2015", "orders_2015"} <= set(due)
    for t in due:
        assert tis[("table.archive", pg(t))] == "success", (t, tis)
        assert tis[("table.validate", pg(t))] == "success", (t, tis)
    assert tis[("table.validate", f"dags_maria.{schema}.orders_2015")] == "success", tis
    # Source cleanup: after its validation only; never for a table whose archive failed.
    assert tis[("table.cleanup_source", pg("drop_2015"))] == "success", tis
    assert tis[("table.cleanup_source", pg("drop_2016"))] == "upstream_failed", tis
    # The report ran although a table failed, and failed the run so it shows.
    assert tis[("report", "-1")] == "failed", tis
    assert str(run.state) in ("failed", "DagRunState.FAILED"), run.state

    ledger = _ledger(root)
    for t in due:
        e = ledger[("dags_pg", schema, t)]
        assert e["state"] == "validated", e
        assert e["rows"] == ROWS[t]
        assert e["validation"]["status"] == "passed"
        # Read back independently: the archive holds exactly the source's rows.
        assert _archive_rows(root, f"{prefix}dags_pg", f"{schema}__{t}") == ROWS[t]
    maria = ledger[("dags_maria", schema, "orders_2015")]
    assert maria["state"] == "validated" and maria["rows"] == MARIA_ROWS["orders_2015"], maria
    assert _archive_rows(root, f"{prefix}dags_maria", f"{schema}__orders_2015") == MARIA_ROWS["orders_2015"]
    bad = ledger[("dags_pg", schema, "orders_2016")]
    assert bad["state"] == "failed" and bad["error"]["code"] == "lossy_value", bad
    assert _archive_rows(root, f"{prefix}dags_pg", f"{schema}__orders_2016") is None
    run_id = maria["run_id"]
    for kind in ("json", "md", "html"):
        assert os.path.getsize(os.path.join(root, ".offload", "state", "reports", f"{run_id}.{kind}")) > 0
    with open(os.path.join(root, ".offload", "state", "reports", f"{run_id}.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    # The units the plan task kept name the configs' commit and the as-of date in the report.
    assert isinstance(report["config_commit"], str) and report["config_commit"], report["config_commit"]
    assert report["as_of"], report
    assert {(t["table"], t["state"]) for t in report["tables"] if t["database"] == "dags_pg"} == {
        *((t, "validated") for t in due),
        ("orders_2016", "failed"),
        ("drop_2015", "source_renamed"),
        ("drop_2016", "failed"),
    }
    # drop_2015: renamed to its quarantine name (zz_offload_q_<yyyymmdd>_<table>, spelled out here) in the
    # live database, as the ledger records; drop_2016 (its archive failed) is still there, untouched.
    quarantine = f"zz_offload_q_{TODAY.strftime('%Y%m%d')}_drop_2015"
    renamed = ledger[("dags_pg", schema, "drop_2015")]
    assert renamed["state"] == "source_renamed", renamed
    assert renamed["validation"]["status"] == "passed" and renamed["rows"] == DROP_ROWS["drop_2015"]
    assert renamed["source_cleanup"]["quarantine_table"] == quarantine, renamed
    assert renamed["source_cleanup"]["renamed_at"] and renamed["source_cleanup"]["dropped_at"] is None
    assert ledger[("dags_pg", schema, "drop_2016")]["state"] == "failed"
    with deployment["pg"].cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        tables = {r[0] for r in cur.fetchall()}
        assert quarantine in tables and "drop_2015" not in tables and "drop_2016" in tables, tables
        cur.execute(f'SELECT count(*) FROM "{schema}".{quarantine}')
        assert cur.fetchone()[0] == DROP_ROWS["drop_2015"]
        cur.execute(f'SELECT count(*) FROM "{schema}".drop_2016')
        assert cur.fetchone()[0] == DROP_ROWS["drop_2016"]

    # The purge DAG: due = retention end (table date + 5 years) past and no legal hold.
    run = _dag(settings["dags"]["purge"]).test()
    tis = _tis(run)
    ledger = _ledger(root)
    purgeable = {t for t in due if _due(int(t[-4:]), 5) and not t.startswith("held_")}
    assert purgeable == {"orders_2015"}
    for t in due:
        e = ledger[("dags_pg", schema, t)]
        if t in purgeable:
            assert e["state"] == "purged", e
            assert _archive_rows(root, f"{prefix}dags_pg", f"{schema}__{t}") is None
            assert tis[("purge", pg(t))] == "success", tis
        else:
            assert e["state"] == "validated", e  # under hold, or not yet due: untouched
            assert _archive_rows(root, f"{prefix}dags_pg", f"{schema}__{t}") == ROWS[t]
    assert ledger[("dags_maria", schema, "orders_2015")]["state"] == "purged"
    assert ledger[("dags_pg", schema, "orders_2016")]["state"] == "failed"  # never archived: nothing to purge
    assert ledger[("dags_pg", schema, "drop_2015")]["state"] == "source_renamed"  # in its grace period
    # The other source tables are only read: every one is still there with its rows.
    with deployment["pg"].cursor() as cur:
        for t, n in ROWS.items():
            cur.execute(f'SELECT count(*) FROM "{schema}".{t}')
            assert cur.fetchone()[0] == n
