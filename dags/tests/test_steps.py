"""The ledger discipline of one step (offload_dags/steps.py), against the real local ledger, for the
job outcomes a live run rarely shows: a job whose outcome is unknown, a validation mismatch, a
validation of another snapshot than the ledger's, a purge refusal, a table already validated. The
job itself is replaced by its recorded outcome (the only stand-in: the live runs are in
test_dag_runs.py)."""

from __future__ import annotations

import pytest
from offload_dags.steps import JobResult, StepFailed, archive_step, cleanup_step, purge_step, validate_step
from offload_glue.cleanup_guard import cleanup_refusal
from offload_glue.ledger import LocalLedger, Transition


class Recorded:
    """An executor that answers each action with a recorded job outcome and keeps the units it got."""

    def __init__(self, **outcomes: JobResult):
        self.outcomes = outcomes
        self.calls: list[dict] = []
        self.records: list[dict | None] = []

    def run_job(self, unit, location=None, validation_record=None):
        self.calls.append(unit)
        self.records.append(validation_record)
        return self.outcomes[unit["action"]]


def unit(action: str) -> dict:
    return {
        "action": action,
        "run_id": "r-2",
        "database": "sales",
        "source": {"schema": "public", "table": "orders_2015"},
        "archive": {"namespace": "archive_sales", "table": "public__orders_2015", "run_id": "r-2", "snapshot_id": None},
        "policy": {"name": "yearly", "legal_hold": {"enabled": False}},
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


# ---- source cleanup (policies with source.action: drop) --------------------------------------------


def cleanup_unit(hold: bool = False) -> dict:
    u = unit("cleanup_source")
    u["policy"]["legal_hold"] = {"enabled": hold}
    u["cleanup"] = {"phase": "quarantine", "credentials": {"kind": "env", "user_env": "U", "password_env": "P"}}
    return u


def _validated(ledger, snapshot="111"):
    _archived(ledger, snapshot)
    passed = {"status": "passed", "snapshot_id": snapshot, "mode": "full", "mismatches": 0}
    ledger.transition(REF, Transition(expect="archived", to="validated", run_id="r-1", validation=passed))


PASSED = {"status": "passed", "snapshot_id": "111", "mode": "full", "mismatches": 0}


@pytest.mark.parametrize(
    ("hold", "entry", "code"),
    [
        (True, {"state": "validated", "snapshot_id": "111", "validation": PASSED}, "legal_hold"),
        (False, None, "not_validated"),
        (False, {"state": "archived", "snapshot_id": "111", "validation": None}, "not_validated"),
        (
            False,
            {"state": "failed", "snapshot_id": "111", "validation": {**PASSED, "status": "failed"}},
            "not_validated",
        ),
        (False, {"state": "source_dropped", "snapshot_id": "111", "validation": PASSED}, "not_validated"),
        (False, {"state": "validated", "snapshot_id": "111", "validation": None}, "no_validation"),
        (
            False,
            {"state": "validated", "snapshot_id": "111", "validation": {**PASSED, "status": "failed"}},
            "validation_not_passed",
        ),
        (False, {"state": "validated", "snapshot_id": "222", "validation": PASSED}, "validation_stale"),
        (False, {"state": "validated", "snapshot_id": None, "validation": PASSED}, "validation_stale"),
        (False, {"state": "validated", "snapshot_id": "111", "validation": PASSED}, None),
        (False, {"state": "source_renamed", "snapshot_id": "111", "validation": PASSED}, None),
    ],
)
def test_the_cleanup_guard_is_offload_runs(hold, entry, code):
    refusal = cleanup_refusal(cleanup_unit(hold), entry)
    assert (refusal or {}).get("code") == code
    if refusal:
        assert "sales: public.orders_2015" in refusal["message"]


def test_a_unit_without_a_hold_setting_counts_as_held():
    u = cleanup_unit()
    del u["policy"]["legal_hold"]
    assert (
        cleanup_refusal(u, {"state": "validated", "snapshot_id": "111", "validation": PASSED})["code"] == "legal_hold"
    )


def test_a_failed_validation_or_a_legal_hold_never_starts_the_cleanup_job(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _archived(ledger)
    mismatch = JobResult(1, {"status": "failed", "archive_snapshot_id": 111, "mismatches": ["row_hash"]})
    with pytest.raises(StepFailed):
        validate_step(ledger, Recorded(validate=mismatch), unit("validate"))
    before = ledger.get(REF)
    executor = Recorded(cleanup_source=JobResult(0, {"status": "done", "quarantine_table": "q"}))
    out = cleanup_step(ledger, executor, cleanup_unit())
    assert out["status"] == "refused" and out["error"]["code"] == "not_validated"
    assert executor.calls == [] and ledger.get(REF) == before

    held = LocalLedger(str(tmp_path / "held"))
    _validated(held)
    before = held.get(REF)
    out = cleanup_step(held, executor, cleanup_unit(hold=True))
    assert out["status"] == "refused" and out["error"]["code"] == "legal_hold"
    assert executor.calls == [] and held.get(REF) == before


def test_a_rename_is_recorded_only_after_the_job_reports_it(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _validated(ledger)
    before = ledger.get(REF)
    # The job refuses (e.g. the source no longer holds the archive's rows): nothing changes.
    refused = JobResult(2, {"status": "refused", "refusal": {"code": "row_count_changed", "message": "5 ≠ 6"}})
    out = cleanup_step(ledger, Recorded(cleanup_source=refused), cleanup_unit())
    assert out["status"] == "refused" and out["error"]["code"] == "row_count_changed"
    assert ledger.get(REF) == before
    # A bug fails the task without a retry; a killed job is retried; neither touches the ledger.
    with pytest.raises(StepFailed) as err:
        cleanup_step(
            ledger, Recorded(cleanup_source=JobResult(3, {"error": {"code": "bug", "message": "x"}})), cleanup_unit()
        )
    assert not err.value.retryable
    with pytest.raises(StepFailed) as err:
        killed = JobResult(4, None, {"code": "job_outcome_unknown", "message": "killed"})
        cleanup_step(ledger, Recorded(cleanup_source=killed), cleanup_unit())
    assert err.value.retryable
    assert ledger.get(REF) == before

    done = {
        "status": "done",
        "phase": "quarantine",
        "quarantine_table": "zz_offload_q_20261202_orders_2015",
        "renamed_at": "2026-12-02T15:00:00+00:00",
    }
    executor = Recorded(cleanup_source=JobResult(0, done))
    out = cleanup_step(ledger, executor, cleanup_unit())
    entry = ledger.get(REF)
    assert out["status"] == "ok" and entry["state"] == "source_renamed"
    assert entry["source_cleanup"] == {
        "quarantine_table": "zz_offload_q_20261202_orders_2015",
        "renamed_at": "2026-12-02T15:00:00+00:00",
        "dropped_at": None,
    }
    assert entry["history"][-1]["note"] == "renamed to public.zz_offload_q_20261202_orders_2015"
    # The job got the ledger's archive (run r-1, snapshot 111), the quarantine phase and its validation.
    sent = executor.calls[0]
    assert sent["archive"]["run_id"] == "r-1" and sent["archive"]["snapshot_id"] == "111"
    assert sent["cleanup"]["phase"] == "quarantine" and sent["cleanup"]["credentials"]["password_env"] == "P"
    record = executor.records[0]
    assert record["status"] == "passed" and record["archive_snapshot_id"] == "111"
    assert record["archive_table"] == "archive_sales.public__orders_2015"
    assert record["source"] == {"schema": "public", "table": "orders_2015"}


def test_a_drop_follows_the_rename_and_keeps_its_record(tmp_path):
    ledger = LocalLedger(str(tmp_path))
    _validated(ledger)
    q = "zz_offload_q_20261202_orders_2015"
    renamed = JobResult(0, {"status": "done", "quarantine_table": q, "renamed_at": "2026-12-02T15:00:00+00:00"})
    cleanup_step(ledger, Recorded(cleanup_source=renamed), cleanup_unit())
    # Within the grace period the job refuses: still renamed.
    early = JobResult(2, {"status": "refused", "refusal": {"code": "grace_period", "message": "ends 2027-01-01"}})
    assert cleanup_step(ledger, Recorded(cleanup_source=early), cleanup_unit())["state"] == "source_renamed"
    dropped = {
        "status": "done",
        "quarantine_table": q,
        "dropped_at": "2027-01-02T00:00:00+00:00",
        "validation": {"status": "passed", "archive_snapshot_id": 111},
    }
    executor = Recorded(cleanup_source=JobResult(0, dropped))
    out = cleanup_step(ledger, executor, cleanup_unit())
    entry = ledger.get(REF)
    assert out["status"] == "ok" and entry["state"] == "source_dropped"
    assert executor.calls[0]["cleanup"]["phase"] == "drop" and executor.records == [None]
    assert entry["source_cleanup"] == {
        "quarantine_table": q,
        "renamed_at": "2026-12-02T15:00:00+00:00",
        "dropped_at": "2027-01-02T00:00:00+00:00",
    }
    assert entry["validation"]["status"] == "passed" and entry["validation"]["snapshot_id"] == "111"
    executor = Recorded()
    assert cleanup_step(ledger, executor, cleanup_unit())["status"] == "skipped" and executor.calls == []
