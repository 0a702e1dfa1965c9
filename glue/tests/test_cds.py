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


def test_the_session_jvm_maps_the_archive_built_by_setup(spark):
    jars = sorted(glob.glob(os.path.join(LOCAL_JARS_DIR, "*.jar")))
    path = cds.archive_path(jars)
    assert path and os.path.isfile(path), f"scripts/pyenv.sh builds {path}"
    assert f"-XX:SharedArchiveFile={path}" in local_spark_conf()["spark.driver.extraJavaOptions"]
    args = list(spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert f"-XX:SharedArchiveFile={path}" in args
