"""Concurrent commits to one Glue table. moto does not enforce Glue's VersionId on UpdateTable, so the
writers go through a narrow contract proxy that does (glue_version_proxy.py); each writer has its own
catalog instance (no shared cache), as two Glue job runs would. Whatever the interleaving: one commit
wins, a loser either retries on top of it or fails with a clear, retryable error; no row is lost or
duplicated, nothing half-written is visible, and a rerun converges."""

from __future__ import annotations

import threading

import boto3
import pytest
from conftest import pg_exec, unique
from glue_version_proxy import GlueVersionProxy
from offload_glue.archive import ArchiveRequest, archive, table_properties
from offload_glue.errors import OffloadError
from offload_glue.names import archive_table_name, spark_ident
from offload_glue.purge import PurgeRequest, purge
from offload_glue.session import catalog_conf
from offload_glue.validate import ValidateRequest, validate

ROWS = 2000


def test_moto_accepts_a_stale_version_and_the_proxy_refuses_it(moto_server):
    """The gap, shown on moto itself, and the contract the proxy stands in for."""
    glue = boto3.client("glue")
    db = unique("ver")
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput={"Name": "t", "Parameters": {"metadata_location": "a"}})
    v1 = glue.get_table(DatabaseName=db, Name="t")["Table"]["VersionId"]
    glue.update_table(DatabaseName=db, TableInput={"Name": "t", "Parameters": {"metadata_location": "b"}}, VersionId=v1)
    glue.update_table(DatabaseName=db, TableInput={"Name": "t", "Parameters": {"metadata_location": "c"}}, VersionId=v1)
    assert glue.get_table(DatabaseName=db, Name="t")["Table"]["Parameters"]["metadata_location"] == "c", (
        "moto applied an update made against a stale version (real Glue refuses it)"
    )
    with GlueVersionProxy(moto_server["endpoint"]) as proxy:
        via = boto3.client("glue", endpoint_url=proxy.url)
        with pytest.raises(via.exceptions.ConcurrentModificationException):
            via.update_table(
                DatabaseName=db, TableInput={"Name": "t", "Parameters": {"metadata_location": "d"}}, VersionId=v1
            )
        current = via.get_table(DatabaseName=db, Name="t")["Table"]["VersionId"]
        via.update_table(
            DatabaseName=db, TableInput={"Name": "t", "Parameters": {"metadata_location": "e"}}, VersionId=current
        )
        assert proxy.refused == 1 and proxy.updates == 1


@pytest.fixture()
def racing_catalogs(spark, glue_catalog):
    """Two Spark catalogs on the same Glue database and warehouse, each its own GlueCatalog instance
    without a table cache, reaching Glue through the version-checking proxy."""
    with GlueVersionProxy(glue_catalog["endpoint"], delay=2.0) as proxy:
        names = []
        for side in ("a", "b"):
            name = f"race_{side}_{unique('c')[-6:]}"
            for key, value in catalog_conf(name, "glue", glue_catalog["warehouse"]).items():
                spark.conf.set(key, value)
            spark.conf.set(f"spark.sql.catalog.{name}.glue.endpoint", proxy.url)
            spark.conf.set(f"spark.sql.catalog.{name}.cache-enabled", "false")
            names.append(name)
        yield names, proxy


@pytest.fixture()
def source(pg_db, pg_schema):
    table = "txn_202003"
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}"."{table}" (id int PRIMARY KEY, amount numeric(10,2))')
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}"."{table}" SELECT g, g / 4.0 FROM generate_series(1, {ROWS}) g')
    return table


def _run_all(calls):
    """Run the calls at the same moment; returns each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def go(i, fn):
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # noqa: BLE001 — collected and judged by the test
            out[i] = exc

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return out


def _allowed(outcome) -> bool:
    """Success, or a clear user-level error (never an unexplained crash)."""
    return isinstance(outcome, dict) or (isinstance(outcome, OffloadError) and outcome.code == "concurrent_commit")


def _request(conn, schema, table, run_id, catalog, database):
    return ArchiveRequest(
        connection=conn,
        schema=schema,
        table=table,
        run_id=run_id,
        catalog=catalog,
        database=database,
        retention_until="2001-01-01",
        legal_hold=False,
    )


def _count(spark, catalog, database, name) -> int:
    return spark.sql(f"SELECT count(*) FROM {spark_ident(catalog, database, name)}").collect()[0][0]


def test_two_archive_runs_commit_at_once(spark, racing_catalogs, pg_connection, pg_schema, source):
    (cat_a, cat_b), proxy = racing_catalogs
    database = unique("race")
    name = archive_table_name(pg_schema, source)
    first = _run_all(
        [
            lambda: archive(spark, _request(pg_connection, pg_schema, source, "r-1", cat_a, database)),
            lambda: archive(spark, _request(pg_connection, pg_schema, source, "r-2", cat_b, database)),
        ]
    )
    assert all(_allowed(o) for o in first), first
    assert any(isinstance(o, dict) for o in first), "one of two creating runs wins"
    assert _count(spark, cat_a, database, name) == ROWS

    replaced = _run_all(
        [
            lambda: archive(spark, _request(pg_connection, pg_schema, source, "r-3", cat_a, database)),
            lambda: archive(spark, _request(pg_connection, pg_schema, source, "r-4", cat_b, database)),
        ]
    )
    assert all(_allowed(o) for o in replaced), replaced
    assert proxy.refused >= 1, "the writers really collided at Glue (a stale VersionId was refused)"
    assert _count(spark, cat_a, database, name) == ROWS, "no row lost or duplicated"
    props = table_properties(spark, spark_ident(cat_a, database, name))
    winners = {o["run_id"] for o in replaced if isinstance(o, dict)}
    assert props["offload.run_id"] in winners | {"r-1", "r-2"}
    check = validate(
        spark,
        ValidateRequest(connection=pg_connection, schema=pg_schema, table=source, catalog=cat_a, database=database),
    )
    assert check["status"] == "passed", check["mismatches"]
    again = archive(spark, _request(pg_connection, pg_schema, source, props["offload.run_id"], cat_b, database))
    assert again["status"] == "unchanged", "a rerun of the winning run converges"


def test_an_archive_racing_a_purge_is_all_or_nothing(
    spark, racing_catalogs, glue_catalog, pg_connection, pg_schema, source
):
    (cat_a, cat_b), _ = racing_catalogs
    database = unique("racep")
    name = archive_table_name(pg_schema, source)
    archive(spark, _request(pg_connection, pg_schema, source, "p-1", cat_a, database))
    location = boto3.client("glue").get_table(DatabaseName=database, Name=name)["Table"]["StorageDescriptor"][
        "Location"
    ]
    prefix = location.split(f"s3://{glue_catalog['bucket']}/", 1)[1].rstrip("/") + "/"
    outcomes = _run_all(
        [
            lambda: purge(spark, PurgeRequest(archive_table=name, catalog=cat_a, database=database, legal_hold=False)),
            lambda: archive(spark, _request(pg_connection, pg_schema, source, "p-2", cat_b, database)),
        ]
    )
    assert all(isinstance(o, dict) or isinstance(o, OffloadError) for o in outcomes), outcomes
    exists = table_properties(spark, spark_ident(cat_a, database, name)) is not None
    if exists:
        assert _count(spark, cat_a, database, name) == ROWS, "a surviving archive is whole"
    else:
        keys = boto3.client("s3").list_objects_v2(Bucket=glue_catalog["bucket"], Prefix=prefix).get("KeyCount", 0)
        assert keys == 0, "a purged archive leaves nothing behind"
