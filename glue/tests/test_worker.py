"""The run worker's pure parts: exact integers for JavaScript, and units no job runs yet.
(The worker itself, with Spark, is exercised end to end by tools/test/run/run.test.ts.)"""

from __future__ import annotations

import json

from offload_glue.worker import exact, run_unit


def test_integers_past_2_pow_53_travel_as_text():
    big = 5781234567890123456
    out = exact({"snapshot_id": big, "rows": 300, "ok": True, "nested": [{"s": -(2**60)}], "f": 1.5, "n": None})
    assert out == {
        "snapshot_id": str(big),
        "rows": 300,
        "ok": True,
        "nested": [{"s": str(-(2**60))}],
        "f": 1.5,
        "n": None,
    }
    assert json.loads(json.dumps(out))["snapshot_id"] == "5781234567890123456"
    assert exact(2**53 - 1) == 2**53 - 1 and exact(2**53) == str(2**53)


def test_a_unit_no_job_runs_is_refused_not_crashed():
    code, summary, error = run_unit({"action": "restore", "id": "x"}, [])
    assert (code, summary, error["code"]) == (2, None, "not_built")
