"""The caller's side of source cleanup (policies with ``source.action: drop``) for Python callers (the
Airflow DAG): the same guards as ``offload run`` (tools/src/run/cleanup.ts ``cleanupGuard``), read from
the run ledger before the cleanup job is started, and the validation record the job is handed. The job
(offload_glue/cleanup.py) checks the same guards again against the archive table itself.
"""

from __future__ import annotations


def cleanup_refusal(unit: dict, entry: dict | None) -> dict | None:
    """Why this cleanup_source unit must not run (``{"code", "message"}``), or None when it may: never
    under a legal hold; the ledger must show ``validated`` (rename) or ``source_renamed`` (drop) with a
    passed validation of the snapshot it records as the archive's current one."""
    src = unit["source"]
    where = f"{unit['database']}: {src['schema']}.{src['table']}"
    hold = (unit.get("policy") or {}).get("legal_hold") or {}
    if hold.get("enabled") is not False:  # missing or unrecognised counts as held, as the job reads it
        name = (unit.get("policy") or {}).get("name")
        return {"code": "legal_hold", "message": f"{where} is under legal hold (policy {name}): the source stays"}
    state = entry.get("state") if entry else None
    if state not in ("validated", "source_renamed"):
        return {
            "code": "not_validated",
            "message": f"{where}: the ledger shows {state or 'nothing'}; "
            "a source is cleaned up only after a passed validation",
        }
    validation = entry.get("validation")
    if not validation:
        return {"code": "no_validation", "message": f"{where}: the ledger records no validation"}
    if validation.get("status") != "passed":
        return {"code": "validation_not_passed", "message": f"{where}: the last validation did not pass"}
    snapshot = entry.get("snapshot_id")
    if snapshot is None or validation.get("snapshot_id") != snapshot:
        checked = validation.get("snapshot_id")
        return {
            "code": "validation_stale",
            "message": f"{where}: the validation checked snapshot {checked if checked is not None else 'none'}, "
            f"the archive's current one is {snapshot if snapshot is not None else 'unknown'}",
        }
    return None


def cleanup_phase(entry: dict) -> str:
    """``drop`` once the ledger records the rename, else ``quarantine``."""
    return "drop" if entry.get("state") == "source_renamed" else "quarantine"


def validation_record_of(unit: dict, entry: dict) -> dict:
    """The validation result record (schema/validation-result.schema.json's fields the job checks) the
    ledger holds, as ``offload run`` writes it (cleanup.ts ``validationRecordOf``)."""
    validation = entry.get("validation") or {}
    return {
        "job": "validate",
        "status": validation.get("status"),
        "archive_table": f"{unit['archive']['namespace']}.{unit['archive']['table']}",
        "archive_snapshot_id": validation.get("snapshot_id"),
        "source": {"schema": unit["source"]["schema"], "table": unit["source"]["table"]},
        "mismatches": [],
        "validated_at": validation.get("validated_at"),
        "recorded_by": f"the run ledger (run {entry.get('run_id')})",
    }
