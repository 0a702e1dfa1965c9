"""Reading and changing an Iceberg table's metadata: its properties, its current snapshot, its location.
Shared by every job that looks at an archive. Through Spark SQL, except ``metadata()``, which reads the
catalog's Iceberg table object through the session's JVM (no Spark job: the validation's fixed cost)."""

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


def metadata(spark, catalog: str, database: str, name: str) -> dict | None:
    """The table's properties and current snapshot (id and summary; None when it has none) as the
    Spark catalog loads it (the same table object, and cache, that ``spark.table`` reads), without a Spark
    job; None when the table does not exist."""
    table = _load(spark, catalog, database, name)
    if table is None:
        return None
    snap = table.currentSnapshot()
    return {
        "properties": dict(table.properties()),
        "snapshot": None if snap is None else {"snapshot_id": snap.snapshotId(), "summary": dict(snap.summary())},
    }


def _load(spark, catalog: str, database: str, name: str):
    """The catalog's Iceberg table object (Java), or None when the table does not exist."""
    from py4j.protocol import Py4JJavaError
    from pyspark.sql.utils import AnalysisException

    jvm = spark._jvm
    namespace = spark.sparkContext._gateway.new_array(jvm.java.lang.String, 1)
    namespace[0] = database
    ident = jvm.org.apache.spark.sql.connector.catalog.Identifier.of(namespace, name)
    plugin = spark._jsparkSession.sessionState().catalogManager().catalog(catalog)
    try:
        return plugin.loadTable(ident).table()
    except AnalysisException:  # PySpark's form of Spark's NoSuchTableException / NoSuchNamespaceException
        return None
    except Py4JJavaError as exc:
        if exc.java_exception.getClass().getName().endswith(("NoSuchTableException", "NoSuchNamespaceException")):
            return None
        raise


def commit_properties(spark, catalog: str, database: str, name: str, values: dict[str, str]) -> bool:
    """One metadata-only commit (no new snapshot) of ``values`` through the catalog's table object, as
    ``ALTER TABLE … SET TBLPROPERTIES`` commits them, without Spark SQL's parsing and planning. False when
    the table does not exist."""
    table = _load(spark, catalog, database, name)
    if table is None:
        return False
    update = table.updateProperties()
    for key, value in values.items():
        update = update.set(key, value)
    update.commit()
    return True


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
