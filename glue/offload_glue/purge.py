"""Purge an Iceberg archive: drop the table with its data and metadata files.

Guarantees:
  * refuses (status ``refused``, nothing touched) while the archive is under legal hold — always: no
    force reason overrides a hold — and before its retention end or when no retention end is known,
    unless ``force_reason`` is given, which the audit record keeps;
  * the legal hold is the current config's (``legal_hold``, required) and the one recorded with the
    archive (``offload.legal_hold``, see hold.py): held when either says so, and a recorded value
    other than exactly ``false`` (missing, ``unknown``, unrecognised) counts as held;
  * the retention end is the later of the request's and the recorded one; an unreadable recorded
    value counts as unknown;
  * decides against the real clock: ``as_of`` (default today, UTC) may be earlier than today
    (stricter), never later (refused as a user error before any decision);
  * after ``DROP TABLE … PURGE`` it removes whatever is left under the table location (orphans of
    failed writes) and checks that nothing remains there, failing otherwise;
  * every call that reaches a decision writes an audit record (schema/purge-audit.schema.json).
Precondition: the archive table exists.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from . import hold
from .archive import LINEAGE_PREFIX, current_snapshot, table_properties
from .dates import date_argument, parse_date, today_utc
from .errors import OffloadError
from .names import spark_ident
from .storage import delete_tree, list_files, record_path, write_json

SCHEMA_VERSION = 1


@dataclass
class PurgeRequest:
    archive_table: str  # table name inside the archive database
    legal_hold: bool  # the current config's legal hold (required: the stricter of it and the recorded one wins)
    catalog: str = "offload"
    database: str = "archive"
    as_of: str | None = None  # YYYY-MM-DD, default today (UTC); never later than today
    retention_until: str | None = None  # YYYY-MM-DD
    force_reason: str | None = None
    run_id: str | None = None
    audit_path: str | None = None  # directory or .json path (local or s3://)


def table_location(spark, ident: str) -> str:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {ident}").collect()
    for r in rows:
        if r[0] == "Location":
            return r[1]
    raise OffloadError("no_location", f"cannot find the location of {ident}")


def purge(spark, req: PurgeRequest) -> dict:
    started = time.monotonic()
    hold.check_flag(req.legal_hold)
    today = today_utc()
    as_of = date_argument(req.as_of, "as_of") or today
    if as_of > today:
        raise OffloadError(
            "as_of_in_future",
            f"--as_of {req.as_of} is after today ({today.isoformat()}, UTC): a purge decides against the real "
            "clock; purging before the retention end needs --force_reason",
            argument="as_of",
        )
    requested_end = date_argument(req.retention_until, "retention_until")
    ident = spark_ident(req.catalog, req.database, req.archive_table)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{req.archive_table} does not exist")
    legal_hold = req.legal_hold or hold.is_held(props)
    recorded_text = props.get(LINEAGE_PREFIX + "retention_until")
    recorded_end = parse_date(recorded_text)
    ends = [d for d in (requested_end, recorded_end) if d]
    retention_until = max(ends) if ends and (recorded_text is None or recorded_end) else None
    reasons = []
    if legal_hold:
        reasons.append("legal_hold")
    if retention_until is None:
        reasons.append("retention_end_unknown")
    elif as_of < retention_until:
        reasons.append("retention_not_reached")
    forced = bool(reasons and req.force_reason and not legal_hold)  # no force reason overrides a hold

    location = table_location(spark, ident)
    snap = current_snapshot(spark, ident) or {}
    record = {
        "job": "purge",
        "schema_version": SCHEMA_VERSION,
        "purge_id": req.run_id or str(uuid.uuid4()),
        "archive_table": f"{req.database}.{req.archive_table}",
        "catalog": req.catalog,
        "location": location,
        "lineage": {
            k[len(LINEAGE_PREFIX) :]: v
            for k, v in props.items()
            if k.startswith(LINEAGE_PREFIX) and k != LINEAGE_PREFIX + "columns"
        },
        "snapshot_id": snap.get("snapshot_id"),
        "rows": int(snap.get("summary", {}).get("total-records", 0)) if snap else 0,
        "legal_hold": legal_hold,
        "legal_hold_config": req.legal_hold,
        "legal_hold_recorded": props.get(hold.HOLD),
        "retention_until": retention_until.isoformat() if retention_until else None,
        "as_of": as_of.isoformat(),
        "refusal_reasons": reasons,
        "forced_reason": req.force_reason if forced else None,
        "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if legal_hold and req.force_reason:
        record["force_reason_not_applied"] = req.force_reason
    if reasons and not forced:
        record.update(status="refused", files_before=None, files_remaining=None)
        record["audit_record"] = _write_audit(spark, req, record)
        record["seconds"] = round(time.monotonic() - started, 3)
        return record

    files_before = list_files(spark, location)
    spark.sql(f"DROP TABLE {ident} PURGE")
    left_by_drop = list_files(spark, location)
    if left_by_drop:  # data files of killed writes are not in any snapshot, so DROP cannot see them
        delete_tree(spark, location)
    remaining = list_files(spark, location)
    record.update(
        status="purged" if not remaining else "incomplete",
        files_before=len(files_before),
        files_removed_after_drop=len(left_by_drop),
        files_remaining=len(remaining),
        purged_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    record["audit_record"] = _write_audit(spark, req, record)
    record["seconds"] = round(time.monotonic() - started, 3)
    if remaining:
        raise OffloadError(
            "files_remain", f"{len(remaining)} files remain at {location} after the purge", remaining=remaining[:20]
        )
    return record


def _write_audit(spark, req: PurgeRequest, record: dict) -> str | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = record_path(
        req.audit_path, f"{req.database}.{req.archive_table}.{stamp}.{record['status']}.purge-audit.json"
    )
    return write_json(spark, path, {k: v for k, v in record.items() if k != "audit_record"}) if path else None
