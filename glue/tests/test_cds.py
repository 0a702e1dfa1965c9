"""Class-data sharing for the local driver JVM (offload_glue/cds.py): the archive is keyed by everything the
JVM checks, is used only when it exists for this class path, and the session's JVM maps it."""

from __future__ import annotations

import glob
import os

from offload_glue import cds
from offload_glue.session import LOCAL_JARS_DIR, local_spark_conf


def _jars(tmp_path):
    jars = []
    for name in ("a.jar", "b.jar"):
        path = tmp_path / name
        path.write_bytes(b"PK\x05\x06" + bytes(18))
        jars.append(str(path))
    return jars


def test_archive_name_changes_with_any_jar(tmp_path):
    jars = _jars(tmp_path)
    first = cds.archive_path(jars)
    assert first is not None and first.endswith(".jsa")
    assert cds.archive_path(jars) == first
    os.utime(jars[1], ns=(1_000_000_000, 1_000_000_000))
    assert cds.archive_path(jars) != first, "a jar with another modification time needs another archive"
    assert cds.archive_path(jars[:1]) not in (first, cds.archive_path(jars))
    assert cds.archive_path([]) is None
    assert cds.archive_path([str(tmp_path / "missing.jar")]) is None


def test_options_only_when_the_archive_exists(tmp_path, monkeypatch):
    jars = _jars(tmp_path)
    monkeypatch.setattr(cds, "CDS_DIR", str(tmp_path / "cds"))
    monkeypatch.delenv(cds.DUMP_ENV, raising=False)
    assert cds.jvm_options(jars) == ""
    path = cds.archive_path(jars)
    os.makedirs(os.path.dirname(path))
    open(path, "wb").close()
    assert cds.jvm_options(jars) == f" -Xshare:auto -XX:SharedArchiveFile={path}"
    monkeypatch.setenv(cds.DUMP_ENV, str(tmp_path / "dump.jsa"))
    assert cds.jvm_options(jars) == f" -XX:ArchiveClassesAtExit={tmp_path / 'dump.jsa'}"


def test_prune_removes_only_archives_unused_for_the_period(tmp_path, monkeypatch):
    jars = _jars(tmp_path)
    monkeypatch.setattr(cds, "CDS_DIR", str(tmp_path / "cds"))
    monkeypatch.delenv(cds.DUMP_ENV, raising=False)
    os.makedirs(cds.CDS_DIR)
    current = cds.archive_path(jars)
    day = 86400
    now = 2_000_000_000

    def archive(name, age_days, log=True):
        path = os.path.join(cds.CDS_DIR, name)
        for p in (path, f"{path}.log") if log else (path,):
            open(p, "wb").close()
            os.utime(p, (now - age_days * day, now - age_days * day))
        return path

    old = archive("spark-00000000000000aa.jsa", cds.PRUNE_AFTER_DAYS + 1)
    recent = archive("spark-00000000000000bb.jsa", cds.PRUNE_AFTER_DAYS - 1)
    partial = archive("spark-00000000000000cc.jsa.123.tmp", 30, log=False)
    archive(os.path.basename(current), 100)  # the current one, however old
    used = archive("spark-00000000000000dd.jsa", 100)
    os.utime(used, (now, now))  # a run of another checkout mapped it today
    assert sorted(cds.prune(current, now=now)) == sorted([old, partial])
    left = sorted(os.listdir(cds.CDS_DIR))
    assert left == sorted(
        os.path.basename(p) for p in (recent, f"{recent}.log", current, f"{current}.log", used, f"{used}.log")
    ), left


def test_using_an_archive_marks_it_used(tmp_path, monkeypatch):
    jars = _jars(tmp_path)
    monkeypatch.setattr(cds, "CDS_DIR", str(tmp_path / "cds"))
    monkeypatch.delenv(cds.DUMP_ENV, raising=False)
    path = cds.archive_path(jars)
    os.makedirs(os.path.dirname(path))
    open(path, "wb").close()
    os.utime(path, (1_000_000_000, 1_000_000_000))
    cds.jvm_options(jars)
    assert os.stat(path).st_mtime > 1_500_000_000


def test_the_session_jvm_maps_the_archive_built_by_setup(spark):
    jars = sorted(glob.glob(os.path.join(LOCAL_JARS_DIR, "*.jar")))
    path = cds.archive_path(jars)
    assert path and os.path.isfile(path), f"scripts/pyenv.sh builds {path}"
    assert f"-XX:SharedArchiveFile={path}" in local_spark_conf()["spark.driver.extraJavaOptions"]
    args = list(spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={path}" in args
