"""Schema fidelity beyond values, on both engines: a column declared NOT NULL becomes a required Iceberg
field and a column comment the field's doc (read back with pyiceberg, independent of Spark); the
archive still validates and a rerun (atomic replace) keeps both."""

from __future__ import annotations

import iceberg_reader
import pytest
from conftest import CATALOG, my_exec, pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

DB = "fidelity"

# (name, PostgreSQL type, MariaDB type, NOT NULL, comment) — the expectation of every case below
COLUMNS = [
    ("id", "bigint", "bigint", True, "the order's key"),
    ("amount", "numeric(12,2)", "decimal(12,2)", True, "Betrag in € — mit 'Anführungszeichen'"),
    ("note", "text", "text", False, "free text; may be NULL"),
    ("created", "timestamp(6)", "datetime(6)", True, None),
    ("due", "date", "date", False, None),
    ("Mixed Case", "varchar(20)", "varchar(20)", True, 'a "quoted" comment'),
]
ROWS = 50


def _pg_table(pg_db, schema: str) -> None:
    cols = ", ".join(f'"{n}" {t}{" NOT NULL" if nn else ""}' for n, t, _, nn, _ in COLUMNS)
    pg_exec(pg_db, f'CREATE TABLE "{schema}".t ({cols}, PRIMARY KEY (id))')
    for n, *_, doc in COLUMNS:
        if doc:
            pg_exec(pg_db, f'COMMENT ON COLUMN "{schema}".t."{n}" IS %s', (doc,))
    pg_exec(
        pg_db,
        f"INSERT INTO \"{schema}\".t SELECT g, g * 1.25, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END, "
        f"timestamp '2021-01-01' + g * interval '1 hour', CASE WHEN g % 2 = 0 THEN date '2021-02-01' + g END, "
        f"'m' || g FROM generate_series(1, {ROWS}) g",
    )


def _my_table(my_db, schema: str) -> None:
    def comment(doc):
        return " COMMENT '" + doc.replace("'", "''") + "'" if doc else ""

    cols = ", ".join(f"`{n}` {t}{' NOT NULL' if nn else ' NULL'}{comment(doc)}" for n, _, t, nn, doc in COLUMNS)
    my_exec(my_db, f"CREATE TABLE `{schema}`.t ({cols}, PRIMARY KEY (id))")
    my_exec(
        my_db,
        f"INSERT INTO `{schema}`.t SELECT seq, seq * 1.25, IF(seq % 3 = 0, NULL, CONCAT('n', seq)), "
        f"TIMESTAMP '2021-01-01 00:00:00' + INTERVAL seq HOUR, IF(seq % 2 = 0, DATE '2021-02-01' + INTERVAL seq DAY, "
        f"NULL), CONCAT('m', seq) FROM seq_1_to_{ROWS}",
    )


def _check_schema(warehouse: str, schema: str) -> None:
    table = iceberg_reader.load(warehouse, DB, archive_table_name(schema, "t"))
    fields = {f.name: f for f in table.schema().fields}
    assert list(fields) == [c[0] for c in COLUMNS]
    for name, _, _, not_null, doc in COLUMNS:
        assert (fields[name].required, fields[name].doc) == (not_null, doc), name


CASES = [
    pytest.param("postgresql", "copy", id="postgresql-copy"),
    pytest.param("postgresql", "jdbc", id="postgresql-jdbc"),
    pytest.param("mysql", "jdbc", id="mariadb"),
]


@pytest.mark.parametrize("engine,read_path", CASES)
def test_not_null_is_required_and_comments_are_docs(
    request, spark, warehouse, engine, read_path, pg_db, pg_connection, my_db, my_connection
):
    if engine == "postgresql":
        schema, conn = request.getfixturevalue("pg_schema"), pg_connection
        _pg_table(pg_db, schema)
    else:
        schema, conn = request.getfixturevalue("my_schema"), my_connection
        _my_table(my_db, schema)

    def run(run_id):
        return archive(
            spark,
            ArchiveRequest(
                connection=conn,
                schema=schema,
                table="t",
                run_id=run_id,
                catalog=CATALOG,
                database=DB,
                read_path=read_path,
                num_partitions=2,
            ),
        )

    summary = run("f-1")
    assert summary["status"] == "archived" and summary["rows"] == ROWS and summary["read"]["path"] == read_path
    _check_schema(warehouse, schema)
    rows = iceberg_reader.rows(warehouse, DB, archive_table_name(schema, "t"))
    assert sum(r["note"] is None for r in rows) == ROWS // 3  # optional fields still hold NULLs

    req = ValidateRequest(connection=conn, schema=schema, table="t", catalog=CATALOG, database=DB)
    assert validate(spark, req)["status"] == "passed"

    assert run("f-2")["status"] == "archived"  # the atomic replace of a new run keeps both
    _check_schema(warehouse, schema)
