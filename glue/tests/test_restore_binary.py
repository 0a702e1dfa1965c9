"""The arrow restore's binary COPY write (restore_binary.py): every column type it encodes comes back from a real
archive into PostgreSQL exactly — compared with the original table by PostgreSQL's own text of every row
(floats' -0 and NaN, char padding, numerics' scale, BC-free edge dates and timestamps, NULLs), over the
type matrix's binary-encodable columns with numeric edge scales added, and over 30,000 generated rows in
two data files; a table with a column it has no form for stays on the text format, naming the column; a
value the restored column cannot hold fails naming the column."""

from __future__ import annotations

import pyarrow as pa
import pytest
import test_types_postgres as pg_types
from conftest import CATALOG, pg_exec
from offload_glue import restore_binary
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.columns import ColumnPlan
from test_restore import DB, do_archive, do_restore

BINARY_MATRIX = ["i2", "i4", "i8", "n_12_2", "n_18_6", "r4", "d8", "bo", "ch", "vc", "tx", "by", "dt", "ts", "tz"]
EXTRA_NUMERICS = [  # (column, type, the edge values of rows 1-4; row 5 stays NULL)
    ("n_18_0", "numeric(18,0)", ["999999999999999999", "-999999999999999999", "10000", "0"]),
    ("n_18_18", "numeric(18,18)", ["0.999999999999999999", "-0.000000000000000001", "0.0001", "0"]),
    ("n_5_5", "numeric(5,5)", ["0.00001", "-0.99999", "0.5", "0"]),
    ("n_9_4", "numeric(9,4)", ["12345.6789", "-0.0001", "10000", "-1"]),
    ("n_1_0", "numeric(1,0)", ["9", "-9", "1", "0"]),
    ("n_13_5", "numeric(13,5)", ["99999999.99999", "-0.00010", "12345678.1", "-1.5"]),
]


def rows_as_text(pg_db, schema: str, table: str) -> list[tuple]:
    """Every row as PostgreSQL's own text of it (exact for floats, padding, scales and bytes), by id."""
    return pg_exec(pg_db, f'SELECT id, t::text FROM "{schema}"."{table}" t ORDER BY id')


def column_types(pg_db, schema: str, table: str) -> list[tuple]:
    return pg_exec(
        pg_db,
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (f'"{schema}"."{table}"',),
    )


def test_the_type_matrix_binary_columns_with_numeric_edges_come_back_exactly(spark, pg_db, pg_connection, pg_schema):
    pg_types.create_type_table(pg_db, pg_schema, "matrix")
    cols = ", ".join(BINARY_MATRIX)
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".bin AS SELECT id, {cols} FROM "{pg_schema}".matrix')
    pg_exec(pg_db, f'ALTER TABLE "{pg_schema}".bin ADD PRIMARY KEY (id)')
    for name, typ, values in EXTRA_NUMERICS:
        pg_exec(pg_db, f'ALTER TABLE "{pg_schema}".bin ADD COLUMN {name} {typ}')
        for row_id, value in enumerate(values, start=1):
            pg_exec(pg_db, f'UPDATE "{pg_schema}".bin SET {name} = %s::numeric WHERE id = %s', (value, row_id))
    do_archive(spark, pg_connection, pg_schema, "bin", "bin-1")

    summary, code = do_restore(spark, pg_connection, pg_schema, "bin", "bin_back", write_path="arrow")
    assert code == 0 and summary["validation"]["status"] == "passed", summary
    assert summary["write"]["path"] == "arrow" and summary["write"]["copy_format"] == "binary", summary["write"]
    assert "copy_format_text" not in summary
    assert column_types(pg_db, pg_schema, "bin_back") == column_types(pg_db, pg_schema, "bin")
    original = rows_as_text(pg_db, pg_schema, "bin")
    assert len(original) == len(pg_types.ROWS)
    assert rows_as_text(pg_db, pg_schema, "bin_back") == original


def test_generated_rows_in_two_files_come_back_exactly_by_binary_copy(spark, pg_db, pg_connection, pg_schema):
    """30,000 rows of random values (fixed seed) across the encodable types, about 10 % NULL per column, texts
    with multi-byte characters, tabs and backslashes, timestamps before 1970 and 2000 — in two data files, so
    two COPY streams each send their header and trailer."""
    pg_exec(pg_db, "SELECT setseed(0.4242)")
    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}".gen (id bigint PRIMARY KEY, s smallint, i int, f4 real, f8 double precision, '
        "n numeric(15,3), m numeric(18,7), b boolean, c char(4), v varchar(30), t text, y bytea, d date, "
        "ts timestamp, tz timestamptz)",
    )

    def maybe(expr: str) -> str:
        return f"CASE WHEN random() < 0.1 THEN NULL ELSE {expr} END"

    exprs = [
        "(random() * 65535 - 32768)::int::smallint",
        "(random() * 4294967295 - 2147483648)::bigint::int",
        "((random() - 0.5) * 1e6)::real",
        "(random() - 0.5) * 10 ^ (random() * 600 - 300)",
        "((random() - 0.5) * 2e12)::numeric(15,3)",
        "((random() - 0.5) * 2e11)::numeric(18,7)",
        "random() < 0.5",
        "substr(md5(random()::text), 1, (random() * 4)::int)",
        "repeat('é', (random() * 3)::int) || chr(9) || '\\' || substr(md5(random()::text), 1, 5)",
        "repeat(md5(random()::text) || '漢', (random() * 4)::int)",
        "decode(md5(random()::text), 'hex')",
        "date '1900-01-01' + (random() * 80000)::int",
        "timestamp '1900-01-01' + random() * interval '200 years'",
        "timestamptz '1950-01-01 00:00+00' + random() * interval '100 years'",
    ]
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}".gen SELECT g, {", ".join(maybe(e) for e in exprs)} '
                   "FROM generate_series(1, 30000) g")  # fmt: skip
    out = archive(spark, ArchiveRequest(connection=pg_connection, schema=pg_schema, table="gen", run_id="gen-1",
                                        catalog=CATALOG, database=DB, num_partitions=2))  # fmt: skip
    assert out["status"] == "archived", out
    summary, code = do_restore(spark, pg_connection, pg_schema, "gen", "gen_back", write_path="arrow")
    assert code == 0 and summary["validation"]["status"] == "passed", summary
    assert summary["write"]["copy_format"] == "binary" and summary["write"]["copy_streams"] == 2, summary["write"]
    nulls = pg_exec(pg_db, f'SELECT count(*) FILTER (WHERE t IS NULL), count(*) FROM "{pg_schema}".gen_back')[0]
    assert 2_000 < nulls[0] < 4_000 and nulls[1] == 30_000
    assert rows_as_text(pg_db, pg_schema, "gen_back") == rows_as_text(pg_db, pg_schema, "gen")


def test_a_column_without_a_binary_form_keeps_the_text_format_and_says_which(spark, pg_db, pg_connection, pg_schema):
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".mixed (id int PRIMARY KEY, n numeric(20,2), j jsonb)')
    pg_exec(
        pg_db, f'INSERT INTO "{pg_schema}".mixed VALUES (1, 123456789012345678.91, \'{{"a": 1}}\'), (2, NULL, NULL)'
    )
    do_archive(spark, pg_connection, pg_schema, "mixed", "mixed-1")
    summary, code = do_restore(spark, pg_connection, pg_schema, "mixed", "mixed_back", write_path="arrow")
    assert code == 0 and summary["write"]["copy_format"] == "text"
    assert summary["copy_format_text"].startswith("column n: ") and "numeric(20,2)" in summary["copy_format_text"]
    assert rows_as_text(pg_db, pg_schema, "mixed_back") == rows_as_text(pg_db, pg_schema, "mixed")

    summary, code = do_restore(spark, pg_connection, pg_schema, "mixed", "mixed_text", write_path="arrow",
                               copy_format="text")  # fmt: skip
    assert (
        code == 0 and summary["write"]["copy_format"] == "text" and summary["copy_format_text"] == "--copy_format text"
    )


def test_an_unknown_copy_format_is_refused_before_anything_is_written(spark, pg_db, pg_connection, pg_schema):
    from offload_glue.errors import OffloadError

    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".few (id int PRIMARY KEY, v text)')
    pg_exec(pg_db, f"INSERT INTO \"{pg_schema}\".few VALUES (1, 'a')")
    do_archive(spark, pg_connection, pg_schema, "few", "few-1")
    with pytest.raises(OffloadError) as err:
        do_restore(spark, pg_connection, pg_schema, "few", "few_back", write_path="arrow", copy_format="csv")
    assert err.value.code == "bad_copy_format" and "'csv'" in str(err.value)
    assert pg_exec(pg_db, "SELECT count(*) FROM pg_tables WHERE schemaname = %s", (pg_schema,)) == [(1,)]


def _plan(name: str, kind: str, source_type: str) -> ColumnPlan:
    return ColumnPlan(index=0, name=name, source_type=source_type, archive_type="", select_sql=name, canon_src=None,
                      canon_kind="", copy_kind=kind)  # fmt: skip


class _Src:
    def __init__(self, *plans):
        self.columns = list(plans)


def test_a_value_the_restored_column_cannot_hold_names_the_column():
    """An archive column wider than the restored one (an int archived as 32 bits, restored as smallint): the
    binary write checks the range PostgreSQL's text input would check."""
    encs, why = restore_binary.encoders(_Src(_plan("qty", "int2", "smallint")), pa.schema([("qty", pa.int32())]))
    assert why is None
    fits = pa.record_batch([pa.array([-32768, 32767, None], pa.int32())], names=["qty"])
    assert restore_binary.binary_batch(encs, fits)  # the extremes fit
    batch = pa.record_batch([pa.array([1, 40000, None], pa.int32())], names=["qty"])
    with pytest.raises(
        restore_binary.ValueOutOfRange, match=r"column qty: value 40000 is out of range for type smallint"
    ):
        restore_binary.binary_batch(encs, batch)


@pytest.mark.parametrize(
    "plan,arrow_type",
    [
        (("n", "numeric", "numeric(20,2)"), pa.decimal128(20, 2)),
        (("j", "text", "jsonb"), pa.string()),
        (("u", "text", "uuid"), pa.string()),
        (("f", "float4", "real"), pa.float64()),
        (("t", "timestamp", "timestamp without time zone"), pa.timestamp("ns")),
        (("u", "int8", "bigint"), pa.uint64()),  # an unsigned value could exceed bigint: the text path checks it
    ],
)
def test_columns_without_a_binary_form_here_are_named(plan, arrow_type):
    encs, why = restore_binary.encoders(_Src(_plan(*plan)), pa.schema([(plan[0], arrow_type)]))
    assert encs is None and why.startswith(f"column {plan[0]}: ") and plan[2] in why


@pytest.mark.parametrize(
    "counts,groups",
    [
        ([14_000, 16_000], [[0], [1]]),  # the first file under half the rows: still one file a stream
        ([16_000, 14_000], [[0], [1]]),
        ([1, 1, 1, 1], [[0, 1], [2, 3]]),
        ([100, 1, 1, 1], [[0], [1, 2, 3]]),
        ([1, 1, 1, 100], [[0, 1, 2], [3]]),
        ([5], [[0]]),
    ],
)
def test_data_files_are_cut_into_two_contiguous_streams_of_about_equal_rows(counts, groups):
    from types import SimpleNamespace

    from offload_glue.restore_arrow import split_tasks

    tasks = [SimpleNamespace(file=SimpleNamespace(record_count=c)) for c in counts]
    assert [[i for i, _ in g] for g in split_tasks(tasks, 2)] == groups
