"""Peer of the archive job: the minimal Python route PostgreSQL -> Iceberg (ADBC PostgreSQL driver -> pyarrow ->
pyiceberg, SQL catalog on SQLite). Runs in the peers' environment (glue/bench/peers.sh), not the project's.

    python peers_adbc.py SCHEMA TABLE WAREHOUSE_DIR   (URI in PEERS_PG_URI)

Streams record batches and appends them in one pyiceberg transaction (one commit). NUMERIC arrives as text
(ADBC's opaque type with the typmod in the field metadata) and is cast to decimal(p,s) here.
"""

from __future__ import annotations

import json
import os
import sys

import adbc_driver_postgresql.dbapi as pg
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

CHUNK_ROWS = 1_000_000


def decimal_type(field: pa.Field) -> pa.DataType | None:
    meta = field.metadata or {}
    if meta.get(b"POSTGRESQL:type") != b"numeric":
        return None
    typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
    if typmod < 4:
        return None  # numeric without precision: stays text
    return pa.decimal128((typmod - 4) >> 16, (typmod - 4) & 0xFFFF)


def cast(batch: pa.RecordBatch, targets: dict[int, pa.DataType]) -> pa.RecordBatch:
    arrays = list(batch.columns)
    for i, target in targets.items():
        storage = arrays[i].storage if isinstance(arrays[i], pa.ExtensionArray) else arrays[i]
        arrays[i] = storage.cast(target)
    names = batch.schema.names
    return pa.RecordBatch.from_arrays(arrays, names=names)


def main() -> int:
    schema, table, warehouse = sys.argv[1:4]
    os.makedirs(warehouse, exist_ok=True)
    catalog = SqlCatalog("peers", uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    catalog.create_namespace_if_not_exists("peers")
    ident = f"peers.{table}"
    if catalog.table_exists(ident):
        catalog.drop_table(ident)
    rows = 0
    with pg.connect(os.environ["PEERS_PG_URI"]) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT * FROM "{schema}"."{table}"')
        reader = cur.fetch_record_batch()
        targets = {i: t for i, f in enumerate(reader.schema) if (t := decimal_type(f)) is not None}
        arrow_schema = pa.schema(
            [pa.field(f.name, targets.get(i, f.type), f.nullable) for i, f in enumerate(reader.schema)]
        )
        arrow_schema = pa.schema(
            [
                pa.field(f.name, f.type.storage_type, f.nullable) if isinstance(f.type, pa.ExtensionType) else f
                for f in arrow_schema
            ]
        )
        iceberg = catalog.create_table(ident, schema=arrow_schema)
        with iceberg.transaction() as tx:
            pending: list[pa.RecordBatch] = []
            pending_rows = 0
            for batch in reader:
                batch = cast(batch, targets)
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= CHUNK_ROWS:
                    tx.append(pa.Table.from_batches(pending, schema=arrow_schema))
                    rows += pending_rows
                    pending, pending_rows = [], 0
            if pending:
                tx.append(pa.Table.from_batches(pending, schema=arrow_schema))
                rows += pending_rows
    print(json.dumps({"rows": rows, "table": ident}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
