"""The arrow restore path's validation by checksums (restore_hash.py): PostgreSQL computes per-bucket
row hash sums and aggregates over the restored table, the driver the same over the archive's batches. These
tests hold both sides over the PostgreSQL type matrix (every type whose values the driver can hash), then
change one value of each type in the table and require the checksums to differ, and run the whole restore."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
import test_types_postgres as pg_types
from conftest import CATALOG, pg_exec
from offload_glue import restore_arrow, restore_hash
from offload_glue.iceberg_table import current_snapshot
from offload_glue.names import archive_table_name, spark_ident
from offload_glue.source_table import introspect
from test_restore import DB, do_archive, do_restore

HASHED = [c for c, *_ in pg_types.COLUMNS]  # every column, the 38-digit decimals by their plain text

# one changed value per type (row 1 unless said), as a SET clause; each must change the checksums
TAMPERS = {
    "i2": "i2 = i2 + 1",
    "i4": "i4 = -i4",
    "i8": "i8 = i8 - 1",
    "n_12_2": "n_12_2 = n_12_2 + 0.01",
    "n_12_2_sign": "n_12_2 = -n_12_2",
    "n_any": "n_any = 1.50",  # 1.5, the same number in another text: the archive holds the text
    "n_50": "n_50 = n_50 + 0.000000000001",
    "r4": "r4 = r4 * 2",
    "d8": "d8 = d8 + 4.440892098500626e-16",  # one ulp
    "d8_zero_sign": ("d8 = '0'", 4),  # -0 in row 4: 0 has another bit pattern
    "bo": "bo = NOT bo",
    "ch": "ch = 'ac'",
    "ch_trailing": ("ch = 'x  '", 4),  # 'x' padded to 6 either way … the same value: must NOT differ
    "vc": "vc = 'x '",
    "tx": "tx = 'Hello'",
    "by": "by = by || '\\x00'::bytea",
    "dt": "dt = dt + 1",
    "tm": "tm = tm + interval '1 microsecond'",
    "ts": "ts = ts + interval '1 microsecond'",
    "tz": "tz = tz + interval '1 microsecond'",
    "iv": "iv = iv + interval '1 second'",
    "uu": "uu = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'",
    "js": 'js = \'{"b": 1, "a": [1, 2]}\'',  # json keeps its text: one space fewer
    "jb": 'jb = \'{"b": 1, "a": [2, 1]}\'',
    "ai": "ai = '{1,2,3}'",
    "at": 'at = \'{"a b","c;d",NULL}\'',
    "en": "en = 'ok'",
    "ip": "ip = '192.168.0.2/24'",
    "bi": "bi = B'10100100'",
    "vb": "vb = B'1011'",
    "mo": "mo = mo + 0.01::money",
    "n_18_6": "n_18_6 = n_18_6 + 0.000001",
    "n_38_10": "n_38_10 = n_38_10 + 0.0000000001",  # beyond 64 bits: the plain text at the scale
    "n_38_0": "n_38_0 = n_38_0 - 1",
    "n_38_0_sign": ("n_38_0 = -n_38_0", 2),
    "null": "tx = NULL",
    "empty": ("tx = ''", 5),  # NULL in row 5 becomes the empty text
}
SAME = {"ch_trailing"}


@pytest.fixture()
def hashed_table(spark, pg_db, pg_connection, pg_schema):
    """The type matrix without its two columns of 38-digit values, archived: (schema, the archive's Arrow
    batches and schema, the table's column plans)."""
    pg_types.create_type_table(pg_db, pg_schema, "full_types")
    hashed = ", ".join(f"{c} {t}" for c, t, *_ in pg_types.COLUMNS if c in HASHED)
    pg_exec(pg_db, f'SET search_path = "{pg_schema}"')  # the enum type
    pg_exec(pg_db, f"CREATE TABLE types (id int PRIMARY KEY, {hashed})")
    pg_exec(pg_db, f"INSERT INTO types SELECT id, {', '.join(HASHED)} FROM full_types")
    pg_exec(pg_db, "SET search_path = public")
    assert do_archive(spark, pg_connection, pg_schema, "types", "ck-1")["status"] == "archived"
    ident = spark_ident(CATALOG, DB, archive_table_name(pg_schema, "types"))
    snap = current_snapshot(spark, ident)["snapshot_id"]
    plan, why = restore_arrow.plan(spark, ident, snap, 1 << 30)
    assert plan is not None, why
    batches = [b for t in plan.tasks for b in restore_arrow._record_batches(plan, t)]
    src = introspect(spark, pg_connection, pg_schema, "types")
    return pg_schema, batches, restore_arrow.arrow_schema(plan), src


def _checksums(conn, hp, schema, batches, arrow_schema, table="types"):
    """The comparison of PostgreSQL's checksums of ``table`` now with the driver's over the archive."""
    import pyarrow as pa

    sums, _ = restore_hash.archive_sums(hp, batches)
    aggs = {
        f.name: restore_arrow._aggregate(pa.chunked_array([b.column(i) for b in batches], type=f.type), f.type)
        for i, f in enumerate(arrow_schema)
    }
    buckets, restored_aggs, _ = restore_hash.restored_sums(lambda: restore_arrow.connect(conn, read_only=True), hp,
                                                           f'"{schema}"."{table}"')  # fmt: skip
    return restore_hash.compare(hp, sums.totals(), buckets, aggs, restored_aggs, arrow_schema)


def _tampered(pg_db, schema: str, sql: str, row: int) -> None:
    """A copy of the archived table (same column types) with one UPDATE committed: ``tampered``."""
    pg_exec(pg_db, f'DROP TABLE IF EXISTS "{schema}".tampered')
    pg_exec(pg_db, f'CREATE TABLE "{schema}".tampered AS TABLE "{schema}".types')
    assert pg_exec(pg_db, f'UPDATE "{schema}".tampered SET {sql} WHERE id = {row} RETURNING id') == [(row,)], sql


def test_both_sides_agree_over_the_type_matrix_and_every_changed_value_shows(pg_db, pg_connection, hashed_table):
    schema, batches, arrow_schema, src = hashed_table
    hp, why = restore_hash.plan(src, arrow_schema)
    assert hp is not None, why
    assert [f.kind for f in hp.fields][:4] == ["int", "int", "int", "int"]  # id, i2, i4, i8
    kinds = {"int", "num", "numtext", "float4", "float8", "bpchar", "text", "hex", "date", "ts"}
    assert {f.kind for f in hp.fields} == kinds
    clean = _checksums(pg_connection, hp, schema, batches, arrow_schema)
    assert clean["status"] == "passed", clean
    assert clean["row_count"] == {"source": len(pg_types.ROWS), "archive": len(pg_types.ROWS), "match": True}

    for name, tamper in TAMPERS.items():
        sql, row = (tamper, 1) if isinstance(tamper, str) else tamper
        _tampered(pg_db, schema, sql, row)
        result = _checksums(pg_connection, hp, schema, batches, arrow_schema, "tampered")
        if name in SAME:
            assert result["status"] == "passed", (name, result["mismatches"])
        else:
            assert result["status"] == "failed" and "rows" in result["mismatches"], (name, result["mismatches"])
            assert result["rows"]["differing_buckets"] in (1, 2), name  # the row's old and new bucket


def test_values_swapped_between_rows_keep_the_aggregates_and_still_show(pg_db, pg_connection, hashed_table):
    """Two rows exchange their i8 values: counts and sums stay equal; only the row hashes catch it."""
    schema, batches, arrow_schema, src = hashed_table
    hp, _ = restore_hash.plan(src, arrow_schema)
    _tampered(pg_db, schema, "i8 = i8", 1)
    pg_exec(pg_db, f'UPDATE "{schema}".tampered t SET i8 = s.i8 FROM "{schema}".types s '
                   "WHERE (t.id, s.id) IN ((1, 3), (3, 1))")  # fmt: skip
    assert pg_exec(pg_db, f'SELECT sum(i8), count(i8) FROM "{schema}".tampered') == pg_exec(
        pg_db, f'SELECT sum(i8), count(i8) FROM "{schema}".types')  # fmt: skip
    result = _checksums(pg_connection, hp, schema, batches, arrow_schema, "tampered")
    assert result["mismatches"] == ["rows"], result["mismatches"]
    assert all(c["match"] for c in result["columns"])


def test_a_restore_validates_by_checksums_and_a_tamper_is_named_through_the_values(
    spark, pg_db, pg_connection, hashed_table, monkeypatch
):
    from offload_glue.restore import TEST_HOOKS, staging_name

    schema = hashed_table[0]
    summary, code = do_restore(spark, pg_connection, schema, "types", "types_back", write_path="arrow",
                               arrow_validation="checksums")  # fmt: skip
    assert code == 0 and summary["validation"]["status"] == "passed", summary["validation"]
    assert summary["validation"]["method"] == "arrow_checksums", summary["validation"].get("checksums_not_used")
    rows = 'SELECT id, t::text FROM "{}".{} t ORDER BY id'
    assert pg_exec(pg_db, rows.format(schema, "types_back")) == pg_exec(pg_db, rows.format(schema, "types"))

    staging = staging_name("postgresql", "types_bad")
    sql = f'UPDATE "{schema}"."{staging}" SET tz = tz + interval \'1 microsecond\' WHERE id = 1'
    monkeypatch.setitem(TEST_HOOKS, "before_validate", lambda: pg_exec(pg_db, sql))
    summary, code = do_restore(spark, pg_connection, schema, "types", "types_bad", write_path="arrow",
                               arrow_validation="checksums")  # fmt: skip
    v = summary["validation"]
    assert code == 1 and v["status"] == "failed" and v["checksums"]["status"] == "failed", v
    assert [(k["key"], k["kind"], k.get("columns")) for k in v["rows"]["keys"]] == [({"id": 1}, "changed", ["tz"])]


def test_wide_decimals_are_hashed_by_their_plain_text(spark, pg_db, pg_connection, hashed_table):
    """38-digit values (beyond 64 bits) hash their text at the archive's scale on both sides — Arrow's
    scientific notation for small values (0E-10) written out as PostgreSQL prints them: no values path."""
    schema = hashed_table[0]
    pg_exec(pg_db, f'UPDATE "{schema}".full_types SET n_38_10 = 0, n_38_0 = 0 WHERE id = 1')  # 0E-10 in Arrow
    pg_exec(pg_db, f'UPDATE "{schema}".full_types SET n_38_10 = -0.0000000001 WHERE id = 3')
    assert do_archive(spark, pg_connection, schema, "full_types", "ck-2")["status"] == "archived"
    summary, code = do_restore(spark, pg_connection, schema, "full_types", "full_back", write_path="arrow",
                               arrow_validation="checksums")  # fmt: skip
    v = summary["validation"]
    assert code == 0 and v["status"] == "passed" and v["method"] == "arrow_checksums", v
    assert "checksums_not_used" not in v, v
    values = pa.array([Decimal("0"), Decimal("-1E-10"), None, Decimal("1.5")], pa.decimal128(38, 10))
    got = restore_hash.decimal_text(values).to_pylist()
    assert got == ["0.0000000000", "-0.0000000001", None, "1.5000000000"]


def test_checksums_postgresql_refuses_leave_the_decision_to_the_values(
    spark, pg_db, pg_connection, hashed_table, monkeypatch
):
    """PostgreSQL refusing the checksum query (a value its functions reject) is no failure of the restore: the
    values are read back and decide, and the summary says why."""
    import psycopg2

    def refuse(*_args, **_kw):
        raise psycopg2.DataError("date out of range for the hash\nDETAIL: …")

    monkeypatch.setattr(restore_hash, "restored_sums", refuse)
    schema = hashed_table[0]
    summary, code = do_restore(spark, pg_connection, schema, "types", "types_fb", write_path="arrow",
                               arrow_validation="checksums")  # fmt: skip
    v = summary["validation"]
    assert code == 0 and v["status"] == "passed" and v["method"] == "arrow", v
    assert v["checksums_not_used"] == "PostgreSQL could not compute the checksums: date out of range for the hash"
