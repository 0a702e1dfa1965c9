"""The comparison both type-matrix tests make: an archive read back with pyiceberg against what the
source database returns for the same rows, value by value and type by type."""

from __future__ import annotations

import math
import struct


def f32(x):
    """A driver's double narrowed to the float32 the archive holds."""
    return None if x is None else struct.unpack("f", struct.pack("f", x))[0]


def same(a, b) -> bool:
    """Equal value and Python type; NaN equals NaN; 0.0 and -0.0 differ."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return (a is None and b is None) or (a == b and type(a) is type(b))


def compare_with_source(table, columns, query, normalize=None) -> None:
    """``columns``: (name, source type, expectation SQL with {c}, converter of the driver's value,
    Iceberg type). ``query(exprs)`` returns the source rows ``(id, <expectation per column>)`` ordered
    by id; ``normalize(col, want, iceberg_type)`` adjusts a source value for what the engine's driver
    returns. Asserts the Iceberg types, the set of ids and every value."""
    iceberg_types = {f.name: str(f.field_type) for f in table.schema().fields}
    for col, _t, _e, _conv, want_type in columns:
        assert iceberg_types[col] == want_type, col

    archived = {r["id"]: r for r in table.scan().to_arrow().to_pylist()}
    expected = query(", ".join(e.format(c=c) for c, _t, e, *_ in columns))
    assert sorted(archived) == [r[0] for r in expected]
    problems = []
    for row in expected:
        for (col, _t, _e, conv, _it), want in zip(columns, row[1:]):
            if want is not None and conv is not None:
                want = conv(want)
            if normalize is not None and want is not None:
                want = normalize(col, want, iceberg_types[col])
            got = archived[row[0]][col]
            if not same(want, got):
                problems.append(f"id={row[0]} {col}: source {want!r} archive {got!r}")
    assert not problems, "\n".join(problems)
