"""PostgreSQL's extended (64-bit, seeded) hash functions over whole columns, vectorized with numpy: the same
functions as glue/jvm ``PgHash`` (see there and source_checksum.py), for the Python side of a comparison
whose other side PostgreSQL computes in SQL (the arrow restore path's validation, restore_hash.py).

``hash_bytes`` is hash_bytes_extended (src/common/hashfn.c, Bob Jenkins' lookup3, little-endian words) over
many keys at once: every key's 12-byte blocks are mixed in lockstep (block k of every key at least
12·(k+1) bytes long, then the zero-padded tail of each); ``hash_uint32`` is hash_bytes_uint32_extended. The
type hashes build on them as PostgreSQL does: integers (hashint8extended: an int8 in the int4 range hashes as
that int4), dates and timestamps (days and microseconds since 2000-01-01), numerics (hash_numeric_extended of
base-10000 digits of an unscaled value in an int64), texts (their UTF-8 bytes). All arithmetic is on uint32 arrays,
which wrap modulo 2**32 as the C code does; results are uint64 arrays (``(b << 32) | c``).
"""

from __future__ import annotations

import numpy as np

from .source_checksum import NEGATIVE_SEED, NULL_FIELD  # the row hash's seeds, shared with the Java port

U32 = np.uint32
U64 = np.uint64
INIT = (0x9E3779B9 + 3923095) & 0xFFFFFFFF
UNIX_TO_PG_DAYS = 10957  # 2000-01-01 - 1970-01-01
UNIX_TO_PG_MICROS = 946_684_800_000_000


def _rot(x, k: int):
    return (x << U32(k)) | (x >> U32(32 - k))


def _mix(a, b, c) -> None:
    a -= c
    a ^= _rot(c, 4)
    c += b
    b -= a
    b ^= _rot(a, 6)
    a += c
    c -= b
    c ^= _rot(b, 8)
    b += a
    a -= c
    a ^= _rot(c, 16)
    c += b
    b -= a
    b ^= _rot(a, 19)
    a += c
    c -= b
    c ^= _rot(b, 4)
    b += a


def _final(a, b, c):
    c ^= b
    c -= _rot(b, 14)
    a ^= c
    a -= _rot(c, 11)
    b ^= a
    b -= _rot(a, 25)
    c ^= b
    c -= _rot(b, 16)
    a ^= c
    a -= _rot(c, 4)
    b ^= a
    b -= _rot(a, 14)
    c ^= b
    c -= _rot(b, 24)
    return (b.astype(U64) << U64(32)) | c.astype(U64)


def _start(length, seed, n: int):
    """(a, b, c) after the length and the seed went in: ``length`` and ``seed`` each a number or an array."""
    length, seed = np.asarray(length, np.int64), np.asarray(seed, np.uint64)
    if length.ndim == 0 and seed.ndim == 0:  # the same for every key: computed once
        a, b, c = _start(np.full(1, length), np.full(1, seed), 1)
        return np.full(n, a[0], U32), np.full(n, b[0], U32), np.full(n, c[0], U32)
    a = np.empty(n, U32)
    a[...] = (INIT + length) & 0xFFFFFFFF
    b, c = a.copy(), a.copy()
    if seed.ndim == 0:
        if int(seed) != 0:
            a += U32(int(seed) >> 32)
            b += U32(int(seed) & 0xFFFFFFFF)
            _mix(a, b, c)
        return a, b, c
    a0, b0, c0 = a.copy(), b.copy(), c.copy()
    a += (seed >> U64(32)).astype(U32)
    b += (seed & U64(0xFFFFFFFF)).astype(U32)
    _mix(a, b, c)
    zero = seed == 0  # hashfn.c mixes the seed in only when it is not 0
    if zero.any():
        a[zero], b[zero], c[zero] = a0[zero], b0[zero], c0[zero]
    return a, b, c


def hash_uint32(k, seed):
    """hash_bytes_uint32_extended(k, seed) of each value of ``k`` (uint32-convertible; ``seed`` a number or an
    array of uint64)."""
    k = np.asarray(k).astype(np.int64).astype(U32)
    a, b, c = _start(4, seed, len(k))
    a += k
    return _final(a, b, c)


def hash_int8(v, seed):
    """hashint8extended (equal to hashint4extended / hashint2extended for values in their range)."""
    v = np.asarray(v, np.int64)
    lo = v.astype(U32)
    hi = (v >> 32).astype(U32)
    lo ^= np.where(v >= 0, hi, ~hi)
    return hash_uint32(lo, seed)


def hash_date(unix_days, seed):
    """hashint4extended of ``date - date '2000-01-01'`` for days since 1970-01-01."""
    return hash_uint32(np.asarray(unix_days, np.int64) - UNIX_TO_PG_DAYS, seed)


def hash_timestamp(unix_micros, seed):
    """timestamp_hash_extended of microseconds since 1970-01-01."""
    return hash_int8(np.asarray(unix_micros, np.int64) - UNIX_TO_PG_MICROS, seed)


def _words_at(data):
    """A view of ``data`` (uint8, copied once with 12 zero bytes after it) whose item ``p`` is the little-endian
    uint32 starting at byte ``p`` (a stride of one byte: unaligned words, gathered in one indexing); a key's
    tail may read up to 11 bytes past its end."""
    buf = np.zeros(len(data) + 12, np.uint8)
    buf[: len(data)] = data
    return np.ndarray((len(data) + 9,), dtype="<u4", buffer=buf, strides=(1,))


def hash_bytes(data, starts, lengths, seed):
    """hash_bytes_extended of each key ``data[starts[i] : starts[i] + lengths[i]]`` (``data`` uint8; bytes past
    a key do not count). The keys are put in order of their number of whole 12-byte blocks, so that block k of
    every key that has one is a contiguous slice, mixed in place."""
    starts = np.asarray(starts, np.int64)
    lengths = np.asarray(lengths, np.int64)
    n = len(starts)
    words = _words_at(np.asarray(data, np.uint8))
    blocks = lengths // 12
    order = np.argsort(blocks, kind="stable")
    blocks, starts, lengths = blocks[order], starts[order], lengths[order]
    seed = np.asarray(seed, np.uint64)
    a, b, c = _start(lengths, seed if seed.ndim == 0 else seed[order], n)
    for k in range(int(blocks[-1]) if n else 0):
        first = int(np.searchsorted(blocks, k + 1))
        x, y, z = a[first:], b[first:], c[first:]  # views: mixed in place
        p = starts[first:] + 12 * k
        x += words[p]
        y += words[p + 4]
        z += words[p + 8]
        _mix(x, y, z)
    p = starts + 12 * blocks
    tail = lengths - 12 * blocks  # 0..11 bytes; the lowest byte of c is left for the length
    for word, (first, last) in zip((a, b, c), ((0, 4), (4, 8), (8, 11)), strict=True):
        take = np.clip(tail - first, 0, last - first)
        mask = ((np.uint64(1) << (8 * take).astype(U64)) - np.uint64(1)).astype(U32)
        w = words[p + first] & mask
        word += w << U32(8) if first == 8 else w
    out = np.empty(n, U64)
    out[order] = _final(a, b, c)
    return out


def hash_numeric(unscaled, scale: int, seed, negative_seed):
    """hash_numeric_extended of ``unscaled · 10^-scale`` (int64), each value with ``seed`` (or
    ``negative_seed`` when negative: PostgreSQL's numeric hash ignores the sign, the row hash adds it): the
    base-10000 digits aligned on the decimal point, zero digits at both ends dropped, as little-endian int16,
    XOR the weight of the first; zero hashes as ``seed - 1``."""
    u = np.asarray(unscaled, np.int64)
    n = len(u)
    neg = u < 0
    mag = u.astype(np.uint64)
    mag[neg] = ~mag[neg] + np.uint64(1)  # |u| (two's complement: the minimum's too)
    pad = (-scale) % 4  # decimal digits below the lowest base-10000 digit
    low_group = -((scale + pad) // 4)  # exponent (base 10000) of the lowest digit
    groups = np.zeros((6, n), np.uint64)  # least significant first
    first_base = 10 ** (4 - pad)
    groups[0] = (mag % np.uint64(first_base)) * np.uint64(10**pad)
    rest = mag // np.uint64(first_base)
    for g in range(1, 6):
        groups[g] = rest % np.uint64(10000)
        rest //= np.uint64(10000)
    nonzero = groups != 0
    any_digit = nonzero.any(axis=0)
    hi = 5 - np.argmax(nonzero[::-1], axis=0)  # the most significant non-zero digit
    lo = np.argmax(nonzero, axis=0)  # the least significant
    count = np.where(any_digit, hi - lo + 1, 1)
    # the digits from the most significant one down, in the key's byte order
    cols = np.arange(n)
    d = np.zeros((6, n), np.uint64)
    for i in range(6):
        g = hi - i
        take = (i < count) & (g >= 0)
        d[i] = np.where(take, groups[np.clip(g, 0, 5), cols], 0)
    w0 = (d[0] | (d[1] << np.uint64(16))).astype(U32)
    w1 = (d[2] | (d[3] << np.uint64(16))).astype(U32)
    w2 = (d[4] | (d[5] << np.uint64(16))).astype(U32)
    seeds = np.where(neg, np.uint64(negative_seed), np.uint64(seed))
    length = 2 * count
    a, b, c = _start(length, seeds, n)
    full = count == 6  # 12 bytes: one block mixed, an empty tail
    if full.any():
        x, y, z = a[full], b[full], c[full]
        x += w0[full]
        y += w1[full]
        z += w2[full]
        _mix(x, y, z)
        a[full], b[full], c[full] = x, y, z
    part = ~full
    a[part] += w0[part]
    b[part] += w1[part]
    c[part] += (w2[part] & U32(0xFFFF)) << U32(8)  # at most 10 bytes: bytes 8 and 9
    out = _final(a, b, c)
    weight = (low_group + hi).astype(np.int64).view(np.uint64)
    out ^= weight
    return np.where(any_digit, out, seeds - np.uint64(1))


def finish(xor):
    """The row hash's last mix: hashint4extended(0, xor) — the fields' XOR as the seed."""
    return hash_uint32(np.zeros(len(xor), np.int64), np.asarray(xor, np.uint64))


def null_field(position: int) -> int:
    return NULL_FIELD + position


def field_seed(position: int) -> int:
    return position + 1


def negative_seed(position: int) -> int:
    return NEGATIVE_SEED + position
