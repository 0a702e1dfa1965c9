"""Mapping of a source ``schema.table`` to an Iceberg/Glue table name.

Rule (documented in glue/README.md):
  * when schema and table both match ``[a-z0-9]+(_[a-z0-9]+)*`` the archive name is
    ``<schema>__<table>`` — readable and unambiguous, because neither part can contain ``__``;
  * otherwise every run of characters outside ``[a-z0-9]`` (after lower-casing) becomes one ``_``
    and ``_h`` + the first 8 hex digits of sha256 of the exact UTF-8 ``schema`` NUL ``table`` are
    appended, so names differing only in case or punctuation stay distinct;
  * the result is cut to MAX_NAME_LENGTH characters (keeping the hash suffix).
The exact source names are always stored in the table's lineage properties, which makes the mapping
reversible; two sources mapping to one name is detected (lineage check) and is an error.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_LENGTH = 128  # Glue allows 255; Athena and humans prefer far less.
_SAFE_PART = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_UNSAFE_RUN = re.compile(r"[^a-z0-9]+")


def archive_table_name(schema: str, table: str) -> str:
    if _SAFE_PART.match(schema) and _SAFE_PART.match(table):
        name = f"{schema}__{table}"
        if len(name) <= MAX_NAME_LENGTH:
            return name
    digest = hashlib.sha256(f"{schema}\0{table}".encode()).hexdigest()[:8]
    suffix = f"_h{digest}"
    base = "__".join(_UNSAFE_RUN.sub("_", part.lower()).strip("_") or "x" for part in (schema, table))
    return base[: MAX_NAME_LENGTH - len(suffix)] + suffix


def find_collisions(sources: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Archive names claimed by more than one source table (empty when the mapping is injective)."""
    claimed: dict[str, list[tuple[str, str]]] = {}
    for schema, table in sources:
        claimed.setdefault(archive_table_name(schema, table), []).append((schema, table))
    return {name: srcs for name, srcs in claimed.items() if len(set(srcs)) > 1}


def spark_ident(*parts: str) -> str:
    """A Spark SQL multi-part identifier with every part back-quoted (backticks doubled)."""
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)


def spark_col(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
