"""The PostgreSQL binary-COPY read path: heap block ranges (TID range scans) split any plain table,
keyless or not, into partitions that together return every row exactly once — also after updates and
deletes moved rows around the heap; tables that cannot be split that way (partitioned tables) and an
explicit split column fall back to key ranges; rows come back exactly either way."""

from __future__ import annotations

from collections import Counter

import iceberg_reader
import pytest
from conftest import CATALOG, pg_exec
from offload_glue import copy_read
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.source_table import introspect
from offload_glue.validate import ValidateRequest, validate

DB = "copy_read"


def make_keyless(pg_db, schema, rows=3000):
    pg_exec(pg_db, f'CREATE TABLE "{schema}".events (code int, note text)')  # no key: duplicates allowed
    pg_exec(pg_db, f"INSERT INTO \"{schema}\".events SELECT g % 700, 'n' || (g % 11) FROM generate_series(1, {rows}) g")
    # new row versions land at the end of the heap, dead ones stay behind
    pg_exec(pg_db, f"UPDATE \"{schema}\".events SET note = 'moved' WHERE code % 7 = 0")
    pg_exec(pg_db, f'DELETE FROM "{schema}".events WHERE code % 13 = 0')


@pytest.mark.parametrize("n", [1, 2, 3, 7, 50])
def test_block_predicates_return_every_row_once(spark, pg_db, pg_connection, pg_schema, n):
    make_keyless(pg_db, pg_schema)
    src = introspect(spark, pg_connection, pg_schema, "events")
    pages, _ = copy_read.heap_size(spark, src)
    pg_exec(
        pg_db, f"INSERT INTO \"{pg_schema}\".events SELECT g, 'appended after sizing' FROM generate_series(1, 2000) g"
    )
    preds = copy_read.block_predicates(pages, n)
    assert len(preds) == min(n, pages)
    got = Counter()
    for pred in preds:
        got.update(pg_exec(pg_db, f'SELECT ctid::text, code, note FROM "{pg_schema}".events WHERE {pred}'))
    want = Counter(pg_exec(pg_db, f'SELECT ctid::text, code, note FROM "{pg_schema}".events'))
    assert got == want and max(got.values()) == 1


def test_keyless_table_is_read_in_parallel_and_archived_exactly(spark, warehouse, pg_db, pg_connection, pg_schema):
    make_keyless(pg_db, pg_schema)
    summary = archive(
        spark,
        ArchiveRequest(
            connection=pg_connection,
            schema=pg_schema,
            table="events",
            run_id="k-1",
            catalog=CATALOG,
            database=DB,
            num_partitions=3,
        ),
    )
    assert summary["read"]["path"] == "copy"
    assert summary["read"]["split"] == "heap block ranges" and summary["read"]["partitions"] == 3
    got = Counter(
        (r["code"], r["note"]) for r in iceberg_reader.rows(warehouse, DB, archive_table_name(pg_schema, "events"))
    )
    assert got == Counter(pg_exec(pg_db, f'SELECT code, note FROM "{pg_schema}".events'))
    result = validate(
        spark,
        ValidateRequest(
            connection=pg_connection, schema=pg_schema, table="events", catalog=CATALOG, database=DB, num_partitions=3
        ),
    )
    assert result["status"] == "passed", result["mismatches"]


def test_partitioned_table_and_explicit_split_column_use_key_ranges(spark, warehouse, pg_db, pg_connection, pg_schema):
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".parted (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)')
    pg_exec(
        pg_db, f'CREATE TABLE "{pg_schema}".parted_a PARTITION OF "{pg_schema}".parted FOR VALUES FROM (0) TO (500)'
    )
    pg_exec(
        pg_db, f'CREATE TABLE "{pg_schema}".parted_b PARTITION OF "{pg_schema}".parted FOR VALUES FROM (500) TO (1000)'
    )
    pg_exec(pg_db, f"INSERT INTO \"{pg_schema}\".parted SELECT g, 'v' || g FROM generate_series(0, 999) g")
    make_keyless(pg_db, pg_schema)
    pg_exec(pg_db, f'ALTER TABLE "{pg_schema}".events ADD COLUMN id serial PRIMARY KEY')

    cases = [("parted", None), ("events", "code")]  # no heap of its own; a split column asked for
    for table, split_column in cases:
        summary = archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table=table,
                run_id="p-1",
                catalog=CATALOG,
                database=DB,
                num_partitions=4,
                split_column=split_column,
            ),
        )
        assert summary["read"]["path"] == "copy" and summary["read"]["split_column"] == (split_column or "id")
        assert summary["read"]["partitions"] == 4
        cols = "id, v" if table == "parted" else "id, code, note"
        want = sorted(pg_exec(pg_db, f'SELECT {cols} FROM "{pg_schema}".{table}'))
        rows = iceberg_reader.rows(warehouse, DB, archive_table_name(pg_schema, table))
        assert sorted(tuple(r[c.strip()] for c in cols.split(",")) for r in rows) == want


def test_without_the_jar_auto_falls_back_to_jdbc_and_copy_is_refused(
    spark, warehouse, pg_db, pg_connection, pg_schema, monkeypatch
):
    from offload_glue.errors import OffloadError

    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".small (id int PRIMARY KEY, v text)')
    pg_exec(pg_db, f"INSERT INTO \"{pg_schema}\".small SELECT g, 'v' || g FROM generate_series(1, 50) g")
    monkeypatch.setattr(copy_read, "available", lambda spark: False)  # as on Glue without --extra-jars
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table="small",
                run_id="j-1",
                catalog=CATALOG,
                database=DB,
                read_path="copy",
            ),
        )
    assert err.value.code == "bad_read_path" and "offload-pgcopy.jar" in str(err.value)
    summary = archive(
        spark,
        ArchiveRequest(
            connection=pg_connection, schema=pg_schema, table="small", run_id="j-1", catalog=CATALOG, database=DB
        ),
    )
    assert summary["read"]["path"] == "jdbc" and summary["rows"] == 50
    result = validate(
        spark, ValidateRequest(connection=pg_connection, schema=pg_schema, table="small", catalog=CATALOG, database=DB)
    )
    assert result["status"] == "passed", result["mismatches"]
