"""Archive one source table into one Iceberg table.

Guarantees:
  * atomic — the data and the table appear in one Iceberg commit (Spark's staged CREATE/REPLACE
    TABLE AS SELECT): a run killed at any point leaves either no table (or the previous archive of the
    same source) or the complete new one, never a partial table;
  * idempotent — a rerun with the run id of the archive already in place writes nothing; a new run
    of the same source replaces the archive atomically, so rows are never duplicated;
  * no silent overwrite — an existing table whose lineage names another source table (or none) is
    not replaced unless ``force_reason`` is given, which is then recorded in the lineage, and never
    while it is under legal hold;
  * the legal hold travels with the data — ``offload.legal_hold`` is written in the same commit, the
    stricter of the recorded and the given value (see hold.py);
  * faithful — each column is read through a per-column SELECT (see engines.py) and a value the
    Iceberg type cannot hold fails the job naming the column;
  * read-only — every source session is read-only (see engines.Engine.session_init_statements).
Preconditions: the source table does not change during the run (an aged table); the Iceberg catalog
is reachable and the archive namespace may be created.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import copy_read, hold, iceberg_table, timings
from .columns import ColumnPlan, spark_read_expr
from .dates import date_argument
from .engines import Connection
from .errors import OffloadError
from .fields import with_source_fields
from .iceberg_table import current_snapshot, set_properties, table_properties
from .jdbc import read_options
from .lineage import LINEAGE_PREFIX, SOURCE_KEYS, source_lineage
from .names import archive_table_name, spark_col, spark_ident
from .partitions import Partitioning, plan_partitions
from .source_table import SourceTable, introspect, read_source_raw, source_select


@dataclass
class ArchiveRequest:
    connection: Connection
    schema: str
    table: str
    run_id: str
    catalog: str = "offload"
    database: str = "archive"
    archive_table: str | None = None  # default: names.archive_table_name(schema, table)
    config_commit: str = ""
    policy: str = ""
    split_column: str | None = None  # default: the first integer primary-key column
    lower_bound: int | None = None
    upper_bound: int | None = None
    num_partitions: int = 0  # 0: twice Spark's default parallelism
    fetch_size: int = 10000  # JDBC read path only
    read_path: str = "auto"  # auto | copy (PostgreSQL binary COPY, see copy_read.py) | jdbc
    partition_spec: str | None = None  # e.g. "months(created_at)", "bucket(16, id)", "region"
    retention_until: str | None = None  # YYYY-MM-DD, recorded in lineage for the purge job
    force_reason: str | None = None
    legal_hold: bool | None = None  # the config's hold; None: not given (recorded as unknown, purge counts it held)
    legal_hold_reason: str | None = None
    extra_properties: dict = field(default_factory=dict)


def choose_read_path(spark, src: SourceTable, requested: str) -> str:
    """``copy`` (PostgreSQL binary COPY) when asked for or, with ``auto``, when the source is PostgreSQL,
    every column has a binary decoder and the data source jar is loaded; else ``jdbc``."""
    if requested not in ("auto", "copy", "jdbc"):
        raise OffloadError("bad_read_path", f"read path {requested!r} is not one of auto, copy, jdbc")
    if requested == "jdbc":
        return "jdbc"
    possible = src.engine.binary_copy and copy_read.supported(src.columns)
    if requested == "copy":
        if not possible:
            raise OffloadError(
                "bad_read_path",
                f"the copy read path needs a PostgreSQL source; {src.schema}.{src.table} is on {src.engine.name}",
            )
        if not copy_read.available(spark):
            raise OffloadError(
                "bad_read_path",
                f"the copy read path needs {copy_read.SOURCE_CLASS} on the class path "
                "(offload-pgcopy.jar: scripts/pyenv.sh builds it; on Glue pass it in --extra-jars)",
            )
        return "copy"
    return "copy" if possible and copy_read.available(spark) else "jdbc"


def read_source(
    spark, src: SourceTable, parts: Partitioning, *, fetch_size: int, where: str | None = None, path: str = "jdbc"
):
    """The source table as a DataFrame with the archive's column names and types."""
    engine = src.engine
    if path == "copy":
        return copy_read.read_source(spark, src, parts.predicates(), where)
    subquery = f"({source_select(src, where)}) offload_src"
    props = read_options(engine, src.connection, fetch_size)
    url = engine.url(src.connection)
    if parts.split is not None and parts.bounds is not None:
        df = spark.read.jdbc(
            url,
            subquery,
            predicates=parts.predicates(f"offload_src.{engine.quote(parts.split.alias)}"),
            properties=props,
        )
    else:
        df = spark.read.jdbc(url, subquery, properties=props)
    from pyspark.sql import functions as F

    return df.select(*[F.expr(spark_read_expr(p)).alias(p.name) for p in src.columns])


def lineage(req: ArchiveRequest, src: SourceTable, extracted_at: str) -> dict[str, str]:
    props = {
        **source_lineage(src.engine.name, req.connection, req.schema, req.table),
        "run_id": req.run_id,
        "config_commit": req.config_commit,
        "policy": req.policy,
        "extracted_at": extracted_at,
        "primary_key": json.dumps(src.primary_key),
        "columns": json.dumps([[p.name, p.source_type, p.archive_type] for p in src.columns], ensure_ascii=False),
    }
    if req.retention_until:
        props["retention_until"] = req.retention_until
    if req.force_reason:
        props["forced_reason"] = req.force_reason
    props.update({k: str(v) for k, v in req.extra_properties.items()})
    return {LINEAGE_PREFIX + k: v for k, v in props.items()}


_PARTITION = re.compile(r"^\s*(years|months|days|hours|bucket|truncate)\s*\(\s*(?:(\d+)\s*,\s*)?(.+?)\s*\)\s*$", re.I)


def partition_columns(spec: str | None, names: list[str]):
    """Parse the policy's partitioning, e.g. ``months(created_at)`` or ``bucket(16, id), region``."""
    from pyspark.sql import functions as F

    if not spec:
        return []
    out = []
    for part in [p for p in re.split(r",(?![^()]*\))", spec) if p.strip()]:
        m = _PARTITION.match(part)
        col_name = (m.group(3) if m else part).strip().strip('`"')
        if col_name not in names:
            raise OffloadError(
                "bad_partition_spec", f"partition column {col_name!r} is not a column of the table", column=col_name
            )
        c = F.col(spark_col(col_name))
        if not m:
            out.append(c)
            continue
        fn, n = m.group(1).lower(), m.group(2)
        if fn in ("bucket", "truncate"):
            if not n:
                raise OffloadError("bad_partition_spec", f"{fn} needs a width, e.g. {fn}(16, {col_name})")
            out.append(F.bucket(int(n), c) if fn == "bucket" else F.expr(f"truncate({n}, {spark_col(col_name)})"))
        else:
            out.append(getattr(F, fn)(c))
    return out


def archive(spark, req: ArchiveRequest) -> dict:
    """Archive ``req.schema.req.table``; returns the JSON summary (see the module docstring)."""
    started = time.monotonic()
    hold.check_flag(req.legal_hold, optional=True)
    date_argument(req.retention_until, "retention_until")
    extracted_at = datetime.now(UTC).isoformat(timespec="seconds")
    src = introspect(spark, req.connection, req.schema, req.table)
    timings.mark("source_metadata")
    name = req.archive_table or archive_table_name(req.schema, req.table)
    ident = spark_ident(req.catalog, req.database, name)
    new_lineage = lineage(req, src, extracted_at)

    existing = table_properties(spark, ident)
    timings.mark("archive_metadata")
    new_hold = hold.archive_hold_properties(existing, req.legal_hold, req.legal_hold_reason, req.config_commit)
    new_lineage.update(new_hold)  # after extra_properties: nothing else sets the hold
    if existing is not None:
        same_source = all(existing.get(LINEAGE_PREFIX + k) == new_lineage[LINEAGE_PREFIX + k] for k in SOURCE_KEYS)
        if not same_source and hold.is_held(existing):
            raise OffloadError(
                "legal_hold",
                f"archive {req.database}.{name} is under legal hold (recorded {existing.get(hold.HOLD)!r}) and came "
                "from another source; a force reason cannot replace it — the hold is lifted only by a reviewed "
                "config change (hold_table.py)",
                archive_table=f"{req.database}.{name}",
            )
        if not same_source and not req.force_reason:
            raise OffloadError(
                "lineage_mismatch",
                f"archive {req.database}.{name} exists and came from another source "
                f"({existing.get('offload.source.schema')}.{existing.get('offload.source.table')} on "
                f"{existing.get('offload.source.host')}); refusing to replace it without a force reason",
                archive_table=f"{req.database}.{name}",
            )
        if same_source and existing.get(LINEAGE_PREFIX + "run_id") == req.run_id:
            if any(existing.get(k) != v for k, v in new_hold.items()):  # a stricter hold than recorded
                set_properties(spark, ident, new_hold)
            snap = current_snapshot(spark, ident) or {}
            return _summary("unchanged", req=req, src=src, name=name, snap=snap, started=started)

    path = choose_read_path(spark, src, req.read_path)
    reads = plan_partitions(
        spark,
        src,
        path=path,
        split_column=req.split_column,
        num_partitions=req.num_partitions,
        lower=req.lower_bound,
        upper=req.upper_bound,
    )
    df = with_source_fields(spark, read_source(spark, src, reads, fetch_size=req.fetch_size, path=path), src.columns)

    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {spark_ident(req.catalog, req.database)}")
    timings.mark("plan")
    writer = df.writeTo(ident).using("iceberg")
    # zstd level 1: most of zstd's ratio at a fraction of the CPU of its default level 3
    props = {
        "format-version": "2",
        "write.format.default": "parquet",
        "write.parquet.compression-codec": "zstd",
        "write.parquet.compression-level": "1",
        "write.spark.fanout.enabled": "true",
        **new_lineage,
    }
    for k, v in props.items():
        writer = writer.tableProperty(k, v)
    for k, v in new_lineage.items():
        if k not in ("offload.columns", "offload.primary_key"):
            writer = writer.option(f"snapshot-property.{k}", v)
    parts = partition_columns(req.partition_spec, [p.name for p in src.columns])
    if parts:
        writer = writer.partitionedBy(*parts)
    try:
        writer.create() if existing is None else writer.replace()
    except Exception as exc:  # surface the column named by a failed cast, then every such column
        error = _column_error(exc)
        if isinstance(error, OffloadError) and error.code == "lossy_value":
            error = lossy_report(spark, src, req.fetch_size) or error
        raise error from exc
    timings.mark("read_write_commit")

    try:  # the table as just committed, through the catalog (no Spark job)
        meta = iceberg_table.metadata(spark, req.catalog, req.database, name)
        snap = (meta or {}).get("snapshot") or {}
        rows = int(snap.get("summary", {}).get("total-records", 0))
        # A metadata-only commit (no new snapshot): the count is also in the snapshot summary already.
        if meta is None or not iceberg_table.commit_properties(
            spark, req.catalog, req.database, name, {"offload.row_count": str(rows)}
        ):
            raise _concurrent()
    except Exception as exc:  # purged or replaced by another run right after this commit
        error = _column_error(exc)
        raise error from exc
    timings.mark("row_count_property")
    return _summary("archived", req=req, src=src, name=name, snap=snap, started=started, parts=reads, path=path)


# Iceberg/Glue failures that mean another run committed to the same table at the same moment.
# A table dropped while this run replaced it (a purge racing the archive) ends the same way.
_CONCURRENT = (
    "CommitFailedException",
    "AlreadyExistsException",
    "ConcurrentModificationException",
    "NoSuchTableException",
    "EntityNotFoundException",
)


def _concurrent() -> OffloadError:
    return OffloadError(
        "concurrent_commit",
        "another run committed to (or purged) this archive at the same moment; nothing of this run is visible: "
        "run it again",
        retryable=True,
    )


def _column_error(exc: Exception) -> Exception:
    text = str(exc)
    if isinstance(exc, OffloadError):
        return exc
    if any(name in text for name in _CONCURRENT):
        return _concurrent()
    m = re.search(
        r'column ("(?:[^"\\]|\\.)*") \((.*?)\): value \'(.*?)\' cannot be archived as (\S+) without loss', text
    )
    if m:
        return OffloadError("lossy_value", m.group(0), column=json.loads(m.group(1)))
    return exc


def lossy_report(spark, src: SourceTable, fetch_size: int) -> OffloadError | None:
    """After a value failed to convert: one JDBC pass over the source naming every column holding a
    value its archive type cannot hold, with the number of such rows and the key (in primary-key
    order) and text of the first one. ``None`` when the pass finds none."""
    from pyspark.sql import functions as F

    suspects = [p for p in src.columns if p.read_as_text]
    if not suspects:
        return None
    by_name = {p.name: p for p in src.columns}
    keys = [by_name[k] for k in src.primary_key if k in by_name]
    raw = read_source_raw(spark, src, fetch_size)

    def value(p: ColumnPlan) -> str:  # the archived value, NULL where it cannot be held
        return f"CAST({spark_col(p.alias)} AS {p.archive_type})"

    aggs = []
    for p in suspects:
        bad = f"({spark_col(p.alias)} IS NOT NULL AND {value(p)} IS NULL)"
        # named_struct compares field by field: the key columns in key order, then the text
        first = ", ".join([*(f"'k{j}', {value(k)}" for j, k in enumerate(keys)), f"'v', {spark_col(p.alias)}"])
        aggs += [
            F.expr(f"count_if({bad})").alias(f"n{p.index}"),
            F.expr(f"min(CASE WHEN {bad} THEN named_struct({first}) END)").alias(f"first{p.index}"),
        ]
    row = raw.agg(*aggs).collect()[0]
    found = []
    for p in suspects:
        if not row[f"n{p.index}"]:
            continue
        first = row[f"first{p.index}"]
        found.append(
            {
                "column": p.name,
                "source_type": p.source_type,
                "archive_type": p.archive_type,
                "rows": int(row[f"n{p.index}"]),
                "first_key": {k.name: first[f"k{j}"] for j, k in enumerate(keys)} or None,
                "value": first["v"],
            }
        )
    if not found:
        return None
    message = "; ".join(
        f"column {json.dumps(c['column'], ensure_ascii=False)} ({c['source_type']}): value '{c['value']}' cannot be "
        f"archived as {c['archive_type']} without loss ({c['rows']} rows"
        + (", first at " + ", ".join(f"{k}={v}" for k, v in c["first_key"].items()) if c["first_key"] else "")
        + ")"
        for c in found
    )
    return OffloadError("lossy_value", message, column=found[0]["column"], columns=found)


def _summary(
    status: str,
    *,
    req: ArchiveRequest,
    src: SourceTable,
    name: str,
    snap: dict,
    started: float,
    parts: Partitioning | None = None,
    path: str | None = None,
) -> dict:
    summary = snap.get("summary", {})
    return {
        "job": "archive",
        "status": status,
        "run_id": req.run_id,
        "archive_table": f"{req.database}.{name}",
        "catalog": req.catalog,
        "source": {**req.connection.public(), "schema": req.schema, "table": req.table},
        "rows": int(summary.get("total-records", 0)) if summary else 0,
        "snapshot_id": snap.get("snapshot_id"),
        "read": {
            **(parts.summary() if parts else {"split_column": None, "bounds": None, "partitions": 0}),
            "path": path,
            **({"fetch_size": req.fetch_size} if path == "jdbc" else {}),
        },
        "columns": [
            {
                "name": p.name,
                "source_type": p.source_type,
                "archive_type": p.archive_type,
                **({"mapping": p.mapping} if p.mapping else {}),
            }
            for p in src.columns
        ],
        "seconds": round(time.monotonic() - started, 3),
    }
