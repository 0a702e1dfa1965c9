"""Reading and changing an Iceberg table's metadata through Spark SQL: its properties, its current
snapshot, its location. Shared by every job that looks at an archive."""

from __future__ import annotations

from .errors import OffloadError


def table_properties(spark, ident: str) -> dict[str, str] | None:
    from pyspark.sql.utils import AnalysisException

    try:
        return {r[0]: r[1] for r in spark.sql(f"SHOW TBLPROPERTIES {ident}").collect()}
    except AnalysisException:
        return None


def current_snapshot(spark, ident: str) -> dict | None:
    rows = spark.sql(
        f"SELECT s.snapshot_id, s.summary FROM {ident}.snapshots s "
        f"JOIN {ident}.refs r ON r.snapshot_id = s.snapshot_id WHERE r.name = 'main'"
    ).collect()
    if not rows:
        return None
    return {"snapshot_id": rows[0][0], "summary": dict(rows[0][1])}


def table_location(spark, ident: str) -> str:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {ident}").collect()
    for r in rows:
        if r[0] == "Location":
            return r[1]
    raise OffloadError("no_location", f"cannot find the location of {ident}")


def set_properties(spark, ident: str, values: dict[str, str]) -> None:
    """One metadata-only commit (no new snapshot)."""
    pairs = ", ".join(f"{sql_literal(k)} = {sql_literal(v)}" for k, v in values.items())
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ({pairs})")


def sql_literal(text: str) -> str:
    """A Spark SQL string literal (Spark escapes with a backslash; two quotes would be two literals)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
