"""Validation with per-bucket checksums computed by PostgreSQL (source_checksum.py): the tampers that a weaker
combination of PostgreSQL's hash functions would let through — values swapped between two rows of one
bucket, signs swapped between two numerics (PostgreSQL's numeric hash ignores the sign), a char(n) whose
padding changed (its hash ignores trailing blanks), -0.0 for 0.0 — are caught and named by key; integer keys
beyond the 32-bit product of the bucket formula; and the streamed path as the fallback, with its reason."""

from __future__ import annotations

import json
import os

import pytest
from catalogs import hadoop_only
from conftest import pg_exec
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.errors import OffloadError
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "validation-result.schema.json")))
BUCKETS = 4096


@pytest.fixture()
def swapped(spark, pg_db, pg_connection, pg_schema, catalog):
    """Rows 1 and 1 + 4096 (one bucket: the integer key's bucket is (k * 7919) mod 4096 below 1000003), and
    rows 300000 and 300000 + 4096 (keys whose residue times 7919 does not fit a 32-bit int)."""
    pg_exec(
        pg_db,
        f'''CREATE TABLE "{pg_schema}".t (id int PRIMARY KEY, n numeric(10,2), vc varchar(20), ch char(6),
            f8 double precision, d date, ts timestamptz, bi bigint)''',
    )
    pg_exec(
        pg_db,
        f"""INSERT INTO "{pg_schema}".t VALUES
            (1, 5.25, 'first', 'ab', 0.0, '2020-01-01', '2020-01-01 00:00:00+00', 10),
            (4097, -5.25, 'second', 'cd', 1.5, '1969-12-31', '1969-12-31 23:59:59.999999+00', NULL),
            (300000, 0.01, NULL, NULL, NULL, NULL, NULL, -1),
            (304096, -0.01, 'x', 'yz', -2.5, '0001-01-01', '0001-01-01 00:00:00+00', 9223372036854775807),
            (2, NULL, '', '', 'NaN', '9999-12-31', '9999-12-31 23:59:59+00', -9223372036854775808)""",
    )
    db = catalog.database("cksum")
    archive(
        spark,
        ArchiveRequest(
            connection=pg_connection, schema=pg_schema, table="t", catalog=catalog.name, database=db, run_id="ck-1"
        ),
    )
    ident = catalog.ident(db, archive_table_name(pg_schema, "t"))
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    return {"schema": pg_schema, "db": db, "catalog": catalog.name, "ident": ident, "snapshot": snapshot}


def _validate(spark, pg_connection, a, **kw) -> dict:
    req = ValidateRequest(
        connection=pg_connection, schema=a["schema"], table="t", catalog=a["catalog"], database=a["db"], **kw
    )
    result = validate(spark, req)
    Draft202012Validator(SCHEMA).validate(result)
    return result


SWAPS = [
    # label, Spark SQL on the archive, keys named, columns
    (
        "decimals swapped in one bucket",
        "UPDATE {t} SET n = CASE id WHEN 1 THEN -5.25 ELSE 5.25 END WHERE id IN (1, 4097)",
    ),
    (
        "texts swapped in one bucket",
        "UPDATE {t} SET vc = CASE id WHEN 1 THEN 'second' ELSE 'first' END WHERE id IN (1, 4097)",
    ),
    (
        "dates swapped in one bucket",
        "UPDATE {t} SET d = CASE id WHEN 1 THEN DATE'1969-12-31' ELSE DATE'2020-01-01' END WHERE id IN (1, 4097)",
    ),
    ("signs swapped beyond 32-bit keys", "UPDATE {t} SET n = -n WHERE id IN (300000, 304096)"),
]


@hadoop_only
@pytest.mark.parametrize("label,sql", SWAPS, ids=[s[0] for s in SWAPS])
def test_values_swapped_between_rows_of_one_bucket_are_caught(spark, pg_connection, catalog, swapped, label, sql):
    clean = _validate(spark, pg_connection, swapped)
    assert clean["status"] == "passed", clean
    assert clean["row_hash"]["method"] == "source_checksum" and "method_reason" not in clean["row_hash"]
    spark.sql(sql.replace("{t}", swapped["ident"]))
    result = _validate(spark, pg_connection, swapped)
    assert result["status"] == "failed" and "row_hash" in result["mismatches"], result
    assert result["row_hash"]["method"] == "source_checksum"
    assert result["row_hash"]["buckets_mismatched"] == 1  # both rows of one bucket, sums per column unchanged
    assert not [c for c in result["mismatches"] if c.startswith("column:")], result["mismatches"]
    named = sorted(int(k["key"]["id"]) for k in result["row_hash"]["keys"])
    assert named in ([1, 4097], [300000, 304096]), result["row_hash"]
    assert all(k["kind"] == "changed" and len(k["columns"]) == 1 for k in result["row_hash"]["keys"])


@hadoop_only
def test_char_padding_and_negative_zero_are_caught_by_key(spark, pg_connection, catalog, swapped):
    """char(n): PostgreSQL's hash ignores trailing blanks, the per-bucket text length catches the padding and
    the streamed drill-down names the key; a float hashes its bit pattern, so -0.0 is not 0.0."""
    t = swapped["ident"]
    for sql, key, column in [
        (f"UPDATE {t} SET ch = 'ab' WHERE id = 1", "1", "ch"),  # the archive's 'ab    ' loses its padding
        (f"UPDATE {t} SET f8 = CAST('-0.0' AS DOUBLE) WHERE id = 1", "1", "f8"),
        (f"UPDATE {t} SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = 304096", "304096", "ts"),
        (f"UPDATE {t} SET bi = NULL WHERE id = 300000", "300000", "bi"),
    ]:
        spark.sql(sql)
        try:
            result = _validate(spark, pg_connection, swapped)
        finally:
            name, snap = archive_table_name(swapped["schema"], "t"), swapped["snapshot"]
            spark.sql(f"CALL {swapped['catalog']}.system.rollback_to_snapshot('{swapped['db']}.{name}', {snap})")
        assert result["status"] == "failed" and result["row_hash"]["method"] == "source_checksum", result
        keys = result["row_hash"]["keys"]
        assert [(k["key"], k["kind"], k.get("columns")) for k in keys] == [({"id": key}, "changed", [column])], sql


@hadoop_only
def test_streamed_path_is_selectable_and_agrees(spark, pg_connection, catalog, swapped):
    both = {m: _validate(spark, pg_connection, swapped, row_hash_method=m, engine="spark") for m in ("auto", "stream")}
    assert both["auto"]["row_hash"]["method"] == "source_checksum"
    assert both["stream"]["row_hash"]["method"] == "streamed"
    assert both["stream"]["row_hash"]["method_reason"] == "requested (row_hash_method stream)"
    for r in both.values():
        assert r["status"] == "passed", r
    assert both["auto"]["columns"] == both["stream"]["columns"]  # the same aggregates and text length sums
    spark.sql(f"DELETE FROM {swapped['ident']} WHERE id = 4097")
    for m in ("auto", "stream"):
        r = _validate(spark, pg_connection, swapped, row_hash_method=m)
        assert [k["key"] for k in r["row_hash"]["keys"]] == [{"id": "4097"}], (m, r["row_hash"])
    with pytest.raises(OffloadError, match="row_hash_method"):
        _validate(spark, pg_connection, swapped, row_hash_method="md5")


@hadoop_only
def test_text_keyed_table_buckets_by_the_source_hash(spark, pg_db, pg_connection, pg_schema, catalog):
    """Without a single integer key the bucket is the source's hash of the key columns (the same in Spark);
    a drill-down reads only the differing buckets' rows, selected by that hash in the source's SQL."""
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".t (code char(3), day date, v numeric(6,1), PRIMARY KEY (code, day))')
    pg_exec(
        pg_db,
        f"""INSERT INTO "{pg_schema}".t SELECT chr(65 + g % 26) || chr(65 + g / 26 % 26), date '2024-01-01' + g % 7,
            g / 10.0 - 50 FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING""",
    )
    db = catalog.database("ck")
    archive(
        spark,
        ArchiveRequest(
            connection=pg_connection, schema=pg_schema, table="t", catalog=catalog.name, database=db, run_id="ck-1"
        ),
    )
    a = {"schema": pg_schema, "db": db, "catalog": catalog.name}
    clean = _validate(spark, pg_connection, a)
    assert clean["status"] == "passed" and clean["row_hash"]["method"] == "source_checksum", clean
    ident = catalog.ident(db, archive_table_name(pg_schema, "t"))
    spark.sql(f"UPDATE {ident} SET v = -v WHERE code = 'BC ' AND day = DATE'2024-01-03'")
    result = _validate(spark, pg_connection, a)
    assert result["status"] == "failed" and result["row_hash"]["buckets_mismatched"] == 1, result
    (only,) = result["row_hash"]["keys"]
    assert only["key"]["code"].rstrip() == "BC" and (only["kind"], only["columns"]) == ("changed", ["v"]), only
