"""Files through Hadoop's FileSystem API (via the Spark driver's JVM), so the same calls work on a
local warehouse directory and on s3:// under Glue."""

from __future__ import annotations

import json


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def list_files(spark, path: str) -> list[str]:
    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        return []
    files, it = [], fs.listFiles(hpath, True)
    while it.hasNext():
        files.append(it.next().getPath().toString())
    return files


def exists(spark, path: str) -> bool:
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath))


def delete_tree(spark, path: str) -> None:
    fs, hpath = _fs(spark, path)
    if fs.exists(hpath):
        fs.delete(hpath, True)


def write_json(spark, path: str, record: dict) -> str:
    fs, hpath = _fs(spark, path)
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")))
    finally:
        out.close()
    return hpath.toString()


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
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm
        data = jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")
