"""Reads an archive back with pyiceberg — an Iceberg implementation independent of Spark's — from
the Hadoop catalog's latest metadata file."""

from __future__ import annotations

import glob
import os

from pyiceberg.table import StaticTable


def metadata_files(warehouse: str, database: str, table: str) -> list[str]:
    return sorted(
        glob.glob(os.path.join(warehouse, database, table, "metadata", "v*.metadata.json")),
        key=lambda p: int(os.path.basename(p)[1:].split(".")[0]),
    )


def load(warehouse: str, database: str, table: str) -> StaticTable:
    files = metadata_files(warehouse, database, table)
    assert files, f"no Iceberg metadata for {database}.{table} under {warehouse}"
    return StaticTable.from_metadata(files[-1])


def rows(warehouse: str, database: str, table: str) -> list[dict]:
    return load(warehouse, database, table).scan().to_arrow().to_pylist()
