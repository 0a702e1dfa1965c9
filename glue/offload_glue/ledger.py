"""The run ledger for Python callers (Airflow tasks, scripts): the same rules, the same local layout
and the same lock as the TypeScript ledger (tools/src/ledger/), so both can write one state directory.

Rules (tools/src/ledger/model.ts; tools/test/fixtures/ledger-transitions.json holds both to them): a
writer names the state it read and the transition lands only if that is still the stored state and
the step is legal; ``archived`` needs the snapshot id (text) and row count, ``validated`` a passed
validation, ``failed`` an error code; ``purged`` is final; a validated table is never archived again.

Local layout: ``<state dir>/ledger/<sha256(database NUL schema NUL table)[:32]>.json``, each transition
under the ``O_EXCL`` lock file ``<state dir>/ledger/.lock`` (a lock of a dead process on this host, or
one older than 30 s, is broken), written to a temporary file, fsynced and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import OffloadError

FORMAT = 1
HISTORY_LIMIT = 200
STATES = ("planned", "archiving", "archived", "validated", "source_renamed", "source_dropped", "purged", "failed")
NEXT: dict[str | None, tuple[str, ...]] = {
    None: ("planned", "archiving"),
    "planned": ("archiving", "failed"),
    "archiving": ("archiving", "archived", "failed"),
    "archived": ("validated", "archiving", "failed"),
    "validated": ("source_renamed", "purged", "failed"),
    "source_renamed": ("source_dropped", "validated", "failed"),
    "source_dropped": ("purged", "failed"),
    "purged": (),
    "failed": ("planned", "archiving", "validated"),
}
_UNSET = object()


class LedgerConflict(OffloadError):
    def __init__(self, ref: dict, expected, found):
        super().__init__(
            "ledger_conflict",
            f"{_where(ref)}: the ledger holds {found or 'no entry'}, not {expected or 'no entry'} as this writer read",
        )


class IllegalTransition(OffloadError):
    def __init__(self, ref: dict, found, to: str, why: str = ""):
        super().__init__(
            "ledger_illegal_transition",
            f"{_where(ref)}: {found or 'no entry'} → {to} is not a legal ledger transition"
            + (f" ({why})" if why else ""),
        )


def _where(ref: dict) -> str:
    return f"{ref['database']}: {ref['schema']}.{ref['table']}"


@dataclass
class Transition:
    expect: str | None
    to: str
    run_id: str
    at: str | None = None
    archive: dict | None = None  # {"namespace", "table"}
    policy: object = _UNSET
    table_date: object = _UNSET
    snapshot_id: object = _UNSET  # str | None
    rows: object = _UNSET  # int | None
    validation: object = _UNSET  # dict | None
    error: dict | None = None  # {"code", "message"}
    note: str | None = None
    source_cleanup: object = _UNSET  # dict | None: {"quarantine_table", "renamed_at", "dropped_at"}


def is_legal(found: str | None, to: str) -> bool:
    return to in NEXT[found]


def apply_transition(ref: dict, current: dict | None, t: Transition) -> dict:
    """The entry after the transition (pure); raises LedgerConflict or IllegalTransition."""
    found = current["state"] if current else None
    if found != t.expect:
        raise LedgerConflict(ref, t.expect, found)
    if not is_legal(found, t.to):
        raise IllegalTransition(ref, found, t.to)
    if t.to == "archived" and (
        t.rows is _UNSET or t.rows is None or t.snapshot_id is _UNSET or (t.snapshot_id is None and t.rows != 0)
    ):
        raise IllegalTransition(ref, found, t.to, "an archived table needs the snapshot id and row count")
    passed = isinstance(t.validation, dict) and t.validation.get("status") == "passed"
    if t.to == "validated" and found != "source_renamed" and not passed:
        raise IllegalTransition(ref, found, t.to, "only a passed validation validates")
    if t.to == "failed" and not t.error:
        raise IllegalTransition(ref, found, t.to, "a failure needs an error code")
    at = t.at or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    prev = current or {}
    archived_now = t.to == "archived"
    pick = lambda new, key: prev.get(key) if new is _UNSET else new  # noqa: E731
    entry = {
        "format": FORMAT,
        "database": ref["database"],
        "schema": ref["schema"],
        "table": ref["table"],
    }
    if t.archive or prev.get("archive_namespace"):
        entry["archive_namespace"] = (t.archive or {}).get("namespace") or prev.get("archive_namespace")
        entry["archive_table"] = (t.archive or {}).get("table") or prev.get("archive_table")
    validation = t.validation if t.validation is not _UNSET else (None if archived_now else prev.get("validation"))
    entry.update(
        {
            "policy": pick(t.policy, "policy"),
            "table_date": pick(t.table_date, "table_date"),
            "state": t.to,
            "version": prev.get("version", 0) + 1,
            "updated_at": at,
            "run_id": t.run_id,
            "archive_run_id": t.run_id if archived_now else prev.get("archive_run_id"),
            "archived_at": at if archived_now else prev.get("archived_at"),
            "snapshot_id": pick(t.snapshot_id, "snapshot_id"),
            "rows": pick(t.rows, "rows"),
            "validation": validation,
            "error": {**t.error, "during": found or "planned"} if t.to == "failed" else None,
        }
    )
    if t.source_cleanup is not _UNSET:
        cleanup = t.source_cleanup
    elif archived_now or (found == "source_renamed" and t.to == "validated"):
        cleanup = None
    else:
        cleanup = prev.get("source_cleanup")
    if cleanup:
        entry["source_cleanup"] = cleanup
    step = {
        "from": found,
        "to": t.to,
        "at": at,
        "run_id": t.run_id,
        "snapshot_id": None if t.snapshot_id is _UNSET else t.snapshot_id,
        "rows": None if t.rows is _UNSET else t.rows,
        "validation": t.validation.get("status") if isinstance(t.validation, dict) else None,
        "error_code": (t.error or {}).get("code"),
    }
    if t.note:
        step["note"] = t.note
    entry["history"] = [*prev.get("history", []), step][-HISTORY_LIMIT:]
    return entry


def entry_file(ref: dict) -> str:
    key = f"{ref['database']}\0{ref['schema']}\0{ref['table']}".encode()
    return hashlib.sha256(key).hexdigest()[:32] + ".json"


class LocalLedger:
    """The ledger in a local state directory (the layout and lock of tools/src/ledger/local.ts)."""

    def __init__(self, state_dir: str, stale_lock_seconds: float = 30.0):
        self.dir = os.path.join(os.path.abspath(state_dir), "ledger")
        self.stale = stale_lock_seconds

    def _read(self, name: str) -> dict | None:
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def get(self, ref: dict) -> dict | None:
        return self._read(entry_file(ref))

    def list(self, database: str | None = None) -> list[dict]:
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            if len(n) == 37 and n.endswith(".json"):
                e = self._read(n)
                if e and (database is None or e["database"] == database):
                    out.append(e)
        return sorted(out, key=lambda e: (e["database"], e["schema"], e["table"]))

    def transition(self, ref: dict, t: Transition) -> dict:
        with self._mutex():
            name = entry_file(ref)
            entry = apply_transition(ref, self._read(name), t)
            target = os.path.join(self.dir, name)
            tmp = f"{target}.tmp-{os.urandom(6).hex()}"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            return entry

    def _stale(self, lock: str) -> bool:
        try:
            if time.time() - os.stat(lock).st_mtime > self.stale:
                return True
            with open(lock, encoding="utf-8") as fh:
                info = json.load(fh)
        except (OSError, ValueError):
            return False
        if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int) and info["pid"] != os.getpid():
            try:
                os.kill(info["pid"], 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False

    def _mutex(self):
        ledger = self

        class _Lock:
            def __enter__(self):
                os.makedirs(ledger.dir, exist_ok=True)
                lock = os.path.join(ledger.dir, ".lock")
                deadline = time.time() + ledger.stale + 10
                attempt = 0
                while True:
                    try:
                        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                    except FileExistsError:
                        if ledger._stale(lock):
                            aside = f"{lock}.stale-{os.urandom(6).hex()}"
                            try:
                                os.rename(lock, aside)
                                os.unlink(aside)
                            except OSError:
                                pass
                            continue
                        if time.time() > deadline:
                            raise OffloadError(
                                "ledger_locked", f"{lock} is held by another process for too long"
                            ) from None
                        time.sleep(min(0.05, 0.002 * 2 ** min(attempt, 5)) * (0.5 + random.random()))
                        attempt += 1
                        continue
                    stamp = {"pid": os.getpid(), "host": socket.gethostname(), "at": datetime.now(UTC).isoformat()}
                    with os.fdopen(fd, "w") as fh:
                        fh.write(json.dumps(stamp))
                    self.lock = lock
                    return self

            def __exit__(self, *exc):
                try:
                    os.unlink(self.lock)
                except FileNotFoundError:
                    pass
                return False

        return _Lock()


def ledger_pk(ref: dict) -> str:
    """The DynamoDB key of tools/src/ledger/dynamodb.ts: ``TABLE#`` + JSON ``[database, schema, table]``."""
    return "TABLE#" + json.dumps(
        [ref["database"], ref["schema"], ref["table"]], ensure_ascii=False, separators=(",", ":")
    )


def _plain(value):
    """DynamoDB's Decimals back to ints/floats (the entry holds whole numbers only: versions and rows)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class DynamoLedger:
    """The ledger in its DynamoDB table (``<config table>-ledger``), one PutItem per transition conditional
    on the state and version read — the store of tools/src/ledger/dynamodb.ts."""

    def __init__(self, table: str, client=None):
        import boto3

        self.table = table
        self.client = client or boto3.client("dynamodb")

    def _get(self, ref: dict) -> dict | None:
        from boto3.dynamodb.types import TypeDeserializer

        out = self.client.get_item(TableName=self.table, Key={"pk": {"S": ledger_pk(ref)}}, ConsistentRead=True)
        if "Item" not in out:
            return None
        d = TypeDeserializer()
        item = {k: _plain(d.deserialize(v)) for k, v in out["Item"].items()}
        item.pop("pk", None)
        return item

    def get(self, ref: dict) -> dict | None:
        return self._get(ref)

    def transition(self, ref: dict, t: Transition) -> dict:
        from boto3.dynamodb.types import TypeSerializer

        current = self._get(ref)
        entry = apply_transition(ref, current, t)
        s = TypeSerializer()
        item = {"pk": {"S": ledger_pk(ref)}, **{k: s.serialize(v) for k, v in entry.items()}}
        cond = (
            {
                "ConditionExpression": "#s = :s AND #v = :v",
                "ExpressionAttributeNames": {"#s": "state", "#v": "version"},
                "ExpressionAttributeValues": {":s": {"S": current["state"]}, ":v": {"N": str(current["version"])}},
            }
            if current
            else {"ConditionExpression": "attribute_not_exists(pk)"}
        )
        try:
            self.client.put_item(TableName=self.table, Item=item, **cond)
        except self.client.exceptions.ConditionalCheckFailedException:
            now = self._get(ref)
            raise LedgerConflict(ref, t.expect, now["state"] if now else None) from None
        return entry
