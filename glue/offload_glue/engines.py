"""Everything that differs between source engines, behind one small interface.

For each engine: the JDBC URL and driver options, the statements that make every session read-only
(and pin the time zone and text formats), catalog introspection, identifier quoting, and the per
column plan (see ``columns.ColumnPlan``): which SQL the source runs to read a column, what Iceberg
type it becomes, and the canonical text form the *source database* computes for validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .columns import ColumnPlan
from .errors import OffloadError

BUCKETS = 4096  # validation buckets: a hash of the key (see validate.py)


@dataclass(frozen=True)
class Connection:
    """Where a source table lives. ``password`` is never logged nor written to lineage."""

    engine: str  # "postgresql" | "mysql" (MySQL and MariaDB)
    host: str
    port: int
    database: str
    user: str
    password: str = ""

    def public(self) -> dict:
        return {"engine": self.engine, "host": self.host, "port": self.port, "database": self.database}


class Engine:
    name = ""
    label = "the source"  # in messages
    driver_class = ""
    default_port = 0
    max_identifier_bytes = 63  # quarantine names are cut to this (cleanup.py)
    binary_copy = False  # the PostgreSQL binary COPY read path (copy_read.py) exists for this engine

    def column_meta(self, row) -> dict:
        """A row of ``columns_sql`` as the keyword arguments ``plan_column`` reads."""
        raise NotImplementedError

    def text_sql(self, expr: str) -> str:
        """SQL turning ``expr`` into its text."""
        raise NotImplementedError

    def bigint_sql(self, expr: str) -> str:
        """SQL casting an integer ``expr`` to a 64-bit integer."""
        raise NotImplementedError

    def sum_input_sql(self, plan: ColumnPlan) -> str:
        """What the source sums for an exact column sum in validation."""
        raise NotImplementedError

    def double_sql(self, plan: ColumnPlan) -> str:
        """The column as a double, for the exact min/max in validation."""
        raise NotImplementedError

    def url(self, c: Connection) -> str:
        raise NotImplementedError

    def driver_properties(self) -> dict[str, str]:
        return {}

    def writable_url(self, c: Connection) -> str:
        """The URL of a session that may write: only source cleanup (cleanup.py) and restore (restore.py) open one."""
        raise NotImplementedError

    def writable_driver_properties(self) -> dict[str, str]:
        return {}

    # -- statements of the source cleanup's writable session (cleanup.py) --
    def lock_timeout_statement(self, seconds: int) -> str:
        raise NotImplementedError

    def table_exists_sql(self, schema: str, table: str) -> str:
        """A query returning 1 when ``schema.table`` is a base table, else 0."""
        raise NotImplementedError

    def rename_table_sql(self, schema: str, old: str, new: str) -> str:
        raise NotImplementedError

    def lock_table_sql(self, schema: str, table: str) -> str | None:
        """A statement keeping ``schema.table`` unchanged until the transaction ends (None: DDL commits
        implicitly on this engine, so no lock can span a count and a rename)."""
        return None

    def session_init_statements(self) -> list[str]:
        raise NotImplementedError

    def session_init_statement(self) -> str:
        """The same statements as one string, for Spark's ``sessionInitStatement`` option."""
        return "; ".join(self.session_init_statements())

    def quote(self, ident: str) -> str:
        raise NotImplementedError

    def literal(self, text: str) -> str:
        raise NotImplementedError

    def table_ref(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}"

    def plan_column(self, index: int, meta: dict) -> ColumnPlan:
        raise NotImplementedError

    columns_sql = ""
    primary_key_sql = ""


# ---------------------------------------------------------------------------------------------
PG_EPOCH_MICROS = 946_684_800_000_000  # 2000-01-01, PostgreSQL's timestamp epoch, in microseconds since 1970


def _pg_epoch_micros(q: str, typ: str) -> str:
    """Microseconds since 1970 as text, exactly, from the timestamp's binary send format (int64
    microseconds since 2000): about half the cost of extract(epoch ...), which computes in numeric."""
    return f"((('x' || encode({typ}_send({q}), 'hex'))::bit(64)::bigint + {PG_EPOCH_MICROS}))::text"


class Postgres(Engine):
    name = "postgresql"
    label = "PostgreSQL"
    driver_class = "org.postgresql.Driver"
    default_port = 5432
    max_identifier_bytes = 63  # longer identifiers are truncated
    binary_copy = True

    columns_sql = (
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, t.typcategory, "
        "CASE WHEN a.atttypmod > 0 THEN a.atttypmod ELSE NULL END, "
        "CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END, col_description(c.oid, a.attnum) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum"
    )
    primary_key_sql = (
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)"
    )

    def url(self, c: Connection) -> str:
        return f"jdbc:postgresql://{c.host}:{c.port}/{c.database}"

    def column_meta(self, row) -> dict:
        return {"name": row[0], "format": row[1], "typname": row[2], "category": row[3], "typmod": row[4]}

    def text_sql(self, expr: str) -> str:
        return f"({expr})::text"

    def bigint_sql(self, expr: str) -> str:
        return f"CAST({expr} AS bigint)"

    def sum_input_sql(self, plan: ColumnPlan) -> str:
        q = self.quote(plan.name)  # sum() of the column itself: int128 accumulators, no numeric casts
        return f"{q}::numeric" if plan.source_type == "money" else q

    def double_sql(self, plan: ColumnPlan) -> str:
        return f"{self.quote(plan.name)}::float8"

    def driver_properties(self) -> dict[str, str]:
        # Read-only from the first statement of every connection (Spark's schema probe runs no
        # sessionInitStatement): a server-side session default, and pgjdbc's READ ONLY transactions.
        return {
            "readOnly": "true",
            "readOnlyMode": "always",
            "ApplicationName": "offload-glue",
            "options": "-c default_transaction_read_only=on -c TimeZone=UTC",
        }

    def writable_url(self, c: Connection) -> str:
        return self.url(c)

    def writable_driver_properties(self) -> dict[str, str]:
        return {"ApplicationName": "offload-cleanup", "options": "-c TimeZone=UTC"}

    def lock_timeout_statement(self, seconds: int) -> str:
        return f"SET lock_timeout = '{seconds}s'"

    def table_exists_sql(self, schema: str, table: str) -> str:
        return (
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {self.literal(schema)} AND c.relname = {self.literal(table)} "
            "AND c.relkind IN ('r', 'p')"
        )

    def rename_table_sql(self, schema: str, old: str, new: str) -> str:
        return f"ALTER TABLE {self.table_ref(schema, old)} RENAME TO {self.quote(new)}"

    def lock_table_sql(self, schema: str, table: str) -> str | None:
        return f"LOCK TABLE {self.table_ref(schema, table)} IN ACCESS EXCLUSIVE MODE"

    def session_init_statements(self) -> list[str]:
        return [
            "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            "SET default_transaction_read_only = on",
            "SET TIME ZONE 'UTC'",
            "SET DateStyle = 'ISO, YMD'",
            "SET IntervalStyle = 'postgres'",
            "SET extra_float_digits = 3",
        ]

    def quote(self, ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def plan_column(self, index: int, meta: dict) -> ColumnPlan:
        name, fmt, typname, category, typmod = (
            meta["name"],
            meta["format"],
            meta["typname"],
            meta["category"],
            meta["typmod"],
        )
        q = self.quote(name)
        base = dict(index=index, name=name, source_type=fmt)
        if typname in ("int2", "int4"):
            return ColumnPlan(
                **base,
                archive_type="int",
                select_sql=q,
                canon_src=f"{q}::text",
                canon_kind="integer",
                numeric_sum=True,
                copy_kind=typname,
            )
        if typname == "int8":
            return ColumnPlan(
                **base,
                archive_type="bigint",
                select_sql=q,
                canon_src=f"{q}::text",
                canon_kind="integer",
                numeric_sum=True,
                copy_kind="int8",
            )
        if typname == "numeric":
            m = re.match(r"numeric\((\d+),(\d+)\)", fmt)
            if m and int(m.group(1)) <= 38:
                p, s = int(m.group(1)), int(m.group(2))
                # Read as text and cast in Spark: NaN/Infinity then fail the job naming the column
                # instead of failing inside the driver.
                return ColumnPlan(
                    **base,
                    archive_type=f"decimal({p},{s})",
                    select_sql=f"{q}::text",
                    read_as_text=True,
                    canon_src=f"{q}::text",
                    canon_kind="decimal",
                    scale=s,
                    numeric_sum=p <= 28,
                    copy_kind="numeric",
                    copy_sql=q,
                )
            return ColumnPlan(
                **base,
                archive_type="string",
                select_sql=f"{q}::text",
                canon_src=f"{q}::text",
                canon_kind="string",
                mapping="numeric without precision or wider than 38 digits: its exact PostgreSQL text",
                copy_kind="text",
            )
        if typname == "money":
            return ColumnPlan(
                **base,
                archive_type="decimal(19,2)",
                select_sql=f"{q}::numeric::text",
                read_as_text=True,
                canon_src=f"{q}::numeric::text",
                canon_kind="decimal",
                scale=2,
                numeric_sum=True,
                mapping="money: decimal(19,2) (the session's lc_monetary must have 2 fraction digits)",
                copy_kind="text",
            )
        if typname == "float4":
            return ColumnPlan(
                **base,
                archive_type="float",
                select_sql=q,
                canon_kind="float_bits",
                float_minmax=True,
                copy_kind="float4",
                canon_src=f"CASE WHEN {q} = 'NaN' THEN '2143289344' "
                f"ELSE (('x' || encode(float4send({q}), 'hex'))::bit(32)::int)::text END",
            )
        if typname == "float8":
            return ColumnPlan(
                **base,
                archive_type="double",
                select_sql=q,
                canon_kind="double_bits",
                float_minmax=True,
                copy_kind="float8",
                canon_src=f"CASE WHEN {q} = 'NaN' THEN '9221120237041090560' "
                f"ELSE (('x' || encode(float8send({q}), 'hex'))::bit(64)::bigint)::text END",
            )
        if typname == "bool":
            return ColumnPlan(
                **base,
                archive_type="boolean",
                select_sql=q,
                canon_src=f"{q}::text",
                canon_kind="string_of_value",
                copy_kind="bool",
            )
        if typname == "bpchar" and typmod:
            # The column itself: its send format and the driver both keep the padding to n characters
            # (bpchar::text would strip it). Cheaper than rpad(col::text, n), which gives the same text.
            return ColumnPlan(
                **base, archive_type="string", select_sql=q, canon_src=q, canon_kind="string", copy_kind="text"
            )
        if typname in ("varchar", "text", "bpchar", "name", "citext"):
            return ColumnPlan(
                **base,
                archive_type="string",
                select_sql=q,
                canon_src=f"{q}::text",
                canon_kind="string",
                copy_kind="text",
            )
        if typname == "bytea":
            return ColumnPlan(
                **base,
                archive_type="binary",
                select_sql=q,
                canon_src=f"encode({q}, 'hex')",
                canon_kind="binary",
                copy_kind="bytea",
            )
        if typname == "date":
            return ColumnPlan(
                **base,
                archive_type="date",
                select_sql=f"{q}::text",
                read_as_text=True,
                canon_src=f"({q} - date '1970-01-01')::text",
                canon_kind="date",
                copy_kind="date",
                copy_sql=q,
            )
        if typname == "timestamp":
            return ColumnPlan(
                **base,
                archive_type="timestamp_ntz",
                select_sql=f"{q}::text",
                read_as_text=True,
                canon_src=_pg_epoch_micros(q, "timestamp"),
                canon_kind="timestamp",
                copy_kind="timestamp",
                copy_sql=q,
            )
        if typname == "timestamptz":
            return ColumnPlan(
                **base,
                archive_type="timestamp",
                select_sql=f"({q} AT TIME ZONE 'UTC')::text",
                read_as_text=True,
                canon_src=_pg_epoch_micros(q, "timestamptz"),
                canon_kind="timestamp",
                copy_kind="timestamp",
                copy_sql=q,
            )  # binary timestamptz: UTC microseconds
        what = {"A": "array: PostgreSQL array literal text", "E": "enum: its label"}.get(category)
        what = what or {
            "interval": "interval: PostgreSQL text (IntervalStyle postgres)",
            "time": "time: HH:MM:SS[.ffffff] text",
            "timetz": "time with time zone: text",
            "uuid": "uuid: canonical text",
            "json": "json: its exact text",
            "jsonb": "jsonb: its normalised text",
            "inet": "inet: text",
            "cidr": "cidr: text",
            "bit": "bit(n): string of 0/1",
            "varbit": "bit varying: string of 0/1",
            "xml": "xml: text",
        }.get(typname, f"{fmt}: its PostgreSQL text output")
        return ColumnPlan(
            **base,
            archive_type="string",
            select_sql=f"{q}::text",
            canon_src=f"{q}::text",
            canon_kind="string",
            mapping=what,
            copy_kind="text",
        )


# ---------------------------------------------------------------------------------------------
class MySql(Engine):
    """MySQL and MariaDB, through the MariaDB Connector/J (jdbc:mysql URL so Spark picks its MySQL dialect)."""

    name = "mysql"
    label = "MySQL/MariaDB"
    driver_class = "org.mariadb.jdbc.Driver"
    default_port = 3306
    max_identifier_bytes = 64  # longer identifiers are refused (64 characters; bytes keep it safe)

    columns_sql = (
        "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH, "
        "IS_NULLABLE, NULLIF(COLUMN_COMMENT, '') "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"
    )
    primary_key_sql = (
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION"
    )

    def url(self, c: Connection) -> str:
        # permitMysqlScheme: MariaDB driver under the jdbc:mysql scheme; tinyInt1isBit=false keeps
        # tinyint(1) an integer (it holds -128..127, not a boolean).
        # sessionVariables: read-only from the first statement of every connection (Spark's schema
        # probe runs no sessionInitStatement).
        return (
            f"jdbc:mysql://{c.host}:{c.port}/{c.database}?permitMysqlScheme&tinyInt1isBit=false"
            "&allowMultiQueries=true&sessionVariables=tx_read_only=1,time_zone='+00:00'"
        )

    def writable_url(self, c: Connection) -> str:
        # No default database: statements name schema.table, and the cleanup login needs no grant beyond them.
        return f"jdbc:mysql://{c.host}:{c.port}/?permitMysqlScheme&sessionVariables=time_zone='+00:00'"

    def lock_timeout_statement(self, seconds: int) -> str:
        return f"SET SESSION lock_wait_timeout = {seconds}"

    def table_exists_sql(self, schema: str, table: str) -> str:
        return (
            "SELECT count(*) FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            f"AND table_schema = {self.literal(schema)} AND table_name = {self.literal(table)}"
        )

    def rename_table_sql(self, schema: str, old: str, new: str) -> str:
        return f"RENAME TABLE {self.table_ref(schema, old)} TO {self.table_ref(schema, new)}"

    def session_init_statements(self) -> list[str]:
        return ["SET SESSION TRANSACTION READ ONLY", "SET time_zone = '+00:00'", "SET NAMES utf8mb4"]

    def column_meta(self, row) -> dict:
        keys = ("name", "column_type", "data_type", "precision", "scale", "length")
        return dict(zip(keys, row[:6], strict=True))

    def text_sql(self, expr: str) -> str:
        return f"CAST({expr} AS CHAR)"

    def bigint_sql(self, expr: str) -> str:
        return f"CAST({expr} AS SIGNED)"

    def sum_input_sql(self, plan: ColumnPlan) -> str:
        return f"({self.quote(plan.name)} + 0)"

    def double_sql(self, plan: ColumnPlan) -> str:
        return f"CAST({self.quote(plan.name)} AS DOUBLE)"

    def quote(self, ident: str) -> str:
        return "`" + ident.replace("`", "``") + "`"

    def literal(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def plan_column(self, index: int, meta: dict) -> ColumnPlan:
        name, ctype, dtype = meta["name"], meta["column_type"].lower(), meta["data_type"].lower()
        q = self.quote(name)
        base = dict(index=index, name=name, source_type=ctype)
        unsigned = "unsigned" in ctype
        text = f"CAST({q} AS CHAR)"
        if dtype in ("tinyint", "smallint", "mediumint") or (dtype == "int" and not unsigned):
            return ColumnPlan(
                **base,
                archive_type="int",
                select_sql=q,
                canon_src=text,
                canon_kind="integer",
                numeric_sum=True,
                mapping="tinyint(1) is an integer, not a boolean" if ctype.startswith("tinyint(1)") else "",
            )
        if dtype == "int" or (dtype == "bigint" and not unsigned):
            return ColumnPlan(
                **base, archive_type="bigint", select_sql=q, canon_src=text, canon_kind="integer", numeric_sum=True
            )
        if dtype == "bigint":
            return ColumnPlan(
                **base,
                archive_type="decimal(20,0)",
                select_sql=text,
                read_as_text=True,
                canon_src=text,
                canon_kind="decimal",
                scale=0,
                numeric_sum=True,
                mapping="bigint unsigned: decimal(20,0)",
            )
        if dtype == "decimal":
            p, s = int(meta["precision"]), int(meta["scale"])
            if p <= 38:
                return ColumnPlan(
                    **base,
                    archive_type=f"decimal({p},{s})",
                    select_sql=text,
                    read_as_text=True,
                    canon_src=text,
                    canon_kind="decimal",
                    scale=s,
                    numeric_sum=p <= 28,
                )
            return ColumnPlan(
                **base,
                archive_type="string",
                select_sql=text,
                canon_src=text,
                canon_kind="string",
                mapping="decimal wider than 38 digits: its exact text",
            )
        if dtype in ("float", "double"):
            # FLOAT travels as DOUBLE: the text protocol prints a FLOAT with 6 digits only. MySQL cannot
            # show a double's bits in SQL, but its text of a DOUBLE is the shortest text that reads back
            # as the same value (MariaDB 10.x, MySQL 8), and a FLOAT's value is exactly a double. Spark
            # parses that text (Java, correctly rounded) into the bit pattern: the same canonical text
            # as the archive side computes (and as PostgreSQL's floats).
            exact_text = f"CAST(CAST({q} AS DOUBLE) AS CHAR)"
            if dtype == "float":
                from_src = "reflect('java.lang.Float', 'floatToIntBits', CAST(CAST({x} AS DOUBLE) AS FLOAT))"
            else:
                from_src = "reflect('java.lang.Double', 'doubleToLongBits', CAST({x} AS DOUBLE))"
            return ColumnPlan(
                **base,
                archive_type="float" if dtype == "float" else "double",
                select_sql=f"CAST({q} AS DOUBLE)",
                canon_src=exact_text,
                canon_kind="float_bits" if dtype == "float" else "double_bits",
                canon_from_src=f"CASE WHEN {{x}} IS NULL THEN NULL ELSE {from_src} END",
                float_minmax=True,
            )
        if dtype == "bit":
            n = int(meta["precision"] or 1)
            return ColumnPlan(
                **base,
                archive_type="bigint" if n < 64 else "decimal(20,0)",
                select_sql=f"CAST(CAST({q} AS UNSIGNED) AS CHAR)",
                read_as_text=True,
                canon_src=f"CAST(CAST({q} AS UNSIGNED) AS CHAR)",
                canon_kind="integer" if n < 64 else "decimal",
                scale=0,
                mapping=f"bit({n}): its unsigned integer value",
            )
        if dtype == "year":
            return ColumnPlan(
                **base,
                archive_type="int",
                select_sql=f"CAST({q} AS UNSIGNED)",
                canon_src=f"CAST(CAST({q} AS UNSIGNED) AS CHAR)",
                canon_kind="integer",
                numeric_sum=True,
                mapping="year: int (0 for YEAR 0000)",
            )
        if dtype in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"):
            return ColumnPlan(
                **base,
                archive_type="string",
                select_sql=q,
                canon_src=q,
                canon_kind="string",
                mapping={"enum": "enum: its label", "set": "set: its comma-separated text"}.get(dtype, ""),
            )
        if dtype in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
            return ColumnPlan(
                **base, archive_type="binary", select_sql=q, canon_src=f"LOWER(HEX({q}))", canon_kind="binary"
            )
        if dtype == "date":
            return ColumnPlan(
                **base,
                archive_type="date",
                select_sql=text,
                read_as_text=True,
                canon_src=f"CAST(DATEDIFF({q}, '1970-01-01') AS CHAR)",
                canon_kind="date",
                mapping="date: zero or partial-zero dates fail the job naming the column",
            )
        if dtype in ("datetime", "timestamp"):
            return ColumnPlan(
                **base,
                archive_type="timestamp_ntz" if dtype == "datetime" else "timestamp",
                select_sql=text,
                read_as_text=True,
                canon_src=f"CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {q}) AS CHAR)",
                canon_kind="timestamp",
                mapping=f"{dtype}: zero dates fail the job naming the column",
            )
        if dtype == "time":
            return ColumnPlan(
                **base,
                archive_type="string",
                select_sql=text,
                canon_src=text,
                canon_kind="string",
                mapping="time: text [-]HHH:MM:SS[.ffffff] (a duration, not a time of day)",
            )
        if dtype in (
            "geometry",
            "point",
            "linestring",
            "polygon",
            "multipoint",
            "multilinestring",
            "multipolygon",
            "geometrycollection",
        ):
            raise OffloadError(
                "unsupported_type", f"column {name!r} has spatial type {ctype}, which is not archived", column=name
            )
        return ColumnPlan(
            **base,
            archive_type="string",
            select_sql=text,
            canon_src=text,
            canon_kind="string",
            mapping=f"{ctype}: its text",
        )


ENGINES: dict[str, Engine] = {"postgresql": Postgres(), "mysql": MySql(), "mariadb": MySql()}


def engine_for(name: str) -> Engine:
    try:
        return ENGINES[name.lower()]
    except KeyError:
        raise OffloadError("unknown_engine", f"unknown source engine {name!r}; use one of {sorted(ENGINES)}") from None
