"""The ledger discipline of one step (offload_dags/steps.py), against the real local ledger, for the
job outcomes a live run rarely shows: a job whose outcome is unknown, a validation mismatch, a
validation of another snapshot than the ledger's, a purge refusal, a table already validated. The
job itself is replaced by its recorded outcome (the only stand-in: the live runs are in
test_dag_runs.py)."""

from __future__ import annotations

import pytest
from offload_dags.steps import JobResult, StepFailed, archive_step, purge_step, validate_step
from offload_glue.ledger import LocalLedger, Transition


class Recorded:
    """An executor that answers each action with a recorded job outcome and keeps the units it got."""

    def __init__(self, **outcomes: JobResult):
        self.outcomes = outcomes
        self.calls: list[dict] = []

    def run_job(self, unit, location=None):
        self.calls.append(unit)
        return self.outcomes[unit["action"]]


def unit(action: str) -> dict:
    return {
        "action": action,
        "run_id": "r-2",
        "database": "sales",
        "source": {"schema": "public", "table": "orders_2015"},
        "archive": {"namespace": "archive_sales", "table": "public__orders_2015", "run_id": "r-2", "snapshot_id": None},
        "policy": {"name": "yearly"},
        "decision": {"table_date": "2015-12-31"},
    }


REF = {"database": "sales", "schema": "public", "table": "orders_2015"}


def test_an_unknown_job_outcome_leaves_archiving_and_is_retryable(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    with pytest.raises(StepFailed) as err:
        archive_step(
            ledger,
            Recorded(archive=JobResult(4, None, {"code": "job_outcome_unknown", "message": "killed"})),
            unit("archive"),
        )
    assert err.value.retryable
    assert ledger.get(REF)["state"] == "archiving"  # never claims the commit that may not have happened
    # The retry starts again from archiving and lands.
    archived = JobResult(0, {"status": "archived", "snapshot_id": 9007199254740993, "rows": 5})
    out = archive_step(ledger, Recorded(archive=archived), unit("archive"))
    entry = ledger.get(REF)
    assert out["status"] == "ok" and entry["state"] == "archived"
    assert entry["snapshot_id"] == "9007199254740993" and entry["rows"] == 5


def test_a_refusal_fails_the_table_without_retry(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    lossy = JobResult(2, {"error": {"code": "lossy_value", "message": "column d"}})
    with pytest.raises(StepFailed) as err:
        archive_step(ledger, Recorded(archive=lossy), unit("archive"))
    assert not err.value.retryable
    assert ledger.get(REF)["state"] == "failed" and ledger.get(REF)["error"]["code"] == "lossy_value"


def _archived(ledger, snapshot="111"):
    ledger.transition(REF, Transition(expect=None, to="archiving", run_id="r-1"))
    ledger.transition(REF, Transition(expect="archiving", to="archived", run_id="r-1", snapshot_id=snapshot, rows=5))


def test_validate_checks_the_ledgers_snapshot_and_fails_on_mismatch(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _archived(ledger)
    mismatch = JobResult(1, {"status": "failed", "archive_snapshot_id": 111, "mismatches": ["row_hash"]})
    executor = Recorded(validate=mismatch)
    with pytest.raises(StepFailed):
        validate_step(ledger, executor, unit("validate"))
    # The job was asked about the archive the ledger records (run r-1, snapshot 111), not the plan's.
    assert executor.calls[0]["archive"]["run_id"] == "r-1"
    assert executor.calls[0]["archive"]["snapshot_id"] == "111"
    entry = ledger.get(REF)
    assert entry["state"] == "failed" and entry["error"]["code"] == "validation_failed"
    assert entry["validation"]["status"] == "failed" and entry["validation"]["mismatches"] == 1


def test_a_passed_validation_of_another_snapshot_does_not_validate(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _archived(ledger, snapshot="111")
    other = JobResult(0, {"status": "passed", "archive_snapshot_id": 222, "mismatches": []})
    with pytest.raises(StepFailed):
        validate_step(ledger, Recorded(validate=other), unit("validate"))
    assert ledger.get(REF)["error"]["code"] == "snapshot_changed"


def test_validated_tables_are_never_redone_and_purge_refusals_change_nothing(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _archived(ledger)
    passed = JobResult(0, {"status": "passed", "archive_snapshot_id": 111, "mismatches": []})
    assert validate_step(ledger, Recorded(validate=passed), unit("validate"))["state"] == "validated"
    executor = Recorded()
    assert archive_step(ledger, executor, unit("archive"))["status"] == "skipped"
    assert executor.calls == []  # no job started for a validated table
    version = ledger.get(REF)["version"]
    refused = JobResult(2, {"status": "refused", "error": {"code": "legal_hold", "message": "held"}})
    out = purge_step(ledger, Recorded(purge=refused), unit("purge"))
    assert out["status"] == "refused"
    assert ledger.get(REF)["state"] == "validated" and ledger.get(REF)["version"] == version
    purged = JobResult(0, {"status": "purged"})
    assert purge_step(ledger, Recorded(purge=purged), unit("purge"))["state"] == "purged"
