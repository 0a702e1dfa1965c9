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
