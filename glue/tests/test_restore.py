"""Restore: every type of both engines' type matrices comes back into a new table with its original column
type (checked in information_schema against the original) and the same rows, validated against the
archive; an existing name is refused with nothing written; a killed restore leaves no table under the
target name and a rerun succeeds; --as_of_snapshot restores the older rows; the read-only credential is
refused; the archive is unchanged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import test_types_mysql as my_types
import test_types_postgres as pg_types
from conftest import CATALOG, my_exec, pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.engines import Connection
from offload_glue.errors import OffloadError
from offload_glue.iceberg_table import current_snapshot
from offload_glue.names import archive_table_name, spark_ident
from offload_glue.restore import TEST_HOOKS, RestoreRequest, restore, staging_name

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DB = "restore"

PG_COLUMNS_SQL = (
    "SELECT column_name, data_type, udt_schema, udt_name, character_maximum_length, numeric_precision, "
    "numeric_scale, datetime_precision, interval_type, is_nullable FROM information_schema.columns "
    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position"
)
MY_COLUMNS_SQL = (
    "SELECT column_name, column_type, data_type, character_maximum_length, numeric_precision, numeric_scale, "
    "datetime_precision, is_nullable, character_set_name, column_key FROM information_schema.columns "
    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position"
)


def do_archive(spark, conn, schema, table, run_id):
    return archive(
        spark, ArchiveRequest(connection=conn, schema=schema, table=table, run_id=run_id, catalog=CATALOG, database=DB)
    )


def do_restore(spark, conn, schema, table, target, **kw):
    summary, code = restore(
        spark,
        RestoreRequest(
            connection=conn,
            schema=kw.pop("target_schema", schema),
            target_table=target,
            source_schema=schema,
            source_table=table,
            catalog=CATALOG,
            database=DB,
            **kw,
        ),
    )
    return summary, code


def snapshot_of(spark, schema, table):
    return (current_snapshot(spark, spark_ident(CATALOG, DB, archive_table_name(schema, table))) or {}).get(
        "snapshot_id"
    )


def pg_relations(pg_db, schema):
    return sorted(r[0] for r in pg_exec(pg_db, "SELECT relname FROM pg_class c JOIN pg_namespace n "
                                               "ON n.oid = c.relnamespace WHERE nspname = %s AND relkind = 'r'",
                                        (schema,)))  # fmt: skip


# ---- the type matrices ------------------------------------------------------------------------------
@pytest.mark.parametrize("write_path", ["arrow", "copy", "jdbc"])
def test_every_postgres_type_is_restored_with_its_type_and_values(spark, pg_db, pg_connection, pg_schema, write_path):
    pg_types.create_type_table(pg_db, pg_schema)
    assert do_archive(spark, pg_connection, pg_schema, "types", "rt-1")["status"] == "archived"
    before = snapshot_of(spark, pg_schema, "types")

    summary, code = do_restore(spark, pg_connection, pg_schema, "types", "types_back", write_path=write_path)
    assert code == 0 and summary["status"] == "restored", summary.get("validation", {}).get("mismatches")
    assert summary["write"]["path"] == write_path
    if write_path == "arrow":  # n_38_10 is the first column with no binary COPY form here (beyond 18 digits)
        assert summary["write"]["copy_format"] == "text" and summary["copy_format_text"].startswith("column n_38_10: ")
    assert summary["validation"]["status"] == "passed"
    assert summary["rows"] == len(pg_types.ROWS)
    assert all(c["from_lineage"] for c in summary["columns"]), summary["columns"]

    original = pg_exec(pg_db, PG_COLUMNS_SQL, (pg_schema, "types"))
    restored = pg_exec(pg_db, PG_COLUMNS_SQL, (pg_schema, "types_back"))
    assert restored == original
    key = (
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
    )
    key += "WHERE i.indisprimary AND i.indrelid = %s::regclass"
    assert pg_exec(pg_db, key, (f'"{pg_schema}".types_back',)) == [("id",)]
    # every row, as PostgreSQL prints it (the text of each value in its own type)
    rows = 'SELECT id, t::text FROM "{}".{} t ORDER BY id'
    assert pg_exec(pg_db, rows.format(pg_schema, "types_back")) == pg_exec(pg_db, rows.format(pg_schema, "types"))
    assert pg_relations(pg_db, pg_schema) == ["types", "types_back"]  # no staging table left
    assert snapshot_of(spark, pg_schema, "types") == before  # the archive is only read


def test_every_mariadb_type_is_restored_with_its_type_and_values(spark, my_db, my_connection, my_schema):
    cols = ", ".join(f"{c} {t}" for c, t, *_ in my_types.COLUMNS)
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.types (id int PRIMARY KEY, {cols})")
    for row in my_types.ROWS:
        my_exec(my_db, f"INSERT INTO `{my_schema}`.types VALUES ({row})")
    assert do_archive(spark, my_connection, my_schema, "types", "rt-my-1")["status"] == "archived"
    before = snapshot_of(spark, my_schema, "types")

    summary, code = do_restore(spark, my_connection, my_schema, "types", "types_back")
    assert code == 0 and summary["status"] == "restored", summary.get("validation", {}).get("mismatches")
    assert summary["write"]["path"] == "copy"  # LOAD DATA LOCAL INFILE
    assert summary["validation"]["status"] == "passed" and summary["rows"] == len(my_types.ROWS)

    original = my_exec(my_db, MY_COLUMNS_SQL, (my_schema, "types"))
    restored = my_exec(my_db, MY_COLUMNS_SQL, (my_schema, "types_back"))
    assert restored == original
    rows = "SELECT * FROM `{}`.`{}` ORDER BY id"
    assert my_exec(my_db, rows.format(my_schema, "types_back")) == my_exec(my_db, rows.format(my_schema, "types"))
    tables = my_exec(my_db, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (my_schema,))
    assert sorted(t[0] for t in tables) == ["types", "types_back"]
    assert snapshot_of(spark, my_schema, "types") == before


# ---- guards -------------------------------------------------------------------------------------------
def small_table(pg_db, schema, table="ledger", rows=50, start=1):
    pg_exec(
        pg_db, f'CREATE TABLE IF NOT EXISTS "{schema}"."{table}" (id int PRIMARY KEY, note text, amount numeric(9,2))'
    )
    pg_exec(
        pg_db,
        f'INSERT INTO "{schema}"."{table}" SELECT g, \'n\' || g, g / 4.0 '
        f"FROM generate_series({start}, {start + rows - 1}) g",
    )


def test_an_existing_target_is_refused_and_nothing_is_written(spark, pg_db, pg_connection, pg_schema):
    small_table(pg_db, pg_schema)
    do_archive(spark, pg_connection, pg_schema, "ledger", "ex-1")
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".audit_copy (x int)')
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}".audit_copy VALUES (7)')
    pg_exec(pg_db, f'CREATE VIEW "{pg_schema}".audit_view AS SELECT 1 AS x')
    for target in ("audit_copy", "audit_view"):
        with pytest.raises(OffloadError) as err:
            do_restore(spark, pg_connection, pg_schema, "ledger", target)
        assert err.value.code == "target_exists" and f"{pg_schema}.{target} already exists" in str(err.value)
    assert pg_exec(pg_db, f'SELECT * FROM "{pg_schema}".audit_copy') == [(7,)]
    assert pg_relations(pg_db, pg_schema) == ["audit_copy", "ledger"]  # no staging table either


def test_as_of_snapshot_restores_the_older_rows(spark, pg_db, pg_connection, pg_schema):
    small_table(pg_db, pg_schema, rows=10)
    do_archive(spark, pg_connection, pg_schema, "ledger", "snap-1")
    first = snapshot_of(spark, pg_schema, "ledger")
    small_table(pg_db, pg_schema, rows=5, start=11)
    pg_exec(pg_db, f"UPDATE \"{pg_schema}\".ledger SET note = 'changed' WHERE id = 3")
    do_archive(spark, pg_connection, pg_schema, "ledger", "snap-2")
    second = snapshot_of(spark, pg_schema, "ledger")
    assert first != second

    summary, code = do_restore(spark, pg_connection, pg_schema, "ledger", "ledger_then", snapshot_id=first)
    assert code == 0 and summary["archive_snapshot_id"] == first
    assert summary["validation"]["archive_snapshot_id"] == first and summary["validation"]["status"] == "passed"
    got = pg_exec(pg_db, f'SELECT id, note, amount::text FROM "{pg_schema}".ledger_then ORDER BY id')
    assert got == [(i, f"n{i}", f"{i / 4:.2f}") for i in range(1, 11)]  # before the change and the new rows
    assert snapshot_of(spark, pg_schema, "ledger") == second  # still the current snapshot

    with pytest.raises(OffloadError) as err:
        do_restore(spark, pg_connection, pg_schema, "ledger", "ledger_never", snapshot_id=12345)
    assert err.value.code == "snapshot_not_found" and str(first) in str(err.value)


@pytest.fixture()
def pg_reader(pg_db, pg_connection, pg_schema):
    """A read-only login (what discovery and archive use): USAGE and SELECT, nothing else."""
    role, password = f"offload_ro_{uuid.uuid4().hex[:8]}", "read-only-test"
    pg_exec(pg_db, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    pg_exec(pg_db, f'GRANT USAGE ON SCHEMA "{pg_schema}" TO {role}')
    pg_exec(pg_db, f'GRANT SELECT ON ALL TABLES IN SCHEMA "{pg_schema}" TO {role}')
    yield Connection("postgresql", pg_connection.host, pg_connection.port, pg_connection.database, role, password)
    pg_exec(pg_db, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_the_read_only_credential_is_refused(spark, pg_db, pg_connection, pg_schema, pg_reader):
    small_table(pg_db, pg_schema)
    do_archive(spark, pg_connection, pg_schema, "ledger", "ro-1")
    with pytest.raises(OffloadError) as err:
        do_restore(spark, pg_reader, pg_schema, "ledger", "ledger_copy")
    assert err.value.code == "restore_credential_cannot_write"
    assert f"user {pg_reader.user}" in str(err.value) and "read-only" in str(err.value)
    assert pg_relations(pg_db, pg_schema) == ["ledger"]


def job(args, env=None, **kw):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "glue", "restore_table.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", **(env or {})},
        **kw,
    )


def test_the_job_refuses_the_read_credential_arguments_before_spark_starts(tmp_path):
    base = ["--target_schema", "s", "--target_table", "t", "--archive_table", "a", "--warehouse", str(tmp_path)]
    base += ["--source_engine", "postgresql", "--source_host", "h", "--source_database", "d"]
    out = job([*base, "--source_user", "reader"])
    assert out.returncode == 2
    assert json.loads(out.stdout)["error"]["code"] == "read_credential_given" and "--source_user" in out.stderr
    out = job(base)
    assert out.returncode == 2 and "own write-capable credential" in json.loads(out.stdout)["error"]["message"]


@pytest.mark.parametrize("write_path", ["copy", "arrow"])
def test_a_killed_restore_leaves_no_table_under_the_target_name_and_a_rerun_succeeds(
    spark, warehouse, pg_db, pg_connection, pg_schema, tmp_path, write_path
):
    small_table(pg_db, pg_schema, rows=400_000)
    do_archive(spark, pg_connection, pg_schema, "ledger", "kill-1")
    staging = staging_name("postgresql", "ledger_audit")
    args = [
        "--target_schema", pg_schema, "--target_table", "ledger_audit", "--source_schema", pg_schema,
        "--source_table", "ledger", "--warehouse", warehouse, "--catalog", CATALOG, "--archive_database", DB,
        "--source_engine", "postgresql", "--source_host", pg_connection.host,
        "--source_port", str(pg_connection.port), "--source_database", pg_connection.database,
        "--restore_user", pg_connection.user, "--write_path", write_path, "--temp_dir", str(tmp_path),
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "glue", "restore_table.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TZ": "UTC", "OFFLOAD_RESTORE_PASSWORD": pg_connection.password},
        start_new_session=True,
    )
    size = f'SELECT pg_relation_size(to_regclass(\'"{pg_schema}"."{staging}"\'))'
    seen, deadline = False, time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if (pg_exec(pg_db, size)[0][0] or 0) > 0:  # COPY is writing rows into the staging table
                seen = True
                os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Spark JVM, mid-write
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert seen, "the job ended before rows reached the staging table; cannot test a kill mid-write"
    assert pg_exec(pg_db, "SELECT to_regclass(%s)", (f'"{pg_schema}".ledger_audit',)) == [(None,)]
    assert staging in pg_relations(pg_db, pg_schema)  # what the kill left: the staging table only

    if write_path == "copy":
        assert os.listdir(tmp_path)  # and the COPY text files it was loading
    summary, code = do_restore(
        spark, pg_connection, pg_schema, "ledger", "ledger_audit", temp_dir=str(tmp_path), write_path=write_path
    )
    assert code == 0 and summary["stale_staging_dropped"] == staging
    assert summary["write"]["path"] == write_path and summary["validation"]["status"] == "passed"
    assert os.listdir(tmp_path) == []
    assert pg_exec(pg_db, f'SELECT count(*), sum(id) FROM "{pg_schema}".ledger_audit') == [
        (400_000, 400_000 * 400_001 // 2)
    ]
    assert pg_relations(pg_db, pg_schema) == ["ledger", "ledger_audit"]
    comment = pg_exec(pg_db, "SELECT obj_description(%s::regclass, 'pg_class')", (f'"{pg_schema}".ledger_audit',))
    assert comment[0][0].startswith("offload restore: restored from archive")


def test_mariadb_killed_before_the_rename_leaves_only_staging_and_a_rerun_succeeds(
    spark, warehouse, my_db, my_connection, my_schema
):
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.t (id int PRIMARY KEY, v varchar(20))")
    my_exec(my_db, f"INSERT INTO `{my_schema}`.t VALUES (1, 'a'), (2, NULL), (3, 'c')")
    do_archive(spark, my_connection, my_schema, "t", "my-kill-1")
    args = [
        "--target_schema", my_schema, "--target_table", "t_back", "--source_schema", my_schema,
        "--source_table", "t", "--warehouse", warehouse, "--catalog", CATALOG, "--archive_database", DB,
        "--source_engine", "mysql", "--source_host", my_connection.host,
        "--source_port", str(my_connection.port), "--source_database", my_connection.database,
        "--restore_user", my_connection.user,
    ]  # fmt: skip
    out = job(args, env={"OFFLOAD_RESTORE_PASSWORD": my_connection.password, "OFFLOAD_RESTORE_FAULT": "before_rename"})
    assert out.returncode == -signal.SIGKILL
    tables = my_exec(my_db, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (my_schema,))
    assert sorted(t[0] for t in tables) == ["t", staging_name("mysql", "t_back")]

    out = job(args, env={"OFFLOAD_RESTORE_PASSWORD": my_connection.password})
    assert out.returncode == 0, out.stdout
    summary = json.loads(out.stdout)
    assert summary["status"] == "restored" and summary["stale_staging_dropped"] == staging_name("mysql", "t_back")
    assert my_exec(my_db, f"SELECT * FROM `{my_schema}`.t_back ORDER BY id") == ((1, "a"), (2, None), (3, "c"))


def test_write_path_copy_needs_a_local_master():
    from offload_glue.engines import engine_for
    from offload_glue.restore import choose_write_path

    pg, my = engine_for("postgresql"), engine_for("mysql")
    assert choose_write_path(pg, "auto", local_master=True) == "copy"
    assert choose_write_path(pg, "auto", local_master=False) == "jdbc"  # a cluster: executors' disks are theirs
    assert choose_write_path(my, "jdbc") == "jdbc"
    with pytest.raises(OffloadError) as err:
        choose_write_path(pg, "copy", local_master=False)
    assert err.value.code == "bad_write_path" and "local Spark master" in str(err.value)
    # arrow: the driver alone, any master, when it applies (arrow_reason None); else auto's Spark path
    assert choose_write_path(pg, "auto", local_master=False, arrow_reason=None) == "arrow"
    assert choose_write_path(pg, "arrow", local_master=True, arrow_reason="too big") == "copy"
    assert choose_write_path(pg, "arrow", local_master=False, arrow_reason="too big") == "jdbc"
    assert choose_write_path(my, "auto", local_master=True, arrow_reason=None) == "copy"  # MariaDB: Spark
    with pytest.raises(OffloadError) as err:
        choose_write_path(my, "arrow", arrow_reason=None)
    assert err.value.code == "bad_write_path" and "PostgreSQL only" in str(err.value)


def test_restore_from_the_glue_catalog_on_s3(spark, glue_catalog, pg_db, pg_connection, pg_schema):
    """The production catalog (GlueCatalog + S3FileIO on the moto server): archive, re-archive, restore the
    first snapshot."""
    catalog, database = glue_catalog["catalog"], "restore_glue"
    small_table(pg_db, pg_schema, rows=20)
    req = dict(connection=pg_connection, schema=pg_schema, table="ledger", catalog=catalog, database=database)
    archive(spark, ArchiveRequest(run_id="g-1", **req))
    ident = spark_ident(catalog, database, archive_table_name(pg_schema, "ledger"))
    first = current_snapshot(spark, ident)["snapshot_id"]
    small_table(pg_db, pg_schema, rows=5, start=21)
    archive(spark, ArchiveRequest(run_id="g-2", **req))
    summary, code = restore(
        spark,
        RestoreRequest(
            connection=pg_connection,
            schema=pg_schema,
            target_table="ledger_from_glue",
            source_schema=pg_schema,
            source_table="ledger",
            catalog=catalog,
            database=database,
            snapshot_id=first,
        ),
    )
    assert code == 0 and summary["validation"]["status"] == "passed" and summary["catalog"] == catalog
    assert summary["write"]["path"] == "arrow"  # pyiceberg read the snapshot's files from S3 itself
    assert pg_exec(pg_db, f'SELECT count(*), max(id) FROM "{pg_schema}".ledger_from_glue') == [(20, 20)]


# ---- the arrow path's validation: a tampered staging table fails, named by key, and is never renamed ------
def audit_table(pg_db, schema):
    pg_exec(
        pg_db,
        f'CREATE TABLE "{schema}".acct (id int PRIMARY KEY, note text, amount numeric(9,2), ratio float8, raw bytea)',
    )
    pg_exec(
        pg_db,
        f"INSERT INTO \"{schema}\".acct SELECT g, 'n' || g, g / 4.0, CASE WHEN g % 5 = 0 THEN 0 ELSE g / 3.0 END, "
        "decode(md5(g::text), 'hex') FROM generate_series(1, 60) g",
    )


TAMPERS = {
    # what is done to the staging table between the write and the validation -> (key, kind, columns)
    "changed": ("UPDATE {t} SET note = 'n7 ' WHERE id = 7", 7, "changed", ["note"]),
    "zero_sign": ("UPDATE {t} SET ratio = '-0' WHERE id = 10", 10, "changed", ["ratio"]),  # aggregates equal
    "bytes": ("UPDATE {t} SET raw = raw || '\\x00'::bytea WHERE id = 12", 12, "changed", ["raw"]),
    "deleted": ("DELETE FROM {t} WHERE id = 11", 11, "missing_in_restored", None),
    "duplicated": ("INSERT INTO {t} SELECT * FROM {t} WHERE id = 13", 13, "duplicated_in_restored", None),
    "extra": ("INSERT INTO {t} VALUES (1000, 'x', 1, 1, NULL)", 1000, "unexpected_in_restored", None),
}


@pytest.mark.parametrize("validation_kind", ["values", "checksums"])
@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_tampered_staging_table_fails_the_arrow_validation_naming_the_key(
    spark, pg_db, pg_connection, pg_schema, monkeypatch, tamper, validation_kind
):
    audit_table(pg_db, pg_schema)
    do_archive(spark, pg_connection, pg_schema, "acct", "tamper-1")
    before = snapshot_of(spark, pg_schema, "acct")
    staging = staging_name("postgresql", "acct_back")
    sql, key, kind, columns = TAMPERS[tamper]
    table = f'"{pg_schema}"."{staging}"'
    monkeypatch.setitem(TEST_HOOKS, "before_validate", lambda: pg_exec(pg_db, sql.format(t=table)))

    summary, code = do_restore(spark, pg_connection, pg_schema, "acct", "acct_back", write_path="arrow",
                               arrow_validation=validation_kind)  # fmt: skip
    assert code == 1 and summary["status"] == "validation_failed" and summary["write"]["path"] == "arrow"
    validation = summary["validation"]
    assert validation["status"] == "failed" and "rows" in validation["mismatches"], validation["mismatches"]
    # with checksums, they caught it; every value was then read back to name the key
    if validation_kind == "checksums":
        assert validation["checksums"]["status"] == "failed", validation.get("checksums_not_used")
    else:
        assert "checksums" not in validation and "checksums_not_used" not in validation
    keys = validation["rows"]["keys"]
    assert [(k["key"], k["kind"]) for k in keys] == [({"id": key}, kind)], keys
    if columns:
        assert keys[0]["columns"] == columns
    # left under the staging name for inspection, never renamed; the archive only read
    assert pg_relations(pg_db, pg_schema) == sorted(["acct", staging])
    assert pg_exec(pg_db, "SELECT to_regclass(%s)", (f'"{pg_schema}".acct_back',)) == [(None,)]
    assert snapshot_of(spark, pg_schema, "acct") == before
    # without a tamper the same restore passes (the rerun drops the staging table the failed one left)
    monkeypatch.delitem(TEST_HOOKS, "before_validate")
    summary, code = do_restore(spark, pg_connection, pg_schema, "acct", "acct_back", write_path="arrow",
                               arrow_validation=validation_kind)  # fmt: skip
    assert code == 0 and summary["stale_staging_dropped"] == staging and summary["validation"]["status"] == "passed"
    rows = 'SELECT a::text FROM "{}".{} a ORDER BY id'
    assert pg_exec(pg_db, rows.format(pg_schema, "acct_back")) == pg_exec(pg_db, rows.format(pg_schema, "acct"))


def test_arrow_falls_back_to_the_spark_path_over_the_size_limit_and_with_delete_files(
    spark, pg_db, pg_connection, pg_schema
):
    audit_table(pg_db, pg_schema)
    do_archive(spark, pg_connection, pg_schema, "acct", "fb-1")
    rows = 'SELECT a::text FROM "{}".{} a ORDER BY id'

    summary, code = do_restore(spark, pg_connection, pg_schema, "acct", "acct_small", arrow_max_bytes=1)
    assert code == 0 and summary["write"]["path"] == "copy" and summary["validation"]["status"] == "passed"
    assert "more than the arrow path's limit of 1" in summary["arrow_not_used"]
    assert pg_exec(pg_db, rows.format(pg_schema, "acct_small")) == pg_exec(pg_db, rows.format(pg_schema, "acct"))

    # a row-level delete (merge-on-read: a position delete file) in a later snapshot of the archive
    ident = spark_ident(CATALOG, DB, archive_table_name(pg_schema, "acct"))
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('write.delete.mode' = 'merge-on-read')")
    spark.sql(f"DELETE FROM {ident} WHERE id = 3")
    assert spark.sql(f"SELECT count(*) FROM {ident}.delete_files").collect()[0][0] >= 1
    summary, code = do_restore(spark, pg_connection, pg_schema, "acct", "acct_deleted", write_path="arrow")
    assert code == 0 and summary["write"]["path"] == "copy" and summary["validation"]["status"] == "passed"
    assert "delete file" in summary["arrow_not_used"]
    assert pg_exec(pg_db, rows.format(pg_schema, "acct_deleted")) == [
        r for r in pg_exec(pg_db, rows.format(pg_schema, "acct")) if not r[0].startswith("(3,")
    ]


# ---- the arrow path's text format and its read-back per COPY stream ---------------------------------------
TEXTS = [
    # what COPY's text format escapes or could mistake: tab, newline, CR, backslash, its NULL and end markers
    "a\tb", "x\ny", "c\r\nd", "back\\slash", "\\N", "\\\\N", "\\.", "end\\", "\\x41", "", None, " lead", "äöü€",
]  # fmt: skip


@pytest.mark.parametrize(
    "quote,copy_format",
    [(False, "text"), (True, "text"), (True, "auto")],
    ids=["csv_writer_joins", "arrow_joins", "binary"],
)
def test_texts_with_tabs_newlines_backslashes_and_null_markers_round_trip_on_the_arrow_path(
    spark, pg_db, pg_connection, pg_schema, quote, copy_format
):
    """Every text and bytea comes back byte for byte through COPY's text format, on both of its joins (a ``"``
    in a batch makes Arrow join the fields instead of pyarrow's CSV writer), and through the binary format;
    NULL stays apart from ``\\N``."""
    texts = [*TEXTS, 'say "hi"'] if quote else TEXTS
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".texts (id int PRIMARY KEY, t text, v varchar(20), b bytea, f float8)')
    for i, t in enumerate(texts):
        raw = None if t is None else t.encode()
        pg_exec(pg_db, f'INSERT INTO "{pg_schema}".texts VALUES (%s, %s, %s, %s, %s)', (i, t, t, raw, i / 3))
    do_archive(spark, pg_connection, pg_schema, "texts", "texts-1")
    summary, code = do_restore(spark, pg_connection, pg_schema, "texts", "texts_back", write_path="arrow",
                               copy_format=copy_format)  # fmt: skip
    assert code == 0 and summary["write"]["path"] == "arrow" and summary["validation"]["status"] == "passed"
    assert summary["write"]["copy_format"] == ("binary" if copy_format == "auto" else "text")
    got = pg_exec(pg_db, f'SELECT id, t, v, b, f FROM "{pg_schema}".texts_back ORDER BY id')
    assert [(r[0], r[1], r[2], None if r[3] is None else bytes(r[3]), r[4]) for r in got] == [
        (i, t, t, None if t is None else t.encode(), i / 3) for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize("validation_kind", ["values", "checksums"])
@pytest.mark.parametrize("stream", [0, 1])
def test_two_copy_streams_read_back_by_transaction_and_a_changed_row_of_either_is_named(
    spark, pg_db, pg_connection, pg_schema, monkeypatch, stream, validation_kind
):
    """Two COPY streams (two data files): each stream's rows are read back by the transaction that wrote them
    and compared in the order sent; a row another session changed after the commit (a new row version, written
    by another transaction) still fails the validation, named by its key, in either stream. With checksums the
    write keeps no batch: they differ, the archive's batches are read again per stream, and the key is named."""
    rows = 20_000
    small_table(pg_db, pg_schema, rows=rows)
    out = archive(spark, ArchiveRequest(connection=pg_connection, schema=pg_schema, table="ledger", run_id="two-1",
                                        catalog=CATALOG, database=DB, num_partitions=2))  # fmt: skip
    assert out["status"] == "archived"
    summary, code = do_restore(spark, pg_connection, pg_schema, "ledger", "ledger_two", write_path="arrow",
                               arrow_validation=validation_kind)  # fmt: skip
    assert code == 0 and summary["validation"]["status"] == "passed"
    assert summary["write"]["copy_streams"] == 2, summary["write"]
    if validation_kind == "values":
        assert summary["validation"]["rows"]["read_back_order"] != "all rows sorted by key"
    else:
        assert summary["validation"]["method"] == "arrow_checksums"
    assert pg_exec(pg_db, f'SELECT count(*), sum(id) FROM "{pg_schema}".ledger_two') == [(rows, rows * (rows + 1) // 2)]

    key = 7 if stream == 0 else rows - 7
    staging = staging_name("postgresql", "ledger_tampered")
    sql = f'UPDATE "{pg_schema}"."{staging}" SET note = \'forged\' WHERE id = {key}'
    monkeypatch.setitem(TEST_HOOKS, "before_validate", lambda: pg_exec(pg_db, sql))
    summary, code = do_restore(spark, pg_connection, pg_schema, "ledger", "ledger_tampered", write_path="arrow",
                               arrow_validation=validation_kind)  # fmt: skip
    assert code == 1 and summary["validation"]["status"] == "failed"
    if validation_kind == "checksums":
        assert (
            summary["validation"]["checksums"]["status"] == "failed"
            and "archive_reread_seconds" in summary["validation"]
        )
    assert [(k["key"], k["kind"], k.get("columns")) for k in summary["validation"]["rows"]["keys"]] == [
        ({"id": key}, "changed", ["note"])
    ]
    assert summary["validation"]["rows"]["read_back_order"] == "all rows sorted by key"
    assert pg_exec(pg_db, "SELECT to_regclass(%s)", (f'"{pg_schema}".ledger_tampered',)) == [(None,)]
