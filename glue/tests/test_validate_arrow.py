"""The validation without Spark (validate_arrow.py): a PostgreSQL source's archive validated by the source's
own SQL against pyarrow's reading of the data files, on both catalogs. It passes only when every figure
agrees — the expectations below are the rows this test inserted, not figures of the code under test — and
each tamper (of the archive and of the source) is caught by the arrow checks themselves, then reported by the
Spark validation, which names the key. The job run as a program starts no JVM when the arrow path passes
(it runs with no Java at all)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from catalogs import hadoop_only
from conftest import pg_exec
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.errors import OffloadError
from offload_glue.names import archive_table_name
from offload_glue.validate import ValidateRequest, validate
from offload_glue.validate_arrow import CatalogSpec, validate_arrow

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "validation-result.schema.json")))
ROWS = 5000


@pytest.fixture()
def typed(spark, pg_db, pg_connection, pg_schema, catalog):
    """Every type family the arrow path hashes, NULLs in each nullable column, floats with NaN, ±infinity and
    -0.0, multi-byte texts, char(n) padding; ROWS rows in all (several data files' worth of buckets)."""
    pg_exec(
        pg_db,
        f'''CREATE TABLE "{pg_schema}".t (id bigint PRIMARY KEY, i2 smallint, i4 int, n numeric(12,3),
            n0 numeric(18,0), f8 double precision, f4 real, b boolean, d date, ts timestamp, tz timestamptz,
            vc varchar(30), tx text, ch char(5), by bytea, js jsonb, u uuid)''',
    )
    pg_exec(
        pg_db,
        f"""INSERT INTO "{pg_schema}".t
            SELECT g, (g % 30000)::smallint, g * 7, (g * 1.001)::numeric(12,3), g::numeric * 1000000000,
                   CASE g % 5 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN g / 3.0 WHEN 2 THEN '-0'::float8
                   WHEN 3 THEN 'Infinity' ELSE NULL END,
                   (g / 7.0)::real, g % 2 = 0, date '1960-01-01' + g, timestamp '1999-12-31 23:59:59.999999'
                   + g * interval '1 minute 1 microsecond', timestamptz '2020-01-01 00:00:00+00' - g * interval
                   '1 second', 'väl ' || g, repeat('é', g % 4), CASE WHEN g % 3 = 0 THEN 'ab' ELSE 'abcde' END,
                   decode(md5(g::text), 'hex'), jsonb_build_object('k', g), md5(g::text)::uuid
            FROM generate_series(1, {ROWS}) g""",
    )
    pg_exec(pg_db, f'UPDATE "{pg_schema}".t SET i2 = NULL, n = NULL, vc = NULL, by = NULL, u = NULL WHERE id % 97 = 0')
    db = catalog.database("arrowv")
    req = ArchiveRequest(
        connection=pg_connection, schema=pg_schema, table="t", catalog=catalog.name, database=db, run_id="av-1"
    )
    archive(spark, req)
    ident = catalog.ident(db, archive_table_name(pg_schema, "t"))
    snapshot = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()[0][0]
    return {"schema": pg_schema, "db": db, "catalog": catalog, "ident": ident, "snapshot": snapshot}


def _req(pg_connection, a, **kw) -> ValidateRequest:
    return ValidateRequest(
        connection=pg_connection, schema=a["schema"], table="t", catalog=a["catalog"].name, database=a["db"], **kw
    )


def _spec(a) -> CatalogSpec:
    c = a["catalog"]
    return CatalogSpec(c.name, c.kind, c.warehouse)


def test_a_faithful_archive_passes_without_spark_with_the_inserted_figures(pg_connection, typed):
    # no Spark session at all: validate() is given none
    result = validate(None, _req(pg_connection, typed, engine="arrow"), _spec(typed))
    Draft202012Validator(SCHEMA).validate(result)
    assert result["status"] == "passed" and result["engine"] == "arrow", result
    assert result["row_count"] == {"source": ROWS, "archive": ROWS, "match": True}
    checks = {c["name"]: c["checks"] for c in result["columns"]}
    nulls = ROWS // 97
    assert checks["id"]["sum"] == {"source": str(ROWS * (ROWS + 1) // 2), "archive": str(ROWS * (ROWS + 1) // 2)}
    assert checks["vc"]["non_null_count"] == {"source": ROWS - nulls, "archive": ROWS - nulls}
    assert checks["n0"]["sum"]["archive"] == str(ROWS * (ROWS + 1) // 2 * 1000000000)
    # NaN sorts above every number, as in PostgreSQL; -0.0 and 0.0 are one minimum
    assert checks["f8"]["max"] == {"source": "nan", "archive": "nan"}
    assert checks["f8"]["min"]["archive"] == checks["f8"]["min"]["source"] == 0.0
    assert result["row_hash"]["method"] == "source_checksum" and result["row_hash"]["excluded_columns"] == []
    assert result["row_hash"]["key_columns"] == ["id"] and result["archive_snapshot_id"] == typed["snapshot"]


ARCHIVE_TAMPERS = [
    # label, Spark SQL on the archive, the key and column the Spark report names
    ("decimal +0.001", "UPDATE {t} SET n = n + 0.001 WHERE id = 17", "17", "n"),
    ("text swapped between rows", "UPDATE {t} SET vc = CASE id WHEN 5 THEN 'väl 6' ELSE 'väl 5' END WHERE id IN (5, 6)",
     None, "vc"),
    ("char padding lost", "UPDATE {t} SET ch = 'ab' WHERE id = 3", "3", "ch"),
    ("-0.0 for 0.0 turned 0.0", "UPDATE {t} SET f8 = CAST('0.0' AS DOUBLE) WHERE id = 2", "2", "f8"),
    ("timestamp +1 µs", "UPDATE {t} SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = 40", "40", "ts"),
    ("NULL for a value", "UPDATE {t} SET js = NULL WHERE id = 41", "41", "js"),
    ("bytes changed", "UPDATE {t} SET by = X'00' WHERE id = 42", "42", "by"),
    ("row deleted", "DELETE FROM {t} WHERE id = 43", "43", None),
    ("row duplicated", "INSERT INTO {t} SELECT * FROM {t} WHERE id = 44", "44", None),
]  # fmt: skip


@hadoop_only
@pytest.mark.parametrize("label,sql,key,column", ARCHIVE_TAMPERS, ids=[t[0] for t in ARCHIVE_TAMPERS])
def test_every_archive_tamper_is_caught_by_the_arrow_checks_and_named_by_spark(
    spark, pg_connection, typed, label, sql, key, column
):
    spark.sql(sql.replace("{t}", typed["ident"]))
    passed, reason = validate_arrow(_req(pg_connection, typed), _spec(typed))
    assert passed is None and "arrow checks differ" in reason, (label, reason)
    result = validate(spark, _req(pg_connection, typed))
    Draft202012Validator(SCHEMA).validate(result)
    assert result["status"] == "failed" and result["engine"] == "spark", result
    assert "arrow checks differ" in result["engine_reason"]
    keys = result["row_hash"]["keys"]
    named = {k["key"]["id"] for k in keys}
    assert (key in named) if key else len(named) == 2, (label, keys)
    if column:
        assert any(column in (k.get("columns") or []) for k in keys), (label, keys)


@hadoop_only
def test_a_source_row_changed_after_the_archive_is_caught(spark, pg_db, pg_connection, typed):
    pg_exec(pg_db, f"""UPDATE "{typed["schema"]}".t SET tx = tx || ' ' WHERE id = 99""")
    passed, reason = validate_arrow(_req(pg_connection, typed), _spec(typed))
    assert passed is None and "arrow checks differ" in reason and "bucket" in reason, reason
    result = validate(spark, _req(pg_connection, typed))
    assert result["status"] == "failed" and [k["key"] for k in result["row_hash"]["keys"]] == [{"id": "99"}]


@hadoop_only
def test_requests_the_arrow_path_does_not_cover_run_on_spark_saying_why(spark, pg_connection, typed):
    for kw, why in [
        ({"sample_percent": 50}, "sampled validation"),
        ({"row_hash_method": "stream"}, "row_hash_method stream"),
        ({"run_id": "another-run"}, "lineage differs: run_id"),
    ]:
        result = validate(spark, _req(pg_connection, typed, **kw))
        assert result["engine"] == "spark" and why in result["engine_reason"], (kw, result.get("engine_reason"))
        assert result["status"] == ("failed" if "run_id" in kw else "passed"), result
    with pytest.raises(OffloadError) as err:
        validate(spark, _req(pg_connection, typed, sample_percent=50, engine="arrow"))
    assert err.value.code == "arrow_validation_not_applicable" and "sampled" in str(err.value)
    with pytest.raises(OffloadError) as err:
        validate(spark, _req(pg_connection, typed, engine="jvm"))
    assert err.value.code == "bad_argument"


@hadoop_only
def test_numerics_beyond_64_bits_are_summed_and_hashed_exactly(spark, pg_db, pg_connection, pg_schema, catalog):
    """Decimals beyond 64 bits: exact sums of 28-digit values (unscaled beyond one 64-bit word), hashes of the
    plain text of 38-digit ones (Arrow writes 0 at scale 10 as 0E-10); a change in the last digit of either is
    caught by the arrow checks."""
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".t (id int PRIMARY KEY, n numeric(28,10), m numeric(38,10))')
    pg_exec(
        pg_db,
        f"""INSERT INTO "{pg_schema}".t VALUES (1, 999999999999999999.9999999999,
            9999999999999999999999999999.9999999999), (2, -999999999999999999.9999999999, -1),
            (3, 0, 0), (4, 0.0000000001, NULL), (5, NULL, 0.0000000001), (6, 123456789012345678.5, -0.0000000001)""",
    )
    db = catalog.database("arrowwide")
    archive(spark, ArchiveRequest(connection=pg_connection, schema=pg_schema, table="t", catalog=catalog.name,
                                  database=db, run_id="w-1"))  # fmt: skip
    a = {"schema": pg_schema, "db": db, "catalog": catalog}
    result = validate(spark, _req(pg_connection, a))
    assert result["status"] == "passed" and result["engine"] == "arrow", result
    checks = {c["name"]: c["checks"] for c in result["columns"]}
    n_sum = "123456789012345678.5000000001"
    assert checks["n"]["sum"] == {"source": n_sum, "archive": n_sum}
    assert "sum" not in checks["m"]  # over 28 digits: no sum on either engine (the column plan's numeric_sum)
    ident = catalog.ident(db, archive_table_name(pg_schema, "t"))
    spark.sql(f"UPDATE {ident} SET n = n - 0.0000000001 WHERE id = 1")
    passed, reason = validate_arrow(_req(pg_connection, a), _spec(a))
    assert passed is None and "column n: sum" in reason and "bucket" in reason, reason
    spark.sql(f"UPDATE {ident} SET n = n + 0.0000000001 WHERE id = 1")
    spark.sql(f"UPDATE {ident} SET m = CAST('-0.9999999999' AS DECIMAL(38,10)) WHERE id = 2")
    passed, reason = validate_arrow(_req(pg_connection, a), _spec(a))
    assert passed is None and "column" not in reason and "2 bucket(s)" in reason, reason  # the row moved bucket


def test_the_job_validates_without_java_and_writes_its_record(pg_connection, typed, tmp_path):
    """No java on the PATH and JAVA_HOME pointing nowhere: the arrow path needs no JVM; the Spark engine
    cannot start in the same environment (so the first run really did without it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ps", "env", "sh"):  # the few programs a job may call, not java
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bin_dir / tool)
    env = dict(os.environ, OFFLOAD_SOURCE_PASSWORD=pg_connection.password, TZ="UTC", PATH=str(bin_dir),
               JAVA_HOME=str(tmp_path / "no-java"))  # fmt: skip
    record = str(tmp_path / "record")

    def job(*extra):
        args = {
            "JOB_NAME": "t", "source_engine": "postgresql", "source_host": pg_connection.host,
            "source_port": str(pg_connection.port), "source_database": pg_connection.database,
            "source_user": pg_connection.user, "source_schema": typed["schema"], "source_table": "t",
            "archive_database": typed["db"], "result_path": record, "log_file": str(tmp_path / "v.log"),
        }  # fmt: skip
        argv = [a for k, v in args.items() for a in (f"--{k}", v)] + typed["catalog"].job_args() + list(extra)
        script = os.path.join(ROOT, "glue", "validate_table.py")
        return subprocess.run([sys.executable, script, *argv], capture_output=True, text=True, env=env, timeout=300)

    run = job()
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = json.loads(run.stdout)
    assert out["status"] == "passed" and out["engine"] == "arrow", out
    files = [f for f in os.listdir(record)] if "://" not in record else []
    assert len(files) == 1 and files[0].endswith(".validation.json"), files
    written = json.load(open(os.path.join(record, files[0])))
    Draft202012Validator(SCHEMA).validate(written)
    assert written["row_count"]["archive"] == ROWS and written["engine"] == "arrow"
    spark_run = job("--validation_engine", "spark")
    assert spark_run.returncode != 0  # no Java here: the Spark engine cannot run
