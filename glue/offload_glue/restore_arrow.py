"""The ``arrow`` write path of restore (PostgreSQL): no Spark in the data path.

Write: pyiceberg plans the snapshot's data files (the snapshot's own schema, columns matched by field id);
pyarrow reads them (C++, multi-threaded) and each record batch becomes rows of PostgreSQL's binary COPY format
when every column has one (restore_binary.py: no value formatted as text, none parsed) or else of its text
format, built in Arrow (text_batch: strings escaped, NULL as ``\\N``, bytea as hex text); they stream into
``COPY <staging> FROM STDIN`` over two connections (psycopg2; each loads a contiguous group of the data files
in order, in its own transaction): no temporary files, no text built per value in Python.

Validation, no weaker than the archive's: PostgreSQL streams the staging table back with
``COPY (SELECT …) TO STDOUT (FORMAT csv)`` (read-only transactions), in the forms the archive job reads (the
column plans of engines.py: the bpchar padding kept, money as numeric, timestamptz in UTC) and dates as days
since 1970; pyarrow's CSV reader parses them into the archive's Arrow types (decimals exactly, floats by
their bits). With two COPY streams, one scan per stream selects the rows its transaction wrote (``xmin``), the
last taking every row no earlier stream wrote (so a row anyone else wrote is read too); each stream's rows
are compared with the batches it sent, in the order sent — as read, or run by run in key order (PostgreSQL
hands two streams extending a table pages out of order) — value by value, every column of every row, the key
included, floats by bit pattern (NaN canonical, -0 apart from 0). Anything else (a stream not sent in key
order, a difference) goes to ``compare``: all rows put in key order and compared, the differing keys named.
Counts and aggregates (row count, non-NULL counts, exact sums of integers and decimals up to 28 digits) are
computed on both sides from the Arrow data and compared too. Any changed, missing, duplicated or extra row
fails the validation and is named by its key (up to ``max_reported_keys``), with the changed columns.
While PostgreSQL streams the table back, another connection builds the primary key's unique index (a SHARE
lock: reads go on); the constraint is attached to it (``USING INDEX``) only after the validation passed.

Applies when: PostgreSQL target, a primary key recorded in the lineage, a snapshot without delete files,
data files of at most ``max_bytes`` in all (memory: both sides are held as Arrow data while compared), and
pyiceberg, pyarrow and psycopg2 importable. Otherwise restore takes the Spark paths (``plan`` says why).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Context, Decimal
from functools import partial

from .engines import Connection, Engine
from .errors import OffloadError

DEFAULT_MAX_BYTES = 256 << 20  # data files of the snapshot, compressed Parquet
# COPY FROM STDIN streams, each loading a contiguous group of data files in order. Two interleave their rows
# in the heap (PostgreSQL hands both backends pages as they extend the table, not in order), so the read-back
# selects each stream's rows by its transaction and compares them run by run; one stream keeps the order but
# loads slower (measured: README).
WRITE_STREAMS = 2
QUEUE_BATCHES = 4  # record batches waiting for a COPY stream (bounds the write's memory beyond what is kept)
NAN32_BITS, NAN64_BITS = 0x7FC00000, 0x7FF8000000000000  # Java's canonical NaN, as validate.py's canonical texts
READ_BACK_OPTIONS = " -c default_transaction_read_only=on -c synchronize_seqscans=off"
SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3"


@dataclass
class ArrowPlan:
    table: object  # pyiceberg StaticTable
    scan: object  # its DataScan at the snapshot
    tasks: list
    data_bytes: int
    rows: int
    metadata_location: str


@dataclass
class Loaded:
    # the archive's record batches, kept for the comparison of values (empty when the write computed the
    # checksums: ``reload`` reads them again if the values path runs after all)
    batches: list = field(default_factory=list)
    rows: int = 0
    # per COPY stream, in order: (its transaction id, the batches it sent in the order sent)
    streams: list = field(default_factory=list)
    # the exact sums of the checksum plan's summed columns ({name: _aggregate's dict}), computed while writing
    aggregates: dict | None = None
    plan: object = None  # the ArrowPlan written, and the COPY streams' data files: (xid, [(index, task)])
    groups: list = field(default_factory=list)
    schema: object = None  # the record batches' Arrow schema (None: no row)
    # the archive side's checksums (restore_hash.BucketSums), computed by the readers while PostgreSQL loads,
    # or why they could not be (None, None: not asked for)
    hash_sums: object = None
    hash_error: str | None = None
    hash_seconds: float = 0.0


# ---- planning ----------------------------------------------------------------------------------------
def missing_libraries() -> list[str]:
    missing = []
    for module in ("pyiceberg", "pyarrow", "psycopg2"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return missing


def pyiceberg_properties(env: dict | None = None) -> dict[str, str]:
    """pyiceberg FileIO properties from the environment the Spark catalog uses (session.py): an S3 endpoint
    override (moto in the tests) and the region; credentials come from the default AWS chain."""
    from .session import iceberg_aws_properties

    props = {}
    for key, value in iceberg_aws_properties(env).items():
        if key == "s3.endpoint":
            props["s3.endpoint"] = value
        elif key == "client.region":
            props["s3.region"] = value
    return props


def metadata_location(spark, ident: str) -> str:
    """The archive's current metadata file (the last metadata log entry is the current one)."""
    rows = spark.sql(f"SELECT file FROM {ident}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1").collect()
    if not rows:
        raise OffloadError("archive_not_found", f"archive {ident} has no metadata file")
    return rows[0][0]


def plan(spark, ident: str, snapshot_id: int, max_bytes: int) -> tuple[ArrowPlan | None, str | None]:
    """(the plan, None) when the arrow path applies to this snapshot, else (None, why not)."""
    missing = missing_libraries()
    if missing:
        return None, f"{', '.join(missing)} not importable"
    from pyiceberg.table import StaticTable

    location = metadata_location(spark, ident)
    table = StaticTable.from_metadata(location, properties=pyiceberg_properties())
    scan = table.scan(snapshot_id=snapshot_id)
    tasks = list(scan.plan_files())
    deletes = sum(len(t.delete_files) for t in tasks)
    if deletes:
        return None, f"the snapshot has {deletes} delete file(s) (row-level deletes are applied by Spark)"
    size = sum(t.file.file_size_in_bytes for t in tasks)
    if size > max_bytes:
        return None, f"the snapshot's data files hold {size} bytes, more than the arrow path's limit of {max_bytes}"
    rows = sum(t.file.record_count for t in tasks)
    return ArrowPlan(table, scan, tasks, size, rows, location), None


def _record_batches(p: ArrowPlan, task):
    from pyiceberg.io.pyarrow import ArrowScan

    scan = ArrowScan(p.table.metadata, p.table.io, p.scan.projection(), p.scan.row_filter, True)
    yield from scan.to_record_batches([task])


def connect(conn: Connection, read_only: bool = False, application_name: str = "offload-restore"):
    import psycopg2

    # read-back sessions: read-only, and each scan from its first page (a synchronized scan would start where a
    # concurrent one is, out of the heap's order)
    options = SESSION_OPTIONS + (READ_BACK_OPTIONS if read_only else "")
    return psycopg2.connect(
        host=conn.host,
        port=conn.port,
        dbname=conn.database,
        user=conn.user,
        password=conn.password,
        application_name=application_name,
        client_encoding="UTF8",
        options=options,
    )


# ---- write -------------------------------------------------------------------------------------------
HEX = None  # the hex digits of each byte value (hex_text)


def hex_text(arr, prefix: str = "\\x"):
    """A binary array as PostgreSQL's bytea hex input (``prefix``, ``\\x``, and two lower-case hex digits a
    byte), vectorized in Arrow over the array's buffers (each byte taken from a 256-entry table); NULL stays
    NULL."""
    import pyarrow as pa
    import pyarrow.compute as pc

    global HEX
    if HEX is None:
        HEX = pa.array([f"{i:02x}".encode() for i in range(256)], pa.binary(2))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_binary())
    validity, offsets_buf, data = arr.buffers()
    offsets = pa.Array.from_buffers(pa.int64(), arr.offset + len(arr) + 1, [None, offsets_buf])
    end = offsets[-1].as_py()
    raw = pa.Array.from_buffers(pa.uint8(), end, [None, data]) if end else pa.array([], pa.uint8())
    digits = HEX.take(raw).buffers()[1] if end else pa.py_buffer(b"")
    doubled = pc.multiply(offsets, 2).buffers()[1]
    out = pa.LargeStringArray.from_buffers(len(arr), doubled, digits, validity, arr.null_count, arr.offset)
    return pc.binary_join_element_wise(pa.scalar(prefix, pa.large_string()), out, pa.scalar("", pa.large_string()))


TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first


def _value_bytes(arr) -> bytes:
    """The bytes of a string array's values, all of them back to back (one copy of its data buffer)."""
    import pyarrow as pa

    arr = arr.cast(pa.large_string()) if pa.types.is_string(arr.type) else arr
    offsets = pa.Array.from_buffers(pa.int64(), len(arr) + 1, [None, arr.buffers()[1]], offset=arr.offset)
    return arr.buffers()[2][offsets[0].as_py() : offsets[-1].as_py()].to_pybytes() if len(arr) else b""


def text_column(arr):
    """One column as the values of PostgreSQL's COPY text format, and whether a value holds a ``"``: NULL as
    ``\\N``; strings with backslash, tab, newline and carriage return escaped (only when the column holds one);
    binaries as bytea hex text (``\\\\x…``, its backslash escaped); every other type as Arrow's own cast to
    text, the text pyarrow's CSV writer writes (floats shortest round-trip with inf/nan, decimals, ISO dates and
    timestamps, ``Z`` for UTC) — left to that writer when the column has no NULL."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    quote = False
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        out = hex_text(arr, "\\\\x")
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        out, data = arr, _value_bytes(arr)  # searched byte by byte (memchr): much faster than a regex per value
        for char, escaped in TEXT_ESCAPES:
            if char.encode() in data:
                out = pc.replace_substring(out, char, escaped)
        quote = b'"' in data
    elif arr.null_count:
        out = arr.cast(pa.large_string())
    else:
        return arr, False
    return (pc.fill_null(out, "\\N") if out.null_count else out), quote


def text_batch(batch) -> bytes:
    """One record batch as rows of PostgreSQL's COPY text format (fields joined by a tab, a newline after each
    row), built in Arrow: no text per value in Python. pyarrow's CSV writer joins the fields (tab-delimited,
    never quoting) unless a value holds a ``"``, which that writer refuses unquoted: then Arrow joins them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if not batch.num_rows:
        return b""
    cols, quotes = zip(*(text_column(c) for c in batch.columns), strict=True)
    if not any(quotes):
        out = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
        pacsv.write_csv(pa.RecordBatch.from_arrays(list(cols), names=[f"c{i}" for i in range(len(cols))]), out, options)
        return out.getvalue().to_pybytes()
    cols = [c if pa.types.is_large_string(c.type) else c.cast(pa.large_string()) for c in cols]
    nl, empty, tab = (pa.scalar(x, pa.large_string()) for x in ("\n", "", "\t"))
    cols[-1] = pc.binary_join_element_wise(cols[-1], nl, empty)
    rows = pc.binary_join_element_wise(*cols, tab) if len(cols) > 1 else cols[0]
    offsets = pa.Array.from_buffers(pa.int64(), len(rows) + 1, [None, rows.buffers()[1]], offset=rows.offset)
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return rows.buffers()[2][start:end].to_pybytes()


class _TextStream:
    """The file psycopg2's COPY FROM STDIN reads: the COPY texts of the record batches, taken from a shared queue
    (their reader formats them, so PostgreSQL never waits for the formatting)."""

    def __init__(self, batches: queue.Queue, stop: threading.Event):
        self.batches, self.stop, self.done = batches, stop, False

    def read(self, size: int = -1) -> bytes:
        while not self.done:
            try:
                item = self.batches.get(timeout=0.5)
            except queue.Empty:
                if self.stop.is_set():
                    raise OffloadError("restore_write_failed", "the archive reader stopped") from None
                continue
            if item is None:
                self.done = True
                break
            if isinstance(item, BaseException):
                raise item
            if item:
                return item
        return b""


def release_memory_promptly() -> None:
    """Arrow's jemalloc pool keeps freed memory for a while; the arrow path frees large buffers phase by
    phase, so it asks for them to go back at once (no effect on another allocator)."""
    import pyarrow as pa

    try:
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, pa.ArrowNotImplementedError, AttributeError):
        pass


def split_tasks(tasks: list, streams: int) -> list[list[tuple[int, object]]]:
    """The data files in order, cut into up to ``streams`` contiguous groups of about equal row counts (a file
    goes to the group its middle row falls in)."""
    streams = max(1, min(streams, len(tasks)))
    total = sum(t.file.record_count for t in tasks) or 1
    groups: list[list] = [[] for _ in range(streams)]
    seen = 0
    for i, t in enumerate(tasks):
        g = min(streams - 1, (2 * seen + t.file.record_count) * streams // (2 * total))
        g = max(g, max((k for k in range(streams) if groups[k]), default=0))  # contiguous, in order
        groups[g].append((i, t))
        seen += t.file.record_count
    return [g for g in groups if g]


def write(p: ArrowPlan, engine: Engine, conn: Connection, schema: str, table: str, names: list[str],
          hash_plan=None, encoders=None) -> tuple:  # fmt: skip
    """COPY every row of the snapshot into ``schema.table``: the data files are cut into two contiguous groups
    (split_tasks), each read in order by its own reader and streamed into its own COPY — in PostgreSQL's binary
    format when ``encoders`` (restore_binary.py), else its text format; with ``hash_plan``
    (restore_hash.Plan) each reader also hashes every batch it handed over while PostgreSQL loads it (the
    archive side of the checksums) and sums the summed columns, and no batch is kept (``reload`` reads them
    again when the values are compared after all); without it every batch is kept for the comparison.
    Returns (the Loaded: the batches in data file order or none, the checksums, the sums; the summary)."""
    if hash_plan is None:  # every batch is kept: the memory goes back as soon as they are dropped
        release_memory_promptly()
    columns = ", ".join(engine.quote(n) for n in names)
    sql = f"COPY {engine.table_ref(schema, table)} ({columns}) FROM STDIN"  # the text format
    if encoders is not None:
        from . import restore_binary

        sql += " (FORMAT binary)"
        build = partial(restore_binary.binary_batch, encoders)
    else:
        build = text_batch
    groups = split_tasks(p.tasks, WRITE_STREAMS)
    per_task: dict[int, list] = {}
    keep = hash_plan is None
    summed = [] if keep else [(i, f.name) for i, f in enumerate(hash_plan.fields) if f.sum_sql]
    partials: dict[str, list] = {name: [] for _, name in summed}
    counted = [0]
    first_schema: list = []
    stop = threading.Event()
    lock = threading.Lock()
    read_seconds, csv_seconds = [0.0], [0.0]
    hashing = {"sums": [], "error": None, "seconds": 0.0}

    def put(q: queue.Queue, item) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def produce(group: list, q: queue.Queue) -> None:
        spent = formatting = hashed = 0.0
        rows = 0
        mine: dict[str, list] = {name: [] for _, name in summed}
        sums = None
        if hash_plan is not None:
            from . import restore_hash

            sums = restore_hash.BucketSums()
        try:
            if encoders is not None:
                put(q, restore_binary.HEADER)
            for i, task in group:
                if stop.is_set():
                    break
                kept = per_task.setdefault(i, [])
                it = _record_batches(p, task)
                while True:
                    t0 = time.monotonic()
                    batch = next(it, None)
                    spent += time.monotonic() - t0
                    if batch is None:
                        break
                    if batch.num_rows:
                        rows += batch.num_rows
                        if not first_schema:
                            first_schema.append(batch.schema)
                        if keep:
                            kept.append(batch)
                        for ci, name in summed:
                            mine[name].append(_partial(batch.column(ci)))
                        t0 = time.monotonic()
                        text = build(batch)
                        formatting += time.monotonic() - t0
                        put(q, text)
                        if sums is not None:
                            t0 = time.monotonic()
                            try:
                                sums.add(restore_hash.row_hashes(hash_plan, batch))
                            except restore_hash.Unhashable as exc:
                                hashing["error"], sums = str(exc), None
                            hashed += time.monotonic() - t0
            if encoders is not None and not stop.is_set():
                put(q, restore_binary.TRAILER)
        except BaseException as exc:  # noqa: BLE001 — handed to its COPY stream, which fails with it
            put(q, exc)
        finally:
            with lock:
                counted[0] += rows
                for name, parts in mine.items():
                    partials[name].extend(parts)
                read_seconds[0] += spent
                csv_seconds[0] += formatting
                hashing["seconds"] += hashed
                if sums is not None:
                    hashing["sums"].append(sums)
            put(q, None)

    def consume(q: queue.Queue) -> int:
        stream = _TextStream(q, stop)
        db = connect(conn)
        try:
            with db, db.cursor() as cur:
                cur.copy_expert(sql, stream, size=1 << 20)
                # the rows' xmin: the read-back selects this stream's rows by it, in the order they were sent
                cur.execute("SELECT pg_current_xact_id()::text")
                return int(cur.fetchone()[0]) & 0xFFFFFFFF
        finally:
            db.close()

    started = time.monotonic()
    queues = [queue.Queue(maxsize=QUEUE_BATCHES) for _ in groups]
    with ThreadPoolExecutor(max_workers=2 * len(groups) or 1) as pool:
        producers = [pool.submit(produce, g, q) for g, q in zip(groups, queues, strict=True)]
        consumers = [pool.submit(consume, q) for q in queues]
        try:
            wait(consumers, return_when=FIRST_EXCEPTION)  # one COPY failed: the other stops too
            xids = [c.result() for c in consumers]
        finally:
            stop.set()
            for f in producers:
                f.result()
    loaded = Loaded([b for i in sorted(per_task) for b in per_task[i]], plan=p, groups=list(zip(xids, groups)))
    loaded.rows = counted[0]
    loaded.schema = first_schema[0] if first_schema else None
    if keep:
        loaded.streams = [(x, [b for i, _ in g for b in per_task.get(i, [])]) for x, g in loaded.groups]
    else:
        types = {f.name: f.type for f in arrow_schema(p)}
        loaded.aggregates = {name: _final(partials[name], types[name]) for _, name in summed}
    if hash_plan is not None:
        loaded.hash_error, loaded.hash_seconds = hashing["error"], hashing["seconds"]
        if loaded.hash_error is None:
            loaded.hash_sums = hashing["sums"][0]
            for more in hashing["sums"][1:]:
                loaded.hash_sums.merge(more)
    return loaded, {
        "path": "arrow",
        "data_files": len(p.tasks),
        "data_bytes": p.data_bytes,
        "copy_streams": len(groups),
        "copy_format": "text" if encoders is None else "binary",
        "rows": loaded.rows,
        "archive_read_seconds": round(read_seconds[0], 3),  # summed over the readers
        # summed over the readers, which build the COPY data (text or binary) while PostgreSQL loads it
        "csv_seconds": round(csv_seconds[0], 3),
        "hash_seconds": round(hashing["seconds"], 3),  # summed over the readers: the archive side's checksums
        "copy_seconds": round(time.monotonic() - started, 3),
    }


def reload(loaded: Loaded) -> None:
    """Reads the written snapshot's record batches again, per COPY stream in the order it sent them (the same
    data files in the same order give the same batches): for the values path after a write that kept none."""
    loaded.streams = []
    per_task: dict[int, list] = {}
    for xid, group in loaded.groups:
        for i, task in group:
            per_task[i] = [b for b in _record_batches(loaded.plan, task) if b.num_rows]
        loaded.streams.append((xid, [b for i, _ in group for b in per_task[i]]))
    loaded.batches = [b for i in sorted(per_task) for b in per_task[i]]


# ---- read back and compare -------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadColumn:
    name: str
    sql: str  # what PostgreSQL sends for it
    arrow_type: object  # what pyarrow parses it as


def read_columns(src, archive_schema) -> list[ReadColumn]:
    """Per column: the SELECT expression (the archive job's select_sql, dates as days since 1970) and the
    Arrow type PostgreSQL's text is parsed into (the archive's, or the normalized form compared)."""
    import pyarrow as pa

    out = []
    for p, f in zip(src.columns, archive_schema, strict=True):
        q = src.engine.quote(p.name)
        t = f.type
        if pa.types.is_date(t):
            out.append(ReadColumn(p.name, f"({q} - date '1970-01-01')", pa.int32()))
        elif pa.types.is_timestamp(t):
            sql = f"({q} AT TIME ZONE 'UTC')" if t.tz else q
            out.append(ReadColumn(p.name, sql, pa.timestamp("us")))
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
            out.append(ReadColumn(p.name, q, pa.large_string()))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            out.append(ReadColumn(p.name, p.select_sql, pa.large_string()))
        elif pa.types.is_decimal(t):  # numeric's own output (the same text as ::text, one cast less)
            out.append(ReadColumn(p.name, p.select_sql.removesuffix("::text"), t))
        else:  # integers, floats, booleans: the value's own output
            out.append(ReadColumn(p.name, q, t))
    return out


def read_back_filters(xids: list[int], pages: int) -> list[list[str]]:
    """The read-back's scans, grouped per COPY stream: with several streams, one scan per stream selecting its
    rows by the transaction that wrote them (``xmin``; its rows come in heap order, the order it sent them,
    unless PostgreSQL placed one in an earlier page), the last stream's scan taking every row no earlier
    stream wrote (so any other row — written by anyone else — is read too, and each row exactly once); with
    one stream, the two halves of the table's pages (TID range scans), which in order are its rows."""
    if len(xids) > 1:
        mine = [f"xmin = '{x}'::xid" for x in xids[:-1]]
        return [[w] for w in mine] + [[f"NOT ({' OR '.join(mine)})"]]
    cut = (pages + 1) // 2
    return [[f"ctid < '({cut},0)'::tid", f"ctid >= '({cut},0)'::tid"]] if pages > 1 else [["true"]]


def _read_back(engine: Engine, conn: Connection, schema: str, table: str, cols: list[ReadColumn], xids: list[int]):
    """The staging table from PostgreSQL as Arrow tables (columns in table order), one per COPY stream
    (read_back_filters): together every row of the table, each once; all scans run at once."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    ref = engine.table_ref(schema, table)
    db = connect(conn, read_only=True)
    try:
        with db, db.cursor() as cur:
            cur.execute("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", (ref,))
            pages = int(cur.fetchone()[0])
    finally:
        db.close()
    select = ", ".join(f"{c.sql} AS {engine.quote(f'c{i}')}" for i, c in enumerate(cols))
    groups = read_back_filters(xids, pages)
    wheres = [w for g in groups for w in g]
    names = [f"c{i}" for i in range(len(cols))]
    options = dict(
        read_options=pacsv.ReadOptions(column_names=names, block_size=8 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: c.arrow_type for n, c in zip(names, cols, strict=True)},
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )

    def part(where: str):
        r, w = os.pipe()
        reader, writer = os.fdopen(r, "rb"), os.fdopen(w, "wb")
        failure: list = []

        def stream() -> None:
            db = connect(conn, read_only=True)
            try:
                with db, db.cursor() as cur:
                    cur.copy_expert(f"COPY (SELECT {select} FROM {ref} WHERE {where}) TO STDOUT (FORMAT csv)", writer)
            except BaseException as exc:  # noqa: BLE001 — raised by the reader's side
                failure.append(exc)
            finally:
                writer.close()
                db.close()

        t = threading.Thread(target=stream, daemon=True)
        t.start()
        try:
            got = pacsv.read_csv(reader, **options)
        except pa.ArrowInvalid as exc:
            got = exc
        finally:
            reader.close()
            t.join()
        if failure:
            raise failure[0]
        if isinstance(got, Exception):
            raise OffloadError(
                "restore_readback_unparsable",
                f"a value of {ref} read back from PostgreSQL does not parse as the archive's type: {got}",
            )
        return got

    with ThreadPoolExecutor(max_workers=len(wheres)) as pool:
        parts = iter(list(pool.map(part, wheres)))
    empty = pa.table({n: pa.array([], c.arrow_type) for n, c in zip(names, cols, strict=True)})
    return [pa.concat_tables([empty, *(next(parts) for _ in g)]).rename_columns([c.name for c in cols]) for g in groups]


def _normalized(arr, archive_type, restored_side: bool, keep_chunks: bool = False):
    """The column in the form both sides are compared in: floats by their bit pattern (NaN canonical),
    dates as days, timestamps as microseconds, binaries as hex text, strings as large strings. A chunked
    column is combined into one array unless ``keep_chunks`` and its type needs no conversion."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = archive_type
    plain = not (pa.types.is_floating(t) or pa.types.is_date(t) or pa.types.is_timestamp(t))
    plain = plain and not (pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_string(t))
    if keep_chunks and plain and isinstance(arr, pa.ChunkedArray):
        return arr
    arr = _combined(arr)
    if pa.types.is_floating(t):
        bits, nan = (pa.int32(), NAN32_BITS) if pa.types.is_float32(t) else (pa.int64(), NAN64_BITS)
        return pc.if_else(pc.is_nan(arr), pa.scalar(nan, bits), arr.view(bits))
    if pa.types.is_date(t):
        return arr if restored_side else arr.view(pa.int32())
    if pa.types.is_timestamp(t):
        return arr.view(pa.int64())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return arr if restored_side else hex_text(arr)
    if pa.types.is_string(t):
        return arr.cast(pa.large_string())
    return arr


def _combined(arr):
    import pyarrow as pa

    if not isinstance(arr, pa.ChunkedArray):
        return arr
    return arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()


LOW32 = (1 << 32) - 1
EXACT = Context(prec=100)  # decimal arithmetic that never rounds these sums (below 10^40)


def _partial(arr) -> tuple[int, int | None]:
    """(the non-NULL count, the exact sum as a Python integer — of the unscaled values for a decimal up to 28
    digits; None for another type) of one column's values: parts of a column that ``_final`` adds up."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t, count = arr.type, len(arr) - arr.null_count
    if pa.types.is_int64(t):  # summed as high and low 32-bit halves: no int64 sum can overflow
        hi, lo = pc.sum(pc.shift_right(arr, 32)).as_py() or 0, pc.sum(pc.bit_wise_and(arr, LOW32)).as_py() or 0
        return count, (hi << 32) + lo
    if pa.types.is_integer(t):
        return count, pc.sum(arr.cast(pa.int64())).as_py() or 0
    if pa.types.is_decimal(t) and t.precision <= 28:  # a 128-bit sum: exact below 10^38
        total = pc.sum(arr).as_py()
        return count, 0 if total is None else int(total.scaleb(t.scale, context=EXACT))
    return count, None


def _final(parts: list, t) -> dict:
    """The non-NULL count and (integers, decimals up to 28 digits) the exact sum of a column from its parts."""
    import pyarrow as pa

    count = sum(c for c, _ in parts)
    agg = {"non_null_count": count}
    total = sum(s or 0 for _, s in parts)
    if pa.types.is_integer(t):
        agg["sum"] = str(total)
    elif pa.types.is_decimal(t) and t.precision <= 28:  # the decimal's text at its scale, as PostgreSQL prints it
        agg["sum"] = format(Decimal(total).scaleb(-t.scale, context=EXACT), "f") if count else None
    return agg


def _aggregate(arr, t) -> dict:
    """The non-NULL count and (integers, decimals up to 28 digits) the exact sum of one column (raw values)."""
    chunks = arr.chunks if hasattr(arr, "chunks") else [arr]
    return _final([_partial(c) for c in chunks] or [(0, 0)], t)


def _key_order(table, schema_by_name, key: list[str], restored_side: bool):
    """The permutation putting ``table`` in key order, or None when it already is (a single key, strictly
    ascending: what the archive's files usually hold)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = [_normalized(table.column(k), schema_by_name[k], restored_side) for k in key]
    n = len(cols[0]) if cols else 0
    if len(cols) == 1 and cols[0].null_count == 0:
        if n < 2 or pc.all(pc.less(cols[0].slice(0, n - 1), cols[0].slice(1))).as_py():
            return None
        return pc.sort_indices(cols[0])
    return pc.sort_indices(pa.table(dict(zip(key, cols, strict=True))), sort_keys=[(k, "ascending") for k in key])


def _ordered(arr, order):
    return arr if order is None else arr.take(order)


def compare(archive, restored, archive_schema, key: list[str], max_keys: int = 20) -> dict:
    """Every row of ``restored`` (read back, read_columns' types) against ``archive`` by ``key``: the result
    dict of the validation (status passed only when every value of every row is equal). Column by column
    (one column of each side in its compared form at a time), after one sort of the keys."""
    import pyarrow as pa
    import pyarrow.compute as pc

    result: dict = {"mismatches": []}
    n_a, n_r = archive.num_rows, restored.num_rows
    result["row_count"] = {"source": n_r, "archive": n_a, "match": n_r == n_a}
    if n_r != n_a:
        result["mismatches"].append("row_count")
    by_name = {f.name: f.type for f in archive_schema}
    ia = _key_order(archive, by_name, key, False)
    ir = _key_order(restored, by_name, key, True)
    aligned = n_a == n_r
    if aligned:
        keys_r = []
        for k in key:
            x = _ordered(_normalized(archive.column(k), by_name[k], False), ia)
            y = _ordered(_normalized(restored.column(k), by_name[k], True), ir)
            aligned = aligned and x.equals(y)
            keys_r.append(y)
        aligned = aligned and not _has_duplicates(keys_r)
        del keys_r
    differs = False
    columns = []
    for f in archive_schema:
        # the archive side stays in its chunks when already in key order (ChunkedArray.equals ignores chunking)
        raw_a = archive.column(f.name) if ia is None else _combined(archive.column(f.name))
        raw_r = _combined(restored.column(f.name))
        a, r = _aggregate(raw_a, f.type), _aggregate(raw_r, f.type)
        ok = a == r
        columns.append({"name": f.name, "archive_type": str(f.type), "match": ok, "checks": {
            k: {"source": r[k], "archive": a[k]} for k in a}})  # fmt: skip
        if not ok:
            result["mismatches"].append(f"column:{f.name}")
        if aligned and not differs:
            x = _ordered(_normalized(raw_a, f.type, False, keep_chunks=ia is None), ia)
            y = _ordered(_normalized(raw_r, f.type, True), ir)
            if isinstance(x, pa.ChunkedArray):
                y = pa.chunked_array([y], type=y.type)
            if not x.equals(y):
                d = pc.or_(pc.fill_null(pc.not_equal(x, y), False), pc.xor(pc.is_null(x), pc.is_null(y)))
                differs = bool(pc.any(d).as_py())
    result["columns"] = columns
    rows = {"compared": "every row by key, every column", "key_columns": key, "differing_keys": 0, "keys": []}
    rows["already_in_key_order"] = {"archive": ia is None, "restored": ir is None}  # else sorted here
    if not aligned or differs:
        result["mismatches"].append("rows")
        norm_a = pa.table({f.name: _normalized(archive.column(f.name), f.type, False) for f in archive_schema})
        norm_r = pa.table({f.name: _normalized(restored.column(f.name), f.type, True) for f in archive_schema})
        rows.update(_differences(norm_a, norm_r, archive_schema, key, max_keys))
    result["rows"] = rows
    result["status"] = "passed" if not result["mismatches"] else "failed"
    return result


def key_permutation(sent, read, by_name: dict, key: list[str]):
    """The positions of ``read``'s rows in key order when ``sent`` is in it (a single key, strictly ascending:
    what the archive's files usually hold) — PostgreSQL hands two streams that extend the table at once pages
    out of order, so a stream's rows come back as runs of pages in another order; None when ``sent`` is not
    in key order (the comparison then falls back to ``compare``)."""
    import pyarrow.compute as pc

    if len(key) != 1:
        return None
    (k,) = key
    ks = _normalized(sent.column(k), by_name[k], False)
    n = len(ks)
    if ks.null_count or (n > 1 and not pc.all(pc.less(ks.slice(0, n - 1), ks.slice(1))).as_py()):
        return None
    return pc.sort_indices(_normalized(read.column(k), by_name[k], True))


def _runs(order, n: int) -> list[tuple[int, int, int]]:
    """(position in the sent order, position in the read-back, length) of each run of rows the read-back holds
    contiguously in the sent order: one run when ``order`` is None (the read-back as sent)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if order is None or n == 0:
        return [(0, 0, n)] if n else []
    order = order.cast(pa.int64())  # sort_indices gives uint64: a step back must not wrap
    steps = pc.subtract(order.slice(1), order.slice(0, n - 1))
    starts = [0, *(i + 1 for i in pc.indices_nonzero(pc.not_equal(steps, 1)).to_pylist())]
    at = pc.take(order, pa.array(starts, pa.int64())).to_pylist()
    return [(s, r, e - s) for s, r, e in zip(starts, at, [*starts[1:], n], strict=True)]


def compare_in_write_order(sent: list, read: list, archive_schema, key: list[str], orders: list | None = None):
    """The validation when every COPY stream's rows, read back, are the rows it sent in the sent order — as
    read, or through ``orders`` (key_permutation; compared run by run, nothing reordered): as many rows, and
    every value of every row equal position by position, the key's columns included (so by key). Else None:
    then ``compare`` puts all rows in key order and names the keys. Counts and aggregates over all streams, as
    ``compare`` computes them."""
    import pyarrow as pa

    by_name = {f.name: f.type for f in archive_schema}
    orders = orders or [None] * len(sent)
    if len(sent) != len(read) or any(a.num_rows != r.num_rows for a, r in zip(sent, read, strict=True)):
        return None
    runs = [_runs(o, a.num_rows) for o, a in zip(orders, sent, strict=True)]

    def same(name: str, a, r, stream_runs) -> bool:
        x = _normalized(a.column(name), by_name[name], False, keep_chunks=True)
        y = _normalized(r.column(name), by_name[name], True, keep_chunks=True)
        x = x if isinstance(x, pa.ChunkedArray) else pa.chunked_array([x], type=x.type)
        y = y if isinstance(y, pa.ChunkedArray) else pa.chunked_array([y], type=y.type)
        if len(stream_runs) == 1:
            return x.equals(y)
        return all(x.slice(s, n).equals(y.slice(t, n)) for s, t, n in stream_runs)

    names = [*key, *(f.name for f in archive_schema if f.name not in key)]  # the key first: a wrong order ends it
    for name in names:
        if not all(same(name, a, r, u) for a, r, u in zip(sent, read, runs, strict=True)):
            return None
    n = sum(a.num_rows for a in sent)
    result: dict = {"mismatches": [], "row_count": {"source": n, "archive": n, "match": True}}
    columns = []
    for f in archive_schema:
        a = _aggregate(pa.chunked_array([c for t in sent for c in t.column(f.name).chunks], type=f.type), f.type)
        r_type = read[0].column(f.name).type
        r = _aggregate(pa.chunked_array([c for t in read for c in t.column(f.name).chunks], type=r_type), f.type)
        ok = a == r
        columns.append({"name": f.name, "archive_type": str(f.type), "match": ok, "checks": {
            k: {"source": r[k], "archive": a[k]} for k in a}})  # fmt: skip
        if not ok:
            result["mismatches"].append(f"column:{f.name}")
    result["columns"] = columns
    result["rows"] = {"compared": "every row by key, every column", "key_columns": key, "differing_keys": 0,
                      "keys": []}  # fmt: skip
    result["status"] = "passed" if not result["mismatches"] else "failed"
    return result


def _has_duplicates(sorted_keys) -> bool:
    import pyarrow.compute as pc

    n = len(sorted_keys[0])
    if n < 2:
        return False
    same = None
    for k in sorted_keys:
        eq = pc.equal(k.slice(1), k.slice(0, n - 1))
        same = eq if same is None else pc.and_(same, eq)
    return pc.any(same).as_py() or False


def _differences(norm_a, norm_r, archive_schema, key: list[str], max_keys: int) -> dict:
    """The differing keys (the failure path; a hash join of both sides): missing, extra, duplicated or
    changed (with the columns), sorted by key, up to ``max_keys``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ca = norm_a.group_by(key).aggregate([([], "count_all")]).rename_columns([*key, "n_archive"])
    cr = norm_r.group_by(key).aggregate([([], "count_all")]).rename_columns([*key, "n_restored"])
    counts = ca.join(cr, keys=key, join_type="full outer")
    n_a, n_r = pc.fill_null(counts["n_archive"], 0), pc.fill_null(counts["n_restored"], 0)
    counts = counts.set_column(counts.schema.get_field_index("n_archive"), "n_archive", n_a)
    counts = counts.set_column(counts.schema.get_field_index("n_restored"), "n_restored", n_r)
    found = []
    for row in counts.filter(pc.not_equal(n_a, n_r)).to_pylist():
        na, nr = row["n_archive"], row["n_restored"]
        kind = (
            "missing_in_restored" if nr == 0 else "unexpected_in_restored" if na == 0
            else "duplicated_in_restored" if nr > na else "missing_duplicates_in_restored"
        )  # fmt: skip
        found.append({"key": {k: row[k] for k in key}, "kind": kind, "archive_rows": na, "restored_rows": nr})
    single = counts.filter(pc.and_(pc.equal(n_a, 1), pc.equal(n_r, 1))).select(key)
    values = [f.name for f in archive_schema if f.name not in key]
    if values and single.num_rows:
        left = norm_a.join(single, keys=key, join_type="inner")
        right = norm_r.rename_columns([c if c in key else f"{c}\u0000r" for c in norm_r.column_names])
        right = right.join(single, keys=key, join_type="inner")
        both = left.join(right, keys=key, join_type="inner")
        changed = None
        per_col = {}
        for v in values:
            x, y = both[v], both[f"{v}\u0000r"]
            d = pc.or_(pc.fill_null(pc.not_equal(x, y), False), pc.xor(pc.is_null(x), pc.is_null(y)))
            per_col[v] = d
            changed = d if changed is None else pc.or_(changed, d)
        if changed is not None and pc.any(changed).as_py():
            picked = both.select(key).append_column("\u0000i", pa.array(range(both.num_rows)))
            for row in picked.filter(changed).to_pylist():
                i = row.pop("\u0000i")
                cols = [v for v in values if per_col[v][i].as_py()]
                found.append({"key": row, "kind": "changed", "columns": cols, "archive_rows": 1, "restored_rows": 1})
    found.sort(key=lambda e: [str(e["key"][k]) for k in key])
    return {"differing_keys": len(found), "keys": found[:max_keys], "truncated": len(found) > max_keys}


# ---- the key, built while the table is read back -------------------------------------------------------
def index_name(engine: Engine, staging: str) -> str:
    name = f"{staging}_pkey"
    limit = engine.max_identifier_bytes
    return name if len(name.encode()) <= limit else name.encode()[:limit].decode(errors="ignore")


def key_statements(engine: Engine, schema: str, staging: str, key: list[str]) -> tuple[list[str], list[str]]:
    """(the unique index, built during the read-back; the primary key attached to it after validation)."""
    if not key:
        return [], []
    idx = index_name(engine, staging)
    ref, cols = engine.table_ref(schema, staging), ", ".join(engine.quote(k) for k in key)
    return (
        [f"CREATE UNIQUE INDEX {engine.quote(idx)} ON {ref} ({cols})"],
        [f"ALTER TABLE {ref} ADD CONSTRAINT {engine.quote(idx)} PRIMARY KEY USING INDEX {engine.quote(idx)}"],
    )


VALIDATIONS = ("checksums", "values")
COPY_FORMATS = ("auto", "text")


def validate_and_index(
    spark, engine: Engine, conn: Connection, schema: str, staging: str, loaded: Loaded, archive_schema,
    key: list[str], index_sql: list[str], snapshot_id: int, validation: str = "checksums",
) -> tuple[dict, str | None]:  # fmt: skip
    """Validates the staging table against the kept archive batches while another connection builds the key's
    unique index: by checksums (restore_hash.py; PostgreSQL and the driver each compute per-bucket row hash sums
    and the exact sums) unless ``validation`` is ``values``, they cannot be computed or they differ — then by
    reading every value back and comparing it. Returns (the validation, the index build's error or None)."""
    from .source_table import introspect

    started = time.monotonic()
    src = introspect(spark, conn, schema, staging)
    result: dict = {"job": "validate", "method": "arrow", "archive_snapshot_id": snapshot_id}
    planned = [(p.name, p.archive_type) for p in src.columns]
    names = [f.name for f in archive_schema]
    if [n for n, _ in planned] != names:
        result.update(status="failed", mismatches=["schema"], schema={"restored": planned, "archive": names})
        return result, None
    index_error = None
    if validation == "checksums":
        checked, index_error, why, built = _validate_by_checksums(engine, conn, schema, staging, src, loaded,
                                                           archive_schema, index_sql)  # fmt: skip
        index_sql = [] if built else index_sql  # built alongside the checksums
        if checked is not None and checked["status"] == "passed":
            result.update(checked)
            result["seconds"] = round(time.monotonic() - started, 3)
            return result, index_error
        if checked is not None:  # a difference: every value is read back to name the keys
            result["checksums"] = {k: checked[k] for k in ("status", "mismatches")}
            result["checksums"]["differing_buckets"] = checked["rows"]["differing_buckets"]
        else:
            result["checksums_not_used"] = why
    values, values_index_error = _validate_values(engine, conn, schema, staging, src, loaded, archive_schema, key,
                                                  index_sql)  # fmt: skip
    result.update(values)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result, index_error or values_index_error


def _build_index(conn: Connection, index_sql: list[str]) -> str | None:
    """Runs the key's index statements; their error (duplicates: the validation names them) or None."""
    if not index_sql:
        return None
    db = connect(conn)
    try:
        with db, db.cursor() as cur:
            for sql in index_sql:
                cur.execute(sql)
        return None
    except Exception as exc:  # noqa: BLE001 — reported next to the validation
        return str(exc).strip().splitlines()[0]
    finally:
        db.close()


def _validate_by_checksums(engine, conn, schema, staging, src, loaded, archive_schema, index_sql):
    """(the checksum validation or None, the index build's error, why checksums were not used or None, whether
    the index was built)."""
    import pyarrow as pa

    from . import restore_hash

    hp, why = restore_hash.plan(src, archive_schema)
    if hp is None:
        return None, None, why, False
    ref = engine.table_ref(schema, staging)

    def restored_side():
        try:
            return restore_hash.restored_sums(lambda: connect(conn, read_only=True), hp, ref)
        except Exception as exc:  # noqa: BLE001 — a value PostgreSQL's functions refuse: the values decide
            return f"PostgreSQL could not compute the checksums: {str(exc).strip().splitlines()[0]}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        index_future = pool.submit(_build_index, conn, index_sql)
        pg_future = pool.submit(restored_side)
        sums, hash_s, unhashable = loaded.hash_sums, loaded.hash_seconds, loaded.hash_error
        if sums is None and unhashable is None:  # not computed while writing
            try:
                sums, hash_s = restore_hash.archive_sums(hp, loaded.batches)
            except restore_hash.Unhashable as exc:
                sums, hash_s, unhashable = None, 0.0, str(exc)
        t0 = time.monotonic()
        archive_aggs = dict(loaded.aggregates or {})  # summed while writing, or from the kept batches
        for i, f in enumerate(archive_schema):
            if hp.fields[i].sum_sql and f.name not in archive_aggs:
                chunks = [b.column(i) for b in loaded.batches]
                archive_aggs[f.name] = _aggregate(pa.chunked_array(chunks, type=f.type), f.type)
        agg_s = time.monotonic() - t0
        restored = pg_future.result()
        restored = unhashable or restored
        index_error = index_future.result()
    if isinstance(restored, str):
        return None, index_error, restored, True
    buckets, restored_aggs, pg_s = restored
    checked = restore_hash.compare(hp, sums.totals(), buckets, archive_aggs, restored_aggs, archive_schema)
    checked["method"] = "arrow_checksums"
    checked["checksum_seconds"] = {"postgresql": round(pg_s, 3), "archive_hashes": round(hash_s, 3),
                                   "archive_aggregates": round(agg_s, 3)}  # fmt: skip
    return checked, index_error, None, True


def _validate_values(engine, conn, schema, staging, src, loaded, archive_schema, key, index_sql):
    """Reads the staging table back and compares every value with the kept archive batches (building the key's
    index alongside when ``index_sql``). Returns (the validation's fields, the index build's error or None)."""
    import pyarrow as pa

    result: dict = {"method": "arrow"}
    if loaded.batches == [] and loaded.rows:  # the write kept none (it computed checksums): read them again
        t0 = time.monotonic()
        reload(loaded)
        result["archive_reread_seconds"] = round(time.monotonic() - t0, 3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        index_future = pool.submit(_build_index, conn, index_sql)
        t0 = time.monotonic()
        streams = loaded.streams or [(0, loaded.batches)]
        try:
            parts = _read_back(
                engine, conn, schema, staging, read_columns(src, archive_schema), [x for x, _ in streams]
            )
        except OffloadError as exc:
            index_future.result()
            result.update(status="failed", mismatches=["unparsable"], error=str(exc))
            return result, None
        read_s = time.monotonic() - t0
        t0 = time.monotonic()
        sent = [pa.Table.from_batches(b, schema=archive_schema) for _, b in streams]
        order = "as sent"
        in_order = compare_in_write_order(sent, parts, archive_schema, key)
        if in_order is None:  # a stream's pages out of order (two streams extending the table): by key order
            by_name = {f.name: f.type for f in archive_schema}
            orders = [key_permutation(a, r, by_name, key) for a, r in zip(sent, parts, strict=True)]
            if all(o is not None for o in orders):
                order = "each stream's rows in key order, compared run by run"
                in_order = compare_in_write_order(sent, parts, archive_schema, key, orders)
        if in_order is not None:
            result.update(in_order)
        else:  # a difference to name, or a stream not sent in key order: by key, over all rows
            archive = pa.concat_tables(sent)
            restored = pa.concat_tables(parts)
            del sent, parts
            result.update(compare(archive, restored, archive_schema, key))
            order = "all rows sorted by key"
        result["rows"]["read_back_order"] = order
        compare_s = time.monotonic() - t0
        index_error = index_future.result()
    result["read_back_seconds"] = round(read_s, 3)
    result["compare_seconds"] = round(compare_s, 3)
    return result, index_error


def arrow_schema(p: ArrowPlan):
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(p.scan.projection(), include_field_ids=False)
