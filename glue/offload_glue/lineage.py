"""The lineage an archive carries in its table properties (and snapshot summary): ``offload.*`` keys
naming the source table, the run, the config commit, the policy and the legal hold (see hold.py)."""

from __future__ import annotations

from .engines import Connection

LINEAGE_PREFIX = "offload."

SOURCE_KEYS = ("source.engine", "source.host", "source.port", "source.database", "source.schema", "source.table")


def source_lineage(engine_name: str, connection: Connection, schema: str, table: str) -> dict[str, str]:
    """The SOURCE_KEYS of an archive of ``schema.table`` read through ``connection`` (without prefix)."""
    return {
        "source.engine": engine_name,
        "source.host": connection.host,
        "source.port": str(connection.port),
        "source.database": connection.database,
        "source.schema": schema,
        "source.table": table,
    }
