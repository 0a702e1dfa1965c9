"""Shared fixtures: one local Spark session in UTC with a Hadoop Iceberg catalog on a temporary
warehouse, and uniquely named schemas/databases on the live PostgreSQL and MariaDB servers started
by scripts/services.sh (connection settings from scripts/services.env)."""

from __future__ import annotations

import os
import uuid

import pytest
from offload_glue.engines import Connection
from offload_glue.session import get_spark, local_spark_conf

CATALOG = "offload"


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run `bash scripts/setup.sh --services && source scripts/services.env`")
    return value


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("warehouse"))


@pytest.fixture(scope="session")
def spark(warehouse):
    os.environ.setdefault("TZ", "UTC")
    session = get_spark(
        CATALOG, "hadoop", warehouse, app_name="offload-tests", local_conf=local_spark_conf(cores=2, driver_memory="2g")
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# ---- PostgreSQL ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_connection() -> Connection:
    return Connection(
        "postgresql",
        _env("OFFLOAD_TEST_PG_HOST"),
        int(_env("OFFLOAD_TEST_PG_PORT")),
        _env("OFFLOAD_TEST_DB"),
        _env("OFFLOAD_TEST_USER"),
        _env("OFFLOAD_TEST_PASSWORD"),
    )


@pytest.fixture(scope="session")
def pg_db(pg_connection):
    import psycopg2

    conn = psycopg2.connect(
        host=pg_connection.host,
        port=pg_connection.port,
        dbname=pg_connection.database,
        user=pg_connection.user,
        password=pg_connection.password,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    yield conn
    conn.close()


@pytest.fixture()
def pg_schema(pg_db):
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    name = unique("pytest")
    with pg_db.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with pg_db.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{name}" CASCADE')


def pg_exec(pg_db, sql: str, params=None):
    with pg_db.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


# ---- MariaDB ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def my_connection() -> Connection:
    return Connection(
        "mysql",
        _env("OFFLOAD_TEST_MYSQL_HOST"),
        int(_env("OFFLOAD_TEST_MYSQL_PORT")),
        _env("OFFLOAD_TEST_DB"),
        _env("OFFLOAD_TEST_USER"),
        _env("OFFLOAD_TEST_PASSWORD"),
    )


@pytest.fixture(scope="session")
def my_db(my_connection):
    import pymysql

    conn = pymysql.connect(
        host=my_connection.host,
        port=my_connection.port,
        user=my_connection.user,
        password=my_connection.password,
        database=my_connection.database,
        autocommit=True,
        charset="utf8mb4",
        binary_prefix=True,
    )
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    yield conn
    conn.close()


@pytest.fixture()
def my_schema(my_db):
    """A fresh MariaDB database (MySQL's schema) for one test, dropped afterwards."""
    name = unique("pytest")
    with my_db.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield name
    with my_db.cursor() as cur:
        cur.execute(f"DROP DATABASE `{name}`")


def my_exec(my_db, sql: str, params=None):
    with my_db.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


# ---- AWS emulator (moto server): the Glue Data Catalog and S3 ----------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on a free loopback port, with the standard AWS environment pointing at it
    (AWS_ENDPOINT_URL, dummy credentials, a region) for this process and the jobs it starts."""
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if not exe:
        pytest.skip("moto_server is not installed (scripts/pyenv.sh installs it)")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except Exception:  # noqa: BLE001 — not up yet
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"moto_server did not start on {endpoint}") from None
            time.sleep(0.2)
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield {"endpoint": endpoint, "env": env}
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    proc.terminate()
    proc.wait(timeout=10)


GLUE_CATALOG = "offload_glue"


@pytest.fixture(scope="session")
def glue_catalog(spark, moto_server):
    """An Iceberg catalog on the moto server's Glue Data Catalog, its warehouse in a moto S3 bucket —
    the production catalog implementation (GlueCatalog + S3FileIO), configured as the jobs do."""
    import boto3
    from offload_glue.session import catalog_conf

    bucket = unique("archive").replace("_", "-")
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": os.environ["AWS_REGION"]}
    )
    # The Spark JVM may predate the environment above: the AWS SDK reads these system properties first.
    system = spark.sparkContext._jvm.java.lang.System
    system.setProperty("aws.accessKeyId", "testing")
    system.setProperty("aws.secretAccessKey", "testing")
    system.setProperty("aws.region", os.environ["AWS_REGION"])
    warehouse = f"s3://{bucket}/warehouse"
    for key, value in catalog_conf(GLUE_CATALOG, "glue", warehouse).items():
        spark.conf.set(key, value)
    return {"catalog": GLUE_CATALOG, "bucket": bucket, "warehouse": warehouse, **moto_server}


# ---- the catalog a suite runs on: hadoop (local warehouse) or glue (moto Glue + S3) ---------------
def pytest_configure(config):
    config.addinivalue_line("markers", "glue: a variant on the Glue Data Catalog + S3 (moto); -m 'not glue' skips")
    config.addinivalue_line("markers", "heavy: a long test (a large table, a job subprocess): run once per catalog")


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("catalog") == "glue":
            item.add_marker(pytest.mark.glue)


@pytest.fixture(params=["hadoop", "glue"])
def catalog(request, spark, warehouse):
    """The catalog the test runs on (catalogs.py): ``hadoop`` on the session's warehouse directory, or
    ``glue`` on the moto server's Glue Data Catalog with the warehouse in S3. A test narrows it with
    ``catalogs.hadoop_only`` / ``glue_only`` or ``catalogs.on_catalogs(cases, glue=subset)``."""
    from catalogs import GlueS3Catalog, LocalCatalog

    if request.param == "hadoop":
        return LocalCatalog(CATALOG, warehouse)
    return GlueS3Catalog(request.getfixturevalue("glue_catalog"))
