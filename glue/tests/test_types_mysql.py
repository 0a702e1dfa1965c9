"""Type matrix, MariaDB/MySQL: archive every common type (unsigned integers, tinyint(1), wide
decimals, bit, year, zero-padded binary, enum/set/json, uuid/inet6 …), read the archive back with
pyiceberg and compare each value with what MariaDB returns for the expectation written here. The matrix
runs on both catalogs: the local Hadoop warehouse and the Glue Data Catalog with S3 (moto), read back
through pyiceberg's own Glue catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import iceberg_reader
import pytest
from conftest import CATALOG, my_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.errors import OffloadError
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate
from type_matrix import compare_with_source, f32


def utc(x):
    return None if x is None else x.replace(tzinfo=UTC)


# column, type, expectation SQL, converter of the driver's value, Iceberg type
COLUMNS = [
    ("ti", "tinyint", "{c}", None, "int"),
    ("tiu", "tinyint unsigned", "{c}", None, "int"),
    ("tb", "tinyint(1)", "{c}", None, "int"),
    ("si", "smallint", "{c}", None, "int"),
    ("siu", "smallint unsigned", "{c}", None, "int"),
    ("mi", "mediumint", "{c}", None, "int"),
    ("miu", "mediumint unsigned", "{c}", None, "int"),
    ("i4", "int", "{c}", None, "int"),
    ("i4u", "int unsigned", "{c}", None, "long"),
    ("i8", "bigint", "{c}", None, "long"),
    ("i8u", "bigint unsigned", "{c}", Decimal, "decimal(20, 0)"),
    ("d_10_2", "decimal(10,2)", "{c}", None, "decimal(10, 2)"),
    ("d_38_38", "decimal(38,38)", "{c}", None, "decimal(38, 38)"),
    ("d_65_30", "decimal(65,30)", "CAST({c} AS CHAR)", None, "string"),
    ("fl", "float", "CAST({c} AS DOUBLE)", f32, "float"),
    ("db", "double", "{c}", None, "double"),
    ("b1", "bit(1)", "CAST({c} AS UNSIGNED)", None, "long"),
    ("b64", "bit(64)", "CAST({c} AS UNSIGNED)", None, "decimal(20, 0)"),
    ("yr", "year", "CAST({c} AS UNSIGNED)", None, "int"),
    ("ch", "char(6)", "{c}", None, "string"),
    ("vc", "varchar(40)", "{c}", None, "string"),
    ("tx", "text", "{c}", None, "string"),
    ("bn", "binary(4)", "{c}", bytes, "binary"),
    ("vbn", "varbinary(10)", "{c}", bytes, "binary"),
    ("bl", "blob", "{c}", bytes, "binary"),
    ("dt", "date", "{c}", None, "date"),
    ("dtm", "datetime(6)", "{c}", None, "timestamp"),
    ("tsp", "timestamp(6) NULL", "{c}", utc, "timestamptz"),
    ("tm", "time(6)", "CAST({c} AS CHAR)", None, "string"),
    ("en", "enum('a','b c','d''e')", "{c}", None, "string"),
    ("st", "set('x','y','z')", "{c}", None, "string"),
    ("js", "json", "{c}", None, "string"),
    ("uu", "uuid", "CAST({c} AS CHAR)", None, "string"),
    ("ip", "inet6", "CAST({c} AS CHAR)", None, "string"),
]

ROWS = [
    "1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1.50, 0.12345678901234567890123456789012345678, "
    "12345678901234567890123456789012345.123456789012345678901234567890, 3.1415927, 0.1, b'1', b'1', 2024, 'ab', "
    "'x  ', 'hello', "
    "x'00ff', x'00', x'0102', '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456', "
    "'-838:59:59.000000', "
    "'b c', 'x,z', '{\"a\": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2001:db8::1'",
    "2, -128, 0, -1, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, -99999999.99, "
    "-0.99999999999999999999999999999999999999, -99999999999999999999999999999999999.999999999999999999999999999999, "
    "-3.40282e38, -1.7976931348623157e308, b'0', b'0', 1901, '', '', '', x'', x'', x'', '0001-01-01', "
    "'0001-01-01 00:00:00.000000', "
    "'1970-01-01 00:00:01.000000', '00:00:00', 'a', '', '[]', '00000000-0000-0000-0000-000000000000', '::'",
    "3, 127, 255, 127, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, "
    "18446744073709551615, "
    "99999999.99, 0.00000000000000000000000000000000000001, 0.000000000000000000000000000001, 1.17549435e-38, 5e-324, "
    "b'1', "
    "b'1111111111111111111111111111111111111111111111111111111111111111', 2155, 'äöü€', 'trailing   ', "
    "repeat('long ', 2000), "
    "x'61626364', x'ffffffffff', x'00', '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', "
    "'838:59:59.999999', "
    "'d''e', 'x,y,z', '{\"k\": \"\\\\u00e9\"}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '::ffff:255.255.255.255'",
    "4" + ", NULL" * len(COLUMNS),
]


@pytest.fixture()
def type_table(my_db, my_schema):
    cols = ", ".join(f"{c} {t}" for c, t, *_ in COLUMNS)
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.types (id int PRIMARY KEY, {cols})")
    for row in ROWS:
        my_exec(my_db, f"INSERT INTO `{my_schema}`.types VALUES ({row})")
    return my_schema


@pytest.mark.heavy
def test_every_mariadb_type_comes_back_exactly(spark, catalog, my_db, my_connection, type_table):
    schema, db = type_table, catalog.database("my_types")
    summary = archive(
        spark,
        ArchiveRequest(
            connection=my_connection,
            schema=schema,
            table="types",
            run_id="my-types-1",
            catalog=catalog.name,
            database=db,
        ),
    )
    assert summary["status"] == "archived" and summary["rows"] == len(ROWS)

    table = catalog.load(db, archive_table_name(schema, "types"))

    def normalize(col, want, iceberg_type):
        if isinstance(want, (bytes, bytearray)) and iceberg_type == "string":
            return want.decode("utf-8")
        if col in ("b1", "yr"):
            return int(want)
        if col == "b64":
            return Decimal(want)
        if isinstance(want, datetime) and not want.tzinfo and iceberg_type == "timestamptz":
            return want.replace(tzinfo=UTC)
        return want

    compare_with_source(
        table, COLUMNS, lambda exprs: my_exec(my_db, f"SELECT id, {exprs} FROM `{schema}`.types ORDER BY id"), normalize
    )

    result = validate(
        spark,
        ValidateRequest(
            connection=my_connection,
            schema=schema,
            table="types",
            catalog=catalog.name,
            database=db,
            run_id="my-types-1",
        ),
    )
    assert result["status"] == "passed", result["mismatches"]
    assert result["row_hash"]["excluded_columns"] == []  # floats are hashed by their bit patterns


def test_zero_date_fails_naming_the_column_and_leaves_no_table(spark, warehouse, my_db, my_connection, my_schema):
    my_exec(my_db, "SET SESSION sql_mode = ''")
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.z (id int PRIMARY KEY, `Created On` datetime)")
    my_exec(
        my_db, f"INSERT INTO `{my_schema}`.z VALUES (1, '2020-01-01 00:00:00'), (2, '0000-00-00 00:00:00'), (3, NULL)"
    )
    my_exec(my_db, "SET SESSION sql_mode = DEFAULT")
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=my_connection,
                schema=my_schema,
                table="z",
                run_id="z-1",
                catalog=CATALOG,
                database="my_types",
            ),
        )
    assert err.value.code == "lossy_value"
    assert err.value.details["column"] == "Created On"
    assert "0000-00-00" in str(err.value)
    assert not iceberg_reader.metadata_files(warehouse, "my_types", archive_table_name(my_schema, "z"))


def test_every_unarchivable_column_is_named(spark, warehouse, my_db, my_connection, my_schema):
    my_exec(my_db, "SET SESSION sql_mode = ''")
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.z (id int PRIMARY KEY, a date, `B` datetime, c datetime)")
    my_exec(
        my_db,
        f"INSERT INTO `{my_schema}`.z VALUES (1, '2020-01-01', '2020-01-01', NULL), (2, '2020-00-10', NULL, NULL), "
        f"(3, '0000-00-00', '0000-00-00 00:00:00', '2020-01-01'), (4, NULL, '0000-00-00 00:00:00', NULL)",
    )
    my_exec(my_db, "SET SESSION sql_mode = DEFAULT")
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=my_connection,
                schema=my_schema,
                table="z",
                run_id="z-2",
                catalog=CATALOG,
                database="my_types",
            ),
        )
    assert err.value.code == "lossy_value"
    got = [(c["column"], c["rows"], c["first_key"], c["value"]) for c in err.value.details["columns"]]
    assert got == [("a", 2, {"id": 2}, "2020-00-10"), ("B", 2, {"id": 3}, "0000-00-00 00:00:00")]


def test_every_spatial_column_is_named(spark, my_db, my_connection, my_schema):
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.g (id int PRIMARY KEY, p point, name text, `Area` polygon)")
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=my_connection,
                schema=my_schema,
                table="g",
                run_id="g-1",
                catalog=CATALOG,
                database="my_types",
            ),
        )
    assert err.value.code == "unsupported_type"
    assert err.value.details["columns"] == ["p", "Area"] and "'p'" in str(err.value) and "'Area'" in str(err.value)
