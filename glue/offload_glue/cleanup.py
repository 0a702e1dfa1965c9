"""Source cleanup: the ONE place that writes to a source database.

For policies with ``source.action: drop``, in two phases, each refusing (status ``refused``, nothing
changed) unless every guard holds:

``quarantine`` renames the source table to its quarantine name (reversible: ``restore_name`` renames
it back), only when
  * the policy's legal hold (``legal_hold``, from the current configs) and the hold recorded with the
    archive (``offload.legal_hold``; missing or unrecognised counts as held) are both off;
  * a validation result record is given, says ``passed``, names this archive and this source table,
    and was made against the archive's *current* snapshot (a re-archive after it voids it);
  * the source table still holds exactly the rows the archive holds (counted under a lock on
    PostgreSQL, in the same transaction as the rename).
``drop`` drops the quarantined table, only when the holds are still off, the grace period has passed
since the rename recorded in the archive's lineage, against the real clock, and a new validation of
the archive against the *quarantined* table passes in this very call.

Both phases are idempotent, so a run killed anywhere converges when it runs again: before each write
the intent is recorded in the archive's lineage (``source.quarantine_pending``, ``source.drop_pending``);
a later call that finds the intent done in the database (the quarantine name exists and the source does
not; the quarantined table is gone) completes the record and reports ``already: true`` instead of
refusing. A phase already recorded as done reports the same. An intent never claims the write happened.

The writes go through their own connection, opened with the cleanup credential, which must differ
from the read credential the archive and validation use. ``dry_run`` checks every guard and returns
the statements it would run without running them. The rename and the drop are recorded in the
archive's lineage (``offload.source.quarantine_table``, ``offload.source.renamed_at``,
``offload.source.dropped_at``) and in the returned record, which the caller puts in the run ledger.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .engines import Connection, Engine, engine_for
from .errors import OffloadError
from .hold import is_held
from .iceberg_table import current_snapshot, set_properties, table_properties
from .jdbc import Statements, open_connection
from .lineage import LINEAGE_PREFIX
from .names import archive_table_name, spark_ident
from .testhooks import kill_point

PHASES = ("quarantine", "drop", "restore_name")
QUARANTINE_PREFIX = "zz_offload_q_"


@dataclass
class CleanupRequest:
    connection: Connection  # the read credential (validation), never used to write
    cleanup_connection: Connection  # the privileged credential that renames and drops
    schema: str
    table: str
    phase: str
    legal_hold: bool  # the current configs' hold for this table's policy
    catalog: str = "offload"
    database: str = "archive"
    archive_table: str | None = None
    validation: dict | None = None  # a validation result record (schema/validation-result.schema.json)
    grace_period: str | None = None  # ISO-8601 duration from the policy, e.g. P30D
    dry_run: bool = False
    run_id: str | None = None
    validate_options: dict = field(default_factory=dict)  # passed on to the re-validation (drop)


def quarantine_name(engine: str, table: str, day: str) -> str:
    """``zz_offload_q_<yyyymmdd>_<table>``, cut to the engine's identifier limit with a hash of the
    full name appended when cut, so two long names never share a quarantine name."""
    name = f"{QUARANTINE_PREFIX}{day.replace('-', '')}_{table}"
    limit = engine_for(engine).max_identifier_bytes
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    keep = name.encode()[: limit - 9].decode(errors="ignore")
    return f"{keep}_{digest}"


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_grace(text: str | None) -> timedelta:
    """An ISO-8601 duration as a timedelta; years and months count as 365 and 30 days (a grace
    period only ever delays a drop, so the rounding never shortens it by more than a few days;
    policies that need calendar precision use days)."""
    m = _DURATION.match(text or "")
    if not text or not m or not any(m.groups()):
        raise OffloadError("bad_grace_period", f"grace period {text!r} is not an ISO-8601 duration such as P30D")
    y, mo, w, d, h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)


class WriteSession(Statements):
    """A JDBC session with the cleanup credential — deliberately NOT read-only — used only here.
    Statements run with a lock timeout so a busy table fails the cleanup instead of queueing."""

    def __init__(self, spark, engine: Engine, conn: Connection):
        self.engine = engine
        self._conn = open_connection(spark, engine, conn, writable=True)
        self._conn.setAutoCommit(False)
        self.execute(engine.lock_timeout_statement(30))
        self._conn.commit()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()


def _table_exists(session: WriteSession, engine: Engine, schema: str, table: str) -> bool:
    return session.scalar(engine.table_exists_sql(schema, table)) == "1"


def _rename_sql(engine: Engine, schema: str, old: str, new: str) -> str:
    return engine.rename_table_sql(schema, old, new)


def _set_lineage(spark, ident: str, values: dict[str, str]) -> None:
    set_properties(spark, ident, {LINEAGE_PREFIX + k: v for k, v in values.items()})


def _refuse(result: dict, code: str, message: str) -> dict:
    result["status"] = "refused"
    result["refusal"] = {"code": code, "message": message}
    return result


def _check_validation(req: CleanupRequest, archive_name: str, snapshot_id) -> tuple[str, str] | None:
    """Why the given validation record does not allow a cleanup, or None when it does."""
    v = req.validation
    if not v:
        return "no_validation", "no validation result record was given: a cleanup needs a passed validation"
    if v.get("status") != "passed":
        return "validation_not_passed", f"the validation of {archive_name} did not pass ({v.get('mismatches')})"
    if v.get("archive_table") != f"{req.database}.{archive_name}":
        return "validation_other_table", f"the validation record is for {v.get('archive_table')}, not this archive"
    src = v.get("source") or {}
    if (src.get("schema"), src.get("table")) != (req.schema, req.table):
        return "validation_other_table", f"the validation record compared {src.get('schema')}.{src.get('table')}"
    if snapshot_id is None or str(v.get("archive_snapshot_id")) != str(snapshot_id):
        return (
            "validation_stale",
            f"the validation was made against snapshot {v.get('archive_snapshot_id')}, but the archive's current "
            f"snapshot is {snapshot_id}: validate the current archive first",
        )
    return None


def cleanup(spark, req: CleanupRequest, now: datetime | None = None) -> dict:
    """Run one phase of the source cleanup; see the module docstring for the guards."""
    started = time.monotonic()
    if req.phase not in PHASES:
        raise OffloadError("bad_phase", f"--phase must be one of {', '.join(PHASES)}, not {req.phase!r}")
    now = now or datetime.now(UTC)
    engine = engine_for(req.connection.engine)
    name = req.archive_table or archive_table_name(req.schema, req.table)
    ident = spark_ident(req.catalog, req.database, name)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{name} does not exist")
    snap = current_snapshot(spark, ident) or {}
    result: dict = {
        "job": "cleanup_source",
        "phase": req.phase,
        "status": "done",
        "dry_run": req.dry_run,
        "run_id": req.run_id,
        "archive_table": f"{req.database}.{name}",
        "archive_snapshot_id": snap.get("snapshot_id"),
        "source": {**req.connection.public(), "schema": req.schema, "table": req.table},
        "statements": [],
        "decided_at": now.isoformat(timespec="seconds"),
    }
    if (req.cleanup_connection.user, req.cleanup_connection.host) == (req.connection.user, req.connection.host):
        return _refuse(
            result,
            "cleanup_credential_reused",
            f"the cleanup credential is the read credential (user {req.connection.user}): source cleanup needs "
            "its own privileged credential reference, never the discovery or archive one",
        )
    if req.legal_hold or is_held(props):
        where = "the policy" if req.legal_hold else "the archive's lineage (offload.legal_hold)"
        return _refuse(
            result, "legal_hold", f"{req.schema}.{req.table} is under legal hold ({where}): nothing is cleaned up"
        )
    lineage_source = (props.get(LINEAGE_PREFIX + "source.schema"), props.get(LINEAGE_PREFIX + "source.table"))
    if lineage_source != (req.schema, req.table):
        return _refuse(
            result, "lineage_mismatch", f"the archive {name} was made from {lineage_source[0]}.{lineage_source[1]}"
        )
    if req.phase == "quarantine":
        return _quarantine(
            spark,
            req,
            engine=engine,
            name=name,
            ident=ident,
            props=props,
            snap=snap,
            result=result,
            started=started,
            now=now,
        )
    if req.phase == "restore_name":
        return _restore_name(spark, req, engine=engine, ident=ident, props=props, result=result, started=started)
    return _drop(
        spark, req, engine=engine, name=name, ident=ident, props=props, result=result, started=started, now=now
    )


def _open(spark, engine: Engine, req: CleanupRequest) -> WriteSession:
    return WriteSession(spark, engine, req.cleanup_connection)


def _already(result: dict, **values) -> dict:
    result.update(values, already=True)
    return result


def _quarantine(spark, req, *, engine, name, ident, props, snap, result, started, now) -> dict:
    problem = _check_validation(req, name, snap.get("snapshot_id"))
    if problem:
        return _refuse(result, *problem)
    done = props.get(LINEAGE_PREFIX + "source.quarantine_table")
    if done:  # renamed by an earlier call (whose caller may not have recorded it)
        if props.get(LINEAGE_PREFIX + "source.dropped_at"):
            return _refuse(result, "already_dropped", f"{req.schema}.{done} was dropped already")
        return _already(result, quarantine_table=done, renamed_at=props.get(LINEAGE_PREFIX + "source.renamed_at"))
    archived_rows = props.get(LINEAGE_PREFIX + "row_count")
    pending = props.get(LINEAGE_PREFIX + "source.quarantine_pending")
    target = pending or quarantine_name(engine.name, req.table, now.date().isoformat())
    rename = _rename_sql(engine, req.schema, req.table, target)
    result["quarantine_table"] = target
    result["statements"] = [rename]
    session = _open(spark, engine, req)
    try:
        source_there = _table_exists(session, engine, req.schema, req.table)
        target_there = _table_exists(session, engine, req.schema, target)
        if pending and target_there and not source_there:
            # An earlier call renamed the table and stopped before recording it: check and record it now.
            rows = session.scalar(f"SELECT count(*) FROM {engine.table_ref(req.schema, target)}")
            if archived_rows is None or rows != archived_rows:
                return _refuse(
                    result,
                    "source_changed",
                    f"the quarantined {req.schema}.{target} holds {rows} rows, the archive {archived_rows}",
                )
            if req.dry_run:
                result["status"] = "dry_run"
                return result
            at = now.isoformat(timespec="seconds")
            _set_lineage(spark, ident, {"source.quarantine_table": target, "source.renamed_at": at})
            return _already(result, renamed_at=at)
        if not source_there:
            return _refuse(result, "source_missing", f"source table {req.schema}.{req.table} does not exist")
        if target_there:
            return _refuse(result, "quarantine_exists", f"{req.schema}.{target} already exists")
        lock = engine.lock_table_sql(req.schema, req.table)
        if lock:  # the count and the rename see the same rows
            session.execute(lock)
        rows = session.scalar(f"SELECT count(*) FROM {engine.table_ref(req.schema, req.table)}")
        if archived_rows is None or rows != archived_rows:
            session.rollback()
            return _refuse(
                result,
                "source_changed",
                f"the source holds {rows} rows, the archive {archived_rows}: the table changed since it was archived",
            )
        if req.dry_run:
            session.rollback()
            result["status"] = "dry_run"
            return result
        if not pending:  # the intent first: a call killed after the rename finds it and completes the record
            _set_lineage(spark, ident, {"source.quarantine_pending": target})
        kill_point("cleanup:before-rename")
        session.execute(rename)
        session.commit()
        kill_point("cleanup:after-rename")
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    _set_lineage(
        spark, ident, {"source.quarantine_table": target, "source.renamed_at": now.isoformat(timespec="seconds")}
    )
    result["renamed_at"] = now.isoformat(timespec="seconds")
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _restore_name(spark, req, *, engine, ident, props, result, started) -> dict:
    target = props.get(LINEAGE_PREFIX + "source.quarantine_table")
    if not target or props.get(LINEAGE_PREFIX + "source.dropped_at"):
        return _refuse(result, "not_quarantined", f"{req.schema}.{req.table} has no quarantined table to rename back")
    rename = _rename_sql(engine, req.schema, target, req.table)
    result["statements"] = [rename]
    session = _open(spark, engine, req)
    try:
        if _table_exists(session, engine, req.schema, req.table):
            return _refuse(result, "name_taken", f"{req.schema}.{req.table} exists again: rename it first")
        if not _table_exists(session, engine, req.schema, target):
            return _refuse(result, "quarantine_missing", f"{req.schema}.{target} does not exist")
        if req.dry_run:
            result["status"] = "dry_run"
            return result
        session.execute(rename)
        session.commit()
    finally:
        session.close()
    spark.sql(
        f"ALTER TABLE {ident} UNSET TBLPROPERTIES IF EXISTS ('{LINEAGE_PREFIX}source.quarantine_table', "
        f"'{LINEAGE_PREFIX}source.renamed_at', '{LINEAGE_PREFIX}source.quarantine_pending')"
    )
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _drop(spark, req, *, engine, name, ident, props, result, started, now) -> dict:
    from .validate import ValidateRequest, validate

    target = props.get(LINEAGE_PREFIX + "source.quarantine_table")
    renamed_at = props.get(LINEAGE_PREFIX + "source.renamed_at")
    if not target or not renamed_at:
        return _refuse(result, "not_quarantined", f"{req.schema}.{req.table} was not renamed to quarantine first")
    result["quarantine_table"] = target
    if props.get(LINEAGE_PREFIX + "source.dropped_at"):  # dropped by an earlier call
        return _already(result, dropped_at=props[LINEAGE_PREFIX + "source.dropped_at"])
    grace = parse_grace(req.grace_period)
    due = datetime.fromisoformat(renamed_at) + grace
    result["drop_due"] = due.isoformat(timespec="seconds")
    if now < due:
        return _refuse(result, "grace_period", f"the grace period ({req.grace_period}) ends at {result['drop_due']}")
    session = _open(spark, engine, req)
    try:
        there = _table_exists(session, engine, req.schema, target)
    finally:
        session.close()
    if not there:
        if props.get(LINEAGE_PREFIX + "source.drop_pending"):
            # An earlier call dropped it after its validation passed and stopped before recording it.
            if req.dry_run:
                result["status"] = "dry_run"
                return result
            at = now.isoformat(timespec="seconds")
            _set_lineage(spark, ident, {"source.dropped_at": at})
            return _already(result, dropped_at=at)
        return _refuse(
            result, "quarantine_missing", f"{req.schema}.{target} is gone, but no cleanup dropped it: check the source"
        )
    check = validate(
        spark,
        ValidateRequest(
            connection=req.connection,
            schema=req.schema,
            table=req.table,
            read_table=target,
            catalog=req.catalog,
            database=req.database,
            archive_table=name,
            **req.validate_options,
        ),
    )
    result["validation"] = {k: check.get(k) for k in ("status", "mismatches", "archive_snapshot_id")}
    if check["status"] != "passed":
        return _refuse(
            result,
            "validation_not_passed",
            f"the archive no longer matches the quarantined table {target} ({', '.join(check['mismatches'])})",
        )
    drop = f"DROP TABLE {engine.table_ref(req.schema, target)}"
    result["statements"] = [drop]
    if req.dry_run:
        result["status"] = "dry_run"
        return result
    _set_lineage(spark, ident, {"source.drop_pending": now.isoformat(timespec="seconds")})
    session = _open(spark, engine, req)
    try:
        kill_point("cleanup:before-drop")
        session.execute(drop)
        session.commit()
        kill_point("cleanup:after-drop")
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    _set_lineage(spark, ident, {"source.dropped_at": now.isoformat(timespec="seconds")})
    result["dropped_at"] = now.isoformat(timespec="seconds")
    result["seconds"] = round(time.monotonic() - started, 3)
    return result
