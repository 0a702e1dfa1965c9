"""Source sessions opened by the jobs are read-only: a write through the job's own session (the
py4j JDBC session used for introspection and aggregates, Spark's JDBC reader with the job's
options, and PostgreSQL's binary COPY reader) fails on both engines, and the table is unchanged."""

from __future__ import annotations

import pytest
from conftest import my_exec, pg_exec
from offload_glue import copy_read
from offload_glue.engines import engine_for
from offload_glue.jdbc import JdbcSession, read_options
from offload_glue.source_table import introspect
from py4j.protocol import Py4JJavaError


def test_postgres_session_is_read_only(spark, pg_db, pg_connection, pg_schema):
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".t (id int)')
    pg_exec(
        pg_db,
        f'''CREATE FUNCTION "{pg_schema}".sneaky() RETURNS int LANGUAGE sql VOLATILE AS
                       'INSERT INTO "{pg_schema}".t VALUES (1) RETURNING id' ''',
    )
    engine = engine_for("postgresql")
    with JdbcSession(spark, engine, pg_connection) as js:
        assert js.query("SHOW transaction_read_only") == [("on",)]
        with pytest.raises(Py4JJavaError, match="read-only transaction"):
            js.execute(f'INSERT INTO "{pg_schema}".t VALUES (1)')
    with pytest.raises(Exception, match="read-only transaction"):  # in Spark's schema probe or in the task
        spark.read.jdbc(
            engine.url(pg_connection),
            f'(SELECT "{pg_schema}".sneaky() AS x) q',
            properties=read_options(engine, pg_connection, 1000),
        ).collect()
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}".t VALUES (7)')  # one row for the COPY's WHERE to run on
    src = introspect(spark, pg_connection, pg_schema, "t")
    with pytest.raises(Exception, match="read-only transaction"):  # the COPY statement of the task
        copy_read.read_source(spark, src, [f'"{pg_schema}".sneaky() = 1']).collect()
    assert pg_exec(pg_db, f'SELECT count(*) FROM "{pg_schema}".t') == [(1,)]


def test_mariadb_session_is_read_only(spark, my_db, my_connection, my_schema):
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.t (id int)")
    my_exec(
        my_db,
        f"CREATE FUNCTION `{my_schema}`.sneaky() RETURNS int MODIFIES SQL DATA "
        f"BEGIN INSERT INTO `{my_schema}`.t VALUES (1); RETURN 1; END",
    )
    engine = engine_for("mysql")
    with JdbcSession(spark, engine, my_connection) as js:
        assert js.query("SELECT @@session.tx_read_only") == [("1",)]
        with pytest.raises(Py4JJavaError, match="(?i)read.only transaction"):
            js.execute(f"INSERT INTO `{my_schema}`.t VALUES (1)")
    with pytest.raises(Exception, match="(?i)read.only transaction"):  # in Spark's schema probe or in the task
        spark.read.jdbc(
            engine.url(my_connection),
            f"(SELECT `{my_schema}`.sneaky() AS x) q",
            properties=read_options(engine, my_connection, 1000),
        ).collect()
    assert my_exec(my_db, f"SELECT count(*) FROM `{my_schema}`.t") == ((0,),)
