"""The numpy port of PostgreSQL's extended hash functions (offload_glue/pg_hash_np.py) against PostgreSQL's
own functions, over thousands of generated values each: every expectation is computed by the live server
(hashint8extended, hash_numeric_extended, hashtextextended, …), never by the code under test."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest
from conftest import pg_exec
from offload_glue import pg_hash_np as h

SEEDS = [0, 1, 42, -1, 0x7A5B22367996DCFD, -(2**63), 2**63 - 1, 17 << 32]
MASK = (1 << 64) - 1


def _pg(pg_db, sql_type: str, values: list, fn: str, seed: int) -> list[int]:
    """PostgreSQL's ``fn(v, seed)`` of every value, as unsigned 64-bit numbers in the values' order."""
    rows = pg_exec(
        pg_db,
        f"SELECT {fn}(v, %s) FROM unnest(%s::{sql_type}[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
        (seed, values),
    )
    assert len(rows) == len(values)
    return [r[0] & MASK for r in rows]


def _same(got, want, values) -> None:
    got = [int(x) for x in got]
    bad = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if g != w]
    assert not bad, f"{len(bad)} of {len(values)} differ, e.g. {bad[:3]}"


@pytest.fixture(scope="module")
def rng():
    return random.Random(20261203)


def test_int8_int4_int2(pg_db, rng):
    values = [0, 1, -1, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**32, -(2**32), 2**63 - 1, -(2**63)]
    values += [rng.randint(-(2 ** rng.randint(1, 63)), 2 ** rng.randint(1, 63) - 1) for _ in range(3000)]
    for seed in SEEDS:
        _same(h.hash_int8(np.array(values, np.int64), seed & MASK), _pg(pg_db, "bigint", values, "hashint8extended",
                                                                          seed), values)  # fmt: skip
    small = [v for v in values if -(2**31) <= v < 2**31]
    assert len(small) > 100
    for seed in SEEDS[:4]:
        want = _pg(pg_db, "int", small, "hashint4extended", seed)
        _same(h.hash_int8(np.array(small, np.int64), seed & MASK), want, small)
        _same(h.hash_uint32(np.array(small, np.int64), seed & MASK), want, small)
    shorts = [v for v in small if -(2**15) <= v < 2**15] + [32767, -32768, 0, 5]
    _same(h.hash_int8(np.array(shorts, np.int64), 7), _pg(pg_db, "smallint", shorts, "hashint2extended", 7), shorts)


def _decimals(rng, scale: int, n: int) -> list[int]:
    out = [0, 1, -1, 10**18 - 1, -(10**18) + 1, 10**4, 10**8, -(10**12), 5 * 10**17, 2**63 - 1, -(2**63)]
    for _ in range(n):
        digits = rng.randint(1, 18)
        u = rng.randint(0, 10**digits - 1)
        if rng.random() < 0.3:  # trailing zero digits, whole base-10000 digits of zeros
            u = (u // 10 ** rng.randint(0, min(8, digits))) * 10 ** rng.randint(0, 8)
            u = min(u, 10**18 - 1)
        out.append(-u if rng.random() < 0.4 else u)
    return out


@pytest.mark.parametrize("scale", [0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 18])
def test_numeric(pg_db, rng, scale):
    unscaled = _decimals(rng, scale, 1500)
    texts = [str(Decimal(u).scaleb(-scale)) for u in unscaled]
    for seed in (SEEDS[1], SEEDS[3], SEEDS[4]):
        want = _pg(pg_db, "numeric", texts, "hash_numeric_extended", seed)
        got = h.hash_numeric(np.array(unscaled, np.int64), scale, seed & MASK, seed & MASK)
        _same(got, want, texts)


def test_numeric_negative_seed_and_zero(pg_db):
    """A negative value takes the negative seed, zero hashes as ``seed - 1`` whatever its scale."""
    unscaled = [-150, 150, 0, -1, 1]
    pos, neg = 9, h.negative_seed(4)
    got = [int(x) for x in h.hash_numeric(np.array(unscaled, np.int64), 2, pos, neg)]
    for u, g in zip(unscaled, got, strict=True):
        seed = neg if u < 0 else pos
        want = _pg(pg_db, "numeric", [str(Decimal(u).scaleb(-2))], "hash_numeric_extended", seed - (1 << 64) * (
            seed >= 1 << 63))[0]  # fmt: skip
        assert g == want, u


def _texts(rng, n: int) -> list[str]:
    alphabet = "abcXYZ09 _-\t\\\"'é€𝄞ß中\n"
    out = ["", " ", "a", "  a  ", "x" * 11, "y" * 12, "z" * 13, "w" * 24, "v" * 25, "€" * 4, "😀" * 3]
    for _ in range(n):
        k = rng.choice([rng.randint(0, 14), rng.randint(0, 40), rng.randint(0, 200)])
        out.append("".join(rng.choice(alphabet) for _ in range(k)))
    return out


def _buffers(texts: list[str]):
    raw = [t.encode() for t in texts]
    lengths = np.array([len(r) for r in raw], np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    data = np.frombuffer(b"".join(raw) + b"\xff" * 16, np.uint8)  # bytes past a key must not count
    return data, starts, lengths


def test_text(pg_db, rng):
    texts = _texts(rng, 3000)
    data, starts, lengths = _buffers(texts)
    for seed in SEEDS:
        want = _pg(pg_db, "text", texts, "hashtextextended", seed)
        _same(h.hash_bytes(data, starts, lengths, seed & MASK), want, texts)
    # per-row seeds, some zero (not mixed in)
    seeds = [rng.choice(SEEDS) for _ in texts]
    rows = pg_exec(
        pg_db,
        "SELECT hashtextextended(v, s) FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY AS t(v, s, i) ORDER BY i",
        (texts, seeds),
    )
    _same(h.hash_bytes(data, starts, lengths, np.array([s & MASK for s in seeds], np.uint64)),
          [r[0] & MASK for r in rows], texts)  # fmt: skip


def test_dates_timestamps(pg_db, rng):
    days = [0, -1, 10957, -719162, 2932896, 10956] + [rng.randint(-700000, 2900000) for _ in range(2000)]
    iso = [str(np.datetime64(d, "D")) for d in days]
    for seed in (SEEDS[1], SEEDS[4]):
        rows = pg_exec(
            pg_db,
            "SELECT hashint4extended(v - date '2000-01-01', %s) FROM unnest(%s::date[]) WITH ORDINALITY AS t(v, i) "
            "ORDER BY i",
            (seed, iso),
        )
        _same(h.hash_date(np.array(days, np.int64), seed & MASK), [r[0] & MASK for r in rows], iso)
    micros = [0, -1, 946684800000000, 1] + [rng.randint(-(2**52), 2**52) for _ in range(2000)]
    texts = [str(np.datetime64(m, "us")) for m in micros]
    for seed in (SEEDS[2], SEEDS[6]):
        want = _pg(pg_db, "timestamp", texts, "timestamp_hash_extended", seed)
        _same(h.hash_timestamp(np.array(micros, np.int64), seed & MASK), want, texts)


def test_finish(pg_db, rng):
    xs = [0, 1, MASK, 1 << 63] + [rng.getrandbits(64) for _ in range(2000)]
    rows = pg_exec(
        pg_db,
        "SELECT hashint4extended(0, s) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(s, i) ORDER BY i",
        ([x - (1 << 64) if x >= 1 << 63 else x for x in xs],),
    )
    _same(h.finish(np.array(xs, np.uint64)), [r[0] & MASK for r in rows], xs)
