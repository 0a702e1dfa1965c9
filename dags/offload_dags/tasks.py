"""The TaskFlow tasks both DAGs are made of. Each one opens the runtime when it runs, so parsing a DAG
file builds the graph only; each per-table task names its map index ``database.schema.table``."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, TriggerRule, get_current_context, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from . import config
from .runtime import open_runtime, run_id_of
from .steps import StepFailed, archive_step, cleanup_step, label_of, purge_step, validate_step

#: Retries with exponential backoff: 1 min, 2 min, 4 min (capped at 30 min) — for transient errors
#: only; a refusal, a mismatch or an unarchivable value fails at once (AirflowFailException).
DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": int(config.option("retries", "3") or 3),
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}
TABLE_LABEL = "{{ table_label }}"


def dag_kwargs(dag_id: str, doc_md: str | None, tags: list[str]) -> dict:
    """What both DAGs are declared with: the settings' schedule, one run at a time, the shared retries
    and the run's two params (`as_of`, `databases`)."""
    return {
        "dag_id": dag_id,
        "doc_md": doc_md,
        "schedule": config.schedule(),
        "start_date": datetime(2024, 1, 1),
        "catchup": False,
        "max_active_runs": 1,
        "tags": tags,
        "default_args": DEFAULT_ARGS,
        "params": {
            "as_of": Param(None, type=["null", "string"], description="decision date YYYY-MM-DD (default today)"),
            "databases": Param([], type="array", description="database configs to run (default all)"),
        },
    }


def _group_by_table(planned: list[dict], actions: tuple[str, ...]) -> list[dict]:
    """One item per table (the engine's order), holding its units by action; databases interleaved
    so that the run's read slots spread over the sources instead of queuing on one."""
    tables: dict[str, dict] = {}
    for entry in planned:
        unit = entry["unit"]
        if unit["action"] not in actions:
            continue
        label = label_of(unit)
        tables.setdefault(label, {"label": label, "database": unit["database"]})[unit["action"]] = entry
    by_db: dict[str, list[dict]] = {}
    for item in tables.values():
        by_db.setdefault(item["database"], []).append(item)
    queues = list(by_db.values())
    out: list[dict] = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def plan_items(actions: tuple[str, ...]) -> list[dict]:
    ctx = get_current_context()
    params = ctx["params"]
    rt = open_runtime()
    planned = rt.plan(run_id_of(ctx["run_id"]), params.get("as_of") or None, params.get("databases") or None)
    items = _group_by_table(planned["units"], actions)
    for p in planned["problems"]:
        print(f"problem: {p}")
    print(f"run {planned['run_id']}: {len(items)} table(s) on the {rt.name} runtime")
    return items


def _step(item: dict, action: str, step) -> dict:
    get_current_context()["table_label"] = item["label"]
    entry = item.get(action)
    if entry is None:  # e.g. a table archived earlier and only validated now
        return {"label": item["label"], "action": action, "status": "skipped", "reason": f"no {action} unit"}
    rt = open_runtime()
    try:
        outcome = step(rt.ledger, rt, entry["unit"], entry.get("location"))
    except StepFailed as exc:
        if exc.retryable:
            raise AirflowException(str(exc)) from None
        raise AirflowFailException(str(exc)) from None
    print(f"{item['label']}: {action} {outcome['status']} (ledger: {outcome.get('state')})")
    return outcome


@task(map_index_template=TABLE_LABEL, max_active_tis_per_dagrun=config.max_parallel_reads())
def archive(item: dict) -> dict:
    """Archives one table into its Iceberg table (ledger: archiving → archived | failed)."""
    return _step(item, "archive", archive_step)


@task(map_index_template=TABLE_LABEL, max_active_tis_per_dagrun=config.max_parallel_reads())
def validate(item: dict, archived: dict) -> dict:
    """Validates the archive against the source (ledger: archived → validated | failed)."""
    return _step(item, "validate", validate_step)


@task(map_index_template=TABLE_LABEL, max_active_tis_per_dagrun=config.max_parallel_reads())
def cleanup_source(item: dict, validated: dict) -> dict:
    """Renames a validated source table to its quarantine name, or drops it after the grace period, for
    policies with ``source.action: drop`` — only when the ledger shows a passed validation of the
    archive's current snapshot and no legal hold (ledger: validated → source_renamed → source_dropped;
    a refusal changes nothing). Runs only after this table's validate task succeeded."""
    return _step(item, "cleanup_source", cleanup_step)


@task(map_index_template=TABLE_LABEL, max_active_tis_per_dagrun=config.max_parallel_reads())
def purge(item: dict) -> dict:
    """Purges one archive when due and not under legal hold (ledger: → purged; a refusal changes nothing)."""
    return _step(item, "purge", purge_step)


@task(trigger_rule=TriggerRule.ALL_DONE, retries=1)
def report(items: list[dict]) -> dict:
    """Renders the run's report (JSON, Markdown, HTML) from the ledger, whatever happened to each table;
    then fails the DAG run when any table failed, so the run's colour tells the truth."""
    if not items:
        print("nothing to do: no table is due")
        return {"status": "no_op"}
    run_id = run_id_of(get_current_context()["run_id"])
    rt = open_runtime()
    out = rt.report(run_id)
    print(f"report ({out['status']}): {out['files']}")
    if out.get("failed"):
        raise AirflowFailException(f"run {run_id}: {out['status']}; see {out['files'].get('html')}")
    return out
