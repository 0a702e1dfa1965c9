"""Peer benchmark: our archive and validate jobs, whole processes, side by side with the tools a user would pick
instead, on the same tables in the same run (issue 14). Figures are printed, never asserted.

    bash glue/bench/peers.sh [--pg-scale 1] [--mysql-scale 0.17] [--repeat 3] [--json FILE]

Runs in the peers' own environment (``.cache/peers/venv``, built by peers.sh from requirements-peers.txt);
our jobs run with the project's ``.venv``. Data: TPC-H ``lineitem`` from ``tpchgen-cli`` (scale 1 = 6,001,215
rows: bigint/int keys, four decimal(15,2), three dates, four char(n), a varchar comment with trailing spaces),
plus a bigint identity key ``l_id`` (the key the validators name), loaded once into PostgreSQL
``offload_test.peers_bench.lineitem`` and MariaDB ``peers_bench.lineitem`` and reused while the scale matches.

Per tool and repetition (tools alternate inside each repetition): wall time of the whole process, rows/s, and
the peak resident memory of its process tree (psutil samples every 50 ms, summed over the tree). After the
last repetition each tool's output is read back (Iceberg: pyiceberg's current snapshot files; Parquet and
text files: DuckDB) and compared with the source by row count, exact decimal sums, date min/max and a text
checksum (md5 of the char columns without trailing blanks and the comment, exactly; summed); a column whose
type changed (say decimal -> double) is named. The validators (ours; reladiff PostgreSQL vs DuckDB over the
archive's current Parquet files) then get one tampered source row per tamper class: caught or not, key named
or not. Finally one Python process (the project's .venv) measures the same archive, validation and MariaDB
archive inside a long-lived Spark session (warm) for the cold/warm table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

import duckdb
import psutil
import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PROJECT_PY = os.path.join(ROOT, ".venv", "bin", "python")
PEERS_BIN = os.path.dirname(sys.executable)
SCHEMA, TABLE = "peers_bench", "lineitem"

COLUMNS = [  # TPC-H lineitem (spec 1.4) plus the identity key
    ("l_orderkey", "bigint"),
    ("l_partkey", "integer"),
    ("l_suppkey", "integer"),
    ("l_linenumber", "integer"),
    ("l_quantity", "decimal(15,2)"),
    ("l_extendedprice", "decimal(15,2)"),
    ("l_discount", "decimal(15,2)"),
    ("l_tax", "decimal(15,2)"),
    ("l_returnflag", "char(1)"),
    ("l_linestatus", "char(1)"),
    ("l_shipdate", "date"),
    ("l_commitdate", "date"),
    ("l_receiptdate", "date"),
    ("l_shipinstruct", "char(25)"),
    ("l_shipmode", "char(10)"),
    ("l_comment", "varchar(44)"),
]
NAMES = [n for n, _ in COLUMNS]
DECIMALS = [n for n, t in COLUMNS if t.startswith("decimal")]
DATES = [n for n, t in COLUMNS if t == "date"]
CHARS = [n for n, t in COLUMNS if t.startswith("char")]
TEXTS = ["l_comment"]


def log(msg: str) -> None:
    print(f"[peers {dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- connections


class Env:
    def __init__(self) -> None:
        e = os.environ
        self.pg_host, self.pg_port = e["OFFLOAD_TEST_PG_HOST"], int(e["OFFLOAD_TEST_PG_PORT"])
        self.my_host, self.my_port = e["OFFLOAD_TEST_MYSQL_HOST"], int(e["OFFLOAD_TEST_MYSQL_PORT"])
        self.user, self.password, self.db = e["OFFLOAD_TEST_USER"], e["OFFLOAD_TEST_PASSWORD"], e["OFFLOAD_TEST_DB"]
        self.tmp = tempfile.mkdtemp(prefix="peers-")
        self.mycnf = os.path.join(self.tmp, "my.cnf")  # passwords never on a command line
        with open(os.open(self.mycnf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
            fh.write(f"[client]\nuser={self.user}\npassword={self.password}\n")

    def pg(self):
        db = psycopg2.connect(
            host=self.pg_host, port=self.pg_port, dbname=self.db, user=self.user, password=self.password
        )
        db.autocommit = True
        return db

    def my(self, sql: str, database: str = "") -> str:
        cmd = ["mariadb", f"--defaults-extra-file={self.mycnf}", "-h", self.my_host, "-P", str(self.my_port)]
        cmd += ["--local-infile=1", "-N", "-B", "-e", sql] + ([database] if database else [])
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def pg_uri(self, password: bool = True) -> str:
        auth = f"{self.user}:{self.password}" if password else self.user
        return f"postgresql://{auth}@{self.pg_host}:{self.pg_port}/{self.db}"

    def child_env(self) -> dict:
        return dict(os.environ, PGPASSWORD=self.password, OFFLOAD_SOURCE_PASSWORD=self.password, TZ="UTC")


# ---------------------------------------------------------------- data


def tpch_command(scale: float) -> list[str]:
    return [os.path.join(PEERS_BIN, "tpchgen-cli"), "csv", "-s", str(scale), "--tables", "lineitem", "--stdout"]


def ensure_pg(env: Env, scale: float) -> int:
    tag = f"tpch lineitem scale {scale}"
    db = env.pg()
    with db.cursor() as cur:
        cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (f"{SCHEMA}.{TABLE}",))
        row = cur.fetchone()
        if row and row[0] == tag:
            cur.execute(f"SELECT count(*) FROM {SCHEMA}.{TABLE}")
            return cur.fetchone()[0]
        log(f"loading TPC-H lineitem scale {scale} into PostgreSQL {SCHEMA}.{TABLE}")
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cur.execute(f"CREATE SCHEMA {SCHEMA}")
        cols = ", ".join(f"{n} {t} NOT NULL" for n, t in COLUMNS)
        cur.execute(f"CREATE TABLE {SCHEMA}.{TABLE} (l_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {cols})")
    gen = subprocess.Popen(tpch_command(scale), stdout=subprocess.PIPE)
    copy = f"COPY {SCHEMA}.{TABLE} ({', '.join(NAMES)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
    psql = ["psql", "-h", env.pg_host, "-p", str(env.pg_port), "-U", env.user, "-d", env.db, "-qc", copy]
    subprocess.run(psql, stdin=gen.stdout, check=True, env=env.child_env())
    gen.wait()
    with db.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.{TABLE}")
        cur.execute(f"COMMENT ON TABLE {SCHEMA}.{TABLE} IS %s", (tag,))
        cur.execute(f"SELECT count(*) FROM {SCHEMA}.{TABLE}")
        return cur.fetchone()[0]


def ensure_my(env: Env, scale: float) -> int:
    tag = f"tpch lineitem scale {scale}"
    env.my(f"CREATE DATABASE IF NOT EXISTS {SCHEMA}")
    found = env.my(
        f"SELECT table_comment FROM information_schema.tables WHERE table_schema='{SCHEMA}' AND table_name='{TABLE}'"
    ).strip()
    if found != tag:
        log(f"loading TPC-H lineitem scale {scale} into MariaDB {SCHEMA}.{TABLE}")
        csv = os.path.join(env.tmp, "lineitem.csv")
        with open(csv, "wb") as fh:
            subprocess.run(tpch_command(scale), stdout=fh, check=True)
        cols = ", ".join(f"{n} {t} NOT NULL" for n, t in COLUMNS)
        env.my(f"DROP TABLE IF EXISTS {TABLE}", SCHEMA)
        env.my(f"CREATE TABLE {TABLE} (l_id bigint AUTO_INCREMENT PRIMARY KEY, {cols}) COMMENT='{tag}'", SCHEMA)
        env.my(
            f"LOAD DATA LOCAL INFILE '{csv}' INTO TABLE {TABLE} FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
            f"IGNORE 1 LINES ({', '.join(NAMES)})",
            SCHEMA,
        )
        os.remove(csv)
    return int(env.my(f"SELECT count(*) FROM {TABLE}", SCHEMA).strip())


# ---------------------------------------------------------------- reference figures from the source


def checksum_sql(dialect: str) -> str:
    parts = [f"{c}" if dialect == "pg" else f"RTRIM({c})" for c in CHARS] + TEXTS
    if dialect == "pg":  # char(n)::text drops the padding in PostgreSQL
        row = " || '|' || ".join(f"{p}::text" for p in parts)
        return f"sum(('x' || substr(md5({row}), 1, 8))::bit(32)::bigint)"
    if dialect == "my":
        return f"SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS('|', {', '.join(parts)})), 1, 8), 16, 10) AS UNSIGNED))"
    row = " || '|' || ".join(parts)  # duckdb
    return f"sum(('0x' || substr(md5({row}), 1, 8))::UBIGINT)"


def figures_sql(dialect: str, source: str) -> str:
    exprs = ["count(*)"] + [f"sum({c})" for c in DECIMALS]
    exprs += [f"{f}({c})" for c in DATES for f in ("min", "max")] + [checksum_sql(dialect)]
    return f"SELECT {', '.join(exprs)} FROM {source}"


def normalise(values) -> dict:
    keys = ["rows"] + [f"sum({c})" for c in DECIMALS] + [f"{f}({c})" for c in DATES for f in ("min", "max")]
    keys.append("text_checksum")
    out = {}
    for k, v in zip(keys, values, strict=True):
        if k.startswith("sum("):
            out[k] = str(Decimal(str(v)).quantize(Decimal("0.01"))) if isinstance(v, Decimal) else repr(v)
        elif k.startswith(("min(", "max(")):
            out[k] = str(v)[:10]
        else:
            out[k] = int(v)
    return out


def reference(env: Env, engine: str) -> dict:
    if engine == "pg":
        with env.pg().cursor() as cur:
            cur.execute(figures_sql("pg", f"{SCHEMA}.{TABLE}"))
            return normalise(cur.fetchone())
    line = env.my(figures_sql("my", TABLE), SCHEMA).rstrip("\n").split("\t")
    vals = [int(line[0])] + [Decimal(x) for x in line[1 : 1 + len(DECIMALS)]] + line[1 + len(DECIMALS) : -1]
    return normalise(vals + [int(line[-1])])


# ---------------------------------------------------------------- running a tool


def run_measured(name: str, cmd: list[str], env: dict, log_path: str, timeout: float = 1800) -> dict:
    """Runs one whole process; wall time and the peak of the summed RSS of its process tree."""
    peak = 0
    with open(log_path, "ab") as out:
        out.write(f"\n==== {name}: {' '.join(cmd)}\n".encode())
        out.flush()
        started = time.monotonic()
        proc = psutil.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                with contextlib.suppress(psutil.Error):
                    procs = [proc] + proc.children(recursive=True)
                    total = 0
                    for p in procs:
                        with contextlib.suppress(psutil.Error):
                            total += p.memory_info().rss
                    peak = max(peak, total)
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            code = proc.wait(timeout=timeout)
        finally:
            stop.set()
            sampler.join()
        wall = time.monotonic() - started
    return {"seconds": wall, "peak_rss_mb": peak / 2**20, "exit_code": code}


def last_json(log_path: str) -> dict:
    """The last JSON object a job printed to its log (our jobs print an indented summary)."""
    text = open(log_path, encoding="utf-8", errors="replace").read()
    start = text.rfind("\n{\n")
    if start < 0:
        return {}
    end = text.find("\n}\n", start)
    try:
        return json.loads(text[start + 1 : end + 2])
    except ValueError:
        return {}


# ---------------------------------------------------------------- reading outputs back


def iceberg_files(metadata_glob: str) -> tuple[list[str], dict]:
    from pyiceberg.table import StaticTable

    metadata = max(glob.glob(metadata_glob), key=os.path.getmtime)
    table = StaticTable.from_metadata(metadata)
    files = [t.file.file_path.removeprefix("file:") for t in table.scan().plan_files()]
    types = {f.name: str(f.field_type) for f in table.schema().fields}
    return files, types


def duck_figures(source_sql: str, types: dict | None = None) -> dict:
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(f"CREATE VIEW t AS {source_sql}")
    if types is None:
        types = {r[0]: r[1] for r in con.execute("DESCRIBE t").fetchall()}
    figures = normalise(con.execute(figures_sql("duck", "t")).fetchone())
    figures["types_changed"] = types_changed(types)
    return figures


def types_changed(types: dict) -> list[str]:
    changed = []
    for name, declared in COLUMNS:
        got = str(types.get(name, "missing")).lower()
        want = declared.replace("integer", "int")
        if declared.startswith("char") or declared.startswith("varchar"):
            ok = got in ("string", "varchar") or got == declared
        elif declared.startswith("decimal"):
            ok = got.replace(" ", "") == "decimal(15,2)"
        elif declared == "bigint":
            ok = got in ("long", "bigint")
        else:
            ok = got.startswith(want)
        if not ok:
            changed.append(f"{name}: {declared} -> {got}")
    return changed


def compare(ref: dict, got: dict) -> dict:
    diffs = [k for k in ref if ref[k] != got.get(k)]
    return {"exact": not diffs and not got.get("types_changed"), "differs": diffs, **got}


def parquet_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


# ---------------------------------------------------------------- the tools


class Bench:
    def __init__(self, args, env: Env) -> None:
        self.args, self.env = args, env
        self.work = os.path.abspath(args.work)
        if not args.validate_only:  # --validate-only re-uses the archive (ours-pg) of an earlier run here
            shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work, exist_ok=True)
        self.log_path = os.path.join(self.work, "tools.log")
        self.samples: dict[str, list[dict]] = {}

    def run(self, name: str, cmd: list[str], extra_env: dict | None = None) -> dict:
        log(f"{name} ...")
        res = run_measured(name, cmd, dict(self.env.child_env(), **(extra_env or {})), self.log_path)
        log(f"{name}: {res['seconds']:.2f} s, peak {res['peak_rss_mb']:.0f} MB, exit {res['exit_code']}")
        self.samples.setdefault(name, []).append(res)
        return res

    # PostgreSQL
    def pg_copy(self) -> None:
        env = self.env
        sql = f"COPY (SELECT * FROM {SCHEMA}.{TABLE}) TO STDOUT"
        cmd = ["sh", "-c", 'exec psql "$@" > /dev/null', "psql", "-h", env.pg_host, "-p", str(env.pg_port)]
        self.run("pg: COPY TO STDOUT (psql)", cmd + ["-U", env.user, "-d", env.db, "-qAt", "-c", sql])

    def src_args(self, engine: str) -> list[str]:
        e = self.env
        if engine == "pg":
            return ["--source_engine", "postgresql", "--source_host", e.pg_host, "--source_port", str(e.pg_port),
                    "--source_database", e.db, "--source_user", e.user, "--source_schema", SCHEMA,
                    "--source_table", TABLE]  # fmt: skip
        return ["--source_engine", "mysql", "--source_host", e.my_host, "--source_port", str(e.my_port),
                "--source_database", SCHEMA, "--source_user", e.user, "--source_schema", SCHEMA,
                "--source_table", TABLE]  # fmt: skip

    def ours_archive(self, engine: str, cds: bool = True) -> None:
        """Our archive job; ``cds=False``: without the class-data archive (offload_glue/cds.py), to show its
        share of the start-up in the same run."""
        warehouse = os.path.join(self.work, f"ours-{engine}" + ("" if cds else "-nocds"))
        cmd = [PROJECT_PY, "glue/archive_table.py", "--JOB_NAME", "peers", *self.src_args(engine)]
        cmd += ["--run_id", f"peers-{time.time_ns()}", "--warehouse", warehouse, "--archive_database", "bench"]
        cmd += ["--log_file", os.path.join(self.work, f"ours-archive-{engine}.log")]
        extra = {} if cds else {"OFFLOAD_CDS_DIR": os.path.join(self.work, "no-cds")}
        self.run(f"{engine_label(engine)}: ours archive_table.py" + ("" if cds else " (no CDS)"), cmd, extra)

    def ours_validate(self, name: str = "pg: ours validate_table.py") -> dict:
        warehouse = os.path.join(self.work, "ours-pg")
        result = os.path.join(self.work, "validation.json")
        cmd = [PROJECT_PY, "glue/validate_table.py", "--JOB_NAME", "peers", *self.src_args("pg")]
        cmd += ["--warehouse", warehouse, "--archive_database", "bench", "--result_path", result]
        cmd += ["--log_file", os.path.join(self.work, "ours-validate.log")]
        res = self.run(name, cmd)
        with contextlib.suppress(OSError, ValueError):
            res["result"] = json.load(open(result))
        return res

    def adbc(self) -> None:
        cmd = [sys.executable, os.path.join(HERE, "peers_adbc.py"), SCHEMA, TABLE, os.path.join(self.work, "adbc")]
        self.run("pg: ADBC -> pyarrow -> pyiceberg", cmd, {"PEERS_PG_URI": self.env.pg_uri()})

    def dlt(self) -> None:
        out = os.path.join(self.work, "dlt")
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, os.path.join(HERE, "peers_dlt.py"), SCHEMA, TABLE, out]
        extra = {"PEERS_PG_URI": self.env.pg_uri(), "RUNTIME__LOG_LEVEL": "WARNING", "DLT_TELEMETRY": "0"}
        self.run("pg: dlt + ConnectorX -> Parquet", cmd, {**extra, "RUNTIME__DLTHUB_TELEMETRY": "false"})

    def reladiff_db(self) -> str:
        """A DuckDB database with a view over the current snapshot's Parquet files of our archive (the char
        columns without their padding, as PostgreSQL compares char(n))."""
        files, _ = iceberg_files(os.path.join(self.work, "ours-pg", "bench", "*", "metadata", "*.metadata.json"))
        path = os.path.join(self.work, "archive.duckdb")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        con = duckdb.connect(path)
        # reladiff 0.6.0's DuckDB dialect has no DATE type ("Incompatible types"): dates as timestamps.
        cols = ", ".join(["l_id"] + [view_column(n) for n in NAMES])
        con.execute(f"CREATE VIEW {TABLE} AS SELECT {cols} FROM read_parquet({parquet_list(files)})")
        con.close()
        return path

    def reladiff(self, db: str, name: str = "pg: reladiff PostgreSQL vs DuckDB") -> dict:
        out, err = os.path.join(self.work, "reladiff.out"), os.path.join(self.work, "reladiff.err")
        # through the interpreter: the venv's entry-point script names the python of the checkout that built it
        cmd = ["sh", "-c", f'exec "$0" "$@" > {out} 2> {err}', sys.executable, os.path.join(PEERS_BIN, "reladiff"),
               self.env.pg_uri(False), f"{SCHEMA}.{TABLE}", f"duckdb://{db}", TABLE, "-k", "l_id", "-c", "l_%",
               "--json"]  # fmt: skip
        res = self.run(name, cmd, {"COLUMNS": "100000"})  # one JSON line per difference, never wrapped
        res["output"], res["stderr"] = open(out).read(), open(err).read()
        res["error"] = "ERROR" in res["stderr"] or "Traceback" in res["stderr"]
        with open(self.log_path, "a") as fh:
            fh.write(res["stderr"])
        return res

    # MariaDB
    def my_read(self) -> None:
        e = self.env
        cmd = ["sh", "-c", 'exec mariadb "$@" > /dev/null', "mariadb", f"--defaults-extra-file={e.mycnf}",
               "-h", e.my_host, "-P", str(e.my_port), "--quick", "-N", "-B", "-e", f"SELECT * FROM {TABLE}",
               SCHEMA]  # fmt: skip
        self.run("my: mariadb client read", cmd)

    def pt_archiver(self) -> None:
        e = self.env
        out = os.path.join(self.work, "pt-archiver.txt")
        with contextlib.suppress(FileNotFoundError):
            os.remove(out)
        dsn = f"h={e.my_host},P={e.my_port},D={SCHEMA},t={TABLE},F={e.mycnf}"
        # --no-safe-auto-increment: by default pt-archiver leaves the row with the highest AUTO_INCREMENT key.
        cmd = ["pt-archiver", "--source", dsn, "--file", out, "--where", "1=1", "--no-delete", "--limit", "10000",
               "--no-safe-auto-increment", "--no-check-charset", "--skip-foreign-key-checks"]  # fmt: skip
        self.run("my: pt-archiver --no-delete --file", cmd)


def view_column(name: str) -> str:
    if name in CHARS:
        return f"rtrim({name}) AS {name}"
    if name in DATES:
        return f"CAST({name} AS TIMESTAMP) AS {name}"
    return name


def engine_label(engine: str) -> str:
    return "pg" if engine == "pg" else "my"


# ---------------------------------------------------------------- exactness


def exactness(bench: Bench, refs: dict) -> dict:
    w = bench.work
    out = {}
    log("reading every output back")
    for key, meta in (
        ("pg: ours archive_table.py", os.path.join(w, "ours-pg", "bench", "*", "metadata", "*.metadata.json")),
        ("my: ours archive_table.py", os.path.join(w, "ours-my", "bench", "*", "metadata", "*.metadata.json")),
        ("pg: ADBC -> pyarrow -> pyiceberg", os.path.join(w, "adbc", "peers", TABLE, "metadata", "*.metadata.json")),
    ):
        if not glob.glob(meta):
            out[key] = {"exact": False, "error": "no output"}
            continue
        files, types = iceberg_files(meta)
        out[key] = compare(refs[key[:2]], duck_figures(f"SELECT * FROM read_parquet({parquet_list(files)})", types))
    dlt_files = glob.glob(os.path.join(w, "dlt", "data", "peers", TABLE, "*.parquet"))
    key = "pg: dlt + ConnectorX -> Parquet"
    if key in bench.samples:  # not with --skip dlt
        out[key] = (
            compare(refs["pg"], duck_figures(f"SELECT * FROM read_parquet({parquet_list(dlt_files)})"))
            if dlt_files
            else {"exact": False, "error": "no output"}
        )
    pt = os.path.join(w, "pt-archiver.txt")
    key = "my: pt-archiver --no-delete --file"
    if os.path.exists(pt):
        cols = {"l_id": "BIGINT", **{n: t.upper() for n, t in COLUMNS}}
        spec = ", ".join(f"'{n}': '{t}'" for n, t in cols.items())
        sql = (f"SELECT * FROM read_csv('{pt}', delim='\\t', header=false, quote='', escape='', nullstr='\\N', "
               f"columns={{{spec}}})")  # fmt: skip
        got = duck_figures(sql, types={n: t for n, t in COLUMNS})
        got["note"] = "a text file: the types are the reader's, not the tool's"
        out[key] = compare(refs["my"], got)
    else:
        out[key] = {"exact": False, "error": "no output"}
    return out


# ---------------------------------------------------------------- tampering


TAMPERS = {
    "decimal +0.01": ("l_extendedprice", "l_extendedprice + 0.01"),
    "text trailing space": ("l_comment", "l_comment || ' '"),
    "date +1 day": ("l_shipdate", "l_shipdate + 1"),
}


def tamper_runs(bench: Bench, classes: list[str], rows: int) -> dict:
    """One changed source row per class (the archive stays as archived): does each validator catch it and
    name the key? The source row is restored after each class."""
    db = bench.env.pg()
    key_id = rows // 2 + 7
    duck_db = bench.reladiff_db()
    out = {}
    for cls in classes:
        column, expr = TAMPERS[cls]
        with db.cursor() as cur:
            cur.execute(f"SELECT {column} FROM {SCHEMA}.{TABLE} WHERE l_id = %s", (key_id,))
            original = cur.fetchone()[0]
            cur.execute(f"UPDATE {SCHEMA}.{TABLE} SET {column} = {expr} WHERE l_id = %s", (key_id,))
        try:
            ours = bench.ours_validate("pg: ours validate_table.py (tampered)")
            result = ours.get("result") or {}
            keys = json.dumps((result.get("row_hash") or {}).get("keys", []))
            rel = bench.reladiff(duck_db, "pg: reladiff PostgreSQL vs DuckDB (tampered)")
            rel_rows = [json.loads(line) for line in rel["output"].splitlines() if line.startswith('["')]
            out[cls] = {
                "key": key_id,
                "ours": {
                    "caught": result.get("status") == "failed",
                    "key_named": f'"l_id": "{key_id}"' in keys or f'"l_id": {key_id}' in keys,
                    "mismatches": result.get("mismatches"),
                    "engine": result.get("engine"),
                    "engine_reason": result.get("engine_reason"),
                    "seconds": round(ours["seconds"], 2),
                },
                "reladiff": {
                    "caught": bool(rel_rows),
                    "error": rel["error"],
                    "key_named": any(str(r[1][0]) == str(key_id) for r in rel_rows),
                    "exit_code": rel["exit_code"],
                    "differences": len(rel_rows),
                    "seconds": round(rel["seconds"], 2),
                },
            }
            log(f"tamper {cls}: {json.dumps(out[cls])}")
        finally:
            with db.cursor() as cur:
                cur.execute(f"UPDATE {SCHEMA}.{TABLE} SET {column} = %s WHERE l_id = %s", (original, key_id))
    return out


# ---------------------------------------------------------------- warm session


def warm(bench: Bench, repeat: int) -> dict:
    log("warm: one long-lived Spark session (project .venv)")
    cmd = [PROJECT_PY, os.path.join(HERE, "peers_warm.py"), "--repeat", str(repeat), "--schema", SCHEMA,
           "--table", TABLE, "--warehouse", os.path.join(bench.work, "warm")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=bench.env.child_env(), cwd=ROOT)
    with open(bench.log_path, "a") as fh:
        fh.write(proc.stderr)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- report


def summarise(bench: Bench, rows: dict) -> dict:
    out = {}
    for name, samples in bench.samples.items():
        if "(tampered)" in name:
            continue
        secs = [s["seconds"] for s in samples]
        med = statistics.median(secs)
        n = rows[name[:2]]
        out[name] = {
            "median_seconds": round(med, 2),
            "rows_per_second": round(n / med),
            "peak_rss_mb_median": round(statistics.median(s["peak_rss_mb"] for s in samples)),
            "samples_seconds": [round(x, 2) for x in secs],
            "exit_codes": sorted({s["exit_code"] for s in samples}),
        }
    return out


def table(summary: dict, exact: dict, warm_figs: dict) -> str:
    base = {"pg": "pg: COPY TO STDOUT (psql)", "my": "my: mariadb client read"}
    lines = [f"{'tool (whole process)':44} {'median s':>9} {'rows/s':>10} {'peak MB':>8} {'x base':>7}  exact"]
    for name, fig in summary.items():
        b = summary.get(base[name[:2]])
        ratio = fig["median_seconds"] / b["median_seconds"] if b else float("nan")
        ex = exact.get(name)
        mark = "-" if ex is None else ("yes" if ex["exact"] else "NO: " + "; ".join(
            ex.get("types_changed", []) + [d for d in ex.get("differs", []) if not ex.get("types_changed")]
            + ([ex["error"]] if "error" in ex else [])))  # fmt: skip
        lines.append(
            f"{name:44} {fig['median_seconds']:9.2f} {fig['rows_per_second']:10,} {fig['peak_rss_mb_median']:8,}"
            f" {ratio:7.2f}  {mark}"
        )
    if warm_figs and "error" not in warm_figs:
        lines.append("")
        lines.append("inside one long-lived Spark session (warm; start-up once: "
                     f"{warm_figs['startup_seconds']:.1f} s)")  # fmt: skip
        for name, fig in warm_figs["medians"].items():
            b = summary.get(base[name[:2]])
            ratio = fig / b["median_seconds"] if b else float("nan")
            lines.append(f"{name:44} {fig:9.2f} {'':10} {'':8} {ratio:7.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-scale", type=float, default=1.0, help="TPC-H scale of the PostgreSQL table (1 = 6M)")
    parser.add_argument("--mysql-scale", type=float, default=0.17, help="scale of the MariaDB table (0.17 ~ 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--tampers", default="decimal +0.01,text trailing space", help="comma list, or none")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: pg,my,dlt,validate,tamper,warm,nocds")
    parser.add_argument("--json", default=os.path.join(ROOT, ".cache", "peers", "peers-results.json"))
    parser.add_argument(
        "--work",
        default=os.path.join(ROOT, ".cache", "peers", "work"),
        help="directory of the tools' outputs and log (emptied first, except with --validate-only)",
    )
    parser.add_argument("--validate-only", action="store_true",
                        help="only the validators (and tampers): against the archive an earlier run left in --work "
                             "(made once when missing); no archive peers, no MariaDB, no warm session")  # fmt: skip
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.validate_only:
        skip |= {"my", "warm", "nocds"}

    env = Env()
    started = time.monotonic()
    rows = {"pg": ensure_pg(env, args.pg_scale)}
    rows["my"] = ensure_my(env, args.mysql_scale) if "my" not in skip else 0
    log(f"rows: PostgreSQL {rows['pg']:,}, MariaDB {rows['my']:,} (ready after {time.monotonic() - started:.0f} s)")
    refs = {"pg": reference(env, "pg")}
    if "my" not in skip:
        refs["my"] = reference(env, "my")
    bench = Bench(args, env)
    if args.validate_only and not glob.glob(os.path.join(bench.work, "ours-pg", "bench", "*", "metadata", "*.json")):
        bench.ours_archive("pg")
        bench.samples.pop("pg: ours archive_table.py")  # made once to validate against; not a sample
    for i in range(args.repeat):  # alternate so that background load hits every tool alike
        log(f"repetition {i + 1}/{args.repeat}")
        if "pg" not in skip and not args.validate_only:
            bench.pg_copy()
            bench.ours_archive("pg")
            if "nocds" not in skip:
                bench.ours_archive("pg", cds=False)
            bench.adbc()
            if "dlt" not in skip:
                bench.dlt()
        if "validate" not in skip and "pg" not in skip:
            bench.ours_validate()
            bench.reladiff(bench.reladiff_db())
        if "my" not in skip:
            bench.my_read()
            bench.ours_archive("my")
            bench.pt_archiver()
    exact = exactness(bench, refs) if not args.validate_only else {}
    if "validate" not in skip and "pg" not in skip:
        for name in ("pg: ours validate_table.py", "pg: reladiff PostgreSQL vs DuckDB"):
            last = bench.samples[name][-1]
            clean = (last.get("result") or {}).get("status") == "passed" if "ours" in name else (
                last["exit_code"] == 0 and not last["error"] and not last["output"].strip())  # fmt: skip
            exact[name] = {"exact": clean, "differs": [] if clean else ["reported differences on an exact archive"]}
            if "ours" in name:  # which validation engine decided (validate_arrow.py: arrow, else spark)
                exact[name]["engine"] = (last.get("result") or {}).get("engine")
    tampers = {}
    classes = [c.strip() for c in args.tampers.split(",") if c.strip() and c.strip() != "none"]
    if classes and "tamper" not in skip and "pg" not in skip:
        tampers = tamper_runs(bench, classes, rows["pg"])
    warm_figs = warm(bench, args.repeat) if "warm" not in skip else {}
    summary = summarise(bench, rows)
    report = {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        },  # fmt: skip
        "command": "bash glue/bench/peers.sh " + " ".join(sys.argv[1:]),
        "rows": rows,
        "reference": refs,
        "tools": summary,
        "exactness": exact,
        "tampers": tampers,
        "warm": warm_figs,
        "total_seconds": round(time.monotonic() - started),
    }
    text = table(summary, exact, warm_figs)
    print(text)
    print("\ntampered rows (caught / key named):")
    for cls, r in tampers.items():
        print(f"  {cls:22} ours {r['ours']['caught']}/{r['ours']['key_named']}   "
              f"reladiff {r['reladiff']['caught']}/{r['reladiff']['key_named']}")  # fmt: skip
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump(report, fh, indent=2, default=str)
    print(f"\nfigures: {args.json}; tool output: {bench.log_path}")
    shutil.rmtree(env.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
