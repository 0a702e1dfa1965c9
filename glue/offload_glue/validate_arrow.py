"""Validation of a PostgreSQL source's archive without Spark (validation engine ``arrow``): no JVM is started.

The same checks as validate.py's source-checksum method, computed by the source database in SQL and by this
process over the archive's record batches (pyiceberg plans the snapshot's data files, pyarrow reads them):

  * the row count, and per column the non-NULL count, the exact sum (integers, decimals up to 28 digits) and,
    for floats, the min and max (NaN above every number, as PostgreSQL sorts it);
  * per bucket (the row hash's low 12 bits) the row count and the exact sum of the 64-bit row hashes — the
    row hash of restore_hash.py: PostgreSQL's seeded extended hash functions per field (integers, booleans,
    dates, timestamps, numerics by their base-10000 digits, floats by their bit pattern, char(n) by its
    characters and its byte length, bytea as hex, every other column by the exact text the archive job
    stores), XORed and mixed once more; a NULL is a marker of its position. Every column is in the row hash
    (floats too), so a changed, missing, duplicated, extra or swapped value changes a bucket;
  * the archive's lineage names this source table (and run) and its schema is the one the archive job plans.

The database's side is one pass over the table split into two halves of its pages run at once (read-only
sessions); this process reads the data files on two threads meanwhile (numpy releases the GIL).

The result is final only when everything agrees (``passed``). Anything else — a difference, a column or
snapshot this path does not cover, a data file that cannot be read — returns the reason instead and the
caller runs the Spark validation (validate.py), which names the differing keys and columns, reports a
damaged file, or finds the difference was not one. So a failed validation always comes from Spark's report.

Applies to: a PostgreSQL 11+ source in UTF-8, full mode (no sample), ``row_hash_method auto``, a Hadoop
catalog on a local directory or the Glue Data Catalog, a snapshot without delete files, pyiceberg, pyarrow
and psycopg2 importable.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from . import memory, restore_arrow, restore_hash
from .engines import BUCKETS, engine_for
from .names import archive_table_name
from .source_table import introspect_rows

ENGINES = ("auto", "spark", "arrow")
ARROW, SPARK = "arrow", "spark"
READ_THREADS = 2
READ_BUFFER = 1 << 20
BATCH_ROWS = int(os.environ.get("OFFLOAD_BATCH_ROWS", 65536))

# Iceberg's primitive types as Spark names them (the schema check compares with the archive job's plan)
SPARK_TYPES = {
    "int": "int",
    "long": "bigint",
    "date": "date",
    "timestamptz": "timestamp",
    "timestamp": "timestamp_ntz",
    "string": "string",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "binary": "binary",
}


@dataclass(frozen=True)
class CatalogSpec:
    catalog: str
    catalog_type: str  # hadoop | glue
    warehouse: str


def catalog_of(spark, catalog: str) -> CatalogSpec | None:
    """The catalog a Spark session was set up with (session.py's configuration), or None."""
    prefix = f"spark.sql.catalog.{catalog}"
    conf = spark.conf
    warehouse = conf.get(f"{prefix}.warehouse", None)
    if not warehouse:
        return None
    if conf.get(f"{prefix}.type", None) == "hadoop":
        return CatalogSpec(catalog, "hadoop", warehouse)
    if (conf.get(f"{prefix}.catalog-impl", None) or "").endswith("GlueCatalog"):
        return CatalogSpec(catalog, "glue", warehouse)
    return None


def metadata_location(spec: CatalogSpec, database: str, name: str) -> tuple[str | None, str | None]:
    """(the table's current metadata file, None) or (None, why it is not found here)."""
    if spec.catalog_type == "glue":
        import boto3

        glue = boto3.client("glue")
        try:
            table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return None, f"{database}.{name} is not in the Glue Data Catalog"
        location = (table.get("Parameters") or {}).get("metadata_location")
        return (location, None) if location else (None, f"{database}.{name} has no Iceberg metadata location")
    root = spec.warehouse.removeprefix("file://")
    if "://" in root:
        return None, f"Hadoop catalog on {spec.warehouse.split('://')[0]}:// (read by Spark)"
    meta = os.path.join(root, database, name, "metadata")
    try:
        with open(os.path.join(meta, "version-hint.text")) as f:
            version = int(f.read().strip())
    except (OSError, ValueError):
        return None, f"{database}.{name}: no version hint in {meta}"
    for candidate in (f"v{version}.metadata.json", f"v{version}.gz.metadata.json"):
        if os.path.exists(os.path.join(meta, candidate)):
            return os.path.join(meta, candidate), None
    return None, f"{database}.{name}: metadata version {version} not found in {meta}"


def static_reason(req, engine_name: str) -> str | None:
    """Why the request is not for this path, before anything is read (None: it may be)."""
    if engine_name != "postgresql":
        return f"{engine_name} source"
    if req.sample_percent < 100:
        return "sampled validation (its sample is chosen by key hash)"
    if req.row_hash_method != "auto":
        return f"row_hash_method {req.row_hash_method}"
    missing = restore_arrow.missing_libraries()
    return f"{', '.join(missing)} not importable" if missing else None


def spark_type(t) -> str | None:
    """The Spark name of an Iceberg type (None: a type the archive job does not write)."""
    from pyiceberg.types import DecimalType

    if isinstance(t, DecimalType):
        return f"decimal({t.precision},{t.scale})"
    return SPARK_TYPES.get(str(t))


# ---- the database's side ---------------------------------------------------------------------------------
def source_query(src, p: restore_hash.Plan, where: str) -> str:
    """One scan of the source rows ``where``: per bucket the row count, the row hash sum, the exact sums of the
    summed columns, every column's non-NULL count and the floats' min and max."""
    e = src.engine
    inner, outer = [f"{p.row_hash_sql} AS h"], [f"(h & {BUCKETS - 1})::int", "count(*)", "sum(h)"]
    for i, c in enumerate(src.columns):
        if c.numeric_sum:
            inner.append(f"{e.sum_input_sql(c)} AS s{i}")
            outer.append(f"sum(s{i})")
    for i, c in enumerate(src.columns):
        inner.append(f"{e.quote(c.name)} AS v{i}")
        outer.append(f"count(v{i})")
    for i, c in enumerate(src.columns):
        if c.float_minmax:
            inner.append(f"{e.double_sql(c)} AS f{i}")
            outer += [f"min(f{i})", f"max(f{i})"]
    ref = e.table_ref(src.schema, src.table)
    return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {ref} WHERE {where}) r GROUP BY 1"


@dataclass
class Side:
    """One side's figures: rows and row hash sums per bucket, per column non-NULL counts, exact sums (as
    Decimal) and float extremes ((min, max) over the non-NULL values, NaN greatest)."""

    buckets: dict
    non_null: list
    sums: dict
    extremes: dict


def source_side(connect, src, p: restore_hash.Plan) -> Side:
    db = connect()
    try:
        with db, db.cursor() as cur:
            wheres = restore_hash.page_halves(cur, src.engine.table_ref(src.schema, src.table))
    finally:
        db.close()
    parts = restore_hash.run_scans(connect, [source_query(src, p, w) for w in wheres])
    summed = [i for i, c in enumerate(src.columns) if c.numeric_sum]
    floats = [i for i, c in enumerate(src.columns) if c.float_minmax]
    n = len(src.columns)
    buckets: dict[int, tuple[int, int]] = {}
    non_null = [0] * n
    sums = {i: Decimal(0) for i in summed}
    lows: dict[int, list] = {i: [] for i in floats}
    highs: dict[int, list] = {i: [] for i in floats}
    for row in (r for part in parts for r in part):
        rows, total = buckets.get(int(row[0]), (0, 0))
        buckets[int(row[0])] = (rows + int(row[1]), total + int(row[2]))
        k = 3
        for i in summed:
            sums[i] += Decimal(row[k] or 0)
            k += 1
        for i in range(n):
            non_null[i] += int(row[k])
            k += 1
        for i in floats:
            if row[k] is not None:
                lows[i].append(float(row[k]))
                highs[i].append(float(row[k + 1]))
            k += 2
    extremes = {i: _pg_extremes(lows[i], highs[i]) for i in floats}
    return Side(buckets, non_null, sums, extremes)


def _pg_extremes(mins: list[float], maxes: list[float]) -> tuple:
    """(min, max) of a column from per-bucket mins and maxes as PostgreSQL orders floats (NaN greatest)."""
    if not mins:
        return (None, None)
    return (min(mins, key=_pg_order), max(maxes, key=_pg_order))


def _pg_order(v: float):
    return (1, 0.0) if math.isnan(v) else (0, v)


# ---- the archive's side ----------------------------------------------------------------------------------
class _Reader:
    """The archive side over some data files: bucket sums, non-NULL counts, exact sums, float extremes."""

    def __init__(self, p: restore_hash.Plan, n: int, summed: list[int], floats: list[int]):
        self.plan = p
        self.sums = restore_hash.BucketSums()
        self.non_null = [0] * n
        self.totals = dict.fromkeys(summed, 0)  # exact sums of the unscaled values
        self.floats = {i: [] for i in floats}

    def add(self, batch) -> None:
        import numpy as np
        import pyarrow.compute as pc

        if not batch.num_rows:
            return
        self.sums.add(restore_hash.row_hashes(self.plan, batch))
        for i in range(batch.num_columns):
            arr = batch.column(i)
            self.non_null[i] += len(arr) - arr.null_count
            if i in self.totals:
                self.totals[i] += exact_sum(arr)
            if i in self.floats:
                values = np.asarray(pc.drop_null(arr).to_numpy(zero_copy_only=False), np.float64)
                if len(values):
                    nan = np.isnan(values)
                    finite = values[~nan]
                    low = float(finite.min()) if len(finite) else math.nan
                    high = math.nan if nan.any() else float(finite.max())
                    self.floats[i].append((low, high))


def _file_batches(table, scan, task):
    """The record batches of one data file, streamed in BATCH_ROWS rows: read with pyarrow directly when its
    columns are the snapshot's (the same field ids in the same order, the file written with this schema), else
    through pyiceberg's scan (which maps columns by field id)."""
    import pyarrow.parquet as pq
    from pyiceberg.io.pyarrow import ArrowScan

    ids = [str(f.field_id) for f in scan.projection().fields]
    with table.io.new_input(task.file.file_path).open() as stream:
        pf = pq.ParquetFile(stream, buffer_size=READ_BUFFER)  # pages streamed, not whole column chunks
        found = [(f.metadata or {}).get(b"PARQUET:field_id", b"").decode() for f in pf.schema_arrow]
        if found == ids and not task.delete_files:
            yield from pf.iter_batches(batch_size=BATCH_ROWS, use_threads=False)
            return
    yield from ArrowScan(table.metadata, table.io, scan.projection(), scan.row_filter, True).to_record_batches([task])


def exact_sum(arr) -> int:
    """The exact sum of an integer or decimal128 column's values (a decimal's unscaled values), NULLs left out:
    every 64-bit word is summed as two 32-bit halves in int64 (exact below 2^31 rows per call), the halves
    put together as Python integers."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    t, n = arr.type, len(arr)
    if n == 0 or arr.null_count == n:
        return 0
    valid = np.asarray(arr.is_valid()) if arr.null_count else None
    if pa.types.is_integer(t):
        words = [np.asarray(pc.fill_null(arr, 0) if valid is not None else arr).astype(np.int64)]
    elif pa.types.is_decimal128(t):
        raw = np.frombuffer(arr.buffers()[1], "<i8")[2 * arr.offset : 2 * (arr.offset + n)]
        words = [raw[0::2], raw[1::2]]  # low (unsigned), high (signed)
        if valid is not None:
            words = [np.where(valid, w, 0) for w in words]
    else:
        raise TypeError(f"no exact sum for {t}")

    def halves(w, signed: bool) -> int:
        high = int((w >> 32).sum()) if signed else int((w.view(np.uint64) >> np.uint64(32)).astype(np.int64).sum())
        return (high << 32) + int((w & 0xFFFFFFFF).sum())

    if len(words) == 1:
        return halves(words[0], True)
    return (halves(words[1], True) << 64) + halves(words[0], False)


def archive_side(table, scan, tasks, p: restore_hash.Plan, src, schema) -> Side:
    memory.keep_freed_memory()
    floats = [i for i, c in enumerate(src.columns) if c.float_minmax]
    summed = [i for i, c in enumerate(src.columns) if c.numeric_sum]

    def run(part) -> _Reader:
        reader = _Reader(p, len(src.columns), summed, floats)
        for task in part:
            for batch in _file_batches(table, scan, task):
                reader.add(batch)
        return reader

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        readers = list(pool.map(run, [tasks[k::READ_THREADS] for k in range(READ_THREADS)]))
    total = readers[0].sums
    for r in readers[1:]:
        total.merge(r.sums)
    non_null = [sum(r.non_null[i] for r in readers) for i in range(len(src.columns))]
    sums = {}
    for i in summed:
        scale = getattr(schema[i].type, "scale", 0)
        sums[i] = Decimal(sum(r.totals[i] for r in readers)).scaleb(-scale)
    extremes = {}
    for i in floats:
        pairs = [x for r in readers for x in r.floats[i]]
        extremes[i] = _pg_extremes([a for a, _ in pairs], [b for _, b in pairs])
    return Side(total.totals(), non_null, sums, extremes)


# ---- the validation -----------------------------------------------------------------------------------
def validate_arrow(req, spec: CatalogSpec | None) -> tuple[dict | None, str]:
    """(the passed result, "") — or (None, why the Spark validation must run instead)."""
    started = time.monotonic()
    engine = engine_for(req.connection.engine)
    reason = static_reason(req, engine.name)
    if reason:
        return None, reason
    if spec is None:
        return None, "the catalog is not a Hadoop catalog or the Glue Data Catalog"
    name = req.archive_table or archive_table_name(req.schema, req.table)
    location, why = metadata_location(spec, req.database, name)
    if location is None:
        return None, why

    def connect():
        return restore_arrow.connect(req.connection, read_only=True, application_name="offload-validate")

    db = connect()  # a wrong password, an unreachable host …: the user error the jobs map (user_errors.py)
    try:
        with db, db.cursor() as cur:
            why = restore_hash.server_reason(cur)

            def query(sql: str, params: tuple = ()) -> list[tuple]:
                cur.execute(sql.replace("?", "%s"), params)
                return [tuple(None if v is None else str(v) for v in row) for row in cur.fetchall()]

            src = None if why else introspect_rows(query, req.connection, req.schema, req.read_table or req.table)
    finally:
        db.close()
    if why:
        return None, why

    from pyiceberg.io.pyarrow import schema_to_pyarrow
    from pyiceberg.table import StaticTable

    try:
        table = StaticTable.from_metadata(location, properties=restore_arrow.pyiceberg_properties())
    except Exception as exc:  # noqa: BLE001 — unreadable metadata: the Spark catalog's read reports it
        return None, f"reading the archive's metadata failed ({type(exc).__name__}: {str(exc)[:200]})"
    snapshot = table.snapshot_by_id(req.snapshot_id) if req.snapshot_id is not None else table.current_snapshot()
    if snapshot is None:
        return None, "the archive has no snapshot" if req.snapshot_id is None else f"no snapshot {req.snapshot_id}"
    props = table.metadata.properties
    from .validate import lineage_differences

    diffs = lineage_differences(req, engine.name, props)
    if diffs:
        return None, f"lineage differs: {', '.join(diffs)}"
    iceberg_schema = table.schemas()[snapshot.schema_id] if snapshot.schema_id is not None else table.schema()
    actual = [(f.name, spark_type(f.field_type)) for f in iceberg_schema.fields]
    if actual != [(c.name, c.archive_type) for c in src.columns]:
        return None, "the archive's schema differs from the source's plan"
    scan = table.scan(snapshot_id=snapshot.snapshot_id)
    tasks = list(scan.plan_files())
    deletes = sum(len(t.delete_files) for t in tasks)
    if deletes:
        return None, f"the snapshot has {deletes} delete file(s)"
    schema = schema_to_pyarrow(scan.projection(), include_field_ids=False)
    p, why = restore_hash.plan(src, schema)
    if p is None:
        return None, why
    import pyarrow as pa

    odd = [c.name for c, f in zip(src.columns, schema, strict=True) if c.numeric_sum
           and not (pa.types.is_integer(f.type) or pa.types.is_decimal128(f.type))]  # fmt: skip
    if odd:
        return None, f"column {odd[0]}: summed but archived as neither an integer nor a decimal"

    with ThreadPoolExecutor(max_workers=1) as pool:
        source_future = pool.submit(source_side, connect, src, p)
        try:
            archive = archive_side(table, scan, tasks, p, src, schema)
        except restore_hash.Unhashable as exc:
            source_future.cancel()
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 — a damaged or unreadable file: Spark's validation reports it
            source_future.cancel()
            return None, f"reading the archive failed ({type(exc).__name__}: {str(exc)[:300]})"
        try:
            source = source_future.result()
        except Exception as exc:  # noqa: BLE001 — the database refused a query (a value its functions reject)
            return None, f"the source's checksum query failed ({type(exc).__name__}: {str(exc).strip()[:300]})"
    differs = _differences(src, source, archive)
    if differs:
        return None, f"the arrow checks differ ({'; '.join(differs[:5])}): Spark names the keys"
    return _result(req, spec, name, props, snapshot.snapshot_id, src, source, archive, started), ""


def _differences(src, source: Side, archive: Side) -> list[str]:
    out = []
    n_s = sum(n for n, _ in source.buckets.values())
    n_a = sum(n for n, _ in archive.buckets.values())
    if n_s != n_a:
        out.append(f"row count {n_s} vs {n_a}")
    for i, c in enumerate(src.columns):
        if source.non_null[i] != archive.non_null[i]:
            out.append(f"column {c.name}: non-NULL count")
        if i in source.sums and source.sums[i] != archive.sums.get(i):
            out.append(f"column {c.name}: sum")
        if i in source.extremes and not all(
            _same_float(a, b) for a, b in zip(source.extremes[i], archive.extremes[i], strict=True)
        ):
            out.append(f"column {c.name}: min/max")
    bad = [b for b in set(source.buckets) | set(archive.buckets) if source.buckets.get(b) != archive.buckets.get(b)]
    if bad:
        out.append(f"{len(bad)} bucket(s) of row hashes")
    return out


def _same_float(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (math.isnan(a) and math.isnan(b)) or a == b


def _result(req, spec, name, props, snapshot_id, src, source: Side, archive: Side, started: float) -> dict:
    from .validate import _jsonable, key_plans, result_head

    rows = sum(n for n, _ in source.buckets.values())
    columns = []
    for i, c in enumerate(src.columns):
        checks = {"non_null_count": (source.non_null[i], archive.non_null[i])}
        if i in source.sums:
            none = not source.non_null[i]  # the sum of no value is NULL, as the database gives it
            checks["sum"] = (None if none else source.sums[i], None if none else archive.sums[i])
        if i in source.extremes:
            checks["min"] = (source.extremes[i][0], archive.extremes[i][0])
            checks["max"] = (source.extremes[i][1], archive.extremes[i][1])
        columns.append(
            {
                "name": c.name,
                "archive_type": c.archive_type,
                "hashed": True,
                "match": True,
                "checks": {k: {"source": _jsonable(a), "archive": _jsonable(b)} for k, (a, b) in checks.items()},
            }
        )
    return {
        **result_head(req, name, spec.catalog, props),
        "lineage": {"match": True, "differences": []},
        "archive_snapshot_id": snapshot_id,
        "schema": {"match": True, "differences": []},
        "row_count": {"source": rows, "archive": rows, "match": True},
        "columns": columns,
        "row_hash": {
            "buckets_compared": BUCKETS,
            "buckets_mismatched": 0,
            "differing_keys": 0,
            "keys": [],
            "truncated": False,
            "key_columns": [k.name for k in key_plans(src)],
            "excluded_columns": [],
            "method": "source_checksum",
        },
        "engine": ARROW,
        "seconds": round(time.monotonic() - started, 3),
    }
