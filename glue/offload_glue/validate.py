"""Validate an Iceberg archive against its source table.

Guarantee: the result is ``passed`` only when, for the table's current snapshot,
  * the row count computed by the source database equals the archive's;
  * per column, the aggregates computed by the source database in SQL (non-NULL count, sum of the
    canonical text lengths, exact sum for integers/decimals, exact min/max for floats) equal the same
    aggregates computed by Spark over the archive;
  * the row hashes agree: every row (or, when sampled, every row whose key hash falls in the sample)
    has the md5 of its canonical row text (see columns.py) computed by the source database and by
    Spark, summed per key-hash bucket on each side and compared bucket by bucket;
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
from datetime import datetime, timezone
from decimal import Decimal, localcontext

from .archive import (LINEAGE_PREFIX, SOURCE_KEYS, choose_split_column, current_snapshot, default_partitions, introspect,
                      split_predicates, table_properties)
from .columns import ColumnPlan, spark_canon_expr
from .engines import BUCKETS, Connection, Engine
from .errors import OffloadError
from .jdbc import JdbcSession, read_options
from .names import archive_table_name, spark_col, spark_ident

SCHEMA_VERSION = 1
MAX_DRILLDOWN_BUCKETS = 64


@dataclass
class ValidateRequest:
    connection: Connection
    schema: str
    table: str
    catalog: str = "offload"
    database: str = "archive"
    archive_table: str | None = None
    run_id: str | None = None  # when given, the archive's lineage must name this run
    sample_percent: float = 100.0  # 100: full comparison; less: rows whose key hash falls in the sample
    max_reported_keys: int = 20
    split_column: str | None = None
    num_partitions: int = 0
    fetch_size: int = 10000


# ---- SQL on the source side --------------------------------------------------------------------
def _src_numeric(engine: Engine, p: ColumnPlan) -> str:
    q = engine.quote(p.name)
    if engine.name == "postgresql":  # sum() of the column itself: int128 accumulators, no numeric casts
        return f"{q}::numeric" if p.source_type == "money" else q
    return f"({q} + 0)"


def _src_float(engine: Engine, p: ColumnPlan) -> str:
    q = engine.quote(p.name)
    return f"{q}::float8" if engine.name == "postgresql" else f"CAST({q} AS DOUBLE)"


def _length(engine: Engine, x: str) -> str:
    return f"length({x})" if engine.name == "postgresql" else f"CHAR_LENGTH({x})"


def key_plans(src) -> list[ColumnPlan]:
    by_name = {p.name: p for p in src.columns}
    keys = [by_name[k] for k in src.primary_key if k in by_name and by_name[k].hashed]
    return keys if len(keys) == len(src.primary_key) else []


HASH_HEX_DIGITS = 14  # the first 56 bits of the row md5 are summed per bucket on both sides
LOW_BITS = 28  # Spark sums them as two 28-bit halves in longs


def _src_row_text(e: Engine, plans: list[ColumnPlan]) -> str:
    """Canonical row text from the x<i> (canonical text) columns: the texts in table order joined by
    a tab, string texts escaped (backslash -> two backslashes, tab -> backslash t), NULL as
    backslash N — one reading whatever the values hold (see columns.py)."""
    fields = []
    for p in plans:
        x = e.escape_sql(f"x{p.index}") if p.canon_kind == "string" else f"x{p.index}"
        fields.append(f"COALESCE({x}, {e.null_marker_sql()})")
    return e.row_text_sql(fields)


SPARK_BACKSLASH, SPARK_TAB = "chr(92)", "chr(9)"


def _spark_row_text(plans: list[ColumnPlan]) -> str:
    fields = []
    for p in plans:
        x = f"x{p.index}"
        if p.canon_kind == "string":
            bs = SPARK_BACKSLASH
            x = f"replace(replace({x}, {bs}, concat({bs}, {bs})), {SPARK_TAB}, concat({bs}, 't'))"
        fields.append(f"coalesce({x}, concat({SPARK_BACKSLASH}, 'N'))")
    return f"concat_ws({SPARK_TAB}, {', '.join(fields)})" if fields else "''"


INT_HASH_PRIME, INT_HASH_MULTIPLIER = 1000003, 7919


def _integer_key(src) -> ColumnPlan | None:
    keys = key_plans(src)
    return keys[0] if len(keys) == 1 and keys[0].archive_type in ("int", "bigint") else None


def _src_bucket(e: Engine, src, key_text: str) -> str:
    """Bucket of a row: a multiplicative hash of a single integer key (cheap), else the first three
    hex digits of md5(key text)."""
    k = _integer_key(src)
    if k is not None:
        m = INT_HASH_PRIME  # kk: the key as a bigint, passed through the inner queries
        return f"MOD(MOD(MOD(kk, {m}) + {m}, {m}) * {INT_HASH_MULTIPLIER}, {BUCKETS})"
    return e.hex_to_int_sql(f"substr({e.md5_sql(key_text)}, 1, 3)", 3)


def _where(conds: list[str]) -> str:
    return f" WHERE {' AND '.join('(' + c + ')' for c in conds)}" if conds else ""


def source_row_sql(src, sample_cutoff: int, where: str | None, detail: bool = False, buckets: list[int] | None = None) -> str:
    """Per row: bucket, row md5 (NULL outside the sample), canonical text lengths and the other
    aggregate inputs; with ``detail``, the key's text and per-column md5s (for naming keys and
    columns). Canonical texts are computed once in an inner query (OFFSET 0 keeps PostgreSQL from
    inlining it and computing each text again for its length and for the row text)."""
    e = src.engine
    hashed = [p for p in src.columns if p.hashed]
    keys = key_plans(src)
    fence = " OFFSET 0" if e.name == "postgresql" else ""
    table = e.table_ref(src.schema, src.table)
    inner = [f"{p.canon_src} AS x{p.index}" for p in hashed]
    inner += [f"{_src_numeric(e, p)} AS s{p.index}" for p in src.columns if p.numeric_sum]
    inner += [f"{_src_float(e, p)} AS f{p.index}" for p in src.columns if p.float_minmax]
    int_key = _integer_key(src)
    if int_key is not None:
        inner.append(f"CAST({e.quote(int_key.name)} AS {'bigint' if e.name == 'postgresql' else 'SIGNED'}) AS kk")
    level1 = f"SELECT {', '.join(inner) or '1 AS one'} FROM {table}{_where([where] if where else [])}{fence}"
    passthrough = [f"s{p.index}" for p in src.columns if p.numeric_sum] + [f"f{p.index}" for p in src.columns if p.float_minmax]
    row_text = _src_row_text(e, hashed)
    key_text = _src_row_text(e, keys) if keys else row_text
    bucket = _src_bucket(e, src, key_text)
    if detail:
        cols = [f"{key_text} AS k", f"{e.md5_sql(row_text)} AS r"]
        cols += [f"x{p.index} AS kv{i}" for i, p in enumerate(keys)]
        cols += [f"{e.md5_sql(_src_row_text(e, [p]))} AS m{p.index}" for p in hashed]
        in_list = ", ".join(str(b) for b in buckets or [-1])
        return f"SELECT {', '.join(cols)} FROM ({level1}) l1{_where([f'{bucket} IN ({in_list})'])}"
    row_md5 = e.md5_sql(row_text)
    if sample_cutoff < BUCKETS:
        row_md5 = f"CASE WHEN {bucket} < {sample_cutoff} THEN {row_md5} END"
    cols = [f"{bucket} AS b", f"{row_md5} AS r"] + [_length(e, f"x{p.index}") + f" AS l{p.index}" for p in hashed] + passthrough
    return f"SELECT {', '.join(cols)} FROM ({level1}) l1{fence}"


def source_bucket_sql(src, sample_cutoff: int, where: str | None) -> str:
    """Per bucket aggregates, as text so that no JDBC type mapping can round them (float min/max stay
    doubles: the driver hands those over exactly)."""
    e = src.engine
    t = (lambda x: f"({x})::text") if e.name == "postgresql" else (lambda x: f"CAST({x} AS CHAR)")
    aggs = ["b", f"{t('count(*)')} AS n",
            f"{t('sum(' + e.hex_to_int_sql(f'substr(r, 1, {HASH_HEX_DIGITS})', HASH_HEX_DIGITS) + ')')} AS h"]
    for p in src.columns:
        if p.hashed:
            aggs += [f"{t(f'count(l{p.index})')} AS nn{p.index}", f"{t(f'sum(l{p.index})')} AS len{p.index}"]
        else:
            aggs.append(f"{t(f'count(f{p.index})')} AS nn{p.index}")
        if p.numeric_sum:
            aggs.append(f"{t(f'sum(s{p.index})')} AS sum{p.index}")
        if p.float_minmax:
            aggs += [f"min(f{p.index}) AS min{p.index}", f"max(f{p.index}) AS max{p.index}"]
    return f"SELECT {', '.join(aggs)} FROM ({source_row_sql(src, sample_cutoff, where)}) rows_ GROUP BY b"


# ---- the same on the archive side (Spark SQL) ---------------------------------------------------
def _spark_levels(df, src):
    """The archive with x<i> (canonical text), l<i> (its length), s<i> and f<i> columns, each computed
    once (separate projections, which Spark does not merge when that would repeat work)."""
    from pyspark.sql import functions as F

    hashed = [p for p in src.columns if p.hashed]
    level1 = [F.expr(spark_canon_expr(p)).alias(f"x{p.index}") for p in hashed]
    level1 += [F.expr(_spark_sum_input(p)[0]).alias(f"s{p.index}") for p in src.columns if p.numeric_sum]
    level1 += [F.expr(f"CAST({spark_col(p.name)} AS DOUBLE)").alias(f"f{p.index}") for p in src.columns if p.float_minmax]
    int_key = _integer_key(src)
    if int_key is not None:
        level1.append(F.expr(f"CAST({spark_col(int_key.name)} AS BIGINT)").alias("kk"))
    passthrough = [f"s{p.index}" for p in src.columns if p.numeric_sum] + [f"f{p.index}" for p in src.columns if p.float_minmax]
    level2 = (["kk"] if int_key is not None else []) + [f"x{p.index}" for p in hashed] + [F.length(f"x{p.index}").alias(f"l{p.index}") for p in hashed] + passthrough
    return df.select(*(level1 or [F.lit(1).alias("one")])).select(*(level2 or ["one"])), passthrough


def _spark_bucket(src) -> str:
    k = _integer_key(src)
    if k is not None:
        return f"CAST(pmod(pmod(kk, {INT_HASH_PRIME}) * {INT_HASH_MULTIPLIER}, {BUCKETS}) AS INT)"
    keys = key_plans(src)
    key_text = _spark_row_text(keys) if keys else _spark_row_text([p for p in src.columns if p.hashed])
    return f"CAST(conv(substr(md5({key_text}), 1, 3), 16, 10) AS INT)"


def archive_bucket_df(spark, df, src, sample_cutoff: int):
    """The same per-bucket aggregates over the archive, computed by Spark."""
    from pyspark.sql import functions as F

    hashed = [p for p in src.columns if p.hashed]
    levels, passthrough = _spark_levels(df, src)
    bucket = _spark_bucket(src)
    hv = f"CAST(conv(substr(md5({_spark_row_text(hashed)}), 1, {HASH_HEX_DIGITS}), 16, 10) AS BIGINT)"
    level3 = [F.expr(bucket).alias("b"),
              F.expr(f"CASE WHEN {bucket} < {sample_cutoff} THEN {hv} END" if sample_cutoff < BUCKETS else hv).alias("hv")]
    level3 += [f"l{p.index}" for p in hashed] + passthrough
    # Every aggregate buffer is a long (Spark's fast hash-aggregate path): 56-bit hashes and 63-bit
    # sums are added as a high and a low part, recombined exactly in Python (_combine_split_sums).
    aggs = [F.count(F.lit(1)).alias("n"), F.sum(F.expr(f"shiftright(hv, {LOW_BITS})")).alias("h_hi"),
            F.sum(F.expr(f"hv & {(1 << LOW_BITS) - 1}")).alias("h_lo")]
    for p in src.columns:
        if p.hashed:
            aggs += [F.count(f"l{p.index}").alias(f"nn{p.index}"), F.sum(f"l{p.index}").alias(f"len{p.index}")]
        else:
            aggs.append(F.count(f"f{p.index}").alias(f"nn{p.index}"))
        if p.numeric_sum:
            if _spark_sum_input(p)[1]:
                aggs += [F.sum(F.expr(f"shiftright(s{p.index}, {SUM_LOW_BITS})")).alias(f"sum{p.index}_hi"),
                         F.sum(F.expr(f"s{p.index} & {(1 << SUM_LOW_BITS) - 1}")).alias(f"sum{p.index}_lo")]
            else:
                aggs.append(F.sum(f"s{p.index}").alias(f"sum{p.index}"))
        if p.float_minmax:
            aggs += [F.min(f"f{p.index}").alias(f"min{p.index}"), F.max(f"f{p.index}").alias(f"max{p.index}")]
    return levels.select(*level3).groupBy("b").agg(*aggs)


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
        return (f"CAST({c} * CAST({10 ** s} AS DECIMAL({s + 1},0)) AS BIGINT)" if s else f"CAST({c} AS BIGINT)"), True
    return f"CAST({c} AS DECIMAL(38,{p.scale}))", False


def _combine_split_sums(buckets: dict, src) -> dict:
    """Turn the archive side's sum<i>_hi/_lo longs back into one exact sum<i> (scaled for decimals)."""
    for p in src.columns:
        if not (p.numeric_sum and _spark_sum_input(p)[1]):
            continue
        for b in buckets.values():
            hi, lo = b.pop(f"sum{p.index}_hi"), b.pop(f"sum{p.index}_lo")
            b[f"sum{p.index}"] = None if hi is None else Decimal((int(hi) << SUM_LOW_BITS) + int(lo)).scaleb(-p.scale)
    return buckets


def archive_detail_df(df, src, buckets: list[int]):
    from pyspark.sql import functions as F

    hashed = [p for p in src.columns if p.hashed]
    keys = key_plans(src)
    levels, _ = _spark_levels(df, src)
    key_text = _spark_row_text(keys) if keys else _spark_row_text(hashed)
    cols = [F.expr(key_text).alias("k"), F.expr(f"md5({_spark_row_text(hashed)})").alias("r")]
    cols += [F.col(f"x{p.index}").alias(f"kv{i}") for i, p in enumerate(keys)]
    cols += [F.expr(f"md5({_spark_row_text([p])})").alias(f"m{p.index}") for p in hashed]
    return levels.where(F.expr(_spark_bucket(src)).isin(buckets or [-1])).select(*cols)


# ---- comparison ---------------------------------------------------------------------------------
def _read_source_union(spark, src, sql_for_where, split, bounds, n, fetch_size):
    e = src.engine
    url, props = e.url(src.connection), read_options(e, src.connection, fetch_size)
    if split is not None and bounds is not None:
        wheres = split_predicates(e.quote(split.name), bounds[0], bounds[1], n)
    else:
        wheres = [None]
    dfs = [spark.read.jdbc(url, f"({sql_for_where(w)}) offload_q", properties=props) for w in wheres]
    out = dfs[0]
    for d in dfs[1:]:
        out = out.unionByName(d)
    return out


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


def validate(spark, req: ValidateRequest) -> dict:
    with localcontext() as ctx:
        ctx.prec = 100  # exact Decimal totals of wide sums, without touching the caller's context
        return _validate(spark, req)


def _validate(spark, req: ValidateRequest) -> dict:
    started = time.monotonic()
    src = introspect(spark, req.connection, req.schema, req.table)
    name = req.archive_table or archive_table_name(req.schema, req.table)
    ident = spark_ident(req.catalog, req.database, name)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{name} does not exist")
    result: dict = {
        "job": "validate", "schema_version": SCHEMA_VERSION, "status": "passed",
        "archive_table": f"{req.database}.{name}", "catalog": req.catalog,
        "source": {**req.connection.public(), "schema": req.schema, "table": req.table},
        "run_id": props.get(LINEAGE_PREFIX + "run_id"),
        "validated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "full" if req.sample_percent >= 100 else "sampled", "sample_percent": req.sample_percent,
        "mismatches": [],
    }
    expected_source = {"source.engine": src.engine.name, "source.host": req.connection.host, "source.port": str(req.connection.port),
                       "source.database": req.connection.database, "source.schema": req.schema, "source.table": req.table}
    lineage_diffs = [k for k in SOURCE_KEYS if props.get(LINEAGE_PREFIX + k) != expected_source[k]]
    if req.run_id and props.get(LINEAGE_PREFIX + "run_id") != req.run_id:
        lineage_diffs.append("run_id")
    result["lineage"] = {"match": not lineage_diffs, "differences": lineage_diffs}
    if lineage_diffs:
        result["mismatches"].append("lineage")

    snap = current_snapshot(spark, ident) or {}
    result["archive_snapshot_id"] = snap.get("snapshot_id")
    df = spark.table(ident)
    actual = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
    planned = [(p.name, p.archive_type) for p in src.columns]
    schema_diffs = [{"expected": list(p) if p else None, "actual": list(a) if a else None}
                    for p, a in _zip_longest(planned, actual) if p != a]
    result["schema"] = {"match": not schema_diffs, "differences": schema_diffs}
    if schema_diffs:
        result["mismatches"].append("schema")
        result["status"] = "failed"
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    cutoff = BUCKETS if req.sample_percent >= 100 else max(1, int(BUCKETS * req.sample_percent / 100))
    split = choose_split_column(src, req.split_column)
    bounds = None
    if split is not None:
        q = src.engine.quote(split.name)
        with JdbcSession(spark, src.engine, req.connection) as js:
            lo, hi = js.query(f"SELECT min({q}), max({q}) FROM {src.engine.table_ref(req.schema, req.table)}")[0]
        bounds = (int(lo), int(hi)) if lo is not None else None
    n = req.num_partitions or default_partitions(spark, bounds)

    src_rows = _read_source_union(spark, src, lambda w: source_bucket_sql(src, cutoff, w), split, bounds, n, req.fetch_size)
    # The two sides run at once: the source database computes its aggregates while Spark computes the
    # archive's (the JDBC tasks mostly wait on the database).
    with ThreadPoolExecutor(max_workers=1) as pool:
        source_future = pool.submit(lambda: [r.asDict() for r in src_rows.collect()])
        archive_rows = archive_bucket_df(spark, df, src, cutoff).collect()
        source_buckets = _merge_partitions(source_future.result())
    archive_buckets = _combine_split_sums({r["b"]: r.asDict() for r in archive_rows}, src)

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

    src_count, arc_count = int(total(source_buckets, "n") or 0), int(total(archive_buckets, "n") or 0)
    result["row_count"] = {"source": src_count, "archive": arc_count, "match": src_count == arc_count}
    if src_count != arc_count:
        result["mismatches"].append("row_count")

    columns = []
    for p in src.columns:
        checks = {"non_null_count": (int(total(source_buckets, f"nn{p.index}") or 0), int(total(archive_buckets, f"nn{p.index}") or 0))}
        if p.hashed:
            checks["text_length_sum"] = (total(source_buckets, f"len{p.index}"), total(archive_buckets, f"len{p.index}"))
        if p.numeric_sum:
            checks["sum"] = (total(source_buckets, f"sum{p.index}"), total(archive_buckets, f"sum{p.index}"))
        ok = all((a == b) if a is None or b is None else Decimal(a) == Decimal(b) for a, b in checks.values())
        if p.float_minmax:
            mm = {"min": (extreme(source_buckets, f"min{p.index}", min), extreme(archive_buckets, f"min{p.index}", min)),
                  "max": (extreme(source_buckets, f"max{p.index}", max), extreme(archive_buckets, f"max{p.index}", max))}
            ok = ok and all(_float_equal(a, b) for a, b in mm.values())
            checks.update(mm)
        columns.append({"name": p.name, "archive_type": p.archive_type, "hashed": p.hashed, "match": ok,
                        "checks": {k: {"source": _jsonable(a), "archive": _jsonable(b)} for k, (a, b) in checks.items()}})
        if not ok:
            result["mismatches"].append(f"column:{p.name}")
    result["columns"] = columns

    bad_buckets = sorted(b for b in set(source_buckets) | set(archive_buckets)
                         if b < cutoff and _bucket_key(source_buckets.get(b)) != _bucket_key(archive_buckets.get(b)))
    row_hash = {"buckets_compared": min(cutoff, BUCKETS), "buckets_mismatched": len(bad_buckets), "differing_keys": 0, "keys": [],
                "truncated": False, "key_columns": [p.name for p in key_plans(src)],
                "excluded_columns": [p.name for p in src.columns if not p.hashed]}
    if bad_buckets:
        result["mismatches"].append("row_hash")
        row_hash.update(_drilldown(spark, df, src, bad_buckets[:MAX_DRILLDOWN_BUCKETS], req, split, bounds, n))
        row_hash["truncated"] = row_hash["truncated"] or len(bad_buckets) > MAX_DRILLDOWN_BUCKETS
    result["row_hash"] = row_hash
    result["status"] = "passed" if not result["mismatches"] else "failed"
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _merge_partitions(rows: list[dict]) -> dict:
    """Add up the per-partition bucket aggregates the source returned (exactly, as Decimals)."""
    out: dict = {}
    for row in rows:
        b = int(row["b"])
        cur = out.get(b)
        if cur is None:
            out[b] = dict(row, b=b)
            continue
        for col, v in row.items():
            if col == "b" or v is None:
                continue
            if cur[col] is None:
                cur[col] = v
            elif col.startswith(("min", "max")):  # NaN sorts above every number, as in the databases
                cur[col] = _nan_aware(max if col.startswith("max") else min, cur[col], v)
            else:
                cur[col] = str(Decimal(cur[col]) + Decimal(v))
    return out


def _nan_aware(fn, a: float, b: float) -> float:
    if a != a or b != b:
        if fn is max:
            return float("nan")
        return b if a != a else a
    return fn(a, b)


def _bucket_key(b):
    if b is None:
        return None
    h = int(b["h"] or 0) if "h" in b else int(b["h_hi"] or 0) * (1 << LOW_BITS) + int(b["h_lo"] or 0)
    return int(b["n"]), h


def _drilldown(spark, df, src, buckets, req, split, bounds, n) -> dict:
    from pyspark.sql import functions as F

    keys = key_plans(src)
    hashed = [p for p in src.columns if p.hashed]
    s = _read_source_union(spark, src, lambda w: source_row_sql(src, BUCKETS, w, detail=True, buckets=buckets),
                           split, bounds, n, req.fetch_size)
    a = archive_detail_df(df, src, buckets)
    value_cols = ["r"] + [f"kv{i}" for i in range(len(keys))] + [f"m{p.index}" for p in hashed]

    def side(d, tag):
        return d.groupBy("k").agg(F.count(F.lit(1)).alias(f"n_{tag}"), *[F.first(c).alias(f"{c}_{tag}") for c in value_cols])

    joined = side(s, "s").join(side(a, "a"), "k", "full_outer") \
        .where("n_s IS NULL OR n_a IS NULL OR n_s <> n_a OR r_s <> r_a").cache()
    count = joined.count()
    rows = joined.orderBy("k").limit(req.max_reported_keys).collect()
    joined.unpersist()
    out = []
    for r in rows:
        tag = "s" if r["n_s"] is not None else "a"
        if keys:
            key = {p.name: r[f"kv{i}_{tag}"] for i, p in enumerate(keys)}
        else:
            key = {"row_md5": r[f"r_{tag}"]}
        if r["n_a"] is None:
            kind, cols = "missing_in_archive", []
        elif r["n_s"] is None:
            kind, cols = "unexpected_in_archive", []
        elif r["n_a"] != r["n_s"]:
            kind, cols = ("duplicated_in_archive" if r["n_a"] > r["n_s"] else "missing_duplicates_in_archive"), []
        else:
            kind = "changed"
            cols = [p.name for p in hashed if r[f"m{p.index}_s"] != r[f"m{p.index}_a"]]
        entry = {"key": key, "kind": kind, "source_rows": r["n_s"] or 0, "archive_rows": r["n_a"] or 0}
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
