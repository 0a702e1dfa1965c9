"""Class-data sharing (AppCDS) for the local Spark driver JVM: a cheaper start-up for every job run.

A local job spends most of its fixed cost loading, parsing and verifying the many thousand classes of Spark, Iceberg
and the drivers. Java 17 can dump the classes one run loaded into an archive (``-XX:ArchiveClassesAtExit``)
and map that archive into later JVMs (``-XX:SharedArchiveFile``) instead of loading them again. The classes
are the same bytes from the same jars: the JVM checks the archive against its class path (jar names, sizes and
modification times) and ignores it when anything differs (``-Xshare:auto``), so a stale archive costs the
old start-up, never a different behaviour.

    python -m offload_glue.cds        # build the archive for this class path (scripts/pyenv.sh runs it)

The archive's file name carries a hash of what it depends on (the jars of ``.cache/jars`` with sizes and
times, the pyspark installation, the java binary), so a change of any of them makes a new archive; it is
written under another name and renamed when the JVM that dumped it has exited, so a job never maps a partial
file. Each use touches its archive; building a new one removes the archives (about 150 MB each) that no run
has used for ``PRUNE_AFTER_DAYS`` days, so the cache does not grow with every jar or Spark upgrade while
archives other checkouts still use (they may share the cache) are kept. Local runs only: on Glue the JVM is
Glue's.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CDS_DIR = os.environ.get("OFFLOAD_CDS_DIR", os.path.join(ROOT, ".cache", "jvm-cds"))
DUMP_ENV = "OFFLOAD_CDS_DUMP"  # set only by build(): the child JVM dumps its classes to this path at exit
PRUNE_AFTER_DAYS = 14


def archive_path(jars: list[str]) -> str | None:
    """The archive for this class path, or None when there are no jars or no java."""
    java = shutil.which("java")
    if not jars or not java:
        return None
    h = hashlib.sha256()
    for jar in jars:
        try:
            st = os.stat(jar)
        except OSError:
            return None
        h.update(f"{jar}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    try:
        import pyspark

        h.update(f"{os.path.dirname(pyspark.__file__)}\0{pyspark.__version__}\n".encode())
    except ImportError:
        return None
    h.update(os.path.realpath(java).encode())
    return os.path.join(CDS_DIR, f"spark-{h.hexdigest()[:16]}.jsa")


def jvm_options(jars: list[str]) -> str:
    """Extra driver JVM options: dump (inside build()) or map the archive when it exists; else nothing."""
    dump = os.environ.get(DUMP_ENV)
    if dump:
        return f" -XX:ArchiveClassesAtExit={dump}"
    path = archive_path(jars)
    if path and os.path.isfile(path):
        with contextlib.suppress(OSError):  # marks it used (prune() keeps what runs use)
            os.utime(path)
        return f" -Xshare:auto -XX:SharedArchiveFile={path}"
    return ""


def prune(keep: str, now: float | None = None) -> list[str]:
    """Removes the archives (and their logs) in the archive's directory, other than ``keep``, that no run has
    used for PRUNE_AFTER_DAYS days; returns the removed archives. Partial dumps of a crashed build go too."""
    import time

    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_DAYS * 86400
    removed = []
    for old in glob.glob(os.path.join(os.path.dirname(keep), "spark-*.jsa*")):
        base = old.split(".jsa")[0] + ".jsa"
        if base == keep or old.endswith(".log"):
            continue
        try:
            if os.stat(old).st_mtime >= cutoff:
                continue
            os.remove(old)
        except OSError:
            continue
        removed.append(old)
        with contextlib.suppress(OSError):
            os.remove(f"{base}.log")
    return removed


def _train() -> None:
    """The workload whose classes go into the archive: a Spark session with the Iceberg catalog, an Iceberg
    table created, replaced and read back with the archive's types, and the validation's hash and aggregates."""
    from .session import get_spark, local_spark_conf

    warehouse = tempfile.mkdtemp(prefix="offload-cds-")
    spark = get_spark("offload", "hadoop", warehouse, app_name="offload-cds", local_conf=local_spark_conf())
    gateway = spark.sparkContext._gateway
    df = spark.range(20000).selectExpr(
        "id",
        "cast(id as int) AS i",
        "cast(id / 100 as decimal(15,2)) AS d",
        "date_add(date'2020-01-01', cast(id % 365 as int)) AS day",
        "timestamp_micros(id * 1000) AS ts",
        "concat('text ', id) AS s",
        "id % 2 = 0 AS b",
    )
    for _ in range(2):
        df.writeTo("offload.cds.t").tableProperty("write.parquet.compression-codec", "zstd").createOrReplace()
    back = spark.table("offload.cds.t")
    back.selectExpr("count(*)", "sum(d)", "min(day)", "max(ts)", "sum(xxhash64(s, d, day))").collect()
    back.groupBy((back.id % 16).alias("bucket")).count().collect()
    spark.stop()
    proc = getattr(gateway, "proc", None)
    shutil.rmtree(warehouse, ignore_errors=True)
    if proc is not None:  # the JVM writes the archive while exiting: wait for it
        proc.stdin.close()
        proc.wait(timeout=600)


def build() -> str | None:
    """Builds the archive for the current class path when missing; returns its path (None: nothing to do)."""
    from .session import LOCAL_JARS_DIR

    jars = sorted(glob.glob(os.path.join(LOCAL_JARS_DIR, "*.jar")))
    path = archive_path(jars)
    if path is None or os.path.isfile(path):
        return path
    os.makedirs(CDS_DIR, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    env = dict(os.environ, **{DUMP_ENV: tmp})
    log = f"{path}.log"
    with open(log, "wb") as out:
        cmd = [sys.executable, "-m", "offload_glue.cds", "--train"]
        code = subprocess.run(cmd, env=env, cwd=os.path.join(ROOT, "glue"), stdout=out, stderr=out).returncode
    if code != 0 or not os.path.isfile(tmp) or os.path.getsize(tmp) == 0:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise RuntimeError(f"the class-data archive was not written (exit {code}); see {log}")
    os.replace(tmp, path)
    prune(path)
    return path


def main(argv: list[str]) -> int:
    if "--train" in argv:
        _train()
        return 0
    path = build()
    print(path or "no class-data archive: no jars or no java")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
