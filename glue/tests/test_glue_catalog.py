"""The production data path on the AWS emulator: archive, validate and purge with the Glue Data Catalog
(Iceberg's GlueCatalog) and the warehouse in S3 (S3FileIO) on the moto server, endpoints taken from the
standard AWS_ENDPOINT_URL. Every archive is read back with pyiceberg's own Glue catalog, as a consumer
(Athena, another engine) would, and the purge is checked on S3 itself."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import boto3
import pytest
from conftest import pg_exec, unique
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name
from offload_glue.purge import PurgeRequest, purge
from offload_glue.session import iceberg_aws_properties
from offload_glue.validate import ValidateRequest, validate


def pyiceberg_catalog(glue_catalog):
    from pyiceberg.catalog.glue import GlueCatalog

    env = glue_catalog["env"]
    return GlueCatalog(
        "consumer",
        **{
            "glue.endpoint": env["AWS_ENDPOINT_URL"],
            "glue.region": env["AWS_REGION"],
            "glue.access-key-id": env["AWS_ACCESS_KEY_ID"],
            "glue.secret-access-key": env["AWS_SECRET_ACCESS_KEY"],
            "s3.endpoint": env["AWS_ENDPOINT_URL"],
            "s3.region": env["AWS_REGION"],
            "s3.access-key-id": env["AWS_ACCESS_KEY_ID"],
            "s3.secret-access-key": env["AWS_SECRET_ACCESS_KEY"],
        },
    )


def s3_keys(bucket: str, prefix: str) -> list[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture()
def pg_table(pg_db, pg_schema):
    table = "txn_202001"
    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}"."{table}" (id int PRIMARY KEY, amount numeric(12,2), note text, day date)',
    )
    pg_exec(
        pg_db,
        f"INSERT INTO \"{pg_schema}\".\"{table}\" SELECT g, g * 1.25, 'n' || g, DATE '2020-01-01' + g % 31 "
        "FROM generate_series(1, 500) g",
    )
    return table


def test_endpoint_overrides_come_from_the_standard_environment():
    props = iceberg_aws_properties(
        {"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_S3": "http://s3", "AWS_REGION": "eu-west-2"}
    )
    assert props == {
        "glue.endpoint": "http://a",
        "s3.endpoint": "http://s3",
        "s3.path-style-access": "true",
        "client.region": "eu-west-2",
    }
    assert iceberg_aws_properties({}) == {}, "nothing is overridden on AWS itself"


def test_archive_validate_purge_on_glue_and_s3(spark, glue_catalog, pg_db, pg_connection, pg_schema, pg_table):
    catalog, bucket = glue_catalog["catalog"], glue_catalog["bucket"]
    database = unique("archive_g")
    name = archive_table_name(pg_schema, pg_table)
    summary = archive(
        spark,
        ArchiveRequest(
            connection=pg_connection,
            schema=pg_schema,
            table=pg_table,
            run_id="g-1",
            catalog=catalog,
            database=database,
            retention_until="2001-01-01",
            legal_hold=False,
        ),
    )
    assert summary["status"] == "archived" and summary["rows"] == 500, summary

    # The Glue Data Catalog on the emulator holds the table, its metadata pointer in S3.
    glue = boto3.client("glue").get_table(DatabaseName=database, Name=name)["Table"]
    location = glue["Parameters"]["metadata_location"]
    assert location.startswith(f"s3://{bucket}/warehouse/")
    assert glue["Parameters"]["table_type"].upper() == "ICEBERG"
    assert any(
        k.endswith(".parquet")
        for k in s3_keys(bucket, glue["StorageDescriptor"]["Location"].split(f"s3://{bucket}/", 1)[1])
    )

    # A consumer reads it back through pyiceberg's own Glue catalog.
    table = pyiceberg_catalog(glue_catalog).load_table(f"{database}.{name}")
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    expected = pg_exec(pg_db, f'SELECT id, amount, note, day FROM "{pg_schema}"."{pg_table}" ORDER BY id')
    assert [(r["id"], r["amount"], r["note"], r["day"]) for r in rows] == [tuple(e) for e in expected]
    assert rows[1]["amount"] == Decimal("2.50")
    assert table.properties["offload.source.table"] == pg_table

    request = ValidateRequest(
        connection=pg_connection, schema=pg_schema, table=pg_table, catalog=catalog, database=database
    )
    passed = validate(spark, request)
    assert passed["status"] == "passed", passed["mismatches"]
    assert passed["archive_snapshot_id"] == table.current_snapshot().snapshot_id

    pg_exec(pg_db, f'UPDATE "{pg_schema}"."{pg_table}" SET note = \'tampered\' WHERE id = 42')
    failed = validate(spark, request)
    assert failed["status"] == "failed"
    assert [k["key"] for k in failed["row_hash"]["keys"]] == [{"id": "42"}]

    audit_dir = f"s3://{bucket}/audit"
    record = purge(
        spark,
        PurgeRequest(
            archive_table=name,
            catalog=catalog,
            database=database,
            legal_hold=False,
            audit_path=audit_dir,
        ),
    )
    assert record["status"] == "purged", record
    with pytest.raises(boto3.client("glue").exceptions.EntityNotFoundException):
        boto3.client("glue").get_table(DatabaseName=database, Name=name)
    table_prefix = glue["StorageDescriptor"]["Location"].split(f"s3://{bucket}/", 1)[1].rstrip("/") + "/"
    assert table_prefix.startswith(f"warehouse/{database}") and table_prefix.endswith(f"/{name}/")
    assert s3_keys(bucket, table_prefix) == [], "nothing remains at the location on S3"
    audit_key = record["audit_record"].split(f"s3://{bucket}/", 1)[1]
    written = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=audit_key)["Body"].read())
    assert written["status"] == "purged" and written["archive_table"].endswith(name)


def test_mariadb_archive_on_glue_and_s3(spark, glue_catalog, my_db, my_connection, my_schema):
    table = "audit_2019"
    with my_db.cursor() as cur:
        cur.execute(f"CREATE TABLE `{my_schema}`.`{table}` (id INT PRIMARY KEY, v DECIMAL(10,3), t VARCHAR(20))")
        cur.execute(
            f"INSERT INTO `{my_schema}`.`{table}` VALUES " + ",".join(f"({i}, {i}.125, 'v{i}')" for i in range(1, 101))
        )
    database = unique("archive_m")
    summary = archive(
        spark,
        ArchiveRequest(
            connection=my_connection,
            schema=my_schema,
            table=table,
            run_id="m-1",
            catalog=glue_catalog["catalog"],
            database=database,
        ),
    )
    assert summary["rows"] == 100
    scanned = pyiceberg_catalog(glue_catalog).load_table(f"{database}.{archive_table_name(my_schema, table)}")
    got = scanned.scan().to_arrow().to_pylist()
    assert sum(r["v"] for r in got) == sum(Decimal(f"{i}.125") for i in range(1, 101))
    check = validate(
        spark,
        ValidateRequest(
            connection=my_connection, schema=my_schema, table=table, catalog=glue_catalog["catalog"], database=database
        ),
    )
    assert check["status"] == "passed", check["mismatches"]


def test_jobs_need_no_endpoint_argument(glue_catalog):
    """The jobs and pyiceberg find the emulator through the environment only (as the TypeScript side)."""
    assert os.environ["AWS_ENDPOINT_URL"] == glue_catalog["endpoint"]
    assert iceberg_aws_properties()["glue.endpoint"] == glue_catalog["endpoint"]
