"""Validation against MariaDB: the row hash computed by MariaDB in SQL catches a changed value and
names key and column; float/double columns (outside the row hash on MySQL) are caught by their
exact min/max; an empty table archives and validates."""

from __future__ import annotations

from conftest import CATALOG, my_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

DB = "tamper_my"


def test_mariadb_tampering_is_caught_and_named(spark, my_db, my_connection, my_schema):
    my_exec(
        my_db,
        f"CREATE TABLE `{my_schema}`.t (id bigint unsigned PRIMARY KEY, name varchar(20), amount decimal(10,3), "
        f"score double, seen datetime(6), flag tinyint(1), code varchar(8) CHARACTER SET latin1)",
    )
    my_exec(
        my_db,
        f"INSERT INTO `{my_schema}`.t SELECT seq, CONCAT('n', seq), seq / 7, seq * 1.5, "
        f"TIMESTAMP '2020-01-01 00:00:00.000001' + INTERVAL seq HOUR, seq % 3, CONCAT('c', seq) FROM seq_1_to_60",
    )
    # a tab and a backslash in the row text's escapes; fractions with trailing zeros and none
    my_exec(
        my_db,
        f"UPDATE `{my_schema}`.t SET name = CONCAT('a', CHAR(9), 'b', CHAR(92), 'N'), "
        "code = CONCAT(CHAR(92), 'x') WHERE id = 5",
    )
    my_exec(my_db, f"UPDATE `{my_schema}`.t SET seen = '2020-01-01 10:00:00.500000' WHERE id = 6")
    my_exec(my_db, f"UPDATE `{my_schema}`.t SET seen = '2020-01-01 10:00:00' WHERE id = 7")
    archive(
        spark,
        ArchiveRequest(
            connection=my_connection, schema=my_schema, table="t", run_id="m-1", catalog=CATALOG, database=DB
        ),
    )
    ident = f"{CATALOG}.{DB}.{archive_table_name(my_schema, 't')}"
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    req = ValidateRequest(connection=my_connection, schema=my_schema, table="t", catalog=CATALOG, database=DB)
    clean = validate(spark, req)
    assert clean["status"] == "passed"
    # no hash function shared with Spark: the rows are streamed, and the result says why
    assert clean["row_hash"]["method"] == "streamed"
    assert clean["row_hash"]["method_reason"] == "MySQL/MariaDB source: no hash function shared with Spark"

    def tampered(sql):
        spark.sql(sql.replace("{t}", ident))
        try:
            return validate(spark, req)
        finally:
            spark.sql(
                f"CALL {CATALOG}.system.rollback_to_snapshot('{DB}.{archive_table_name(my_schema, 't')}', {snapshot})"
            )

    for column, change in [
        ("name", "concat(name, ' ')"),
        ("amount", "amount + 0.001"),
        ("seen", "seen + INTERVAL 1 MICROSECOND"),
        ("flag", "flag + 1"),
    ]:
        result = tampered(f"UPDATE {{t}} SET {column} = {change} WHERE id = 42")
        assert result["status"] == "failed", column
        assert result["row_hash"]["keys"] == [
            {"key": {"id": "42"}, "kind": "changed", "source_rows": 1, "archive_rows": 1, "columns": [column]}
        ], column

    result = tampered("UPDATE {t} SET score = score + 1 WHERE id = 60")  # the maximum
    assert result["status"] == "failed" and "column:score" in result["mismatches"]
    assert result["row_hash"]["excluded_columns"] == [] and result["row_hash"]["keys"][0]["columns"] == ["score"]


def test_empty_table_archives_and_validates(spark, my_db, my_connection, my_schema):
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.empty (id int PRIMARY KEY, v text)")
    summary = archive(
        spark,
        ArchiveRequest(
            connection=my_connection, schema=my_schema, table="empty", run_id="e-1", catalog=CATALOG, database=DB
        ),
    )
    assert summary["status"] == "archived" and summary["rows"] == 0 and summary["read"]["partitions"] == 1
    result = validate(
        spark, ValidateRequest(connection=my_connection, schema=my_schema, table="empty", catalog=CATALOG, database=DB)
    )
    assert result["status"] == "passed" and result["row_count"] == {"source": 0, "archive": 0, "match": True}
    my_exec(my_db, f"INSERT INTO `{my_schema}`.empty VALUES (1, 'late')")
    result = validate(
        spark, ValidateRequest(connection=my_connection, schema=my_schema, table="empty", catalog=CATALOG, database=DB)
    )
    assert result["status"] == "failed"
    assert result["row_hash"]["keys"] == [
        {"key": {"id": "1"}, "kind": "missing_in_archive", "source_rows": 1, "archive_rows": 0}
    ]


FLOATS = [  # (float, double) pairs: shortest texts, extremes, subnormals, values a 6/15-digit print loses
    ("0.1", "0.30000000000000004"),
    ("16777216", "1.0000000000000002"),
    ("3.40282e38", "1.7976931348623157e308"),
    ("-1.17549435e-38", "5e-324"),
    ("1e-45", "-2.2250738585072014e-308"),
    ("3.1415927", "123456789012345680"),
    ("-0.33333334", "-0.3333333333333333"),
    ("0", "0"),
    ("NULL", "NULL"),
    ("7", "7"),
]


def test_mariadb_float_and_double_are_in_the_row_hash(spark, my_db, my_connection, my_schema):
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.f (id int PRIMARY KEY, fl float, db double, other double)")
    for i, (fl, db) in enumerate(FLOATS, start=1):
        my_exec(my_db, f"INSERT INTO `{my_schema}`.f VALUES ({i}, {fl}, {db}, {i} * 1.5)")
    archive(
        spark,
        ArchiveRequest(
            connection=my_connection, schema=my_schema, table="f", run_id="f-1", catalog=CATALOG, database=DB
        ),
    )
    name = archive_table_name(my_schema, "f")
    ident = f"{CATALOG}.{DB}.{name}"
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    req = ValidateRequest(connection=my_connection, schema=my_schema, table="f", catalog=CATALOG, database=DB)
    result = validate(spark, req)
    assert result["status"] == "passed", (result["mismatches"], result["row_hash"]["keys"])
    assert result["row_hash"]["excluded_columns"] == []
    assert {c["name"]: c["hashed"] for c in result["columns"]} == {"id": True, "fl": True, "db": True, "other": True}

    # a value moved between two rows keeps every count, min and max: only the row hash sees it
    for column in ("fl", "db"):
        spark.sql(
            f"UPDATE {ident} SET {column} = CASE id WHEN 1 THEN (SELECT {column} FROM {ident} WHERE id = 6) "
            f"ELSE (SELECT {column} FROM {ident} WHERE id = 1) END WHERE id IN (1, 6)"
        )
        try:
            result = validate(spark, req)
        finally:
            spark.sql(f"CALL {CATALOG}.system.rollback_to_snapshot('{DB}.{name}', {snapshot})")
        assert result["status"] == "failed" and result["mismatches"] == ["row_hash"], (column, result["mismatches"])
        assert result["row_hash"]["keys"] == [
            {"key": {"id": str(i)}, "kind": "changed", "source_rows": 1, "archive_rows": 1, "columns": [column]}
            for i in (1, 6)
        ], column
