"""Files through Hadoop's FileSystem API (via the Spark driver's JVM), so the same calls work on a
local warehouse directory and on s3:// under Glue (EMRFS). Where Hadoop has no file system for s3://
(local Spark against S3 or an emulator), the same calls go through Iceberg's S3FileIO, configured
like the catalog's (endpoint overrides and region from the environment, see session.py)."""

from __future__ import annotations

import json
import os


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = None
    if path.startswith(("s3://", "s3a://")):
        try:
            fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        except Exception:  # noqa: BLE001 — no Hadoop file system for s3 here: use S3FileIO
            return _S3Files(spark), hpath
        return fs, hpath
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


class _S3Files:
    """The few FileSystem calls this module makes, over Iceberg's S3FileIO."""

    def __init__(self, spark):
        from .session import iceberg_aws_properties

        jvm = spark.sparkContext._jvm
        self._jvm = jvm
        self._io = jvm.org.apache.iceberg.aws.s3.S3FileIO()
        props = jvm.java.util.HashMap()
        for key, value in iceberg_aws_properties().items():
            props.put(key, value)
        self._io.initialize(props)

    @staticmethod
    def _dir(hpath) -> str:
        return hpath.toString().rstrip("/") + "/"

    def exists(self, hpath) -> bool:
        text = hpath.toString()
        if self._io.newInputFile(text).exists():
            return True
        return self._io.listPrefix(self._dir(hpath)).iterator().hasNext()

    def list(self, hpath) -> list[str]:
        it = self._io.listPrefix(self._dir(hpath)).iterator()
        out = []
        while it.hasNext():
            out.append(it.next().location())
        return out

    def delete(self, hpath, _recursive=True) -> bool:
        self._io.deletePrefix(self._dir(hpath))
        if self._io.newInputFile(hpath.toString()).exists():
            self._io.deleteFile(hpath.toString())
        return True

    def size(self, hpath) -> int | None:
        f = self._io.newInputFile(hpath.toString())
        return int(f.getLength()) if f.exists() else None

    def write(self, hpath, data: bytes) -> None:
        out = self._io.newOutputFile(hpath.toString()).createOrOverwrite()
        try:
            out.write(bytearray(data))
        finally:
            out.close()

    def open(self, hpath):
        """A seekable stream (Iceberg's SeekableInputStream)."""
        return self._io.newInputFile(hpath.toString()).newStream()

    def read(self, hpath) -> bytes:
        stream = self._io.newInputFile(hpath.toString()).newStream()
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()


def list_files(spark, path: str) -> list[str]:
    fs, hpath = _fs(spark, path)
    if isinstance(fs, _S3Files):
        return fs.list(hpath)
    if not fs.exists(hpath):
        return []
    files, it = [], fs.listFiles(hpath, True)
    while it.hasNext():
        files.append(it.next().getPath().toString())
    return files


def exists(spark, path: str) -> bool:
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath))


def file_size(spark, path: str) -> int | None:
    """The file's length in bytes, ``None`` when it does not exist."""
    fs, hpath = _fs(spark, path)
    if isinstance(fs, _S3Files):
        return fs.size(hpath)
    return int(fs.getFileStatus(hpath).getLen()) if fs.exists(hpath) else None


def read_range(spark, path: str, offset: int, length: int) -> bytes:
    """``length`` bytes of a file from ``offset`` (a ranged GET on S3)."""
    fs, hpath = _fs(spark, path)
    stream = fs.open(hpath)
    try:
        stream.seek(offset)
        data = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream, length)
    finally:
        stream.close()
    return bytes(data)


def delete_tree(spark, path: str) -> None:
    fs, hpath = _fs(spark, path)
    if fs.exists(hpath):
        fs.delete(hpath, True)


def write_json(spark, path: str, record: dict) -> str:
    """Write ``record`` to ``path`` (a local path, file:// or s3://); without a Spark session (``spark`` None)
    through pyiceberg's file IO (pyarrow's file systems, the catalog's S3 settings)."""
    if spark is None:
        return _write_without_spark(path, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False))
    fs, hpath = _fs(spark, path)
    if isinstance(fs, _S3Files):
        fs.write(hpath, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        return hpath.toString()
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")))
    finally:
        out.close()
    return hpath.toString()


def _write_without_spark(path: str, text: str) -> str:
    from pyiceberg.io.pyarrow import PyArrowFileIO

    from .restore_arrow import pyiceberg_properties

    location = path.replace("s3a://", "s3://", 1)
    if "://" not in location:
        location = os.path.abspath(location)
        os.makedirs(os.path.dirname(location), exist_ok=True)
    with PyArrowFileIO(pyiceberg_properties()).new_output(location).create(overwrite=True) as out:
        out.write(text.encode("utf-8"))
    return path if "://" in path else location


def record_path(base: str | None, file_name: str) -> str | None:
    """``base`` is a directory (the record gets ``file_name``) or a path ending in .json."""
    if not base:
        return None
    return base if base.endswith(".json") else base.rstrip("/") + "/" + file_name


def read_text(spark, path: str) -> str:
    """A whole (small) file as UTF-8 text: a local path or an s3:// URI."""
    from .errors import OffloadError

    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        raise OffloadError("file_not_found", f"{path} does not exist")
    if isinstance(fs, _S3Files):
        return fs.read(hpath).decode("utf-8")
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm
        data = jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")
