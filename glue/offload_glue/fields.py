"""Schema fidelity beyond values: a source column declared NOT NULL becomes a required Iceberg field,
and a column comment becomes the field's doc.

Spark's CREATE/REPLACE TABLE AS SELECT takes the table schema from the DataFrame: a field is required
when the DataFrame's column is not nullable (with the catalog option ``use-nullable-query-schema``
false, set in session.catalog_conf; Iceberg's default marks every field optional), and the doc is the
column's ``comment`` metadata. Reads from JDBC and text casts are always nullable in Spark, so a
required column is wrapped in Catalyst's ``AssertNotNull`` — not nullable, and a NULL (which a NOT NULL
source cannot hold) fails the write instead of being written.
"""

from __future__ import annotations

from .columns import ColumnPlan
from .names import spark_col


def not_null(spark, column):
    """``column`` declared not nullable; a NULL at run time fails the job."""
    from pyspark.sql import Column

    jvm = spark.sparkContext._jvm
    expr = jvm.org.apache.spark.sql.catalyst.expressions.objects.AssertNotNull(
        column._jc.expr(), jvm.PythonUtils.toSeq([])
    )
    return Column(jvm.org.apache.spark.sql.Column(expr))


def with_source_fields(spark, df, plans: list[ColumnPlan]):
    """``df`` (one column per plan, named as the plans) with required columns and comments applied."""
    from pyspark.sql import functions as F

    if not any(p.required or p.doc for p in plans):
        return df
    cols = []
    for p in plans:
        c = F.col(spark_col(p.name))
        if p.required:
            c = not_null(spark, c)
        cols.append(c.alias(p.name, metadata={"comment": p.doc}) if p.doc else c.alias(p.name))
    return df.select(*cols)
