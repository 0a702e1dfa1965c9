"""Validate an Iceberg archive against its source table.

Guarantee: the result is ``passed`` only when, for the table's current snapshot,
  * the row count computed by the source database equals the archive's;
  * per column, the aggregates computed by the source database in SQL (non-NULL count, exact sum for
    integers/decimals, exact min/max for floats) equal the same aggregates computed by Spark over
    the archive, and, for the columns hashed as text, the sum of the canonical texts' UTF-8 byte lengths
    agrees on both sides;
  * the row hashes agree: every row (or, when sampled, every row whose key hash falls in the sample)
    has the hash (xxhash64 chained over its columns' fields, see columns.py), computed by Spark
    over the canonical texts the *source database* produces in SQL (only texts travel, never a value
    through the archive's type mapping) and over the archive, summed per key-hash bucket on each side
    and compared bucket by bucket — or, on a PostgreSQL 14+ source (row_hash_method auto), the row hashes
    the database itself computes per bucket with its extended hash functions (source_checksum.py), against
    the same hash computed by Spark over the archive; differing buckets are then compared row by row;
  * the archive's lineage names this source table (and this run, when a run id is given) and its
    schema is the one the archive job plans for the source today.
On a mismatch the differing keys (up to a limit) and the columns involved are named. Read-only on
both sides; running it twice gives the same result.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, localcontext

from . import copy_read, iceberg_table, source_checksum, timings
from .columns import ColumnPlan, spark_canon_expr
from .engines import BUCKETS, Connection
from .errors import OffloadError
from .jdbc import JdbcSession, read_options
from .lineage import LINEAGE_PREFIX, SOURCE_KEYS, source_lineage
from .names import archive_table_name, spark_col, spark_ident
from .partitions import plan_partitions
from .source_table import introspect
from .storage import file_size, read_range

SCHEMA_VERSION = 1
MAX_DRILLDOWN_BUCKETS = 64

# Column names of the frames and result rows below (Spark and the source's aggregate query).
ROW_COUNT = "row_count"
BUCKET = "bucket"
ROW_HASH = "row_hash"
ROW_HASH_HI, ROW_HASH_LO = "row_hash_hi", "row_hash_lo"  # a 64-bit hash summed as two 32-bit halves
INT_KEY = "int_key"  # a single integer primary key, as a bigint (bucketed without hashing)
NO_COLUMNS = "no_columns"  # a constant when a table has nothing to hash
KEY_TEXT = "key_text"
SOURCE, ARCHIVE = "source", "archive"  # the two sides of a drill-down


@dataclass(frozen=True)
class ColumnFields:
    """The names of one column's fields in the validation frames (``text_3``, ``non_null_3``, …)."""

    text: str  # its hashed field: the canonical text, or its 64-bit integer when hashed_as_long
    text_bytes: str  # per row: the UTF-8 length of the text
    text_bytes_sum: str  # per bucket: their sum
    sum_input: str  # archive side: the value summed
    as_double: str  # archive side: the value as a double (floats)
    non_null: str  # count of non-NULL values
    total: str  # exact sum
    total_hi: str  # … as a high and a low part (see _spark_sum_input)
    total_lo: str
    minimum: str
    maximum: str
    field_hash: str  # drill-down: the hash of the column's field alone

    @staticmethod
    def of(p: ColumnPlan) -> ColumnFields:
        i = p.index
        return ColumnFields(
            text=f"text_{i}",
            text_bytes=f"text_bytes_{i}",
            text_bytes_sum=f"text_bytes_sum_{i}",
            sum_input=f"sum_input_{i}",
            as_double=f"double_{i}",
            non_null=f"non_null_{i}",
            total=f"sum_{i}",
            total_hi=f"sum_hi_{i}",
            total_lo=f"sum_lo_{i}",
            minimum=f"min_{i}",
            maximum=f"max_{i}",
            field_hash=f"field_hash_{i}",
        )


def key_value(position: int) -> str:
    """Drill-down: the canonical text of the key column at ``position`` of the primary key."""
    return f"key_value_{position}"


def on_side(name: str, side: str) -> str:
    return f"{name}_{side}"


@dataclass
class ValidateRequest:
    connection: Connection
    schema: str
    table: str
    catalog: str = "offload"
    database: str = "archive"
    archive_table: str | None = None
    run_id: str | None = None  # when given, the archive's lineage must name this run
    read_table: str | None = None  # the table actually read when it was renamed (source cleanup's quarantine)
    sample_percent: float = 100.0  # 100: full comparison; less: rows whose key hash falls in the sample
    max_reported_keys: int = 20
    split_column: str | None = None
    num_partitions: int = 0
    fetch_size: int = 10000
    snapshot_id: int | None = None  # None: the archive's current snapshot (restore validates an older one)
    check_lineage: bool = True  # False: the source is not the archived table (a restored copy of it)
    # "auto": the source database computes per-bucket checksums where it can (source_checksum.py) and only
    # differing buckets stream rows; "stream": every row's canonical texts are streamed and hashed by Spark
    row_hash_method: str = "auto"
    # "auto": a PostgreSQL source's full validation runs without Spark where it applies (validate_arrow.py),
    # Spark otherwise and whenever that path finds anything but a pass; "spark": always Spark; "arrow": only
    # without Spark (an error names why it does not apply)
    engine: str = "auto"


# ---- the source side -----------------------------------------------------------------------------
def key_plans(src) -> list[ColumnPlan]:
    by_name = {p.name: p for p in src.columns}
    keys = [by_name[k] for k in src.primary_key if k in by_name and by_name[k].hashed]
    return keys if len(keys) == len(src.primary_key) else []


@dataclass(frozen=True)
class AggregateQuery:
    """One row computed by the source database over the whole table."""

    sql: str
    names: list[str]  # the name of each column of the row
    doubles: set[int]  # the 0-based columns read as doubles (the others as text)


def source_aggregate_query(src) -> AggregateQuery:
    """The row count and, per column, the non-NULL count, the exact sum (integers and decimals) and
    the exact min/max (floats). Counts and sums travel as text (no driver type mapping can round
    them), min/max as doubles."""
    e = src.engine
    aggs, names, doubles = [e.text_sql("count(*)")], [ROW_COUNT], set()
    for p in src.columns:
        fields = ColumnFields.of(p)
        aggs.append(e.text_sql(f"count({e.quote(p.name)})"))
        names.append(fields.non_null)
        if p.numeric_sum:
            aggs.append(e.text_sql(f"sum({e.sum_input_sql(p)})"))
            names.append(fields.total)
        if p.float_minmax:
            doubles |= {len(aggs), len(aggs) + 1}
            aggs += [f"min({e.double_sql(p)})", f"max({e.double_sql(p)})"]
            names += [fields.minimum, fields.maximum]
    return AggregateQuery(f"SELECT {', '.join(aggs)} FROM {e.table_ref(src.schema, src.table)}", names, doubles)


INT_HASH_PRIME, INT_HASH_MULTIPLIER = 1000003, 7919


def _integer_key(src) -> ColumnPlan | None:
    keys = key_plans(src)
    return keys[0] if len(keys) == 1 and keys[0].archive_type in ("int", "bigint") else None


def _src_bucket_in(src, buckets: list[int]) -> str | None:
    """SQL condition on the source table selecting the rows of ``buckets`` (integer keys only: the
    same multiplicative hash as _spark_bucket), so that a drill-down reads only those rows."""
    k = _integer_key(src)
    if k is None:
        return None
    listed = ", ".join(str(b) for b in buckets)
    return f"{src_int_bucket_sql(src, k)} IN ({listed})"


def src_int_bucket_sql(src, k: ColumnPlan) -> str:
    """The bucket of a single integer key in the source's SQL, in 64-bit arithmetic (the product of a
    residue and the multiplier does not fit a 32-bit int)."""
    m, q = INT_HASH_PRIME, src.engine.bigint_sql(src.engine.quote(k.name))
    return f"MOD(MOD(MOD({q}, {m}) + {m}, {m}) * {INT_HASH_MULTIPLIER}, {BUCKETS})"


def _texts_path(spark, src) -> str:
    return "copy" if src.engine.binary_copy and copy_read.available(spark) else "jdbc"


def source_texts_df(spark, src, parts, fetch_size: int, where: str | None = None):
    """Per source row: the canonical text of each hashed column as the source database computes it (the
    canon_src SQL of its plan; ColumnFields.text), and the integer key (INT_KEY). PostgreSQL streams them through
    binary COPY when the data source jar is loaded, otherwise (and MySQL) they come over JDBC; either
    way only texts travel, so no type mapping of the archive path is involved."""
    e = src.engine
    hashed = [p for p in src.columns if p.hashed]
    cols = [(p.canon_src, ColumnFields.of(p).text, "text", "string") for p in hashed]
    k = _integer_key(src)
    if k is not None:
        cols.append((e.bigint_sql(e.quote(k.name)), INT_KEY, "int8", "bigint"))
    if not cols:
        cols.append(("1", NO_COLUMNS, "int4", "int"))
    preds = parts.predicates()
    table = e.table_ref(src.schema, src.table)
    select = ", ".join(f"{sql} AS {alias}" for sql, alias, _, _ in cols)
    queries = [f"SELECT {select} FROM {table}{_where([pr] + ([where] if where else []))}" for pr in preds]
    if _texts_path(spark, src) == "copy":
        texts = copy_read.copy_df(
            spark,
            e,
            src.connection,
            queries,
            [(alias, kind, stype, f"canonical text {alias}") for _, alias, kind, stype in cols],
        )
        return _with_long_fields(texts, hashed)
    url, props = e.url(src.connection), read_options(e, src.connection, fetch_size)
    dfs = [spark.read.jdbc(url, f"({q}) offload_q", properties=props) for q in queries]
    out = dfs[0]
    for d in dfs[1:]:
        out = out.unionByName(d)
    converted = {
        ColumnFields.of(p).text: p.canon_from_src.format(x=ColumnFields.of(p).text) for p in hashed if p.canon_from_src
    }
    return _with_long_fields(_converted(out, converted), hashed)


def _converted(df, exprs: dict[str, str]):
    from pyspark.sql import functions as F

    return df.select(*[F.expr(exprs[c]).alias(c) if c in exprs else F.col(c) for c in df.columns]) if exprs else df


def _with_long_fields(df, hashed: list[ColumnPlan]):
    """The source's canonical texts of the columns hashed as 64-bit integers, parsed: the digits of an integer,
    a date's days, a timestamp's microseconds; a decimal's text (exactly ``scale`` fraction digits) without its
    point, i.e. its unscaled value."""
    exprs = {}
    for p in hashed:
        if hashed_as_long(p):
            x = ColumnFields.of(p).text
            digits = f"replace({x}, '.', '')" if p.canon_kind == "decimal" and p.scale else x
            exprs[x] = f"CAST({digits} AS BIGINT)"
    return _converted(df, exprs)


def _where(conds: list[str]) -> str:
    return f" WHERE {' AND '.join('(' + c + ')' for c in conds)}" if conds else ""


# ---- row text, hashes and buckets (Spark SQL, the same for both sides) ------------------------------
SPARK_BACKSLASH, SPARK_TAB = "chr(92)", "chr(9)"


def _canonical_text(p: ColumnPlan) -> str:
    """Drill-down only: the canonical text of a column from its field (ColumnFields.text), the same on both
    sides: a decimal hashed as its unscaled value printed with ``scale`` fraction digits."""
    x = ColumnFields.of(p).text
    if not hashed_as_long(p):
        return x
    if p.canon_kind != "decimal" or not p.scale:
        return f"CAST({x} AS STRING)"
    unit = 10**p.scale
    return (
        f"concat(CASE WHEN {x} < 0 THEN '-' ELSE '' END, CAST(abs({x}) DIV {unit} AS STRING), '.', "
        f"lpad(CAST(abs({x}) % {unit} AS STRING), {p.scale}, '0'))"
    )


def _spark_key_text(plans: list[ColumnPlan]) -> str:
    """Drill-down only: one text per row from the columns' canonical texts, to group a key's rows by: in table
    order joined by a tab, string texts escaped (backslash -> two backslashes, tab -> backslash t), NULL as
    backslash N — one reading whatever the values hold (see columns.py)."""
    fields = []
    for p in plans:
        x = _canonical_text(p)
        if p.canon_kind == "string":
            bs = SPARK_BACKSLASH
            x = f"replace(replace({x}, {bs}, concat({bs}, {bs})), {SPARK_TAB}, concat({bs}, 't'))"
        fields.append(f"coalesce({x}, concat({SPARK_BACKSLASH}, 'N'))")
    return f"concat_ws({SPARK_TAB}, {', '.join(fields)})" if fields else "''"


def hashed_as_long(p: ColumnPlan) -> bool:
    """Integers, dates, timestamps and decimals of up to 18 digits hash as a 64-bit integer — the value of their
    canonical text (a decimal's unscaled value) — rather than as that text: nothing to format on either side."""
    if p.canon_kind in ("integer", "date", "timestamp"):
        return True
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", p.archive_type)
    return p.canon_kind == "decimal" and m is not None and int(m.group(1)) <= 18


def _spark_field(p: ColumnPlan) -> str:
    """A column's hashed field(s): its canonical text (ColumnFields.text), never NULL — a NULL is backslash N,
    and a string text that begins with a backslash gets one more in front, so no text reads as a NULL; for a
    column hashed as a 64-bit integer, a flag (true: NULL) and then the integer when there is one."""
    x, bs = ColumnFields.of(p).text, SPARK_BACKSLASH
    if hashed_as_long(p):
        return f"{x} IS NULL, {x}"
    null = f"concat({bs}, 'N')"
    if p.canon_kind == "string":
        return f"CASE WHEN {x} IS NULL THEN {null} WHEN startswith({x}, {bs}) THEN concat({bs}, {x}) ELSE {x} END"
    return f"coalesce({x}, {null})"


def _row_hash(plans: list[ColumnPlan]) -> str:
    """The row hash of ``plans``' fields: Spark's 64-bit xxhash64 (seed 42) chained over the fields in table
    order — each field (a text's UTF-8 bytes, a NULL flag, a 64-bit integer) hashed with the previous field's
    hash as the seed — so column boundaries are kept without a separator and no row text is built."""
    return f"xxhash64({', '.join(_spark_field(p) for p in plans)})" if plans else "xxhash64('')"


def _spark_bucket(src) -> str:
    """Bucket of a row: a multiplicative hash of a single integer key (also computable in the source's
    SQL for drill-downs), else the row hash of the key text (of the whole row without a key)."""
    k = _integer_key(src)
    if k is not None:
        return f"CAST(pmod(pmod({INT_KEY}, {INT_HASH_PRIME}) * {INT_HASH_MULTIPLIER}, {BUCKETS}) AS INT)"
    keys = key_plans(src)
    return f"CAST(pmod({_row_hash(keys or [p for p in src.columns if p.hashed])}, {BUCKETS}) AS INT)"


def _text_length(x: str) -> str:
    """UTF-8 byte length: O(1) on Spark's strings (a character count scans every byte)."""
    return f"octet_length({x})"


LOW_BITS = 32  # 64-bit hashes are summed as a high (signed) and a low 32-bit part in longs


def bucket_df(levels, src, sample_cutoff: int, extra_aggs=(), checksum=None):
    """Per bucket: the row count, the sum of the row hashes (ROW_HASH_HI/LO, rows in the sample only) and
    per hashed column the sum of its canonical texts' UTF-8 byte lengths, from a frame with the texts
    and INT_KEY (archive_levels or source_texts_df). With a ``checksum`` (source_checksum.Checksum) the row
    hash and the bucket are the ones the source database computes."""
    from pyspark.sql import functions as F

    hashed = [p for p in src.columns if p.hashed]
    bucket = (checksum and checksum.spark_bucket) or _spark_bucket(src)
    hv = checksum.spark_row_hash if checksum else _row_hash(hashed)
    sampled = f"CASE WHEN {bucket} < {sample_cutoff} THEN {hv} END" if sample_cutoff < BUCKETS else hv
    cols = [F.expr(bucket).alias(BUCKET), F.expr(sampled).alias(ROW_HASH)]
    texts = [p for p in hashed if not hashed_as_long(p)]
    cols += [F.expr(_text_length(ColumnFields.of(p).text)).alias(ColumnFields.of(p).text_bytes) for p in texts]
    inputs = {n for p in src.columns for n in (ColumnFields.of(p).text, ColumnFields.of(p).sum_input)}
    inputs |= {ColumnFields.of(p).as_double for p in src.columns}
    cols += [c for c in levels.columns if c in inputs]  # inputs of extra_aggs (unused ones are pruned)
    aggs = [
        F.count(F.lit(1)).alias(ROW_COUNT),
        F.sum(F.expr(f"shiftright({ROW_HASH}, {LOW_BITS})")).alias(ROW_HASH_HI),
        F.sum(F.expr(f"{ROW_HASH} & {(1 << LOW_BITS) - 1}")).alias(ROW_HASH_LO),
    ]
    aggs += [F.sum(ColumnFields.of(p).text_bytes).alias(ColumnFields.of(p).text_bytes_sum) for p in texts]
    return levels.select(*cols).groupBy(BUCKET).agg(*aggs, *extra_aggs)


# ---- the archive side (Spark SQL) ------------------------------------------------------------------
def archive_levels(df, src):
    """The archive with, per column, its canonical text, its sum input and its value as a double (the
    ColumnFields names), and INT_KEY. Every column is either hashed (a text) or a float (a double), so
    its non-NULL count comes from one of them."""
    from pyspark.sql import functions as F

    fields = {p.index: ColumnFields.of(p) for p in src.columns}
    cols = [F.expr(_archive_field(p)).alias(fields[p.index].text) for p in src.columns if p.hashed]
    cols += [F.expr(_spark_sum_input(p)[0]).alias(fields[p.index].sum_input) for p in src.columns if p.numeric_sum]
    cols += [
        F.expr(f"CAST({spark_col(p.name)} AS DOUBLE)").alias(fields[p.index].as_double)
        for p in src.columns
        if p.float_minmax
    ]
    int_key = _integer_key(src)
    if int_key is not None:
        cols.append(F.expr(f"CAST({spark_col(int_key.name)} AS BIGINT)").alias(INT_KEY))
    return df.select(*(cols or [F.lit(1).alias(NO_COLUMNS)]))


def _archive_field(p: ColumnPlan) -> str:
    """The archive side of ColumnFields.text: the canonical text, or the 64-bit integer (hashed_as_long): an
    integer, a date's days, a timestamp's microseconds, a decimal's unscaled value (the same expression as its
    sum input, computed once)."""
    if not hashed_as_long(p):
        return spark_canon_expr(p)
    c = spark_col(p.name)
    if p.canon_kind == "integer":
        return f"CAST({c} AS BIGINT)"
    if p.canon_kind == "decimal":
        return _spark_sum_input(p)[0]
    if p.canon_kind == "date":
        return f"CAST(unix_date({c}) AS BIGINT)"
    return f"unix_micros({f'CAST({c} AS TIMESTAMP)' if p.archive_type == 'timestamp_ntz' else c})"


def archive_bucket_df(df, src, sample_cutoff: int, checksum=None):
    """bucket_df over the archive, plus per column the non-NULL count, exact sums and float min/max."""
    from pyspark.sql import functions as F

    aggs = []
    for p in src.columns:  # the text (hashed) and the double (float) are NULL exactly where the column is
        f = ColumnFields.of(p)
        aggs.append(F.count(f.text if p.hashed else f.as_double).alias(f.non_null))
        if p.numeric_sum:
            # Every aggregate buffer is a long (Spark's fast hash-aggregate path): 63-bit sums are
            # added as a high and a low part, recombined exactly in Python (_combine_split_sums).
            if _spark_sum_input(p)[1]:
                aggs += [
                    F.sum(F.expr(f"shiftright({f.sum_input}, {SUM_LOW_BITS})")).alias(f.total_hi),
                    F.sum(F.expr(f"{f.sum_input} & {(1 << SUM_LOW_BITS) - 1}")).alias(f.total_lo),
                ]
            else:
                aggs.append(F.sum(f.sum_input).alias(f.total))
        if p.float_minmax:
            aggs += [F.min(f.as_double).alias(f.minimum), F.max(f.as_double).alias(f.maximum)]
    return bucket_df(archive_levels(df, src), src, sample_cutoff, aggs, checksum)


SUM_LOW_BITS = 31


def _spark_sum_input(p: ColumnPlan) -> tuple[str, bool]:
    """(Spark SQL of the value summed for column ``p``, whether it is summed as high and low parts).
    int: a long (exact for fewer than 2^32 rows); bigint and decimal up to 18 digits: the unscaled
    long, split in two so that neither sum can overflow; wider decimals: decimal(38, scale)."""
    c = spark_col(p.name)
    if p.archive_type == "int":
        return f"CAST({c} AS BIGINT)", False
    if p.archive_type == "bigint":
        return f"CAST({c} AS BIGINT)", True
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", p.archive_type)
    if m and int(m.group(1)) <= 18:
        s = int(m.group(2))
        return (f"CAST({c} * CAST({10**s} AS DECIMAL({s + 1},0)) AS BIGINT)" if s else f"CAST({c} AS BIGINT)"), True
    return f"CAST({c} AS DECIMAL(38,{p.scale}))", False


def _combine_split_sums(buckets: dict, src) -> dict:
    """Turn the archive side's high and low sums back into one exact sum (scaled for decimals)."""
    for p in src.columns:
        if not (p.numeric_sum and _spark_sum_input(p)[1]):
            continue
        f = ColumnFields.of(p)
        for b in buckets.values():
            hi, lo = b.pop(f.total_hi), b.pop(f.total_lo)
            b[f.total] = None if hi is None else Decimal((int(hi) << SUM_LOW_BITS) + int(lo)).scaleb(-p.scale)
    return buckets


def detail_df(levels, src, buckets: list[int], bucket_expr: str | None = None):
    """For the rows of ``buckets``: the key text, the row hash, the text of each key column
    (key_value) and the hash of each hashed column's field, to name the differing keys and columns."""
    from pyspark.sql import functions as F

    hashed = [p for p in src.columns if p.hashed]
    keys = key_plans(src)
    key_text = _spark_key_text(keys) if keys else _spark_key_text(hashed)
    cols = [F.expr(key_text).alias(KEY_TEXT), F.expr(_row_hash(hashed)).alias(ROW_HASH)]
    cols += [F.expr(_canonical_text(p)).alias(key_value(i)) for i, p in enumerate(keys)]
    cols += [F.expr(_row_hash([p])).alias(ColumnFields.of(p).field_hash) for p in hashed]
    return levels.where(F.expr(bucket_expr or _spark_bucket(src)).isin(buckets or [-1])).select(*cols)


# ---- comparison ---------------------------------------------------------------------------------
def _to_num(v):
    if v is None:
        return None
    if isinstance(v, float):
        return v
    return Decimal(str(v))


def _float_equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return (a != a and b != b) or a == b


ROW_HASH_METHODS = ("auto", "stream")
SOURCE_CHECKSUM, STREAMED = "source_checksum", "streamed"


def _row_hash_method(spark, src, req: ValidateRequest):
    """(method, why the rows are streamed or None, source_checksum.Checksum or None)."""
    if req.row_hash_method not in ROW_HASH_METHODS:
        raise OffloadError(
            "bad_argument", f"row_hash_method {req.row_hash_method!r}: expected one of {', '.join(ROW_HASH_METHODS)}"
        )
    if req.row_hash_method == "stream":
        return STREAMED, "requested (row_hash_method stream)", None
    reason = source_checksum.unsupported_reason(spark, src)
    if reason:
        return STREAMED, reason, None
    cs = source_checksum.plan(
        spark,
        src,
        key_plans=key_plans,
        integer_key=_integer_key,
        int_bucket_sql=src_int_bucket_sql,
        hashed_as_long=hashed_as_long,
        fields_of=ColumnFields.of,
    )
    return SOURCE_CHECKSUM, None, cs


def validate(spark, req: ValidateRequest, catalog_spec=None) -> dict:
    """The validation result. ``spark``: a Spark session, or a function returning one, called only when the
    Spark validation runs (a job run as a program starts no JVM when the arrow path passes); ``catalog_spec``:
    validate_arrow.CatalogSpec (None: the session's catalog)."""
    from . import validate_arrow

    if req.engine not in validate_arrow.ENGINES:
        raise OffloadError(
            "bad_argument", f"validation engine {req.engine!r}: expected one of {', '.join(validate_arrow.ENGINES)}"
        )
    with localcontext() as ctx:
        ctx.prec = 100  # exact Decimal totals of wide sums, without touching the caller's context
        reason = None
        if req.engine != validate_arrow.SPARK:
            if catalog_spec is None and not callable(spark):
                catalog_spec = validate_arrow.catalog_of(spark, req.catalog)
            result, reason = validate_arrow.validate_arrow(req, catalog_spec)
            timings.mark("arrow_validation")
            if result is not None:
                return result
            if req.engine == validate_arrow.ARROW:
                raise OffloadError("arrow_validation_not_applicable", f"validation engine arrow: {reason}")
        result = _validate(spark() if callable(spark) else spark, req)
        result["engine"] = validate_arrow.SPARK
        if reason:
            result["engine_reason"] = reason
        return result


def result_head(req: ValidateRequest, name: str, catalog: str, props: dict) -> dict:
    """The fields every validation result starts with (status passed until a mismatch is added)."""
    return {
        "job": "validate",
        "schema_version": SCHEMA_VERSION,
        "status": "passed",
        "archive_table": f"{req.database}.{name}",
        "catalog": catalog,
        "source": {**req.connection.public(), "schema": req.schema, "table": req.table},
        "run_id": props.get(LINEAGE_PREFIX + "run_id"),
        "validated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "full" if req.sample_percent >= 100 else "sampled",
        "sample_percent": req.sample_percent,
        "mismatches": [],
    }


def lineage_differences(req: ValidateRequest, engine_name: str, props: dict) -> list[str]:
    """The lineage keys of the archive's properties ``props`` that do not name the request's source (and run)."""
    expected = source_lineage(engine_name, req.connection, req.schema, req.table)
    # a restored copy lives elsewhere: its schema and snapshot are what is compared
    diffs = [k for k in SOURCE_KEYS if props.get(LINEAGE_PREFIX + k) != expected[k]] if req.check_lineage else []
    if req.run_id and props.get(LINEAGE_PREFIX + "run_id") != req.run_id:
        diffs.append("run_id")
    return diffs


def _validate(spark, req: ValidateRequest) -> dict:
    started = time.monotonic()
    src = introspect(spark, req.connection, req.schema, req.read_table or req.table)
    timings.mark("source_metadata")
    name = req.archive_table or archive_table_name(req.schema, req.table)
    ident = spark_ident(req.catalog, req.database, name)
    meta = iceberg_table.metadata(spark, req.catalog, req.database, name)  # no Spark job
    if meta is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{name} does not exist")
    props = meta["properties"]
    result = result_head(req, name, req.catalog, props)
    lineage_diffs = lineage_differences(req, src.engine.name, props)
    result["lineage"] = {"match": not lineage_diffs, "differences": lineage_diffs}
    if lineage_diffs:
        result["mismatches"].append("lineage")

    snapshot_id = req.snapshot_id if req.snapshot_id is not None else (meta["snapshot"] or {}).get("snapshot_id")
    result["archive_snapshot_id"] = snapshot_id
    # the snapshot read is the one reported (a commit between the two looks cannot slip in)
    read = f"SELECT * FROM {ident}" + ("" if snapshot_id is None else f" VERSION AS OF {int(snapshot_id)}")
    df = spark.sql(read)
    actual = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
    planned = [(p.name, p.archive_type) for p in src.columns]
    schema_diffs = [
        {"expected": list(p) if p else None, "actual": list(a) if a else None}
        for p, a in _zip_longest(planned, actual)
        if p != a
    ]
    result["schema"] = {"match": not schema_diffs, "differences": schema_diffs}
    timings.mark("archive_metadata")
    if schema_diffs:
        result["mismatches"].append("schema")
        result["status"] = "failed"
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    cutoff = BUCKETS if req.sample_percent >= 100 else max(1, int(BUCKETS * req.sample_percent / 100))
    parts = plan_partitions(
        spark, src, path=_texts_path(spark, src), split_column=req.split_column, num_partitions=req.num_partitions
    )

    aggregate = source_aggregate_query(src)
    method, method_reason, checksum = _row_hash_method(spark, src, req)
    if checksum is None:
        texts = source_texts_df(spark, src, parts, req.fetch_size)

        def source_rows() -> dict:
            return {r[BUCKET]: r.asDict() for r in bucket_df(texts, src, cutoff).collect()}
    else:

        def source_rows() -> dict:
            return source_checksum.source_buckets(
                spark, src, parts, checksum, row_count=ROW_COUNT, hi=ROW_HASH_HI, lo=ROW_HASH_LO, low_bits=LOW_BITS
            )

    def source_aggregates() -> dict:
        with JdbcSession(spark, src.engine, req.connection) as js:
            return dict(zip(aggregate.names, js.query_values(aggregate.sql, doubles=aggregate.doubles), strict=True))

    timings.mark("plan")
    # The three run at once: the source database computes its aggregates and streams its canonical
    # texts while Spark hashes those and computes the archive's side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        aggregates_future = pool.submit(source_aggregates)
        texts_future = pool.submit(source_rows)
        try:
            archive_rows = archive_bucket_df(df, src, cutoff, checksum).collect()
        except Exception as exc:  # noqa: BLE001 — a damaged archive is a failed validation, anything else re-raised
            unreadable = unreadable_files(spark, ident, exc)
            if unreadable is None:
                raise
            aggregates_future.cancel()
            texts_future.cancel()
            result.update(status="failed", archive_unreadable=unreadable)
            result["mismatches"].append("archive_unreadable")
            result["seconds"] = round(time.monotonic() - started, 3)
            return result
        source_aggregates_row = aggregates_future.result()
        source_buckets = texts_future.result()
    timings.mark("compare")
    archive_buckets = _combine_split_sums({r[BUCKET]: r.asDict() for r in archive_rows}, src)
    source_buckets["all"] = source_aggregates_row  # whole-table aggregates computed by the database

    def total(buckets, col):
        vals = [_to_num(b[col]) for b in buckets.values() if b[col] is not None]
        return sum(vals) if vals else None

    def extreme(buckets, col, fn):
        vals = [float(b[col]) for b in buckets.values() if b[col] is not None]
        if not vals:
            return None
        nans = [v for v in vals if v != v]
        if nans:  # NaN sorts above every number in PostgreSQL and Spark
            return float("nan") if fn is max or len(nans) == len(vals) else min(v for v in vals if v == v)
        return fn(vals)

    db = source_buckets.pop("all")
    src_count, arc_count = int(db[ROW_COUNT] or 0), int(total(archive_buckets, ROW_COUNT) or 0)
    result["row_count"] = {"source": src_count, "archive": arc_count, "match": src_count == arc_count}
    if src_count != arc_count:
        result["mismatches"].append("row_count")

    columns = []
    for p in src.columns:
        f = ColumnFields.of(p)
        checks = {"non_null_count": (int(db[f.non_null] or 0), int(total(archive_buckets, f.non_null) or 0))}
        if p.hashed and not hashed_as_long(p):
            checks["text_length_sum"] = (
                total(source_buckets, f.text_bytes_sum),
                total(archive_buckets, f.text_bytes_sum),
            )
        if p.numeric_sum:
            checks["sum"] = (_to_num(db[f.total]), total(archive_buckets, f.total))
        ok = all((a == b) if a is None or b is None else Decimal(a) == Decimal(b) for a, b in checks.values())
        if p.float_minmax:
            mm = {
                "min": (db[f.minimum], extreme(archive_buckets, f.minimum, min)),
                "max": (db[f.maximum], extreme(archive_buckets, f.maximum, max)),
            }
            ok = ok and all(_float_equal(a, b) for a, b in mm.values())
            checks.update(mm)
        columns.append(
            {
                "name": p.name,
                "archive_type": p.archive_type,
                "hashed": p.hashed,
                "match": ok,
                "checks": {k: {"source": _jsonable(a), "archive": _jsonable(b)} for k, (a, b) in checks.items()},
            }
        )
        if not ok:
            result["mismatches"].append(f"column:{p.name}")
    result["columns"] = columns

    text_sums = [ColumnFields.of(p).text_bytes_sum for p in src.columns if p.hashed and not hashed_as_long(p)]
    bad_buckets = sorted(
        b
        for b in set(source_buckets) | set(archive_buckets)
        if b < cutoff
        and _bucket_key(source_buckets.get(b), text_sums) != _bucket_key(archive_buckets.get(b), text_sums)
    )
    row_hash = {
        "buckets_compared": min(cutoff, BUCKETS),
        "buckets_mismatched": len(bad_buckets),
        "differing_keys": 0,
        "keys": [],
        "truncated": False,
        "key_columns": [p.name for p in key_plans(src)],
        "excluded_columns": [p.name for p in src.columns if not p.hashed],
        "method": method,
    }
    if method_reason:
        row_hash["method_reason"] = method_reason
    if bad_buckets:
        result["mismatches"].append("row_hash")
        drill = bad_buckets[:MAX_DRILLDOWN_BUCKETS]
        row_hash.update(_drilldown(spark, df, src, buckets=drill, req=req, parts=parts, checksum=checksum))
        row_hash["truncated"] = row_hash["truncated"] or len(bad_buckets) > MAX_DRILLDOWN_BUCKETS
    result["row_hash"] = row_hash
    timings.mark("checks")
    result["status"] = "passed" if not result["mismatches"] else "failed"
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def unreadable_files(spark, ident: str, exc: Exception) -> dict | None:
    """The archive's data files that a failed read shows to be damaged: missing, of another length than
    the snapshot records, or named in the error. ``None`` when no file can be blamed (then the error is
    not a damaged archive and is raised as it is)."""
    message = str(exc)
    try:
        files = spark.sql(f"SELECT file_path, file_size_in_bytes FROM {ident}.files").collect()
    except Exception:  # noqa: BLE001 — the manifests are unreadable too: blame what the error names
        files = []
    bad = []
    for path, recorded in files:
        size = file_size(spark, path)
        if size is None:
            error = "missing"
        elif size != recorded:
            error = f"{size} bytes where the snapshot records {recorded}"
        elif _without_scheme(path) in message:
            error = _java_cause(message, _without_scheme(path))
        else:
            continue
        bad.append({"path": path, "error": error})
    if not bad and "Parquet" in message:
        # A reader that names no file (Iceberg's S3 input file prints as ParquetIO$ParquetInputFile@…):
        # find the file whose Parquet envelope is broken.
        for path, recorded in files:
            error = _parquet_envelope_error(spark, path, int(recorded))
            if error:
                bad.append({"path": path, "error": error})
    if not bad:
        return None
    return {"files": bad, "message": _java_cause(message, "")}


PARQUET_MAGIC = b"PAR1"


def _parquet_envelope_error(spark, path: str, size: int) -> str | None:
    """What is wrong with a Parquet file's envelope — it starts with PAR1 and ends with the footer's
    length and PAR1 — or ``None``. Two ranged reads; the pages in between are not checked."""
    if size < 12:
        return f"{size} bytes: too short for a Parquet file"
    try:
        head, tail = read_range(spark, path, 0, 4), read_range(spark, path, size - 8, 8)
    except Exception as exc:  # noqa: BLE001 — unreadable is the finding
        return _java_cause(str(exc), "")
    if head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC:
        return "not a Parquet file: no PAR1 magic number at its head or tail"
    if int.from_bytes(tail[:4], "little") > size - 12:
        return "not a Parquet file: its footer length points before the start of the file"
    return None


def _without_scheme(path: str) -> str:
    return re.sub(r"^file:(//)?", "", path)


def _java_cause(message: str, mentioning: str) -> str:
    """One line of a Java error without its stack trace: the deepest cause mentioning ``mentioning``."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    causes = [ln.removeprefix("Caused by: ") for ln in lines if mentioning in ln and not ln.startswith("...")]
    return (causes[-1] if causes else lines[0] if lines else "unreadable")[:500]


def _bucket_key(b, text_sums=()):
    """What is compared per bucket: the row count, the sum of the row hashes and the text length sums."""
    if b is None:
        return None
    h = int(b[ROW_HASH_HI] or 0) * (1 << LOW_BITS) + int(b[ROW_HASH_LO] or 0)
    return int(b[ROW_COUNT]), h, tuple(int(b.get(t) or 0) for t in text_sums)


def _drilldown(spark, df, src, *, buckets: list[int], req: ValidateRequest, parts, checksum=None) -> dict:
    """The keys of ``buckets`` whose rows differ between the source and the archive, up to the limit: the
    streamed path's row hashes over the rows of those buckets (read alone from the source when its SQL
    can compute the bucket)."""
    from pyspark.sql import functions as F

    keys = key_plans(src)
    hashed = [p for p in src.columns if p.hashed]
    where, bucket_expr = _src_bucket_in(src, buckets), None
    if checksum is not None and checksum.spark_bucket is not None:
        where = f"{checksum.bucket_sql} IN ({', '.join(str(b) for b in buckets)})"
        bucket_expr = checksum.spark_bucket
    detail = {
        SOURCE: detail_df(source_texts_df(spark, src, parts, req.fetch_size, where=where), src, buckets, bucket_expr),
        ARCHIVE: detail_df(archive_levels(df, src), src, buckets, bucket_expr),
    }
    value_cols = [ROW_HASH] + [key_value(i) for i in range(len(keys))] + [ColumnFields.of(p).field_hash for p in hashed]

    def per_key(side):
        return (
            detail[side]
            .groupBy(KEY_TEXT)
            .agg(
                F.count(F.lit(1)).alias(on_side(ROW_COUNT, side)),
                *[F.first(c).alias(on_side(c, side)) for c in value_cols],
            )
        )

    n_src, n_arc = on_side(ROW_COUNT, SOURCE), on_side(ROW_COUNT, ARCHIVE)
    joined = (
        per_key(SOURCE)
        .join(per_key(ARCHIVE), KEY_TEXT, "full_outer")
        .where(
            f"{n_src} IS NULL OR {n_arc} IS NULL OR {n_src} <> {n_arc} "
            f"OR {on_side(ROW_HASH, SOURCE)} <> {on_side(ROW_HASH, ARCHIVE)}"
        )
        .cache()
    )
    count = joined.count()
    rows = joined.orderBy(KEY_TEXT).limit(req.max_reported_keys).collect()
    joined.unpersist()
    out = []
    for r in rows:
        side = SOURCE if r[n_src] is not None else ARCHIVE
        if keys:
            key = {p.name: r[on_side(key_value(i), side)] for i, p in enumerate(keys)}
        else:
            key = {"row_hash": str(r[on_side(ROW_HASH, side)])}
        if r[n_arc] is None:
            kind, cols = "missing_in_archive", []
        elif r[n_src] is None:
            kind, cols = "unexpected_in_archive", []
        elif r[n_arc] != r[n_src]:
            kind, cols = ("duplicated_in_archive" if r[n_arc] > r[n_src] else "missing_duplicates_in_archive"), []
        else:
            kind = "changed"
            field = {p.name: ColumnFields.of(p).field_hash for p in hashed}
            cols = [n for n, h in field.items() if r[on_side(h, SOURCE)] != r[on_side(h, ARCHIVE)]]
        entry = {"key": key, "kind": kind, "source_rows": r[n_src] or 0, "archive_rows": r[n_arc] or 0}
        if cols:
            entry["columns"] = cols
        out.append(entry)
    return {"differing_keys": count, "keys": out, "truncated": count > len(out)}


def _zip_longest(a, b):
    from itertools import zip_longest

    return zip_longest(a, b)


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if isinstance(v, Decimal):
        return format(v, "f")
    return v
