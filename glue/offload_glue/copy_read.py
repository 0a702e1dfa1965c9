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


_HEAP_SQL = (
    "SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 AND c.relkind = 'r' "
    "THEN pg_relation_size(c.oid) / current_setting('block_size')::int END, c.reltuples::bigint "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?"
)


def heap_size(spark, src) -> tuple[int, int] | None:
    """(heap pages, estimated rows) of a plain PostgreSQL table on a server with TID range scans
    (14+); None otherwise (partitioned tables, older servers): those are split by a key column."""
    from .jdbc import JdbcSession

    with JdbcSession(spark, src.engine, src.connection) as js:
        rows = js.query(_HEAP_SQL, (src.schema, src.table))
    if not rows or rows[0][0] is None:
        return None
    pages, tuples = int(rows[0][0]), int(rows[0][1])
    return pages, tuples if tuples >= 0 else pages * 100  # reltuples is -1 before the first ANALYZE


def block_predicates(pages: int, n: int) -> list[str]:
    """``n`` TID ranges covering the heap: the last one is open-ended, so rows in pages added since
    the size was read are not lost."""
    n = max(1, min(n, pages))
    if n == 1:
        return ["1 = 1"]
    cuts = [pages * i // n for i in range(1, n)]
    preds = [f"ctid < '({cuts[0]},0)'::tid"]
    preds += [f"ctid >= '({a},0)'::tid AND ctid < '({b},0)'::tid" for a, b in zip(cuts, cuts[1:])]
    preds.append(f"ctid >= '({cuts[-1]},0)'::tid")
    return preds


def _label(p: ColumnPlan) -> str:
    return f"column {json.dumps(p.name, ensure_ascii=False)} ({p.source_type})"


def copy_df(spark, engine, conn, queries: list[str], columns: list[tuple[str, str, str, str]]):
    """A DataFrame read by one ``COPY (<query>) TO STDOUT (FORMAT binary)`` per query (one Spark
    partition each). ``columns``: (alias, decoder kind, Spark type, label for errors) in the order of
    the queries' select lists."""
    opts = {
        "url": engine.url(conn),
        "user": conn.user,
        "password": conn.password,
        "kinds": ",".join(kind for _, kind, _, _ in columns),
    }
    for i, (k, v) in enumerate(engine.driver_properties().items()):
        opts[f"prop.{i}"] = f"{k}={v}"  # option keys are case-insensitive; driver property names are not
    init = engine.session_init_statements()
    opts.update({f"init.{i}": s for i, s in enumerate(init)})
    opts["init.count"] = str(len(init))
    for i, query in enumerate(queries):
        opts[f"query.{i}"] = f"COPY ({query}) TO STDOUT (FORMAT binary)"
    opts["query.count"] = str(len(queries))
    opts.update({f"label.{i}": label for i, (_, _, _, label) in enumerate(columns)})
    schema = ", ".join(f"{spark_col(alias)} {spark_type}" for alias, _, spark_type, _ in columns)
    return spark.read.format(SOURCE_CLASS).schema(schema).options(**opts).load()


def read_source(spark, src, predicates: list[str], where: str | None = None):
    """The source table as a DataFrame with the archive's column names and types; ``predicates``
    (one per partition) are conditions on the source table."""
    from pyspark.sql import functions as F

    engine = src.engine
    cols = ", ".join(f"{p.copy_sql or p.select_sql} AS {engine.quote(p.alias)}" for p in src.columns)
    table = engine.table_ref(src.schema, src.table)
    queries = [
        f"SELECT {cols} FROM {table} WHERE ({pred})" + (f" AND ({where})" if where else "") for pred in predicates
    ]
    columns = [
        (p.alias, p.copy_kind, p.archive_type if p.copy_kind in _NATIVE else "string", _label(p)) for p in src.columns
    ]
    df = copy_df(spark, engine, src.connection, queries, columns)
    return df.select(
        *[
            (F.col(spark_col(p.alias)) if p.copy_kind in _NATIVE else F.expr(spark_read_expr(p))).alias(p.name)
            for p in src.columns
        ]
    )
