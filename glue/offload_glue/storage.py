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


def file_size(spark, path: str) -> int | None:
    """The file's length in bytes, ``None`` when it does not exist."""
    fs, hpath = _fs(spark, path)
    return int(fs.getFileStatus(hpath).getLen()) if fs.exists(hpath) else None


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
