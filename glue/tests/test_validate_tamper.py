"""Validation catches each tamper class and names the key (and the column for a changed value).
The archive is tampered through Spark SQL on the Iceberg table, then rolled back to the archived
snapshot before the next case. Runs on both catalogs (``catalog`` fixture): every case on the local
Hadoop warehouse, a representative subset on the Glue Data Catalog with S3 (moto) — each kind of
difference (missing, duplicated, unexpected row; a changed decimal, timestamptz, binary value;
truncated precision; the row-text separator) and every kind of damaged data file, on S3 itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from catalogs import hadoop_only, on_catalogs
from conftest import unique
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "validation-result.schema.json")))


@pytest.fixture(scope="module")
def archived_in(spark, pg_db, pg_connection):
    """The tampered table, archived once per catalog for the whole module."""
    made: dict = {}

    def get(catalog) -> dict:
        if catalog.kind not in made:
            made[catalog.kind] = _archive_tamper_table(spark, pg_db, pg_connection, catalog)
        return made[catalog.kind]

    yield get
    with pg_db.cursor() as cur:
        for a in made.values():
            cur.execute(f'DROP SCHEMA "{a["schema"]}" CASCADE')


@pytest.fixture()
def archived(archived_in, catalog) -> dict:
    return archived_in(catalog)


def _rollback(spark, archived) -> None:
    db, name = archived["db"], archived["name"]
    spark.sql(f"CALL {archived['catalog']}.system.rollback_to_snapshot('{db}.{name}', {archived['snapshot']})")


def _archive_tamper_table(spark, pg_db, pg_connection, catalog) -> dict:
    schema, db = unique("tamper"), catalog.database("tamper")
    with pg_db.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
        cur.execute(f'''CREATE TABLE "{schema}".t (id int PRIMARY KEY, i8 bigint, n numeric(12,4),
            f8 double precision, r4 real, bo boolean, ch char(4), vc varchar(20), tx text, by bytea, dt date,
            ts timestamp(6), tz timestamptz(6), js jsonb, iv interval)''')
        cur.execute(f'''INSERT INTO "{schema}".t SELECT g, g::bigint * 1000000007, g + 0.1234, g / 3.0, g / 7.0,
            g % 2 = 0, 'c' || g,
            CASE WHEN g = 9 THEN NULL ELSE 'v' || g END, repeat('t', g), decode(lpad(to_hex(g), 4, '0'), 'hex'),
            date '2020-01-01' + g, timestamp '2020-01-01 00:00:00.123456' + g * interval '1 hour',
            timestamptz '2020-01-01 00:00:00.654321+00' + g * interval '1 minute', jsonb_build_object('g', g),
            g * interval '1 day'
            FROM generate_series(1, 40) g''')
        # values that would defeat a naive row text (fields joined by a tab, NULL as backslash-N)
        cur.execute(f"""UPDATE "{schema}".t SET vc = 'a' || chr(9) || 'b', tx = 'c' WHERE id = 11""")
        cur.execute(f"""UPDATE "{schema}".t SET tx = chr(92) || 'N' WHERE id = 12""")
    archive(
        spark,
        ArchiveRequest(
            connection=pg_connection, schema=schema, table="t", run_id="tamper-1", catalog=catalog.name, database=db
        ),
    )
    name = archive_table_name(schema, "t")
    ident = catalog.ident(db, name)
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    return {"schema": schema, "db": db, "catalog": catalog.name, "ident": ident, "name": name, "snapshot": snapshot}


def run_validate(spark, pg_connection, archived, **kw):
    result = validate(
        spark,
        ValidateRequest(
            connection=pg_connection,
            schema=archived["schema"],
            table="t",
            catalog=archived["catalog"],
            database=archived["db"],
            **kw,
        ),
    )
    Draft202012Validator(SCHEMA).validate(result)
    # PostgreSQL 14+: the source computes the bucket checksums unless the streamed path is asked for
    streamed = kw.get("row_hash_method") == "stream"
    assert result["row_hash"]["method"] == ("streamed" if streamed else "source_checksum"), result["row_hash"]
    return result


@pytest.mark.parametrize("catalog", ["hadoop", "glue"], indirect=True)
def test_untampered_archive_passes(spark, pg_connection, catalog, archived):
    result = run_validate(spark, pg_connection, archived, run_id="tamper-1")
    assert result["status"] == "passed", result["mismatches"]
    assert result["row_count"]["source"] == 40 and result["row_hash"]["buckets_mismatched"] == 0


CHANGES = {  # column -> Spark SQL expression that changes its value for id = 7
    "i8": "i8 + 1",
    "n": "n + 0.0001",
    "f8": "f8 + 1e-9",
    "r4": "r4 + 0.5",
    "bo": "NOT bo",
    "ch": "'zzzz'",
    "vc": "'changed'",
    "tx": "concat(tx, 'x')",
    "by": "X'00'",
    "dt": "date_add(dt, 1)",
    "ts": "ts + INTERVAL 1 MICROSECOND",
    "tz": "tz + INTERVAL 1 SECOND",
    "js": "'{\"g\": 8}'",
    "iv": "'8 days'",
}
CASES = [
    ("missing row", "DELETE FROM {t} WHERE id = 7", "7", "missing_in_archive", None),
    ("duplicated row", "INSERT INTO {t} SELECT * FROM {t} WHERE id = 7", "7", "duplicated_in_archive", None),
    *[(f"changed {c}", f"UPDATE {{t}} SET {c} = {e} WHERE id = 7", "7", "changed", c) for c, e in CHANGES.items()],
    ("truncated decimal", "UPDATE {t} SET n = CAST(ROUND(n, 2) AS DECIMAL(12,4)) WHERE id = 7", "7", "changed", "n"),
    (
        "truncated timestamp precision",
        "UPDATE {t} SET ts = CAST(date_trunc('SECOND', ts) AS TIMESTAMP_NTZ) WHERE id = 7",
        "7",
        "changed",
        "ts",
    ),
    (
        "truncated timestamptz precision",
        "UPDATE {t} SET tz = date_trunc('MILLISECOND', tz) WHERE id = 7",
        "7",
        "changed",
        "tz",
    ),
    ("timezone shift", "UPDATE {t} SET tz = tz - INTERVAL 1 HOUR WHERE id = 7", "7", "changed", "tz"),
    (
        "local timestamp read in another zone",
        "UPDATE {t} SET ts = ts + INTERVAL 2 HOURS WHERE id = 7",
        "7",
        "changed",
        "ts",
    ),
    ("added trailing space", "UPDATE {t} SET vc = concat(vc, ' ') WHERE id = 7", "7", "changed", "vc"),
    ("NULL turned into empty string", "UPDATE {t} SET vc = '' WHERE id = 9", "9", "changed", "vc"),
    # the row-text encoding: a tab moved from one text column into the next; a text backslash-N turned NULL
    (
        "separator moved between columns",
        "UPDATE {t} SET vc = 'a', tx = concat('b', chr(9), 'c') WHERE id = 11",
        "11",
        "changed",
        ["vc", "tx"],
    ),
    ("backslash-N text turned NULL", "UPDATE {t} SET tx = NULL WHERE id = 12", "12", "changed", "tx"),
    (
        "unexpected row",
        "INSERT INTO {t} SELECT id + 100, i8, n, f8, r4, bo, ch, vc, tx, by, dt, ts, tz, js, iv FROM {t} WHERE id = 7",
        "107",
        "unexpected_in_archive",
        None,
    ),
]


# on Glue: one of each kind of difference; the value changes that need no second catalog stay local
ON_GLUE = {
    "missing row",
    "duplicated row",
    "unexpected row",
    "changed n",
    "changed by",
    "changed tz",
    "truncated timestamp precision",
    "separator moved between columns",
}


@pytest.mark.parametrize(
    "catalog,label,sql,key,kind,column",
    on_catalogs(CASES, glue=[c for c in CASES if c[0] in ON_GLUE], ids=[c[0] for c in CASES]),
    indirect=["catalog"],
)
def test_tamper_is_caught_and_named(spark, pg_connection, catalog, archived, label, sql, key, kind, column):
    spark.sql(sql.replace("{t}", archived["ident"]))
    try:
        result = run_validate(spark, pg_connection, archived)
    finally:
        _rollback(spark, archived)
    assert result["status"] == "failed"
    assert "row_hash" in result["mismatches"]
    found = [k for k in result["row_hash"]["keys"] if k["key"] == {"id": key}]
    assert found, result["row_hash"]
    assert found[0]["kind"] == kind
    if column:
        assert found[0]["columns"] == (column if isinstance(column, list) else [column])


STREAMED = {"missing row", "unexpected row", "changed n", "changed ch", "changed f8", "separator moved between columns"}


@pytest.mark.parametrize(
    "catalog,label,sql,key,kind,column",
    on_catalogs([c for c in CASES if c[0] in STREAMED], glue=[], ids=[c[0] for c in CASES if c[0] in STREAMED]),
    indirect=["catalog"],
)
def test_tamper_is_caught_and_named_on_the_streamed_path(
    spark, pg_connection, catalog, archived, label, sql, key, kind, column
):
    """The streamed path (row_hash_method stream: every row's canonical texts hashed by Spark) stays selectable
    and catches the same tampers."""
    spark.sql(sql.replace("{t}", archived["ident"]))
    try:
        result = run_validate(spark, pg_connection, archived, row_hash_method="stream")
    finally:
        _rollback(spark, archived)
    assert result["status"] == "failed" and "row_hash" in result["mismatches"]
    found = [k for k in result["row_hash"]["keys"] if k["key"] == {"id": key}]
    assert found and found[0]["kind"] == kind, result["row_hash"]
    if column:
        assert found[0]["columns"] == (column if isinstance(column, list) else [column])


@hadoop_only
def test_sampled_validation_passes_clean_and_catches_a_change_to_every_row(spark, pg_connection, catalog, archived):
    assert run_validate(spark, pg_connection, archived, sample_percent=25)["status"] == "passed"
    spark.sql(f"UPDATE {archived['ident']} SET tx = upper(tx)")
    try:
        result = run_validate(spark, pg_connection, archived, sample_percent=25)
    finally:
        _rollback(spark, archived)
    assert result["status"] == "failed" and result["mode"] == "sampled"
    assert result["row_hash"]["keys"] and all(k["columns"] == ["tx"] for k in result["row_hash"]["keys"])


@hadoop_only  # on Glue the job writes its result record to S3 in the damaged-file test below
def test_validate_job_exits_non_zero_and_writes_its_record_on_mismatch(
    spark, pg_connection, catalog, archived, tmp_path
):
    """The job as a user runs it; on Glue its result record goes to S3."""
    records = catalog.records_dir(tmp_path)
    spark.sql(f"DELETE FROM {archived['ident']} WHERE id = 3")
    try:
        proc = validate_job(pg_connection, catalog, archived["db"], archived["schema"], records, tmp_path)
    finally:
        _rollback(spark, archived)
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["result_record"].startswith(records + "/")
    record = json.loads(catalog.read(summary["result_record"]))
    Draft202012Validator(SCHEMA).validate(record)
    assert record["status"] == "failed"
    assert {"key": {"id": "3"}, "kind": "missing_in_archive", "source_rows": 1, "archive_rows": 0} in record[
        "row_hash"
    ]["keys"]
    assert pg_connection.password not in proc.stdout


@hadoop_only
def test_text_key_and_keyless_tables_are_validated_and_tampering_named(spark, pg_db, pg_connection, pg_schema, catalog):
    db = catalog.database("tamper")

    def req(table):
        return ValidateRequest(
            connection=pg_connection, schema=pg_schema, table=table, catalog=catalog.name, database=db
        )

    with pg_db.cursor() as cur:
        cur.execute(f'CREATE TABLE "{pg_schema}".coded (code text PRIMARY KEY, qty int)')
        cur.execute(f"INSERT INTO \"{pg_schema}\".coded SELECT 'k-' || g, g FROM generate_series(1, 30) g")
        cur.execute(f'CREATE TABLE "{pg_schema}".log (msg text, n int)')  # no key, duplicate rows allowed
        cur.execute(
            f"INSERT INTO \"{pg_schema}\".log SELECT 'same', 1 FROM generate_series(1, 3) UNION ALL SELECT 'other', 2"
        )
    for table in ("coded", "log"):
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table=table,
                run_id="k-1",
                catalog=catalog.name,
                database=db,
            ),
        )
        assert validate(spark, req(table))["status"] == "passed"
    coded = catalog.ident(db, archive_table_name(pg_schema, "coded"))
    spark.sql(f"UPDATE {coded} SET qty = -1 WHERE code = 'k-17'")
    result = validate(spark, req("coded"))
    assert result["row_hash"]["keys"] == [
        {"key": {"code": "k-17"}, "kind": "changed", "source_rows": 1, "archive_rows": 1, "columns": ["qty"]}
    ]

    log = catalog.ident(db, archive_table_name(pg_schema, "log"))
    spark.sql(f"DELETE FROM {log} WHERE msg = 'same'")
    spark.sql(f"INSERT INTO {log} VALUES ('same', 1), ('same', 1)")  # 2 of the 3 identical rows
    result = validate(spark, req("log"))
    Draft202012Validator(SCHEMA).validate(result)
    assert result["status"] == "failed" and result["row_count"] == {"source": 4, "archive": 3, "match": False}
    [entry] = result["row_hash"]["keys"]
    assert entry["kind"] == "missing_duplicates_in_archive" and (entry["source_rows"], entry["archive_rows"]) == (3, 2)
    assert list(entry["key"]) == ["row_hash"]


@hadoop_only
def test_decimal_and_date_keys_named_and_nulls_in_integer_fields_caught(
    spark, pg_db, pg_connection, pg_schema, catalog
):
    """Integers, decimals and dates hash as 64-bit integers with a NULL flag: a NULL turned into 0 (and back) is a
    change, and keys of those types are named by their canonical texts."""
    db = catalog.database("tamper")
    with pg_db.cursor() as cur:
        cur.execute(f'CREATE TABLE "{pg_schema}".priced (sku numeric(8,2), day date, qty int, PRIMARY KEY (sku, day))')
        cur.execute(
            f"INSERT INTO \"{pg_schema}\".priced SELECT g / 100.0 - 0.1, date '1969-12-30' + g, "
            f"CASE WHEN g % 2 = 0 THEN NULL ELSE g - 1 END FROM generate_series(1, 30) g"
        )
    archive(
        spark,
        ArchiveRequest(
            connection=pg_connection, schema=pg_schema, table="priced", run_id="p-1", catalog=catalog.name, database=db
        ),
    )
    req = ValidateRequest(connection=pg_connection, schema=pg_schema, table="priced", catalog=catalog.name, database=db)
    assert validate(spark, req)["status"] == "passed"
    ident = catalog.ident(db, archive_table_name(pg_schema, "priced"))
    # g = 5: sku -0.05, day 1970-01-04 (day 3), qty 4; g = 2: sku -0.08, day 1970-01-01 (day 0), qty NULL;
    # g = 1: sku -0.09, day 1969-12-31 (day -1), qty 0
    spark.sql(f"UPDATE {ident} SET qty = NULL WHERE qty = 0")
    spark.sql(f"UPDATE {ident} SET qty = 0 WHERE day = DATE'1970-01-01'")
    spark.sql(f"UPDATE {ident} SET sku = -0.06 WHERE day = DATE'1970-01-04'")
    result = validate(spark, req)
    Draft202012Validator(SCHEMA).validate(result)
    assert result["status"] == "failed"
    changed = {"kind": "changed", "source_rows": 1, "archive_rows": 1, "columns": ["qty"]}
    assert result["row_hash"]["keys"] == [
        {"key": {"sku": "-0.05", "day": "3"}, "kind": "missing_in_archive", "source_rows": 1, "archive_rows": 0},
        {"key": {"sku": "-0.06", "day": "3"}, "kind": "unexpected_in_archive", "source_rows": 0, "archive_rows": 1},
        {"key": {"sku": "-0.08", "day": "0"}, **changed},
        {"key": {"sku": "-0.09", "day": "-1"}, **changed},
    ]


def damage_file(catalog, path: str, how: str) -> None:
    """A data file deleted, cut to half its length, or overwritten (same length, no Parquet footer) —
    in the directory, or the S3 object itself."""
    if how == "deleted":
        catalog.delete(path)
        return
    data = catalog.read(path)
    if how == "truncated":
        catalog.write(path, data[: len(data) // 2])
    else:
        catalog.write(path, (b"\x00garbage" * (len(data) // 8)).ljust(len(data), b"\x00"))


def validate_job(pg_connection, catalog, db, schema, result_path, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC")
    args = {
        "JOB_NAME": "t",
        "source_engine": "postgresql",
        "source_host": pg_connection.host,
        "source_port": str(pg_connection.port),
        "source_database": pg_connection.database,
        "source_user": pg_connection.user,
        "source_schema": schema,
        "source_table": "t",
        "archive_database": db,
        "result_path": result_path,
        "log_file": str(tmp_path / "validate.log"),
    }
    argv = [a for k, v in args.items() for a in (f"--{k}", v)] + catalog.job_args()
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "glue", "validate_table.py"), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("catalog,how", on_catalogs(["garbage", "truncated", "deleted"]), indirect=["catalog"])
def test_an_unreadable_archive_data_file_fails_validation_naming_the_file(
    spark, catalog, pg_db, pg_connection, pg_schema, tmp_path, how
):
    db = catalog.database("tamper")
    with pg_db.cursor() as cur:
        cur.execute(
            f'CREATE TABLE "{pg_schema}".t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3000) g'
        )
        cur.execute(f'ALTER TABLE "{pg_schema}".t ADD PRIMARY KEY (id)')
    archive(
        spark,
        ArchiveRequest(
            connection=pg_connection,
            schema=pg_schema,
            table="t",
            run_id="u-1",
            catalog=catalog.name,
            database=db,
            split_column="id",
            num_partitions=3,
        ),
    )
    req = ValidateRequest(connection=pg_connection, schema=pg_schema, table="t", catalog=catalog.name, database=db)
    assert validate(spark, req)["status"] == "passed"
    location = catalog.location(db, archive_table_name(pg_schema, "t"))
    data = [f for f in catalog.files(location + "/data") if f.endswith(".parquet")]
    assert len(data) == 3
    damage_file(catalog, data[1], how)

    if how == "garbage":  # the job, as a user runs it: exit 1 and a result naming the file, no Java trace
        proc = validate_job(pg_connection, catalog, db, pg_schema, catalog.records_dir(tmp_path), tmp_path)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
        result = json.loads(proc.stdout)
        assert "\tat " not in proc.stdout and "Traceback" not in proc.stdout
        Draft202012Validator(SCHEMA).validate(json.loads(catalog.read(result["result_record"])))
    else:
        result = validate(spark, req)
        Draft202012Validator(SCHEMA).validate(result)
        assert "\tat " not in json.dumps(result)
    assert result["status"] == "failed" and "archive_unreadable" in result["mismatches"]
    [bad] = result["archive_unreadable"]["files"]
    assert bad["path"].endswith(os.path.basename(data[1])) and bad["error"]
