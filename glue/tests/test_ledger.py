"""The Python run ledger: the shared transition vectors, and one state directory written by Python and
TypeScript alike (same file layout, same lock) — each side reads what the other wrote and refuses a
stale transition the other made."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from glue_version_proxy import GlueVersionProxy
from offload_glue.ledger import (
    IllegalTransition,
    LedgerConflict,
    LocalLedger,
    Transition,
    apply_transition,
    entry_file,
)
from test_credentials import moto_env  # noqa: F401  (the moto server fixture)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tools/test/fixtures/ledger-transitions.json").read_text("utf-8"))["cases"]
REF = {"database": "db1", "schema": "pay/ments", "table": "txn.2020 01"}


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_transition_vectors(case):
    entry = None
    for i, s in enumerate(case["steps"]):
        extra = {k: s[k] for k in ("snapshot_id", "rows", "validation", "error") if k in s}
        t = Transition(expect=s["expect"], to=s["to"], run_id=s.get("run_id", "r1"), **extra)
        where = f"step {i + 1} ({s['expect']} → {s['to']})"
        if s["result"] == "ok":
            entry = apply_transition({"database": "d", "schema": "s", "table": "t"}, entry, t)
            assert (entry["state"], entry["version"]) == (s["state"], s["version"]), where
        else:
            with pytest.raises(IllegalTransition if s["result"] == "illegal" else LedgerConflict):
                apply_transition({"database": "d", "schema": "s", "table": "t"}, entry, t)


def _node(script: str, *args: str, env: dict | None = None) -> str:
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    prog = f"import {{ createLocalLedger }} from {json.dumps(str(ROOT / 'tools/src/ledger/index.ts'))};\n{script}"
    r = subprocess.run(
        [node, "--import", "tsx", "--input-type=module", "-e", prog, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_python_and_typescript_share_one_state_directory(tmp_path):
    py = LocalLedger(str(tmp_path))
    py.transition(REF, Transition(None, "archiving", "r1", archive={"namespace": "archive_db1", "table": "x"}))
    py.transition(REF, Transition("archiving", "archived", "r1", snapshot_id="9007199254740993", rows=7))
    # TypeScript reads the Python entry exactly, validates it, and a stale TS writer is refused.
    out = _node(
        """
        const l = createLocalLedger({ dir: process.argv[1] });
        const ref = JSON.parse(process.argv[2]);
        const [e] = await l.list();
        let stale = 'accepted';
        try {
          const error = { code: 'x', message: 'y' };
          await l.transition(ref, { expect: 'archiving', to: 'failed', runId: 'ts', error });
        }
        catch (x) { stale = x.code; }
        await l.transition(ref, { expect: 'archived', to: 'validated', runId: 'ts', validation: { status: 'passed' } });
        console.log(JSON.stringify({ state: e.state, snapshot: e.snapshot_id, rows: e.rows, stale }));
        """,
        str(tmp_path),
        json.dumps(REF),
    )
    assert json.loads(out) == {
        "state": "archived",
        "snapshot": "9007199254740993",
        "rows": 7,
        "stale": "ledger/conflict",
    }
    # Python reads what TypeScript wrote and continues from it.
    e = py.get(REF)
    assert (e["state"], e["version"], e["run_id"], e["archive_table"]) == ("validated", 3, "ts", "x")
    with pytest.raises(IllegalTransition):
        py.transition(REF, Transition("validated", "archiving", "r2"))
    assert [x["table"] for x in py.list()] == ["txn.2020 01"]
    assert os.listdir(tmp_path / "ledger") == [entry_file(REF)], "one entry, no lock or temporary file left"


def _claim(args):
    state_dir, i = args
    try:
        LocalLedger(state_dir).transition(REF, Transition(None, "archiving", f"p{i}"))
        return "won"
    except LedgerConflict:
        return "conflict"


def test_concurrent_python_writers_exactly_one_wins(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_claim, [(str(tmp_path), i) for i in range(6)])
    assert sorted(results) == ["conflict"] * 5 + ["won"]
    assert LocalLedger(str(tmp_path)).get(REF)["version"] == 1


def test_dynamodb_store_shared_with_typescript(moto_env, monkeypatch):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from offload_glue.ledger import DynamoLedger

    endpoint, aws_env = moto_env
    for k, v in aws_env.items():
        monkeypatch.setenv(k, v)
    table = f"ledger-py-{os.getpid()}"
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    py = DynamoLedger(table, client)

    def claim(i, proxy):
        try:
            racer = DynamoLedger(table, boto3.client("dynamodb", endpoint_url=proxy))
            racer.transition(REF, Transition(None, "archiving", f"t{i}"))
            return "won"
        except LedgerConflict:
            return "conflict"

    # Six simultaneous claims, each through its own client, through a proxy forwarding one request at a time: the
    # moto server checks a condition and writes the item without a lock, so two simultaneous claims both won there
    # once (2026-12-04); DynamoDB makes each request atomic, which one-at-a-time forwarding restores.
    with GlueVersionProxy(endpoint, serialize=True) as proxy, ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(lambda i: claim(i, proxy.url), range(6))) == ["conflict"] * 5 + ["won"]
    py.transition(REF, Transition("archiving", "archived", "r1", snapshot_id="9007199254740993", rows=7))
    out = _node(
        """
        const { createDynamoLedger } = await import(process.argv[3]);
        const l = createDynamoLedger({ table: process.argv[1] });
        const ref = JSON.parse(process.argv[2]);
        const e = await l.get(ref);
        let stale = 'accepted';
        try {
          const error = { code: 'x', message: 'y' };
          await l.transition(ref, { expect: 'archiving', to: 'failed', runId: 'ts', error });
        }
        catch (x) { stale = x.code; }
        await l.transition(ref, { expect: 'archived', to: 'validated', runId: 'ts', validation: { status: 'passed' } });
        console.log(JSON.stringify({
          state: e.state, version: e.version, snapshot: e.snapshot_id, rows: e.rows, stale,
        }));
        l.close();
        """,
        table,
        json.dumps(REF),
        str(ROOT / "tools/src/ledger/dynamodb.ts"),
        env=aws_env,
    )
    assert json.loads(out) == {
        "state": "archived",
        "version": 2,
        "snapshot": "9007199254740993",
        "rows": 7,
        "stale": "ledger/conflict",
    }
    e = py.get(REF)
    assert (e["state"], e["version"], e["run_id"], e["validation"]) == ("validated", 3, "ts", {"status": "passed"})
    with pytest.raises(IllegalTransition):
        py.transition(REF, Transition("validated", "archiving", "r2"))
