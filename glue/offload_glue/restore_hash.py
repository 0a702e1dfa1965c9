"""The arrow restore path's validation by checksums (the default; ``--arrow_validation values`` reads every
value back instead): the archive validation's own method — counts, aggregates, per-bucket sums of 64-bit row
hashes — with PostgreSQL computing its side over the restored table in one scan (no row leaves the server)
and the driver computing the same over the archive's record batches it has just sent (pg_hash_np.py).

The row hash is source_checksum.py's (PostgreSQL's built-in, seeded extended hash functions per field, the
fields XORed, the XOR mixed once more), over the forms the archive holds: integers, booleans (as int4),
dates and timestamps (PostgreSQL's days and microseconds since 2000), numerics (their base-10000 digits; the
sign through the seed; over 18 digits: the plain text at the archive's scale), floats by their bit pattern (NaN
canonical, -0 apart from 0), char(n) (its characters and, as a second field, its byte length: the padding), bytea as hex
text, and every other column archived as a string by the text PostgreSQL gives for it (the archive job's own
select_sql: json, uuid, interval, arrays … compare by their exact text). Per bucket (the row hash's low 12 bits) both
sides give the row count and the exact sum of the row hashes, so a changed, missing, duplicated, extra or
swapped value shows (a NULL is a marker of its position in the row hash); per integer column and decimal up
to 28 digits the exact sum. PostgreSQL's side runs as two queries at once, each over half the table's pages.
A column of another type (a timestamp not in microseconds, a numeric archived as decimal256), a server before
PostgreSQL 11 or not in UTF-8: ``plan`` says why and the values path runs. When anything differs, the values
path runs too: every value read back and compared, the differing keys named.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from . import pg_hash_np as h
from .engines import BUCKETS
from .restore_arrow import NAN32_BITS, NAN64_BITS, hex_text

LENGTH_SEED = 0x6C656E0000000000  # "len": the seed base of a char(n) value's byte length field
CHUNK_ROWS = 1 << 20  # per bincount: float64 sums of 32-bit halves stay exact (< 2**53)
MIN_SERVER_VERSION = 110000  # the seeded extended hash functions


class Unhashable(Exception):
    """A value the driver's side cannot hash (the values path validates instead)."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # int | date | ts | num | numtext | float4 | float8 | text | bpchar | hex
    sql: str  # PostgreSQL: the field's part of the XOR (a NULL: null_field)
    scale: int = 0
    sum_sql: str | None = None  # the value summed exactly (integers, decimals up to 28 digits), else None


@dataclass(frozen=True)
class Plan:
    fields: list[Field]
    row_hash_sql: str


def _field(p, t, i: int, quote):
    """(Field, None) for column plan ``p`` of the restored table archived as Arrow type ``t``, or (None, why)."""
    import pyarrow as pa

    q, seed = quote(p.name), h.field_seed(i)
    summed = q if pa.types.is_integer(t) else None
    if pa.types.is_integer(t) and p.canon_kind == "integer":
        fn = {"int2": "hashint2extended", "int4": "hashint4extended"}.get(p.copy_kind or "", "hashint8extended")
        arg = q if fn != "hashint8extended" or p.copy_kind == "int8" else f"({q})::bigint"
        return Field(p.name, "int", f"{fn}({arg}, {seed})", sum_sql=summed), None
    if pa.types.is_boolean(t) and p.copy_kind == "bool":
        return Field(p.name, "int", f"hashint4extended({q}::int, {seed})"), None
    if pa.types.is_date32(t) and p.canon_kind == "date":
        return Field(p.name, "date", f"hashint4extended({q} - date '2000-01-01', {seed})"), None
    if pa.types.is_timestamp(t) and t.unit == "us" and p.canon_kind == "timestamp":
        arg = f"({q} AT TIME ZONE 'UTC')" if p.archive_type == "timestamp" else q
        return Field(p.name, "ts", f"timestamp_hash_extended({arg}, {seed})"), None
    if pa.types.is_decimal128(t) and p.canon_kind == "decimal" and t.precision > 18:
        # beyond 64 bits: the plain text at the archive's scale (a value the cast would change hashes otherwise)
        e = p.select_sql.removesuffix("::text")
        cast = f"({e})::numeric({t.precision},{t.scale})"
        text = f"CASE WHEN {cast} = {e} THEN ({cast})::text ELSE ({e})::text || ' inexact' END"
        sum_sql = e if t.precision <= 28 else None
        return Field(p.name, "numtext", f'hashtextextended(({text}) COLLATE "C", {seed})', t.scale, sum_sql), None
    if pa.types.is_decimal128(t) and p.canon_kind == "decimal":
        e = p.select_sql.removesuffix("::text")
        sql = f"hash_numeric_extended({e}, CASE WHEN {e} < 0 THEN {h.negative_seed(i)} ELSE {seed} END)"
        return Field(p.name, "num", sql, scale=t.scale, sum_sql=e if t.precision <= 28 else None), None
    if pa.types.is_float64(t) and p.canon_kind == "double_bits":
        bits = f"('x' || encode(float8send({q}), 'hex'))::bit(64)::bigint"
        bits = f"CASE WHEN {q} = 'NaN' THEN {NAN64_BITS} ELSE {bits} END"
        return Field(p.name, "float8", f"hashint8extended({bits}, {seed})"), None
    if pa.types.is_float32(t) and p.canon_kind == "float_bits":
        bits = f"('x' || encode(float4send({q}), 'hex'))::bit(32)::int"
        bits = f"CASE WHEN {q} = 'NaN' THEN {NAN32_BITS} ELSE {bits} END"
        return Field(p.name, "float4", f"hashint4extended({bits}, {seed})"), None
    if (pa.types.is_binary(t) or pa.types.is_large_binary(t)) and p.canon_kind == "binary":
        return Field(p.name, "hex", f"hashtextextended(encode({q}, 'hex'), {seed})"), None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if p.source_type.startswith("character("):  # the characters, and the byte length: the padding
            sql = (
                f'(hashbpcharextended({q} COLLATE "C", {seed}) '
                f"# hashint4extended(octet_length({q}), {LENGTH_SEED + i}))"
            )
            return Field(p.name, "bpchar", sql), None
        if p.source_type not in ("bpchar", "character"):
            return Field(p.name, "text", f'hashtextextended((({p.select_sql})::text) COLLATE "C", {seed})'), None
    return None, f"column {p.name}: no checksum for {p.source_type} archived as {t}"


def plan(src, archive_schema) -> tuple[Plan | None, str | None]:
    """The checksum plan for the restored table ``src`` (its column plans) against ``archive_schema``."""
    fields = []
    for i, (p, f) in enumerate(zip(src.columns, archive_schema, strict=True)):
        fld, why = _field(p, f.type, i, src.engine.quote)
        if fld is None:
            return None, why
        fields.append(fld)
    parts = [f"coalesce({f.sql}, {h.null_field(i)})" for i, f in enumerate(fields)]
    return Plan(fields, f"hashint4extended(0, {' # '.join(parts) or '0'})"), None


# ---- the archive's side ----------------------------------------------------------------------------------
def _string_parts(arr):
    """(data bytes, starts, lengths) of a string or binary array's values (its buffers, no copy)."""
    import numpy as np
    import pyarrow as pa

    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    _, offsets, data = arr.buffers()
    n = len(arr)
    if offsets is None or n == 0:
        return np.zeros(0, np.uint8), np.zeros(n, np.int64), np.zeros(n, np.int64)
    offs = np.frombuffer(offsets, np.int64 if large else np.int32)[arr.offset : arr.offset + n + 1].astype(np.int64)
    raw = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return raw, offs[:-1], offs[1:] - offs[:-1]


def _trimmed(data, starts, lengths):
    """``lengths`` without trailing blanks (hashbpcharextended's bytes)."""
    import numpy as np

    out = lengths.copy()
    rows = np.nonzero(out)[0]
    while len(rows):
        rows = rows[data[starts[rows] + out[rows] - 1] == 0x20]
        out[rows] -= 1
        rows = rows[out[rows] > 0]
    return out


def _numbers(arr, fill=0):
    import pyarrow.compute as pc

    return (pc.fill_null(arr, fill) if arr.null_count else arr).to_numpy(zero_copy_only=False)


def field_hashes(fld: Field, arr, i: int):
    """The field's part of the XOR for every value of ``arr`` (one Arrow array), NULLs included."""
    import numpy as np
    import pyarrow as pa

    seed = h.field_seed(i)
    k = fld.kind
    if k == "int":
        out = h.hash_int8(_numbers(arr.cast(pa.int64()) if pa.types.is_boolean(arr.type) else arr).astype(np.int64),
                          seed)  # fmt: skip
    elif k == "date":
        out = h.hash_date(_numbers(arr.cast(pa.int32())).astype(np.int64), seed)
    elif k == "ts":
        out = h.hash_timestamp(_numbers(arr.cast(pa.int64())).astype(np.int64), seed)
    elif k == "num":  # the unscaled values' 128-bit words: the low one is the value when it fits 64 bits
        words = np.frombuffer(arr.buffers()[1], "<i8")[2 * arr.offset : 2 * (arr.offset + len(arr))]
        low, high = words[0::2], words[1::2]
        if arr.null_count:
            valid = np.asarray(arr.is_valid())
            low, high = np.where(valid, low, 0), np.where(valid, high, 0)
        if (high != (low >> 63)).any():
            raise Unhashable(f"column {fld.name}: a value beyond 64 bits (more than 18 digits)")
        out = h.hash_numeric(low, fld.scale, seed, h.negative_seed(i))
    elif k in ("float8", "float4"):
        wide = k == "float8"
        values = _numbers(arr, 0.0)
        bits = values.view(np.int64 if wide else np.int32).astype(np.int64)
        bits[np.isnan(values)] = NAN64_BITS if wide else NAN32_BITS
        out = h.hash_int8(bits, seed)
    else:
        if k == "hex":
            arr = hex_text(arr, "")
        elif k == "numtext":
            arr = decimal_text(arr)
        data, starts, lengths = _string_parts(arr)
        if k == "bpchar":
            out = h.hash_bytes(data, starts, _trimmed(data, starts, lengths), seed)
            out ^= h.hash_uint32(lengths, LENGTH_SEED + i)
        else:
            out = h.hash_bytes(data, starts, lengths, seed)
    if arr.null_count:
        out = np.where(np.asarray(arr.is_valid()), out, np.uint64(h.null_field(i)))
    return out


def decimal_text(arr):
    """A decimal column's values as PostgreSQL prints a numeric of the same scale: plain digits, never Arrow's
    scientific notation (``0E-10``, which it uses below 10^-6)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = arr.cast(pa.string())
    odd = pc.match_substring(text, "E")
    if not pc.any(odd).as_py():
        return text
    values = text.to_pylist()
    for i in pc.indices_nonzero(odd).to_pylist():
        values[i] = format(Decimal(values[i]), "f")
    return pa.array(values, pa.string())


def row_hashes(p: Plan, batch):
    """The row hash of every row of one record batch (columns in the plan's order)."""
    import numpy as np

    x = np.zeros(batch.num_rows, np.uint64)
    for i, fld in enumerate(p.fields):
        x ^= field_hashes(fld, batch.column(i), i)
    return h.finish(x)


class BucketSums:
    """Per bucket: the row count and the exact sum of the row hashes (as signed 64-bit numbers, PostgreSQL's
    ``sum(bigint)``), kept as the sums of their high (signed) and low 32-bit halves."""

    def __init__(self) -> None:
        import numpy as np

        self.count = np.zeros(BUCKETS, np.int64)
        self.high = np.zeros(BUCKETS, np.int64)
        self.low = np.zeros(BUCKETS, np.int64)

    def add(self, hashes) -> None:
        import numpy as np

        for s in range(0, len(hashes), CHUNK_ROWS):
            part = hashes[s : s + CHUNK_ROWS]
            bucket = (part & np.uint64(BUCKETS - 1)).astype(np.intp)
            signed = part.view(np.int64)
            self.count += np.bincount(bucket, minlength=BUCKETS)
            for acc, half in ((self.high, signed >> 32), (self.low, signed & 0xFFFFFFFF)):
                acc += np.rint(np.bincount(bucket, weights=half.astype(np.float64), minlength=BUCKETS)).astype(np.int64)

    def merge(self, other: BucketSums) -> None:
        self.count += other.count
        self.high += other.high
        self.low += other.low

    def totals(self) -> dict[int, tuple[int, int]]:
        """{bucket: (rows, hash sum)} of the non-empty buckets."""
        return {
            int(b): (int(self.count[b]), (int(self.high[b]) << 32) + int(self.low[b])) for b in self.count.nonzero()[0]
        }


def archive_sums(p: Plan, batches, threads: int = 2) -> tuple[BucketSums, float]:
    """The archive side's bucket sums over ``batches`` (split between ``threads``: numpy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()

    def run(part) -> BucketSums:
        acc = BucketSums()
        for b in part:
            if b.num_rows:
                acc.add(row_hashes(p, b))
        return acc

    parts = [batches[k::threads] for k in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        sums = list(pool.map(run, parts))
    total = sums[0]
    for s in sums[1:]:
        total.merge(s)
    return total, time.monotonic() - started


# ---- PostgreSQL's side -----------------------------------------------------------------------------------
def server_reason(cur) -> str | None:
    """Why the server cannot compute the checksums (None: it can)."""
    cur.execute("SELECT current_setting('server_version_num')::int, current_setting('server_encoding')")
    version, encoding = cur.fetchone()
    if int(version) < MIN_SERVER_VERSION:
        return f"PostgreSQL server version {version} (the seeded hash functions need 11 or later)"
    if encoding != "UTF8":
        return f"server encoding {encoding} (the hashed bytes must be UTF-8, as in the archive)"
    return None


def query(p: Plan, ref: str, where: str = "true") -> str:
    """One scan of the restored table's rows ``where``: per bucket the row count, the row hash sum and the exact
    sums of the summed columns (a NULL's absence is in the row hash: a marker per position)."""
    inner = [f"{p.row_hash_sql} AS h"]
    outer = [f"(h & {BUCKETS - 1})::int", "count(*)", "sum(h)"]
    for i, f in enumerate(p.fields):
        if f.sum_sql:
            inner.append(f"{f.sum_sql} AS s{i}")
            outer.append(f"sum(s{i})")
    return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {ref} WHERE {where}) r GROUP BY 1"


# JIT's compile time exceeds what it saves on one scan; the planner cannot know the bucket expression has 4096
# values: it would sort every row (spilling to disk) rather than hash them into 4096 groups, and would not
# split the scan between workers, which the two range queries run at once do instead
SESSION = "SET jit = off; SET enable_sort = off; SET work_mem = '32MB'; SET max_parallel_workers_per_gather = 0"
TID_RANGE_SCANS = 140000  # PostgreSQL 14: a ctid range is read without scanning the rest


def page_halves(cur, ref: str) -> list[str]:
    """WHERE conditions splitting the relation ``ref`` into two halves of its pages (TID range scans, PostgreSQL
    14+), or one condition for the whole of it."""
    cur.execute("SELECT current_setting('server_version_num')::int, "
                "pg_relation_size(%s::regclass) / current_setting('block_size')::int", (ref,))  # fmt: skip
    version, pages = cur.fetchone()
    cut = (int(pages) + 1) // 2
    if int(version) < TID_RANGE_SCANS or pages <= 1:
        return ["true"]
    return [f"ctid < '({cut},0)'::tid", f"ctid >= '({cut},0)'::tid"]


def run_scans(connect, queries: list[str]) -> list[list]:
    """The rows of each query, run at once, each in its own session (``connect``) set up with SESSION."""
    from concurrent.futures import ThreadPoolExecutor

    def run(sql: str) -> list:
        db = connect()
        try:
            with db, db.cursor() as cur:
                cur.execute(SESSION)
                cur.execute(sql)
                return cur.fetchall()
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        return list(pool.map(run, queries))


def restored_sums(connect, p: Plan, ref: str) -> tuple[dict, dict, float] | str:
    """({bucket: (rows, hash sum)}, {column: {"sum": exact sum}}, seconds) of the restored table, or why the
    server cannot compute them. ``connect`` opens a read-only session; two of them each scan half the table's
    pages (one scan before PostgreSQL 14)."""
    started = time.monotonic()
    db = connect()
    try:
        with db, db.cursor() as cur:
            reason = server_reason(cur)
            if reason:
                return reason
            wheres = page_halves(cur, ref)
    finally:
        db.close()
    parts = run_scans(connect, [query(p, ref, where) for where in wheres])
    buckets: dict[int, tuple[int, int]] = {}
    aggs = {f.name: {"sum": Decimal(0)} for f in p.fields if f.sum_sql}
    for row in (r for part in parts for r in part):
        n, total = buckets.get(int(row[0]), (0, 0))
        buckets[int(row[0])] = (n + int(row[1]), total + int(row[2]))
        for f, value in zip((f for f in p.fields if f.sum_sql), row[3:], strict=True):
            aggs[f.name]["sum"] += Decimal(value or 0)
    return buckets, aggs, time.monotonic() - started


def compare(p: Plan, archive: dict, restored: dict, archive_aggs: dict, restored_aggs: dict, schema) -> dict:
    """The validation result: counts, aggregates and per-bucket row hash sums of both sides."""
    result: dict = {"mismatches": []}
    n_a = sum(n for n, _ in archive.values())
    n_r = sum(n for n, _ in restored.values())
    result["row_count"] = {"source": n_r, "archive": n_a, "match": n_a == n_r}
    if n_a != n_r:
        result["mismatches"].append("row_count")
    columns = []
    for f in schema:
        if f.name not in restored_aggs:
            continue
        a, r = archive_aggs[f.name], restored_aggs[f.name]
        archived = Decimal(a["sum"]) if a.get("sum") is not None else Decimal(0)
        ok = archived == r["sum"]
        checks = {"sum": {"source": format(r["sum"], "f"), "archive": a.get("sum")}}
        columns.append({"name": f.name, "archive_type": str(f.type), "match": ok, "checks": checks})
        if not ok:
            result["mismatches"].append(f"column:{f.name}")
    result["columns"] = columns
    differing = sorted(b for b in set(archive) | set(restored) if archive.get(b) != restored.get(b))
    result["rows"] = {
        "compared": f"per-bucket row hash sums ({BUCKETS} buckets), computed by PostgreSQL over the restored table "
        "and by the driver over the archive's batches",
        "differing_buckets": len(differing),
        "differing_keys": 0,
        "keys": [],
    }
    if differing:
        result["mismatches"].append("rows")
    result["status"] = "passed" if not result["mismatches"] else "failed"
    return result
