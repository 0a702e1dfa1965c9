"""Creates the demo source databases `bash scripts/main.sh` archives: `offload_demo` on the local
PostgreSQL and `shop` on the local MariaDB (the test servers of scripts/services.sh, settings from
scripts/services.env). A few dozen tables, a few megabytes: monthly sales tables aged by their name,
audit tables aged by a date column, tables with awkward names and types, recent tables that stay.
Idempotent: each table is created once — a marker table (`public.demo_tables`, `shop.demo_tables`,
outside the demo's scopes) remembers it, so a table the pipeline later drops (source cleanup) is not
re-created; the demo's second run changes nothing. Deterministic data (fixed seed)."""

from __future__ import annotations

import os
import random
import sys
from datetime import UTC, date, datetime, timedelta

PG_DB = "offload_demo"
MY_DB = "shop"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run `bash scripts/services.sh && source scripts/services.env` first")
    return value


def months(first: date, count: int):
    y, m = first.year, first.month
    for _ in range(count):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def pg_tables(rng: random.Random):
    """(schema, table, DDL columns, rows) of the PostgreSQL demo."""
    out = []
    for y, m in months(date(2024, 7, 1), 24):
        start = datetime(y, m, 1, tzinfo=UTC)
        rows = [
            (
                i,
                start + timedelta(minutes=rng.randrange(27 * 24 * 60)),
                f"{rng.randrange(1, 10_000_000) / 100:.2f}",
                rng.choice(["GBP", "EUR", "USD"]),
                f"{rng.getrandbits(128):032x}",
                None if i % 17 == 0 else rng.choice(["card", "transfer", "direct débit", "コンビニ"]),
                i % 3 == 0,
            )
            for i in range(1, 1501)
        ]
        out.append(
            (
                "sales",
                f"txn_{y}{m:02d}",
                "id bigint PRIMARY KEY, booked_at timestamptz NOT NULL, amount numeric(14,2) NOT NULL, "
                "currency char(3) NOT NULL, customer uuid, note text, refunded boolean",
                rows,
            )
        )
    audit = [
        (
            i,
            datetime(2022, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(700 * 86400)),
            rng.choice(["alice", "bob", "carol", "service-account"]),
            rng.choice(["login", "logout", "grant", "export"]),
            f'{{"ip_hops": {rng.randrange(1, 6)}, "ok": {str(i % 5 != 0).lower()}}}',
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        )
        for i in range(1, 5001)
    ]
    cols = (
        "id bigint PRIMARY KEY, logged_at timestamptz NOT NULL, actor text, action text, details jsonb, source_ip inet"
    )
    out.append(("audit", "audit_log", cols, audit))
    recent = [(i, datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=i), "dave", "login", "{}", "10.0.0.1")
              for i in range(1, 301)]  # fmt: skip
    out.append(("audit", "login_events", cols, recent))
    odd_rows = [
        (i, date(2024, 1, 1) + timedelta(days=i % 300), f"{rng.getrandbits(60)}.{rng.randrange(10**10):010d}",
         bytes(rng.getrandbits(8) for _ in range(8)), f'quote " and tab\t#{i}')
        for i in range(1, 401)
    ]  # fmt: skip
    odd_cols = ('"Select" int PRIMARY KEY, created_at date NOT NULL, "Amount (EUR)" numeric(38,10), '
                'raw bytea, "weird ""col""" text')  # fmt: skip
    out.append(("odd", "Mixed Case Table", odd_cols, odd_rows))
    out.append(
        (
            "odd",
            "ünïcode_täble",
            odd_cols,
            [(r[0], date(2025, 1, 1) + timedelta(days=r[0] % 30), *r[2:]) for r in odd_rows],
        )
    )
    out.append(("odd", "recent_things", odd_cols, [(r[0], date(2026, 11, 1), *r[2:]) for r in odd_rows[:50]]))
    return out


def my_tables(rng: random.Random):
    out = []
    for year in range(2019, 2027):
        rows = [
            (
                i,
                datetime(year, 1, 1) + timedelta(seconds=rng.randrange(360 * 86400)),
                f"{rng.randrange(1, 5_000_000) / 100:.2f}",
                rng.choice(["new", "paid", "shipped"]),
                bytes(rng.getrandbits(8) for _ in range(6)),
                None if i % 11 == 0 else rng.choice(["gift", "express", "Zürich", "东京"]),
            )
            for i in range(1, 2001)
        ]
        out.append(
            (
                f"orders_{year}",
                "id INT PRIMARY KEY, ordered_at DATETIME NOT NULL, total DECIMAL(12,2) NOT NULL, "
                "status ENUM('new','paid','shipped') NOT NULL, payload BLOB, comment VARCHAR(40)",
                rows,
            )
        )
    return out


def create_postgres() -> tuple[int, int]:
    import psycopg2

    host, port = env("OFFLOAD_TEST_PG_HOST"), int(env("OFFLOAD_TEST_PG_PORT"))
    user, password = env("OFFLOAD_TEST_USER"), env("OFFLOAD_TEST_PASSWORD")
    admin = psycopg2.connect(host=host, port=port, dbname=env("OFFLOAD_TEST_DB"), user=user, password=password)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,))
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{PG_DB}"')
    admin.close()
    conn = psycopg2.connect(host=host, port=port, dbname=PG_DB, user=user, password=password)
    created = kept = 0
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS public.demo_tables "
            "(schema_name text, table_name text, PRIMARY KEY (schema_name, table_name))"
        )
        for schema, table, cols, rows in pg_tables(random.Random(20261202)):
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cur.execute("SELECT 1 FROM public.demo_tables WHERE schema_name = %s AND table_name = %s", (schema, table))
            if cur.fetchone():
                kept += 1
                continue
            ident = f'"{schema}"."{table.replace(chr(34), chr(34) * 2)}"'
            cur.execute(f"CREATE TABLE {ident} ({cols})")
            marks = ", ".join(["%s"] * len(rows[0]))
            cur.executemany(f"INSERT INTO {ident} VALUES ({marks})", rows)
            cur.execute("INSERT INTO public.demo_tables VALUES (%s, %s)", (schema, table))
            created += 1
    conn.close()
    return created, kept


def create_mariadb() -> tuple[int, int]:
    import pymysql

    conn = pymysql.connect(
        host=env("OFFLOAD_TEST_MYSQL_HOST"),
        port=int(env("OFFLOAD_TEST_MYSQL_PORT")),
        user=env("OFFLOAD_TEST_USER"),
        password=env("OFFLOAD_TEST_PASSWORD"),
        charset="utf8mb4",
        autocommit=True,
    )
    created = kept = 0
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{MY_DB}` CHARACTER SET utf8mb4")
        cur.execute(f"CREATE TABLE IF NOT EXISTS `{MY_DB}`.demo_tables (table_name VARCHAR(64) PRIMARY KEY)")
        for table, cols, rows in my_tables(random.Random(20261203)):
            cur.execute(f"SELECT 1 FROM `{MY_DB}`.demo_tables WHERE table_name = %s", (table,))
            if cur.fetchone():
                kept += 1
                continue
            cur.execute(f"CREATE TABLE `{MY_DB}`.`{table}` ({cols})")
            marks = ", ".join(["%s"] * len(rows[0]))
            cur.executemany(f"INSERT INTO `{MY_DB}`.`{table}` VALUES ({marks})", rows)
            cur.execute(f"INSERT INTO `{MY_DB}`.demo_tables VALUES (%s)", (table,))
            created += 1
    conn.close()
    return created, kept


def main() -> None:
    pg = create_postgres()
    my = create_mariadb()
    print(
        f"[demo] PostgreSQL {PG_DB}: {pg[0]} tables created, {pg[1]} already there; "
        f"MariaDB {MY_DB}: {my[0]} created, {my[1]} already there"
    )


if __name__ == "__main__":
    main()
