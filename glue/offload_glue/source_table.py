"""A source table as the jobs see it: its engine, connection, column plans and primary key, read from
the source's catalog (read-only session), and the per-column SELECT that reads it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .columns import ColumnPlan
from .engines import Connection, Engine, engine_for
from .errors import OffloadError
from .jdbc import JdbcSession, read_options


@dataclass(frozen=True)
class SourceTable:
    engine: Engine
    connection: Connection
    schema: str
    table: str
    columns: list[ColumnPlan]
    primary_key: list[str]


def introspect(spark, connection: Connection, schema: str, table: str) -> SourceTable:
    with JdbcSession(spark, engine_for(connection.engine), connection) as js:
        return introspect_rows(js.query, connection, schema, table)


def introspect_rows(query, connection: Connection, schema: str, table: str) -> SourceTable:
    """The source table from the catalog rows ``query(sql, params)`` returns (tuples of strings, None for
    NULL; ``?`` placeholders) — a JDBC session's or, without Spark, a psycopg2 cursor's."""
    engine = engine_for(connection.engine)
    rows = query(engine.columns_sql, (schema, table))
    pk = [r[0] for r in query(engine.primary_key_sql, (schema, table))]
    if not rows:
        raise OffloadError("source_table_not_found", f"source table {schema}.{table} not found (or has no columns)")
    plans, unsupported = [], []
    for i, r in enumerate(rows):
        try:
            # the last two columns of both engines' columns_sql: IS_NULLABLE ('NO' for NOT NULL) and the comment
            plan = engine.plan_column(i, engine.column_meta(r))
            plans.append(replace(plan, required=r[-2] == "NO", doc=r[-1] or None))
        except OffloadError as exc:
            if exc.code != "unsupported_type":
                raise
            unsupported.append(exc)
    if unsupported:  # name every such column at once
        names = [e.details["column"] for e in unsupported]
        raise OffloadError(
            "unsupported_type",
            "; ".join(str(e) for e in unsupported),
            column=names[0],
            columns=names,
        )
    return SourceTable(engine, connection, schema, table, plans, pk)


def source_select(src: SourceTable, where: str | None = None) -> str:
    cols = ", ".join(f"{p.select_sql} AS {src.engine.quote(p.alias)}" for p in src.columns)
    sql = f"SELECT {cols} FROM {src.engine.table_ref(src.schema, src.table)}"
    return sql + (f" WHERE {where}" if where else "")


def read_source_raw(spark, src: SourceTable, fetch_size: int):
    """The source table over JDBC as the per-column SELECT sends it (columns ``c<i>``), not yet cast."""
    props = read_options(src.engine, src.connection, fetch_size)
    return spark.read.jdbc(src.engine.url(src.connection), f"({source_select(src)}) offload_src", properties=props)
