"""
### Archive aged tables into Iceberg

The archival DAG of the Data Retention Offloader (its id is `dags.archival` in `offload.settings.yaml`).

1. **plan** — the policy engine's work units for this run: on the `local` runtime
   `offload run --dry-run --format json` (synced configs, live read-only discovery, the run ledger);
   on `aws` the `discover` Lambda (work units written to S3).
2. **table** (mapped: one instance per table, named `database.schema.table`) — **archive** (the
   archive job: one atomic Iceberg commit) then **validate** (counts, aggregates computed by the
   source database, row hashes) then, for policies with `source.action: drop`, **cleanup_source**
   (rename the source to its quarantine name; after the grace period, validate again and drop it),
   only when the ledger shows a passed validation of the archive's current snapshot and no legal
   hold. Each step writes the run ledger (`archiving → archived → validated → source_renamed →
   source_dropped`, or `failed` with the error code; a refused cleanup changes nothing). One table
   failing never stops the others.
3. **report** — runs whatever happened (`all_done`): JSON, Markdown and HTML from the ledger
   (`offload report` locally, the `validation_report` Lambda on AWS); fails the run if a table failed.

Reads: at most `[offload] max_parallel_reads` archives, validations and cleanups each at a time in a run,
one run at a time (`max_active_runs=1`). Runtime: `[offload] runtime` = `local` | `aws`.
Params: `as_of` (YYYY-MM-DD, default today), `databases` (default all).
"""

from __future__ import annotations

import os
import sys

from airflow.sdk import dag, task, task_group

# The helpers live beside the DAG files (MWAA puts the DAG folder on sys.path; a bare DagBag may not).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from offload_dags import config, tasks  # noqa: E402

NAMES = config.names()


@dag(**tasks.dag_kwargs(NAMES.archival_dag, __doc__, ["offload", "archive", "iceberg"]))
def archival():
    @task
    def plan() -> list[dict]:
        """Plans the run's archive, validate and cleanup_source work units, one item per table."""
        return tasks.plan_items(("archive", "validate", "cleanup_source"))

    planned = plan()

    @task_group
    def table(item: dict):
        tasks.cleanup_source(item, tasks.validate(item, tasks.archive(item)))

    done = table.expand(item=planned)
    done >> tasks.report(planned)


archival()
