"""The Java port of PostgreSQL's extended hash functions (glue/jvm PgHash) against PostgreSQL's own
functions: every expectation is computed by the live PostgreSQL server (hashint8extended,
hash_numeric_extended, hashtextextended, …), never by the code under test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import pg_exec
from offload_glue import copy_read

SEEDS = [0, 1, 42, -1, 0x7A5B22367996DCFD, -(2**63), 2**63 - 1, 17 << 32]


@pytest.fixture(scope="module")
def pghash(spark):
    if not copy_read.available(spark):
        pytest.fail("offload-pgcopy.jar is not on the class path: run scripts/pyenv.sh")
    return spark.sparkContext._jvm.offload.pgcopy.PgHash


def _pg_values(pg_db, sql_type: str, literals: list[str], fn: str) -> list[tuple]:
    """(value text, seed, PostgreSQL's hash) for every literal and seed."""
    values = ", ".join(f"({lit}::{sql_type})" for lit in literals)
    seeds = ", ".join(f"('{s}'::bigint)" for s in SEEDS)
    return pg_exec(
        pg_db,
        f"SELECT v::text, s, {fn}(v, s) FROM (VALUES {values}) AS a(v) CROSS JOIN (VALUES {seeds}) AS b(s)",
    )


INTS = ["0", "1", "-1", "2147483647", "-2147483648", "2147483648", "-2147483649", "4294967296", "-4294967296"]
INTS += ["9223372036854775807", "-9223372036854775808", "1000000007", "-123456789012", "65535", "-32768"]


def test_int8_int4_int2(pg_db, pghash):
    rows = _pg_values(pg_db, "bigint", [f"'{v}'" for v in INTS], "hashint8extended")
    assert len(rows) == len(INTS) * len(SEEDS)
    for v, s, h in rows:
        assert pghash.hashInt8Extended(int(v), s) == h, (v, s)
    small = [v for v in INTS if -(2**31) <= int(v) < 2**31]
    for v, s, h in _pg_values(pg_db, "int", [f"'{v}'" for v in small], "hashint4extended"):
        assert pghash.hashUint32Extended(int(v), s) == h, (v, s)
        assert pghash.hashInt8Extended(int(v), s) == h, (v, s)  # an int8 in the int4 range hashes as the int4
    for v, s, h in _pg_values(pg_db, "smallint", ["'0'", "'-1'", "'32767'", "'-32768'", "'7'"], "hashint2extended"):
        assert pghash.hashInt8Extended(int(v), s) == h, (v, s)


NUMERICS = ["0", "0.00", "-0.00", "1", "-1", "0.01", "-0.01", "1.00", "10000", "-10000", "9999.9999", "12345.67"]
NUMERICS += ["0.0001", "0.00001", "0.00000001", "-0.00000001", "100000000", "123456789012.3456", "99999999.99"]
NUMERICS += ["-9999999999999999.99", "999999999999999999", "-999999999999999999", "1e20", "12345678901234567890123"]
NUMERICS += ["0.123456789012345678", "-7.5", "1234.5", "100.001", "20000.0002", "3.14159265358979323846"]


def test_numeric(spark, pg_db, pghash):
    rows = _pg_values(pg_db, "numeric", [f"'{v}'" for v in NUMERICS], "hash_numeric_extended")
    assert len(rows) == len(NUMERICS) * len(SEEDS)
    for v, s, h in rows:
        d = Decimal(v)
        big = d.as_tuple()
        unscaled = int("".join(map(str, big.digits))) * (-1 if big.sign else 1)
        scale = -big.exponent
        jbd = _big_decimal(spark, unscaled, scale)
        assert pghash.hashNumericExtended(jbd, s) == h, (v, s)
        if -(2**63) < unscaled < 2**63 and scale >= 0:
            assert pghash.hashNumericExtended(unscaled, scale, s) == h, (v, s)


def _big_decimal(spark, unscaled: int, scale: int):
    j = spark.sparkContext._jvm
    return j.java.math.BigDecimal(j.java.math.BigInteger(str(unscaled)), scale)


def test_numeric_typed_scales(pg_db, pghash):
    """Values stored in numeric(p,s) columns (their stored scale is s) hash as the Java port of their unscaled
    value with that scale."""
    for typ, scale in [("numeric(15,2)", 2), ("numeric(12,4)", 4), ("numeric(18,0)", 0), ("numeric(18,9)", 9)]:
        rows = pg_exec(
            pg_db,
            f"SELECT v::text, hash_numeric_extended(v, 7) FROM (VALUES ('0'::{typ}), ('-1.5'::{typ}), "
            f"('123.25'::{typ}), ('0.5'::{typ}), ('-100'::{typ}), ('-0.0004'::{typ})) AS a(v)",
        )
        for v, h in rows:
            unscaled = int(Decimal(v).scaleb(scale))
            assert pghash.hashNumericExtended(unscaled, scale, 7) == h, (typ, v)


TEXTS = ["", "a", "ab", "abc", "abcd", "abcde", "hello world!", "twelve bytes", "thirteen byte", "x" * 23, "y" * 24]
TEXTS += ["é", "naïve café", "日本語のテキスト", "emoji 😀 four bytes", "tab\there", "back\\slash", "  lead", "trail  "]
TEXTS += ["a\nb", "\\N", "ünïcödé " * 7]


def _lit(t: str) -> str:
    return "E'" + t.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t") + "'"


def test_text(pg_db, pghash):
    rows = pg_exec(
        pg_db,
        'SELECT v, s, hashtextextended(v COLLATE "C", s) FROM (VALUES '
        + ", ".join(f"({_lit(t)}::text)" for t in TEXTS)
        + ") AS a(v) CROSS JOIN (VALUES "
        + ", ".join(f"('{s}'::bigint)" for s in SEEDS)
        + ") AS b(s)",
    )
    assert len(rows) == len(TEXTS) * len(SEEDS)
    for v, s, h in rows:
        assert pghash.hashTextExtended(v.encode("utf-8"), s) == h, (v, s)


def test_bpchar_ignores_trailing_blanks(pg_db, pghash):
    rows = pg_exec(
        pg_db,
        'SELECT v::text, rpad(v::text, 12), s, hashbpcharextended(v COLLATE "C", s) FROM (VALUES '
        + ", ".join(f"({_lit(t)}::char(12))" for t in ["", "a", "ab  ", "  lead", "é ü", "twelve chars", "日本"])
        + ") AS a(v) CROSS JOIN (VALUES (0::bigint), (5), (-3)) AS b(s)",
    )
    assert len(rows) == 21
    for trimmed, padded, s, h in rows:
        # the archive holds the padded text (char(n) keeps its padding); PostgreSQL hashes without it
        assert pghash.hashBpcharExtended(padded.encode("utf-8"), s) == h, (padded, s)
        assert pghash.hashBpcharExtended(trimmed.encode("utf-8"), s) == h, (trimmed, s)


def test_dates(pg_db, pghash):
    dates = ["'1970-01-01'", "'2000-01-01'", "'1999-12-31'", "'0001-01-01'", "'9999-12-31'", "'4713-11-24 BC'"]
    dates += ["'5874897-12-31'", "'2024-02-29'", "'1900-03-01'"]
    rows = pg_exec(
        pg_db,
        "SELECT v - date '1970-01-01', s, hashint4extended(v - date '2000-01-01', s) FROM (VALUES "
        + ", ".join(f"({d}::date)" for d in dates)
        + ") AS a(v) CROSS JOIN (VALUES (0::bigint), (12), (-99)) AS b(s)",
    )
    assert len(rows) == len(dates) * 3
    for days, s, h in rows:
        assert pghash.hashDateExtended(days, s) == h, (days, s)


def test_timestamps(pg_db, pghash):
    stamps = ["'1970-01-01 00:00:00'", "'2000-01-01 00:00:00'", "'1999-12-31 23:59:59.999999'"]
    stamps += ["'0001-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'4713-01-01 00:00:00 BC'"]
    stamps += ["'200000-12-31 23:59:59.999999'", "'2024-02-29 12:34:56.789012'", "'1969-12-31 23:59:59.999999'"]
    sql = (
        "SELECT (extract(epoch FROM v) * 1000000)::numeric(30,0)::text, s, timestamp_hash_extended(v, s), "
        "timestamp_hash_extended(v::timestamptz::timestamp, s) FROM (VALUES "
        + ", ".join(f"({t}::timestamp)" for t in stamps)
        + ") AS a(v) CROSS JOIN (VALUES (0::bigint), (3), (-(2::bigint ^ 40)::bigint)) AS b(s)"
    )
    rows = pg_exec(pg_db, sql)
    assert len(rows) == len(stamps) * 3
    for micros, s, h, h_tz in rows:
        assert pghash.hashTimestampExtended(int(micros), s) == h, (micros, s)
        assert h_tz == h  # timestamptz (UTC session) hashes as its timestamp
    inf = pg_exec(pg_db, "SELECT timestamp_hash_extended('infinity'::timestamp, 0)")[0][0]
    assert pghash.hashInt8Extended(2**63 - 1, 0) == inf  # PostgreSQL's infinity is the int64 maximum


def test_hash_bytes_lengths(pg_db, pghash):
    """Every tail length of the Jenkins hash (0 to 40 bytes, multibyte characters at the boundaries)."""
    texts = ["".join("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"[:n]) for n in range(41)]
    texts += ["é" * n for n in range(1, 14)]
    rows = pg_exec(
        pg_db,
        'SELECT v, hashtextextended(v COLLATE "C", 0), hashtextextended(v COLLATE "C", 987654321) FROM '
        "unnest(%s::text[]) AS v",
        (texts,),
    )
    assert len(rows) == len(texts)
    for v, h0, h1 in rows:
        assert pghash.hashTextExtended(v.encode("utf-8"), 0) == h0, v
        assert pghash.hashTextExtended(v.encode("utf-8"), 987654321) == h1, v
