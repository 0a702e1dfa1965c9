"""Per-bucket row checksums computed by the source database (PostgreSQL 14+), so that validation streams
rows only for the buckets that differ.

Both sides compute the same 64-bit row hash from PostgreSQL's built-in, seeded "extended" hash functions
(the ones hash partitioning relies on, so PostgreSQL keeps them stable): PostgreSQL in SQL over the
source table, Spark over the archive's values through their Java port (glue/jvm ``PgHash``). Per field,
in table order at position ``i``:

  integer (int2/int4/int8)   hashint{2,4,8}extended(col, i + 1)          (equal for equal values)
  numeric(p<=18, s)          hash_numeric_extended(col, seed by sign)     (PostgreSQL's ignores the sign)
  date                       hashint4extended(col - date '2000-01-01', i + 1)
  timestamp, timestamptz     timestamp_hash_extended(col, i + 1)          (timestamptz in the UTC session)
  char(n)                    hashbpcharextended(col COLLATE "C", i + 1)   (without trailing blanks)
  any other hashed column    hashtextextended((canonical text) COLLATE "C", i + 1)
  NULL                       a constant per position

The fields are XORed and the XOR mixed once more (``hashint4extended(0, xor)``: the XOR as the seed, all
64 bits), so the per-bucket sum of row hashes is not linear in the columns: a value moved from one row
to another changes it. ``COLLATE "C"`` makes every text hash its bytes (a nondeterministic collation
would hash a sort key); the server encoding must be UTF-8, the archive's. Floats and wide decimals hash
their canonical text (the bit pattern), so -0.0 and 0.0 differ as on the streamed path.

Per bucket the database returns the row count, the exact sum of the row hashes (``sum(bigint)``: a
numeric, no overflow) and per column hashed as text the sum of the canonical texts' UTF-8 lengths (so a
char(n) whose padding changed shows in its bucket even though its hash ignores trailing blanks). The
table is split into the same heap-block ranges as the streamed path, run two at a time, JIT off (its
compile time exceeds what it saves here); each query returns one text of all its buckets.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count

from . import copy_read
from .columns import ColumnPlan
from .engines import BUCKETS
from .jdbc import JdbcSession

MIN_SERVER_VERSION = 140000
NEGATIVE_SEED = 0x6E65670000000000  # PgHash.NEGATIVE_SEED: a negative numeric's seed base
NULL_FIELD = 0x6E756C6C00000000  # PgHash.nullField base
CONCURRENT_QUERIES = 2
_udf_ids = count()


@dataclass(frozen=True)
class Field:
    sql: str  # the field's hash in the source's SQL (NULL handled)
    kind: str  # PgHash.RowHash field kind
    spark: str  # Spark SQL of the field's input from the validation frame (ColumnFields.text)


@dataclass(frozen=True)
class Checksum:
    row_hash_sql: str  # the source's row hash
    bucket_sql: str  # the source's bucket
    text_lengths: list[tuple[str, str]]  # (source SQL of the UTF-8 length, ColumnFields.text_bytes_sum)
    spark_row_hash: str  # Spark SQL of the same row hash over the validation frame's fields
    spark_bucket: str | None  # Spark SQL of the bucket when it is not the integer key's (None: validate's)


def unsupported_reason(spark, src) -> str | None:
    """Why the source cannot compute the checksums (None: it can)."""
    if src.engine.name != "postgresql":
        return f"{src.engine.label} source: no hash function shared with Spark"
    if not copy_read.available(spark):
        return "offload-pgcopy.jar (the Java port of the hash) is not loaded"
    if not any(p.hashed for p in src.columns):
        return "no hashed column"
    with JdbcSession(spark, src.engine, src.connection) as js:
        version, encoding = js.query(
            "SELECT current_setting('server_version_num')::int, current_setting('server_encoding')"
        )[0]
    if int(version) < MIN_SERVER_VERSION:
        return f"PostgreSQL server version {version} (needs 14 or later)"
    if encoding != "UTF8":
        return f"server encoding {encoding} (the hashed bytes must be UTF-8, as in the archive)"
    return None


def _seed(i: int) -> int:
    return i + 1


def _field(p: ColumnPlan, i: int, quote, text_field: str, as_long: bool) -> Field:
    q, seed = quote(p.name), _seed(i)
    if as_long:
        if p.canon_kind == "integer":
            fn = {"smallint": "hashint2extended", "integer": "hashint4extended"}.get(p.source_type, "hashint8extended")
            arg = q if fn != "hashint8extended" or p.source_type == "bigint" else f"{q}::bigint"
            sql, kind = f"{fn}({arg}, {seed})", "int"
        elif p.canon_kind == "decimal":
            neg = NEGATIVE_SEED + i
            sql, kind = f"hash_numeric_extended({q}, CASE WHEN {q} < 0 THEN {neg} ELSE {seed} END)", f"num{p.scale}"
        elif p.canon_kind == "date":
            sql, kind = f"hashint4extended({q} - date '2000-01-01', {seed})", "date"
        else:  # timestamp: the same microseconds (a timestamptz in the session's UTC)
            arg = q if p.archive_type == "timestamp_ntz" else f"{q}::timestamp"
            sql, kind = f"timestamp_hash_extended({arg}, {seed})", "ts"
        spark = text_field
    elif p.source_type.startswith("character(") and p.canon_src == q:
        sql, kind, spark = f'hashbpcharextended({q} COLLATE "C", {seed})', "bpchar", f"CAST({text_field} AS BINARY)"
    else:
        sql, kind = f'hashtextextended(({p.canon_src}) COLLATE "C", {seed})', "text"
        spark = f"CAST({text_field} AS BINARY)"
    if not p.required:
        sql = f"coalesce({sql}, {NULL_FIELD + i})"
    return Field(sql, kind, spark)


def _row_hash(spark, fields: list[Field]) -> tuple[str, str]:
    """(source SQL, Spark SQL) of the row hash of ``fields``; registers the Spark function."""
    sql = f"hashint4extended(0, {' # '.join(f.sql for f in fields)})"
    name = f"offload_pg_row_hash_{next(_udf_ids)}"
    jvm = spark.sparkContext._jvm
    jvm.offload.pgcopy.PgHash.register(spark._jsparkSession, name, ",".join(f.kind for f in fields))
    return sql, f"{name}(struct({', '.join(f.spark for f in fields)}))"


def plan(spark, src, *, key_plans, integer_key, int_bucket_sql, hashed_as_long, fields_of) -> Checksum:
    """The checksum queries' SQL and the matching Spark expressions for ``src``."""
    e = src.engine
    hashed = [p for p in src.columns if p.hashed]

    def fields(plans):
        return [_field(p, i, e.quote, fields_of(p).text, hashed_as_long(p)) for i, p in enumerate(plans)]

    row_sql, row_spark = _row_hash(spark, fields(hashed))
    k = integer_key(src)
    if k is not None:
        bucket_sql, bucket_spark = int_bucket_sql(src, k), None
    else:
        key_sql, key_spark = _row_hash(spark, fields(key_plans(src) or hashed))
        bucket_sql, bucket_spark = f"({key_sql} & {BUCKETS - 1})", f"CAST({key_spark} & {BUCKETS - 1} AS INT)"
    lengths = [(f"octet_length({p.canon_src})", fields_of(p).text_bytes_sum) for p in hashed if not hashed_as_long(p)]
    return Checksum(row_sql, bucket_sql, lengths, row_spark, bucket_spark)


_BUCKET_ROW = re.compile(r"^-?\d+(,-?\d+)+$")


def source_buckets(spark, src, parts, cs: Checksum, *, row_count: str, hi: str, lo: str, low_bits: int) -> dict:
    """Per bucket, added up over the partitions: {row_count: n, hi/lo: the hash sum's high and low parts,
    each text length sum's name: its sum}."""
    queries = [_partition_query(src, cs, pred) for pred in parts.predicates()]

    def run(sql: str) -> str:
        with JdbcSession(spark, src.engine, src.connection) as js:
            js.execute("SET jit = off")
            return js.query(sql)[0][0] or ""

    with ThreadPoolExecutor(max_workers=CONCURRENT_QUERIES) as pool:
        texts = list(pool.map(run, queries))
    names = [name for _, name in cs.text_lengths]
    out: dict[int, dict] = {}
    total_hash: dict[int, int] = {}
    for text in texts:
        for row in filter(None, text.split(";")):
            if not _BUCKET_ROW.match(row):
                raise RuntimeError(f"unexpected checksum row from the source: {row[:200]!r}")
            values = [int(v) for v in row.split(",")]
            b, n, h, lengths = values[0], values[1], values[2], values[3:]
            acc = out.setdefault(b, {row_count: 0, **{name: 0 for name in names}})
            acc[row_count] += n
            total_hash[b] = total_hash.get(b, 0) + h
            for name, v in zip(names, lengths, strict=True):
                acc[name] += v
    for b, h in total_hash.items():
        out[b][hi], out[b][lo] = h >> low_bits, h & ((1 << low_bits) - 1)
    return out


def _partition_query(src, cs: Checksum, predicate: str) -> str:
    """One text for the rows of ``predicate``: per bucket ``bucket,count,hash sum[,length sums]``, ';'-joined."""
    inner = [f"{cs.bucket_sql} AS b", f"{cs.row_hash_sql} AS h"]
    inner += [f"{sql} AS l{i}" for i, (sql, _) in enumerate(cs.text_lengths)]
    per_bucket = ["b::text", "count(*)::text", "sum(h)::text"]
    per_bucket += [f"coalesce(sum(l{i}), 0)::text" for i in range(len(cs.text_lengths))]
    table = src.engine.table_ref(src.schema, src.table)
    joined = " || ',' || ".join(per_bucket)
    return (
        f"SELECT string_agg(x, ';') FROM (SELECT {joined} AS x FROM "
        f"(SELECT {', '.join(inner)} FROM {table} WHERE ({predicate})) r GROUP BY b) g"
    )
