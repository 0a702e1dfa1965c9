"""The arrow restore path's write in PostgreSQL's binary COPY format, built from the archive's Arrow record
batches with numpy and Arrow (no value formatted as text, none parsed back by PostgreSQL).

PostgreSQL parses binary COPY input cheaper than its text format (on the restore benchmark's table about
0.7× the time), and the driver builds it cheaper than the text: per batch each column becomes its fields'
bytes — a 4-byte length (−1 for NULL) and the value in the type's binary receive format — fixed-width
columns as one matrix of bytes per run of them (integers, floats, booleans, dates, timestamps, numerics up
to 18 digits: a fixed number of base-10000 digits, which PostgreSQL strips), variable-width values (texts,
bytea) and NULL-holding columns as Arrow binary arrays; Arrow's ``binary_join_element_wise`` then joins
every row's pieces in C++, and the joined array's data buffer is the batch's COPY data.

``encoders`` decides per column from the restored (staging) table's column plan and the archive's Arrow
type; a column with no binary form here (a numeric wider than 18 digits, a json, uuid, interval, array …:
archived as their text) keeps the whole table on the text format, and the summary says which column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .engines import PG_EPOCH_MICROS

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # signature, flags, no extension
TRAILER = b"\xff\xff"  # a field count of -1
PG_EPOCH_DAYS = PG_EPOCH_MICROS // 86_400_000_000  # 2000-01-01 in days since 1970-01-01
NUMERIC_NEG = 0x4000
MAX_NUMERIC_DIGITS = 18  # unscaled values fit 64 bits
TEXT_TYPES = re.compile(r"^(text|character varying(\(\d+\))?|character(\(\d+\))?|bpchar)$")
INT_RANGES = {"int2": ("smallint", 2, -(1 << 15), (1 << 15) - 1), "int4": ("integer", 4, -(1 << 31), (1 << 31) - 1),
              "int8": ("bigint", 8, -(1 << 63), (1 << 63) - 1)}  # fmt: skip


class ValueOutOfRange(ValueError):
    """A value the restored column cannot hold (PostgreSQL's own error for the same value in text)."""


@dataclass(frozen=True)
class Encoder:
    name: str
    kind: str  # int2 | int4 | int8 | float4 | float8 | bool | date | timestamp | numeric | bytes
    width: int = 0  # bytes of a value (0: variable)
    precision: int = 0
    scale: int = 0


def _encoder(p, t) -> tuple[Encoder | None, str | None]:
    import pyarrow as pa

    k = p.copy_kind
    if k in INT_RANGES and pa.types.is_signed_integer(t):
        return Encoder(p.name, k, INT_RANGES[k][1]), None
    if k == "float4" and pa.types.is_float32(t):
        return Encoder(p.name, k, 4), None
    if k == "float8" and pa.types.is_float64(t):
        return Encoder(p.name, k, 8), None
    if k == "bool" and pa.types.is_boolean(t):
        return Encoder(p.name, k, 1), None
    if k == "date" and pa.types.is_date32(t):
        return Encoder(p.name, k, 4), None
    if k == "timestamp" and pa.types.is_timestamp(t) and t.unit == "us":
        return Encoder(p.name, k, 8), None
    if k == "numeric" and pa.types.is_decimal128(t) and t.precision <= MAX_NUMERIC_DIGITS and 0 <= t.scale:
        n_int, n_frac = _digit_groups(t.precision, t.scale)
        return Encoder(p.name, k, 8 + 2 * (n_int + n_frac), t.precision, t.scale), None
    if k == "bytea" and (pa.types.is_binary(t) or pa.types.is_large_binary(t)):
        return Encoder(p.name, "bytes"), None
    if k == "text" and TEXT_TYPES.match(p.source_type) and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return Encoder(p.name, "bytes"), None
    return None, f"column {p.name}: no binary COPY form here for {p.source_type} archived as {t}"


def encoders(src, archive_schema) -> tuple[list[Encoder] | None, str | None]:
    """(the per-column encoders, None) for the restored table ``src`` (its column plans, in table order) and the
    archive's Arrow schema, or (None, why the text format is used)."""
    out = []
    for p, f in zip(src.columns, archive_schema, strict=True):
        enc, why = _encoder(p, f.type)
        if enc is None:
            return None, why
        out.append(enc)
    return out, None


def _digit_groups(precision: int, scale: int) -> tuple[int, int]:
    """(base-10000 digits before the point, after it) that hold every value of decimal(precision, scale)."""
    return max(0, -(-(precision - scale) // 4)), -(-scale // 4)


def _be(values, dtype: str):
    """A numpy array as its big-endian bytes, one row of ``itemsize`` bytes per value."""
    import numpy as np

    arr = np.ascontiguousarray(values, dtype=dtype)
    return arr.view(np.uint8).reshape(len(arr), arr.dtype.itemsize)


def _unscaled(arr):
    """A decimal128 array's unscaled values as int64 (they fit: at most 18 digits); NULL slots hold 0."""
    import numpy as np

    words = np.frombuffer(arr.buffers()[1], dtype="<i8")
    return words[2 * arr.offset : 2 * (arr.offset + len(arr)) : 2].copy()


def _numeric_bytes(enc: Encoder, arr):
    """numeric_recv's form of each value: ndigits, weight, sign, dscale, then the base-10000 digits, at a fixed
    number of digits for the column (leading and trailing zero digits are stripped by PostgreSQL)."""
    import numpy as np

    v = _unscaled(arr)
    u = np.abs(v)
    s = enc.scale
    n_int, n_frac = _digit_groups(enc.precision, s)
    n = len(v)
    out = np.empty((n, 4 + n_int + n_frac), dtype=">i2")
    out[:, 0] = n_int + n_frac
    out[:, 1] = n_int - 1
    out[:, 2] = np.where(v < 0, NUMERIC_NEG, 0)
    out[:, 3] = s
    whole, frac = np.divmod(u, np.int64(10**s))
    for g in range(n_int):  # weight n_int-1-g
        out[:, 4 + g] = (whole // np.int64(10 ** (4 * (n_int - 1 - g)))) % 10000
    for g in range(1, n_frac + 1):  # the g-th group after the point: its decimal places 4g-3 … 4g
        if 4 * g <= s:
            out[:, 3 + n_int + g] = (frac // np.int64(10 ** (s - 4 * g))) % 10000
        else:  # the last, partial group: its remaining places padded with zeros
            out[:, 3 + n_int + g] = (frac % np.int64(10 ** (s - 4 * (g - 1)))) * np.int64(10 ** (4 * g - s))
    return out.view(np.uint8).reshape(n, enc.width)


def _fixed_bytes(enc: Encoder, arr):
    """The values of a fixed-width column as an (n, width) matrix of their binary receive form (NULL slots hold
    whatever Arrow has there; their length says -1 and they are left out)."""
    import numpy as np

    if enc.kind == "numeric":
        return _numeric_bytes(enc, arr)
    if enc.kind == "bool":
        return arr.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8).reshape(len(arr), 1)
    if enc.kind == "date":
        days = np.frombuffer(arr.buffers()[1], dtype="<i4")[arr.offset : arr.offset + len(arr)]
        return _be(days.astype(np.int64) - PG_EPOCH_DAYS, ">i4")
    if enc.kind == "timestamp":
        micros = np.frombuffer(arr.buffers()[1], dtype="<i8")[arr.offset : arr.offset + len(arr)]
        return _be(micros - np.int64(PG_EPOCH_MICROS), ">i8")
    if enc.kind in INT_RANGES:
        values = arr.fill_null(0).to_numpy() if arr.null_count else arr.to_numpy()
        label, width, low, high = INT_RANGES[enc.kind]
        if len(values) and values.dtype.itemsize > width:
            lo, hi = int(values.min()), int(values.max())
            if lo < low or hi > high:
                bad = lo if lo < low else hi
                raise ValueOutOfRange(f"column {enc.name}: value {bad} is out of range for type {label}")
        return _be(values, f">i{width}")
    if enc.kind in ("float4", "float8"):
        values = np.frombuffer(arr.buffers()[1], dtype=f"<f{enc.width}")[arr.offset : arr.offset + len(arr)]
        return _be(values, f">f{enc.width}")
    raise AssertionError(f"not a fixed-width kind: {enc.kind}")


def binary_batch(encs: list[Encoder], batch) -> bytes:
    """One record batch as binary COPY tuples (no header or trailer: ``HEADER`` starts a stream's data and
    ``TRAILER`` ends it)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = batch.num_rows
    if not n:
        return b""
    pieces = []  # alternating: fixed matrices (row header, lengths, fixed values), variable values
    block: list = [_be(np.full(n, len(encs)), ">i2")]

    def flush() -> None:
        m = block[0] if len(block) == 1 else np.hstack(block)
        w = m.shape[1]
        offsets = np.arange(n + 1, dtype=np.int64) * w
        pieces.append(pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(m)]))
        block.clear()

    for enc, arr in zip(encs, batch.columns, strict=True):
        if enc.kind == "bytes":
            values = arr.cast(pa.large_binary())
            if values.null_count:
                valid = values.is_valid().to_numpy(zero_copy_only=False)
                values = pc.fill_null(values, b"")
                lengths = np.where(valid, pc.binary_length(values).to_numpy(), -1)
            else:
                lengths = pc.binary_length(values).to_numpy()
            block.append(_be(lengths, ">i4"))
            flush()
            pieces.append(values)
            continue
        data = _fixed_bytes(enc, arr)
        if not arr.null_count:
            block.append(_be(np.full(n, enc.width), ">i4"))
            block.append(data)
            continue
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        block.append(_be(np.where(valid, enc.width, -1), ">i4"))
        flush()
        kept = np.ascontiguousarray(data[valid])
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(valid * enc.width, out=offsets[1:])
        pieces.append(pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(kept)]))
    if block:
        flush()
    rows = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, pa.scalar(b"", pa.large_binary()))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + n + 1]
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])].to_pybytes()
