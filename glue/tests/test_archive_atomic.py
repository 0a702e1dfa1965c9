"""Atomicity and idempotency of the archive job: a failure or a kill in the middle of the write
leaves no visible table and a rerun gives exactly the source rows; a rerun of a finished run
changes nothing; an archive from another source is not replaced without a reason; lineage is
complete and holds no credentials. Each test runs on both catalogs (``catalog`` fixture): the local
Hadoop warehouse and the Glue Data Catalog with S3 on the moto server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.errors import OffloadError
from offload_glue.iceberg_table import table_properties
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_table(pg_db, schema, table, rows):
    pg_exec(
        pg_db,
        f'CREATE TABLE "{schema}"."{table}" '
        "(id bigint PRIMARY KEY, amount numeric(12,2), note text, created timestamp)",
    )
    pg_exec(
        pg_db,
        f'''INSERT INTO "{schema}"."{table}" SELECT g, g / 100.0, md5(g::text),
                       timestamp '2019-01-01' + g * interval '37 minutes' FROM generate_series(1, {rows}) g''',
    )


def visible(spark, catalog, db, schema, table) -> bool:
    """The catalog entry (Hadoop: the metadata files; Glue: the Glue table) or Spark sees the table."""
    name = archive_table_name(schema, table)
    return catalog.exists(db, name) or table_properties(spark, catalog.ident(db, name)) is not None


def request(conn, catalog, db, schema, table, run_id, **kw):
    return ArchiveRequest(
        connection=conn, schema=schema, table=table, run_id=run_id, catalog=catalog.name, database=db, **kw
    )


def source_ids(pg_db, schema, table):
    return [r[0] for r in pg_exec(pg_db, f'SELECT id FROM "{schema}"."{table}" ORDER BY id')]


def archived_ids(catalog, db, schema, table):
    return sorted(r["id"] for r in catalog.rows(db, archive_table_name(schema, table)))


def test_failure_in_the_middle_of_the_write_leaves_no_table_and_rerun_is_exact(
    spark, catalog, pg_db, pg_connection, pg_schema
):
    db = catalog.database("atomic")
    make_table(pg_db, pg_schema, "t", 4000)
    pg_exec(
        pg_db, f"UPDATE \"{pg_schema}\".t SET created = 'infinity' WHERE id = 3900"
    )  # poisons the last partition only
    with pytest.raises(OffloadError) as err:
        archive(spark, request(pg_connection, catalog, db, pg_schema, "t", "run-1", num_partitions=4))
    assert err.value.details["column"] == "created"
    assert not visible(spark, catalog, db, pg_schema, "t")

    pg_exec(pg_db, f"UPDATE \"{pg_schema}\".t SET created = '2020-01-01' WHERE id = 3900")
    summary = archive(spark, request(pg_connection, catalog, db, pg_schema, "t", "run-1", num_partitions=4))
    assert summary["status"] == "archived" and summary["rows"] == 4000 and summary["read"]["partitions"] == 4
    assert archived_ids(catalog, db, pg_schema, "t") == source_ids(pg_db, pg_schema, "t")


@pytest.mark.heavy
def test_killed_job_leaves_no_table_and_rerun_is_exact(spark, catalog, pg_db, pg_connection, pg_schema, tmp_path):
    db = catalog.database("atomic")
    make_table(pg_db, pg_schema, "big", 400_000)
    env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC")
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(ROOT, "glue", "archive_table.py"),
            "--JOB_NAME",
            "kill",
            "--source_engine",
            "postgresql",
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
            "big",
            "--run_id",
            "run-k",
            *catalog.job_args(),
            "--archive_database",
            db,
            "--num_partitions",
            "8",
            "--log_file",
            str(tmp_path / "archive.log"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    # the first complete data file of the write (a local file; an S3 object once its upload is done)
    deadline, seen = time.monotonic() + 240, []
    try:
        while time.monotonic() < deadline and proc.poll() is None and not seen:
            seen = [f for f in catalog.database_files(db) if f.endswith(".parquet")]
            time.sleep(0.02 if catalog.kind == "hadoop" else 0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the Python driver and its Spark JVM, mid-write
        proc.wait(timeout=60)
    assert seen, "the job finished or failed before any data file was written; cannot test a kill mid-write"
    assert proc.returncode == -signal.SIGKILL
    assert not visible(spark, catalog, db, pg_schema, "big")

    summary = archive(spark, request(pg_connection, catalog, db, pg_schema, "big", "run-k"))
    assert summary["status"] == "archived" and summary["rows"] == 400_000
    result = validate(
        spark,
        ValidateRequest(
            connection=pg_connection, schema=pg_schema, table="big", catalog=catalog.name, database=db, run_id="run-k"
        ),
    )
    assert result["status"] == "passed", result["mismatches"]
    assert len(catalog.rows(db, archive_table_name(pg_schema, "big"))) == 400_000


def test_rerun_of_a_finished_run_changes_nothing_and_a_new_run_never_duplicates(
    spark, catalog, pg_db, pg_connection, pg_schema
):
    db = catalog.database("atomic")
    make_table(pg_db, pg_schema, "t", 500)
    name = archive_table_name(pg_schema, "t")
    first = archive(spark, request(pg_connection, catalog, db, pg_schema, "t", "run-1"))
    metadata_before = catalog.metadata_files(db, name)
    assert metadata_before
    again = archive(spark, request(pg_connection, catalog, db, pg_schema, "t", "run-1"))
    assert again["status"] == "unchanged"
    assert again["snapshot_id"] == first["snapshot_id"] and again["rows"] == first["rows"] == 500
    assert catalog.metadata_files(db, name) == metadata_before  # not even a metadata commit

    second = archive(spark, request(pg_connection, catalog, db, pg_schema, "t", "run-2"))
    assert second["status"] == "archived" and second["snapshot_id"] != first["snapshot_id"]
    assert archived_ids(catalog, db, pg_schema, "t") == source_ids(pg_db, pg_schema, "t")
    assert catalog.load(db, name).metadata.properties["offload.run_id"] == "run-2"


def test_archive_of_another_source_is_not_replaced_without_a_reason(spark, catalog, pg_db, pg_connection, pg_schema):
    db = catalog.database("atomic")
    make_table(pg_db, pg_schema, "a", 10)
    make_table(pg_db, pg_schema, "b", 20)
    archive(
        spark, request(pg_connection, catalog, db, pg_schema, "a", "run-a", archive_table="shared", legal_hold=False)
    )
    with pytest.raises(OffloadError) as err:
        archive(spark, request(pg_connection, catalog, db, pg_schema, "b", "run-b", archive_table="shared"))
    assert err.value.code == "lineage_mismatch"
    table = catalog.load(db, "shared")
    assert table.metadata.properties["offload.source.table"] == "a" and len(table.scan().to_arrow()) == 10

    forced = archive(
        spark,
        request(
            pg_connection,
            catalog,
            db,
            pg_schema,
            "b",
            "run-b",
            archive_table="shared",
            force_reason="ticket OPS-1: a was renamed to b",
        ),
    )
    assert forced["status"] == "archived" and forced["rows"] == 20
    props = catalog.load(db, "shared").metadata.properties
    assert props["offload.source.table"] == "b" and props["offload.forced_reason"] == "ticket OPS-1: a was renamed to b"


def test_lineage_in_properties_and_snapshot_summary_without_credentials(
    spark, catalog, pg_db, pg_connection, pg_schema
):
    db = catalog.database("atomic")
    make_table(pg_db, pg_schema, "t", 30)
    archive(
        spark,
        request(
            pg_connection,
            catalog,
            db,
            pg_schema,
            "t",
            "run-l",
            config_commit="abc123",
            policy="finance-7y",
            partition_spec="months(created)",
        ),
    )
    name = archive_table_name(pg_schema, "t")
    table = catalog.load(db, name)
    want = {
        "source.engine": "postgresql",
        "source.host": pg_connection.host,
        "source.port": str(pg_connection.port),
        "source.database": pg_connection.database,
        "source.schema": pg_schema,
        "source.table": "t",
        "run_id": "run-l",
        "config_commit": "abc123",
        "policy": "finance-7y",
    }
    props, summary = table.metadata.properties, table.current_snapshot().summary
    for key, value in want.items():
        assert props[f"offload.{key}"] == value, key
        assert summary[f"offload.{key}"] == value, key
    assert props["offload.row_count"] == "30" and summary["total-records"] == "30"
    assert "offload.extracted_at" in props and "offload.extracted_at" in summary.additional_properties
    assert [f.transform.__class__.__name__ for f in table.spec().fields] == ["MonthTransform"]
    files = catalog.files(catalog.location(db, name))
    assert any(f.endswith(".parquet") for f in files) and any(f.endswith(".metadata.json") for f in files)
    assert catalog.contains(catalog.location(db, name), pg_connection.password.encode()) == []
    assert len(json.loads(props["offload.columns"])) == 4
