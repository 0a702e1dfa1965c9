"""Peer of the archive job: dlt's sql_database source with its ConnectorX backend into dlt's filesystem destination
as Parquet. Runs in the peers' environment (glue/bench/peers.sh), not the project's.

    python peers_dlt.py SCHEMA TABLE OUT_DIR   (URI in PEERS_PG_URI)
"""

from __future__ import annotations

import json
import os
import sys

import dlt
from dlt.sources.sql_database import sql_table


def main() -> int:
    schema, table, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    url = os.environ["PEERS_PG_URI"].replace("postgresql://", "postgresql+psycopg2://", 1)  # SQLAlchemy's driver
    source = sql_table(credentials=url, schema=schema, table=table, backend="connectorx", chunk_size=100_000)
    pipeline = dlt.pipeline(
        pipeline_name="peers_dlt",
        pipelines_dir=os.path.join(out, ".pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=f"file://{out}/data"),
        dataset_name="peers",
        progress=None,
    )
    info = pipeline.run(source, loader_file_format="parquet", write_disposition="replace")
    print(json.dumps({"loads": len(info.loads_ids), "failed": info.has_failed_jobs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
