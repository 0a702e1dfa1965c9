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


def read_options(src, predicates: list[str], where: str | None) -> dict[str, str]:
    engine, conn = src.engine, src.connection
    cols = ", ".join(f"{p.copy_sql or p.select_sql} AS {engine.quote(p.alias)}" for p in src.columns)
    inner = f"SELECT {cols} FROM {engine.table_ref(src.schema, src.table)}" + (f" WHERE {where}" if where else "")
    opts = {"url": engine.url(conn), "user": conn.user, "password": conn.password,
            "kinds": ",".join(p.copy_kind for p in src.columns)}
    for i, (k, v) in enumerate(engine.driver_properties().items()):
        opts[f"prop.{i}"] = f"{k}={v}"  # option keys are case-insensitive; driver property names are not
    for i, s in enumerate(engine.session_init_statements()):
        opts[f"init.{i}"] = s
    opts["init.count"] = str(len(engine.session_init_statements()))
    for i, pred in enumerate(predicates):
        opts[f"query.{i}"] = f"COPY (SELECT * FROM ({inner}) offload_src WHERE {pred}) TO STDOUT (FORMAT binary)"
    opts["query.count"] = str(len(predicates))
    for p in src.columns:
        opts[f"label.{p.index}"] = _label(p)
    return opts


def read_source(spark, src, predicates: list[str], where: str | None = None):
    """The source table as a DataFrame with the archive's column names and types."""
    from pyspark.sql import functions as F

    schema = ", ".join(f"{spark_col(p.alias)} {p.archive_type if p.copy_kind in _NATIVE else 'string'}" for p in src.columns)
    df = spark.read.format(SOURCE_CLASS).schema(schema).options(**read_options(src, predicates, where)).load()
    return df.select(*[(F.col(spark_col(p.alias)) if p.copy_kind in _NATIVE else F.expr(spark_read_expr(p))).alias(p.name)
                       for p in src.columns])
