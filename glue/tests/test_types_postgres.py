"""Type matrix, PostgreSQL: archive a table holding every common type (edge values included), read
the archive back with pyiceberg and compare each value with what PostgreSQL itself returns for the
expectation written here (independently of the job's column plans). The matrix runs on both catalogs:
the local Hadoop warehouse on both read paths (COPY, JDBC), and the Glue Data Catalog with S3 (moto)
on the default COPY path, read back through pyiceberg's own Glue catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import iceberg_reader
import pytest
from catalogs import on_catalogs
from conftest import CATALOG, pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate
from type_matrix import compare_with_source, f32

# column, type, expectation SQL ({c} is the column), converter of the driver's value, Iceberg type
COLUMNS = [
    ("i2", "smallint", "{c}", None, "int"),
    ("i4", "integer", "{c}", None, "int"),
    ("i8", "bigint", "{c}", None, "long"),
    ("n_12_2", "numeric(12,2)", "{c}", None, "decimal(12, 2)"),
    ("n_38_10", "numeric(38,10)", "{c}", None, "decimal(38, 10)"),
    ("n_38_0", "numeric(38,0)", "{c}", None, "decimal(38, 0)"),
    ("n_any", "numeric", "{c}::text", None, "string"),
    ("n_50", "numeric(50,12)", "{c}::text", None, "string"),
    ("r4", "real", "{c}", f32, "float"),
    ("d8", "double precision", "{c}", None, "double"),
    ("bo", "boolean", "{c}", None, "boolean"),
    ("ch", "char(6)", "{c}", None, "string"),
    ("vc", "varchar(20)", "{c}", None, "string"),
    ("tx", "text", "{c}", None, "string"),
    ("by", "bytea", "{c}", bytes, "binary"),
    ("dt", "date", "{c}", None, "date"),
    ("tm", "time(6)", "{c}::text", None, "string"),
    ("ts", "timestamp(6)", "{c}", None, "timestamp"),
    ("tz", "timestamptz(6)", "{c}", None, "timestamptz"),
    ("iv", "interval", "{c}::text", None, "string"),
    ("uu", "uuid", "{c}::text", None, "string"),
    ("js", "json", "{c}::text", None, "string"),
    ("jb", "jsonb", "{c}::text", None, "string"),
    ("ai", "integer[]", "{c}::text", None, "string"),
    ("at", "text[]", "{c}::text", None, "string"),
    ("en", "mood", "{c}::text", None, "string"),
    ("ip", "inet", "{c}::text", None, "string"),
    ("bi", "bit(8)", "{c}::text", None, "string"),
    ("vb", "varbit", "{c}::text", None, "string"),
    ("mo", "money", "{c}::numeric", None, "decimal(19, 2)"),
    ("n_18_6", "numeric(18,6)", "{c}", None, "decimal(18, 6)"),
]

ROWS = [
    "1, 1, 1, 1, 1.50, 1.0000000001, 1, 1.5, 3.14159265358979323846, 3.14159, 2.718281828459045, true, 'ab', 'x  ', "
    "'hello', "
    "'\\x00ff10'::bytea, '2024-02-29', '23:59:59.999999', '2024-01-02 03:04:05.123456', "
    "'2024-01-02 03:04:05.123456+05:30', "
    "'1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"b\": 1,  \"a\": [1, 2]}', "
    '\'{"b": 1, "a": [1, 2]}\', '
    "'{1,2,NULL}', '{\"a b\",\"c,d\",NULL}', 'happy', '192.168.0.1/24', B'10100101', B'101', 12.34, 1.5",
    "2, -32768, -2147483648, -9223372036854775808, -9999999999.99, -9999999999999999999999999999.9999999999, "
    "-99999999999999999999999999999999999999, 'NaN', -12345678901234567890123456789012345678.123456789012, 'NaN', "
    "'NaN', false, "
    "'      ', '', '', ''::bytea, '0001-01-01', '00:00:00', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', "
    "'-1 days -00:00:00.000001', "
    "'00000000-0000-0000-0000-000000000000', '[]', '{}', '{}', '{}', 'sad', '::1', B'00000000', B'', "
    "-92233720368547758.08, -999999999999.999999",
    "3, 32767, 2147483647, 9223372036854775807, 9999999999.99, 9999999999999999999999999999.9999999999, "
    "99999999999999999999999999999999999999, 0.000000000000000000000000000001, 0.000000000001, '-Infinity', "
    "'Infinity', true, "
    "'äöü€ ', 'tab\tnewline\n', repeat('long ', 2000), decode(repeat('ff', 1000), 'hex'), '9999-12-31', "
    "'12:00:00.000001', "
    "'9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '178000000 years', "
    "'ffffffff-ffff-ffff-ffff-ffffffffffff', "
    "'\"\\u00e9\"', '{\"k\": \"\\u00e9\"}', '{{1,2},{3,4}}', '{\"\\\\\\\"q\"}', 'ok', '2001:db8::/32', B'11111111', "
    "B'1', 92233720368547758.07, 999999999999.999999",
    "4, 0, 0, 0, 0.00, 0.0000000001, 0, 0, 0, '-0', '-0', false, 'x', ' ', ' lead', '\\x00'::bytea, '1970-01-01', "
    "'00:00:00.5', "
    "'1970-01-01 00:00:00.000001', '1969-12-31 23:59:59.999999+00', '0', '12345678-1234-1234-1234-123456789abc', "
    "'null', 'null', "
    "'{NULL}', '{\"\"}', 'sad', '0.0.0.0/0', B'00000001', B'0000', 0, 0.000001",
    "5" + ", NULL" * len(COLUMNS),
]


def create_type_table(pg_db, schema: str, table: str = "types") -> None:
    """The type matrix as ``schema.table`` (with the enum type it uses), every row of ROWS in it."""
    pg_exec(pg_db, f"CREATE TYPE \"{schema}\".mood AS ENUM ('sad', 'ok', 'happy')")
    pg_exec(pg_db, f'SET search_path = "{schema}"')
    cols = ", ".join(f"{c} {t}" for c, t, *_ in COLUMNS)
    pg_exec(pg_db, f'CREATE TABLE "{schema}"."{table}" (id int PRIMARY KEY, {cols})')
    for row in ROWS:
        pg_exec(pg_db, f'INSERT INTO "{schema}"."{table}" VALUES ({row})')
    pg_exec(pg_db, "SET search_path = public")


@pytest.fixture()
def type_table(pg_db, pg_schema):
    create_type_table(pg_db, pg_schema)
    return pg_schema


@pytest.mark.heavy
@pytest.mark.parametrize("catalog,read_path", on_catalogs(["copy", "jdbc"], glue=["copy"]), indirect=["catalog"])
def test_every_postgres_type_comes_back_exactly(spark, catalog, pg_db, pg_connection, type_table, read_path):
    schema, db = type_table, catalog.database("pg_types")
    summary = archive(
        spark,
        ArchiveRequest(
            connection=pg_connection,
            schema=schema,
            table="types",
            run_id="types-1",
            catalog=catalog.name,
            database=db,
            read_path=read_path,
        ),
    )
    assert summary["status"] == "archived" and summary["rows"] == len(ROWS)
    assert summary["read"]["path"] == read_path

    name = archive_table_name(schema, "types")
    table = catalog.load(db, name)
    assert table.metadata.format_version == 2
    assert table.metadata.properties["write.parquet.compression-codec"] == "zstd"

    def normalize(col, want, _iceberg_type):
        if isinstance(want, Decimal) and col == "mo":
            return want.quantize(Decimal("0.01"))
        if isinstance(want, datetime) and want.tzinfo is not None:
            return want.astimezone(UTC)
        return want

    compare_with_source(
        table, COLUMNS, lambda exprs: pg_exec(pg_db, f'SELECT id, {exprs} FROM "{schema}".types ORDER BY id'), normalize
    )

    # both validation engines: without Spark (every type of the matrix is covered there) and Spark's
    for engine in ("arrow", "spark"):
        result = validate(
            spark,
            ValidateRequest(
                connection=pg_connection,
                schema=schema,
                table="types",
                catalog=catalog.name,
                database=db,
                run_id="types-1",
                engine=engine,
            ),
        )
        assert result["status"] == "passed" and result["engine"] == engine, (engine, result["mismatches"])
        assert result["row_count"] == {"source": len(ROWS), "archive": len(ROWS), "match": True}
        assert result["row_hash"]["excluded_columns"] == []


# a value no Iceberg type of the column can hold: the job fails naming the column, on both read paths
UNARCHIVABLE = [
    ("numeric(10,2)", "'NaN'"),
    ("date", "'infinity'"),
    ("timestamp(6)", "'-infinity'"),
    ("timestamptz(6)", "'infinity'"),
    ("timestamp(6)", "'294276-12-31 23:59:59'"),  # beyond Iceberg's microsecond range
]


@pytest.mark.parametrize("read_path", ["copy", "jdbc"])
@pytest.mark.parametrize("sql_type,value", UNARCHIVABLE, ids=[f"{t} {v}" for t, v in UNARCHIVABLE])
def test_unarchivable_value_fails_naming_the_column(
    spark, warehouse, pg_db, pg_connection, pg_schema, read_path, sql_type, value
):
    from offload_glue.errors import OffloadError

    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".bad (id int PRIMARY KEY, "Amount" {sql_type})')
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}".bad (id) SELECT g FROM generate_series(1, 50) g')
    pg_exec(pg_db, f'UPDATE "{pg_schema}".bad SET "Amount" = {value} WHERE id = 37')
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table="bad",
                run_id="nan-1",
                catalog=CATALOG,
                database="pg_types",
                read_path=read_path,
            ),
        )
    assert err.value.code == "lossy_value" and err.value.details["column"] == "Amount"
    if "294276" not in value:
        assert f"value {value} cannot be archived" in str(err.value)
    assert not iceberg_reader.metadata_files(warehouse, "pg_types", archive_table_name(pg_schema, "bad"))


@pytest.mark.parametrize("read_path", ["copy", "jdbc"])
def test_unarchivable_values_in_several_columns_are_all_named_with_a_first_key(
    spark, warehouse, pg_db, pg_connection, pg_schema, read_path
):
    from offload_glue.errors import OffloadError

    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}".bad (region text, id int, "Amount" numeric(10,2), ok date, "Due" date, '
        "PRIMARY KEY (region, id))",
    )
    pg_exec(
        pg_db, f"INSERT INTO \"{pg_schema}\".bad (region, id) SELECT 'r' || (g % 2), g FROM generate_series(1, 50) g"
    )
    pg_exec(pg_db, f"""UPDATE "{pg_schema}".bad SET "Amount" = 'NaN' WHERE id IN (38, 12, 13)""")
    pg_exec(pg_db, f"""UPDATE "{pg_schema}".bad SET "Due" = 'infinity' WHERE id IN (45, 41)""")
    with pytest.raises(OffloadError) as err:
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table="bad",
                run_id="nan-2",
                catalog=CATALOG,
                database="pg_types",
                read_path=read_path,
            ),
        )
    assert err.value.code == "lossy_value"
    # keys ordered as the primary key: region text first, then id
    assert err.value.details["columns"] == [
        {
            "column": "Amount",
            "source_type": "numeric(10,2)",
            "archive_type": "decimal(10,2)",
            "rows": 3,
            "first_key": {"region": "r0", "id": 12},
            "value": "NaN",
        },
        {
            "column": "Due",
            "source_type": "date",
            "archive_type": "date",
            "rows": 2,
            "first_key": {"region": "r1", "id": 41},
            "value": "infinity",
        },
    ]
    assert '"Amount"' in str(err.value) and '"Due"' in str(err.value) and "id=12" in str(err.value)
    assert not iceberg_reader.metadata_files(warehouse, "pg_types", archive_table_name(pg_schema, "bad"))
