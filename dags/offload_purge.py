"""
### Purge archives past their retention end

The purge DAG of the Data Retention Offloader (its id is `dags.purge` in `offload.settings.yaml`).

1. **plan** — the policy engine's purge work units (`offload run --dry-run` locally, the `discover`
   Lambda on AWS): only archives validated in the ledger, past their retention end, not under legal hold.
2. **purge** (mapped: one instance per table, named `database.schema.table`) — the purge job, which
   checks again and refuses under legal hold (the config's or the one recorded with the archive: no
   flag overrides it) and before the retention end; every decision leaves an audit record. The ledger
   moves to `purged` only when the job purged; a refusal changes nothing.
3. **report** — runs whatever happened (`all_done`), as in the archival DAG.

Runtime: `[offload] runtime` = `local` | `aws`. Params: `as_of`, `databases`.
"""

from __future__ import annotations

import os
import sys

from airflow.sdk import dag, task

# The helpers live beside the DAG files (MWAA puts the DAG folder on sys.path; a bare DagBag may not).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from offload_dags import config, tasks  # noqa: E402

NAMES = config.names()


@dag(**tasks.dag_kwargs(NAMES.purge_dag, __doc__, ["offload", "purge", "iceberg"]))
def purge():
    @task
    def plan() -> list[dict]:
        """Plans the run's purge work units, one item per table."""
        return tasks.plan_items(("purge",))

    planned = plan()
    tasks.purge.expand(item=planned) >> tasks.report(planned)


purge()
