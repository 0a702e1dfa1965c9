"""Validation catches each tamper class and names the key (and the column for a changed value).
The archive is tampered through Spark SQL on the Iceberg table, then rolled back to the archived
snapshot before the next case."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
from conftest import CATALOG, unique
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DB = "tamper"
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "validation-result.schema.json")))


@pytest.fixture(scope="module")
def archived(spark, pg_db, pg_connection):
    schema = unique("tamper")
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
            connection=pg_connection, schema=schema, table="t", run_id="tamper-1", catalog=CATALOG, database=DB
        ),
    )
    name = archive_table_name(schema, "t")
    ident = f"{CATALOG}.{DB}.{name}"
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    yield {"schema": schema, "ident": ident, "name": name, "snapshot": snapshot}
    with pg_db.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_validate(spark, pg_connection, archived, **kw):
    result = validate(
        spark,
        ValidateRequest(
            connection=pg_connection, schema=archived["schema"], table="t", catalog=CATALOG, database=DB, **kw
        ),
    )
    Draft202012Validator(SCHEMA).validate(result)
    return result


def test_untampered_archive_passes(spark, pg_connection, archived):
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


@pytest.mark.parametrize("label,sql,key,kind,column", CASES, ids=[c[0] for c in CASES])
def test_tamper_is_caught_and_named(spark, pg_connection, archived, label, sql, key, kind, column):
    ident = archived["ident"]
    spark.sql(sql.replace("{t}", ident))
    try:
        result = run_validate(spark, pg_connection, archived)
    finally:
        spark.sql(f"CALL {CATALOG}.system.rollback_to_snapshot('{DB}.{archived['name']}', {archived['snapshot']})")
    assert result["status"] == "failed"
    assert "row_hash" in result["mismatches"]
    found = [k for k in result["row_hash"]["keys"] if k["key"] == {"id": key}]
    assert found, result["row_hash"]
    assert found[0]["kind"] == kind
    if column:
        assert found[0]["columns"] == (column if isinstance(column, list) else [column])


def test_sampled_validation_passes_clean_and_catches_a_change_to_every_row(spark, pg_connection, archived):
    assert run_validate(spark, pg_connection, archived, sample_percent=25)["status"] == "passed"
    spark.sql(f"UPDATE {archived['ident']} SET tx = upper(tx)")
    try:
        result = run_validate(spark, pg_connection, archived, sample_percent=25)
    finally:
        spark.sql(f"CALL {CATALOG}.system.rollback_to_snapshot('{DB}.{archived['name']}', {archived['snapshot']})")
    assert result["status"] == "failed" and result["mode"] == "sampled"
    assert result["row_hash"]["keys"] and all(k["columns"] == ["tx"] for k in result["row_hash"]["keys"])


def test_validate_job_exits_non_zero_and_writes_its_record_on_mismatch(
    spark, pg_connection, archived, warehouse, tmp_path
):
    spark.sql(f"DELETE FROM {archived['ident']} WHERE id = 3")
    try:
        env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC")
        proc = subprocess.run(
            [
                sys.executable,
                os.path.join(ROOT, "glue", "validate_table.py"),
                "--JOB_NAME",
                "t",
                "--source_engine",
                "postgresql",
                "--source_host",
                pg_connection.host,
                "--source_port",
                str(pg_connection.port),
                "--source_database",
                pg_connection.database,
                "--source_user",
                pg_connection.user,
                "--source_schema",
                archived["schema"],
                "--source_table",
                "t",
                "--catalog_type",
                "hadoop",
                "--warehouse",
                warehouse,
                "--archive_database",
                DB,
                "--result_path",
                str(tmp_path),
                "--log_file",
                str(tmp_path / "validate.log"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    finally:
        spark.sql(f"CALL {CATALOG}.system.rollback_to_snapshot('{DB}.{archived['name']}', {archived['snapshot']})")
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    record = json.load(open(summary["result_record"]))
    Draft202012Validator(SCHEMA).validate(record)
    assert record["status"] == "failed"
    assert {"key": {"id": "3"}, "kind": "missing_in_archive", "source_rows": 1, "archive_rows": 0} in record[
        "row_hash"
    ]["keys"]
    assert pg_connection.password not in proc.stdout


def test_text_key_and_keyless_tables_are_validated_and_tampering_named(spark, pg_db, pg_connection, pg_schema):
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
                connection=pg_connection, schema=pg_schema, table=table, run_id="k-1", catalog=CATALOG, database=DB
            ),
        )
        req = ValidateRequest(connection=pg_connection, schema=pg_schema, table=table, catalog=CATALOG, database=DB)
        assert validate(spark, req)["status"] == "passed"
    coded = f"{CATALOG}.{DB}.{archive_table_name(pg_schema, 'coded')}"
    spark.sql(f"UPDATE {coded} SET qty = -1 WHERE code = 'k-17'")
    result = validate(
        spark, ValidateRequest(connection=pg_connection, schema=pg_schema, table="coded", catalog=CATALOG, database=DB)
    )
    assert result["row_hash"]["keys"] == [
        {"key": {"code": "k-17"}, "kind": "changed", "source_rows": 1, "archive_rows": 1, "columns": ["qty"]}
    ]

    log = f"{CATALOG}.{DB}.{archive_table_name(pg_schema, 'log')}"
    spark.sql(f"DELETE FROM {log} WHERE msg = 'same'")
    spark.sql(f"INSERT INTO {log} VALUES ('same', 1), ('same', 1)")  # 2 of the 3 identical rows
    result = validate(
        spark, ValidateRequest(connection=pg_connection, schema=pg_schema, table="log", catalog=CATALOG, database=DB)
    )
    Draft202012Validator(SCHEMA).validate(result)
    assert result["status"] == "failed" and result["row_count"] == {"source": 4, "archive": 3, "match": False}
    [entry] = result["row_hash"]["keys"]
    assert entry["kind"] == "missing_duplicates_in_archive" and (entry["source_rows"], entry["archive_rows"]) == (3, 2)
    assert list(entry["key"]) == ["row_hash"]


def damage_file(path: str, how: str) -> None:
    if how == "deleted":
        os.remove(path)
        return
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        if how == "truncated":
            fh.truncate(size // 2)
        else:  # same length, no Parquet footer
            fh.write(b"\x00garbage" * (size // 8))


def validate_job(pg_connection, schema, warehouse, result_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC")
    args = {
        "source_engine": "postgresql",
        "source_host": pg_connection.host,
        "source_port": str(pg_connection.port),
        "source_database": pg_connection.database,
        "source_user": pg_connection.user,
        "source_schema": schema,
        "source_table": "t",
        "warehouse": warehouse,
        "archive_database": DB,
        "result_path": result_path,
    }
    argv = [a for k, v in args.items() for a in (f"--{k}", v)]
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "glue", "validate_table.py"), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("how", ["garbage", "truncated", "deleted"])
def test_an_unreadable_archive_data_file_fails_validation_naming_the_file(
    spark, warehouse, pg_db, pg_connection, pg_schema, tmp_path, how
):
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
            catalog=CATALOG,
            database=DB,
            split_column="id",
            num_partitions=3,
        ),
    )
    req = ValidateRequest(connection=pg_connection, schema=pg_schema, table="t", catalog=CATALOG, database=DB)
    assert validate(spark, req)["status"] == "passed"
    data = sorted(glob.glob(os.path.join(warehouse, DB, archive_table_name(pg_schema, "t"), "data", "*.parquet")))
    assert len(data) == 3
    damage_file(data[1], how)

    if how == "garbage":  # the job, as a user runs it: exit 1 and a result naming the file, no Java trace
        proc = validate_job(pg_connection, pg_schema, warehouse, str(tmp_path))
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
        result = json.loads(proc.stdout)
        assert "\tat " not in proc.stdout and "Traceback" not in proc.stdout
        Draft202012Validator(SCHEMA).validate(json.load(open(result["result_record"])))
    else:
        result = validate(spark, req)
        Draft202012Validator(SCHEMA).validate(result)
        assert "\tat " not in json.dumps(result)
    assert result["status"] == "failed" and "archive_unreadable" in result["mismatches"]
    [bad] = result["archive_unreadable"]["files"]
    assert bad["path"].endswith(os.path.basename(data[1])) and bad["error"]
