"""Restore an archived table into a NEW table of a source database, for an audit or a rollback.

Guarantees:
  * never overwrites — a target name that exists (table, view or anything else) is refused before
    anything is written, and the final rename refuses it again atomically (PostgreSQL's ALTER TABLE
    RENAME and MySQL's RENAME TABLE both fail on an existing name), so a table created meanwhile wins;
  * no half table under the final name — rows go into a staging table (``zz_offload_r_<target>``,
    marked by its comment), which is validated and then renamed; a killed restore leaves at most that
    staging table, which a rerun drops (only a table carrying the marker) and reports;
  * faithful — the columns get the source types recorded in the archive's lineage (``offload.columns``)
    when the target engine is the source's and the type exists there, else the Iceberg type's
    nearest; the restored table is then validated against the archive (snapshot): on the arrow write
    path (restore_arrow.py) every value of every row is read back and compared by key, with counts
    and aggregates; on the Spark paths with the archive job's own validation (validate.py: counts,
    aggregates, row hashes), the restored table as source;
  * read-only archive — the archive is only read (a given snapshot, or the current one);
  * its own credential — the writes use the restore credential; one that cannot create tables in the
    target schema (a read-only discovery/archive login) is refused before anything is written.
Preconditions: the target schema exists; the restore credential may create tables in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from . import restore_arrow
from .columns import ColumnPlan, spark_canon_expr
from .engines import Connection, Engine, engine_for
from .errors import OffloadError
from .iceberg_table import table_properties
from .jdbc import Statements, open_connection
from .lineage import LINEAGE_PREFIX
from .names import archive_table_name, spark_col, spark_ident
from .restore_arrow import DEFAULT_MAX_BYTES as ARROW_MAX_BYTES

STAGING_PREFIX = "zz_offload_r_"
MARKER = "offload restore"  # every table comment this job writes starts with it
WRITE_PATHS = ("auto", "arrow", "copy", "jdbc")
# Test hooks: a test registers a callable under a point's name (tests tamper with the staging table there).
TEST_HOOKS: dict = {}


@dataclass
class RestoreRequest:
    connection: Connection  # the target database with the restore (write) credential
    schema: str  # target schema (MySQL: database)
    target_table: str
    archive_table: str | None = None  # default: archive_table_name(source_schema, source_table)
    source_schema: str | None = None
    source_table: str | None = None
    catalog: str = "offload"
    database: str = "archive"
    snapshot_id: int | None = None  # None: the archive's current snapshot
    dry_run: bool = False
    # auto | arrow (Arrow-built COPY text into COPY FROM STDIN, PostgreSQL) | copy (Spark's COPY text files) |
    # jdbc (Spark's JDBC writer); arrow falls back to auto's Spark path where it does not apply (restore_arrow.plan
    # says why)
    write_path: str = "auto"
    arrow_max_bytes: int = ARROW_MAX_BYTES  # arrow path: at most this many bytes of data files (else a Spark path)
    # arrow path: checksums (restore_hash.py: per-bucket row hash sums computed by PostgreSQL and by the readers
    # while writing; a difference reads every value back) | values (every value read back and compared)
    arrow_validation: str = "checksums"
    # arrow path: auto (PostgreSQL's binary COPY format when every column has one, restore_binary.py; else the
    # text format) | text
    copy_format: str = "auto"
    num_partitions: int = 0  # parallel writers; 0: Spark's default parallelism
    temp_dir: str | None = None  # copy path: where the COPY text files are staged (default: a local temp dir)
    run_id: str | None = None


def staging_name(engine: str, target: str) -> str:
    """``zz_offload_r_<target>``, cut to the engine's identifier limit with a hash of the full name."""
    name = f"{STAGING_PREFIX}{target}"
    limit = engine_for(engine).max_identifier_bytes
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name.encode()[: limit - 9].decode(errors='ignore')}_{digest}"


# ---- the target engine's SQL ------------------------------------------------------------------------
FALLBACK_TYPES = {
    "postgresql": {
        "int": "integer",
        "bigint": "bigint",
        "float": "real",
        "double": "double precision",
        "boolean": "boolean",
        "string": "text",
        "binary": "bytea",
        "date": "date",
        "timestamp_ntz": "timestamp(6)",
        "timestamp": "timestamptz(6)",
    },
    "mysql": {
        "int": "int",
        "bigint": "bigint",
        "float": "float",
        "double": "double",
        "boolean": "tinyint(1)",
        "string": "longtext",
        "binary": "longblob",
        "date": "date",
        "timestamp_ntz": "datetime(6)",
        "timestamp": "timestamp(6)",
    },
}


def fallback_type(engine: str, archive_type: str) -> str:
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", archive_type)
    if m:
        return f"{'numeric' if engine == 'postgresql' else 'decimal'}({m.group(1)},{m.group(2)})"
    try:
        return FALLBACK_TYPES[engine][archive_type]
    except KeyError:
        raise OffloadError("unsupported_type", f"archive type {archive_type} has no {engine} column type") from None


@dataclass(frozen=True)
class TargetColumn:
    name: str
    archive_type: str  # Spark SQL type of the archive's column
    sql_type: str  # the column type created
    from_lineage: bool  # the source type recorded in the lineage (else the fallback)
    required: bool
    note: str = ""


def _lineage_types(props: dict, engine: str) -> dict[str, tuple[str, str]]:
    """name -> (source type, archive type) from ``offload.columns`` when the archive came from this engine."""
    if props.get(LINEAGE_PREFIX + "source.engine") != engine:
        return {}
    try:
        return {c[0]: (c[1], c[2]) for c in json.loads(props.get(LINEAGE_PREFIX + "columns") or "[]")}
    except (ValueError, IndexError, TypeError):
        return {}


def plan_columns(df, props: dict, engine: str, type_exists) -> list[TargetColumn]:
    """The restored table's columns: the lineage's source type where it fits, else the fallback type."""
    recorded = _lineage_types(props, engine)
    out = []
    for f in df.schema.fields:
        at = f.dataType.simpleString()
        src = recorded.get(f.name)
        note = ""
        if src and src[1] == at:
            if type_exists(src[0]):
                out.append(TargetColumn(f.name, at, src[0], True, not f.nullable))
                continue
            note = f"source type {src[0]} does not exist in the target database"
        elif src:
            note = f"the lineage records {src[1]} for this column, the snapshot holds {at}"
        out.append(TargetColumn(f.name, at, fallback_type(engine, at), False, not f.nullable, note))
    return out


def _quote(engine: Engine, name: str) -> str:
    return engine.quote(name)


def create_table_sql(engine: Engine, schema: str, table: str, cols: list[TargetColumn], key: list[str], note: str):
    parts = [f"{_quote(engine, c.name)} {c.sql_type} {'NOT NULL' if c.required else 'NULL'}" for c in cols]
    if engine.name == "mysql" and key:  # InnoDB clusters on the key: created with the table
        parts.append(f"PRIMARY KEY ({', '.join(_quote(engine, k) for k in key)})")
    sql = f"CREATE TABLE {engine.table_ref(schema, table)} ({', '.join(parts)})"
    if engine.name == "mysql":
        return [sql + f" COMMENT = {engine.literal(note)}"]
    return [sql, f"COMMENT ON TABLE {engine.table_ref(schema, table)} IS {engine.literal(note)}"]


def relation_exists_sql(engine: Engine, schema: str, table: str) -> str:
    """A query returning the count of relations of any kind named ``schema.table``."""
    if engine.name == "postgresql":
        return (
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {engine.literal(schema)} AND c.relname = {engine.literal(table)}"
        )
    return (
        "SELECT count(*) FROM information_schema.tables "
        f"WHERE table_schema = {engine.literal(schema)} AND table_name = {engine.literal(table)}"
    )


def comment_sql(engine: Engine, schema: str, table: str) -> str:
    if engine.name == "postgresql":
        return (
            "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {engine.literal(schema)} AND c.relname = {engine.literal(table)}"
        )
    return (
        "SELECT table_comment FROM information_schema.tables "
        f"WHERE table_schema = {engine.literal(schema)} AND table_name = {engine.literal(table)}"
    )


def schema_exists_sql(engine: Engine, schema: str) -> str:
    if engine.name == "postgresql":
        return f"SELECT count(*) FROM pg_namespace WHERE nspname = {engine.literal(schema)}"
    return f"SELECT count(*) FROM information_schema.schemata WHERE schema_name = {engine.literal(schema)}"


def can_create_sql(engine: Engine, schema: str) -> str:
    """1 when the session's login may create tables in ``schema`` (and its sessions may write)."""
    if engine.name == "postgresql":
        return (
            f"SELECT CASE WHEN has_schema_privilege(current_user, {engine.literal(schema)}, 'CREATE') "
            "AND current_setting('transaction_read_only') = 'off' THEN 1 ELSE 0 END"
        )
    # the login's own privileges: global, or on a database pattern matching the schema
    return (
        "SELECT (SELECT count(*) FROM information_schema.user_privileges WHERE privilege_type = 'CREATE') + "
        "(SELECT count(*) FROM information_schema.schema_privileges WHERE privilege_type = 'CREATE' "
        f"AND {engine.literal(schema)} LIKE table_schema)"
    )


def write_url(engine: Engine, c: Connection) -> str:
    if engine.name == "postgresql":
        return engine.url(c)
    return (
        f"jdbc:mysql://{c.host}:{c.port}/?permitMysqlScheme&useBulkStmts=true"
        "&sessionVariables=time_zone='+00:00',sql_mode=STRICT_ALL_TABLES"
    )


def write_properties(engine: Engine) -> dict[str, str]:
    if engine.name == "postgresql":
        # stringtype=unspecified: the text of each value is typed by the server as the column's type
        return {
            "ApplicationName": "offload-restore",
            "options": "-c TimeZone=UTC",
            "stringtype": "unspecified",
            "reWriteBatchedInserts": "true",
        }
    return {}


class RestoreSession(Statements):
    """A JDBC session with the restore credential — NOT read-only — on the Spark driver."""

    def __init__(self, spark, engine: Engine, conn: Connection):
        self._conn = open_connection(spark, engine, conn, writable=True)
        if engine.name == "mysql":
            self.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
        else:
            self.execute("SET application_name = 'offload-restore'")

    def transaction(self, statements: list[str]) -> None:
        self._conn.setAutoCommit(False)
        try:
            for sql in statements:
                self.execute(sql)
            self._conn.commit()
        except Exception:
            self._conn.rollback()
            raise
        finally:
            self._conn.setAutoCommit(True)


# ---- the rows: Spark SQL text of each value, in the form the target parses ---------------------------
BS, TAB, NL, CR = "chr(92)", "chr(9)", "chr(10)", "chr(13)"


def value_text(c: TargetColumn, engine: str, load: bool = False) -> str | None:
    """Spark SQL text of the column's value as the target engine reads it back exactly (None: the value
    travels in its own Spark type — MySQL numbers and binaries)."""
    x, t = spark_col(c.name), c.archive_type
    m = re.fullmatch(r"decimal\((\d+),(\d+)\)", t)
    if engine == "mysql" and not load and (m or t in ("int", "bigint", "float", "double", "binary")):
        return None  # bound as numbers (a text into a BIT column would be taken as its bytes) and bytes
    if engine == "mysql" and t == "binary":  # LOAD DATA: hex text, UNHEX()ed by its SET clause
        return f"lower(hex({x}))"
    if m:  # plain notation (Spark would print 1E-8)
        return spark_canon_expr(ColumnPlan(0, c.name, "", t, "", "", "decimal", scale=int(m.group(2))))
    if t == "binary":
        return f"concat({BS}, 'x', lower(hex({x})))" if engine == "postgresql" else None
    if t == "boolean" and engine == "mysql":
        return f"CASE WHEN {x} THEN '1' ELSE '0' END"
    if t == "timestamp" and engine == "postgresql":  # the instant, in UTC (the session's zone)
        return f"concat(CAST({x} AS STRING), '+00')"
    return f"CAST({x} AS STRING)"


def copy_line(cols: list[TargetColumn], engine: str = "postgresql") -> str:
    """One row in PostgreSQL's COPY text format (also MySQL's LOAD DATA default format): fields joined by
    a tab, backslash, tab, newline and carriage return escaped, NULL as backslash-N."""
    fields = []
    for c in cols:
        v = value_text(c, engine, load=True)
        if c.archive_type in ("string", "binary"):  # a binary's \x becomes \\x; only texts hold the others
            v = f"replace({v}, {BS}, concat({BS}, {BS}))"
        if c.archive_type == "string":
            for char, letter in ((TAB, "t"), (NL, "n"), (CR, "r")):
                v = f"replace({v}, {char}, concat({BS}, '{letter}'))"
        fields.append(f"coalesce({v}, concat({BS}, 'N'))")
    return f"concat_ws({TAB}, {', '.join(fields)})"


def choose_write_path(engine: Engine, requested: str, local_master: bool = True, arrow_reason: str | None = "") -> str:
    """``arrow`` (driver only, any master) for PostgreSQL when it applies to the snapshot (``arrow_reason``
    None; else why not: then ``auto``'s Spark path). ``copy`` needs the driver to read the files the
    executors write: a local Spark master (the temporary directory is local); on a cluster (Glue) the
    Spark path is ``jdbc``."""
    if requested not in WRITE_PATHS:
        raise OffloadError("bad_write_path", f"write path {requested!r} is not one of {', '.join(WRITE_PATHS)}")
    if requested == "arrow" and engine.name != "postgresql":
        raise OffloadError("bad_write_path", "the arrow write path writes PostgreSQL only; use auto, copy or jdbc")
    if requested in ("auto", "arrow") and engine.name == "postgresql" and arrow_reason is None:
        return "arrow"
    if requested == "arrow":
        requested = "auto"
    if requested == "jdbc":
        return "jdbc"
    if not local_master:
        if requested == "copy":
            raise OffloadError(
                "bad_write_path",
                "the copy write path loads files the executors write to a local directory: it needs a local "
                "Spark master; on a cluster use --write_path jdbc (or auto)",
            )
        return "jdbc"
    module, package = ("psycopg2", "psycopg2-binary==2.9.10") if engine.name == "postgresql" else (
        "pymysql", "PyMySQL==1.1.1")  # fmt: skip
    try:
        __import__(module)
    except ImportError:
        if requested == "copy":
            raise OffloadError(
                "bad_write_path",
                f"the copy write path needs {module} on the driver (Glue: --additional-python-modules {package})",
            ) from None
        return "jdbc"
    return "copy"


def _write_copy(spark, df, cols, engine: Engine, conn: Connection, schema: str, table: str, req) -> dict:
    """Spark writes the rows as COPY text files (in parallel, in the JVM); the driver streams each file
    into the staging table — PostgreSQL's COPY FROM STDIN, MySQL's LOAD DATA LOCAL INFILE — one
    connection per file at a time."""
    base = req.temp_dir or tempfile.gettempdir()
    if base.startswith("s3://"):
        raise OffloadError("bad_argument", "--temp_dir must be a local directory for the copy write path")
    # one directory per target: a rerun after a kill replaces what the killed run left
    where = f"{conn.host}:{conn.port}/{conn.database}/{schema}.{table}"
    tmp = os.path.join(base, f"offload-restore-{hashlib.sha256(where.encode()).hexdigest()[:16]}")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.monotonic()
    from pyspark.sql import functions as F

    lines = df.select(F.expr(copy_line(cols, engine.name)).alias("line"))
    parallel = req.num_partitions or spark.sparkContext.defaultParallelism
    if lines.rdd.getNumPartitions() > parallel:
        lines = lines.coalesce(parallel)
    try:
        lines.write.mode("error").text(tmp)
        formatted = time.monotonic() - started
        files = sorted(os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("part-"))
        load = _pg_loader(engine, conn, schema, table) if engine.name == "postgresql" else _my_loader(
            engine, conn, schema, table, cols)  # fmt: skip
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(files) or 1))) as pool:
            list(pool.map(load, files))
        return {"path": "copy", "files": len(files), "format_seconds": round(formatted, 3)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pg_loader(engine: Engine, conn: Connection, schema: str, table: str):
    ref = engine.table_ref(schema, table)

    def load(path: str) -> None:
        if os.path.getsize(path) == 0:
            return
        db = restore_arrow.connect(conn)  # the restore's one session set-up (UTC, ISO dates, UTF-8)
        try:
            with db, db.cursor() as cur, open(path, "rb") as fh:
                cur.copy_expert(f"COPY {ref} FROM STDIN", fh, size=1 << 20)
        finally:
            db.close()

    return load


def _my_loader(engine: Engine, conn: Connection, schema: str, table: str, cols: list[TargetColumn]):
    import pymysql

    names, sets = [], []
    for i, c in enumerate(cols):
        if c.archive_type == "binary" or c.sql_type.lower().startswith("bit"):
            # a text into a BIT or binary column would be taken as its bytes: numbers and hex go through SET
            names.append(f"@v{i}")
            fn = "UNHEX" if c.archive_type == "binary" else "CAST"
            sets.append(
                f"{engine.quote(c.name)} = " + (f"UNHEX(@v{i})" if fn == "UNHEX" else f"CAST(@v{i} AS UNSIGNED)")
            )
        else:
            names.append(engine.quote(c.name))
    sql = (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {engine.table_ref(schema, table)} CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
        f"({', '.join(names)})" + (f" SET {', '.join(sets)}" if sets else "")
    )

    def load(path: str) -> None:
        if os.path.getsize(path) == 0:
            return
        db = pymysql.connect(
            host=conn.host,
            port=conn.port,
            user=conn.user,
            password=conn.password,
            charset="utf8mb4",
            local_infile=True,
            init_command="SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES'",
        )
        try:
            with db.cursor() as cur:
                cur.execute(sql, (path,))
                cur.execute("SHOW WARNINGS LIMIT 1")  # LOCAL turns conversion errors into warnings
                warning = cur.fetchone()
            if warning:
                raise OffloadError("restore_write_failed", f"MySQL warned while loading: {warning[2]}")
            db.commit()
        finally:
            db.close()

    return load


def _write_jdbc(spark, df, cols, engine: Engine, conn: Connection, schema: str, table: str, req) -> dict:
    from pyspark.sql import functions as F

    out = []
    for c in cols:
        v = value_text(c, engine.name)
        out.append(F.col(spark_col(c.name)) if v is None else F.expr(v).alias(c.name))
    frame = df.select(*out)
    parallel = req.num_partitions or spark.sparkContext.defaultParallelism
    props = {
        "user": conn.user,
        "password": conn.password,
        "driver": engine.driver_class,
        "batchsize": "10000",
        "numPartitions": str(parallel),
        **write_properties(engine),
    }
    frame.write.jdbc(write_url(engine, conn) if engine.name == "mysql" else engine.url(conn), engine.table_ref(
        schema, table), mode="append", properties=props)  # fmt: skip
    return {"path": "jdbc"}


# ---- the job ---------------------------------------------------------------------------------------
def _archive_frame(spark, ident: str, snapshot_id: int | None):
    snaps = {r[0]: r[1] for r in spark.sql(f"SELECT snapshot_id, committed_at FROM {ident}.snapshots").collect()}
    current = spark.sql(f"SELECT snapshot_id FROM {ident}.refs WHERE name = 'main'").collect()
    current_id = current[0][0] if current else None
    if snapshot_id is None:
        if current_id is None:
            raise OffloadError("archive_empty", f"archive {ident} has no snapshot to restore")
        return spark.table(ident), current_id, snaps.get(current_id)
    if snapshot_id not in snaps:
        known = ", ".join(str(s) for s in sorted(snaps)) or "none"
        raise OffloadError(
            "snapshot_not_found",
            f"archive {ident} has no snapshot {snapshot_id} (its snapshots: {known}); "
            "an expired snapshot cannot be restored",
            snapshot_id=snapshot_id,
        )
    return spark.sql(f"SELECT * FROM {ident} VERSION AS OF {int(snapshot_id)}"), snapshot_id, snaps[snapshot_id]


def restore(spark, req: RestoreRequest) -> tuple[dict, int]:
    """Restore the archive into ``req.schema.req.target_table``; returns (summary, exit code):
    0 restored (or a dry run), 1 the restored table did not validate (left under the staging name),
    2 refused."""
    from .validate import ValidateRequest, validate

    started = time.monotonic()
    engine = engine_for(req.connection.engine)
    if not req.archive_table and not (req.source_schema and req.source_table):
        raise OffloadError("missing_arguments", "name the archive: --archive_table or --source_schema/--source_table")
    name = req.archive_table or archive_table_name(req.source_schema, req.source_table)
    ident = spark_ident(req.catalog, req.database, name)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{name} does not exist")
    limit = engine.max_identifier_bytes
    if not req.target_table or len(req.target_table.encode()) > limit:
        raise OffloadError("bad_target_table", f"target table name must be 1 to {limit} bytes on {engine.name}")
    df, snapshot_id, committed_at = _archive_frame(spark, ident, req.snapshot_id)
    staging = staging_name(engine.name, req.target_table)
    result: dict = {
        "job": "restore",
        "status": "dry_run" if req.dry_run else "restored",
        "archive_table": f"{req.database}.{name}",
        "catalog": req.catalog,
        "archive_snapshot_id": snapshot_id,
        "snapshot_committed_at": str(committed_at) if committed_at else None,
        "archived_from": {
            k.removeprefix(LINEAGE_PREFIX + "source."): v
            for k, v in props.items()
            if k.startswith(LINEAGE_PREFIX + "source.") and k.count(".") == 2
        },
        "target": {**req.connection.public(), "schema": req.schema, "table": req.target_table},
        "staging_table": staging,
        "run_id": req.run_id,
    }

    session = RestoreSession(spark, engine, req.connection)
    try:

        def type_exists(t: str) -> bool:
            if engine.name != "postgresql":
                return True
            return session.scalar(f"SELECT to_regtype({engine.literal(t)}) IS NOT NULL") in ("t", "true")

        if int(session.scalar(schema_exists_sql(engine, req.schema)) or 0) == 0:
            raise OffloadError("target_schema_not_found", f"schema {req.schema} does not exist in {_where(req)}")
        if int(session.scalar(relation_exists_sql(engine, req.schema, req.target_table)) or 0):
            raise OffloadError(
                "target_exists",
                f"{req.schema}.{req.target_table} already exists in {_where(req)}: restore never overwrites; "
                "choose another target table name",
                target=f"{req.schema}.{req.target_table}",
            )
        if int(session.scalar(can_create_sql(engine, req.schema)) or 0) == 0:
            raise OffloadError(
                "restore_credential_cannot_write",
                f"the restore credential (user {req.connection.user}) cannot create tables in {req.schema} on "
                f"{_where(req)}: restore needs its own write-capable credential, never the read-only "
                "discovery/archive one",
                user=req.connection.user,
            )
        cols = plan_columns(df, props, engine.name, type_exists)
        key = [k for k in json.loads(props.get(LINEAGE_PREFIX + "primary_key") or "[]") if k in {c.name for c in cols}]
        note = (
            f"{MARKER} staging of {req.schema}.{req.target_table} from archive {req.database}.{name} "
            f"snapshot {snapshot_id}"
        )
        create = create_table_sql(engine, req.schema, staging, cols, key, note)
        add_key = (
            [f"ALTER TABLE {engine.table_ref(req.schema, staging)} ADD PRIMARY KEY "
             f"({', '.join(engine.quote(k) for k in key)})"]
            if key and engine.name == "postgresql" else []
        )  # fmt: skip
        final_note = (
            f"{MARKER}: restored from archive {req.database}.{name} snapshot {snapshot_id} at "
            f"{datetime.now(UTC).isoformat(timespec='seconds')}"
        )
        rename = _final_statements(engine, req.schema, staging, req.target_table, final_note)
        path, arrow_plan = _choose_path(spark, engine, req, ident, snapshot_id, key, result)
        if path == "arrow":
            index_sql, attach_key = restore_arrow.key_statements(engine, req.schema, staging, key)
            add_key = index_sql + attach_key
        result["write_path"] = path
        result["columns"] = [
            {"name": c.name, "type": c.sql_type, "archive_type": c.archive_type, "from_lineage": c.from_lineage}
            | ({"note": c.note} if c.note else {})
            for c in cols
        ]
        result["primary_key"] = key
        result["statements"] = create + add_key + rename
        stale = int(session.scalar(relation_exists_sql(engine, req.schema, staging)) or 0) > 0
        if stale:
            comment = session.scalar(comment_sql(engine, req.schema, staging)) or ""
            if not comment.startswith(MARKER):
                raise OffloadError(
                    "staging_not_ours",
                    f"{req.schema}.{staging} exists and is not a restore staging table (its comment does not start "
                    f"with {MARKER!r}); rename it or choose another target table name",
                )
        if req.dry_run:
            result["stale_staging"] = staging if stale else None
            result["seconds"] = round(time.monotonic() - started, 3)
            return result, 0
        if stale:  # a killed earlier restore of this target: its staging table is ours to drop
            session.execute(f"DROP TABLE {engine.table_ref(req.schema, staging)}")
            result["stale_staging_dropped"] = staging
        for sql in create:
            session.execute(sql)
        t0 = time.monotonic()
        try:
            if path == "arrow":
                loaded, result["write"] = restore_arrow.write(
                    arrow_plan,
                    engine,
                    req.connection,
                    req.schema,
                    staging,
                    [c.name for c in cols],
                    *_write_plans(spark, req, staging, arrow_plan, result),
                )
            else:
                writer = _write_copy if path == "copy" else _write_jdbc
                result["write"] = writer(spark, df, cols, engine, req.connection, req.schema, staging, req)
        except Exception as exc:  # noqa: BLE001 — the target refused a value: say which, keep the evidence
            raise OffloadError(
                "restore_write_failed",
                f"writing the rows into {req.schema}.{staging} failed: {_cause(exc)}; the staging table is kept "
                "for inspection and a rerun drops it",
                staging_table=staging,
            ) from exc
        if path != "arrow":
            for sql in add_key:
                session.execute(sql)
        result["write"]["seconds"] = round(time.monotonic() - t0, 3)
        _fault("before_validate")
        _hook("before_validate")

        t0 = time.monotonic()
        if path == "arrow":
            return _validate_arrow(
                spark, session, engine, req, result, staging, rename, loaded, arrow_plan, key, index_sql, attach_key,
                snapshot_id, started, t0,
            )  # fmt: skip
        validation = validate(
            spark,
            ValidateRequest(
                connection=req.connection,
                schema=req.schema,
                table=req.target_table,
                read_table=staging,
                catalog=req.catalog,
                database=req.database,
                archive_table=name,
                snapshot_id=snapshot_id,
                check_lineage=False,
            ),
        )
        result["validation"] = validation
        result["validate_seconds"] = round(time.monotonic() - t0, 3)
        result["rows"] = validation.get("row_count", {}).get("source")
        if validation["status"] != "passed":
            result["status"] = "validation_failed"
            result["seconds"] = round(time.monotonic() - started, 3)
            return result, 1
        _rename(session, engine, req, staging, rename)
    finally:
        session.close()
    result["seconds"] = round(time.monotonic() - started, 3)
    return result, 0


def _rename(session, engine: Engine, req: RestoreRequest, staging: str, rename: list[str]) -> None:
    _fault("before_rename")
    try:
        session.transaction(rename)
    except Exception as exc:  # noqa: BLE001 — the final name was taken meanwhile: refuse, keep nothing
        if int(session.scalar(relation_exists_sql(engine, req.schema, req.target_table)) or 0):
            session.execute(f"DROP TABLE {engine.table_ref(req.schema, staging)}")
            raise OffloadError(
                "target_exists",
                f"{req.schema}.{req.target_table} was created while the restore ran: restore never overwrites "
                "(the restored rows were dropped)",
                target=f"{req.schema}.{req.target_table}",
            ) from exc
        raise


def _choose_path(spark, engine: Engine, req: RestoreRequest, ident: str, snapshot_id: int, key: list[str],
                 result: dict):  # fmt: skip
    """(the write path, the arrow plan when it is arrow); a fallback from arrow is recorded with its reason."""
    local = spark.sparkContext.master.startswith("local")
    if req.copy_format not in restore_arrow.COPY_FORMATS:
        raise OffloadError(
            "bad_copy_format", f"copy format {req.copy_format!r} is not one of {', '.join(restore_arrow.COPY_FORMATS)}"
        )
    if req.arrow_validation not in restore_arrow.VALIDATIONS:
        raise OffloadError(
            "bad_arrow_validation",
            f"arrow validation {req.arrow_validation!r} is not one of {', '.join(restore_arrow.VALIDATIONS)}",
        )
    if req.write_path not in ("auto", "arrow") or engine.name != "postgresql":
        return choose_write_path(engine, req.write_path, local), None
    if not key:
        arrow_plan, reason = None, "the archive's lineage records no primary key (the comparison is by key)"
    else:
        arrow_plan, reason = restore_arrow.plan(spark, ident, snapshot_id, req.arrow_max_bytes)
    path = choose_write_path(engine, req.write_path, local, reason)
    if reason:
        result["arrow_not_used"] = reason
    return path, arrow_plan


def _write_plans(spark, req: RestoreRequest, staging: str, arrow_plan, result: dict):
    """From the (empty) staging table's columns: (the checksum plan, so that the arrow write hashes the
    archive's batches as it sends them — None when the validation reads values back or the columns have no
    checksum, the validation then says why; the binary COPY encoders — None for the text format, the reason
    recorded in ``result["copy_format_text"]``)."""
    from . import restore_binary, restore_hash
    from .source_table import introspect

    src = introspect(spark, req.connection, req.schema, staging)
    archive_schema = restore_arrow.arrow_schema(arrow_plan)
    hash_plan = restore_hash.plan(src, archive_schema)[0] if req.arrow_validation == "checksums" else None
    encoders, why = None, "--copy_format text"
    if req.copy_format == "auto":
        encoders, why = restore_binary.encoders(src, archive_schema)
    if why:
        result["copy_format_text"] = why
    return hash_plan, encoders


def _validate_arrow(spark, session, engine, req, result, staging, rename, loaded, arrow_plan, key, index_sql,
                    attach_key, snapshot_id, started, t0):  # fmt: skip
    """The arrow path's validation (with the key's index built alongside), then the key and the rename."""
    schema = loaded.schema or restore_arrow.arrow_schema(arrow_plan)
    validation, index_error = restore_arrow.validate_and_index(
        spark,
        engine,
        req.connection,
        req.schema,
        staging,
        loaded,
        schema,
        key,
        index_sql,
        snapshot_id,
        req.arrow_validation,
    )
    loaded.batches.clear()
    result["validation"] = validation
    result["validate_seconds"] = round(time.monotonic() - t0, 3)
    result["rows"] = validation.get("row_count", {}).get("source")
    if validation["status"] != "passed":
        if index_error:
            validation["index_error"] = index_error
        result["status"] = "validation_failed"
        result["seconds"] = round(time.monotonic() - started, 3)
        return result, 1
    if index_error:
        raise OffloadError(
            "restore_write_failed",
            f"building the primary key of {req.schema}.{staging} failed: {index_error}; the staging table is kept "
            "for inspection and a rerun drops it",
            staging_table=staging,
        )
    t1 = time.monotonic()
    for sql in attach_key:
        session.execute(sql)
    result["key_attach_seconds"] = round(time.monotonic() - t1, 3)
    _rename(session, engine, req, staging, rename)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result, 0


def _final_statements(engine: Engine, schema: str, staging: str, target: str, note: str) -> list[str]:
    if engine.name == "postgresql":  # one transaction: the comment and the name change together
        return [
            f"COMMENT ON TABLE {engine.table_ref(schema, staging)} IS {engine.literal(note)}",
            f"ALTER TABLE {engine.table_ref(schema, staging)} RENAME TO {engine.quote(target)}",
        ]
    # MySQL commits each DDL on its own: the comment keeps the marker, so a kill between the two leaves a
    # staging table a rerun still recognises
    return [
        f"ALTER TABLE {engine.table_ref(schema, staging)} COMMENT = {engine.literal(note)}",
        f"RENAME TABLE {engine.table_ref(schema, staging)} TO {engine.table_ref(schema, target)}",
    ]


def _cause(exc: Exception) -> str:
    """The deepest database message of a (Java) error, one line."""
    j = getattr(exc, "java_exception", None)
    if j is not None:
        while j.getCause() is not None:
            j = j.getCause()
        return str(j.getMessage() or j.toString()).splitlines()[0][:500]
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    causes = [ln.removeprefix("Caused by: ") for ln in lines if ln.startswith("Caused by: ")]
    return (causes[-1] if causes else lines[0] if lines else type(exc).__name__)[:500]


def _where(req: RestoreRequest) -> str:
    c = req.connection
    return f"{c.engine} {c.host}:{c.port}/{c.database}"


def _hook(point: str) -> None:
    """Test hook: runs the callable a test registered in TEST_HOOKS under ``point`` (none in production)."""
    hook = TEST_HOOKS.get(point)
    if hook is not None:
        hook()


def _fault(point: str) -> None:
    """Test hook: OFFLOAD_RESTORE_FAULT=<point> kills this process there (as a crash would)."""
    if os.environ.get("OFFLOAD_RESTORE_FAULT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
