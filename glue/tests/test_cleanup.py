"""Source cleanup tries to drop what it must not: each guard is attacked on its own and must refuse with
the source table untouched; the happy path renames, waits the grace period, re-validates and drops."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from catalogs import glue_only
from conftest import CATALOG, pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.cleanup import CleanupRequest, cleanup, quarantine_name
from offload_glue.engines import Connection
from offload_glue.iceberg_table import table_properties
from offload_glue.names import archive_table_name, spark_ident
from offload_glue.validate import ValidateRequest, validate

DB = "cleanup"
PASSWORD = "cleanup-test-only"


@pytest.fixture(scope="module")
def pg_cleaner(pg_db, pg_connection):
    """A separate, write-capable PostgreSQL login: the cleanup credential."""
    role = f"offload_cleanup_{uuid.uuid4().hex[:8]}"
    pg_exec(pg_db, f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    yield Connection("postgresql", pg_connection.host, pg_connection.port, pg_connection.database, role, PASSWORD)
    pg_exec(pg_db, f"DROP OWNED BY {role}; DROP ROLE {role}")


def pg_tables(pg_db, schema):
    rows = pg_exec(pg_db, "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,))
    return [r[0] for r in rows]


@pytest.fixture()
def pg_case(spark, pg_db, pg_connection, pg_schema, pg_cleaner):
    """An archived, validated PostgreSQL table owned by the cleanup role; returns a request factory."""
    return make_pg_case(spark, pg_db, pg_connection, pg_schema, pg_cleaner)


def make_pg_case(spark, pg_db, pg_connection, pg_schema, pg_cleaner, cat=CATALOG, db=DB):
    table = "txn_202001"
    pg_exec(pg_db, f'GRANT USAGE, CREATE ON SCHEMA "{pg_schema}" TO {pg_cleaner.user}')
    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}"."{table}" AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200) g',
    )
    pg_exec(pg_db, f'ALTER TABLE "{pg_schema}"."{table}" ADD PRIMARY KEY (id)')
    pg_exec(pg_db, f'ALTER TABLE "{pg_schema}"."{table}" OWNER TO {pg_cleaner.user}')
    run_archive(spark, pg_connection, pg_schema, table, "c-1", cat=cat, db=db)
    record = validate(
        spark, ValidateRequest(connection=pg_connection, schema=pg_schema, table=table, catalog=cat, database=db)
    )
    assert record["status"] == "passed"

    def request(**kw) -> CleanupRequest:
        base = dict(
            connection=pg_connection,
            cleanup_connection=pg_cleaner,
            schema=pg_schema,
            table=table,
            phase="quarantine",
            legal_hold=False,
            catalog=cat,
            database=db,
            validation=record,
            grace_period="P7D",
        )
        base.update(kw)
        return CleanupRequest(**base)

    return request, table, record


def run_archive(spark, conn, schema, table, run_id, hold="false", cat=CATALOG, db=DB):
    return archive(
        spark,
        ArchiveRequest(
            connection=conn,
            schema=schema,
            table=table,
            run_id=run_id,
            catalog=cat,
            database=db,
            legal_hold={"true": True, "false": False}.get(hold),
        ),
    )


def props(spark, schema, table):
    return table_properties(spark, spark_ident(CATALOG, DB, archive_table_name(schema, table)))


def test_quarantine_then_drop_after_grace_and_revalidation(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    done = cleanup(spark, request())
    assert done["status"] == "done", done
    target = done["quarantine_table"]
    assert target.startswith("zz_offload_q_") and target.endswith(table)
    assert pg_tables(pg_db, pg_schema) == [target]
    assert pg_exec(pg_db, f'SELECT count(*) FROM "{pg_schema}"."{target}"')[0][0] == 200
    recorded = props(spark, pg_schema, table)
    assert recorded["offload.source.quarantine_table"] == target and recorded["offload.source.renamed_at"]

    early = cleanup(spark, request(phase="drop", validation=None))
    assert early["status"] == "refused" and early["refusal"]["code"] == "grace_period"
    assert pg_tables(pg_db, pg_schema) == [target]

    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    dropped = cleanup(spark, request(phase="drop", validation=None), now=later)
    assert dropped["status"] == "done", dropped
    assert dropped["validation"]["status"] == "passed"
    assert pg_tables(pg_db, pg_schema) == []
    assert props(spark, pg_schema, table)["offload.source.dropped_at"]


@glue_only
def test_quarantine_then_drop_on_the_glue_catalog(spark, pg_db, pg_connection, pg_schema, pg_cleaner, catalog):
    """The same two phases with the archive in the Glue Data Catalog + S3 (moto): the guards read the
    Glue table, the intents and times land in its properties, as an independent reader sees them."""
    db = catalog.database("cleanup")
    request, table, _ = make_pg_case(spark, pg_db, pg_connection, pg_schema, pg_cleaner, cat=catalog.name, db=db)
    archived = archive_table_name(pg_schema, table)
    done = cleanup(spark, request())
    assert done["status"] == "done", done
    target = done["quarantine_table"]
    assert pg_tables(pg_db, pg_schema) == [target]
    assert catalog.load(db, archived).properties["offload.source.quarantine_table"] == target

    held = cleanup(spark, request(phase="drop", validation=None, legal_hold=True), now=datetime.now(UTC) + timedelta(8))
    assert held["status"] == "refused" and pg_tables(pg_db, pg_schema) == [target], held

    dropped = cleanup(spark, request(phase="drop", validation=None), now=datetime.now(UTC) + timedelta(days=8))
    assert dropped["status"] == "done" and dropped["validation"]["status"] == "passed", dropped
    assert pg_tables(pg_db, pg_schema) == []
    assert catalog.load(db, archived).properties["offload.source.dropped_at"]


def test_a_call_killed_after_its_rename_or_drop_is_completed_by_the_next(spark, pg_db, pg_schema, pg_case):
    """The state a kill between the database write and its records leaves (intent recorded, write
    committed, nothing else), made by hand: the next call finds the write done and reports it."""
    request, table, _ = pg_case
    ident = spark_ident(CATALOG, DB, archive_table_name(pg_schema, table))
    target = quarantine_name("postgresql", table, datetime.now(UTC).date().isoformat())
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('offload.source.quarantine_pending' = '{target}')")
    pg_exec(pg_db, f'ALTER TABLE "{pg_schema}"."{table}" RENAME TO "{target}"')
    again = cleanup(spark, request())
    assert (again["status"], again.get("already"), again["quarantine_table"]) == ("done", True, target), again
    assert props(spark, pg_schema, table)["offload.source.quarantine_table"] == target
    assert cleanup(spark, request())["already"] is True  # and again: still done, nothing run
    assert pg_tables(pg_db, pg_schema) == [target]

    later = datetime.now(UTC) + timedelta(days=8)
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('offload.source.drop_pending' = '{later.isoformat()}')")
    pg_exec(pg_db, f'DROP TABLE "{pg_schema}"."{target}"')
    dropped = cleanup(spark, request(phase="drop", validation=None), now=later)
    assert (dropped["status"], dropped.get("already")) == ("done", True), dropped
    assert props(spark, pg_schema, table)["offload.source.dropped_at"]


def test_a_quarantined_table_gone_without_a_drop_intent_is_refused(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    target = cleanup(spark, request())["quarantine_table"]
    pg_exec(pg_db, f'DROP TABLE "{pg_schema}"."{target}"')  # someone else dropped it
    result = cleanup(spark, request(phase="drop", validation=None), now=datetime.now(UTC) + timedelta(days=8))
    assert result["status"] == "refused" and result["refusal"]["code"] == "quarantine_missing", result
    assert "offload.source.dropped_at" not in props(spark, pg_schema, table)


def test_dry_run_changes_nothing(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    result = cleanup(spark, request(dry_run=True))
    assert result["status"] == "dry_run"
    assert result["statements"] == [f'ALTER TABLE "{pg_schema}"."{table}" RENAME TO "{result["quarantine_table"]}"']
    assert pg_tables(pg_db, pg_schema) == [table]
    assert "offload.source.quarantine_table" not in props(spark, pg_schema, table)


def test_restore_name_undoes_a_quarantine(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    assert cleanup(spark, request())["status"] == "done"
    back = cleanup(spark, request(phase="restore_name"))
    assert back["status"] == "done", back
    assert pg_tables(pg_db, pg_schema) == [table]
    assert "offload.source.quarantine_table" not in props(spark, pg_schema, table)


def _failed_validation(spark, pg_db, pg_connection, pg_schema, table, record):
    pg_exec(pg_db, f'UPDATE "{pg_schema}"."{table}" SET v = \'tampered\' WHERE id = 7')
    failed = validate(
        spark, ValidateRequest(connection=pg_connection, schema=pg_schema, table=table, catalog=CATALOG, database=DB)
    )
    assert failed["status"] == "failed"
    return {"validation": failed}


def _stale_validation(spark, pg_db, pg_connection, pg_schema, table, record):
    run_archive(spark, pg_connection, pg_schema, table, "c-2")  # a new snapshot after the validation
    return {}


def _source_changed(spark, pg_db, pg_connection, pg_schema, table, record):
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}"."{table}" VALUES (201, \'late row\')')
    return {}


def _recorded_hold(spark, pg_db, pg_connection, pg_schema, table, record):
    ident = spark_ident(CATALOG, DB, archive_table_name(pg_schema, table))
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('offload.legal_hold' = 'true')")
    return {}


def _recorded_hold_unreadable(spark, pg_db, pg_connection, pg_schema, table, record):
    ident = spark_ident(CATALOG, DB, archive_table_name(pg_schema, table))
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('offload.legal_hold' = 'maybe')")
    return {}


def _other_table_record(spark, pg_db, pg_connection, pg_schema, table, record):
    return {"validation": {**record, "source": {**record["source"], "table": "txn_202002"}}}


REFUSALS = [
    ("no validation", lambda *a: {"validation": None}, "no_validation"),
    ("validation failed", _failed_validation, "validation_not_passed"),
    ("validation older than the archive's snapshot", _stale_validation, "validation_stale"),
    ("validation of another table", _other_table_record, "validation_other_table"),
    ("source changed since the archive", _source_changed, "source_changed"),
    ("legal hold in the policy", lambda *a: {"legal_hold": True}, "legal_hold"),
    ("legal hold recorded with the archive", _recorded_hold, "legal_hold"),
    ("unreadable recorded hold counts as held", _recorded_hold_unreadable, "legal_hold"),
    (
        "the read credential used to write",
        lambda s, d, conn, *a: {"cleanup_connection": conn},
        "cleanup_credential_reused",
    ),
]


@pytest.mark.parametrize("name,attack,code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_quarantine_refuses(spark, pg_db, pg_connection, pg_schema, pg_case, name, attack, code):
    request, table, record = pg_case
    overrides = attack(spark, pg_db, pg_connection, pg_schema, table, record)
    result = cleanup(spark, request(**overrides))
    assert result["status"] == "refused", result
    assert result["refusal"]["code"] == code, result["refusal"]
    assert pg_tables(pg_db, pg_schema) == [table], "the source table is untouched"


def test_drop_refuses_when_the_quarantined_table_no_longer_matches(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    target = cleanup(spark, request())["quarantine_table"]
    pg_exec(pg_db, f'DELETE FROM "{pg_schema}"."{target}" WHERE id = 3')
    later = datetime.now(UTC) + timedelta(days=8)
    result = cleanup(spark, request(phase="drop"), now=later)
    assert result["status"] == "refused" and result["refusal"]["code"] == "validation_not_passed", result
    assert pg_tables(pg_db, pg_schema) == [target]


def test_drop_refuses_under_a_hold_set_after_the_quarantine(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    target = cleanup(spark, request())["quarantine_table"]
    later = datetime.now(UTC) + timedelta(days=8)
    result = cleanup(spark, request(phase="drop", legal_hold=True), now=later)
    assert result["status"] == "refused" and result["refusal"]["code"] == "legal_hold"
    assert pg_tables(pg_db, pg_schema) == [target]


def test_drop_without_quarantine_is_refused(spark, pg_db, pg_schema, pg_case):
    request, table, _ = pg_case
    result = cleanup(spark, request(phase="drop"), now=datetime.now(UTC) + timedelta(days=30))
    assert result["refusal"]["code"] == "not_quarantined"
    assert pg_tables(pg_db, pg_schema) == [table]


def test_mariadb_quarantine_and_drop(spark, my_db, my_connection, my_schema):
    table = "audit_2019"
    user = f"clean_{uuid.uuid4().hex[:8]}"
    with my_db.cursor() as cur:
        cur.execute(f"CREATE TABLE `{my_schema}`.`{table}` (id INT PRIMARY KEY, note VARCHAR(40))")
        cur.execute(f"INSERT INTO `{my_schema}`.`{table}` VALUES " + ",".join(f"({i}, 'n{i}')" for i in range(1, 51)))
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'")
        cur.execute(f"GRANT ALTER, DROP, CREATE, INSERT, SELECT ON `{my_schema}`.* TO '{user}'@'%'")
    cleaner = Connection("mysql", my_connection.host, my_connection.port, my_connection.database, user, PASSWORD)
    try:
        run_archive(spark, my_connection, my_schema, table, "m-1")
        record = validate(
            spark,
            ValidateRequest(connection=my_connection, schema=my_schema, table=table, catalog=CATALOG, database=DB),
        )
        assert record["status"] == "passed"
        req = dict(
            connection=my_connection,
            cleanup_connection=cleaner,
            schema=my_schema,
            table=table,
            legal_hold=False,
            catalog=CATALOG,
            database=DB,
            validation=record,
            grace_period="P1D",
        )
        q = cleanup(spark, CleanupRequest(phase="quarantine", **req))
        assert q["status"] == "done", q
        assert q["quarantine_table"] == quarantine_name("mysql", table, datetime.now(UTC).date().isoformat())
        d = cleanup(spark, CleanupRequest(phase="drop", **req), now=datetime.now(UTC) + timedelta(days=2))
        assert d["status"] == "done", d
        with my_db.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (my_schema,))
            assert cur.fetchall() == ()
    finally:
        with my_db.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")


def test_quarantine_names_fit_the_engines_identifier_limits():
    long = "t" * 70
    pg = quarantine_name("postgresql", long, "2026-12-02")
    my = quarantine_name("mysql", long, "2026-12-02")
    assert len(pg.encode()) <= 63 and len(my) <= 64
    assert pg != quarantine_name("postgresql", "t" * 69 + "u", "2026-12-02"), "a hash keeps cut names apart"
    assert quarantine_name("postgresql", "txn", "2026-12-02") == "zz_offload_q_20261202_txn"


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--legal_hold", "maybe", "--cleanup_user", "c"], "--legal_hold must be true or false"),
        (
            ["--legal_hold", "false", "--cleanup_user", "c", "--dry_run", "yes please"],
            "--dry_run must be true or false",
        ),
        (["--legal_hold", "false"], "its own credential"),
    ],
)
def test_cli_refuses_bad_arguments_before_touching_anything(extra, needle):
    import json
    import os
    import subprocess
    import sys

    job = os.path.join(os.path.dirname(__file__), "..", "cleanup_source.py")
    args = ["--source_schema", "s", "--source_table", "t", "--phase", "quarantine", "--warehouse", "/nonexistent"]
    proc = subprocess.run([sys.executable, job, *args, *extra], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert needle in json.loads(proc.stdout)["error"]["message"]
