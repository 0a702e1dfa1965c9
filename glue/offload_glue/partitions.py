"""How a source table is split into parallel reads: heap block ranges (PostgreSQL binary COPY),
ranges of an integer split column, or one partition. Shared by the archive and the validation, which
read the source in the same partitions."""

from __future__ import annotations

from dataclasses import dataclass

from . import copy_read
from .columns import ColumnPlan
from .errors import OffloadError
from .jdbc import JdbcSession
from .source_table import SourceTable


def choose_split_column(src: SourceTable, requested: str | None) -> ColumnPlan | None:
    integer = {p.name: p for p in src.columns if p.archive_type in ("int", "bigint") and not p.read_as_text}
    if requested:
        if requested not in integer:
            raise OffloadError(
                "bad_split_column",
                f"split column {requested!r} is not an integer column of {src.schema}.{src.table}",
                column=requested,
            )
        return integer[requested]
    return integer.get(src.primary_key[0]) if src.primary_key else None


def split_predicates(column_sql: str, lower: int, upper: int, n: int) -> list[str]:
    """``n`` range predicates covering every value (NULLs and values outside the bounds included)."""
    if n <= 1 or upper <= lower:
        return ["1 = 1"]
    step = max(1, -(-(upper - lower + 1) // n))
    cuts = list(range(lower + step, upper + 1, step))[: n - 1]
    preds = [f"{column_sql} < {cuts[0]} OR {column_sql} IS NULL"]
    preds += [f"{column_sql} >= {a} AND {column_sql} < {b}" for a, b in zip(cuts, cuts[1:])]
    preds.append(f"{column_sql} >= {cuts[-1]}")
    return preds


ROWS_PER_PARTITION = 250_000  # below this, another JDBC partition costs more than it saves


def default_partitions(spark, bounds: tuple[int, int] | None) -> int:
    """Twice Spark's parallelism, but no more than one partition per ROWS_PER_PARTITION key values."""
    if not bounds:
        return 1
    width = bounds[1] - bounds[0] + 1
    return max(1, min(2 * spark.sparkContext.defaultParallelism, -(-width // ROWS_PER_PARTITION)))


@dataclass(frozen=True)
class Partitioning:
    """How a source table is split into parallel reads: by heap block ranges (``blocks``: PostgreSQL
    binary COPY), by ranges of an integer split column, or not at all."""

    partitions: int
    split: ColumnPlan | None = None
    split_sql: str = ""  # the split column, quoted, on the source table
    bounds: tuple[int, int] | None = None
    blocks: int | None = None  # heap pages when split by block ranges

    def predicates(self, column_sql: str | None = None) -> list[str]:
        """One predicate per partition covering every row once; ``column_sql`` references the split
        column (default: ``split_sql``, the column on the source table)."""
        if self.blocks is not None:
            return copy_read.block_predicates(self.blocks, self.partitions)
        if self.split is None or self.bounds is None:
            return ["1 = 1"]
        return split_predicates(column_sql or self.split_sql, self.bounds[0], self.bounds[1], self.partitions)

    def summary(self) -> dict:
        if self.blocks is not None:
            return {
                "split_column": None,
                "split": "heap block ranges",
                "blocks": self.blocks,
                "partitions": self.partitions,
            }
        return {
            "split_column": self.split.name if self.split else None,
            "bounds": list(self.bounds) if self.bounds else None,
            "partitions": self.partitions if self.split is not None and self.bounds else 1,
        }


def plan_partitions(
    spark,
    src: SourceTable,
    *,
    path: str,
    split_column: str | None,
    num_partitions: int,
    lower: int | None = None,
    upper: int | None = None,
) -> Partitioning:
    """Block ranges when reading PostgreSQL by binary COPY (no index, no key needed: each partition
    is one TID range scan) unless a split column is asked for; else ranges of the split column (the
    first integer primary-key column by default), bounds from the arguments or min/max; else one."""
    if path == "copy" and not split_column:
        heap = copy_read.heap_size(spark, src)
        if heap is not None:
            pages, rows = heap
            n = num_partitions or default_partitions(spark, (1, max(rows, 1)))
            return Partitioning(partitions=max(1, min(n, pages)), blocks=pages)
    split = choose_split_column(src, split_column)
    if split is None:
        return Partitioning(partitions=1)
    q = src.engine.quote(split.name)
    if lower is not None and upper is not None:
        bounds = (lower, upper)
    else:
        with JdbcSession(spark, src.engine, src.connection) as js:
            lo, hi = js.query(f"SELECT min({q}), max({q}) FROM {src.engine.table_ref(src.schema, src.table)}")[0]
        bounds = (int(lo), int(hi)) if lo is not None else None
    return Partitioning(
        partitions=num_partitions or default_partitions(spark, bounds), split=split, split_sql=q, bounds=bounds
    )
