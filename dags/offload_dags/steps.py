"""One table's step with the run ledger around it — the same discipline as ``offload run``
(tools/src/run/runner.ts), whichever runtime executes the job:

- ``archiving`` is written BEFORE the archive job starts (it claims only that a job started);
- ``archived`` AFTER the job reports its commit, with the snapshot id and row count;
- ``validated`` only with a passed validation of that same snapshot; a mismatch or an error → ``failed``;
- ``purged`` only when the purge job purged; a refusal (legal hold, retention) changes nothing;
- ``source_renamed`` / ``source_dropped`` (policies with ``source.action: drop``) only when the ledger
  shows a passed validation of the archive's current snapshot and no legal hold (the guard of
  offload_glue.cleanup_guard, the same as ``offload run``'s) and the cleanup job then reports the
  rename or the drop done; a refusal or an error leaves the ledger (and the source) as they are.

The ledger is ``offload_glue.ledger`` (the Python side of the one ledger, held to the TypeScript
rules by tools/test/fixtures/ledger-transitions.json). A step never imports Airflow: it raises
:class:`StepFailed`, which the task turns into a retry (``retryable``) or a final failure.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Protocol

DONE = ("validated", "source_renamed", "source_dropped", "purged")
#: Error codes worth a retry (the next attempt may succeed without a change of config or data).
RETRYABLE = {
    "source_unreachable",
    "aws_unreachable",
    "concurrent_commit",
    "worker_died",
    "job_outcome_unknown",
    "ledger_locked",
    "glue_unavailable",
}
#: Exit code of a job whose outcome is unknown (killed, lost): the ledger keeps ``archiving``.
UNKNOWN = 4


@dataclass
class JobResult:
    """A job's outcome: exit 0 ok, 1 validation mismatch, 2 refusal or user error, 3 bug, 4 unknown."""

    exit_code: int
    summary: dict | None = None
    error: dict | None = None


class StepFailed(Exception):
    def __init__(self, label: str, action: str, error: dict, retryable: bool):
        self.error = error
        self.retryable = retryable
        super().__init__(f"{label}: {action} failed — {error.get('code')}: {error.get('message')}")


class Executor(Protocol):
    """Runs one work unit's job (the runtime's: a local process, or a Glue job run)."""

    def run_job(self, unit: dict, location: str | None = None, validation_record: dict | None = None) -> JobResult:
        """``validation_record``: for a cleanup ``quarantine``, the ledger's validation the job checks."""
        ...


def ref_of(unit: dict) -> dict:
    return {"database": unit["database"], "schema": unit["source"]["schema"], "table": unit["source"]["table"]}


def label_of(unit: dict) -> str:
    """``database.schema.table``: the mapped task's name in the Airflow UI."""
    return f"{unit['database']}.{unit['source']['schema']}.{unit['source']['table']}"


def _common(unit: dict) -> dict:
    return {
        "run_id": unit["run_id"],
        "archive": {"namespace": unit["archive"]["namespace"], "table": unit["archive"]["table"]},
        "policy": unit["policy"]["name"],
        "table_date": unit["decision"].get("table_date"),
    }


def _error_of(r: JobResult) -> dict:
    if r.error:
        return r.error
    err = (r.summary or {}).get("error")
    if isinstance(err, dict) and err.get("code"):
        return {"code": str(err["code"]), "message": str(err.get("message", ""))}
    return {"code": f"exit_{r.exit_code}", "message": f"the job exited with {r.exit_code}"}


def _outcome(unit: dict, status: str, state: str | None, **extra) -> dict:
    return {"label": label_of(unit), "action": unit["action"], "status": status, "state": state, **extra}


def archive_step(ledger, executor: Executor, unit: dict, location: str | None = None) -> dict:
    from offload_glue.ledger import Transition

    ref, common = ref_of(unit), _common(unit)
    cur = ledger.get(ref)
    state = cur["state"] if cur else None
    if state in DONE or state == "archived":
        return _outcome(unit, "skipped", state, reason=f"already {state}: never redone")
    ledger.transition(ref, Transition(expect=state, to="archiving", **common))
    r = executor.run_job(unit, location)
    s = r.summary or {}
    if r.exit_code == 0 and s.get("status") in ("archived", "unchanged"):
        snapshot = None if s.get("snapshot_id") is None else str(s["snapshot_id"])
        rows = int(s.get("rows") or 0)
        e = ledger.transition(
            ref, Transition(expect="archiving", to="archived", snapshot_id=snapshot, rows=rows, **common)
        )
        return _outcome(unit, "ok", e["state"], rows=rows, snapshot_id=snapshot)
    error = _error_of(r)
    if r.exit_code == UNKNOWN:  # the commit may or may not have landed: the ledger keeps `archiving`
        raise StepFailed(label_of(unit), "archive", error, retryable=True)
    ledger.transition(ref, Transition(expect="archiving", to="failed", error=error, **common))
    raise StepFailed(label_of(unit), "archive", error, retryable=error["code"] in RETRYABLE)


def validate_step(ledger, executor: Executor, unit: dict, location: str | None = None) -> dict:
    from offload_glue.ledger import Transition

    ref, common = ref_of(unit), _common(unit)
    cur = ledger.get(ref)
    state = cur["state"] if cur else None
    if state in DONE:
        return _outcome(unit, "skipped", state, reason=f"already {state}")
    if state != "archived":
        error = {"code": "not_archived", "message": f"the ledger shows {state or 'nothing'}, not archived"}
        raise StepFailed(label_of(unit), "validate", error, retryable=False)
    # Check the archive the ledger records (its run and snapshot), not whatever the plan assumed.
    checked_unit = copy.deepcopy(unit)
    checked_unit["archive"]["run_id"] = cur.get("archive_run_id") or unit["archive"].get("run_id")
    checked_unit["archive"]["snapshot_id"] = cur.get("snapshot_id")
    r = executor.run_job(checked_unit, location)
    if r.exit_code == UNKNOWN:
        raise StepFailed(label_of(unit), "validate", _error_of(r), retryable=True)
    s = r.summary or {}
    mismatches = len(s["mismatches"]) if isinstance(s.get("mismatches"), list) else 0
    checked = None if s.get("archive_snapshot_id") is None else str(s["archive_snapshot_id"])
    validation = {
        "status": "passed" if s.get("status") == "passed" else "failed",
        "snapshot_id": checked,
        "mode": s.get("mode") if isinstance(s.get("mode"), str) else "full",
        "mismatches": mismatches,
    }
    if isinstance(s.get("validated_at"), str):
        validation["validated_at"] = s["validated_at"]
    if r.exit_code == 0 and s.get("status") == "passed" and checked == cur.get("snapshot_id"):
        e = ledger.transition(ref, Transition(expect="archived", to="validated", validation=validation, **common))
        return _outcome(unit, "ok", e["state"], rows=cur.get("rows"), snapshot_id=checked)
    if r.exit_code == 0 and s.get("status") == "passed":
        error = {
            "code": "snapshot_changed",
            "message": f"validated {checked}, the ledger records {cur.get('snapshot_id')}",
        }
    elif r.exit_code == 1:
        error = {
            "code": "validation_failed",
            "message": f"{mismatches} mismatch(es) between the archive and the source",
        }
    else:
        error = _error_of(r)
    extra = {"validation": validation} if r.exit_code <= 1 and r.summary else {}
    ledger.transition(ref, Transition(expect="archived", to="failed", error=error, **common, **extra))
    raise StepFailed(label_of(unit), "validate", error, retryable=error["code"] in RETRYABLE)


def purge_step(ledger, executor: Executor, unit: dict, location: str | None = None) -> dict:
    from offload_glue.ledger import Transition

    ref, common = ref_of(unit), _common(unit)
    cur = ledger.get(ref)
    state = cur["state"] if cur else None
    if state == "purged":
        return _outcome(unit, "skipped", state, reason="already purged")
    if state not in ("validated", "source_dropped"):
        return _outcome(unit, "skipped", state, reason="purge needs a validated archive in the ledger")
    r = executor.run_job(unit, location)
    if r.exit_code == 0 and (r.summary or {}).get("status") == "purged":
        e = ledger.transition(ref, Transition(expect=state, to="purged", **common))
        return _outcome(unit, "ok", e["state"])
    if r.exit_code in (3, UNKNOWN):
        raise StepFailed(label_of(unit), "purge", _error_of(r), retryable=r.exit_code == UNKNOWN)
    # A refusal (legal hold, retention end) leaves the archive and the ledger as they are.
    return _outcome(unit, "refused", state, error=_error_of(r), summary_status=(r.summary or {}).get("status"))


def cleanup_step(ledger, executor: Executor, unit: dict, location: str | None = None) -> dict:
    """Source cleanup, as ``offload run`` does it (tools/src/run/runner.ts ``runCleanup``): the guard
    first, then the job (which checks again against the archive itself), then the ledger."""
    from offload_glue.cleanup_guard import cleanup_phase, cleanup_refusal, validation_record_of
    from offload_glue.ledger import Transition

    ref, common = ref_of(unit), _common(unit)
    cur = ledger.get(ref)
    state = cur["state"] if cur else None
    if state == "source_dropped":
        return _outcome(unit, "skipped", state, reason="the source was dropped already")
    refusal = cleanup_refusal(unit, cur)
    if refusal:  # a refused cleanup leaves the archive as it was: a purge due after it still runs
        return _outcome(unit, "refused", state, reason=refusal["message"], error=refusal)
    phase = cleanup_phase(cur)
    checked_unit = copy.deepcopy(unit)
    checked_unit["archive"]["run_id"] = cur.get("archive_run_id")
    checked_unit["archive"]["snapshot_id"] = cur.get("snapshot_id")
    checked_unit["cleanup"] = {**(unit.get("cleanup") or {}), "phase": phase}
    record = validation_record_of(unit, cur) if phase == "quarantine" else None
    r = executor.run_job(checked_unit, location, validation_record=record)
    s = r.summary or {}
    if r.exit_code == UNKNOWN:  # the rename may or may not have landed: the next run's job finds out
        raise StepFailed(label_of(unit), "cleanup_source", _error_of(r), retryable=True)
    if r.exit_code != 0 or s.get("status") != "done":
        refused = s.get("refusal") if s.get("status") == "refused" else None
        if isinstance(refused, dict):
            reason = f"the cleanup job refused: {refused.get('message')}"
            return _outcome(unit, "refused", state, reason=reason, error=refused)
        error = _error_of(r)
        raise StepFailed(label_of(unit), "cleanup_source", error, retryable=error["code"] in RETRYABLE)
    quarantine = str(s["quarantine_table"])
    schema = unit["source"]["schema"]
    again = " (found renamed by an earlier run)" if s.get("already") else ""
    if phase == "quarantine":
        cleanup = {"quarantine_table": quarantine, "renamed_at": str(s.get("renamed_at")), "dropped_at": None}
        e = ledger.transition(
            ref,
            Transition(
                expect="validated",
                to="source_renamed",
                source_cleanup=cleanup,
                note=f"renamed to {schema}.{quarantine}{again}",
                **common,
            ),
        )
        return _outcome(unit, "ok", e["state"], rows=cur.get("rows"), reason=f"renamed to {quarantine}")
    check = s.get("validation") if isinstance(s.get("validation"), dict) else {}
    extra = {}
    if check.get("status") == "passed":
        checked = check.get("archive_snapshot_id")
        extra["validation"] = {
            "status": "passed",
            "snapshot_id": None if checked is None else str(checked),
            "mode": "full",
            "mismatches": 0,
        }
    cleanup = {
        **(cur.get("source_cleanup") or {}),
        "quarantine_table": quarantine,
        "dropped_at": str(s.get("dropped_at")),
    }
    again = " (found dropped by an earlier run)" if s.get("already") else ""
    e = ledger.transition(
        ref,
        Transition(
            expect="source_renamed",
            to="source_dropped",
            source_cleanup=cleanup,
            note=f"dropped {schema}.{quarantine}{again}",
            **common,
            **extra,
        ),
    )
    return _outcome(unit, "ok", e["state"], reason=f"dropped {quarantine}")
