"""PostgreSQL read path through ``COPY (SELECT …) TO STDOUT (FORMAT binary)`` (the JVM data source in
glue/jvm, jar ``offload-pgcopy.jar``) instead of JDBC result sets.

Why: JDBC makes the server format every value as text and the JVM parse it back (timestamps,
numerics, integers), one row object at a time; binary COPY sends each type's binary send format,
which the data source decodes straight into Spark's internal rows. Same SELECT per column (the
``copy_sql`` of each ColumnPlan, else its ``select_sql``), same split predicates, same read-only
session statements as the JDBC path, so the archived values are identical (the PostgreSQL type
matrix test runs both paths).

Guarantee: a value the Iceberg type cannot hold (numeric NaN/Infinity, an infinite date or
timestamp) fails the job naming the column, as on the JDBC path.
"""
from __future__ import annotations

import json

from .columns import ColumnPlan, spark_read_expr
from .names import spark_col

SOURCE_CLASS = "offload.pgcopy.PgCopySource"
# decoders whose Spark type is the archive type itself (no cast, no text parsing)
_NATIVE = {"int2", "int4", "int8", "float4", "float8", "bool", "numeric", "date", "timestamp", "bytea"}


def available(spark) -> bool:
    """True when the data source jar is on Spark's class path (locally: scripts/pyenv.sh builds it;
    on Glue: the job's --extra-jars)."""
    jvm = spark.sparkContext._jvm
    try:
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName(SOURCE_CLASS, False, loader)
        return True
    except Exception:  # py4j wraps ClassNotFoundException
        return False


def supported(columns: list[ColumnPlan]) -> bool:
    return all(p.copy_kind for p in columns)


def _label(p: ColumnPlan) -> str:
    return f"column {json.dumps(p.name, ensure_ascii=False)} ({p.source_type})"


def copy_df(spark, engine, conn, queries: list[str], columns: list[tuple[str, str, str, str]]):
    """A DataFrame read by one ``COPY (<query>) TO STDOUT (FORMAT binary)`` per query (one Spark
    partition each). ``columns``: (alias, decoder kind, Spark type, label for errors) in the order of
    the queries' select lists."""
    opts = {"url": engine.url(conn), "user": conn.user, "password": conn.password,
            "kinds": ",".join(kind for _, kind, _, _ in columns)}
    for i, (k, v) in enumerate(engine.driver_properties().items()):
        opts[f"prop.{i}"] = f"{k}={v}"  # option keys are case-insensitive; driver property names are not
    init = engine.session_init_statements()
    opts.update({f"init.{i}": s for i, s in enumerate(init)}, **{"init.count": str(len(init))})
    for i, query in enumerate(queries):
        opts[f"query.{i}"] = f"COPY ({query}) TO STDOUT (FORMAT binary)"
    opts["query.count"] = str(len(queries))
    opts.update({f"label.{i}": label for i, (_, _, _, label) in enumerate(columns)})
    schema = ", ".join(f"{spark_col(alias)} {spark_type}" for alias, _, spark_type, _ in columns)
    return spark.read.format(SOURCE_CLASS).schema(schema).options(**opts).load()


def read_source(spark, src, predicates: list[str], where: str | None = None):
    """The source table as a DataFrame with the archive's column names and types."""
    from pyspark.sql import functions as F

    engine = src.engine
    cols = ", ".join(f"{p.copy_sql or p.select_sql} AS {engine.quote(p.alias)}" for p in src.columns)
    inner = f"SELECT {cols} FROM {engine.table_ref(src.schema, src.table)}" + (f" WHERE {where}" if where else "")
    columns = [(p.alias, p.copy_kind, p.archive_type if p.copy_kind in _NATIVE else "string", _label(p)) for p in src.columns]
    df = copy_df(spark, engine, src.connection, [f"SELECT * FROM ({inner}) offload_src WHERE {pred}" for pred in predicates], columns)
    return df.select(*[(F.col(spark_col(p.alias)) if p.copy_kind in _NATIVE else F.expr(spark_read_expr(p))).alias(p.name)
                       for p in src.columns])
