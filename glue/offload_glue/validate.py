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

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from .archive import (LINEAGE_PREFIX, SOURCE_KEYS, choose_split_column, current_snapshot, default_partitions, introspect,
                      split_predicates, table_properties)
from .columns import ColumnPlan, spark_canon_expr, spark_field_expr
from .engines import BUCKETS, FIELD_SEPARATOR, Connection, Engine
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
    return f"{q}::numeric" if engine.name == "postgresql" else f"({q} + 0)"


def _src_float(engine: Engine, p: ColumnPlan) -> str:
    q = engine.quote(p.name)
    return f"{q}::float8" if engine.name == "postgresql" else f"CAST({q} AS DOUBLE)"


def _length(engine: Engine, x: str) -> str:
    return f"length({x})" if engine.name == "postgresql" else f"CHAR_LENGTH({x})"


def key_plans(src) -> list[ColumnPlan]:
    by_name = {p.name: p for p in src.columns}
    keys = [by_name[k] for k in src.primary_key if k in by_name and by_name[k].hashed]
    return keys if len(keys) == len(src.primary_key) else []


def source_row_sql(src, sample_cutoff: int, where: str | None, detail: bool = False, buckets: list[int] | None = None) -> str:
    """Per row: bucket, row md5 (NULL outside the sample) and the per-column aggregate inputs; with
    ``detail``, the key's text and per-column md5s instead (for naming keys and columns)."""
    e = src.engine
    hashed = [p for p in src.columns if p.hashed]
    row_text = e.concat_sql([e.field_sql(p.canon_src) for p in hashed])
    keys = key_plans(src)
    key_text = e.concat_sql([e.field_sql(p.canon_src) for p in keys]) if keys else row_text
    bucket = e.hex_to_int_sql(f"substr({e.md5_sql(key_text)}, 1, 3)", 3)
    table = e.table_ref(src.schema, src.table)
    conds = [where] if where else []
    if buckets is not None:
        conds.append(f"{bucket} IN ({', '.join(str(b) for b in buckets) or '-1'})")
    where_sql = f" WHERE {' AND '.join('(' + c + ')' for c in conds)}" if conds else ""
    if detail:
        cols = [f"{key_text} AS k", f"{e.md5_sql(row_text)} AS r"]
        cols += [f"{e.concat_sql([e.field_sql(p.canon_src)])} AS kv{i}" for i, p in enumerate(keys)]
        cols += [f"{e.md5_sql(e.field_sql(p.canon_src))} AS m{p.index}" for p in hashed]
        return f"SELECT {', '.join(cols)} FROM {table}{where_sql}"
    row_md5 = e.md5_sql(row_text)
    if sample_cutoff < BUCKETS:
        row_md5 = f"CASE WHEN {bucket} < {sample_cutoff} THEN {row_md5} END"
    cols = [f"{bucket} AS b", f"{row_md5} AS r"]
    for p in src.columns:
        if p.hashed:
            cols.append(f"{p.canon_src} AS x{p.index}")
        if p.numeric_sum:
            cols.append(f"{_src_numeric(e, p)} AS s{p.index}")
        if p.float_minmax:
            cols.append(f"{_src_float(e, p)} AS f{p.index}")
    fence = " OFFSET 0" if e.name == "postgresql" else ""  # keeps PostgreSQL from computing md5 twice
    return f"SELECT {', '.join(cols)} FROM {table}{where_sql}{fence}"


def source_bucket_sql(src, sample_cutoff: int, where: str | None) -> str:
    """Per bucket aggregates, as text so that no JDBC type mapping can round them (float min/max stay
    doubles: the driver hands those over exactly)."""
    e = src.engine
    t = (lambda x: f"({x})::text") if e.name == "postgresql" else (lambda x: f"CAST({x} AS CHAR)")
    aggs = ["b", f"{t('count(*)')} AS n",
            f"{t('sum(' + e.hex_to_int_sql('substr(r, 1, 15)', 15) + ')')} AS h1",
            f"{t('sum(' + e.hex_to_int_sql('substr(r, 16, 15)', 15) + ')')} AS h2"]
    for p in src.columns:
        if p.hashed:
            aggs += [f"{t(f'count(x{p.index})')} AS nn{p.index}", f"{t('sum(' + _length(e, f'x{p.index}') + ')')} AS len{p.index}"]
        else:
            aggs.append(f"{t(f'count(f{p.index})')} AS nn{p.index}")
        if p.numeric_sum:
            aggs.append(f"{t(f'sum(s{p.index})')} AS sum{p.index}")
        if p.float_minmax:
            aggs += [f"min(f{p.index}) AS min{p.index}", f"max(f{p.index}) AS max{p.index}"]
    return f"SELECT {', '.join(aggs)} FROM ({source_row_sql(src, sample_cutoff, where)}) rows_ GROUP BY b"


# ---- the same on the archive side (Spark SQL) ---------------------------------------------------
def _spark_key_and_row(src):
    hashed = [p for p in src.columns if p.hashed]
    row_text = f"concat_ws('{FIELD_SEPARATOR}', {', '.join(spark_field_expr(spark_canon_expr(p)) for p in hashed)})" if hashed else "''"
    keys = key_plans(src)
    key_text = f"concat_ws('{FIELD_SEPARATOR}', {', '.join(spark_field_expr(spark_canon_expr(p)) for p in keys)})" if keys else row_text
    bucket = f"CAST(conv(substr(md5({key_text}), 1, 3), 16, 10) AS INT)"
    return row_text, key_text, bucket


def archive_bucket_df(spark, df, src, sample_cutoff: int):
    from pyspark.sql import functions as F

    row_text, _, bucket = _spark_key_and_row(src)
    r = f"md5({row_text})"
    cols = [F.expr(bucket).alias("b")]
    cols.append(F.expr(f"CASE WHEN {bucket} < {sample_cutoff} THEN {r} END" if sample_cutoff < BUCKETS else r).alias("r"))
    for p in src.columns:
        if p.hashed:
            cols.append(F.expr(spark_canon_expr(p)).alias(f"x{p.index}"))
        if p.numeric_sum:
            cols.append(F.expr(f"CAST({spark_col(p.name)} AS DECIMAL(38,{p.scale}))").alias(f"s{p.index}"))
        if p.float_minmax:
            cols.append(F.expr(f"CAST({spark_col(p.name)} AS DOUBLE)").alias(f"f{p.index}"))
    rows = df.select(*cols)
    aggs = [F.count(F.lit(1)).alias("n"),
            F.sum(F.expr("CAST(conv(substr(r, 1, 15), 16, 10) AS DECIMAL(20,0))")).alias("h1"),
            F.sum(F.expr("CAST(conv(substr(r, 16, 15), 16, 10) AS DECIMAL(20,0))")).alias("h2")]
    for p in src.columns:
        if p.hashed:
            aggs += [F.count(f"x{p.index}").alias(f"nn{p.index}"), F.sum(F.length(f"x{p.index}")).alias(f"len{p.index}")]
        else:
            aggs.append(F.count(f"f{p.index}").alias(f"nn{p.index}"))
        if p.numeric_sum:
            aggs.append(F.sum(f"s{p.index}").alias(f"sum{p.index}"))
        if p.float_minmax:
            aggs += [F.min(f"f{p.index}").alias(f"min{p.index}"), F.max(f"f{p.index}").alias(f"max{p.index}")]
    return rows.groupBy("b").agg(*aggs)


def archive_detail_df(df, src, buckets: list[int]):
    from pyspark.sql import functions as F

    row_text, key_text, bucket = _spark_key_and_row(src)
    keys = key_plans(src)
    cols = [F.expr(key_text).alias("k"), F.expr(f"md5({row_text})").alias("r")]
    cols += [F.expr(spark_field_expr(spark_canon_expr(p))).alias(f"kv{i}") for i, p in enumerate(keys)]
    cols += [F.expr(f"md5({spark_field_expr(spark_canon_expr(p))})").alias(f"m{p.index}") for p in src.columns if p.hashed]
    return df.where(F.expr(bucket).isin(buckets or [-1])).select(*cols)


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


def _strip_field(text: str | None) -> str | None:
    """'<len>:<text>' back to the text (or None for the NULL marker), for naming keys."""
    if text is None or text == "NULL":
        return None
    return text.split(":", 1)[1] if ":" in text else text


def validate(spark, req: ValidateRequest) -> dict:
    started = time.monotonic()
    from pyspark.sql import functions as F

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
    source_buckets = _merge_partitions([r.asDict() for r in src_rows.collect()])
    archive_buckets = {r["b"]: r.asDict() for r in archive_bucket_df(spark, df, src, cutoff).collect()}

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
    return None if b is None else (int(b["n"]), _to_num(b["h1"]), _to_num(b["h2"]))


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
            key = {p.name: _strip_field(r[f"kv{i}_{tag}"]) for i, p in enumerate(keys)}
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
