"""Purge refuses under legal hold, before the retention end and when no end is known (unless forced
with a reason), leaves no file at the table location when it runs (orphans of killed writes
included), and always writes an audit record valid against schema/purge-audit.schema.json."""

from __future__ import annotations

import glob
import json
import os

import iceberg_reader
import pytest
from conftest import CATALOG, pg_exec
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive, table_properties
from offload_glue.names import archive_table_name, spark_ident
from offload_glue.purge import PurgeRequest, purge

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "purge-audit.schema.json")))
DB = "purge"


@pytest.fixture()
def archived(spark, warehouse, pg_db, pg_connection, pg_schema):
    def make(table, **kw):
        pg_exec(
            pg_db,
            f'CREATE TABLE "{pg_schema}"."{table}" AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100) g',
        )
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table=table,
                run_id="p-1",
                catalog=CATALOG,
                database=DB,
                **kw,
            ),
        )
        name = archive_table_name(pg_schema, table)
        return name, os.path.join(warehouse, DB, name)

    return make


def audit(tmp_path, record):
    assert record["audit_record"] and os.path.exists(record["audit_record"])
    written = json.load(open(record["audit_record"]))
    Draft202012Validator(SCHEMA).validate(written)
    return written


def still_there(spark, warehouse, name):
    return table_properties(spark, spark_ident(CATALOG, DB, name)) is not None and iceberg_reader.metadata_files(
        warehouse, DB, name
    )


@pytest.mark.parametrize(
    "case", ["legal hold asked", "legal hold in lineage", "before retention end", "retention end unknown"]
)
def test_purge_refuses(spark, warehouse, archived, tmp_path, case):
    extra = {"legal_hold": "true"} if case == "legal hold in lineage" else {}
    retention = None if case == "retention end unknown" else "2030-01-01"
    name, _ = archived("t", extra_properties=extra, retention_until=retention)
    as_of = "2029-12-31" if case == "before retention end" else "2031-01-01"
    record = purge(
        spark,
        PurgeRequest(
            archive_table=name,
            catalog=CATALOG,
            database=DB,
            as_of=as_of,
            legal_hold=case == "legal hold asked",
            audit_path=str(tmp_path),
        ),
    )
    want = {
        "legal hold asked": "legal_hold",
        "legal hold in lineage": "legal_hold",
        "before retention end": "retention_not_reached",
        "retention end unknown": "retention_end_unknown",
    }[case]
    assert record["status"] == "refused" and record["refusal_reasons"] == [want]
    assert still_there(spark, warehouse, name)
    assert audit(tmp_path, record)["status"] == "refused"


def test_purge_after_retention_end_removes_every_file_orphans_included(spark, warehouse, archived, tmp_path):
    name, location = archived("t", retention_until="2020-01-01")
    orphan = os.path.join(location, "data", "00000-0-orphan-from-a-killed-write.parquet")
    with open(orphan, "wb") as fh:
        fh.write(b"PAR1 not referenced by any snapshot")
    before = [p for p in glob.glob(os.path.join(location, "**"), recursive=True) if os.path.isfile(p)]
    assert len(before) > 3
    record = purge(spark, PurgeRequest(archive_table=name, catalog=CATALOG, database=DB, audit_path=str(tmp_path)))
    assert record["status"] == "purged" and record["files_remaining"] == 0 and record["rows"] == 100
    assert record["files_before"] == len(before)  # the orphan was counted, then removed
    assert not os.path.exists(orphan)
    assert not glob.glob(os.path.join(location, "**", "*"), recursive=True)
    assert not still_there(spark, warehouse, name)
    written = audit(tmp_path, record)
    assert written["lineage"]["source.table"] == "t" and written["lineage"]["run_id"] == "p-1"


def test_forced_purge_under_legal_hold_records_the_reason(spark, warehouse, archived, tmp_path):
    name, location = archived("t", retention_until="2099-01-01")
    record = purge(
        spark,
        PurgeRequest(
            archive_table=name,
            catalog=CATALOG,
            database=DB,
            legal_hold=True,
            force_reason="court order 2026-17 lifted the hold",
            audit_path=str(tmp_path / "a.json"),
        ),
    )
    assert record["status"] == "purged"
    assert record["refusal_reasons"] == ["legal_hold", "retention_not_reached"]
    assert record["forced_reason"] == "court order 2026-17 lifted the hold"
    assert not os.path.exists(location) or not os.listdir(location)
    assert audit(tmp_path, record)["forced_reason"] == "court order 2026-17 lifted the hold"
