"""The plan for one column: how it is read from the source, what it becomes in Iceberg, and its
canonical text form on both sides (source SQL, Spark SQL) for validation.

Canonical text per archived type (the README's table; the source database computes the same text):
  int/bigint        decimal digits, '-' sign                                 e.g. -42
  decimal(p,s)      plain notation with exactly s fraction digits            e.g. 0.00000001
  float/double      the IEEE-754 bit pattern as a signed decimal integer (NaN canonical)
  boolean           true | false
  string            the text itself (char(n) with its padding)
  binary            lower-case hex
  date              days since 1970-01-01, decimal digits with '-' sign        e.g. -719162 for 0001-01-01
  timestamp(tz)     microseconds since 1970-01-01 00:00:00 (UTC for timestamptz), digits and sign
Row hash (validate.py): Spark's xxhash64 chained over the columns' fields in table order (each field
hashed with the previous field's hash as the seed, so no separator is needed). Integers, dates, timestamps
and decimals of up to 18 digits hash as a 64-bit integer (the value of the canonical text; a decimal's
unscaled value) after a NULL flag; any other column's field is its canonical text (UTF-8), a NULL is
backslash-N, and a string text that begins with a backslash gets one more in front (only string texts can
begin with one), so no text reads as a NULL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .names import spark_col


@dataclass(frozen=True)
class ColumnPlan:
    index: int
    name: str
    source_type: str
    archive_type: str  # Spark SQL type name of the Iceberg column
    select_sql: str  # source SQL expression that is read over JDBC
    canon_src: str | None  # source SQL expression of the canonical text (None: not hashed)
    # integer | decimal | float_bits | double_bits | string | string_of_value | binary | date | timestamp | none
    canon_kind: str
    read_as_text: bool = False  # the source sends text; Spark casts it and fails on values it cannot hold
    scale: int = 0
    numeric_sum: bool = False  # exact sum is compared
    float_minmax: bool = False  # exact min/max is compared
    mapping: str = ""  # documented mapping, when the Iceberg type is not the obvious one
    # PostgreSQL binary COPY read (copy_read.py): the decoder of the column's binary send format, and
    # the SQL selected for it (None: select_sql). None as kind: no binary decoder, read over JDBC.
    copy_kind: str | None = None
    copy_sql: str | None = None
    # Spark SQL turning the source's streamed canon_src text ({x}) into the canonical text, where the
    # database can give the exact value only as text (MySQL floats: their shortest round-trip text,
    # parsed by Java into the bit pattern). None: canon_src is already the canonical text.
    canon_from_src: str | None = None
    # Schema fidelity (fields.py): a NOT NULL source column becomes a required Iceberg field and its
    # comment the field's doc.
    required: bool = False
    doc: str | None = None

    @property
    def alias(self) -> str:
        """Safe positional name used between the source query and Spark (hostile names never travel)."""
        return f"c{self.index}"

    @property
    def hashed(self) -> bool:
        return self.canon_src is not None


def spark_read_expr(plan: ColumnPlan) -> str:
    """Spark SQL turning the JDBC column ``c<i>`` into the archived value, failing loudly on a value
    the Iceberg type cannot hold (a NULL from the cast of a non-NULL text)."""
    raw = spark_col(plan.alias)
    if not plan.read_as_text:
        return f"CAST({raw} AS {plan.archive_type})"
    cast = f"CAST({raw} AS {plan.archive_type})"
    message = f"column {json.dumps(plan.name, ensure_ascii=False)} ({plan.source_type}): value '"
    message = message.replace("\\", "\\\\").replace("'", "\\'")
    # coalesce evaluates the cast once; the error branch runs only for a NULL cast of a non-NULL text.
    return (
        f"coalesce({cast}, CASE WHEN {raw} IS NOT NULL THEN "
        f"CAST(raise_error(concat('{message}', {raw}, "
        f"'\\' cannot be archived as {plan.archive_type} without loss')) AS {plan.archive_type}) "
        f"END)"
    )


def spark_canon_expr(plan: ColumnPlan, column_sql: str | None = None) -> str | None:
    """Spark SQL computing the canonical text of the archived column (see the module docstring)."""
    c = column_sql or spark_col(plan.name)
    kind = plan.canon_kind
    if kind == "none":
        return None
    if kind == "date":
        return f"CAST(unix_date({c}) AS STRING)"
    if kind == "timestamp":  # timestamp_ntz: its wall-clock value read as UTC (the session time zone)
        ts = f"CAST({c} AS TIMESTAMP)" if plan.archive_type == "timestamp_ntz" else c
        return f"CAST(unix_micros({ts}) AS STRING)"
    if kind in ("integer", "string_of_value"):
        return f"CAST({c} AS STRING)"
    if kind == "string":
        return f"CAST({c} AS STRING)"
    if kind == "decimal":
        # Spark prints |x| < 1e-6 in scientific notation ('1E-8', '0E-8'); rebuild the plain form.
        t = f"CAST({c} AS STRING)"
        if plan.scale <= 6:  # BigDecimal.toString: scientific only when the adjusted exponent is below -6
            return t
        return (
            f"CASE WHEN instr({t}, 'E') > 0 THEN concat(CASE WHEN {t} LIKE '-%' THEN '-' ELSE '' END, '0.', "
            f"lpad(regexp_replace(substring_index({t}, 'E', 1), '[-.]', ''), {plan.scale}, '0')) ELSE {t} END"
        )
    if kind == "float_bits":  # CASE guards the reflective call from NULL arguments
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE reflect('java.lang.Float', 'floatToIntBits', {c}) END"
    if kind == "double_bits":
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE reflect('java.lang.Double', 'doubleToLongBits', {c}) END"
    if kind == "binary":
        return f"lower(hex({c}))"
    raise ValueError(f"unknown canonical kind {kind}")
